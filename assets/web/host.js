// The host console's logic: one WebSocket to /host/ws (the session cookie
// authorises it), the list of incoming comments, the moderation controls and
// the room's plots (uPlot), in the page's language (i18n.js). No framework;
// the protocol is docs/protocol.md, "Host console".
'use strict';

const t = I18N.t;

const LIST_MAX = 1000;   // the server's list (docs/protocol.md, "Host console")
const $ = (id) => document.getElementById(id);
const rows = new Map();   // comment id -> table row
let socket = null;
let state = null;
let retryTimer = null;
let loggingOut = false;

function send(obj) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
}

// The connection line: a function of the language, said again when it changes.
let conn = null;
function setConn(render, kind) {
  conn = { render, kind };
  $('conn-status').textContent = render();
  $('conn-status').className = kind || '';
}

function filmTime(ms) {
  const s = Math.floor(ms / 1000);
  return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0') + '.' + String(Math.floor(ms % 1000 / 100));
}

function button(key, cls, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.i18n = key;
  b.textContent = t(key);
  b.className = cls;
  b.addEventListener('click', onClick);
  return b;
}

function fillActions(tr, c) {
  const td = tr.querySelector('td.actions');
  td.textContent = '';
  if (c.status === 'held' || c.status === 'waiting') {
    td.appendChild(button('host.approve', 'approve', () => send({ type: 'approve', id: c.id })));
    td.appendChild(button('host.reject', 'reject', () => send({ type: 'reject', id: c.id })));
  }
  if (c.status === 'shown') td.appendChild(button('host.delete', 'delete', () => send({ type: 'delete', id: c.id })));
  td.appendChild(button('host.ban', 'ban', () => send({ type: 'ban', who: c.author })));
  td.appendChild(button('host.ban_address', 'ban-address', () => send({ type: 'ban', who: c.address })));
}

function cell(tr, cls, text) {
  const td = document.createElement('td');
  td.className = cls;
  td.textContent = text;   // never innerHTML: comments are untrusted
  tr.appendChild(td);
  return td;
}

function showStatus(tr, c) {
  tr.className = 'status-' + c.status;
  tr.dataset.status = c.status;
  tr.querySelector('td.status').textContent = t('host.st.' + c.status) + (c.reason ? ' (' + t('reason.' + c.reason) + ')' : '');
  tr.querySelector('td.time').textContent = filmTime(c.t_ms);
  fillActions(tr, c);
}

function addComment(c) {
  const tr = document.createElement('tr');
  tr.dataset.id = c.id;
  tr.dataset.author = c.author;
  cell(tr, 'time', '');
  cell(tr, 'author', c.author.slice(0, 6)).title = t('host.author_title', { author: c.author, address: c.address });
  // its colour as a mark beside it: the text itself keeps the page's contrast
  cell(tr, 'text', c.text).style.setProperty('--c', c.color);
  cell(tr, 'status', '');
  cell(tr, 'actions', '');
  tr.comment = c;
  showStatus(tr, c);
  const body = $('comments');
  body.insertBefore(tr, body.firstChild);
  rows.set(c.id, tr);
  while (body.children.length > LIST_MAX) {
    rows.delete(body.lastChild.dataset.id);
    body.removeChild(body.lastChild);
  }
}

function updateStatus(m) {
  const tr = rows.get(m.id);
  if (!tr) return;
  Object.assign(tr.comment, { status: m.status, t_ms: m.t_ms, reason: m.reason });
  showStatus(tr, tr.comment);
}

