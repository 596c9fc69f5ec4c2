// A screening's time and idle rules: comments sent while the film is paused
// are stamped with the paused time; a client that answers no ping is pinged,
// then dropped, while one that answers (the ws library does) stays.
'use strict';
const net = require('net');
const crypto = require('crypto');
const L = require('./lib');

async function main() {
  const args = L.parseArgs(process.argv);
  const script = L.path.join(args.workdir, 'session-script.txt');
  L.fs.writeFileSync(script, '1.0 key Space\n');   // pause at 1 s
  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '60', '--live-idle', '2',
    '--live-rate', '20', '--script', script]);
  const t0 = Date.now();

  // a raw client that completes the handshake and then never answers
  const raw = net.connect(player.port, '127.0.0.1');
  let rawBytes = Buffer.alloc(0), rawClosedAt = null;
  raw.on('error', () => {});
  raw.on('connect', () => raw.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: ' + crypto.randomBytes(16).toString('base64') + '\r\nSec-WebSocket-Version: 13\r\n\r\n'));
  raw.on('data', (d) => { rawBytes = Buffer.concat([rawBytes, d]); });
  raw.on('close', () => { rawClosedAt = Date.now() - t0; });

  const c = await L.connect(player.port);
  let pings = 0;
  c.ws.on('ping', () => pings++);
  await L.sleep(2500);   // the film paused at 1 s some time ago
  const acks = [];
  for (let i = 0; i < 3; i++) {
    acks.push(await L.request(c, { type: 'comment', text: 'paused ' + i }));
    await L.sleep(300);
  }
  L.check(acks.every((a) => a.type === 'ack'), 'comments accepted while paused');
  L.check(acks.every((a) => a.t_ms === acks[0].t_ms) && acks[0].t_ms >= 1000 && acks[0].t_ms < 1600,
    'all stamped with the paused film time (' + acks.map((a) => a.t_ms).join(', ') + ' ms)');

  // idle: 2 s to the ping, 4 s to the drop; wait up to 12 s for the drop
  const deadline = Date.now() + 12000;
  while (rawClosedAt === null && Date.now() < deadline) await L.sleep(100);
  const head = rawBytes.indexOf('\r\n\r\n');
  const frames = head >= 0 ? rawBytes.subarray(head + 4) : Buffer.alloc(0);
  L.check(rawBytes.toString('latin1').startsWith('HTTP/1.1 101'), 'silent client: upgraded');
  L.check(frames.length >= 2 && frames[0] === 0x89, 'silent client: pinged (first frame opcode 0x' + (frames[0] || 0).toString(16) + ')');
  L.check(rawClosedAt !== null, 'silent client: dropped after ' + rawClosedAt + ' ms without a pong');
  // it has been silent since its comments: wait (bounded) for the server's ping
  const pingDeadline = Date.now() + 15000;
  while (pings === 0 && !c.closed && Date.now() < pingDeadline) await L.sleep(100);
  L.check(pings >= 1 && !c.closed, 'answering client: pinged ' + pings + ' time(s) and still connected');
  const r = await L.request(c, { type: 'ping' });
  L.check(r && r.type === 'pong', 'answering client: still served');
  c.ws.close();
  player.proc.kill('SIGTERM');
  const e = await L.waitExit(player, 30);
  L.check(e.code === 0, 'the player exits cleanly on SIGTERM');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
