// HTTP and WebSocket conformance of the live feed's port, with raw sockets
// (what a browser or the ws client would never send): HEAD has no body;
// methods other than GET and HEAD get 405 with Allow; 404, 405, 400, 414 and
// 431 carry the page's security headers and no link to a missing style sheet;
// 429 has its reason phrase; two Content-Length headers are a 400; an
// oversized URL is a 414 and oversized headers a 431. WebSocket (RFC 6455): a
// version other than 13, or none, is a 426 naming 13; an unmasked client
// frame is closed with 1002; a client that pipelines 1,000 pings in one write
// and reads its answers is answered, not closed as "not reading".
'use strict';
const net = require('net');
const crypto = require('crypto');
const L = require('./lib');

// Send raw bytes, collect everything until the server closes or `ms` pass.
function raw(port, bytes, ms) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = () => { if (!done) { done = true; s.destroy(); resolve(Buffer.concat(chunks)); } };
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => chunks.push(d));
    s.on('end', finish);
    s.on('close', finish);
    s.on('error', finish);
    setTimeout(finish, ms || 3000);
  });
}

// Status line, headers (lower-case names, repeated ones joined by ', ') and body of the first response.
function parse(buf) {
  const text = buf.toString('latin1');
  const head = text.indexOf('\r\n\r\n');
  if (head < 0) return { status: 0, line: text.slice(0, 80), headers: {}, body: '' };
  const lines = text.slice(0, head).split('\r\n');
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase(), v = l.slice(i + 1).trim();
    headers[k] = headers[k] ? headers[k] + ', ' + v : v;
  }
  return { status: Number(lines[0].split(' ')[1]), line: lines[0], headers, body: text.slice(head + 4) };
}

function securityHeaders(r) {
  return /default-src 'none'/.test(r.headers['content-security-policy'] || '') &&
    r.headers['x-content-type-options'] === 'nosniff' && r.headers['referrer-policy'] === 'no-referrer';
}

const get = (path, extra) => Buffer.from('GET ' + path + ' HTTP/1.1\r\nHost: 127.0.0.1\r\n' + (extra || '') + '\r\n');

function wsHandshake(port, extraHeaders) {
  const key = crypto.randomBytes(16).toString('base64');
  return 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1:' + port + '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: ' + key + '\r\n' + extraHeaders + '\r\n';
}

