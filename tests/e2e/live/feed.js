// End to end: a comment sent with an independent WebSocket client is acked,
// is drawn in the headless frame where the engine placed it, is in the
// recording, and the recording's layout (danmaku-convert --layout) equals the
// live layout the player dumped.
'use strict';
const L = require('./lib');

async function main() {
  const args = L.parseArgs(process.argv);
  const rec = L.path.join(args.workdir, 'feed-rec.jsonl');
  const dump = L.path.join(args.workdir, 'feed-live-layout.jsonl');
  const shot = L.path.join(args.workdir, 'feed-6s.png');
  const SHOT_MS = 4500;
  const qrOff = L.path.join(args.workdir, 'feed-qr-off.png');
  const script = L.path.join(args.workdir, 'feed-script.txt');
  for (const f of [rec, dump, shot, qrOff]) L.fs.rmSync(f, { force: true });
  // the c key hides the join QR code, which shows for the first minute
  L.fs.writeFileSync(script, '5.0 key c\n5.3 screenshot ' + qrOff + '\n');

  const player = await L.startPlayer(args, ['--size', '640x360', '--font-px', '32', '--until', '6',
    '--record', rec, '--dump-layout', dump, '--screenshot', (SHOT_MS / 1000) + ':' + shot, '--stats',
    '--public-url', 'http://join.example:9000/', '--script', script]);
  const c = await L.connect(player.port);
  L.check(c.opened, 'the WebSocket opens');
  // a page served through --public-url (a proxy in front) has that origin
  const viaProxy = await L.connect(player.port, { origin: 'http://join.example:9000' });
  L.check(viaProxy.opened, 'the --public-url origin is the page\'s own too');
  viaProxy.ws.close();
  await L.sleep(1500);   // let the film run, so the stamps say where it is
  const texts = ['弹幕 live!', 'second comment', 'トップ'];
  const acks = [];
  acks.push(await L.request(c, { type: 'comment', text: texts[0], color: '#FE0302', size: 'large' }));
  acks.push(await L.request(c, { type: 'comment', text: texts[1] }));
  acks.push(await L.request(c, { type: 'comment', text: texts[2], mode: 'top', color: '#00CD00' }));
  for (const a of acks) L.check(a && a.type === 'ack' && typeof a.id === 'string' && Number.isInteger(a.t_ms), 'ack ' + JSON.stringify(a));
  L.check(acks[0].t_ms > 0 && acks[0].t_ms < SHOT_MS - 800, 'stamped with the film time, before the screenshot (t_ms ' + acks[0].t_ms + ')');
  L.check(acks[0].t_ms <= acks[1].t_ms && acks[1].t_ms <= acks[2].t_ms, 'film times never go back');
  c.ws.close();
  const r = await L.waitExit(player, 30);
  L.check(r.code === 0, 'the player finished cleanly (' + JSON.stringify(r) + ')');

  // the recording holds the comments, in order, with the acked ids and times
  const recLines = L.readJsonl(rec).filter((l) => l.type !== 'track');
  L.check(recLines.length === 3, 'the recording holds 3 comments');
  recLines.forEach((l, i) => {
    L.check(l.id === acks[i].id && l.t_ms === acks[i].t_ms && l.text === texts[i], 'recorded ' + JSON.stringify(l));
  });
  L.check(recLines[0].color === '#FE0302' && recLines[0].size === 'large' && recLines[2].mode === 'top', 'recorded colour, size and mode');

  // the live layout equals the recording's layout
  const live = L.readJsonl(dump);
  const replay = L.convertLayout(args, rec, '640x360', 32, L.path.join(args.workdir, 'feed-replay-layout.jsonl'));
  L.check(live[0].width === 640 && live[0].height === 360 && live[0].font_px === 32, 'live stage 640x360, font 32');
  L.check(live.length === 4 && replay.length === 4, 'both dumps hold the 3 comments');
  for (let i = 1; i < 4; i++) {
    L.check(JSON.stringify(live[i]) === JSON.stringify(replay[i]), 'same placement for ' + live[i].text + ': ' + JSON.stringify(live[i]));
  }
  L.check(live.slice(1).every((l) => l.shown), 'every live comment is shown');

  // the red comment is in the frame, where the engine put it
  const img = L.readPng(shot);
  const box = L.boxAt(live[1], SHOT_MS);
  const grown = { x: box.x - 6, y: box.y - 2, w: box.w + 12, h: box.h + 4 };
  const red = L.countColour(img, [254, 3, 2], grown, 40);
  L.check(red.inside > 100, 'red text drawn inside its box at ' + JSON.stringify(box) + ' (' + red.inside + ' px)');
  L.check(red.outside < 10, 'no red text elsewhere (' + red.outside + ' px)');
  const gbox = L.boxAt(live[3], SHOT_MS);
  const green = L.countColour(img, [0, 205, 0], { x: gbox.x - 2, y: gbox.y - 2, w: gbox.w + 4, h: gbox.h + 4 }, 40);
  L.check(green.inside > 50 && green.outside < 10, 'green top comment drawn at ' + JSON.stringify(gbox) + ' (' + green.inside + '/' + green.outside + ')');
  // the join QR code: black and white modules in the bottom-right corner, gone after the c key
  const corner = { x: 480, y: 200, w: 160, h: 160 };
  const qrBlack = L.countColour(img, [0, 0, 0], corner, 8), qrWhite = L.countColour(img, [255, 255, 255], corner, 8);
  L.check(qrBlack.inside > 800 && qrWhite.inside > 800, 'QR code shown at first (' + qrBlack.inside + ' black, ' + qrWhite.inside + ' white px)');
  const off = L.readPng(qrOff);
  const offBlack = L.countColour(off, [0, 0, 0], corner, 8);
  L.check(offBlack.inside < qrBlack.inside / 10, 'the c key hides it (' + offBlack.inside + ' black px left)');
  L.check(/join at http:\/\/join\.example:9000\//.test(player.stderr()), '--public-url is the join URL');
  const stats = /live: (\d+) accepted/.exec(player.stderr());
  L.check(stats && Number(stats[1]) === 3, 'the player counted 3 accepted comments');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
