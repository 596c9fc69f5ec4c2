// The host console in a real browser (Debian's Chromium through
// playwright-core), every action with its visible effect on the audience
// page (a second browser page) and on the screen (the player's headless
// frames, taken every half second of film time by a --script and checked for
// each comment's colour). Login through the console's form; then: the live
// list, delete, approval (approve and reject), pause and resume the feed, ban
// and unban, slow mode, rate cap, blocklist with preview, emergency clear,
// statistics. A replay of the recording honours the delete and the clear.
//
// No check depends on speed: the test reads the film time and the count of
// comments on screen from the console's statistics, and picks the first frame
// taken after the state it checks was on screen.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const L = require('../live/lib');
const H = require('./hostlib');

const STEP_MS = 500;            // a screenshot every half second of film time
const LAST_SHOT_MS = 150000;
const COLOURS = {
  red: [254, 3, 2], orange: [255, 114, 4], yellow: [255, 255, 0], green: [0, 205, 0], cyan: [1, 152, 153],
  blue: [66, 102, 190], lime: [160, 238, 0], pink: [204, 2, 115], sky: [137, 213, 255], amber: [255, 170, 2],
  gold: [255, 211, 2],
};
const HEX = { red: '#FE0302', orange: '#FF7204', yellow: '#FFFF00', green: '#00CD00', cyan: '#019899', blue: '#4266BE',
  lime: '#A0EE00', pink: '#CC0273', sky: '#89D5FF', amber: '#FFAA02', gold: '#FFD302', white: '#FFFFFF' };

