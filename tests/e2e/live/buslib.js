// Helpers for the comment bus's end-to-end tests (bus*.js): real servers
// started from the test (nats-server -js on loopback with a store of its
// own, danmaku-gate), each killed when the script ends. Every wait is bounded.
'use strict';
const net = require('net');
const { spawn } = require('child_process');
const L = require('./lib');

const children = [];
process.on('exit', () => { for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });

// Start a program and wait until its output matches `re`; resolves { proc, m, err() }.
function startWaiting(cmd, argv, re, what, seconds) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let err = '', done = false;
    const timer = setTimeout(() => {
      if (!done) { done = true; proc.kill('SIGKILL'); reject(new Error(what + ' did not start: ' + err.slice(-3000))); }
    }, (seconds || 20) * 1000);
    const onData = (d) => {
      err += d.toString();
      const m = re.exec(err);
      if (m && !done) { done = true; clearTimeout(timer); resolve({ proc, m, err: () => err }); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error(what + ' exited with ' + code + ': ' + err.slice(-3000))); }
    });
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// The test needs nats-server: without it, say so and report the test skipped.
function needNats(args) {
  if (!args.nats || !L.fs.existsSync(args.nats)) {
    console.log('SKIP: no nats-server (Debian package nats-server; tools/bootstrap.sh installs it)');
    process.exit(77);
  }
}

// One nats-server with JetStream on a free loopback port, its store in `dir` (emptied first).
function startNats(nats, dir) {
  L.fs.rmSync(dir, { recursive: true, force: true });
  L.fs.mkdirSync(dir, { recursive: true });
  return startWaiting(nats, ['-js', '-a', '127.0.0.1', '-p', '-1', '-sd', dir],
    /Listening for client connections on [^\n]*:(\d+)/, 'nats-server');
}

// A gateway of `screening` on `busUrl`, on a free port (or `port`), with `more` options; resolves with .port.
async function startGate(args, busUrl, screening, more, port) {
  const g = await startWaiting(args.gate, ['--listen', '127.0.0.1:' + (port || 0), '--bus', busUrl, '--screening',
    screening, '--live-rate', '50', '--live-burst', '50', ...(more || [])], /live on port (\d+)/, 'danmaku-gate', 40);
  g.port = Number(g.m[1]);
  return g;
}

// One request on NATS's own text protocol (docs.nats.io, "Client Protocol"), as an independent client:
// resolves with the reply's payload (a JetStream API answer), or null after `seconds`.
function natsRequest(port, subject, payload, seconds) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const inbox = '_INBOX.e2e' + process.pid + Math.random().toString(36).slice(2);
    let buf = Buffer.alloc(0), done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(v); } };
    const timer = setTimeout(() => finish(null), (seconds || 5) * 1000);
    sock.on('error', () => finish(null));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.slice(0, eol).toString();
        if (line.startsWith('INFO ')) {
          const body = Buffer.from(payload || '');
          sock.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB ' + inbox + ' 1\r\nPUB ' + subject + ' ' + inbox +
            ' ' + body.length + '\r\n' + body + '\r\n');
        } else if (line.startsWith('PING')) {
          sock.write('PONG\r\n');
        } else if (line.startsWith('MSG ')) {
          const size = Number(line.split(' ').pop());
          if (buf.length < eol + 2 + size + 2) return;
          return finish(buf.slice(eol + 2, eol + 2 + size).toString());
        }
        buf = buf.slice(eol + 2);
      }
    });
  });
}

// Delete every consumer of the screening's stream, as a cluster that lost their node does; resolves with their names.
async function dropConsumers(port, screening) {
  const names = JSON.parse(await natsRequest(port, '$JS.API.CONSUMER.NAMES.DANMAKU_' + screening, '') || '{}').consumers || [];
  for (const n of names) await natsRequest(port, '$JS.API.CONSUMER.DELETE.DANMAKU_' + screening + '.' + n, '');
  return names;
}

module.exports = { startWaiting, freePort, needNats, startNats, startGate, natsRequest, dropConsumers };
