// Who may use the host console: only someone with the host token, sent as
// "Authorization: Bearer TOKEN" or exchanged at the login form for a session
// cookie (HttpOnly, SameSite=Strict, Path=/host). No token, a wrong token, the
// token in the wrong place (query string, a cookie the server did not issue,
// a bare or Basic Authorization) and an old session after a restart with a new
// token all get 401 over HTTP and close 1008 on /host/ws. The audience side
// needs no token. Logging out ends that session alone (its cookie expired,
// its open console closed, the cookie refused from then on); five wrong tokens
// from one address make its next login attempts 429 with Retry-After, the
// right token included, and so do its Bearer tokens (wrong Bearer tokens count
// against the same budget), while open sessions and other addresses still work.
'use strict';
const L = require('../live/lib');
const H = require('./hostlib');

const TOKEN = 'screening-token-0123';

async function wsRefused(port, headers, what, path, local) {
  const c = await H.hostConnect(port, headers, path, local);
  await L.until(c, (x) => x.closed, 10);
  L.check(c.closed && c.closed.code === 1008 && !c.messages.some((m) => m.type === 'state'),
    what + ': /host/ws closed with 1008 (' + JSON.stringify(c.closed) + '), nothing sent');
}

async function httpRefused(port, path, headers, what, local) {
  const r = await H.request(port, 'GET', path, headers, null, local);
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

  // wrong token (five guesses, from an address of their own: they use up its budget, see below)
  const guesser = '127.0.0.9';
  await httpRefused(port, '/host', { Authorization: 'Bearer ' + TOKEN + 'x' }, 'wrong token', guesser);
  await httpRefused(port, '/host', { Authorization: 'Bearer ' + TOKEN.slice(0, -1) }, 'token prefix', guesser);
  await httpRefused(port, '/host', { Authorization: 'Bearer ' }, 'empty bearer', guesser);
  const badLogin = await H.login(port, 'not-the-token', guesser);
  L.check(badLogin.status === 401 && !badLogin.setCookie, 'wrong token at the login form: 401, no cookie');
  await wsRefused(port, { Authorization: 'Bearer wrong-token-000000' }, 'wrong token', null, guesser);

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
  L.check(/<form[^>]*id="logout-form"[^>]*method="post"[^>]*action="\/host\/logout"[^>]*>\s*<button[^>]*>Log out</.test(ok.body) &&
    !/<script(?![^>]*\bsrc=)/i.test(ok.body) && !/\son[a-z]+=/i.test(ok.body),
    'the console has a "Log out" button posting to /host/logout, and no inline script');

  // login and logout change state: only from the console's own page (a page on another port is same-site,
  // so SameSite=Strict alone does not keep it out)
  {
    const foreign = 'http://127.0.0.1:' + (port === 65535 ? 1 : port + 1);
    const fl = await H.postForm(port, '/host/login', { Origin: foreign }, 'token=' + encodeURIComponent(TOKEN));
    L.check(fl.status === 403 && !fl.setCookie, 'login from another port\'s page: 403, no session (' + fl.status + ')');
    const fs = await H.postForm(port, '/host/login', { Origin: 'https://127.0.0.1:' + port }, 'token=' + TOKEN);
    L.check(fs.status === 403 && !fs.setCookie, 'login from the https:// form of the address: 403 (' + fs.status + ')');
    const fn = await H.postForm(port, '/host/login', { Origin: 'null' }, 'token=' + TOKEN);
    L.check(fn.status === 403 && !fn.setCookie, 'login with "Origin: null" (a sandboxed or no-referrer page): 403');
    const page = await H.request(port, 'GET', '/host/login', {});
    L.check(page.headers['referrer-policy'] === 'same-origin',
      'the login page sends its own origin with its form (Referrer-Policy: same-origin)');
    const victim = await H.login(port, TOKEN);
    const fo = await H.logout(port, { Cookie: victim.cookie, Origin: foreign });
    L.check(fo.status === 403 && !fo.setCookie, 'logout from another port\'s page: 403 (' + fo.status + ')');
    const fo2 = await H.logout(port, { Cookie: victim.cookie, Origin: foreign }, 'x=1');
    L.check(fo2.status === 403, 'logout with a body from another port\'s page: 403 (' + fo2.status + ')');
    const still = await H.request(port, 'GET', '/host', { Cookie: victim.cookie });
    L.check(still.status === 200, 'the session those tried to end still works (' + still.status + ')');
    const own = await H.postForm(port, '/host/login', { Origin: 'http://127.0.0.1:' + port }, 'token=' + TOKEN);
    L.check(own.status === 303 && /^dm_host=/.test(own.cookie), 'login from the console\'s own page: 303 (' + own.status + ')');
    const ownOut = await H.logout(port, { Cookie: victim.cookie, Origin: 'http://127.0.0.1:' + port });
    L.check(ownOut.status === 303 && /Max-Age=0/.test(ownOut.setCookie), 'logout from the console\'s own page works');
  }

  // log out: that session ends (cookie expired, open console closed), nothing else does
  const s2 = await H.login(port, TOKEN);
  const s3 = await H.login(port, TOKEN);
  L.check(s2.status === 303 && s3.status === 303 && s2.cookie && s3.cookie && s2.cookie !== s3.cookie,
    'two more sessions');
  const open2 = await H.hostConnect(port, { Cookie: s2.cookie });
  L.check(await L.until(open2, (x) => x.state, 10), 'a console open on the session that logs out');
  const out = await H.logout(port, { Cookie: s2.cookie });
  L.check(out.status === 303 && out.location === '/host', 'logout: 303 to /host (' + out.status + ')');
  L.check(/^dm_host=;/.test(out.setCookie) && /;\s*Max-Age=0(;|$)/i.test(out.setCookie) && /HttpOnly/.test(out.setCookie) &&
    /SameSite=Strict/.test(out.setCookie) && /Path=\/host(;|$)/.test(out.setCookie),
    'logout: the cookie expires (Max-Age=0), with the login cookie\'s attributes (' + out.setCookie + ')');
  const after = await httpRefused(port, '/host', { Cookie: s2.cookie }, 'a logged-out session');
  L.check(/<form[^>]*action="\/host\/login"/.test(after.body), 'a logged-out session: /host is the login page');
  await httpRefused(port, '/host/host.js', { Cookie: s2.cookie }, 'a logged-out session');
  await wsRefused(port, { Cookie: s2.cookie }, 'a logged-out session');
  await L.until(open2, (x) => x.closed, 10);
  L.check(open2.closed && open2.closed.code === 1008,
    'logout: the console that session had open is closed with 1008 (' + JSON.stringify(open2.closed) + ')');
  const other = await H.request(port, 'GET', '/host', { Cookie: s3.cookie });
  L.check(other.status === 200, 'another session stays logged in (' + other.status + ')');
  for (const [c, what] of [[hc, 'session'], [hb, 'Bearer']]) {
    const pong = await H.ask(c, { type: 'ping' }, ['pong']);
    L.check(pong && !c.closed, 'the ' + what + ' console open elsewhere still answers after the logout');
  }
  const again = await H.logout(port, { Cookie: s2.cookie });
  L.check(again.status === 303 && again.location === '/host' && !again.setCookie,
    'logout without a valid session: only the redirect (' + again.status + ', ' + again.setCookie + ')');
  const byToken = await H.logout(port, { Authorization: 'Bearer ' + TOKEN }, 'x=1');
  L.check(byToken.status === 303 && !byToken.setCookie, 'logout with the Bearer token: only the redirect');
  const tokenStill = await H.request(port, 'GET', '/host', { Authorization: 'Bearer ' + TOKEN });
  L.check(tokenStill.status === 200, 'the Bearer token still works after logouts (' + tokenStill.status + ')');
  const out3 = await H.logout(port, { Cookie: s3.cookie }, 'x=1');   // a form body: answered once it is read
  L.check(out3.status === 303 && /Max-Age=0/.test(out3.setCookie), 'logout with a form body: the cookie expires');
  await httpRefused(port, '/host', { Cookie: s3.cookie }, 'a session logged out with a form body');

  // the login limit: after five wrong tokens from one address, every attempt waits (429), the right token too
  for (let i = 1; i <= 5; i++) {
    // the fifth has no body at all (Content-Length: 0): no token is a wrong token
    const w = i < 5 ? await H.login(port, 'wrong-token-' + i)
      : await H.request(port, 'POST', '/host/login', { 'Content-Length': 0 }).catch((e) => ({ status: String(e), headers: {} }));
    L.check(w.status === 401 && !(w.headers['set-cookie'] || []).length,
      'wrong token ' + i + ' of 5' + (i < 5 ? '' : ' (no body)') + ': 401 (' + w.status + ')');
  }
  const limited = await H.login(port, TOKEN);
  const retry = limited.headers['retry-after'];
  const said = /Too many wrong tokens: try again in (\d+) s/.exec(limited.body);
  L.check(limited.status === 429 && !limited.setCookie, 'the 6th attempt, with the right token: 429, no session (' +
    limited.status + ')');
  L.check(/^\d+$/.test(retry || '') && Number(retry) >= 1 && Number(retry) <= 60,
    'the 429 has Retry-After in seconds (' + retry + ')');
  L.check(said && said[1] === retry, 'the 429 says how long to wait (' + limited.body.trim() + ')');
  const limitedWrong = await H.login(port, 'wrong-token-6');
  L.check(limitedWrong.status === 429, 'a wrong token while limited: 429 too (' + limitedWrong.status + ')');
  // the same budget covers the Bearer token: while limited it is not looked at, right or wrong
  const bearerLimited = await H.request(port, 'GET', '/host', { Authorization: 'Bearer ' + TOKEN });
  L.check(bearerLimited.status === 429 && /^\d+$/.test(bearerLimited.headers['retry-after'] || ''),
    'while limited, a Bearer token from that address waits too: 429 (' + bearerLimited.status + ')');
  const wsLimited = await H.hostConnect(port, { Authorization: 'Bearer ' + TOKEN });
  L.check(!wsLimited.opened && wsLimited.closed && wsLimited.closed.code === -429,
    'while limited, /host/ws with the Bearer token from that address: HTTP 429 (' + JSON.stringify(wsLimited.closed) + ')');
  const hb2 = await H.hostConnect(port, { Authorization: 'Bearer ' + TOKEN }, null, '127.0.0.2');
  L.check(await L.until(hb2, (x) => x.state, 10), 'from another address the Bearer token still opens /host/ws');
  const sLimited = await H.request(port, 'GET', '/host/host.js', { Cookie: s.cookie });
  L.check(sLimited.status === 200, 'while limited, a session opened before still works');
  // per address: another loopback address is another client (where the system lets us send from one)
  const elsewhere = await H.login(port, TOKEN, '127.0.0.2').catch((e) => e);
  // (all of 127.0.0.0/8 is loopback on Linux: 127.0.0.2 is another client address)
  L.check(!(elsewhere instanceof Error) && elsewhere.status === 303 && /^dm_host=/.test(elsewhere.cookie),
    'another address (127.0.0.2) is not limited (' + (elsewhere.status || elsewhere) + ')');
  // wrong Bearer tokens count like wrong tokens at the form: 5, then 429 everywhere for that address
  {
    const from = '127.0.0.4';
    for (let i = 1; i <= 5; i++) {
      const w = await H.request(port, 'GET', i % 2 ? '/host' : '/host/host.js', { Authorization: 'Bearer guess-' + i }, null, from);
      L.check(w.status === 401, 'wrong Bearer token ' + i + ' of 5: 401 (' + w.status + ')');
    }
    const right = await H.request(port, 'GET', '/host', { Authorization: 'Bearer ' + TOKEN }, null, from);
    L.check(right.status === 429 && /^\d+$/.test(right.headers['retry-after'] || ''),
      'the 6th, with the right token: 429 with Retry-After, not looked at (' + right.status + ')');
    const form = await H.login(port, TOKEN, from);
    L.check(form.status === 429, 'and the login form from that address: 429, the same budget (' + form.status + ')');
    const ws = await H.hostConnect(port, { Authorization: 'Bearer ' + TOKEN }, null, from);
    L.check(!ws.opened && ws.closed && ws.closed.code === -429, '/host/ws from that address: HTTP 429');
    // many guesses pipelined on one connection: no more than the budget are ever checked
    const net = require('net');
    const raw = await new Promise((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.5' });
      let got = '';
      const done = () => { sock.destroy(); resolve(got); };
      sock.on('connect', () => {
        let req = '';
        for (let i = 0; i < 200; i++) req += 'GET /host HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer guess' + i + '\r\n\r\n';
        sock.write(req);
      });
      sock.on('data', (d) => { got += d.toString('latin1'); if ((got.match(/HTTP\/1\.1 \d+/g) || []).length >= 200) done(); });
      sock.on('error', done);
      sock.on('close', done);
      setTimeout(done, 10000);
    });
    const statuses = (raw.match(/HTTP\/1\.1 (\d+)/g) || []).map((x) => Number(x.slice(9)));
    const checked = statuses.filter((x) => x === 401).length;
    L.check(checked <= 5 && statuses.filter((x) => x === 429).length >= 1,
      '200 pipelined Bearer guesses: ' + checked + ' checked (401), ' + statuses.filter((x) => x === 429).length +
      ' refused unchecked (429), of ' + statuses.length + ' answered');
  }

  // the audience needs nothing
  const a = await L.connect(port);
  const ack = await L.request(a, { type: 'comment', text: 'no token needed here' });
  L.check(ack.type === 'ack', 'the audience feed needs no token');
  for (const c of [hc, hb, hb2, a]) c.ws.close();
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
