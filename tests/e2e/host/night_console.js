// A live night run from the host console in a real browser (Debian's
// Chromium through playwright-core): every film control of the console
// clicked, with its effect on the screen (the player's --log-frames: the film
// time of each frame presented, the loudness of the sound, the film or
// intermission on screen) and on the audience page ("now playing", "next",
// the intermission's countdown), and counted in the player's statistics.
//
// Three generated films (45, 45 and 15 s), intermissions of 30 s (room for
// the console's steps in one on a slow machine: "start now" ends it). In the first film:
// pause, play, +10 s, -10 s, the seek slider, the volume; Next goes to the
// intermission before the second, where "add five minutes" lengthens it and
// "start now" ends it; in the second, Previous goes back to the first; there,
// "Play this" on the third jumps to it, which plays to the end.
'use strict';
const L = require('../live/lib');
const H = require('./hostlib');

const FILMS = [['a', 'Alpha', '0x402020'], ['b', 'Bravo', '0x204020'], ['c', 'Charlie', '0x202040']];
// the first two films long enough that a slow start (the browser) leaves room for +10 s before the end;
// the last one, which plays to its end, short
const FILM_S = { a: 45, b: 45, c: 15 }, BREAK_S = 30;

async function main() {
  const args = L.parseArgs(process.argv);
  const dir = args.workdir;
  for (const [n, , colour] of FILMS) {
    const film = L.path.join(dir, n + '.mp4');
    if (L.fs.existsSync(film)) continue;
    const r = L.spawnSync(args.ffmpeg || 'ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=' + colour + ':s=320x180:d=' + FILM_S[n] + ':r=10',
      '-f', 'lavfi', '-i', 'sine=f=440:d=' + FILM_S[n], '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-shortest', film]);
    if (r.status !== 0) L.fail('ffmpeg could not make ' + film + ': ' + r.stderr);
  }
  const prog = L.path.join(dir, 'night.json');
  L.fs.writeFileSync(prog, JSON.stringify({ title: 'Console Night', intermission: BREAK_S,
    films: FILMS.map(([n, title]) => ({ film: n + '.mp4', title, aigc: n === 'b' })) }));
  const log = L.path.join(dir, 'frames.log');
  L.fs.rmSync(log, { force: true });
  const player = await L.startPlayer(Object.assign({}, args, { film: '--programme=' + prog }),
    ['--size', '640x360', '--font-px', '24', '--log-frames', log, '--stats']);
  const { token } = H.hostToken(player);
  const base = 'http://127.0.0.1:' + player.port;
  // an independent console client: the programme as the player publishes it
  const mon = await H.hostConnect(player.port, { Authorization: 'Bearer ' + token });
  const latest = () => mon.messages.filter((m) => m.type === 'programme').pop();
  const waitProg = async (pred, what) => {
    if (!(await L.until(mon, () => latest() && pred(latest()), 15))) L.fail('the programme never showed ' + what + ': ' + JSON.stringify(latest()));
    L.check(true, 'programme: ' + what);
    return latest();
  };

  // hostile or mistaken requests change nothing: the audience may not send film controls, and the
  // console's out-of-range values are refused (the statistics below count only the browser's clicks)
  const aud0 = await L.connect(player.port);
  for (const t of ['film_pause', 'film_next', 'break_now']) {
    const r = await H.ask(aud0, { type: t }, ['error']);   // a programme message may come first
    L.check(r && r.type === 'error' && r.code === 'unknown_type', 'the audience cannot send ' + t + ': ' + JSON.stringify(r));
  }
  aud0.ws.close();
  for (const [msg, code] of [[{ type: 'film_seek', seconds: -5 }, 'bad_message'], [{ type: 'film_seek', seconds: '3' }, 'bad_message'],
    [{ type: 'film_seek_by' }, 'bad_message'], [{ type: 'film_jump', entry: 3 }, 'bad_value'], [{ type: 'film_jump', entry: 1.5 }, 'bad_message'],
    [{ type: 'film_volume', volume: 101 }, 'bad_message'], [{ type: 'break_add', seconds: 1e9 }, 'bad_message']]) {
    const r = await H.ask(mon, msg, ['error']);
    L.check(r && r.code === code, 'the console is refused ' + JSON.stringify(msg) + ': ' + (r && r.code));
  }
  const noToken = await H.hostConnect(player.port, {});
  try { noToken.ws.send(JSON.stringify({ type: 'film_pause' })); } catch (e) { /* closed already */ }
  await L.until(noToken, (x) => x.closed, 10);
  L.check(noToken.closed && noToken.closed.code === 1008, 'no film control without the host token: the console socket is closed ' +
    JSON.stringify(noToken.closed));

  let browser;
  let problems = [];
  try {
    const B = await H.launchBrowser(args, { width: 1100, height: 900 });
    ({ browser, problems } = B);
    const newPage = B.newPage;
    const host = await newPage();
    const aud = await newPage();
    const T = { timeout: 20000 };
    const W = { timeout: 20000, polling: 100 };
    await host.goto(base + '/host', T);
    await host.fill('#token', token);
    await Promise.all([host.waitForNavigation(T), host.click('#login-button')]);
    await host.waitForFunction(() => document.getElementById('conn-status').textContent === 'Connected', null, W);
    await aud.goto(base + '/', T);
    const page = async (p, fn, arg, what) => {
      const ok = await p.waitForFunction(fn, arg, W).then(() => true, () => false);
      L.check(ok, what);
    };
    const audienceShows = (now, next, what) => page(aud, ([n, x]) => document.getElementById('now-playing').textContent === n &&
      (x === null ? document.getElementById('next-line').hidden : document.getElementById('next-up').textContent === x),
    [now, next], 'audience page: ' + what + ' (now playing ' + now + ', next ' + next + ')');

    await page(host, () => /Playing 1 of 3: Alpha/.test(document.getElementById('film-now').textContent), null,
      'console: playing 1 of 3: Alpha');
    await audienceShows('Alpha', 'Bravo', 'the first film');
    await waitProg((m) => m.film_s >= 1.5, 'the first film plays');
    // pause and play
    await host.click('#film-play');
    await waitProg((m) => m.paused, 'paused');
    await page(aud, () => /paused/.test(document.getElementById('now-label').textContent), null, 'audience page: paused');
    await L.sleep(1200);
    await page(host, () => document.getElementById('film-play').textContent === 'Play', null, 'console: the button says Play');
    await host.click('#film-play');
    await waitProg((m) => !m.paused, 'playing again');
    await L.sleep(500);
    // +10 s, -10 s, the slider
    const t0 = latest().film_s;
    await host.click('#film-fwd');
    const fwd = await waitProg((m) => m.film_s >= t0 + 9, 'ten seconds on');
    await host.click('#film-back');
    await waitProg((m) => m.film_s < fwd.film_s - 8, 'ten seconds back');
    await host.$eval('#film-seek', (e) => { e.value = '7'; e.dispatchEvent(new Event('change')); });
    await waitProg((m) => m.film_s >= 7 && m.film_s < 9, 'the slider to 7 s');
    await L.sleep(700);
    await host.$eval('#film-volume', (e) => { e.value = '20'; e.dispatchEvent(new Event('change')); });
    await waitProg((m) => m.volume === 20, 'volume 20');
    await L.sleep(700);
    // next: the intermission before the second film
    await host.click('#film-next');
    await waitProg((m) => m.state === 'intermission' && m.now === 1, 'the intermission before Bravo');
    await page(aud, () => /Intermission/.test(document.getElementById('now-label').textContent) &&
      document.getElementById('now-playing').textContent === 'Bravo' && !document.getElementById('now-aigc').hidden, null,
    'audience page: intermission, Bravo next (AI-generated)');
    await host.click('#break-add');
    await waitProg((m) => m.state === 'intermission' && m.intermission_left_s > 200, 'five minutes added');
    await page(aud, () => /next in (2\d\d|3\d\d) s/.test(document.getElementById('now-label').textContent), null,
      'audience page: the countdown says five minutes more');
    await host.click('#break-now');
    await waitProg((m) => m.state === 'film' && m.now === 1, 'Bravo starts now');
    await audienceShows('Bravo', 'Charlie', 'the second film');
    await L.sleep(1000);
    // previous: straight back to the first
    await host.click('#film-prev');
    await waitProg((m) => m.state === 'film' && m.now === 0, 'back to Alpha');
    await audienceShows('Alpha', 'Bravo', 'the first film again');
    await L.sleep(1000);
    // jump to the third from the programme list
    await host.click('#programme-list li[data-entry="2"] button.jump');
    await waitProg((m) => m.state === 'film' && m.now === 2, 'jumped to Charlie');
    await audienceShows('Charlie', null, 'the last film');
    L.check(problems.length === 0, 'no errors on the pages: ' + problems.join(' | '));
  } finally {
    if (browser) await browser.close();
  }
  mon.ws.close();
  const r = await L.waitExit(player, 60);
  L.check(r.code === 0, 'the player finished cleanly');

  // the screen, frame by frame: what each control did to the film time, the sound, the film shown
  const lines = L.fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  const idx = (pred, from) => { for (let i = from || 0; i < lines.length; i++) if (pred(lines[i])) return i; return -1; };
  const presentsAfter = (i, n) => {
    const out = [];
    for (let k = i + 1; k < lines.length && out.length < n; k++) if (lines[k][0] === 'present') out.push(Number(lines[k][3]));
    return out;
  };
  const hostAt = {};
  lines.forEach((l, i) => { if (l[0] === 'host') (hostAt[l[1]] = hostAt[l[1]] || []).push(i); });
  for (const k of ['pause', 'play', 'seek_by', 'seek', 'volume', 'next', 'break_add', 'break_now', 'prev', 'jump']) {
    L.check(hostAt[k] && hostAt[k].length === (k === 'seek_by' ? 2 : 1), 'the log has the ' + k + ' control: ' + (hostAt[k] || []).length);
  }
  const pauseT = Number(lines[hostAt.pause[0]][4]);
  const paused = lines.slice(hostAt.pause[0], hostAt.play[0]).filter((l) => l[0] === 'present').map((l) => Number(l[3]));
  L.check(paused.length > 10 && paused.slice(2).every((t) => Math.abs(t - pauseT) < 0.1),
    'paused: ' + paused.length + ' frames all at ' + pauseT.toFixed(2) + ' s (from the second one on)');
  const afterPlay = presentsAfter(hostAt.play[0], 30);
  L.check(afterPlay[afterPlay.length - 1] > pauseT + 0.2, 'played again: the film time moves on (' + afterPlay[afterPlay.length - 1] + ')');
  // (a frame's worth of film time either way: under ThreadSanitizer, DM_TIME_SCALE > 1, frames come
  // a few a second, and the last one before a seek can be that far from where the film was)
  const seekTol = Number(process.env.DM_TIME_SCALE || 1) > 1 ? 0.5 : 0.2;
  for (const [i, delta] of [[hostAt.seek_by[0], 10], [hostAt.seek_by[1], -10]]) {
    let before = NaN;
    for (let k = i - 1; k >= 0 && isNaN(before); k--) if (lines[k][0] === 'present') before = Number(lines[k][3]);
    const t0 = Number(lines[i][4]);
    const next = presentsAfter(i, 1)[0];
    L.check(Math.abs(next - t0) < seekTol && Math.abs(next - Math.max(0, before + delta)) < seekTol,
      'seek by ' + delta + ' s: the next frame is at ' + next.toFixed(2) + ' s (the one before at ' +
      before.toFixed(2) + ' s, the seek at ' + t0.toFixed(2) + ' s)');
  }
  const seekNext = presentsAfter(hostAt.seek[0], 1)[0];
  L.check(Math.abs(seekNext - 7) < 0.2, 'the slider: the next frame is at ' + seekNext.toFixed(2) + ' s');
  const rms = (from, to) => {
    const v = lines.slice(from, to).filter((l) => l[0] === 'audio').map((l) => Number(l[2]));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const vi = hostAt.volume[0];
  const loudBefore = rms(vi - 200 > 0 ? vi - 200 : 0, vi), loudAfter = rms(vi + 20, hostAt.next[0]);
  L.check(loudBefore > 0.01 && loudAfter < loudBefore * 0.35, 'volume 20: the sound is quieter (rms ' +
    loudBefore.toFixed(4) + ' -> ' + loudAfter.toFixed(4) + ')');
  const filmLine = (entry, from) => idx((l) => l[0] === 'film' && l[1] === String(entry), from);
  const breakLine = idx((l) => l[0] === 'break' && l[1] === '1', hostAt.next[0]);
  L.check(breakLine > hostAt.next[0] && breakLine < hostAt.break_add[0], 'next: the intermission card follows');
  const bStart = filmLine(1, hostAt.break_now[0]);
  L.check(bStart > 0 && bStart < hostAt.prev[0], 'start now: the second film follows');
  const addLeft = Number(lines[hostAt.break_add[0]][4]);
  L.check(addLeft > 300, 'add five minutes: ' + addLeft.toFixed(1) + ' s left of the intermission');
  const aAgain = filmLine(0, hostAt.prev[0]);
  const breakAfterPrev = idx((l) => l[0] === 'break', hostAt.prev[0]);
  L.check(aAgain > 0 && aAgain < hostAt.jump[0] && (breakAfterPrev < 0 || breakAfterPrev > aAgain),
    'previous: the first film again, straight on');
  const cStart = filmLine(2, hostAt.jump[0]);
  L.check(cStart > 0, 'jump: the third film follows');
  const m = /host film controls: (\d+) \(play (\d+), pause (\d+), seek (\d+), seek by (\d+), next (\d+), previous (\d+), jump (\d+), volume (\d+), intermission ends now (\d+), intermission longer (\d+)\)/.exec(player.stderr());
  L.check(m && m.slice(1).map(Number).join() === '11,1,1,1,2,1,1,1,1,1,1', 'the statistics count every control: ' + (m && m[0]));
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
