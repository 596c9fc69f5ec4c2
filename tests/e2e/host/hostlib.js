// Helpers for the host console's end-to-end tests: plain HTTP requests, the
// console's WebSocket (/host/ws) as an independent client, and waits on the
// console's statistics (film time, comments on screen). Every wait is bounded.
'use strict';

const http = require('http');
const WebSocket = require('ws');
const L = require('../live/lib');

// One HTTP request on loopback; resolves { status, headers, body }. `local`:
// the loopback address to send from (another one stands for another client).
function request(port, method, path, headers, body, local) {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port, method, path, headers: headers || {}, localAddress: local };
    const req = http.request(opts, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.setTimeout(10000, () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// The token the player printed on stderr.
function hostToken(player) {
  const m = /host console: (\S+)\s+token: (\S+)/.exec(player.stderr());
  return m ? { url: m[1], token: m[2] } : null;
}

// Post a form (a Content-Length, as browsers send, even 0 for an empty form:
// lws reads no chunked request bodies); resolves the response with its first
// Set-Cookie raw (setCookie) and as a Cookie header would carry it (cookie).
async function postForm(port, path, headers, body, local) {
  const r = await request(port, 'POST', path, Object.assign({ 'Content-Type': 'application/x-www-form-urlencoded',
    'Content-Length': Buffer.byteLength(body) }, headers), body, local);
  const set = (r.headers['set-cookie'] || [])[0] || '';
  return { status: r.status, headers: r.headers, body: r.body, setCookie: set, cookie: set.split(';')[0],
    location: r.headers.location };
}

// Log in through the form; resolves the session cookie ("dm_host=...") and the raw Set-Cookie.
function login(port, token, local) {
  return postForm(port, '/host/login', {}, 'token=' + encodeURIComponent(token), local);
}

// The console's "Log out" button: an empty form posted with the request's headers (the cookie).
function logout(port, headers, body) {
  return postForm(port, '/host/logout', headers || {}, body || '');
}

// A console client: like lib.connect, on /host/ws (from the loopback address `local`, if given), with the
// latest state and stats kept.
function hostConnect(port, headers, path, local) {
  return new Promise((resolve) => {
    const ws = new WebSocket('ws://127.0.0.1:' + port + (path || '/host/ws'), { headers: headers || {}, localAddress: local });
    const c = { ws, messages: [], closed: null, opened: false, error: null, waiters: [], state: null, stats: null,
      statsCount: 0, comments: new Map() };
    const notify = () => { for (const w of c.waiters.splice(0)) w(); };
    ws.on('open', () => { c.opened = true; resolve(c); });
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m));
      c.messages.push(msg);
      if (msg.type === 'state') c.state = msg;
      else if (msg.type === 'stats') { c.stats = msg; c.statsCount++; }
      else if (msg.type === 'comment') c.comments.set(msg.id, msg);
      else if (msg.type === 'status' && c.comments.has(msg.id)) Object.assign(c.comments.get(msg.id), msg);
      notify();
    });
    ws.on('close', (code, reason) => { c.closed = { code, reason: String(reason) }; notify(); resolve(c); });
    ws.on('error', (e) => { c.error = e; notify(); resolve(c); });
    ws.on('unexpected-response', (req, res) => { c.error = new Error('HTTP ' + res.statusCode); c.closed = { code: -res.statusCode }; notify(); resolve(c); });
  });
}

// Wait for a stats message (they come every second) that satisfies pred; returns it or fails.
async function waitStats(c, pred, what, seconds) {
  const before = c.statsCount;
  let found = null;
  // checked after every message, so every stats message is the latest once
  const ok = await L.until(c, (x) => {
    if (!found && x.statsCount > before && pred(x.stats)) found = x.stats;
    return !!found;
  }, seconds || 30);
  if (!ok) L.fail('console statistics never showed: ' + what + ' (last: ' + JSON.stringify(c.stats) + ')');
  return found;
}

// Send a console message and wait for the first reply of one of `types`
// (statistics and list updates may come in between).
async function ask(c, obj, types, seconds) {
  const before = c.messages.length;
  const match = (m) => types.includes(m.type);
  c.ws.send(JSON.stringify(obj));
  await L.until(c, (x) => x.messages.slice(before).some(match), seconds || 10);
  return c.messages.slice(before).find(match);
}

/*
 * Chromium for the console's browser tests (Debian's, through playwright-core), with the flags
 * that keep pages in the background running at full speed. Returns { browser, newPage, problems }:
 * newPage opens a page in a context of its own (its own cookies, a window of its own) and collects
 * its console errors (other than the 401s of a refused token) and uncaught exceptions in problems.
 */
async function launchBrowser(args, viewport) {
  const { chromium } = require('playwright-core');
  const problems = [];
  const browser = await chromium.launch({
    executablePath: args.chromium || '/usr/bin/chromium', headless: true, timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows'],
  });
  const newPage = async () => {
    const p = await (await browser.newContext({ viewport })).newPage();
    p.on('console', (m) => { if (m.type() === 'error' && !/401|Unauthorized/.test(m.text())) problems.push(m.text()); });
    p.on('pageerror', (e) => problems.push(String(e)));
    return p;
  };
  return { browser, newPage, problems };
}

module.exports = { request, hostToken, postForm, login, logout, hostConnect, waitStats, ask, launchBrowser };
