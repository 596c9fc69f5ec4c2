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

module.exports = { startWaiting, freePort, needNats, startNats, startGate };
