// End to end: the host seeks back during a screening. A comment sent after the
// seek is stamped with the earlier film time and a new pass, is shown at once
// (not held until the film is back where it was), next to a comment from
// before the seek that is on screen again, never on top of it; and the
// recording replays with the live lanes.
'use strict';
const L = require('./lib');
const H = require('../host/hostlib');

// Whether two placed boxes (LAYOUT-DUMP.md lines) overlap at some film time.
function clash(a, b) {
  const from = Math.max(a.start_ms, b.start_ms), to = Math.min(a.end_ms, b.end_ms);
  for (let t = from; t < to; t += 5) {
    const p = L.boxAt(a, t), q = L.boxAt(b, t);
    if (p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h) return t;
  }
  return -1;
}

async function main() {
  const args = L.parseArgs(process.argv);
  const rec = L.path.join(args.workdir, 'rewind-rec.jsonl');
  const dump = L.path.join(args.workdir, 'rewind-live-layout.jsonl');
  const shot = L.path.join(args.workdir, 'rewind-5s.png');
  const script = L.path.join(args.workdir, 'rewind-script.txt');
  const SHOT_MS = 5000;
  for (const f of [rec, dump, shot]) L.fs.rmSync(f, { force: true });
  // at 4 s the host seeks back 5 s (to the start); the screenshot is taken
  // at 5 s of the second pass (script lines run once each, in file order)
  L.fs.writeFileSync(script, '4.0 key Left\n' + (SHOT_MS / 1000) + ' screenshot ' + shot + '\n');

  const player = await L.startPlayer(args, ['--size', '640x360', '--font-px', '32', '--until', '5.5',
    '--record', rec, '--dump-layout', dump, '--stats', '--script', script]);
  // the film time, as the host console reports it (what comments are stamped with)
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer ' + H.hostToken(player).token });
  const waitFilm = async (pred, what) => {
    const deadline = Date.now() + 30000;
    for (;;) {
      const st = await H.ask(host, { type: 'stats' }, ['stats']);
      if (st && pred(st.film_ms)) return st.film_ms;
      if (Date.now() > deadline) L.fail('the film never reached ' + what + ' (' + JSON.stringify(st) + ')');
      await L.sleep(50);
    }
  };
  const c = await L.connect(player.port);
  L.check(c.opened, 'the WebSocket opens');
  // A late in the first pass, B early in the second (film times only grow
  // within a pass, so an earlier one means the seek has happened)
  await waitFilm((t) => t >= 2800, '2.8 s');
  const a = await L.request(c, { type: 'comment', text: 'before the seek', color: '#FE0302' });
  await waitFilm((t) => t >= 800 && t < 2000, '0.8 s after the seek back');
  const b = await L.request(c, { type: 'comment', text: 'after the seek', color: '#00CD00' });
  L.check(a && a.type === 'ack' && b && b.type === 'ack', 'both acked: ' + JSON.stringify([a, b]));
  L.check(b.t_ms < a.t_ms, 'the comment after the seek has the earlier film time (' + b.t_ms + ' < ' + a.t_ms + ' ms)');
  c.ws.close();
  host.ws.close();
  const r = await L.waitExit(player, 30);
  L.check(r.code === 0, 'the player finished cleanly (' + JSON.stringify(r) + ')');

  // the recording says which pass each comment belongs to
  const recLines = L.readJsonl(rec).filter((l) => l.type === 'comment');
  L.check(recLines.length === 2, 'the recording holds 2 comments');
  L.check(recLines[0].id === a.id && !recLines[0].pass, 'the first is in the first pass: ' + JSON.stringify(recLines[0]));
  L.check(recLines[1].id === b.id && recLines[1].pass === 1 && recLines[1].t_ms === b.t_ms,
    'the second is in pass 1 at its acked time: ' + JSON.stringify(recLines[1]));

  // live placements: B at its own time, not on top of A; the replay agrees
  const live = L.readJsonl(dump);
  const replay = L.convertLayout(args, rec, '640x360', 32, L.path.join(args.workdir, 'rewind-replay-layout.jsonl'));
  L.check(live.length === 3 && replay.length === 3, 'both dumps hold the 2 comments');
  const [pa, pb] = [live[1], live[2]];
  L.check(pa.shown && pb.shown, 'both shown');
  L.check(pb.start_ms === b.t_ms, 'the comment after the seek enters at its own film time (' + pb.start_ms + ' ms)');
  L.check(pa.start_ms > pb.start_ms && pa.start_ms < pb.end_ms, 'the comment from before the seek comes along while it is on screen');
  L.check(clash(pa, pb) < 0, 'they never overlap: ' + JSON.stringify([pa, pb]));
  for (let i = 1; i < 3; i++) {
    L.check(JSON.stringify(live[i]) === JSON.stringify(replay[i]), 'the replay places ' + live[i].text + ' as live: ' + JSON.stringify(replay[i]));
  }

  // both are in the second pass's frame, where the engine put them
  const img = L.readPng(shot);
  for (const [p, rgb, name] of [[pa, [254, 3, 2], 'red'], [pb, [0, 205, 0], 'green']]) {
    const box = L.boxAt(p, SHOT_MS);
    const n = L.countColour(img, rgb, { x: box.x - 6, y: box.y - 2, w: box.w + 12, h: box.h + 4 }, 40);
    L.check(n.inside > 100 && n.outside < 10, name + ' comment drawn at ' + JSON.stringify(box) + ' (' + n.inside + '/' + n.outside + ' px)');
  }
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