// A client frame: text, masked unless told otherwise.
function frame(text, masked) {
  const payload = Buffer.from(text);
  const mask = masked ? crypto.randomBytes(4) : null;
  const head = Buffer.from([0x81, (masked ? 0x80 : 0) | payload.length]);
  if (!masked) return Buffer.concat([head, payload]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([head, mask, body]);
}

// Server frames in buf after the handshake: [{ opcode, payload }].
function frames(buf) {
  const start = buf.indexOf('\r\n\r\n');
  const out = [];
  let i = start < 0 ? buf.length : start + 4;
  while (i + 2 <= buf.length) {
    const op = buf[i] & 0x0f;
    let len = buf[i + 1] & 0x7f, off = i + 2;
    if (len === 126) { len = buf.readUInt16BE(off); off += 2; } else if (len === 127) { len = Number(buf.readBigUInt64BE(off)); off += 8; }
    if (off + len > buf.length) break;
    out.push({ opcode: op, payload: buf.subarray(off, off + len) });
    i = off + len;
  }
  return out;
}

async function main() {
  const args = L.parseArgs(process.argv);
  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '60', '--host-token', 'conformance-token-1']);
  const port = player.port;
  // listening on one address (--listen 127.0.0.1:0): the join URL (QR code) is that address, not the LAN's
  {
    const m = /join at (\S+)/.exec(player.stderr());
    L.check(m && m[1] === 'http://127.0.0.1:' + port + '/', 'the join URL is the address listened on: ' + (m && m[1]));
  }

  // HEAD: the page's headers, its length, no body
  {
    const r = parse(await raw(port, Buffer.from('HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')));
    L.check(r.status === 200 && Number(r.headers['content-length']) > 100 && r.body.length === 0,
      'HEAD / -> 200 with the length of the page and no body (' + r.line + ', ' + r.body.length + ' body bytes)');
  }
  // methods other than GET and HEAD
  for (const m of ['OPTIONS', 'POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = parse(await raw(port, Buffer.from(m + ' / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n')));
    L.check(r.status === 405 && r.headers.allow === 'GET, HEAD' && securityHeaders(r) && !/<html/.test(r.body),
      m + ' / -> 405 with Allow: GET, HEAD (' + r.line + ', Allow: ' + r.headers.allow + ')');
  }
  {
    const r = parse(await raw(port, Buffer.from('PUT /host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n')));
    L.check(r.status === 405 && r.headers.allow === 'POST', 'PUT /host/login -> 405 with Allow: POST (' + r.line + ')');
  }
  // 404: the security headers, no link to a style sheet that does not exist
  for (const path of ['/nope', '/error.css']) {
    const r = parse(await raw(port, get(path, 'Connection: close\r\n')));
    L.check(r.status === 404 && securityHeaders(r) && !/error\.css/.test(r.body),
      'GET ' + path + ' -> 404 with the security headers, nothing linked (' + r.line + ')');
  }
  {
    const r = parse(await raw(port, get('/host/nope', 'Authorization: Bearer conformance-token-1\r\nConnection: close\r\n')));
    L.check(r.status === 404 && securityHeaders(r) && !/error\.css/.test(r.body), 'GET /host/nope (authorised) -> 404 likewise');
  }
  // two Content-Length headers: which one is the body's? Neither: 400
  {
    const r = parse(await raw(port, Buffer.from('POST /host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n' +
      'Content-Length: 11\r\n\r\ntoken=abcde')));
    L.check(r.status === 400 && securityHeaders(r), 'two Content-Length headers -> 400 (' + r.line + ')');
  }
  // oversized URL and headers, within what libwebsockets reads
  {
    const r = parse(await raw(port, get('/' + 'a'.repeat(6000))));
    L.check(r.status === 414 && securityHeaders(r), 'a 6,000-byte URL -> 414 (' + r.line + ')');
    const h = parse(await raw(port, get('/', 'Cookie: ' + 'c'.repeat(10000) + '\r\n')));
    L.check(h.status === 431 && / 431 Request Header Fields Too Large$/.test(h.line),
      '10,000 bytes of headers -> 431 with its reason phrase (' + h.line + ')');
  }
  // 429 (the login limit) has a reason phrase
  {
    for (let i = 0; i < 5; i++) {
      await raw(port, Buffer.from('POST /host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n' +
        'Connection: close\r\n\r\ntoken=wrong'));
    }
    const r = parse(await raw(port, Buffer.from('POST /host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\n' +
      'Connection: close\r\n\r\ntoken=wrong')));
    L.check(r.status === 429 && r.line === 'HTTP/1.1 429 Too Many Requests' && /^\d+$/.test(r.headers['retry-after'] || ''),
      'the login limit -> "' + r.line + '" with Retry-After');
  }
  // WebSocket: only version 13, and the refusal names it
  for (const [what, hdr] of [['version 12', 'Sec-WebSocket-Version: 12\r\n'], ['no version', ''], ['version 8', 'Sec-WebSocket-Version: 8\r\n']]) {
    const r = parse(await raw(port, Buffer.from(wsHandshake(port, hdr))));
    L.check(r.status === 426 && r.headers['sec-websocket-version'] === '13' && / 426 Upgrade Required$/.test(r.line),
      'WebSocket handshake with ' + what + ' -> 426 with Sec-WebSocket-Version: 13 (' + r.line + ')');
  }
  // a client that pipelines 1,000 pings in one write and reads: every one answered, not closed as "not reading"
  {
    const pings = Buffer.concat(Array.from({ length: 1000 }, () => frame('{"type":"ping"}', true)));
    const got = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let buf = Buffer.alloc(0), sent = false;
      const finish = () => { s.destroy(); resolve(buf); };
      s.on('connect', () => s.write(wsHandshake(port, 'Sec-WebSocket-Version: 13\r\n')));
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (!sent && buf.indexOf('\r\n\r\n') > 0) { sent = true; s.write(pings); }
        const f = frames(buf);
        if (f.filter((x) => x.opcode === 1).length >= 1000 || f.some((x) => x.opcode === 8)) finish();
      });
      s.on('close', finish);
      s.on('error', finish);
      setTimeout(finish, 20000);
    });
    const f = frames(got);
    const pongs = f.filter((x) => x.opcode === 1 && x.payload.toString() === '{"type":"pong"}').length;
    const close = f.find((x) => x.opcode === 8);
    L.check(pongs === 1000 && !close, '1,000 pipelined pings from a reading client: ' + pongs + ' pongs, ' +
      (close ? 'closed (' + close.payload.subarray(2).toString() + ')' : 'still open'));
  }
  // an unmasked client frame: RFC 6455 5.1 wants a close with 1002; libwebsockets 4.1 gives the
  // application no way to see the mask bit, so this is reported, not asserted (docs/security.md)
  {
    const got = await raw(port, Buffer.concat([Buffer.from(wsHandshake(port, 'Sec-WebSocket-Version: 13\r\n')),
      frame('{"type":"ping"}', false)]), 1500);
    const f = frames(got), close = f.find((x) => x.opcode === 8);
    console.log('# unmasked client frame: ' + (close ? 'closed with ' + close.payload.readUInt16BE(0)
      : f.length ? 'answered (' + f[0].payload.toString() + '): not enforced by libwebsockets 4.1' : 'no answer'));
  }

  // the page still works
  {
    const r = parse(await raw(port, get('/', 'Connection: close\r\n')));
    L.check(r.status === 200 && /<html/i.test(r.body), 'GET / still serves the page');
  }
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
