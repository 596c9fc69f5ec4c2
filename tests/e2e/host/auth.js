// Who may use the host console: only someone with the host token, sent as
// "Authorization: Bearer TOKEN" or exchanged at the login form for a session
// cookie (HttpOnly, SameSite=Strict, Path=/host). No token, a wrong token, the
// token in the wrong place (query string, a cookie the server did not issue,
// a bare or Basic Authorization) and an old session after a restart with a new
// token all get 401 over HTTP and close 1008 on /host/ws. The audience side
// needs no token.
'use strict';
const L = require('../live/lib');
const H = require('./hostlib');

const TOKEN = 'screening-token-0123';

async function wsRefused(port, headers, what, path) {
  const c = await H.hostConnect(port, headers, path);
  await L.until(c, (x) => x.closed, 10);
  L.check(c.closed && c.closed.code === 1008 && !c.messages.some((m) => m.type === 'state'),
    what + ': /host/ws closed with 1008 (' + JSON.stringify(c.closed) + '), nothing sent');
}

async function httpRefused(port, path, headers, what) {
  const r = await H.request(port, 'GET', path, headers);
  L.check(r.status === 401 && !/host\.js/.test(r.body), what + ': GET ' + path + ' is 401 (' + r.status + ')');
  return r;
}

async function main() {
  const args = L.parseArgs(process.argv);
  let player = await L.startPlayer(args, ['--size', '320x180', '--until', '60', '--host-token', TOKEN]);
  const printed = H.hostToken(player);
  L.check(printed && printed.token === TOKEN && /^http:\/\/[^/]+:\d+\/host$/.test(printed.url),
    'the start line names the console and its token: ' + JSON.stringify(printed));
  const port = player.port;

  // no token
  const r401 = await httpRefused(port, '/host', {}, 'no token');
  L.check(/<form[^>]*action="\/host\/login"/.test(r401.body) && /bearer/i.test(r401.headers['www-authenticate'] || ''),
    'no token: the 401 is the login page, with WWW-Authenticate: Bearer');
  for (const p of ['/host/', '/host/host.js', '/host/host.css', '/host/anything']) await httpRefused(port, p, {}, 'no token');
  await wsRefused(port, {}, 'no token');

  // wrong token
  await httpRefused(port, '/host', { Authorization: 'Bearer ' + TOKEN + 'x' }, 'wrong token');
  await httpRefused(port, '/host', { Authorization: 'Bearer ' + TOKEN.slice(0, -1) }, 'token prefix');
  await httpRefused(port, '/host', { Authorization: 'Bearer ' }, 'empty bearer');
  const badLogin = await H.login(port, 'not-the-token');
  L.check(badLogin.status === 401 && !badLogin.setCookie, 'wrong token at the login form: 401, no cookie');
  await wsRefused(port, { Authorization: 'Bearer wrong-token-000000' }, 'wrong token');

  // the token in the wrong place
  await httpRefused(port, '/host?token=' + TOKEN, {}, 'token in the query string');
  await httpRefused(port, '/host/host.js?access_token=' + TOKEN, {}, 'token in the query string');
  await httpRefused(port, '/host', { Cookie: 'dm_host=' + TOKEN }, 'token as a cookie it did not issue');
  await httpRefused(port, '/host', { Cookie: 'dm_host=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'an invented session');
  await httpRefused(port, '/host', { Authorization: TOKEN }, 'token without "Bearer"');
  await httpRefused(port, '/host', { Authorization: 'Basic ' + Buffer.from('host:' + TOKEN).toString('base64') },
    'token as Basic credentials');
  await wsRefused(port, { Cookie: 'dm_host=' + TOKEN }, 'token as a cookie');
  const q = await H.hostConnect(port, {}, '/host/ws?token=' + TOKEN);
  await L.until(q, (x) => x.closed, 10);
  L.check(q.closed && q.closed.code === 1008 && !q.messages.some((m) => m.type === 'state'),
    'token in the WebSocket query string: refused (' + JSON.stringify(q.closed) + ')');

  // the right token, in the right places
  const ok = await H.request(port, 'GET', '/host', { Authorization: 'Bearer ' + TOKEN });
  L.check(ok.status === 200 && /host\.js/.test(ok.body), 'Bearer token: the console page (200)');
  L.check(/script-src 'self'/.test(ok.headers['content-security-policy'] || '') &&
    !/unsafe-inline/.test(ok.headers['content-security-policy']), 'the console has a strict Content-Security-Policy');
  const s = await H.login(port, TOKEN);
  L.check(s.status === 303 && s.location === '/host', 'login form: 303 to /host');
  L.check(/^dm_host=[A-Za-z0-9]{32}$/.test(s.cookie) && /HttpOnly/.test(s.setCookie) &&
    /SameSite=Strict/.test(s.setCookie) && /Path=\/host(;|$)/.test(s.setCookie) && !s.setCookie.includes(TOKEN),
    'session cookie: HttpOnly, SameSite=Strict, Path=/host, not the token (' + s.setCookie + ')');
  const byCookie = await H.request(port, 'GET', '/host/host.js', { Cookie: 'other=1; ' + s.cookie });
  L.check(byCookie.status === 200, 'session cookie: the console script (200)');
  const hc = await H.hostConnect(port, { Cookie: s.cookie });
  L.check(await L.until(hc, (x) => x.state && x.stats, 10), 'session cookie: /host/ws sends the state and statistics');
  const hb = await H.hostConnect(port, { Authorization: 'Bearer ' + TOKEN });
  L.check(await L.until(hb, (x) => x.state, 10), 'Bearer token: /host/ws sends the state');
  // the audience needs nothing
  const a = await L.connect(port);
  const ack = await L.request(a, { type: 'comment', text: 'no token needed here' });
  L.check(ack.type === 'ack', 'the audience feed needs no token');
  for (const c of [hc, hb, a]) c.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  // restart with a new (random) token: the old session and the old token are refused
  player = await L.startPlayer(args, ['--size', '320x180', '--until', '60']);
  const fresh = H.hostToken(player);
  L.check(fresh && /^[A-Za-z0-9]{24}$/.test(fresh.token) && fresh.token !== TOKEN,
    'without --host-token a random token is printed (' + (fresh && fresh.token.length) + ' characters)');
  await httpRefused(player.port, '/host', { Cookie: s.cookie }, 'old session after a restart');
  await wsRefused(player.port, { Cookie: s.cookie }, 'old session after a restart');
  await httpRefused(player.port, '/host', { Authorization: 'Bearer ' + TOKEN }, 'old token after a restart');
  const now = await H.request(player.port, 'GET', '/host', { Authorization: 'Bearer ' + fresh.token });
  L.check(now.status === 200, 'the new token works');
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  // options that cannot work are one clear line and exit 1
  const { spawnSync } = require('child_process');
  const bad = spawnSync(args.player, [args.film, '--headless', '--listen', '127.0.0.1:0', '--host-token', 'short'],
    { encoding: 'utf8', timeout: 20000 });
  L.check(bad.status !== 0 && bad.stderr.trim().split('\n').length === 1 && /host-token/.test(bad.stderr),
    'a too short --host-token: one line, non-zero exit (' + bad.stderr.trim() + ')');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
