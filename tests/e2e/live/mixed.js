// End to end: a screening of a film with a dense track (a real one when
// ../shared is there, else the suite's generated one) where the audience
// sends 200 live comments during the track's densest minute, with a box kept
// free in the lower third. Live comments and the track's comments share one
// layout: the dump of the whole scene has no overlap and no crossing of the
// box (by the independent checker), and the tracks followed by the recording
// replay with the very same dump, byte for byte, in the player and in the
// converter.
'use strict';
const { execFileSync } = require('child_process');
const L = require('./lib');

const SIZE = '1280x720', FONT_PX = 32, KEEP_OFF = '0,0.7,1.0,0.3';
const LIVE = 200, CLIENTS = 4, SECONDS = 14;

function pickTrack(args) {
  if (args['track-real'] && L.fs.existsSync(args['track-real'])) return args['track-real'];
  console.log('# note: ' + args['track-real'] + ' is not there (no ../shared): using the generated ' + args['track-gen']);
  return args['track-gen'];
}

// Start of the minute with the most comments (from the track's own layout dump).
function densestMinute(args, track) {
  const lines = L.convertLayout(args, track, SIZE, FONT_PX, L.path.join(args.workdir, 'mixed-track-only.jsonl'));
  const times = lines.filter((l) => l.type === 'comment').map((l) => l.t_ms).sort((a, b) => a - b);
  let best = 0, bestN = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j] < times[i] - 60000) j++;
    if (i - j + 1 > bestN) { bestN = i - j + 1; best = Math.max(0, times[i] - 60000); }
  }
  return { start: best, comments: bestN, total: times.length };
}

function checkDump(args, dump, what) {
  const checker = args.checker && L.fs.existsSync(args.checker) ? args.checker : args.dumpcheck;
  const cmd = checker.endsWith('.py') ? ['python3', [checker, dump, '--json']] : [checker, [dump, '--json']];
  let out;
  try { out = execFileSync(cmd[0], cmd[1], { encoding: 'utf8' }); } catch (e) { out = String(e.stdout); }
  const r = JSON.parse(out.trim().split('\n').pop());
  L.check(r.overlaps === 0 && r.obstacle_overlaps === 0 && r.errors === 0 && r.obstacles === 1,
    what + ': no overlap and no comment over the kept box, by ' + L.path.basename(checker) + ' ' + JSON.stringify(r));
  return r;
}

async function main() {
  const args = L.parseArgs(process.argv);
  const track = pickTrack(args);
  const film = L.path.join(args.workdir, 'mixed-film.mp4');
  const rec = L.path.join(args.workdir, 'mixed-rec.jsonl');
  const dump = L.path.join(args.workdir, 'mixed-live.jsonl');
  const replayDump = L.path.join(args.workdir, 'mixed-replay.jsonl');
  const convertDump = L.path.join(args.workdir, 'mixed-convert.jsonl');
  for (const f of [rec, dump, replayDump, convertDump]) L.fs.rmSync(f, { force: true });
  const dense = densestMinute(args, track);
  console.log('# ' + L.path.basename(track) + ': ' + dense.total + ' comments, densest minute from ' +
    (dense.start / 1000).toFixed(1) + ' s with ' + dense.comments);
  // (ten seconds past the sending: room for a slow machine, the film must not end before the last comment)
  const start = dense.start / 1000, until = start + SECONDS + 10;
  // a plain film long enough, made now
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x203040:s=640x360:r=10:d=${Math.ceil(until + 2)}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', film]);

  const player = await L.startPlayer(Object.assign({}, args, { film }), ['--size', SIZE, '--track', track,
    '--start', String(start), '--until', String(until), '--keep-off', KEEP_OFF, '--record', rec,
    '--dump-layout', dump, '--live-rate', '50', '--live-burst', '50']);
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await L.connect(player.port));
  L.check(clients.every((c) => c.opened), CLIENTS + ' audience clients connected');
  const modes = ['scroll', 'scroll', 'scroll', 'top', 'bottom'], acks = [];
  for (let k = 0; k < LIVE; k++) {
    const c = clients[k % CLIENTS];
    const before = c.messages.length;
    c.ws.send(JSON.stringify({ type: 'comment', text: 'live ' + k + (k % 7 === 0 ? ' 一起看 🎉' : ''), mode: modes[k % 5] }));
    acks.push(L.until(c, (x) => x.messages.length > before, 20));
    await L.sleep((SECONDS * 1000) / LIVE);
  }
  await Promise.all(acks);
  const got = clients.flatMap((c) => c.messages).filter((m) => m.type === 'ack');
  L.check(got.length === LIVE, 'every live comment acked (' + got.length + ' of ' + LIVE + ')');
  L.check(got.every((m) => m.t_ms >= dense.start && m.t_ms < dense.start + 60000), 'all stamped within the densest minute');
  for (const c of clients) c.ws.close();
  const r = await L.waitExit(player, 60);
  L.check(r.code === 0, 'the player finished cleanly');

  const live = L.readJsonl(dump);
  const liveComments = live.filter((l) => l.type === 'comment');
  L.check(live[0].input_count === dense.total + LIVE && liveComments.length === dense.total + LIVE,
    'the dump holds the whole scene: ' + dense.total + ' track + ' + LIVE + ' live comments');
  const shownLive = liveComments.slice(dense.total).filter((l) => l.shown).length;
  console.log('# live comments shown: ' + shownLive + ' of ' + LIVE);
  L.check(shownLive > LIVE / 2, 'most live comments are shown among the track\'s');
  checkDump(args, dump, 'live scene');

  // replay: the track, then the recording, as one scene
  const replay = L.spawnSync(args.player, [film, '--headless', '--fast', '--size', SIZE, '--track', track, '--track', rec,
    '--until', String(start + 1), '--keep-off', KEEP_OFF, '--dump-layout', replayDump]);
  L.check(replay.status === 0, 'the replay runs (' + replay.stderr + ')');
  L.check(L.fs.readFileSync(replayDump, 'utf8') === L.fs.readFileSync(dump, 'utf8'),
    'the player\'s replay of track + recording gives the live dump byte for byte');
  L.convertLayout(args, track, SIZE, FONT_PX, convertDump, [rec, '--keep-off', KEEP_OFF]);
  L.check(L.fs.readFileSync(convertDump, 'utf8') === L.fs.readFileSync(dump, 'utf8'),
    'danmaku-convert TRACK RECORDING --layout gives the live dump byte for byte');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