function showState(s) {
  state = s;
  $('approval').checked = s.approval;
  $('pause').textContent = t(s.paused ? 'host.resume' : 'host.pause');
  $('pause').dataset.paused = String(s.paused);
  if (document.activeElement !== $('slow')) $('slow').value = s.slow_mode_s;
  if (document.activeElement !== $('rate')) $('rate').value = s.rate_per_min;
  $('stat-held').textContent = s.held;
  $('stat-waiting').textContent = s.waiting;
  const rules = $('rules');
  rules.textContent = '';
  for (const r of s.rules) {
    const li = document.createElement('li');
    li.dataset.rule = r.id;
    li.textContent = t('host.rule.line', { kind: t('host.rule.' + r.kind), pattern: r.pattern, hits: r.hits }) + ' ' +
      (r.limit_hits ? '· ' + t('host.rule.too_slow', { n: r.limit_hits }) + ' ' : '');
    li.appendChild(button('host.rule.remove', 'remove-rule', () => send({ type: 'remove_rule', rule: r.id })));
    rules.appendChild(li);
  }
  const bans = $('bans');
  bans.textContent = '';
  for (const who of s.bans) {
    const li = document.createElement('li');
    li.dataset.who = who;
    li.textContent = who + ' ';
    li.appendChild(button('host.unban', 'unban', () => send({ type: 'unban', who })));
    bans.appendChild(li);
  }
}

