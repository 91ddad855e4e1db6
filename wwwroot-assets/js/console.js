// A VM's console in the page: noVNC's RFB over the portal's own websocket proxy at /console/{id}. The
// Blazor component (ConsolePanel.razor) asks the server for a ticket (single-use, 60 s) and hands it
// here for each connection; the ticket travels as a websocket subprotocol, never in a URL. The state
// goes back to the component through dotNetRef.invokeMethodAsync("OnConsoleState", state, reason), so
// the component renders it (and "OnTyped" after typing); the screen is noVNC's and costs no Blazor render.
//
// states: "connecting" | "connected" | "disconnected" (with a reason the user reads)

import RFB from "../lib/@novnc/novnc/core/rfb.js";
import KeyTable from "../lib/@novnc/novnc/core/input/keysym.js";
import keysyms from "../lib/@novnc/novnc/core/input/keysymdef.js";

const ticketPrefix = "vp-ticket.";

// QEMU's VNC server passes key events on to the guest 10 ms apart (its key-delay-ms) and queues the rest,
// but only about 500 of them: the rest are dropped, so a long text sent at once loses its end. Typing runs
// at most this far ahead of QEMU's pace, so short texts go at once and long ones as fast as QEMU takes them.
const keyEventIntervalMs = 10;
const aheadOfGuestMs = 2000;

export function start(element, options, dotNetRef) {
  const handle = {
    element,
    url: socketUrl(options.path),
    dotNetRef,
    rfb: null,
    viewOnly: true,
    state: "disconnected",
    stopped: false,
    typing: 0,
  };
  connect(handle, options.ticket, options.viewOnly);
  return handle;
}

// Every connection needs a fresh ticket: the component asks the server for one and passes it here.
export function reconnect(handle, options) {
  if (!handle || handle.stopped)
    return;
  connect(handle, options.ticket, options.viewOnly);
}

export function stop(handle) {
  if (!handle || handle.stopped)
    return;
  handle.stopped = true;
  handle.typing++;
  const rfb = handle.rfb;
  handle.rfb = null;
  rfb?.disconnect();
  if (document.fullscreenElement === handle.element)
    document.exitFullscreen().catch(() => {});
}

export function ctrlAltDel(handle) {
  if (!canSend(handle))
    return false;
  handle.rfb.sendCtrlAltDel();
  return true;
}

// Fullscreen of the console's element, or back. Returns whether the console is fullscreen now.
export async function fullscreen(handle) {
  if (!handle || handle.stopped)
    return false;
  try {
    if (document.fullscreenElement === handle.element) {
      await document.exitFullscreen();
      return false;
    }
    await handle.element.requestFullscreen();
    handle.rfb?.focus();
    return true;
  } catch (error) {
    console.warn("console: fullscreen was refused", error);
    return document.fullscreenElement === handle.element;
  }
}

// Types text into the guest as keystrokes (QEMU's VNC has no clipboard). Returns at once how many keys it
// will press (0 when it cannot type); when done it calls dotNetRef's OnTyped(sent, total): fewer are sent
// when the connection ends or another text starts meanwhile. In a hidden tab the browser slows timers,
// and the typing with them.
export function typeText(handle, text) {
  if (!canSend(handle) || typeof text !== "string")
    return 0;
  const strokes = keystrokes(text);
  if (strokes.length > 0)
    type(handle, handle.rfb, ++handle.typing, strokes);
  return strokes.length;
}

async function type(handle, rfb, run, strokes) {
  let sent = 0;
  // When QEMU will have passed on every key event sent so far.
  let due = performance.now();
  for (const stroke of strokes) {
    if (handle.rfb !== rfb || handle.typing !== run || handle.state !== "connected")
      break;
    const now = performance.now();
    due = Math.max(due, now) + press(rfb, stroke) * keyEventIntervalMs;
    sent++;
    const ahead = due - now - aheadOfGuestMs;
    if (ahead > 0)
      await new Promise(resolve => setTimeout(resolve, ahead));
  }
  if (!handle.stopped)
    call(handle, "OnTyped", sent, strokes.length);
}

// The keys a US keyboard types the text with: each character's keysym, the physical key (QEMU takes
// the scancode when the client sends it, so the guest's keymap decides, as for a real keyboard) and
// whether Shift is held. Characters no key types go as their keysym alone, for QEMU's keymap to place.
export function keystrokes(text) {
  const strokes = [];
  for (const ch of text.replace(/\r\n?/g, "\n")) {
    const key = usKeys.get(ch);
    if (key)
      strokes.push({ keysym: key.keysym, code: key.code, shift: key.shift });
    else if (ch >= " ")
      strokes.push({ keysym: keysyms.lookup(ch.codePointAt(0)), code: null, shift: false });
  }
  return strokes;
}

