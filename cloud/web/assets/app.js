// The Device Manager page: a device list and a device view (#/device/ID), from the JSON
// API, with the Store and charts kept current by the /api/events stream. Plain browser
// JavaScript; Chart.js (Debian's libjs-chart.js) draws the charts.
'use strict';

const state = {device: null, events: null, charts: new Map(), devices: [], refreshTimer: null, chartTimer: null};

const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, {credentials: 'same-origin', ...options});
  if (response.status === 401) {
    window.location.assign('/login');
    throw new Error('signed out');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function post(path) {
  return api(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
}

// ---- formatting --------------------------------------------------------------------

function ago(ms) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

function date(ms) {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'});
}

// A time of today as its clock time, an older one with its date.
function when(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  if (d.toDateString() === new Date().toDateString()) {
    return d.toLocaleTimeString(undefined, {hour: '2-digit', minute: '2-digit', second: '2-digit'});
  }
  return date(ms);
}

function expiry(ms) {
  if (ms === null || ms === undefined) return {text: 'unknown', cls: 'muted'};
  const days = Math.floor((ms - Date.now()) / 86400000);
  if (days < 0) return {text: `expired ${date(ms)}`, cls: 'bad'};
  if (days < 30) return {text: `${date(ms)} (${days} days)`, cls: 'warn'};
  return {text: date(ms), cls: ''};
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function status(device) {
  const span = document.createElement('span');
  if (device.revoked) {
    span.className = 'pill revoked';
    span.textContent = 'revoked';
  } else {
    span.className = device.online ? 'pill online' : 'pill offline';
    span.innerHTML = '<span class="dot"></span>';
    span.append(device.online ? 'online' : 'offline');
  }
  return span;
}

function valueText(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

// ---- device list -------------------------------------------------------------------

async function showList() {
  $('device-view').hidden = true;
  $('list-view').hidden = false;
  document.title = 'Devices · tether Device Manager';
  await refreshList();
}

async function refreshList() {
  try {
    const body = await api('/api/devices');
    state.devices = body.devices;
    renderList();
  } catch (e) {
    $('device-count').textContent = `Cannot load devices: ${e.message}`;
  }
}

function renderList() {
  const filter = $('filter').value.trim().toLowerCase();
  const tbody = $('device-table').querySelector('tbody');
  tbody.replaceChildren();
  const shown = state.devices.filter((d) => d.id.toLowerCase().includes(filter));
  for (const d of shown) {
    const tr = document.createElement('tr');
    tr.className = 'clickable';
    tr.dataset.device = d.id;
    const name = document.createElement('td');
    const link = document.createElement('a');
    link.href = `#/device/${encodeURIComponent(d.id)}`;
    link.textContent = d.id;
    link.className = 'device-link';
    name.append(link);
    const st = document.createElement('td');
    st.append(status(d));
    const exp = expiry(d.certificateExpires);
    tr.append(name, st, cell(ago(d.lastSeen)), cell(exp.text, exp.cls), cell(date(d.provisioned)));
    tr.addEventListener('click', (ev) => {
      if (ev.target.tagName !== 'A') window.location.hash = `#/device/${encodeURIComponent(d.id)}`;
    });
    tbody.append(tr);
  }
  const online = state.devices.filter((d) => d.online).length;
  $('device-count').textContent = `${state.devices.length} devices, ${online} online`;
  $('no-devices').hidden = state.devices.length !== 0;
}

// ---- one device ----------------------------------------------------------------------

async function showDevice(id) {
  $('list-view').hidden = true;
  $('device-view').hidden = false;
  $('action-result').hidden = true;
  $('device-title').textContent = id;
  document.title = `${id} · tether Device Manager`;
  state.device = id;
  await Promise.all([loadStore(id), loadDeviceMeta(id), buildCharts(id)]);
}

async function loadDeviceMeta(id) {
  try {
    const body = await api('/api/devices');
    state.devices = body.devices;
    const d = body.devices.find((x) => x.id === id);
    const meta = $('device-meta');
    meta.replaceChildren();
    if (!d) {
      meta.textContent = 'Not a provisioned device.';
      return;
    }
    const exp = expiry(d.certificateExpires);
    meta.append(status(d), ` Last seen ${ago(d.lastSeen)} · certificate expires ${exp.text}`);
    $('revoke').disabled = d.revoked;
    $('release').disabled = false;  // a revoked device, released, may provision again
  } catch (e) {
    $('device-meta').textContent = e.message;
  }
}

async function loadStore(id) {
  try {
    const body = await api(`/api/devices/${encodeURIComponent(id)}/store`);
    if (state.device !== id) return;
    const tbody = $('store-table').querySelector('tbody');
    tbody.replaceChildren();
    for (const item of body.items) tbody.append(storeRow(item));
    $('no-store').hidden = body.items.length !== 0;
  } catch (e) {
    $('no-store').textContent = `Cannot load the Store: ${e.message}`;
    $('no-store').hidden = false;
  }
}

function storeRow(item) {
  const tr = document.createElement('tr');
  tr.dataset.key = item.key;
  const key = cell(item.key, 'mono');
  const value = cell(valueText(item.value), 'value');
  value.dataset.role = 'value';
  tr.append(key, value, cell(item.type, 'muted'), cell(when(item.updated), 'muted nowrap'));
  return tr;
}

function applyStoreChange(change) {
  const tbody = $('store-table').querySelector('tbody');
  const row = storeRow(change);
  const old = [...tbody.children].find((tr) => tr.dataset.key === change.key);
  if (old) {
    old.replaceWith(row);
  } else {
    const after = [...tbody.children].find((tr) => tr.dataset.key > change.key);
    tbody.insertBefore(row, after || null);
  }
  $('no-store').hidden = true;
  row.classList.add('flash');
}

// ---- charts --------------------------------------------------------------------------

// The series of `metric` for this device: the first dimension set whose every dimension
// comes from the device id, else the fleet-wide one.
function dimensionsFor(metric, id) {
  for (const set of metric.dimensions) {
    const names = Object.keys(set);
    if (names.length > 0 && names.every((n) => set[n] === 'deviceId')) {
      return Object.fromEntries(names.map((n) => [n, id]));
    }
  }
  return metric.dimensions.some((set) => Object.keys(set).length === 0) ? {} : null;
}

async function buildCharts(id) {
  for (const c of state.charts.values()) c.chart.destroy();
  state.charts.clear();
  const box = $('charts');
  box.replaceChildren();
  let schema;
  try {
    schema = await api('/api/schema');
  } catch (e) {
    $('no-metrics').textContent = `Cannot load the schema: ${e.message}`;
    $('no-metrics').hidden = false;
    return;
  }
  const metrics = schema.metrics.map((m) => ({...m, dims: dimensionsFor(m, id)})).filter((m) => m.dims !== null);
  $('no-metrics').hidden = metrics.length !== 0;
  if (typeof Chart === 'undefined') {
    $('no-metrics').textContent = 'Charts are unavailable: Chart.js is not installed on the server.';
    $('no-metrics').hidden = false;
    return;
  }
  for (const m of metrics) {
    const card = document.createElement('div');
    card.className = 'chart-card';
    const head = document.createElement('div');
    head.className = 'chart-head';
    const title = document.createElement('span');
    title.className = 'chart-title';
    title.textContent = m.metric;
    const figure = document.createElement('span');
    figure.className = 'chart-figure';
    head.append(title, figure);
    const wrap = document.createElement('div');
    wrap.className = 'chart-wrap';
    const canvas = document.createElement('canvas');
    canvas.dataset.metric = m.metric;
    wrap.append(canvas);
    card.append(head, wrap);
    box.append(card);
    const chart = new Chart(canvas, {
      type: 'line',
      data: {labels: [], datasets: [{data: [], borderColor: '#2563eb', backgroundColor: 'rgba(37,99,235,0.12)',
        fill: true, tension: 0.3, pointRadius: 3, pointBackgroundColor: '#2563eb', spanGaps: true}]},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {legend: {display: false}},
        scales: {x: {grid: {display: false}, ticks: {maxTicksLimit: 6, color: '#64748b'}},
                 y: {beginAtZero: false, ticks: {color: '#64748b'}, grid: {color: '#eef2f7'}}}},
    });
    state.charts.set(`${m.namespace}\u0000${m.metric}`, {chart, metric: m, canvas, figure});
  }
  await refreshCharts(id);
}

async function refreshCharts(id) {
  const statistic = $('statistic').value;
  const period = Number($('period').value);
  await Promise.all([...state.charts.values()].map(async (c) => {
    const q = new URLSearchParams({metric: c.metric.metric, namespace: c.metric.namespace,
      dimensions: JSON.stringify(c.metric.dims), statistic, period: String(period)});
    try {
      const body = await api(`/api/metrics?${q}`);
      if (state.device !== id) return;
      // Seconds matter in the 5 s points of the shortest periods.
      const label = period <= 300 ? {hour: '2-digit', minute: '2-digit', second: '2-digit'}
        : period <= 86400 ? {hour: '2-digit', minute: '2-digit'} : {month: 'short', day: 'numeric'};
      c.chart.data.labels = body.points.map((p) => new Date(p.t).toLocaleString(undefined, label));
      c.chart.data.datasets[0].data = body.points.map((p) => p.v);
      c.chart.update();
      const fmt = (v) => (v === null ? '—' : Number(v).toLocaleString(undefined, {maximumFractionDigits: 2}));
      c.figure.textContent = `${$('statistic').selectedOptions[0].text.toLowerCase()} ${fmt(body.value)} · now ${fmt(body.current)}`;
      c.canvas.dataset.drawn = String(body.points.filter((p) => p.v !== null).length);
    } catch (e) {
      c.figure.textContent = e.message;
    }
  }));
}

// Whether a metric change is of a series a chart on the page shows (other devices'
// series come down the same stream).
function shown(change) {
  const c = state.charts.get(`${change.namespace}\u0000${change.metric}`);
  if (!c) return false;
  const want = c.metric.dims;
  const got = change.dimensions || {};
  const names = Object.keys(want);
  return names.length === Object.keys(got).length && names.every((n) => got[n] === want[n]);
}

function chartsSoon() {
  // Many values in a burst: one refresh.
  if (state.chartTimer) return;
  state.chartTimer = setTimeout(() => {
    state.chartTimer = null;
    if (state.device) refreshCharts(state.device);
  }, 500);
}

// ---- actions -------------------------------------------------------------------------

function confirmAction(title, text, label) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = label;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.showModal();
  });
}