let lastStats = null;
function showStats(m) {
  lastStats = m;
  $('stat-audience').textContent = m.audience;
  $('stat-per-minute').textContent = m.per_minute;
  $('stat-on-screen').textContent = m.on_screen;
  $('stat-dropped').textContent = m.dropped;
  $('stat-held').textContent = m.held;
  $('stat-waiting').textContent = m.waiting;
  const parts = Object.entries(m.rejected).filter(([, v]) => v > 0).map(([k, v]) => t('reason.' + k) + ' ' + v);
  $('stat-rejected').textContent = parts.length ? parts.join(', ') : t('host.stat.none');
  // the recording: a red banner while it cannot be written (comments are refused meanwhile)
  const banner = $('recording-banner');
  if (m.recording && !m.recording.ok) {
    banner.textContent = t('host.recording_stopped', { error: String(m.recording.error).toUpperCase(), n: m.recording.refused });
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

function showPreview(m) {
  const box = $('preview');
  box.textContent = t('host.rule.would_block', { n: m.count });
  box.dataset.count = String(m.count);
  if (m.matches.length) {
    const ul = document.createElement('ul');
    for (const t of m.matches) {
      const li = document.createElement('li');
      li.textContent = t;
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }
}

// A night of films: the programme with the entry playing, the film's controls (docs/protocol.md, "Film controls").
let programme = null;
function showProgramme(m) {
  programme = m;
  const inBreak = m.state === 'intermission';
  const entry = m.entries[m.now] || { title: '' };
  $('film').hidden = false;
  $('film-now').textContent = inBreak
    ? t('host.film.intermission', { title: entry.title, s: Math.ceil(m.intermission_left_s) })
    : t('host.film.playing', { n: m.now + 1, count: m.entries.length, title: entry.title,
      time: filmTime(m.film_s * 1000) + (m.duration_s ? ' / ' + filmTime(m.duration_s * 1000) : '') }) +
      (m.paused ? ' · ' + t('host.film.paused') : '');
  $('film-play').textContent = t(m.paused ? 'host.film.play' : 'host.film.pause');
  $('film-play').dataset.paused = String(m.paused);
  $('break-controls').hidden = !inBreak;
  const seek = $('film-seek');
  seek.max = String(m.duration_s || 1);
  if (document.activeElement !== seek) seek.value = String(m.film_s);
  if (document.activeElement !== $('film-volume')) $('film-volume').value = String(m.volume);
  const list = $('programme-list');
  list.textContent = '';
  m.entries.forEach((e, i) => {
    const li = document.createElement('li');
    li.dataset.entry = String(i);
    li.className = i === m.now ? 'now' : '';
    li.textContent = e.title + (e.aigc ? ' ' + t('host.film.aigc') + ' ' : ' ');   // never innerHTML
    if (i !== m.now || inBreak) li.appendChild(button('host.film.play_this', 'jump', () => send({ type: 'film_jump', entry: i })));
    list.appendChild(li);
  });
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  socket = new WebSocket(scheme + location.host + '/host/ws');
  socket.addEventListener('open', () => setConn(() => t('host.connected'), 'ok'));
  socket.addEventListener('message', (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'comment') addComment(m);
    else if (m.type === 'status') updateStatus(m);
    else if (m.type === 'state') showState(m);
    else if (m.type === 'stats') { showStats(m); Room.stats(m); }
    else if (m.type === 'preview') showPreview(m);
    else if (m.type === 'programme') { showProgramme(m); Room.programme(m); }
    else if (m.type === 'rule_limit') {
      $('notice').textContent = t('host.rule_limit', { rule: m.rule, pattern: m.pattern });
      $('notice').hidden = false;
    } else if (m.type === 'error') {
      // the sentence of the code in the console's language; a bad rule's own reason (the regex's error) after it
      const says = I18N.error(m);
      $('preview').textContent = m.code === 'bad_rule' && m.message && m.message !== I18N.t('error.bad_rule') ? says + ' ' + m.message : says;
      $('preview').dataset.count = '';
    }
  });
  socket.addEventListener('close', (ev) => {
    if (loggingOut) return;   // the session is ending on purpose: no reconnecting, no alarm
    if (ev.code === 1008) { setConn(() => t('host.not_logged_in'), 'error'); return; }
    setConn(() => t('status.disconnected'), 'error');
    rows.clear();
    $('comments').textContent = '';
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, 2000);
  });
}

// An ordinary form post (it works without this script too): the server ends
// the session, expires the cookie and redirects to the login page.
$('logout-form').addEventListener('submit', () => {
  loggingOut = true;
  clearTimeout(retryTimer);
  setConn(() => t('host.logging_out'));
});
$('approval').addEventListener('change', () => send({ type: 'approval', on: $('approval').checked }));
$('pause').addEventListener('click', () => send({ type: state && state.paused ? 'resume' : 'pause' }));
$('clear').addEventListener('click', () => send({ type: 'clear' }));
$('slow-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  send({ type: 'slow_mode', seconds: Number($('slow').value) || 0 });
});
$('rate-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  send({ type: 'rate_cap', per_minute: Number($('rate').value) || 0 });
});
$('rule-preview').addEventListener('click', () => {
  const pattern = $('rule-pattern').value;
  if (pattern) send({ type: 'preview', kind: $('rule-kind').value, pattern });
});
$('rule-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const pattern = $('rule-pattern').value;
  if (!pattern) return;
  send({ type: 'add_rule', kind: $('rule-kind').value, pattern });
  $('rule-pattern').value = '';
  $('preview').textContent = '';
});
$('film-play').addEventListener('click', () => send({ type: programme && programme.paused ? 'film_play' : 'film_pause' }));
$('film-back').addEventListener('click', () => send({ type: 'film_seek_by', seconds: -10 }));
$('film-fwd').addEventListener('click', () => send({ type: 'film_seek_by', seconds: 10 }));
$('film-prev').addEventListener('click', () => send({ type: 'film_prev' }));
$('film-next').addEventListener('click', () => send({ type: 'film_next' }));
$('film-seek').addEventListener('change', () => send({ type: 'film_seek', seconds: Number($('film-seek').value) }));
$('film-volume').addEventListener('change', () => send({ type: 'film_volume', volume: Number($('film-volume').value) }));
$('break-now').addEventListener('click', () => send({ type: 'break_now' }));
$('break-add').addEventListener('click', () => send({ type: 'break_add', seconds: 300 }));

