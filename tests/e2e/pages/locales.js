// The pages in the audience's language: Chromium with its locale set to each
// language the pages speak opens the audience page, the login page and the
// console. Each shows its main strings in that language, the server's
// "too fast" refusal as that language's sentence with a countdown on the
// button, the characters left in grapheme clusters, the screening's title and
// the film; the switcher changes the language and the choice is kept across
// a reload. A browser whose languages are none of the pages' gets the
// screening's --page-lang. axe-core finds no serious or critical violation on
// any page, in the dark and the light scheme; at 320x640 and 1280x800, in
// two languages, nothing is clipped (the screenshots are kept in the workdir).
'use strict';
const P = require('./pageslib');
const { L, tr, pattern } = P;

const TITLE = 'Festival night 映画祭';
const TOKEN = 'pages-token-12345';
const W = { timeout: 15000 };

async function main() {
  const args = L.parseArgs(process.argv);
  // one comment, then one every 5 s: the second at once is refused as too fast
  const player = await L.startPlayer(args, ['--size', '320x180', '--loop', '--title', TITLE, '--page-lang', 'ko',
    '--host-token', TOKEN, '--live-rate', '0.2', '--live-burst', '1']);
  const base = 'http://127.0.0.1:' + player.port;
  const problems = [];
  const browser = await P.launch(args);
  try {
    const screening = JSON.parse((await (await fetch(base + '/screening.json')).text()));
    L.check(screening.title === TITLE && screening.lang === 'ko' && screening.caps.graphemes === 60,
      '/screening.json: the title, --page-lang and the caps ' + JSON.stringify(screening));
    for (const lang of ['zh-CN', 'zh-TW', 'ja', 'ko', 'en']) {
      const page = await P.newPage(browser, lang, null, problems);
      const resp = await page.goto(base + '/', W);
      L.check(!/unsafe-inline/.test(resp.headers()['content-security-policy']), lang + ': the CSP stays strict');
      await page.waitForSelector('#send:not([disabled])', W);
      const shown = await page.evaluate(() => ({
        lang: document.documentElement.lang, title: document.title,
        h1: document.querySelector('h1').textContent, send: document.getElementById('send').textContent,
        placeholder: document.getElementById('text').placeholder, status: document.getElementById('status').textContent,
        red: document.querySelector('button.swatch[title="#FE0302"]').getAttribute('aria-label'),
        screening: document.getElementById('screening-title').textContent,
        now: document.getElementById('now-label').textContent, film: document.getElementById('now-playing').textContent,
        switcher: document.getElementById('lang').value,
      }));
      L.check(shown.lang === lang && shown.switcher === lang, lang + ': the page is in the browser\'s language (' + shown.lang + ')');
      L.check(shown.title === tr(lang, 'audience.doc_title') && shown.h1 === tr(lang, 'audience.heading') &&
        shown.send === tr(lang, 'audience.send') && shown.placeholder === tr(lang, 'audience.placeholder') &&
        shown.status === tr(lang, 'status.connected'), lang + ': the main strings ' + JSON.stringify(shown));
      L.check(shown.red === tr(lang, 'colour.FE0302'), lang + ': the red swatch is named "' + shown.red + '"');
      L.check(shown.screening === TITLE && shown.now === tr(lang, 'audience.now_playing') && shown.film === 'danmaku demo film',
        lang + ': the screening\'s title and the film playing (its title from the container)');
      // grapheme clusters, as the server counts them: a skin-toned thumb is one (of two code points)
      await page.fill('#text', '👍🏽👍🏽abc');
      const left = await page.textContent('#left');
      L.check(left === tr(lang, 'audience.left', { n: 55 }), lang + ': 55 of 60 clusters left ("' + left + '")');
      await page.fill('#text', '字'.repeat(62));
      L.check(await page.textContent('#left') === tr(lang, 'audience.over', { n: 2 }), lang + ': 2 too many');

      // a comment, and one more at once: the server's refusal in this language, a countdown on the button
      await page.fill('#text', 'hello ' + lang);
      await page.click('#send');
      await page.waitForFunction((s) => document.getElementById('status').textContent === s, tr(lang, 'status.sent'), W);
      await page.fill('#text', 'again ' + lang);
      await page.click('#send');
      const fast = pattern(lang, 'error.rate_limited.wait');
      await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), fast.source, W)
        .catch(() => null);
      const refusal = await page.evaluate(() => ({ status: document.getElementById('status').textContent,
        button: document.getElementById('send').textContent, disabled: document.getElementById('send').disabled }));
      const secs = fast.exec(refusal.status);
      L.check(secs && Number(secs[1]) >= 1 && Number(secs[1]) <= 5, lang + ': too fast, as a sentence: "' + refusal.status + '"');
      L.check(pattern(lang, 'audience.send_wait').test(refusal.button) && refusal.disabled,
        lang + ': the button counts down: "' + refusal.button + '"');
      await page.waitForFunction((s) => document.getElementById('send').textContent === s && !document.getElementById('send').disabled,
        tr(lang, 'audience.send'), { timeout: 10000 });
      L.check(true, lang + ': the button says "' + tr(lang, 'audience.send') + '" again when the wait is over');

      const bad = await P.audit(page);
      L.check(bad.length === 0, lang + ': axe-core, audience page: no serious or critical violation ' + JSON.stringify(bad));

      // the switcher, and the choice kept
      const other = lang === 'ja' ? 'ko' : 'ja';
      await page.selectOption('#lang', other);
      await page.waitForFunction((s) => document.querySelector('h1').textContent === s, tr(other, 'audience.heading'), W);
      L.check(await page.textContent('#status') === tr(other, 'error.rate_limited.wait', { s: secs[1] }),
        lang + ': switched to ' + other + ', the status line says it again in ' + other);
      await page.reload(W);
      await page.waitForSelector('#send:not([disabled])', W);
      const kept = await page.evaluate(() => [document.documentElement.lang, document.querySelector('h1').textContent]);
      L.check(kept[0] === other && kept[1] === tr(other, 'audience.heading'), lang + ': the choice of ' + other + ' is kept on reload');
      await page.context().close();

      // the login page and the console, in the browser's language
      const host = await P.newPage(browser, lang, { width: 1280, height: 800 }, problems);
      await host.goto(base + '/host', W);
      await host.waitForFunction((s) => document.querySelector('h1').textContent === s, tr(lang, 'login.heading'), W);
      L.check(await host.textContent('#login-button') === tr(lang, 'login.button') &&
        await host.getAttribute('#token', 'placeholder') === tr(lang, 'login.token'), lang + ': the login page');
      const badLogin = await P.audit(host);
      L.check(badLogin.length === 0, lang + ': axe-core, login page: none serious or critical ' + JSON.stringify(badLogin));
      await host.fill('#token', TOKEN);
      await Promise.all([host.waitForNavigation(W), host.click('#login-button')]);
      await host.waitForFunction((s) => document.getElementById('conn-status').textContent === s, tr(lang, 'host.connected'), W);
      await host.waitForSelector('#plot-rate canvas', W);
      const con = await host.evaluate(() => ({ h1: document.querySelector('h1').textContent,
        pause: document.getElementById('pause').textContent, caption: document.getElementById('plot-rate-caption').textContent,
        logout: document.getElementById('logout').textContent }));
      L.check(con.h1 === tr(lang, 'host.heading') && con.pause === tr(lang, 'host.pause') &&
        con.caption === tr(lang, 'host.plot.rate') && con.logout === tr(lang, 'host.logout'), lang + ': the console ' + JSON.stringify(con));
      await host.waitForFunction(() => document.querySelectorAll('#comments tr').length >= 1, null, W);
      const badConsole = await P.audit(host);
      L.check(badConsole.length === 0, lang + ': axe-core, console: none serious or critical ' + JSON.stringify(badConsole));
      await host.context().close();
    }

    // none of the browser's languages is the pages': the screening's default (--page-lang ko)
    const fr = await P.newPage(browser, 'fr-FR', null, problems);
    await fr.goto(base + '/', W);
    await fr.waitForSelector('#send:not([disabled])', W);
    L.check(await fr.evaluate(() => document.documentElement.lang) === 'ko' && await fr.textContent('h1') === tr('ko', 'audience.heading'),
      'a French browser gets the screening\'s --page-lang, Korean');
    await fr.context().close();

    // light and dark, 320x640 and 1280x800 in two languages (and the other three at 320x640):
    // nothing clipped, no serious violation
    const shots = [];
    for (const lang of ['en', 'ja', 'zh-CN', 'zh-TW', 'ko']) {
      for (const vp of [{ width: 320, height: 640 }, { width: 1280, height: 800 }]) {
        for (const scheme of ['dark', 'light']) {
          if (lang === 'en' || lang === 'ja' || (vp.width === 320 && scheme === 'dark')) shots.push([lang, vp, scheme]);
        }
      }
    }
    {
      for (const [lang, vp, scheme] of shots) {
        {
          const page = await P.newPage(browser, lang, vp, problems, scheme);
          await page.goto(base + '/', W);
          await page.waitForSelector('#send:not([disabled])', W);
          await page.fill('#text', 'Ready 準備OK');
          const name = 'audience-' + lang + '-' + vp.width + 'x' + vp.height + '-' + scheme + '.png';
          await page.screenshot({ path: L.path.join(args.workdir, name), fullPage: true });
          const c = await P.clipped(page);
          L.check(c.length === 0, name + ': nothing clipped ' + JSON.stringify(c));
          if (scheme === 'light') {
            const bad = await P.audit(page);
            L.check(bad.length === 0, name + ': axe-core in the light scheme ' + JSON.stringify(bad));
          }
          await page.goto(base + '/host', W);
          await page.waitForSelector('#login-button', W);
          const lname = 'login-' + lang + '-' + vp.width + 'x' + vp.height + '-' + scheme + '.png';
          await page.screenshot({ path: L.path.join(args.workdir, lname), fullPage: true });
          const lc = await P.clipped(page);
          L.check(lc.length === 0, lname + ': nothing clipped ' + JSON.stringify(lc));
          if (scheme === 'dark') {
            await page.fill('#token', TOKEN);
            await Promise.all([page.waitForNavigation(W), page.click('#login-button')]);
            await page.waitForFunction((s) => document.getElementById('conn-status').textContent === s, tr(lang, 'host.connected'), W);
            await page.waitForSelector('#plot-rate canvas', W);
            await L.sleep(1500);   // a statistics message or two in the plots
            const cname = 'console-' + lang + '-' + vp.width + 'x' + vp.height + '.png';
            await page.screenshot({ path: L.path.join(args.workdir, cname), fullPage: true });
            const cc = await P.clipped(page);
            L.check(cc.length === 0, cname + ': nothing clipped ' + JSON.stringify(cc));
          }
          await page.context().close();
        }
      }
    }
    L.check(problems.length === 0, 'no console errors or CSP violations (' + problems.join(' | ') + ')');
  } finally {
    await browser.close();
  }
  player.proc.kill('SIGTERM');
  const r = await L.waitExit(player, 30);
  L.check(r && r.code === 0, 'the player exits cleanly');
  const bad = require('child_process').spawnSync(args.player, [args.film, '--headless', '--listen', '127.0.0.1:0', '--page-lang', 'fr'],
    { encoding: 'utf8', timeout: 30000 });
  L.check(bad.status !== 0 && /--page-lang wants en, zh-CN, zh-TW, ja or ko/.test(bad.stderr),
    '--page-lang fr is refused with the languages there are (' + bad.stderr.trim() + ')');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
