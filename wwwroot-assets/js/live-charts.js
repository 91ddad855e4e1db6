// A VM's live charts: history from the live hub, then its 1 Hz points pushed over SignalR straight into
// uPlot, so no figure costs a Blazor render. The Blazor component (LiveCharts.razor) only calls start,
// setRange and stop.
//
// The hub (/hubs/live) is expected to offer:
//   GetSeries(resourceId, range) -> [point, ...]   range: "FifteenMinutes" | "Hour" | "Day" | "Week"
//   SubscribeMetrics(resourceId)                   then "metrics" events: { resourceId, point }
// point: { at (ISO time), cpuPercent, memoryUsedBytes, memoryTotalBytes, diskReadBytesPerSecond,
//          diskWriteBytesPerSecond, netRxBytesPerSecond, netTxBytesPerSecond }

const lib = new URL("../lib/", import.meta.url);
const loads = new Map();

const live = "FifteenMinutes";
const ranges = ["FifteenMinutes", "Hour", "Day", "Week"];
const liveWindowSeconds = 15 * 60;
const chartHeight = 170;

const charts = [
  { title: "CPU", unit: "%", max: 100, format: percent, series: [["CPU", "cpuPercent", "#1e88e5"]] },
  { title: "Memory", unit: "bytes", format: bytes, series: [["used", "memoryUsedBytes", "#8e24aa"], ["total", "memoryTotalBytes", "#9e9e9e"]] },
  { title: "Disk", unit: "bytes/s", format: rate, series: [["read", "diskReadBytesPerSecond", "#43a047"], ["write", "diskWriteBytesPerSecond", "#fb8c00"]] },
  { title: "Network", unit: "bytes/s", format: rate, series: [["received", "netRxBytesPerSecond", "#00897b"], ["sent", "netTxBytesPerSecond", "#e53935"]] },
];

export async function start(element, resourceId, options = {}) {
  await Promise.all([script("@microsoft/signalr/signalr.min.js"), script("uplot/uPlot.iife.min.js"), stylesheet("uplot/uPlot.min.css")]);
  const handle = {
    element,
    resourceId: String(resourceId),
    range: ranges.includes(options.range) ? options.range : live,
    points: [],
    loading: 0,
    plots: [],
    stopped: false,
    connection: null,
    resize: null,
    retry: 0,
    dom: render(element),
  };
  handle.plots = charts.map((chart, i) => plot(chart, handle.dom.plots[i]));
  handle.resize = new ResizeObserver(() => fit(handle));
  handle.resize.observe(element);
  draw(handle);

  const connection = new signalR.HubConnectionBuilder()
    .withUrl(options.hubUrl ?? "/hubs/live")
    .withAutomaticReconnect()
    .build();
  handle.connection = connection;
  connection.on("metrics", message => receive(handle, message));
  connection.onreconnecting(() => status(handle, "reconnecting"));
  // A reconnect is a new connection: its subscription is gone and points were missed, so ask again.
  connection.onreconnected(() => connect(handle));
  connection.onclose(() => status(handle, "offline"));
  await open(handle, 0);
  return handle;
}

// Automatic reconnect covers a connection that was up; a first start that fails is tried again here.
const retryDelays = [2000, 5000, 15000, 30000];

async function open(handle, attempt) {
  if (handle.stopped)
    return;
  try {
    await handle.connection.start();
  } catch (error) {
    console.warn("live charts: could not reach the live hub", error);
    status(handle, "offline");
    const delay = retryDelays[Math.min(attempt, retryDelays.length - 1)];
    handle.retry = setTimeout(() => open(handle, attempt + 1), delay);
    return;
  }
  await connect(handle);
}

export async function setRange(handle, range) {
  if (!handle || handle.stopped || !ranges.includes(range) || range === handle.range)
    return;
  handle.range = range;
  handle.points = [];
  draw(handle);
  await load(handle);
}

export async function stop(handle) {
  if (!handle || handle.stopped)
    return;
  handle.stopped = true;
  clearTimeout(handle.retry);
  handle.resize?.disconnect();
  handle.plots.forEach(p => p.destroy());
  handle.element.replaceChildren();
  delete handle.element.dataset.points;
  try {
    await handle.connection?.stop();
  } catch (error) {
    console.warn("live charts: stopping the connection failed", error);
  }
}

async function connect(handle) {
  if (handle.stopped)
    return;
  try {
    await handle.connection.invoke("SubscribeMetrics", handle.resourceId);
    status(handle, "live");
  } catch (error) {
    console.warn("live charts: SubscribeMetrics failed", error);
    status(handle, "offline");
    return;
  }
  await load(handle);
}

// History for the current range. A newer load (another range, a reconnect) makes an older answer stale.
async function load(handle) {
  if (handle.stopped || handle.connection?.state !== signalR.HubConnectionState.Connected)
    return;
  const ticket = ++handle.loading;
  const range = handle.range;
  let series;
  try {
    series = await handle.connection.invoke("GetSeries", handle.resourceId, range);
  } catch (error) {
    console.warn("live charts: GetSeries failed", error);
    return;
  }
  if (handle.stopped || ticket !== handle.loading)
    return;
  const history = (Array.isArray(series) ? series : []).map(parse).filter(p => p).sort((a, b) => a.t - b.t);
  // Points pushed while the history was on its way come after it.
  const last = history.length ? history[history.length - 1].t : -Infinity;
  handle.points = history.concat(handle.points.filter(p => p.t > last));
  if (range === live)
    trim(handle);
  draw(handle);
}

