// The audience page's logic: connect to /ws, send comments, show what the
// server says. No framework; the protocol is docs/protocol.md.
'use strict';

const PALETTE = ['#FFFFFF', '#FE0302', '#FF7204', '#FFAA02', '#FFD302', '#FFFF00', '#A0EE00',
  '#00CD00', '#019899', '#4266BE', '#89D5FF', '#CC0273', '#222222', '#9B9B9E'];
const FEED_MAX = 50;

const form = document.getElementById('send-form');
const input = document.getElementById('text');
const button = document.getElementById('send');
const statusLine = document.getElementById('status');
const feed = document.getElementById('feed');
const palette = document.getElementById('palette');

let color = PALETTE[0];
let socket = null;
let retryTimer = null;
let waitUntil = 0;

function setStatus(text, kind) {
  statusLine.textContent = text;
  statusLine.className = kind || '';
}

function buildPalette() {
  for (const c of PALETTE) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'swatch';
    b.style.background = c;
    b.title = c;
    b.setAttribute('aria-label', 'colour ' + c);
    b.setAttribute('aria-pressed', String(c === color));
    b.addEventListener('click', () => {
      color = c;
      for (const other of palette.children) other.setAttribute('aria-pressed', String(other === b));
    });
    palette.appendChild(b);
  }
}

function choice(name) {
  const checked = document.querySelector('input[name=' + name + ']:checked');
  return checked ? checked.value : undefined;
}

function addToFeed(text, c, id) {
  const li = document.createElement('li');
  li.textContent = text;   // never innerHTML: comments are untrusted
  if (c) li.style.color = c;
  if (id) li.dataset.id = id;
  feed.insertBefore(li, feed.firstChild);
  while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  socket = new WebSocket(scheme + location.host + '/ws');
  socket.addEventListener('open', () => {
    setStatus('Connected: write a comment.', 'ok');
    button.disabled = false;
    socket.send(JSON.stringify({ type: 'subscribe' }));
  });
  socket.addEventListener('message', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === 'ack') {
      setStatus('Sent!', 'ok');
      input.value = '';
    } else if (msg.type === 'error') {
      if (msg.code === 'rate_limited' && msg.retry_ms) waitUntil = Date.now() + msg.retry_ms;
      setStatus(msg.message || ('Refused: ' + msg.code), 'error');
    } else if (msg.type === 'held') {
      setStatus(msg.reason === 'paused' ? 'The feed is paused: your comment will show when it resumes.'
        : 'Waiting for the host\'s approval.', 'ok');
      input.value = '';
    } else if (msg.type === 'comment') {
      addToFeed(msg.text, msg.color, msg.id);
    } else if (msg.type === 'delete') {
      // the host took it off the screen
      for (const li of feed.querySelectorAll('li')) if (li.dataset.id === msg.id) li.remove();
    } else if (msg.type === 'clear') {
      feed.textContent = '';
    }
  });
  socket.addEventListener('close', (ev) => {
    button.disabled = true;
    setStatus(ev.code === 1008 && ev.reason ? 'Disconnected: ' + ev.reason + '.' : 'Disconnected: reconnecting…',
      'error');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, 3000);
  });
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text) { setStatus('Write something first.', 'error'); return; }
  if ([...text].length > 100) { setStatus('Too long: keep it under 100 characters.', 'error'); return; }
  if (Date.now() < waitUntil) {
    setStatus('Too fast: wait ' + Math.ceil((waitUntil - Date.now()) / 1000) + ' s.', 'error');
    return;
  }
  if (!socket || socket.readyState !== WebSocket.OPEN) { setStatus('Not connected yet.', 'error'); return; }
  socket.send(JSON.stringify({ type: 'comment', text, color, mode: choice('mode'), size: choice('size') }));
  setStatus('Sending…');
});

button.disabled = true;
buildPalette();
connect();
