// Hostile clients against a live screening, each with its expected outcome,
// while a well-behaved witness (from another loopback address) keeps sending
// and must get every ack, and the film must keep playing.
'use strict';
const net = require('net');
const crypto = require('crypto');
const L = require('./lib');

const RATE = 5, BURST = 10, PER_ADDR = 50;

function countCodes(c) {
  const n = {};
  for (const m of c.messages) {
    const k = m.type === 'error' ? m.code : m.type;
    n[k] = (n[k] || 0) + 1;
  }
  return n;
}

async function fresh(port, opts) {
  const c = await L.connect(port, opts);
  if (!c.opened) L.fail('could not connect: ' + (c.error && c.error.message));
  return c;
}

async function expectError(port, payload, code, what) {
  const c = await fresh(port);
  const r = await L.request(c, payload, 10);
  L.check(r && r.type === 'error' && r.code === code && typeof r.message === 'string' && r.message.length > 5,
    what + ' -> error ' + code + ' (' + JSON.stringify(r) + ')');
  c.ws.close();
}

async function expectAck(port, payload, what) {
  const c = await fresh(port);
  const r = await L.request(c, payload, 10);
  L.check(r && r.type === 'ack', what + ' -> ack');
  c.ws.close();
  return r;
}

async function expectClose(c, code, what) {
  await L.until(c, (x) => x.closed, 20);
  L.check(c.closed && c.closed.code === code, what + ' -> close ' + code + ' (' + JSON.stringify(c.closed) + ')');
}

// A raw client that completes the handshake and then never reads a byte.
function neverReader(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let head = '';
    s.on('error', () => {});
    s.on('connect', () => s.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\nUpgrade: websocket\r\n' +
      'Connection: Upgrade\r\nSec-WebSocket-Key: ' + key + '\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    s.on('data', function onData(d) {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        s.removeListener('data', onData);
        s.pause();   // from now on nothing is read
        resolve({ s, upgraded: head.startsWith('HTTP/1.1 101') });
      }
    });
  });
}

function maskedFrame(text) {
  const payload = Buffer.from(text), mask = crypto.randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x81; out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4];
  return out;
}

