// The audience page's logic: connect to /ws, send comments, show what the
// server says, in the page's language (i18n.js). No framework; the protocol
// is docs/protocol.md.
'use strict';

const PALETTE = ['#FFFFFF', '#FE0302', '#FF7204', '#FFAA02', '#FFD302', '#FFFF00', '#A0EE00',
  '#00CD00', '#019899', '#4266BE', '#89D5FF', '#CC0273', '#222222', '#9B9B9E'];
const FEED_MAX = 50;

const form = document.getElementById('send-form');
const input = document.getElementById('text');
const button = document.getElementById('send');
const statusLine = document.getElementById('status');
const leftLine = document.getElementById('left');
const feed = document.getElementById('feed');
const palette = document.getElementById('palette');
const t = I18N.t;

let color = PALETTE[0];
let socket = null;
let retryTimer = null;
let waitUntil = 0;      // the rate limit holds until then (the server's retry_ms)
let waitTimer = null;
let status = null;      // what the status line says, to say again in another language
let programme = null;   // the night's last programme message
// Reconnecting: this gateway first, then the screening's other gateways (screening.json's
// "gateways", docs/scale.md), one after the other, waiting longer after each failure.
let gatewayAt = 0;      // which address the next attempt uses (0: the page's own)
let failures = 0;       // attempts in a row that did not open
const RETRY_FIRST_MS = 1000, RETRY_MAX_MS = 30000;

// The status line: a function of the language, said now and again when the language changes.
function say(render, kind) {
  status = { render, kind };
  statusLine.textContent = render();
  statusLine.className = kind || '';
}

function buildPalette() {
  for (const c of PALETTE) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'swatch';
    b.style.background = c;
    b.title = c;
    b.dataset.colour = c;
    b.setAttribute('aria-pressed', String(c === color));
    b.addEventListener('click', () => {
      color = c;
      for (const other of palette.children) other.setAttribute('aria-pressed', String(other === b));
    });
    palette.appendChild(b);
  }
}

// The palette's names, the programme and the counts in the page's language.
function relabel() {
  for (const b of palette.children) b.setAttribute('aria-label', t('colour.' + b.dataset.colour.slice(1)));
  showScreening();
  if (programme) showProgramme(programme);
  showLeft();
  showButton();
  if (status) say(status.render, status.kind);
}

function choice(name) {
  const checked = document.querySelector('input[name=' + name + ']:checked');
  return checked ? checked.value : undefined;
}

// What is left before the server's caps (docs/protocol.md, "Limits in one
// place"): grapheme clusters and code points of the text as it will be sent.
const segmenter = typeof Intl !== 'undefined' && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
function textLeft(text) {
  const caps = I18N.screening.caps;
  const graphemes = segmenter ? [...segmenter.segment(text)].length : [...text].length;
  return Math.min(caps.graphemes - graphemes, caps.code_points - [...text].length);
}

function showLeft() {
  const left = textLeft(input.value.trim());
  leftLine.textContent = left >= 0 ? t('audience.left', { n: left }) : t('audience.over', { n: -left });
  leftLine.className = left < 0 ? 'left over' : left <= 10 ? 'left low' : 'left';
}

// The button: "Send", or a countdown while the rate limit holds.
function showButton() {
  const wait = Math.ceil((waitUntil - Date.now()) / 1000);
  const connected = socket && socket.readyState === WebSocket.OPEN;
  if (wait > 0) {
    button.textContent = t('audience.send_wait', { s: wait });
    button.disabled = true;
    return;
  }
  clearInterval(waitTimer);
  waitTimer = null;
  button.textContent = t('audience.send');
  button.disabled = !connected;
}

function waitFor(ms) {
  waitUntil = Math.max(waitUntil, Date.now() + ms);
  if (!waitTimer) waitTimer = setInterval(showButton, 250);
  showButton();
}

function addToFeed(text, c, id) {
  const li = document.createElement('li');
  li.textContent = text;   // never innerHTML: comments are untrusted
  // its colour as a mark beside it: the text itself keeps the page's contrast
  if (c) li.style.setProperty('--c', c);
  if (id) li.dataset.id = id;
  feed.insertBefore(li, feed.firstChild);
  while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
}

// The screening's title and, with one film, the film (a night's come in "programme").
function showScreening() {
  const s = I18N.screening;
  const title = document.getElementById('screening-title');
  title.textContent = s.title || '';
  title.hidden = !s.title;
  if (!programme && s.film) {
    document.getElementById('programme').hidden = false;
    document.getElementById('now-label').textContent = t('audience.now_playing');
    document.getElementById('now-playing').textContent = s.film;
    document.getElementById('next-line').hidden = true;
  }
}