async function main() {
  const args = L.parseArgs(process.argv);
  const dir = args.workdir;
  const film = L.path.join(dir, 'film.mp4');
  const script = L.path.join(dir, 'shots.txt');
  const rec = L.path.join(dir, 'console-rec.jsonl');
  const dump = L.path.join(dir, 'console-layout.jsonl');
  const shots = L.path.join(dir, 'shots');
  for (const f of [rec, dump, shots]) L.fs.rmSync(f, { force: true, recursive: true });
  L.fs.mkdirSync(shots);
  // a plain dark film long enough for the whole test, made here (no colour of the palette in it)
  if (!L.fs.existsSync(film)) {
    execFileSync(args.ffmpeg || 'ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x202830:s=960x540:r=10',
      '-t', '200', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', film]);
  }
  const shotPath = (ms) => L.path.join(shots, 'at-' + ms + '.png');
  const lines = [];
  for (let ms = 1000; ms <= LAST_SHOT_MS; ms += STEP_MS) lines.push((ms / 1000).toFixed(1) + ' screenshot ' + shotPath(ms));
  L.fs.writeFileSync(script, lines.join('\n') + '\n');

  const player = await L.startPlayer({ ...args, film }, ['--size', '960x540', '--font-px', '28', '--fixed', '150',
    '--live-rate', '50', '--live-burst', '50', '--record', rec, '--dump-layout', dump, '--script', script]);
  const { token } = H.hostToken(player);
  const base = 'http://127.0.0.1:' + player.port;
  // an independent console client reads the figures: film time and comments on screen
  const mon = await H.hostConnect(player.port, { Authorization: 'Bearer ' + token });
  const statsNow = async () => {
    const before = mon.messages.length;
    mon.ws.send(JSON.stringify({ type: 'stats' }));
    await L.until(mon, (x) => x.messages.slice(before).some((m) => m.type === 'stats'), 10);
    return mon.messages.slice(before).find((m) => m.type === 'stats');
  };
  const waitState = async (pred, what) => {
    if (!(await L.until(mon, (x) => x.state && pred(x.state), 10))) L.fail('the console state never showed ' + what);
  };
  const waitScreen = async (pred, what) => {
    const deadline = Date.now() + 30000;
    for (;;) {
      const s = await statsNow();
      if (s && pred(s)) return s;
      if (Date.now() > deadline) L.fail('the screen never reached: ' + what + ' (' + JSON.stringify(s) + ')');
      await L.sleep(100);
    }
  };
  // the first frame taken after film time `ms`, once it has been written
  const frameAfter = async (ms) => {
    const at = Math.max(1000, (Math.floor(ms / STEP_MS) + 1) * STEP_MS);
    if (at > LAST_SHOT_MS) L.fail('the film ran past the last screenshot');
    await waitScreen((s) => s.film_ms >= at + 200, 'film time ' + (at + 200) + ' ms');
    // the film clock can run ahead of the frames drawn (a slow build draws a few a second): the
    // screenshot is there once the frame at `at` has been drawn (the player writes it whole, renamed)
    const deadline = Date.now() + 30000;
    while (!L.fs.existsSync(shotPath(at))) {
      if (Date.now() > deadline) L.fail('the screenshot at ' + at + ' ms was never written');
      await L.sleep(100);
    }
    return { at, img: L.readPng(shotPath(at)) };
  };
  const px = (frame, colour) => L.countColour(frame.img, COLOURS[colour], { x: 0, y: 0, w: 0, h: 0 }, 20).outside;
  const onScreen = (frame, colour, what) =>
    L.check(px(frame, colour) > 40, 'screen at ' + frame.at + ' ms: ' + what + ' (' + px(frame, colour) + ' px of ' + colour + ')');
  const offScreen = (frame, colour, what) =>
    L.check(px(frame, colour) === 0, 'screen at ' + frame.at + ' ms: ' + what + ' (' + px(frame, colour) + ' px of ' + colour + ')');

  let browser;
  let problems = [];
  try {
    const B = await H.launchBrowser(args, { width: 1200, height: 900 });
    ({ browser, problems } = B);
    const newPage = B.newPage;
    const host = await newPage();
    const a1 = await newPage();
    const a2 = await newPage();
    const T = { timeout: 20000 };
    const W = { timeout: 20000, polling: 100 };   // pages in the background get no animation frames

    // ---- login through the console's form
    const first = await host.goto(base + '/host', T);
    L.check(first.status() === 401, 'console without a session: 401 with the login form');
    await host.fill('#token', token);
    await Promise.all([host.waitForNavigation(T), host.click('#login-button')]);
    await host.waitForFunction(() => document.getElementById('conn-status').textContent === 'Connected', null, W);
    L.check(true, 'logged in through the form: the console is connected');

    for (const a of [a1, a2]) {
      await a.goto(base + '/', T);
      await a.waitForSelector('#send:not([disabled])', T);
    }
    const send = async (page, text, colour, mode) => {
      await page.click('button.swatch[title="' + HEX[colour] + '"]');
      await page.check('input[name=mode][value=' + (mode || 'top') + ']');
      await page.fill('#text', text);
      await page.click('#send');
    };
    const status = async (page, re, what) => {
      await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent),
        re.source, W).catch(() => null);
      const text = await page.textContent('#status');
      L.check(re.test(text), 'audience page: ' + what + ' ("' + text + '")');
    };
    const inFeed = (page, text) => page.evaluate((t) => [...document.querySelectorAll('#feed li')].some((li) => li.textContent === t), text);
    const rowStatus = async (text, st) => {
      await host.waitForFunction(([t, s]) => [...document.querySelectorAll('#comments tr')].some((tr) =>
        tr.querySelector('td.text').textContent === t && tr.dataset.status === s), [text, st], W).catch(() => null);
      const ok = await host.evaluate(([t, s]) => [...document.querySelectorAll('#comments tr')].some((tr) =>
        tr.querySelector('td.text').textContent === t && tr.dataset.status === s), [text, st]);
      L.check(ok, 'console lists "' + text + '" as ' + st);
    };
    const rowButton = (text, cls) => host.locator('#comments tr', { has: host.locator('td.text', { hasText: text }) })
      .first().locator('button.' + cls);

    // ---- the live list and delete
    await send(a1, 'delete me', 'red');
    await status(a1, /^Sent!$/, 'Sent!');
    await rowStatus('delete me', 'shown');
    const row = await host.evaluate(() => {
      const tr = [...document.querySelectorAll('#comments tr')].find((r) => r.querySelector('td.text').textContent === 'delete me');
      return { author: tr.querySelector('td.author').textContent, time: tr.querySelector('td.time').textContent };
    });
    L.check(/^[0-9a-f]{6}$/.test(row.author) && /^\d+:\d\d\.\d$/.test(row.time),
      'the list shows the author (short hash ' + row.author + ') and the film time (' + row.time + ')');
    let s = await waitScreen((x) => x.on_screen === 1, 'one comment on screen');
    onScreen(await frameAfter(s.film_ms), 'red', 'the comment is on screen');
    L.check(await inFeed(a1, 'delete me'), 'audience page lists it under "On screen now"');
    await rowButton('delete me', 'delete').click();
    await rowStatus('delete me', 'deleted');
    await a1.waitForFunction(() => ![...document.querySelectorAll('#feed li')].some((li) => li.textContent === 'delete me'), null, W);
    L.check(true, 'audience page: the deleted comment left its list');
    s = await waitScreen((x) => x.on_screen === 0, 'nothing on screen after the delete');
    offScreen(await frameAfter(s.film_ms), 'red', 'the deleted comment is gone at once');

    // ---- approval: approve one, reject one
    await host.check('#approval');
    await waitState((st) => st.approval, 'approval');
    await send(a1, 'approve me', 'orange');
    await status(a1, /Waiting for the host's approval/, 'waiting for approval');
    await rowStatus('approve me', 'held');
    s = await waitScreen((x) => x.held === 1, 'one comment held');
    offScreen(await frameAfter(s.film_ms), 'orange', 'a held comment is not shown');
    await rowButton('approve me', 'approve').click();
    await status(a1, /^Sent!$/, 'Sent! once approved');
    await rowStatus('approve me', 'shown');
    await a1.waitForFunction(() => [...document.querySelectorAll('#feed li')].some((li) => li.textContent === 'approve me'), null, W);
    s = await waitScreen((x) => x.on_screen === 1 && x.held === 0, 'the approved comment on screen');
    onScreen(await frameAfter(s.film_ms), 'orange', 'the approved comment is shown');
    await send(a1, 'reject me', 'yellow');
    await status(a1, /Waiting for the host's approval/, 'waiting for approval');
    await rowButton('reject me', 'reject').click();
    await status(a1, /did not approve/, 'the host did not approve it');
    await rowStatus('reject me', 'rejected');
    s = await waitScreen((x) => x.held === 0 && x.rejected.rejected === 1, 'the rejection counted');
    offScreen(await frameAfter(s.film_ms), 'yellow', 'the rejected comment never shows');
    await host.uncheck('#approval');
    await waitState((st) => !st.approval, '!approval');

    // ---- pause and resume the feed
    await host.click('#pause');
    await waitState((st) => st.paused, 'paused');
    await host.waitForFunction(() => document.getElementById('pause').textContent === 'Resume feed', null, W).catch(() => null);
    L.check(await host.textContent('#pause') === 'Resume feed', 'console: the button now resumes the feed');
    await send(a1, 'after pause', 'green');
    await status(a1, /feed is paused/, 'the feed is paused');
    await rowStatus('after pause', 'waiting');
    s = await waitScreen((x) => x.waiting === 1, 'one comment waiting');
    offScreen(await frameAfter(s.film_ms), 'green', 'a waiting comment is not shown while paused');
    await host.click('#pause');
    await status(a1, /^Sent!$/, 'Sent! once the feed resumes');
    await rowStatus('after pause', 'shown');
    s = await waitScreen((x) => x.on_screen === 2 && x.waiting === 0, 'the waiting comment on screen');
    onScreen(await frameAfter(s.film_ms), 'green', 'the comment comes on screen when the feed resumes');

    // ---- ban and unban an author
    await rowButton('after pause', 'ban').click();
    await waitState((st) => st.bans.length === 1, 'bans.length === 1');
    await send(a1, 'banned text', 'cyan');
    await status(a1, /blocked your comments/, 'the banned author is told');
    await rowStatus('banned text', 'rejected');
    await send(a2, 'other viewer', 'blue');
    await status(a2, /^Sent!$/, 'another viewer still comments');
    s = await waitScreen((x) => x.on_screen === 3, "the other viewer's comment on screen");
    let f = await frameAfter(s.film_ms);
    offScreen(f, 'cyan', "the banned author's comment never shows");
    onScreen(f, 'blue', "the other viewer's comment shows");
    await host.locator('#bans button.unban').first().click();
    await waitState((st) => st.bans.length === 0, 'bans.length === 0');
    await send(a1, 'welcome back', 'lime');
    await status(a1, /^Sent!$/, 'unbanned: the author comments again');
    s = await waitScreen((x) => x.on_screen === 4, 'the unbanned comment on screen');
    onScreen(await frameAfter(s.film_ms), 'lime', "the unbanned author's comment shows");

    // ---- slow mode
    await host.fill('#slow', '60');
    await host.click('#slow-set');
    await waitState((st) => st.slow_mode_s === 60, 'slow_mode_s === 60');
    await send(a2, 'slow one', 'white', 'scroll');
    await status(a2, /^Sent!$/, 'slow mode: the first comment passes');
    await send(a2, 'slow two', 'pink');
    await status(a2, /Slow mode: one comment every 60 s/, 'slow mode: the second is refused with the interval');
    await rowStatus('slow two', 'rejected');
    await host.fill('#slow', '0');
    await host.click('#slow-set');
    await waitState((st) => st.slow_mode_s === 0, 'slow_mode_s === 0');

    // ---- global rate cap
    await host.fill('#rate', '1');
    await host.click('#rate-set');
    await waitState((st) => st.rate_per_min === 1, 'rate_per_min === 1');
    await send(a1, 'rate one', 'white', 'scroll');
    await status(a1, /^Sent!$/, 'rate cap: the first comment passes');
    await send(a2, 'rate two', 'sky');
    await status(a2, /Too busy right now/, 'rate cap: the next one, from anyone, is refused');
    await host.fill('#rate', '0');
    await host.click('#rate-set');
    await waitState((st) => st.rate_per_min === 0, 'rate_per_min === 0');

    // ---- blocklist with a preview
    await send(a2, 'Spoiler alert', 'white', 'scroll');
    await status(a2, /^Sent!$/, 'a comment the new rule will match is sent first');
    await host.fill('#rule-pattern', 'spoiler');
    await host.click('#rule-preview');
    await host.waitForFunction(() => document.getElementById('preview').dataset.count === '1', null, W).catch(() => null);
    const preview = await host.textContent('#preview');
    L.check(/Would have blocked 1/.test(preview) && preview.includes('Spoiler alert'),
      'console: the preview shows what the rule would have blocked ("' + preview + '")');
    await host.click('#rule-add');
    await host.waitForFunction(() => [...document.querySelectorAll('#rules li')].some((li) => li.textContent.includes('"spoiler"')), null, W);
    L.check(true, 'console: the rule is in the blocklist');
    await send(a1, 'ＳＰＯＩＬＥＲ ending', 'amber');
    await status(a1, /host has blocked/, 'a full-width variant is blocked');
    await rowStatus('ＳＰＯＩＬＥＲ ending', 'rejected');

    // ---- emergency clear
    s = await waitScreen((x) => x.on_screen >= 4, 'the comments still on screen before the clear');
    f = await frameAfter(s.film_ms);
    for (const c of ['orange', 'green', 'blue', 'lime']) onScreen(f, c, 'before the clear: ' + c + ' is on screen');
    for (const c of ['cyan', 'pink', 'sky', 'amber', 'yellow']) offScreen(f, c, 'refused comments never showed: ' + c);
    await host.click('#clear');
    await a1.waitForFunction(() => document.querySelectorAll('#feed li').length === 0, null, W);
    L.check(true, 'audience page: the clear empties "On screen now"');
    s = await waitScreen((x) => x.on_screen === 0, 'an empty screen after the clear');
    f = await frameAfter(s.film_ms);
    for (const c of ['orange', 'green', 'blue', 'lime']) offScreen(f, c, 'after the clear: no ' + c);
    await send(a1, 'after the clear', 'gold');
    await status(a1, /sent/i, 'a comment after the clear is sent');
    s = await waitScreen((x) => x.on_screen >= 1, 'the comment after the clear');
    f = await frameAfter(s.film_ms);
    onScreen(f, 'gold', 'a comment after the clear shows');

    // ---- statistics on the console
    await L.sleep(1200);   // the console's figures come every second
    const shown = await host.evaluate(() => ({
      audience: Number(document.getElementById('stat-audience').textContent),
      perMinute: Number(document.getElementById('stat-per-minute').textContent),
      onScreen: Number(document.getElementById('stat-on-screen').textContent),
      dropped: Number(document.getElementById('stat-dropped').textContent),
      rejected: document.getElementById('stat-rejected').textContent,
    }));
    L.check(shown.audience === 2, 'console: 2 in the audience (' + shown.audience + ')');
    // 9 were shown in all; those of the last minute count (the last one a few seconds ago)
    L.check(shown.perMinute >= 1 && shown.perMinute <= 9, 'console: comments per minute (' + shown.perMinute + ')');
    L.check(shown.onScreen === 1 && shown.dropped === 0, 'console: 1 on screen (the comment after the clear), 0 dropped (' + shown.onScreen + ', ' + shown.dropped + ')');
    L.check(['blocked 1', 'banned 1', 'slow mode 1', 'busy 1', 'rejected 1'].every((k) => shown.rejected.includes(k)),
      'console: rejections by reason (' + shown.rejected + ')');
    L.check(problems.length === 0, 'no console errors or CSP violations (' + problems.join(' | ') + ')');
  } finally {
    if (browser) await browser.close();
  }
  mon.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  // ---- the recording keeps the delete and the clear; the dump and a replay honour them
  const recLines = L.readJsonl(rec);
  const deleted = recLines.find((l) => l.text === 'delete me');
  L.check(recLines.some((l) => l.type === 'delete' && l.id === deleted.id), 'the recording has the delete line for ' + deleted.id);
  const deletes = new Set(recLines.filter((l) => l.type === 'delete').map((l) => l.id));
  const cleared = recLines.filter((l) => l.type === 'comment' && l.text !== 'delete me' && l.text !== 'after the clear');
  L.check(cleared.length >= 4 && cleared.every((l) => deletes.has(l.id)), 'the clear is in the recording: a delete line for each of the ' + cleared.length + ' comments it took off');
  const after = recLines.find((l) => l.text === 'after the clear');
  L.check(after && !deletes.has(after.id), 'the comment after the clear is not deleted');
  const refused = ['reject me', 'banned text', 'slow two', 'rate two', 'ＳＰＯＩＬＥＲ ending'];
  L.check(!recLines.some((l) => refused.includes(l.text)), 'no refused comment is in the recording');
  const live = L.readJsonl(dump).find((l) => l.text === 'delete me');
  L.check(live && !live.shown && live.reason === 'deleted', 'the live layout dump says "deleted"');
  const replayShot = L.path.join(dir, 'replay.png');
  const at = (Math.floor(deleted.t_ms / STEP_MS) + 1) * STEP_MS;
  const approved = recLines.find((l) => l.text === 'approve me');
  const laterShot = L.path.join(dir, 'replay-later.png');
  const later = (Math.floor(approved.t_ms / STEP_MS) + 1) * STEP_MS;
  const lastShot = L.path.join(dir, 'replay-after-clear.png');
  const last = (Math.floor(after.t_ms / STEP_MS) + 1) * STEP_MS;
  const r = spawnSync(args.player, [film, '--track', rec, '--headless', '--fast', '--size', '960x540', '--font-px', '28',
    '--fixed', '150', '--until', String(last / 1000 + 1), '--screenshot', (at / 1000) + ':' + replayShot,
    '--screenshot', (later / 1000) + ':' + laterShot, '--screenshot', (last / 1000) + ':' + lastShot],
  { encoding: 'utf8', timeout: 60000 });
  L.check(r.status === 0, 'the replay ran (' + (r.stderr || '').trim() + ')');
  const shotPx = (file, colour) => L.countColour(L.readPng(file), COLOURS[colour], { x: 0, y: 0, w: 0, h: 0 }, 20).outside;
  const rp = shotPx(replayShot, 'red'), rl = shotPx(laterShot, 'orange'), rg = shotPx(lastShot, 'gold');
  L.check(rp === 0 && rl === 0 && rg > 40, 'replay with --track: the deleted comment never shows (' + rp +
    ' px), nor the cleared ones (' + rl + ' px of orange), the one after the clear does (' + rg + ' px)');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
