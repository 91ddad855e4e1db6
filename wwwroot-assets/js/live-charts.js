// Live charts of a VM (CPU, memory, disk, network) or of a database (size, connections): history from the
// live hub, then the pushed points over SignalR straight into uPlot, so no figure costs a Blazor render.
// The Blazor component (LiveCharts.razor) only calls start, setRange and stop.
//
// The hub (/hubs/live) is expected to offer (docs/decisions/0008-live-hub.md):
//   SubscribeMetrics(resourceId)          then a VM's "metrics" events { resourceId, point },
//                                         or a database's "databaseSampled" events { resourceId, at, sizeBytes, activeConnections }
//   GetSeries(resourceId, range)          a VM's points: { at (ISO time), cpuPercent, memoryUsedBytes, memoryTotalBytes,
//                                         diskReadBytesPerSecond, diskWriteBytesPerSecond, netRxBytesPerSecond, netTxBytesPerSecond }
//   GetDatabaseSeries(resourceId, range)  a database's points: { at, sizeBytes, activeConnections }
// range: "FifteenMinutes" | "Hour" | "Day" | "Week"

const lib = new URL("../lib/", import.meta.url);
const loads = new Map();

const chartHeight = 170;

// What differs between the kinds: the charts, the range that moves, where history and points come from.
const kinds = {
  vm: {
    live: "FifteenMinutes",
    ranges: ["FifteenMinutes", "Hour", "Day", "Week"],
    liveWindowSeconds: 15 * 60,
    event: "metrics",
    history: "GetSeries",
    pointOf: message => message.point,
    charts: [
      { title: "CPU", unit: "%", max: 100, format: percent, series: [["CPU", "cpuPercent", "#1e88e5"]] },
      { title: "Memory", unit: "bytes", format: bytes, series: [["used", "memoryUsedBytes", "#8e24aa"], ["total", "memoryTotalBytes", "#9e9e9e"]] },
      { title: "Disk", unit: "bytes/s", format: rate, series: [["read", "diskReadBytesPerSecond", "#43a047"], ["write", "diskWriteBytesPerSecond", "#fb8c00"]] },
      { title: "Network", unit: "bytes/s", format: rate, series: [["received", "netRxBytesPerSecond", "#00897b"], ["sent", "netTxBytesPerSecond", "#e53935"]] },
    ],
  },
  database: {
    live: "Hour",
    ranges: ["Hour", "Day", "Week"],
    liveWindowSeconds: 60 * 60,
    event: "databaseSampled",
    history: "GetDatabaseSeries",
    pointOf: message => message,
    charts: [
      { title: "Size", unit: "bytes", format: bytes, series: [["size", "sizeBytes", "#3949ab"]] },
      { title: "Connections", unit: "sessions", format: count, whole: true, series: [["sessions", "activeConnections", "#00897b"]] },
    ],
  },
};
// An embedded (SQLite) database is a file: a size, and nobody holds sessions on it.
kinds["database-file"] = { ...kinds.database, charts: kinds.database.charts.slice(0, 1) };

export async function start(element, resourceId, options = {}) {
  await Promise.all([script("@microsoft/signalr/signalr.min.js"), script("uplot/uPlot.iife.min.js"), stylesheet("uplot/uPlot.min.css")]);
  const kind = kinds[options.kind] ?? kinds.vm;
  const handle = {
    element,
    kind,
    resourceId: String(resourceId),
    range: kind.ranges.includes(options.range) ? options.range : kind.live,
    points: [],
    loading: 0,
    plots: [],
    stopped: false,
    connection: null,
    resize: null,
    retry: 0,
    dom: render(element, kind.charts),
  };
  handle.plots = kind.charts.map((chart, i) => plot(chart, handle.dom.plots[i]));
  handle.resize = new ResizeObserver(() => fit(handle));
  handle.resize.observe(element);
  draw(handle);

  const connection = new signalR.HubConnectionBuilder()
    .withUrl(options.hubUrl ?? "/hubs/live")
    .withAutomaticReconnect()
    .build();
  handle.connection = connection;
  connection.on(kind.event, message => receive(handle, message));
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
  if (!handle || handle.stopped || !handle.kind.ranges.includes(range) || range === handle.range)
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
    series = await handle.connection.invoke(handle.kind.history, handle.resourceId, range);
  } catch (error) {
    console.warn(`live charts: ${handle.kind.history} failed`, error);
    return;
  }
  if (handle.stopped || ticket !== handle.loading)
    return;
  const history = (Array.isArray(series) ? series : []).map(p => parse(handle.kind, p)).filter(p => p).sort((a, b) => a.t - b.t);
  // Points pushed while the history was on its way come after it.
  const last = history.length ? history[history.length - 1].t : -Infinity;
  handle.points = history.concat(handle.points.filter(p => p.t > last));
  if (range === handle.kind.live)
    trim(handle);
  draw(handle);
}

function receive(handle, message) {
  if (handle.stopped || handle.range !== handle.kind.live || !message || !sameId(message.resourceId, handle.resourceId))
    return;
  const point = parse(handle.kind, handle.kind.pointOf(message));
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
  const from = points[points.length - 1].t - handle.kind.liveWindowSeconds;
  const first = points.findIndex(p => p.t >= from);
  if (first > 0)
    points.splice(0, first);
}

function parse(kind, point) {
  const t = point && Date.parse(point.at);
  if (!Number.isFinite(t))
    return null;
  const parsed = { t: t / 1000 };
  for (const chart of kind.charts)
    for (const [, key] of chart.series)
      parsed[key] = Number.isFinite(point[key]) ? point[key] : null;
  return parsed;
}

function draw(handle) {
  const points = handle.points;
  const xs = points.map(p => p.t);
  handle.kind.charts.forEach((chart, i) => handle.plots[i].setData([xs, ...chart.series.map(([, key]) => points.map(p => p[key]))]));
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

function render(element, charts) {
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

const wholeSteps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function plot(chart, target) {
  return new uPlot({
    width: Math.max(target.clientWidth, 200),
    height: chartHeight,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { y: chart.max ? { range: [0, chart.max] } : { range: (u, min, max) => [0, Math.max(max, 1)] } },
    // Sessions come whole: ticks at 1, 2, 5, 10… rather than at 0.5.
    axes: [{}, { size: 84, values: (u, values) => values.map(chart.format), ...(chart.whole ? { incrs: wholeSteps } : {}) }],
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

function count(v) {
  return String(Math.round(v));
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