// ---------------------------------------------------------------- the room's plots
// From the statistics the console gets every second ("stats": cumulative
// counts, the film time): what came in since the last one goes to the 10 s
// bucket of the film time it came at. Three plots (uPlot): the last five
// minutes of film time with the rejections stacked on the comments shown, by
// reason; the connected audience over the last hour; the whole film so far.
const Room = (() => {
  const BUCKET_S = 10;
  const WINDOW_S = 300;
  const AUDIENCE_KEEP = 3600;
  const REASONS = ['blocked', 'banned', 'slow_mode', 'busy', 'rejected', 'not_recorded', 'intermission', 'other'];
  // the layers bottom up: the comments shown, then each reason for refusing one
  const LAYERS = ['shown'].concat(REASONS);
  const COLOURS = {
    shown: '#4aa3ff', blocked: '#ff5252', banned: '#b388ff', slow_mode: '#ffd740', busy: '#ff9100',
    rejected: '#bdbdbd', not_recorded: '#f06292', intermission: '#26c6da', other: '#8d6e63',
  };
  const buckets = new Map();   // bucket number -> { shown, blocked, ... }
  const audience = [[], []];   // wall seconds, connections
  let last = null;
  let duration = 0;
  let rate = null;
  let crowd = null;
  let density = null;
  let pending = false;

  function bucket(n) {
    let b = buckets.get(n);
    if (!b) {
      b = {};
      for (const l of LAYERS) b[l] = 0;
      buckets.set(n, b);
    }
    return b;
  }

  function stats(m) {
    if (last && m.accepted >= last.accepted) {
      const b = bucket(Math.floor(m.film_ms / 1000 / BUCKET_S));
      b.shown += m.accepted - last.accepted;
      for (const r of REASONS) b[r] += Math.max(0, (m.rejected[r] || 0) - (last.rejected[r] || 0));
    }
    last = m;
    audience[0].push(Date.now() / 1000);
    audience[1].push(m.audience);
    if (audience[0].length > AUDIENCE_KEEP) { audience[0].shift(); audience[1].shift(); }
    draw();
  }

  function programme(m) {
    if (m.duration_s > 0) duration = m.duration_s;
  }

  // The rate plot's data: x the buckets' film seconds, then one series per
  // layer, stacked (each the sum of those under it), the top one first so
  // that each is drawn over the one above it.
  function rateData() {
    const now = last ? Math.floor(last.film_ms / 1000 / BUCKET_S) : 0;
    const first = Math.max(0, now - WINDOW_S / BUCKET_S + 1);
    const xs = [];
    const stacked = LAYERS.map(() => []);
    for (let n = first; n <= now; n++) {
      const b = buckets.get(n);
      xs.push(n * BUCKET_S);
      let sum = 0;
      LAYERS.forEach((l, i) => { sum += b ? b[l] : 0; stacked[i].push(sum); });
    }
    return [xs].concat(stacked.reverse());
  }

  function densityData() {
    let top = Math.ceil(duration / BUCKET_S);
    for (const n of buckets.keys()) top = Math.max(top, n + 1);
    const xs = [];
    const all = [];
    for (let n = 0; n < top; n++) {
      const b = buckets.get(n);
      xs.push(n * BUCKET_S);
      all.push(b ? LAYERS.reduce((s, l) => s + b[l], 0) : 0);
    }
    return [xs, all];
  }

  const filmAxis = (u, ticks) => ticks.map((v) => Math.floor(v / 60) + ':' + String(Math.floor(v % 60)).padStart(2, '0'));
  const axisStyle = { stroke: '#cfcfcf', grid: { stroke: '#2a2a2a' }, ticks: { stroke: '#2a2a2a' } };

  // room on the right for the last tick's label (a clock time is wide)
  const PADDING = [12, 32, 0, 0];

  function width(el) {
    return Math.max(240, el.clientWidth || 600);
  }

  function make() {
    const rateEl = $('plot-rate');
    const layers = LAYERS.slice().reverse();
    // a bar from its bucket's start to its end: the last bucket's end is the axis's
    const buckets = { time: false, range: (u, min, max) => [min, Math.max(min, max) + BUCKET_S] };
    rate = new uPlot({
      width: width(rateEl), height: 200, padding: PADDING,
      scales: { x: buckets },
      axes: [Object.assign({ values: filmAxis, label: t('host.plot.film_time') }, axisStyle),
        Object.assign({ label: t('host.plot.comments') }, axisStyle)],
      series: [{ label: t('host.plot.film_time'), value: (u, v) => (v == null ? '' : filmAxis(u, [v])[0]) }].concat(layers.map((l, i) => ({
        label: t('reason.' + l),
        layer: l,
        stroke: COLOURS[l],
        fill: COLOURS[l],
        width: 0,
        paths: uPlot.paths.bars({ size: [0.9, 40], align: 1 }),
        points: { show: false },
        // the legend says each layer's own count, not the stack's height
        value: (u, v, si, di) => (di == null ? '' : String(v - (i + 1 < layers.length ? u.data[si + 1][di] : 0))),
      }))),
    }, rateData(), rateEl);
    const crowdEl = $('plot-audience');
    const clock = (u, ticks) => ticks.map((v) => new Date(v * 1000).toLocaleTimeString(I18N.lang, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }));
    crowd = new uPlot({
      width: width(crowdEl), height: 160, padding: PADDING,
      // at least the last minute, so the axis says minutes from the start
      scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] }, y: { range: (u, min, max) => [0, Math.max(5, max)] } },
      axes: [Object.assign({ values: clock, space: 90 }, axisStyle), Object.assign({ label: t('host.plot.connected') }, axisStyle)],
      series: [{ label: t('host.plot.time'), value: (u, v) => (v == null ? '' : new Date(v * 1000).toLocaleTimeString(I18N.lang)) }, { label: t('host.plot.connected'), stroke: '#7ddc7d', fill: 'rgba(125,220,125,.2)', width: 2 }],
    }, audience, crowdEl);
    const densityEl = $('plot-density');
    density = new uPlot({
      width: width(densityEl), height: 160, padding: PADDING,
      scales: { x: buckets },
      axes: [Object.assign({ values: filmAxis, label: t('host.plot.film_time') }, axisStyle),
        Object.assign({ label: t('host.plot.comments') }, axisStyle)],
      series: [{ label: t('host.plot.film_time'), value: (u, v) => (v == null ? '' : filmAxis(u, [v])[0]) },
        { label: t('host.plot.comments'), stroke: '#4aa3ff', fill: 'rgba(74,163,255,.6)', width: 0,
          paths: uPlot.paths.bars({ size: [1, 40], align: 1 }), points: { show: false } }],
    }, densityData(), densityEl);
    // for whoever inspects the page (the browser tests): the plots and what they show
    rateEl.uplot = rate;
    crowdEl.uplot = crowd;
    densityEl.uplot = density;
  }

  // at most once a frame, however many statistics came
  function draw() {
    if (!rate || pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      rate.setData(rateData());
      crowd.setData(audience);
      density.setData(densityData());
    });
  }

  function start() {
    if (typeof uPlot === 'undefined') return;   // no charting library: the figures above still say it
    make();
    window.addEventListener('resize', () => {
      for (const [u, id] of [[rate, 'plot-rate'], [crowd, 'plot-audience'], [density, 'plot-density']]) {
        u.setSize({ width: width($(id)), height: u.height });
      }
    });
  }

  // new labels: the plots made again in the page's language
  function relabel() {
    if (!rate) return;
    for (const u of [rate, crowd, density]) u.destroy();
    make();
  }

  return { start, stats, programme, relabel, COLOURS, LAYERS };
})();

// Everything the script wrote, again in the page's language.
function relabel() {
  if (conn) setConn(conn.render, conn.kind);
  if (!state) $('pause').textContent = t('host.pause');
  if (!programme) $('film-play').textContent = t('host.film.pause');
  if (state) showState(state);
  if (lastStats) showStats(lastStats);
  if (programme) showProgramme(programme);
  for (const tr of rows.values()) showStatus(tr, tr.comment);
  Room.relabel();
}
I18N.onChange(relabel);
I18N.ready.then(() => {
  setConn(() => t('status.connecting'));
  Room.start();
  connect();
});
