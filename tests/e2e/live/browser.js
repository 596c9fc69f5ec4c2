// A real browser on the audience page: Debian's Chromium, driven by
// playwright-core, opens the page, types a comment, picks a colour, sends it;
// the page says "Sent!" and shows it in its feed, the page loads with no
// Content-Security-Policy violation, and the comment is in the headless frame
// where the engine placed it.
'use strict';
const L = require('./lib');
const { chromium } = require('playwright-core');

async function main() {
  const args = L.parseArgs(process.argv);
  const dump = L.path.join(args.workdir, 'browser-live-layout.jsonl');
  const shot = L.path.join(args.workdir, 'browser-25s.png');
  const profile = L.path.join(args.workdir, 'chromium-profile');
  // a slow comment and a late screenshot leave the browser plenty of film time
  // to send it, however loaded the machine is (no check depends on wall time)
  const SHOT_MS = 25000;
  for (const f of [dump, shot, profile]) L.fs.rmSync(f, { force: true, recursive: true });
  const player = await L.startPlayer(args, ['--size', '640x360', '--font-px', '32', '--scroll', '60', '--until', '26',
    '--dump-layout', dump, '--screenshot', (SHOT_MS / 1000) + ':' + shot]);
  let browser;
  try {
    // a fresh profile each run: playwright passes it as --user-data-dir
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60000,
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    });
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    const resp = await page.goto('http://127.0.0.1:' + player.port + '/', { timeout: 20000 });
    L.check(resp.status() === 200, 'the audience page loads');
    const csp = resp.headers()['content-security-policy'] || '';
    L.check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), 'strict Content-Security-Policy: ' + csp);
    await page.waitForSelector('#send:not([disabled])', { timeout: 20000 });
    const status = await page.textContent('#status');
    L.check(/Connected/.test(status), 'the page connected to the feed: ' + JSON.stringify(status));
    await page.click('button.swatch[title="#FE0302"]');
    await page.check('input[name=size][value=large]');
    await page.fill('#text', 'browser 你好');
    await page.click('#send');
    await page.waitForFunction(() => document.getElementById('status').textContent === 'Sent!', null, { timeout: 10000 });
    L.check(true, 'the page says Sent!');
    await page.waitForFunction(() => [...document.querySelectorAll('#feed li')].some((li) => li.textContent === 'browser 你好'),
      null, { timeout: 10000 });
    L.check(true, 'the page shows the comment in its feed');
    // an empty comment gets clear feedback without reaching the server
    await page.fill('#text', '   ');
    await page.click('#send');
    L.check(/Write something/.test(await page.textContent('#status')), 'empty text: the page says to write something');
    L.check(problems.length === 0, 'no console errors or CSP violations (' + problems.join(' | ') + ')');
  } finally {
    if (browser) await browser.close();
  }
  const r = await L.waitExit(player, 90);
  L.check(r.code === 0, 'the player finished cleanly');
  const live = L.readJsonl(dump);
  const c = live.find((l) => l.type === 'comment' && l.text === 'browser 你好');
  L.check(c && c.shown && c.size === 'large', 'the comment was laid out: ' + JSON.stringify(c));
  L.check(c.t_ms < SHOT_MS - 300, 'it came before the screenshot time (t_ms ' + c.t_ms + ')');
  const img = L.readPng(shot);
  const box = L.boxAt(c, SHOT_MS);
  const red = L.countColour(img, [254, 3, 2], { x: box.x - 6, y: box.y - 2, w: box.w + 12, h: box.h + 4 }, 40);
  L.check(red.inside > 100 && red.outside < 10, 'it is drawn in the frame where the engine placed it ' +
    JSON.stringify(box) + ' (' + red.inside + ' px inside, ' + red.outside + ' outside)');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
