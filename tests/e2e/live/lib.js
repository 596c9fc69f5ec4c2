// Helpers for the live feed's end-to-end tests: start the player with a live
// feed on a free loopback port, talk to it with the `ws` client, read PNG
// screenshots and layout dumps. Every wait is bounded.
'use strict';

const { spawn, spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const WebSocket = require('ws');

function parseArgs(argv) {
  const a = {};
  for (let i = 2; i < argv.length; i += 2) a[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['player', 'convert', 'film', 'workdir']) {
    if (!a[k]) throw new Error('missing --' + k);
  }
  fs.mkdirSync(a.workdir, { recursive: true });
  return a;
}

// Players started by this script: a failure says whether one died (and
// shows its stderr, an ASan report included), and stops the others.
const players = [];
// However the script ends (process.exit from a library that cannot start, an
// uncaught error), no player it started outlives it.
process.on('exit', () => {
  for (const p of players) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
});

function fail(msg) {
  console.error('FAIL: ' + msg);
  for (const p of players) {
    const running = p.proc.exitCode === null && p.proc.signalCode === null;
    console.error('# player ' + p.proc.pid + (running ? ' still running' : ' had exited (code ' + p.proc.exitCode +
      ', signal ' + p.proc.signalCode + ')') + '; its stderr:\n' + p.stderr().slice(-8000));
    if (running) p.proc.kill('SIGKILL');
  }
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) fail(msg);
  console.log('ok - ' + msg);
}

// Start `danmaku FILM --headless --listen 127.0.0.1:0 ...extra`; resolves with
// { proc, port, stderr(), exited } once the port is printed.
// `wrap` (optional): a command line to run the player under, e.g. ['prlimit', '--nofile=128:128'].
// `seconds` (optional, default 20): how long it may take to start.
function startPlayer(args, extra, wrap, seconds) {
  return new Promise((resolve, reject) => {
    const argv = [args.film, '--headless', '--listen', '127.0.0.1:0', ...extra];
    const proc = wrap ? spawn(wrap[0], [...wrap.slice(1), args.player, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(args.player, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let done = false;
    const exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => { if (!done) { done = true; proc.kill('SIGKILL'); reject(new Error('player did not start: ' + err)); } }, (seconds || 20) * 1000);
    proc.stdout.on('data', () => {});
    proc.stderr.on('data', (d) => {
      err += d.toString();
      const m = /live on port (\d+)/.exec(err);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        const player = { proc, port: Number(m[1]), stderr: () => err, exited };
        players.push(player);
        resolve(player);
      }
    });
    proc.on('exit', (code) => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error('player exited with ' + code + ': ' + err)); }
    });
  });
}

// Wait for the player to finish on its own (bounded).
async function waitExit(player, seconds) {
  let timer;
  const timeout = new Promise((res) => { timer = setTimeout(() => res(null), seconds * 1000); });
  const r = await Promise.race([player.exited, timeout]);
  clearTimeout(timer);
  if (!r) { player.proc.kill('SIGKILL'); fail('player did not finish within ' + seconds + ' s'); }
  if (r.code !== 0) console.error('# player stderr:\n' + player.stderr().slice(-3000));
  return r;
}

// A ws client with a queue of received messages and helpers.
// `query`: the URL's query ("viewer=0123456789abcdef": the audience page's own id).
function connect(port, opts, query) {
  return new Promise((resolve) => {
    const ws = new WebSocket('ws://127.0.0.1:' + port + '/ws' + (query ? '?' + query : ''), opts || {});
    const c = { ws, messages: [], closed: null, opened: false, error: null, waiters: [] };
    const notify = () => { for (const w of c.waiters.splice(0)) w(); };
    ws.on('open', () => { c.opened = true; resolve(c); });
    ws.on('message', (m) => { c.messages.push(JSON.parse(String(m))); notify(); });
    ws.on('close', (code, reason) => { c.closed = { code, reason: String(reason) }; notify(); resolve(c); });
    ws.on('error', (e) => { c.error = e; notify(); resolve(c); });
    ws.on('unexpected-response', (req, res) => { c.error = new Error('HTTP ' + res.statusCode); c.closed = { code: -res.statusCode }; notify(); resolve(c); });
  });
}

// Wait until pred(c) holds or `seconds` pass; returns whether it held. pred runs
// after every message and every 50 ms, one check at a time (a waiter registers
// once: a client receiving thousands of messages a second does not multiply them).
function until(c, pred, seconds) {
  return new Promise((resolve) => {
    const deadline = Date.now() + seconds * 1000;
    let timer = null, done = false;
    const finish = (v) => { done = true; clearTimeout(timer); resolve(v); };
    const step = () => {
      if (done) return;
      if (pred(c)) return finish(true);
      if (Date.now() > deadline || c.closed) return finish(pred(c));
      if (!c.waiters.includes(step)) c.waiters.push(step);
      clearTimeout(timer);
      timer = setTimeout(step, 50);
    };
    step();
  });
}

// Send one message and wait for the next reply.
async function request(c, obj, seconds) {
  const before = c.messages.length;
  c.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  await until(c, (x) => x.messages.length > before, seconds || 10);
  return c.messages[before];
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Minimal PNG reader for the player's screenshots (8-bit RGBA, no interlace).
function readPng(file) {
  const d = fs.readFileSync(file);
  let pos = 8, w = 0, h = 0;
  const idat = [];
  while (pos < d.length) {
    const len = d.readUInt32BE(pos);
    const type = d.toString('ascii', pos + 4, pos + 8);
    const body = d.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      w = body.readUInt32BE(0); h = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0) throw new Error('unexpected PNG format');
    } else if (type === 'IDAT') idat.push(body);
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * 4, px = Buffer.alloc(stride * h);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? px[y * stride + x - 4] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? px[(y - 1) * stride + x - 4] : 0;
      let v = src[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      px[y * stride + x] = v & 255;
    }
  }
  return { w, h, px };
}

// Pixels of a colour (within tol per channel) inside and outside a box.
function countColour(img, rgb, box, tol) {
  let inside = 0, outside = 0;
  for (let y = 0; y < img.h; y++) {
    for (let x = 0; x < img.w; x++) {
      const i = (y * img.w + x) * 4;
      if (Math.abs(img.px[i] - rgb[0]) <= tol && Math.abs(img.px[i + 1] - rgb[1]) <= tol && Math.abs(img.px[i + 2] - rgb[2]) <= tol) {
        if (x >= box.x && x < box.x + box.w && y >= box.y && y < box.y + box.h) inside++; else outside++;
      }
    }
  }
  return { inside, outside };
}

function readJsonl(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// danmaku-convert REC --layout with the player's stage settings (and `more` options); returns its lines.
function convertLayout(args, rec, stage, fontPx, out, more) {
  execFileSync(args.convert, [rec, '--layout', '-o', out, '--stage', stage, '--font-px', String(fontPx), ...(more || [])]);
  return readJsonl(out);
}

// Where a placed comment's box is at film time t (LAYOUT-DUMP.md kinematics).
function boxAt(p, t) {
  const f = p.end_ms > p.start_ms ? (t - p.start_ms) / (p.end_ms - p.start_ms) : 0;
  return { x: Math.round(p.x_start + (p.x_end - p.x_start) * f), y: p.y, w: p.w, h: p.h };
}

module.exports = { parseArgs, fail, check, startPlayer, waitExit, connect, until, request, sleep, readPng,
  countColour, readJsonl, convertLayout, boxAt, spawnSync, path, fs };