function receive(handle, message) {
  if (handle.stopped || handle.range !== live || !message || !sameId(message.resourceId, handle.resourceId))
    return;
  const point = parse(message.point);
  const points = handle.points;
  if (!point || (points.length && point.t <= points[points.length - 1].t))
    return;
  points.push(point);
  trim(handle);
  draw(handle);
}

function trim(handle) {
  const points = handle.points;
  if (!points.length)
    return;
  const from = points[points.length - 1].t - liveWindowSeconds;
  const first = points.findIndex(p => p.t >= from);
  if (first > 0)
    points.splice(0, first);
}

function parse(point) {
  const t = point && Date.parse(point.at);
  if (!Number.isFinite(t))
    return null;
  const value = key => (Number.isFinite(point[key]) ? point[key] : null);
  return {
    t: t / 1000,
    cpuPercent: value("cpuPercent"),
    memoryUsedBytes: value("memoryUsedBytes"),
    memoryTotalBytes: value("memoryTotalBytes"),
    diskReadBytesPerSecond: value("diskReadBytesPerSecond"),
    diskWriteBytesPerSecond: value("diskWriteBytesPerSecond"),
    netRxBytesPerSecond: value("netRxBytesPerSecond"),
    netTxBytesPerSecond: value("netTxBytesPerSecond"),
  };
}

function draw(handle) {
  const points = handle.points;
  const xs = points.map(p => p.t);
  charts.forEach((chart, i) => handle.plots[i].setData([xs, ...chart.series.map(([, key]) => points.map(p => p[key]))]));
  handle.element.dataset.points = String(points.length);
  handle.dom.empty.hidden = points.length > 0;
  handle.dom.grid.hidden = points.length === 0;
  if (points.length)
    fit(handle);
}

function fit(handle) {
  handle.plots.forEach((p, i) => {
    const width = handle.dom.plots[i].clientWidth;
    if (width > 0 && width !== p.width)
      p.setSize({ width, height: chartHeight });
  });
}

const words = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

function status(handle, state) {
  if (handle.stopped)
    return;
  handle.dom.status.dataset.state = state;
  handle.dom.status.textContent = words[state];
}

function render(element) {
  const status = el("span", "live-charts-status", "connection");
  status.dataset.state = "connecting";
  status.textContent = "Connecting…";
  const empty = el("p", "live-charts-empty", "empty");
  empty.textContent = "No figures yet";
  const grid = el("div", "live-charts-grid");
  const plots = charts.map(chart => {
    const cell = el("div", "live-charts-cell", `chart-${chart.title.toLowerCase()}`);
    const title = el("div", "live-charts-title");
    title.textContent = `${chart.title} (${chart.unit})`;
    const target = el("div", "live-charts-plot");
    cell.append(title, target);
    grid.append(cell);
    return target;
  });
  element.replaceChildren(status, empty, grid);
  return { status, empty, grid, plots };
}

function plot(chart, target) {
  return new uPlot({
    width: Math.max(target.clientWidth, 200),
    height: chartHeight,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { y: chart.max ? { range: [0, chart.max] } : { range: (u, min, max) => [0, Math.max(max, 1)] } },
    axes: [{}, { size: 84, values: (u, values) => values.map(chart.format) }],
    series: [{}, ...chart.series.map(([label, , stroke]) => ({ label, stroke, width: 1.5, value: (u, v) => (v == null ? "–" : chart.format(v)) }))],
  }, [[], ...chart.series.map(() => [])], target);
}

function el(tag, className, testId) {
  const node = document.createElement(tag);
  node.className = className;
  if (testId)
    node.dataset.testid = `live-charts-${testId}`;
  return node;
}

function sameId(a, b) {
  return typeof a === "string" && a.toLowerCase() === b.toLowerCase();
}

function percent(v) {
  return `${Math.round(v * 10) / 10} %`;
}

const units = ["B", "KiB", "MiB", "GiB", "TiB"];

function bytes(v) {
  let value = Math.abs(v);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Math.sign(v) < 0 ? "-" : ""}${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function rate(v) {
  return `${bytes(v)}/s`;
}

function script(path) {
  return once(path, () => new Promise((resolve, reject) => {
    const node = document.createElement("script");
    node.src = new URL(path, lib).href;
    node.onload = resolve;
    node.onerror = () => reject(new Error(`could not load ${node.src}`));
    document.head.append(node);
  }));
}

function stylesheet(path) {
  return once(path, () => new Promise((resolve, reject) => {
    const node = document.createElement("link");
    node.rel = "stylesheet";
    node.href = new URL(path, lib).href;
    node.onload = resolve;
    node.onerror = () => reject(new Error(`could not load ${node.href}`));
    document.head.append(node);
  }));
}

// Each library is loaded once per page, however many charts start; a failed load may be tried again.
function once(key, load) {
  if (!loads.has(key))
    loads.set(key, load().catch(error => {
      loads.delete(key);
      throw error;
    }));
  return loads.get(key);
}
