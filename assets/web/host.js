// The host console's logic: one WebSocket to /host/ws (the session cookie
// authorises it), the list of incoming comments and the moderation controls.
// No framework; the protocol is docs/protocol.md, "Host console".
'use strict';

const LIST_MAX = 500;
const $ = (id) => document.getElementById(id);
const rows = new Map();   // comment id -> table row
let socket = null;
let state = null;
let retryTimer = null;
let loggingOut = false;

function send(obj) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
}

function setConn(text, kind) {
  $('conn-status').textContent = text;
  $('conn-status').className = kind || '';
}

function filmTime(ms) {
  const s = Math.floor(ms / 1000);
  return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0') + '.' + String(Math.floor(ms % 1000 / 100));
}

function button(label, cls, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.className = cls;
  b.addEventListener('click', onClick);
  return b;
}

function fillActions(tr, c) {
  const td = tr.querySelector('td.actions');
  td.textContent = '';
  if (c.status === 'held' || c.status === 'waiting') {
    td.appendChild(button('Approve', 'approve', () => send({ type: 'approve', id: c.id })));
    td.appendChild(button('Reject', 'reject', () => send({ type: 'reject', id: c.id })));
  }
  if (c.status === 'shown') td.appendChild(button('Delete', 'delete', () => send({ type: 'delete', id: c.id })));
  td.appendChild(button('Ban', 'ban', () => send({ type: 'ban', who: c.author })));
  td.appendChild(button('Ban address', 'ban-address', () => send({ type: 'ban', who: c.address })));
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
  tr.querySelector('td.status').textContent = c.status + (c.reason ? ' (' + c.reason + ')' : '');
  tr.querySelector('td.time').textContent = filmTime(c.t_ms);
  fillActions(tr, c);
}

function addComment(c) {
  const tr = document.createElement('tr');
  tr.dataset.id = c.id;
  tr.dataset.author = c.author;
  cell(tr, 'time', '');
  cell(tr, 'author', c.author.slice(0, 6)).title = 'author ' + c.author + ', address ' + c.address;
  cell(tr, 'text', c.text).style.color = c.color === '#222222' ? '' : c.color;
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
  $('pause').textContent = s.paused ? 'Resume feed' : 'Pause feed';
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
    li.textContent = r.kind + ' "' + r.pattern + '" · ' + r.hits + ' blocked ';
    li.appendChild(button('Remove', 'remove-rule', () => send({ type: 'remove_rule', rule: r.id })));
    rules.appendChild(li);
  }
  const bans = $('bans');
  bans.textContent = '';
  for (const who of s.bans) {
    const li = document.createElement('li');
    li.dataset.who = who;
    li.textContent = who + ' ';
    li.appendChild(button('Unban', 'unban', () => send({ type: 'unban', who })));
    bans.appendChild(li);
  }
}

function showStats(m) {
  $('stat-audience').textContent = m.audience;
  $('stat-per-minute').textContent = m.per_minute;
  $('stat-on-screen').textContent = m.on_screen;
  $('stat-dropped').textContent = m.dropped;
  $('stat-held').textContent = m.held;
  $('stat-waiting').textContent = m.waiting;
  const parts = Object.entries(m.rejected).filter(([, v]) => v > 0).map(([k, v]) => k + ' ' + v);
  $('stat-rejected').textContent = parts.length ? parts.join(', ') : 'none';
}

function showPreview(m) {
  const box = $('preview');
  box.textContent = 'Would have blocked ' + m.count + ' of the recent comments';
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

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  socket = new WebSocket(scheme + location.host + '/host/ws');
  socket.addEventListener('open', () => setConn('Connected', 'ok'));
  socket.addEventListener('message', (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'comment') addComment(m);
    else if (m.type === 'status') updateStatus(m);
    else if (m.type === 'state') showState(m);
    else if (m.type === 'stats') showStats(m);
    else if (m.type === 'preview') showPreview(m);
    else if (m.type === 'error') { $('preview').textContent = m.message; $('preview').dataset.count = ''; }
  });
  socket.addEventListener('close', (ev) => {
    if (loggingOut) return;   // the session is ending on purpose: no reconnecting, no alarm
    if (ev.code === 1008) { setConn('Not logged in: reload the page to log in.', 'error'); return; }
    setConn('Disconnected: reconnecting…', 'error');
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
  setConn('Logging out…');
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
connect();