async function act(kind) {
  const id = state.device;
  const texts = {
    release: ['Release this device?', `${id} will forget its identity and provision itself again from its claim certificate (a revoked device too).`, 'Release'],
    revoke: ['Revoke this device?', `${id}'s certificate is revoked: the broker refuses it and the cloud ignores it. It may not provision again until it is released.`, 'Revoke'],
  };
  if (!(await confirmAction(...texts[kind]))) return;
  const notice = $('action-result');
  try {
    const body = await post(`/api/devices/${encodeURIComponent(id)}/${kind}`);
    notice.className = 'notice ok';
    notice.textContent = body.message || `${kind} done`;
  } catch (e) {
    notice.className = 'notice error';
    notice.textContent = e.message;
  }
  notice.hidden = false;
  await loadDeviceMeta(id);
}

// ---- live updates --------------------------------------------------------------------

function listen() {
  if (state.events) state.events.close();
  const q = state.device ? `?device=${encodeURIComponent(state.device)}` : '';
  const events = new EventSource(`/api/events${q}`);
  state.events = events;
  events.onopen = () => {
    $('live').classList.add('on');
    // Changes may have been missed while the stream was down (or dropped for being slow).
    if (state.device) loadStore(state.device);
  };
  events.onerror = () => $('live').classList.remove('on');
  events.onmessage = (message) => {
    let change;
    try { change = JSON.parse(message.data); } catch { return; }
    if (change.kind === 'store') {
      if (state.device === change.device) applyStoreChange(change);
      const d = state.devices.find((x) => x.id === change.device);
      if (d) { d.lastSeen = change.updated; if (!state.device) renderList(); }
    } else if (change.kind === 'metric' && state.device && shown(change)) {
      chartsSoon();
    } else if (change.kind === 'reload' && state.device && (!change.device || change.device === state.device)) {
      // A change too large to send (a long Store value): read the Store again.
      loadStore(state.device);
    }
  };
}

// ---- routing -------------------------------------------------------------------------

async function route() {
  const match = window.location.hash.match(/^#\/device\/(.+)$/);
  state.device = match ? decodeURIComponent(match[1]) : null;
  listen();
  if (state.device) await showDevice(state.device);
  else await showList();
}

async function start() {
  try {
    const me = await api('/api/session');
    $('who').textContent = me.user;
  } catch { return; }
  $('logout').addEventListener('click', async () => {
    await post('/logout').catch(() => {});
    window.location.assign('/login');
  });
  $('filter').addEventListener('input', renderList);
  $('statistic').addEventListener('change', () => state.device && refreshCharts(state.device));
  $('period').addEventListener('change', () => state.device && refreshCharts(state.device));
  $('release').addEventListener('click', () => act('release'));
  $('revoke').addEventListener('click', () => act('revoke'));
  window.addEventListener('hashchange', route);
  // Whatever the stream missed is read again here: the page converges within 15 s.
  state.refreshTimer = setInterval(() => {
    if (!state.device) refreshList();
    else { loadStore(state.device); chartsSoon(); }
  }, 15000);
  await route();
}

start();