// A night of films: what is playing now and what comes next (docs/protocol.md, "programme").
let breakTimer = null;
function showProgramme(m) {
  programme = m;
  const box = document.getElementById('programme');
  const title = (i) => (m.entries[i] ? m.entries[i].title : '');
  const inBreak = m.state === 'intermission';
  box.hidden = m.now < 0;
  box.className = inBreak ? 'intermission' : '';
  document.getElementById('night').textContent = m.night && m.night !== I18N.screening.title ? m.night : '';
  document.getElementById('now-playing').textContent = title(m.now);
  document.getElementById('now-aigc').hidden = !(m.entries[m.now] && m.entries[m.now].aigc);
  document.getElementById('next-line').hidden = m.next < 0;
  document.getElementById('next-up').textContent = title(m.next);
  clearInterval(breakTimer);
  const label = document.getElementById('now-label');
  if (inBreak) {
    // counted down here: the server sends the programme when it changes, not every second
    if (!m.ends) m.ends = Date.now() + m.intermission_left_s * 1000;
    const tick = () => {
      label.textContent = t('audience.intermission_in', { s: Math.max(0, Math.ceil((m.ends - Date.now()) / 1000)) });
    };
    tick();
    breakTimer = setInterval(tick, 1000);
  } else {
    label.textContent = t(m.paused ? 'audience.now_paused' : 'audience.now_playing');
  }
}

// The film an intermission waits for and about when, for its refusal's sentence.
function intermissionInfo() {
  const m = programme;
  if (!m || m.state !== 'intermission' || !m.entries[m.now]) return null;
  return { film: m.entries[m.now].title, s: m.ends ? Math.max(0, Math.ceil((m.ends - Date.now()) / 1000)) : 0 };
}

function gateways() {
  const own = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  const more = (I18N.screening && Array.isArray(I18N.screening.gateways)) ? I18N.screening.gateways : [];
  return [own, ...more.filter((g) => typeof g === 'string' && g !== own)];
}

// Full jitter: a thousand phones whose gateway died do not all come back in the same millisecond.
function retryDelay() {
  const cap = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failures, 10));
  return RETRY_FIRST_MS / 2 + Math.random() * cap;
}

// This tab's own id, the same after a reconnect and at every gateway (slow mode follows the viewer).
function viewerId() {
  let id = null;
  try { id = sessionStorage.getItem('danmaku.viewer'); } catch (e) { /* storage off: a new id per page */ }
  if (!/^[0-9a-f]{16}$/.test(id || '')) {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    id = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    try { sessionStorage.setItem('danmaku.viewer', id); } catch (e) { /* kept for this page only */ }
  }
  return id;
}

function connect() {
  const list = gateways();
  let opened = false;
  const url = list[gatewayAt % list.length];
  socket = new WebSocket(url + (url.includes('?') ? '&' : '?') + 'viewer=' + viewerId());
  socket.addEventListener('open', () => {
    opened = true;
    failures = 0;
    say(() => t('status.connected'), 'ok');
    showButton();
    socket.send(JSON.stringify({ type: 'subscribe' }));
  });
  socket.addEventListener('message', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === 'ack') {
      say(() => t('status.sent'), 'ok');
      input.value = '';
      showLeft();
    } else if (msg.type === 'error') {
      if (msg.code === 'rate_limited' && msg.retry_ms) waitFor(msg.retry_ms);
      const info = intermissionInfo();
      say(() => I18N.error(msg, info), 'error');
    } else if (msg.type === 'held') {
      say(() => t(msg.reason === 'paused' ? 'status.held_paused' : 'status.held_approval'), 'ok');
      input.value = '';
      showLeft();
    } else if (msg.type === 'comment') {
      addToFeed(msg.text, msg.color, msg.id);
    } else if (msg.type === 'delete') {
      // the host took it off the screen
      for (const li of feed.querySelectorAll('li')) if (li.dataset.id === msg.id) li.remove();
    } else if (msg.type === 'clear') {
      feed.textContent = '';
    } else if (msg.type === 'programme') {
      showProgramme(msg);
    }
  });
  socket.addEventListener('close', (ev) => {
    showButton();
    // the server's reason for a refused connection is one of its codes' (docs/protocol.md)
    const code = ev.code === 1008 && ev.reason === 'too many connections' ? 'too_many_connections' : null;
    say(() => (code ? I18N.error({ code }) : t('status.disconnected')), 'error');
    // a refusal for too many connections, a gateway gone or never reached: the next one
    if (!opened || code) failures++;
    gatewayAt = (gatewayAt + 1) % gateways().length;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, opened && !code ? RETRY_FIRST_MS / 2 + Math.random() * RETRY_FIRST_MS : retryDelay());
  });
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text) { say(() => t('status.empty'), 'error'); return; }
  if (textLeft(text) < 0) { say(() => t('error.too_long'), 'error'); return; }
  if (Date.now() < waitUntil) {
    const s = Math.ceil((waitUntil - Date.now()) / 1000);
    say(() => t('error.rate_limited.wait', { s }), 'error');
    return;
  }
  if (!socket || socket.readyState !== WebSocket.OPEN) { say(() => t('status.not_connected'), 'error'); return; }
  socket.send(JSON.stringify({ type: 'comment', text, color, mode: choice('mode'), size: choice('size') }));
  say(() => t('status.sending'));
});
input.addEventListener('input', showLeft);

button.disabled = true;
buildPalette();
I18N.onChange(relabel);
I18N.ready.then(() => {
  say(() => t('status.connecting'));
  relabel();
  connect();
});
