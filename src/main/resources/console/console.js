// imsync operator console: plain browser JavaScript, no build step. Polls the node's /admin endpoints with
// the operator's token (kept in sessionStorage: this tab only) and draws members, shards and charts.
'use strict';

(() => {
  const TOKEN_KEY = 'imsync.operator-token';
  const REFRESH_MS = 3000;
  const CHART_POINTS = 60; // 3 minutes at one sample per refresh
  const MOVE_PATIENCE_MS = 60000;
  const NODE_COLORS = ['#4cc9f0', '#f77f00', '#80ed99', '#c77dff', '#ffd166', '#ef476f', '#06d6a0', '#a0c4ff'];

  const $ = (id) => document.getElementById(id);

  const state = {
    timer: null,
    running: false,
    members: [],                 // merged view of /admin/cluster and /admin/shards
    shards: null,                // last /admin/shards answer
    series: new Map(),           // node address -> [{at, values}]
    colors: new Map(),           // node address -> colour, stable for the page's life
    pending: new Map(),          // shard id -> {to, since}
    numberOfShards: 0,
    idleOpen: false,             // the operator opened the list of shards not started
    landed: new Set(),           // shards that just arrived (highlighted once)
    audit: [],                   // audit entries shown, newest first
    auditAfter: null,            // the next page's `after` (null: not read yet)
    auditLoading: null,          // the audit read in flight, if any
  };
  const AUDIT_DAYS = 30;
  const AUDIT_KEEP = 200;

  // ---------- HTTP ----------

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: 'Bearer ' + (sessionStorage.getItem(TOKEN_KEY) || '') };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method, headers, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', 'cannot reach the node (' + e.message + ')');
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    if (!res.ok) {
      const err = (json && json.error) || {};
      throw new ApiError(res.status, err.code || 'http_' + res.status,
        err.message || res.statusText || 'HTTP ' + res.status, res.headers.get('Retry-After'));
    }
    return json;
  }

  /** One sentence an operator can act on, for any failure. */
  function describe(err, what) {
    if (!(err instanceof ApiError)) return what + ': ' + (err && err.message ? err.message : String(err));
    switch (err.status) {
      case 0: return 'Cannot reach the node: ' + err.message + '.';
      case 401: return 'The token was rejected (401): ' + err.message + '. Sign in again.';
      case 403: return 'Not allowed (403): ' + err.message + '. An operator token is needed.';
      case 404: return what + ': not found on this node (404): ' + err.message + '.';
      case 503: return what + ': the cluster or its storage is unavailable right now (503)'
        + (err.retryAfter ? ', retry in ' + err.retryAfter + ' s' : '') + ': ' + err.message + '.';
      default: return what + ' failed (' + err.status + ' ' + err.code + '): ' + err.message + '.';
    }
  }

  const isAuthFailure = (e) => e instanceof ApiError && (e.status === 401 || e.status === 403);

  // ---------- small DOM helpers ----------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'style') node.style.cssText = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function message(id, text, kind) {
    const box = $(id);
    if (!text) { box.hidden = true; box.textContent = ''; return; }
    box.hidden = false;
    box.className = 'panel-msg ' + (kind || 'error');
    box.textContent = text;
  }

  function banner(text) {
    const b = $('banner');
    b.hidden = !text;
    b.textContent = text || '';
  }

  const shortNode = (address) => (address || '').replace(/^akka:\/\/[^@]*@/, '');
  const fmt = (n, digits) => (n === undefined || n === null || Number.isNaN(n)) ? '–'
    : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 1 : digits });
  const load = (s) => (Number(s.requests_per_second) || 0) + (Number(s.ingest_per_second) || 0);

  function colorOf(address) {
    if (!state.colors.has(address)) state.colors.set(address, NODE_COLORS[state.colors.size % NODE_COLORS.length]);
    return state.colors.get(address);
  }

  function formatTime(value) {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 1e11) return String(value);
    return new Date(n).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function confirmDialog(title, body, okText) {
    const dialog = $('dialog');
    $('dialog-title').textContent = title;
    $('dialog-body').replaceChildren(body);
    $('dialog-ok').textContent = okText;
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  // ---------- sign-in ----------

  function showLogin(error) {
    stopPolling();
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('login').hidden = false;
    $('cluster-summary').textContent = '';
    $('refresh-state').textContent = '';
    $('login-error').textContent = error || '';
    banner('');
    $('token-input').focus();
  }

  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    $('sign-in').disabled = true;
    try {
      await api('GET', '/admin/cluster');
    } catch (e) {
      if (isAuthFailure(e)) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin(describe(e, 'Sign-in'));
        return;
      }
      // a busy or unreachable node is not the token's fault: go on, the panels say what is wrong
    } finally {
      $('sign-in').disabled = false;
    }
    showApp();
  }

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.audit = [];
    state.auditAfter = null;
    showLogin(reason);
  }

  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('sign-out').hidden = false;
    startPolling();
  }

  // ---------- polling ----------

  function startPolling() {
    if (state.running) return;
    state.running = true;
    refresh();
  }

  function stopPolling() {
    state.running = false;
    clearTimeout(state.timer);
  }

  async function refresh() {
    clearTimeout(state.timer);
    const [cluster, shards, metrics] = await Promise.allSettled([
      api('GET', '/admin/cluster'), api('GET', '/admin/shards'), api('GET', '/admin/metrics'), refreshAudit()]);
    if (!state.running) return;
    const failures = [cluster, shards, metrics].filter((r) => r.status === 'rejected').map((r) => r.reason);
    const auth = failures.find(isAuthFailure);
    if (auth) { signOut(describe(auth, 'The console')); return; }
    const network = failures.find((e) => e instanceof ApiError && e.status === 0);
    banner(network ? describe(network, 'The console') + ' Retrying every few seconds.' : '');

    renderSummary(cluster);
    renderMembers(cluster, shards);
    renderShards(shards);
    recordMetrics(metrics, shards);
    drawCharts();

    $('refresh-state').textContent = (failures.length ? 'partly updated ' : 'updated ')
      + new Date().toLocaleTimeString('en-GB');
    $('refresh-state').classList.toggle('stale', failures.length > 0);
    state.timer = setTimeout(refresh, REFRESH_MS);
  }

  // ---------- members ----------

  function renderSummary(cluster) {
    const box = $('cluster-summary');
    if (cluster.status !== 'fulfilled') { box.textContent = ''; return; }
    const c = cluster.value;
    state.numberOfShards = Number(c.number_of_shards) || state.numberOfShards;
    box.replaceChildren(
      el('span', { title: c.self }, 'this node ', el('b', {}, shortNode(c.self))),
      el('span', { title: c.leader || '' }, 'leader ', el('b', {}, c.leader ? shortNode(c.leader) : 'none')),
      el('span', {}, el('b', {}, fmt(c.number_of_shards, 0)), ' shards'),
      c.streams ? el('span', {}, el('b', {}, fmt(c.streams.open, 0)), ' streams open') : null);
  }

  function renderMembers(cluster, shards) {
    const byAddress = new Map();
    if (cluster.status === 'fulfilled') {
      for (const m of cluster.value.members || []) byAddress.set(m.address, { ...m });
    }
    if (shards.status === 'fulfilled') {
      for (const m of shards.value.members || []) {
        const known = byAddress.get(m.address) || {};
        byAddress.set(m.address, { ...m, ...known, ...pick(m, ['requests_per_second', 'ingest_per_second', 'shards', 'active_accounts']) });
      }
    }
    state.members = [...byAddress.values()].sort((a, b) => a.address.localeCompare(b.address));
    state.members.forEach((m) => colorOf(m.address));

    if (cluster.status === 'rejected' && shards.status === 'rejected') {
      message('members-msg', describe(cluster.reason, 'The member list'));
    } else {
      message('members-msg', '');
    }
    const rows = state.members.map((m) => el('tr', { dataset: { address: m.address } },
      el('td', { class: 'node-cell', title: m.address + ((m.roles || []).length ? '\nroles: ' + m.roles.join(', ') : '') },
        el('i', { class: 'dot', style: 'background:' + colorOf(m.address) }), shortNode(m.address)),
      el('td', { class: 'nowrap' }, el('span', { class: 'pill status-' + m.status }, m.status || '?'),
        m.reachable === false ? el('span', { class: 'pill status-unreachable' }, 'unreachable') : null,
        m.answered === false ? el('span', { class: 'pill status-leaving', title: 'the node did not send its figures in time' }, 'no figures') : null),
      el('td', { class: 'num' }, fmt(m.shards, 0),
        m.planned_shards !== undefined
          ? el('span', { class: 'muted', title: 'where the balancer or an operator put shards' }, ' / ' + m.planned_shards) : null),
      el('td', { class: 'num' }, fmt(m.active_accounts, 0)),
      el('td', { class: 'num' }, fmt(m.requests_per_second)),
      el('td', { class: 'num' }, fmt(m.ingest_per_second)),
      el('td', { class: 'row-actions' },
        m.status === 'up' ? el('button', { type: 'button', class: 'small-btn drain', onclick: () => memberAction(m, 'leave') }, 'Drain') : null,
        m.reachable === false ? el('button', { type: 'button', class: 'small-btn danger down', onclick: () => memberAction(m, 'down') }, 'Down') : null)));
    $('members').tBodies[0].replaceChildren(...rows);
    if (!rows.length && $('members-msg').hidden) message('members-msg', 'No members known yet.', 'info');
  }

  function pick(obj, keys) {
    const out = {};
    for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) out[k] = obj[k];
    return out;
  }

  async function memberAction(member, action) {
    const text = action === 'leave'
      ? 'The node hands its shards to the other members, closes its streams and leaves the cluster.'
      : 'Marks the unreachable node as down: its shards start elsewhere. Only for a node that is really gone.';
    const ok = await confirmDialog((action === 'leave' ? 'Drain ' : 'Down ') + shortNode(member.address) + '?',
      el('p', {}, text), action === 'leave' ? 'Drain node' : 'Down node');
    if (!ok) return;
    try {
      await api('POST', '/admin/members/' + encodeURIComponent(member.address) + '/' + action);
      message('members-note', (action === 'leave' ? 'Draining ' : 'Downing ') + member.address + '.', 'info');
    } catch (e) {
      message('members-note', describe(e, action === 'leave' ? 'Draining the node' : 'Downing the node'));
    }
    refresh();
  }

  async function rebalance(by) {
    const buttons = [$('rebalance-count'), $('rebalance-load')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const r = await api('POST', '/admin/rebalance', { by });
      message('members-note', 'Rebalanced by ' + by + ': ' + fmt(r && r.moved, 0) + ' shard(s) moving.', 'info');
    } catch (e) {
      message('members-note', describe(e, 'Rebalancing by ' + by));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
    refresh();
  }

  // ---------- shards ----------

  function renderShards(result) {
    const box = $('shard-groups');
    if (result.status === 'rejected') {
      message('shards-msg', describe(result.reason, 'The shard list'));
      $('shards-count').textContent = '';
      box.replaceChildren();
      return;
    }
    const shards = (result.value && result.value.shards) || [];
    state.shards = shards;
    const max = shards.reduce((m, s) => Math.max(m, load(s)), 0);
    $('scale-max').textContent = max > 0 ? fmt(max) + ' /s' : 'busiest';
    $('shards-count').textContent = shards.length + ' running'
      + (state.numberOfShards ? ' of ' + state.numberOfShards : '');

    // moves that have landed, or waited too long
    const notes = [];
    for (const [id, p] of state.pending) {
      const s = shards.find((x) => x.shard_id === id);
      if (s && s.node === p.to) {
        state.pending.delete(id);
        state.landed.add(id);
        notes.push('Shard ' + id + ' is now on ' + shortNode(p.to) + '.');
      } else if (Date.now() - p.since > MOVE_PATIENCE_MS) {
        state.pending.delete(id);
        notes.push('Shard ' + id + ' has not reached ' + shortNode(p.to) + ' yet: a shard restarts on its new node with its next request.');
      }
    }
    if (notes.length) message('shards-note', notes.join(' '), 'info');
    message('shards-msg', '');

    const groups = new Map(state.members.map((m) => [m.address, []]));
    for (const s of shards) {
      const key = s.node || '';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(s);
    }
    const landed = new Set(state.landed);
    state.landed.clear();
    const sections = [];
    for (const [node, list] of groups) {
      list.sort((a, b) => Number(a.shard_id) - Number(b.shard_id));
      const total = list.reduce((t, s) => t + load(s), 0);
      const accounts = list.reduce((t, s) => t + (Number(s.active_accounts) || 0), 0);
      sections.push(el('div', { class: 'shard-group', dataset: { node } },
        el('div', { class: 'shard-group-head' },
          el('i', { class: 'dot', style: 'background:' + (node ? colorOf(node) : '#667') }),
          el('b', { title: node }, node ? shortNode(node) : 'not allocated'),
          el('span', { class: 'muted' }, list.length + ' shards · ' + fmt(accounts, 0) + ' accounts · ' + fmt(total) + ' req+ingest/s')),
        el('div', { class: 'shard-grid' }, list.map((s) => shardCell(s, max, landed)))));
    }
    // shards without traffic run nowhere until their next request: listed apart, still movable (the move
    // says where they start)
    const hosted = new Set(shards.map((s) => s.shard_id));
    const idle = [];
    for (let i = 0; i < (state.numberOfShards || 0); i++) {
      if (!hosted.has(String(i))) idle.push({ shard_id: String(i), node: null, active_accounts: 0, requests_per_second: 0, ingest_per_second: 0 });
    }
    if (idle.length) {
      const details = el('details', { class: 'shard-group idle-group', dataset: { node: '' } },
        el('summary', { class: 'shard-group-head' },
          el('i', { class: 'dot', style: 'background:#4a5566' }),
          el('b', {}, 'Not running'),
          el('span', { class: 'muted' }, idle.length + ' shards idle: a shard starts on its node with its first request')),
        el('div', { class: 'shard-grid' }, idle.map((s) => shardCell(s, max, landed))));
      details.open = state.idleOpen;
      details.addEventListener('toggle', () => { state.idleOpen = details.open; });
      sections.push(details);
    }
    box.replaceChildren(...sections);
  }

  function shardCell(s, max, landed) {
    const t = max > 0 ? load(s) / max : 0;
    const pending = state.pending.get(s.shard_id);
    const classes = ['shard'];
    if (load(s) > 0) classes.push('busy');
    if (pending) classes.push('pending');
    if (landed.has(s.shard_id)) classes.push('landed');
    const style = load(s) > 0
      ? 'background:hsl(' + Math.round(165 - 165 * t) + ' 70% ' + Math.round(28 + 18 * t) + '%)' : '';
    return el('button', {
      type: 'button', class: classes.join(' '), style,
      dataset: { shard: s.shard_id, node: s.node || '' },
      title: 'shard ' + s.shard_id + ' on ' + shortNode(s.node) + '\n' + fmt(s.active_accounts, 0) + ' active accounts\n'
        + fmt(s.requests_per_second, 2) + ' requests/s, ' + fmt(s.ingest_per_second, 2) + ' ingest/s'
        + (pending ? '\nmoving to ' + shortNode(pending.to) : ''),
      onclick: () => moveShard(s),
    }, s.shard_id);
  }

  async function moveShard(shard) {
    const targets = state.members.filter((m) => m.status === 'up' && m.reachable !== false && m.address !== shard.node);
    if (!targets.length) {
      message('shards-note', 'Shard ' + shard.shard_id + ' has nowhere to go: no other member is up.', 'info');
      return;
    }
    const select = el('select', { id: 'move-target' },
      targets.map((m) => el('option', { value: m.address }, shortNode(m.address))));
    const body = el('div', {},
      el('dl', { class: 'kv' },
        el('dt', {}, 'Now on'), el('dd', {}, shortNode(shard.node) || 'not allocated'),
        el('dt', {}, 'Active accounts'), el('dd', {}, fmt(shard.active_accounts, 0)),
        el('dt', {}, 'Requests/s'), el('dd', {}, fmt(shard.requests_per_second, 2)),
        el('dt', {}, 'Ingest/s'), el('dd', {}, fmt(shard.ingest_per_second, 2))),
      el('label', { class: 'field' }, 'Move to ', select));
    if (!await confirmDialog('Move shard ' + shard.shard_id, body, 'Move')) return;
    const to = select.value;
    try {
      await api('POST', '/admin/shards/' + encodeURIComponent(shard.shard_id) + '/move', { to });
      state.pending.set(shard.shard_id, { to, since: Date.now() });
      message('shards-note', 'Moving shard ' + shard.shard_id + ' to ' + shortNode(to) + '…', 'info');
    } catch (e) {
      message('shards-note', describe(e, 'Moving shard ' + shard.shard_id));
    }
    refresh();
  }

  // ---------- charts ----------

  const METRICS = ['requests_per_second', 'p99_ms', 'ingest_per_second', 'active_accounts'];

  function recordMetrics(metrics, shards) {
    let at = Date.now();
    let members;
    if (metrics.status === 'fulfilled') {
      at = Number(metrics.value.at) || at;
      members = metrics.value.members || [];
      message('charts-msg', '');
    } else if (shards.status === 'fulfilled') {
      // without /admin/metrics the per-node rates of /admin/shards still draw (no latency)
      members = shards.value.members || [];
      message('charts-msg', describe(metrics.reason, 'Node metrics') + ' Showing the rates from the shard list.', 'info');
    } else {
      message('charts-msg', describe(metrics.reason, 'Node metrics'));
      return;
    }
    for (const m of members) {
      if (!state.series.has(m.address)) state.series.set(m.address, []);
      const points = state.series.get(m.address);
      if (points.length && points[points.length - 1].at === at) continue;
      const values = {};
      for (const k of METRICS) values[k] = m[k] === undefined || m[k] === null ? null : Number(m[k]);
      points.push({ at, values });
      if (points.length > CHART_POINTS) points.shift();
    }
    $('chart-legend').replaceChildren(...[...state.series.keys()].sort().map((a) =>
      el('span', { class: 'legend-item', title: a }, el('i', { class: 'dot', style: 'background:' + colorOf(a) }), shortNode(a))));
  }

  /** The top of a chart's y axis: four gridline steps of 1, 2 or 5 times a power of ten. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const raw = v / 4;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return 4 * m * p;
    return 40 * p;
  }

  function drawCharts() {
    const samples = Math.max(0, ...[...state.series.values()].map((points) => points.length));
    for (const canvas of document.querySelectorAll('canvas[data-metric]')) {
      canvas.dataset.points = String(samples);
      drawChart(canvas, canvas.dataset.metric);
    }
  }

  function drawChart(canvas, metric) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const styles = getComputedStyle(document.documentElement);
    const grid = styles.getPropertyValue('--grid').trim() || '#2a3441';
    const muted = styles.getPropertyValue('--muted').trim() || '#8b97a7';

    const series = [...state.series.entries()];
    let now = 0;
    let max = 0;
    let any = false;
    for (const [, points] of series) {
      for (const p of points) {
        now = Math.max(now, p.at);
        const v = p.values[metric];
        if (v !== null && Number.isFinite(v)) { max = Math.max(max, v); any = true; }
      }
    }
    const left = 44;
    const right = 8;
    const top = 8;
    const bottom = 18;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const span = CHART_POINTS * REFRESH_MS;
    const yMax = niceMax(max);

    g.font = '11px ui-sans-serif, system-ui, sans-serif';
    g.lineWidth = 1;
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      g.strokeStyle = grid;
      g.beginPath();
      g.moveTo(left, Math.round(y) + 0.5);
      g.lineTo(width - right, Math.round(y) + 0.5);
      g.stroke();
      g.fillStyle = muted;
      g.textAlign = 'right';
      g.fillText(fmt((yMax * i) / 4, 2), left - 6, y);
    }
    g.textAlign = 'left';
    g.textBaseline = 'alphabetic';
    g.fillText('−' + Math.round(span / 60000) + ' min', left, height - 4);
    g.textAlign = 'right';
    g.fillText('now', width - right, height - 4);
    if (!any) {
      g.textAlign = 'center';
      g.fillText('no data yet', left + plotW / 2, top + plotH / 2);
      return;
    }
    g.lineWidth = 2;
    g.lineJoin = 'round';
    for (const [address, points] of series) {
      g.strokeStyle = colorOf(address);
      g.beginPath();
      let drawing = false;
      for (const p of points) {
        const v = p.values[metric];
        if (v === null || !Number.isFinite(v)) { drawing = false; continue; }
        const x = left + plotW - ((now - p.at) / span) * plotW;
        const y = top + plotH - (v / yMax) * plotH;
        if (x < left) continue;
        if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
        drawing = true;
      }
      g.stroke();
      const last = points[points.length - 1];
      if (points.length === 1 && last.values[metric] !== null) {
        g.fillStyle = colorOf(address);
        g.beginPath();
        g.arc(left + plotW, top + plotH - (last.values[metric] / yMax) * plotH, 3, 0, 2 * Math.PI);
        g.fill();
      }
    }
  }

  // ---------- audit log ----------

  /** One read of the audit log at a time (the poll and an export or erasure may ask together): never an entry twice. */
  function refreshAudit() {
    if (!state.auditLoading) state.auditLoading = loadAudit().finally(() => { state.auditLoading = null; });
    return state.auditLoading;
  }

  /** Reads the entries written since the last read (pages forward by time) and shows the newest first. */
  async function loadAudit() {
    if (state.auditAfter === null) state.auditAfter = Date.now() - AUDIT_DAYS * 86400000;
    try {
      for (let page = 0; page < 20; page++) {
        const r = await api('GET', '/admin/audit?limit=500&after=' + state.auditAfter);
        const entries = (r && r.entries) || [];
        state.audit = entries.slice().reverse().concat(state.audit).slice(0, AUDIT_KEEP);
        state.auditAfter = r.next;
        if (!r.has_more || !entries.length) break;
      }
      message('audit-msg', state.audit.length ? '' : 'No operator action recorded in the last ' + AUDIT_DAYS + ' days.', 'info');
    } catch (e) {
      if (isAuthFailure(e)) return;
      message('audit-msg', describe(e, 'The audit log'));
    }
    renderAudit();
  }

  function renderAudit() {
    $('audit').tBodies[0].replaceChildren(...state.audit.map((e) => el('tr', { dataset: { action: e.action, target: e.target } },
      el('td', { class: 'nowrap' }, formatTime(e.ts)),
      el('td', {}, e.operator === null || e.operator === undefined ? '–' : e.operator),
      el('td', {}, el('span', { class: 'pill' }, e.action)),
      el('td', { class: 'mono' }, e.target),
      el('td', { class: 'mono' }, e.detail || ''))));
  }

  // ---------- account export and erasure ----------

  async function exportAccount() {
    const id = $('account-result').dataset.account;
    message('lifecycle-msg', '');
    try {
      const doc = await api('GET', '/admin/accounts/' + encodeURIComponent(id) + '/export');
      const link = $('export-link');
      if (link.href) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      link.download = id + '-export.json';
      link.textContent = 'Download ' + link.download;
      link.hidden = false;
      message('lifecycle-msg', 'Exported ' + id + ': version ' + doc.version + ', ' + doc.sessions.length + ' sessions, '
        + doc.groups.length + ' groups, ' + doc.devices.length + ' devices.', 'info');
      refreshAudit();
    } catch (e) {
      if (isAuthFailure(e)) { signOut(describe(e, 'Export')); return; }
      message('lifecycle-msg', describe(e, 'The export of ' + id));
    }
  }

  async function eraseAccount() {
    const id = $('account-result').dataset.account;
    message('lifecycle-msg', '');
    const ok = await confirmDialog('Erase account ' + id + '?',
      el('p', {}, 'Its sessions, groups, devices and history are removed from storage for good, and its devices start '
        + 'over empty. This cannot be undone.'), 'Erase');
    if (!ok) return;
    try {
      const r = await api('DELETE', '/admin/accounts/' + encodeURIComponent(id));
      $('export-link').hidden = true;
      await lookupAccount(id);
      message('lifecycle-msg', 'Account ' + r.erased + ' erased: ' + r.events + ' stored events removed.', 'info');
      refreshAudit();
    } catch (e) {
      if (isAuthFailure(e)) { signOut(describe(e, 'Erasure')); return; }
      message('lifecycle-msg', describe(e, 'The erasure of ' + id));
    }
  }

  // ---------- account lookup ----------

  async function lookupAccount(id) {
    message('account-msg', '');
    message('lifecycle-msg', '');
    $('export-link').hidden = true;
    message('devices-msg', '');
    message('history-msg', '');
    $('session-history').hidden = true;
    $('account-result').hidden = true;
    $('account-actions').hidden = true;
    $('history-form').hidden = true;
    if (!id) { message('account-msg', 'Enter an account id.', 'info'); return; }
    const path = '/admin/accounts/' + encodeURIComponent(id);
    const [stats, devices] = await Promise.allSettled([api('GET', path), api('GET', path + '/devices')]);
    const auth = [stats, devices].find((r) => r.status === 'rejected' && isAuthFailure(r.reason));
    if (auth) { signOut(describe(auth.reason, 'Account lookup')); return; }
    if (stats.status === 'rejected') {
      message('account-msg', describe(stats.reason, 'Account ' + id));
      return;
    }
    $('account-result').hidden = false;
    $('account-actions').hidden = false;
    $('history-form').hidden = false;
    $('account-result').dataset.account = id;
    const s = stats.value || {};
    $('account-stats').replaceChildren(...Object.entries(s).flatMap(([k, v]) => [
      el('dt', {}, k.replace(/_/g, ' ')),
      el('dd', { dataset: { key: k } }, k === 'node' ? el('span', { title: v }, shortNode(v)) : (typeof v === 'number' ? fmt(v, 0) : String(v)))]));
    renderDevices(devices);
  }

  function renderDevices(devices) {
    const table = $('account-devices');
    if (devices.status === 'rejected') {
      table.hidden = true;
      $('devices-version').textContent = '';
      message('devices-msg', describe(devices.reason, 'The device list'));
      return;
    }
    const list = (devices.value && devices.value.devices) || [];
    $('devices-version').textContent = devices.value && devices.value.version !== undefined ? 'version ' + devices.value.version : '';
    if (!list.length) {
      table.hidden = true;
      message('devices-msg', 'No devices have synced this account.', 'info');
      return;
    }
    const keys = [...new Set(list.flatMap((d) => Object.keys(d)))];
    table.hidden = false;
    table.tHead.replaceChildren(el('tr', {}, keys.map((k) => el('th', {}, k.replace(/_/g, ' ')))));
    table.tBodies[0].replaceChildren(...list.map((d) => el('tr', {}, keys.map((k) => el('td', {}, cell(k, d[k]))))));
  }

  function cell(key, value) {
    if (value === undefined || value === null) return '–';
    if (typeof value === 'number' && /(^ts$|_ts$|_at$)/.test(key)) return formatTime(value);
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }

  async function lookupHistory(sid) {
    const id = $('account-result').dataset.account;
    message('history-msg', '');
    $('session-history').hidden = true;
    if (!sid) { message('history-msg', 'Enter a session id.', 'info'); return; }
    try {
      const r = await api('GET', '/admin/accounts/' + encodeURIComponent(id) + '/sessions/' + encodeURIComponent(sid) + '/history?limit=50');
      const events = (r && r.events) || [];
      if (!events.length) {
        message('history-msg', 'The journal holds no events for session ' + sid + ' of ' + id + '.', 'info');
        return;
      }
      $('session-history').hidden = false;
      $('session-history').tBodies[0].replaceChildren(...events.map((e) => {
        const rest = { ...e };
        delete rest.sequence_nr; delete rest.type; delete rest.ts;
        return el('tr', {},
          el('td', { class: 'num' }, e.sequence_nr),
          el('td', {}, el('span', { class: 'pill' }, e.type)),
          el('td', { class: 'nowrap' }, e.ts === undefined ? '–' : formatTime(e.ts)),
          el('td', { class: 'mono' }, Object.keys(rest).length ? JSON.stringify(rest) : ''));
      }));
    } catch (e) {
      if (isAuthFailure(e)) { signOut(describe(e, 'Session history')); return; }
      message('history-msg', describe(e, 'The history of session ' + sid));
    }
  }

  // ---------- wiring ----------

  window.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
      if (!token) { $('login-error').textContent = 'Paste a token first.'; return; }
      signIn(token);
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    $('rebalance-count').addEventListener('click', () => rebalance('count'));
    $('rebalance-load').addEventListener('click', () => rebalance('load'));
    $('account-form').addEventListener('submit', (ev) => { ev.preventDefault(); lookupAccount($('account-id').value.trim()); });
    $('history-form').addEventListener('submit', (ev) => { ev.preventDefault(); lookupHistory($('session-id').value.trim()); });
    $('account-export').addEventListener('click', exportAccount);
    $('account-erase').addEventListener('click', eraseAccount);
    window.addEventListener('resize', drawCharts);
    window.addEventListener('error', (ev) => banner('The console hit a bug: ' + ev.message + ' (reload the page).'));
    window.addEventListener('unhandledrejection', (ev) => banner('The console hit a bug: ' + (ev.reason && ev.reason.message || ev.reason) + ' (reload the page).'));
    if (sessionStorage.getItem(TOKEN_KEY)) showApp(); else showLogin('');
  });
})();