async function main() {
  const args = L.parseArgs(process.argv);
  const rec = L.path.join(args.workdir, 'abuse-rec.jsonl');
  L.fs.rmSync(rec, { force: true });
  const player = await L.startPlayer(args, ['--size', '640x360', '--until', '120', '--record', rec, '--stats',
    '--live-rate', String(RATE), '--live-burst', String(BURST), '--live-per-address', String(PER_ADDR),
    '--allow-origin', 'http://allowed.example']);
  const port = player.port;

  // the witness: another address, 3 comments a second, well within the limits
  const witness = await fresh(port, { localAddress: '127.0.0.2' });
  let sent = 0;
  const timer = setInterval(() => { sent++; witness.ws.send(JSON.stringify({ type: 'comment', text: 'witness ' + sent })); }, 330);

  // 1. a flood from one socket: the bucket lets BURST through, the rest are told to wait
  {
    const c = await fresh(port);
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) c.ws.send(JSON.stringify({ type: 'comment', text: 'flood ' + i }));
    await L.until(c, (x) => x.messages.length >= 200, 20);
    const secs = (Date.now() - t0) / 1000;
    const n = countCodes(c);
    L.check(c.messages.length === 200, 'flood: one reply per message (' + c.messages.length + ')');
    L.check(n.ack >= BURST && n.ack <= BURST + Math.ceil(secs * RATE) + 1,
      'flood: ' + n.ack + ' accepted, within burst ' + BURST + ' + ' + RATE + '/s over ' + secs.toFixed(2) + ' s');
    L.check(n.rate_limited === 200 - n.ack, 'flood: the rest are rate_limited (' + n.rate_limited + ')');
    const rl = c.messages.find((m) => m.code === 'rate_limited');
    L.check(rl.retry_ms > 0 && /wait \d+ s/.test(rl.message), 'flood: the error says how long to wait: ' + rl.message);
    const pong = await L.request(c, { type: 'ping' });
    L.check(pong && pong.type === 'pong' && !c.closed, 'flood: the flooder stays connected');
    c.ws.close();
  }

  // 2. 200 sockets from one address: PER_ADDR stay, the others are told why and closed.
  // From an address of their own: the server may not have seen the flooder leave yet.
  {
    const socks = await Promise.all(Array.from({ length: 200 }, () => L.connect(port, { localAddress: '127.0.0.3' })));
    // the server closes every refused one: wait for that many closes (bounded), then the
    // ones still open must be the admitted ones, each answering a ping
    const deadline = Date.now() + 60000;
    while (socks.filter((c) => c.closed).length < 200 - PER_ADDR && Date.now() < deadline) await L.sleep(50);
    const refused = socks.filter((c) => c.closed);
    const open = socks.filter((c) => !c.closed);
    L.check(open.length === PER_ADDR, '200 sockets: ' + PER_ADDR + ' stay open (' + open.length + ')');
    const pongs = await Promise.all(open.map((c) => L.request(c, { type: 'ping' }, 30)));
    L.check(pongs.every((m) => m && m.type === 'pong') && open.every((c) => !c.closed),
      '200 sockets: the ' + PER_ADDR + ' left open are admitted (each answers a ping)');
    L.check(refused.length === 200 - PER_ADDR && refused.every((c) => c.closed.code === 1008 &&
      c.messages.length === 1 && c.messages[0].code === 'too_many_connections'),
      '200 sockets: the other ' + (200 - PER_ADDR) + ' get too_many_connections and close 1008');
    const r = await L.request(open[0], { type: 'comment', text: 'still fine' });
    L.check(r && r.type === 'ack', '200 sockets: the admitted ones still work');
    for (const c of socks) c.ws.terminate();
  }

  // 3. a 1 MiB frame
  {
    const c = await fresh(port);
    c.ws.send(JSON.stringify({ type: 'comment', text: 'x'.repeat(1 << 20) }));
    await expectClose(c, 1009, '1 MiB frame');
  }

  // 4. 100,000 one-byte fragments of one message
  {
    const c = await fresh(port);
    const body = Buffer.from('{"type":"comment","text":"' + 'y'.repeat(100000 - 29) + '"}');
    for (let i = 0; i < body.length && !c.closed; i++) {
      c.ws.send(body.subarray(i, i + 1), { binary: false, fin: i === body.length - 1 }, () => {});
      // pause between bursts: a server closing with our bytes still unread would
      // make the kernel reset the connection and lose the close frame
      if (i % 1000 === 999) await L.sleep(30);
    }
    await expectClose(c, 1009, '100,000 one-byte fragments');
  }

  // 5. a text frame that is not UTF-8
  {
    const c = await fresh(port);
    c.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    await expectClose(c, 1007, 'invalid UTF-8 text frame');
  }

  // 6. escaped lone surrogates and NUL
  await expectError(port, '{"type":"comment","text":"a\\ud800"}', 'bad_text', 'escaped lone high surrogate');
  await expectError(port, '{"type":"comment","text":"\\udfff b"}', 'bad_text', 'escaped lone low surrogate');
  await expectError(port, '{"type":"comment","text":"nul\\u0000hidden"}', 'bad_text', 'escaped NUL');
  await expectError(port, '{"type":"comment","text":"raw\u0000hidden"}', 'bad_text', 'raw NUL byte inside the text');

  // 7. zalgo: accepted with at most 2 marks on each letter
  const zalgo = 'Z' + '\u0336\u0301\u0352\u0315'.repeat(10) + 'a' + '\u0353\u0300'.repeat(20) + 'lgo';
  const zAck = await expectAck(port, { type: 'comment', text: zalgo }, 'zalgo');
  // 8. RTL override: accepted, override removed
  const rAck = await expectAck(port, { type: 'comment', text: 'abc\u202Egnp.exe' }, 'RTL override');
  // 9. zero-width only
  await expectError(port, { type: 'comment', text: '\u200B\u200C\u200D\u2060\uFEFF' }, 'empty_text', 'zero-width-only text');
  // 10. 10,000 characters
  await expectError(port, { type: 'comment', text: '長'.repeat(10000).slice(0, 5000) }, 'too_long', '5,000 CJK characters');
  await expectError(port, { type: 'comment', text: 'a'.repeat(10000) }, 'too_long', '10,000 characters');
  // 11. unknown fields and types
  const uAck = await expectAck(port, { type: 'comment', text: 'extra fields', avatar: { url: 'x' }, votes: [1, 2] }, 'unknown fields (ignored)');
  await expectError(port, { type: 'delete_everything', text: 'x' }, 'unknown_type', 'unknown type');
  await expectError(port, { type: 'comment', text: 'x', mode: 'positioned' }, 'bad_mode', 'mode outside the set');
  await expectError(port, { type: 'comment', text: 'x', color: '#123456' }, 'bad_color', 'colour outside the palette');
  await expectError(port, { type: 'comment', text: 'x', size: 'enormous' }, 'bad_size', 'size outside the set');
  // 12. malformed JSON
  await expectError(port, '{"type":"comment","text":"unterminated', 'bad_json', 'malformed JSON');
  await expectError(port, '[1,2,3]', 'bad_json', 'JSON that is not an object');
  {
    const c = await fresh(port);
    c.ws.send(Buffer.from('{"type":"comment","text":"bin"}'), { binary: true });
    await L.until(c, (x) => x.messages.length > 0, 10);
    L.check(c.messages[0] && c.messages[0].code === 'binary_not_supported', 'binary frame -> error binary_not_supported');
    c.ws.close();
  }

  // 13. a client that never reads: the server drops it once its backlog is full
  {
    const nr = await neverReader(port);
    L.check(nr.upgraded, 'never-reader: handshake done');
    let dropped = false;
    nr.s.on('close', () => { dropped = true; });
    nr.s.on('error', () => { dropped = true; });
    const junk = maskedFrame('x');
    const deadline = Date.now() + 30000;
    while (!dropped && Date.now() < deadline) {
      for (let i = 0; i < 2000 && !dropped; i++) nr.s.write(junk);
      await L.sleep(20);
    }
    L.check(dropped, 'never-reader: the server dropped the client that does not read');
    nr.s.destroy();
  }

  // 14. Origins: a foreign page is refused; the page's own host and --allow-origin are not
  {
    const evil = await L.connect(port, { origin: 'http://evil.example' });
    L.check(!evil.opened && evil.error && evil.error.message === 'HTTP 403', 'foreign Origin -> refused with HTTP 403 (' + (evil.error && evil.error.message) + ')');
    const wrongPath = await new Promise((resolve) => {
      const ws = new (require('ws'))('ws://127.0.0.1:' + port + '/other');
      ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve('open'));
      ws.on('error', (e) => resolve(e.message));
    });
    L.check(wrongPath === 404, 'WebSocket on another path -> HTTP 404 (' + wrongPath + ')');
    // the scheme counts: the page is served over http://, so other forms of its address are other origins
    for (const o of ['https://127.0.0.1:' + port, 'HTTP://127.0.0.1:' + port, 'ws://127.0.0.1:' + port,
      'https://allowed.example', 'http://127.0.0.1:' + port + '.evil.example']) {
      const c = await L.connect(port, { origin: o });
      L.check(!c.opened && c.error && c.error.message === 'HTTP 403', 'Origin ' + o + ' -> refused with HTTP 403 (' +
        (c.error && c.error.message) + ')');
    }
    const same = await L.connect(port, { origin: 'http://127.0.0.1:' + port });
    L.check(same.opened, 'the page\'s own Origin -> accepted');
    const allowed = await L.connect(port, { origin: 'http://allowed.example' });
    L.check(allowed.opened, '--allow-origin Origin -> accepted');
    same.ws.close(); allowed.ws.close();
  }

  // meanwhile: the witness got an ack for every comment, and the film went on
  // (enough witness comments to judge by, however quickly the steps above went)
  while (sent <= 10) await L.sleep(50);
  clearInterval(timer);
  await L.until(witness, (x) => x.messages.length >= sent, 10);
  const wc = countCodes(witness);
  L.check(sent > 10 && wc.ack === sent && witness.messages.length === sent, 'witness: ' + sent + ' sent, ' + wc.ack + ' acked, no errors');
  const times = witness.messages.map((m) => m.t_ms);
  L.check(times.every((t, i) => i === 0 || t >= times[i - 1]) && times[times.length - 1] > times[0],
    'witness: film time kept moving (' + times[0] + ' -> ' + times[times.length - 1] + ' ms)');
  witness.ws.close();
  player.proc.kill('SIGTERM');
  const r = await L.waitExit(player, 30);
  L.check(r.code === 0, 'the player exits cleanly (' + JSON.stringify(r) + ')');
  const stats = /live: .*/.exec(player.stderr());
  console.log('# ' + (stats ? stats[0] : 'no live statistics'));

  // the recording holds the cleaned texts
  const lines = L.readJsonl(rec).filter((l) => l.type === 'comment');
  const z = lines.find((l) => l.id === zAck.id), rtl = lines.find((l) => l.id === rAck.id);
  L.check(z && !/[\u0300-\u036f]{3}/.test(z.text) && z.text.startsWith('Z') && z.text.endsWith('lgo'),
    'zalgo recorded with at most 2 marks per letter: ' + JSON.stringify(z && z.text));
  L.check(rtl && rtl.text === 'abcgnp.exe', 'RTL override stripped in the recording: ' + JSON.stringify(rtl && rtl.text));
  L.check(lines.some((l) => l.id === uAck.id), 'unknown-fields comment recorded');
  L.check(lines.filter((l) => /^witness /.test(l.text)).length === sent, 'every witness comment recorded');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
