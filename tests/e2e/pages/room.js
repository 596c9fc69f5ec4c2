// The console's plots during a flood: 60 comments from 6 viewers in about
// 10 s and 3 the blocklist refuses. The comments the rate plot shows (all of
// them came within the last minute) add up to the statistics' comments per
// minute, its blocked layer to the statistics' blocked count, the density
// plot's total to both together, the audience plot says 6 connected; the
// blocked layer is drawn in its colour on the canvas, which had none of it
// before the refusals.
'use strict';
const P = require('./pageslib');
const H = require('../host/hostlib');
const { L } = P;

const TOKEN = 'room-token-123456';
const W = { timeout: 15000 };
const VIEWERS = 6;
const EACH = 10;

// Pixels of the canvas within tol of rgb, counted in the page (the canvas is the page's own).
function canvasCount(page, id, rgb, tol) {
  return page.evaluate(([id, rgb, tol]) => {
    const c = document.querySelector('#' + id + ' canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol) n++;
    }
    return n;
  }, [id, rgb, tol]);
}

// What the plots hold now: the rate plot's layers (each series is the stack up to its layer, the top one first).
function plotted(page) {
  return page.evaluate(() => {
    const u = document.getElementById('plot-rate').uplot;
    const layers = {};
    for (let i = 1; i < u.series.length; i++) {
      const below = i + 1 < u.series.length ? u.data[i + 1] : null;
      layers[u.series[i].layer] = u.data[i].reduce((s, v, j) => s + v - (below ? below[j] : 0), 0);
    }
    const d = document.getElementById('plot-density').uplot;
    const a = document.getElementById('plot-audience').uplot;
    const blocked = u.series.find((s) => s.layer === 'blocked');
    return { layers, density: d.data[1].reduce((s, v) => s + v, 0), audience: a.data[1][a.data[1].length - 1],
      blockedFill: blocked.fill(u, u.series.indexOf(blocked)),
      perMinute: Number(document.getElementById('stat-per-minute').textContent) };
  });
}

async function main() {
  const args = L.parseArgs(process.argv);
  const player = await L.startPlayer(args, ['--size', '320x180', '--loop', '--host-token', TOKEN,
    '--live-rate', '50', '--live-burst', '50']);
  const base = 'http://127.0.0.1:' + player.port;
  const problems = [];
  const browser = await P.launch(args);
  try {
    const mon = await H.hostConnect(player.port, { Cookie: (await H.login(player.port, TOKEN)).cookie });
    // the reply is the first state that holds the rule (a state sent on connecting may come before it)
    const sent = mon.messages.length;
    mon.ws.send(JSON.stringify({ type: 'add_rule', kind: 'keyword', pattern: 'spoiler' }));
    const reply = (m) => m.type === 'error' || (m.type === 'state' && (m.rules || []).length === 1);
    await L.until(mon, (x) => x.messages.slice(sent).some(reply), 10);
    const st = mon.messages.slice(sent).find(reply) || {};
    L.check(st.type === 'state' && st.rules.length === 1, 'a blocklist rule: "spoiler"');
    const page = await P.newPage(browser, 'en', { width: 1280, height: 900 }, problems);
    await page.goto(base + '/host', W);
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForNavigation(W), page.click('#login-button')]);
    await page.waitForSelector('#plot-rate canvas', W);
    await page.waitForFunction(() => document.getElementById('plot-audience').uplot.data[0].length >= 2, null, W);
    const RED = [0xff, 0x52, 0x52];
    const before = await canvasCount(page, 'plot-rate', RED, 24);
    L.check(before === 0, 'before any refusal the rate plot has none of the blocklist\'s colour (' + before + ' px)');

    const viewers = [];
    for (let v = 0; v < VIEWERS; v++) viewers.push(await L.connect(player.port));
    L.check(viewers.every((c) => c.opened), VIEWERS + ' viewers connected');
    const comment = (text) => ({ type: 'comment', text, color: '#FFFFFF', mode: 'scroll', size: 'normal' });
    for (let i = 0; i < EACH; i++) {
      for (const [v, c] of viewers.entries()) c.ws.send(JSON.stringify(comment('flood ' + v + '-' + i)));
      await L.sleep(1000);
    }
    // three the blocklist refuses, at once
    for (let v = 0; v < 3; v++) viewers[v].ws.send(JSON.stringify(comment('spoiler ' + v)));
    const acks = () => viewers.reduce((n, c) => n + c.messages.filter((m) => m.type === 'ack').length, 0);
    const refused = () => viewers.reduce((n, c) => n + c.messages.filter((m) => m.type === 'error' && m.code === 'blocked').length, 0);
    await L.until(viewers[0], () => acks() === VIEWERS * EACH && refused() === 3, 20);
    L.check(acks() === VIEWERS * EACH && refused() === 3, 'the flood: ' + acks() + ' comments taken, ' + refused() + ' blocked');
    const stats = await H.waitStats(mon, (s) => s.per_minute === VIEWERS * EACH && s.rejected.blocked === 3,
      'all 60 shown within the minute, 3 blocked', 20);
    // the page plots each statistics message at most a frame later
    await page.waitForFunction((n) => {
      const u = document.getElementById('plot-rate').uplot;
      return Number(document.getElementById('stat-per-minute').textContent) === n && u.data[u.data.length - 1].reduce((s, v) => s + v, 0) === n;
    }, VIEWERS * EACH, W).catch(() => null);
    // ...and the statistics message with the refusals may be plotted a message later than the shown ones
    let p = await plotted(page);
    for (const t0 = Date.now(); (p.layers.blocked !== 3 || p.layers.shown !== stats.per_minute) && Date.now() - t0 < W.timeout;) {
      await L.sleep(100);
      p = await plotted(page);
    }
    L.check(p.layers.shown === stats.per_minute && p.perMinute === stats.per_minute,
      'the comments plotted in the last minute (' + p.layers.shown + ') are the statistics\' count (' + stats.per_minute + ')');
    L.check(p.layers.blocked === 3 && p.layers.blocked === stats.rejected.blocked,
      'the blocked layer holds the 3 the blocklist refused ' + JSON.stringify(p.layers));
    L.check(p.density === VIEWERS * EACH + 3, 'the whole film\'s density counts all ' + (VIEWERS * EACH + 3) + ' (' + p.density + ')');
    L.check(p.audience === VIEWERS, 'the audience plot says ' + VIEWERS + ' connected (' + p.audience + ')');
    L.check(p.blockedFill.toLowerCase() === '#ff5252', 'the blocked layer is filled with the blocklist\'s colour (' + p.blockedFill + ')');
    await page.screenshot({ path: L.path.join(args.workdir, 'console-flood.png'), fullPage: true });
    const after = await canvasCount(page, 'plot-rate', RED, 24);
    L.check(after > 30, 'the blocklist\'s refusals are drawn in its colour on the canvas (' + after + ' px)');
    L.check(problems.length === 0, 'no console errors or CSP violations (' + problems.join(' | ') + ')');
    for (const c of viewers) c.ws.close();
    mon.ws.close();
  } finally {
    await browser.close();
  }
  player.proc.kill('SIGTERM');
  const r = await L.waitExit(player, 30);
  L.check(r && r.code === 0, 'the player exits cleanly');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