const usKeys = (() => {
  const keys = new Map();
  const add = (ch, code, shift) => keys.set(ch, { keysym: ch.codePointAt(0), code, shift });
  for (let i = 0; i < 26; i++) {
    const upper = String.fromCharCode(65 + i);
    add(upper.toLowerCase(), `Key${upper}`, false);
    add(upper, `Key${upper}`, true);
  }
  const shiftedDigits = ")!@#$%^&*(";
  for (let d = 0; d < 10; d++) {
    add(String(d), `Digit${d}`, false);
    add(shiftedDigits[d], `Digit${d}`, true);
  }
  for (const [code, plain, shifted] of [
    ["Minus", "-", "_"], ["Equal", "=", "+"], ["BracketLeft", "[", "{"], ["BracketRight", "]", "}"],
    ["Backslash", "\\", "|"], ["Semicolon", ";", ":"], ["Quote", "'", "\""], ["Comma", ",", "<"],
    ["Period", ".", ">"], ["Slash", "/", "?"], ["Backquote", "`", "~"],
  ]) {
    add(plain, code, false);
    add(shifted, code, true);
  }
  add(" ", "Space", false);
  keys.set("\n", { keysym: KeyTable.XK_Return, code: "Enter", shift: false });
  keys.set("\t", { keysym: KeyTable.XK_Tab, code: "Tab", shift: false });
  return keys;
})();

// Presses one key (with Shift when it needs it); returns the key events sent.
function press(rfb, stroke) {
  if (stroke.shift)
    rfb.sendKey(KeyTable.XK_Shift_L, "ShiftLeft", true);
  rfb.sendKey(stroke.keysym, stroke.code, true);
  rfb.sendKey(stroke.keysym, stroke.code, false);
  if (stroke.shift)
    rfb.sendKey(KeyTable.XK_Shift_L, "ShiftLeft", false);
  return stroke.shift ? 4 : 2;
}

function canSend(handle) {
  return !!handle && !handle.stopped && !handle.viewOnly && handle.state === "connected" && !!handle.rfb;
}

function connect(handle, ticket, viewOnly) {
  const old = handle.rfb;
  handle.rfb = null;
  handle.typing++;
  old?.disconnect();
  handle.viewOnly = viewOnly !== false;
  if (typeof ticket !== "string" || ticket.length === 0) {
    report(handle, "disconnected", "The portal gave no console ticket.");
    return;
  }

  // Our own socket, so that its close code and reason reach the user; noVNC's disconnect event has neither.
  // This listener is added before noVNC's, so the reason is known when noVNC reports the disconnect.
  const socket = new WebSocket(handle.url, ["binary", ticketPrefix + ticket]);
  const seen = { close: null, security: null, opened: false };
  socket.addEventListener("open", () => { seen.opened = true; });
  socket.addEventListener("close", event => { seen.close = event; });

  let rfb;
  try {
    rfb = new RFB(handle.element, socket, { shared: true });
  } catch (error) {
    console.warn("console: noVNC did not start", error);
    socket.close();
    report(handle, "disconnected", "The console could not start in this browser.");
    return;
  }
  handle.rfb = rfb;
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.clipViewport = false;
  rfb.viewOnly = handle.viewOnly;
  rfb.focusOnClick = !handle.viewOnly;
  rfb.background = "#000";

  rfb.addEventListener("connect", () => {
    if (handle.rfb !== rfb)
      return;
    const canvas = handle.element.querySelector("canvas");
    if (canvas)
      canvas.dataset.testid = "console-canvas";
    report(handle, "connected", null);
  });
  rfb.addEventListener("securityfailure", event => { seen.security = event.detail; });
  rfb.addEventListener("credentialsrequired", () => {
    if (handle.rfb !== rfb)
      return;
    seen.security = { reason: "The VM's console asks for a password the portal does not hold." };
    rfb.disconnect();
  });
  rfb.addEventListener("disconnect", event => {
    if (handle.rfb !== rfb)
      return;
    handle.rfb = null;
    report(handle, "disconnected", reason(event.detail, seen));
  });
  report(handle, "connecting", null);
}

// A plain sentence for why the console is not connected: the portal's own close reason when it gave one.
function reason(detail, seen) {
  if (seen.close?.reason)
    return seen.close.reason;
  if (seen.security?.reason)
    return seen.security.reason;
  if (!seen.opened)
    return "The portal refused the console connection or could not be reached.";
  if (detail?.clean)
    return "The console connection was closed.";
  return "The console connection was lost.";
}

function report(handle, state, why) {
  handle.state = state;
  if (handle.stopped)
    return;
  handle.element.dataset.state = state;
  call(handle, "OnConsoleState", state, why ?? null);
}

function call(handle, method, ...args) {
  handle.dotNetRef?.invokeMethodAsync(method, ...args).catch(error => {
    // The circuit is gone: nobody is left to tell.
    console.debug(`console: ${method} did not reach the page`, error);
  });
}

function socketUrl(path) {
  const url = new URL(path, document.baseURI);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}
