// End to end: a live night of three generated short films with intermissions.
// One audience client (the npm `ws` package) stays connected from the first
// film to the end and comments throughout: acked in every film, refused with
// "intermission" (naming the coming film) in the breaks, told the programme
// (now playing, next) as it changes. Each film has its own recording holding
// exactly the comments acked while it played; each recording replays alone
// (`danmaku FILM --track REC`) with the very layout the live film had.
'use strict';
const L = require('./lib');

const FILMS = [['a', 'Alpha', '0x402020'], ['b', 'Bravo', '0x204020'], ['c', 'Charlie', '0x202040']];
const FILM_S = 4, BREAK_S = 3;

function makeFilms(dir) {
  for (const [n, , colour] of FILMS) {
    const film = L.path.join(dir, n + '.mp4');
    if (L.fs.existsSync(film)) continue;
    const r = L.spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=' + colour + ':s=640x360:d=' + FILM_S + ':r=24',
      '-f', 'lavfi', '-i', 'sine=f=440:d=' + FILM_S, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-shortest', film]);
    if (r.status !== 0) L.fail('ffmpeg could not make ' + film + ': ' + r.stderr);
  }
}

async function main() {
  const args = L.parseArgs(process.argv);
  const dir = args.workdir;
  if (L.spawnSync('ffmpeg', ['-version']).status !== 0) { console.log('skipped: the test films need ffmpeg'); process.exit(77); }
  makeFilms(dir);
  const prog = L.path.join(dir, 'night.json');
  L.fs.writeFileSync(prog, JSON.stringify({ title: 'Test Night', intermission: BREAK_S,
    films: FILMS.map(([n, title]) => ({ film: n + '.mp4', title })) }));
  const rec = L.path.join(dir, 'night-rec.jsonl'), dump = L.path.join(dir, 'night-live.jsonl');
  const recOf = (i) => L.path.join(dir, 'night-rec-0' + (i + 1) + '-' + FILMS[i][0] + '.jsonl');
  const dumpOf = (i) => L.path.join(dir, 'night-live-0' + (i + 1) + '-' + FILMS[i][0] + '.jsonl');
  for (let i = 0; i < 3; i++) for (const f of [recOf(i), dumpOf(i)]) L.fs.rmSync(f, { force: true });

  // (lib's startPlayer puts the "film" first: here it is the programme option)
  const player = await L.startPlayer(Object.assign({}, args, { film: '--programme=' + prog }),
    ['--size', '640x360', '--font-px', '32', '--record', rec, '--dump-layout', dump, '--stats', '--live-rate', '4']);
  const c = await L.connect(player.port);
  L.check(c.opened, 'the audience WebSocket opens');
  // what the page is told, and our comments' fate, by the programme entry the client last heard of
  let now = null, state = null, sent = 0;
  const states = [], acked = [[], [], []], refusals = [];
  let seen = 0, earlyAcks = 0;
  const digest = () => {
    for (; seen < c.messages.length; seen++) {
      const m = c.messages[seen];
      if (m.type === 'programme') {
        if (m.now !== now || m.state !== state) states.push(m.state + ' ' + m.now);
        now = m.now; state = m.state;
        if (states.length === 1) {
          L.check(m.entries.length === 3 && m.entries.map((e) => e.title).join() === 'Alpha,Bravo,Charlie' &&
            m.night === 'Test Night', 'the programme names the night and its three films');
          L.check(m.now === 0 && m.next === 1 && m.state === 'film', 'now playing: the first film, next: the second');
        }
      } else if (m.type === 'ack') {
        // the programme is sent on connecting, before anything the client sends is answered
        if (now === null) earlyAcks++;
        else acked[now].push(m);
      }
      else if (m.type === 'error') refusals.push({ now, state, m });
    }
  };
  const deadline = Date.now() + 60000;
  while (!c.closed && Date.now() < deadline) {
    c.ws.send(JSON.stringify({ type: 'comment', text: 'comment ' + (++sent) + ' 弹幕', color: '#FFFFFF' }));
    await L.sleep(350);
    digest();
    if (player.proc.exitCode !== null) break;
  }
  digest();
  L.check(earlyAcks === 0, 'the programme reached the client before any ack (' + earlyAcks + ' acks came first)');
  // the feed closes the client before the player writes its last dump and exits
  if (player.proc.exitCode === null)
    await L.waitExit(player, Math.max(5, (deadline - Date.now()) / 1000));
  L.check(player.proc.exitCode !== null, 'the night ended within the minute');
  L.check(player.proc.exitCode === 0, 'the player finished cleanly (' + player.proc.exitCode + ')');
  // the client was closed by the end of the night only, never before the third film's end
  L.check(states.join(', ') === 'film 0, intermission 1, film 1, intermission 2, film 2',
    'the page heard every change of the night: ' + states.join(', '));
  for (let i = 0; i < 3; i++) {
    L.check(acked[i].length >= 3, 'acks in film ' + (i + 1) + ': ' + acked[i].length);
    const t = acked[i].map((a) => a.t_ms);
    L.check(t[0] < 1000 && t.every((x, k) => k === 0 || x >= t[k - 1]) && t[t.length - 1] <= FILM_S * 1000,
      'film ' + (i + 1) + ': its film time starts again from 0 (' + t[0] + ' .. ' + t[t.length - 1] + ' ms)');
  }
  const breakRefusals = refusals.filter((r) => r.m.code === 'intermission');
  L.check(breakRefusals.length >= 2, 'comments in the intermissions are refused with "intermission" (' + breakRefusals.length + ')');
  L.check(breakRefusals.every((r) => r.state === 'intermission'), 'only in the intermissions');
  L.check(refusals.length === breakRefusals.length, 'no other refusal: ' + JSON.stringify(refusals.filter((r) => r.m.code !== 'intermission').slice(0, 3)));
  L.check(breakRefusals.some((r) => r.now === 1) && breakRefusals.some((r) => r.now === 2) &&
    breakRefusals.every((r) => new RegExp('when ' + FILMS[r.now][1] + ' starts').test(r.m.message)),
  'every refusal names the coming film: ' + JSON.stringify(breakRefusals[0].m.message));
  const stats = /live: (\d+) accepted, (\d+) rejected/.exec(player.stderr());
  const total = acked[0].length + acked[1].length + acked[2].length;
  L.check(stats && Number(stats[1]) === total && Number(stats[2]) === breakRefusals.length,
    'the player counts ' + total + ' accepted and ' + breakRefusals.length + ' refused: ' + (stats && stats[0]));

  for (let i = 0; i < 3; i++) {
    const lines = L.readJsonl(recOf(i));
    const ids = lines.filter((l) => l.type === 'comment').map((l) => l.id);
    L.check(lines[0].type === 'track' && lines.filter((l) => l.type === 'track').length === 1, 'recording ' + (i + 1) + ' is one track');
    L.check(JSON.stringify(ids) === JSON.stringify(acked[i].map((a) => a.id)),
      'recording ' + (i + 1) + ' holds exactly the ' + acked[i].length + ' comments acked in its film');
    const live = L.readJsonl(dumpOf(i));
    L.check(live.length === ids.length + 1, 'the live dump of film ' + (i + 1) + ' holds its comments only');
    // the recording replayed alone, in the player, as a track beside its film
    const replayDump = L.path.join(dir, 'night-replay-' + (i + 1) + '.jsonl');
    L.fs.rmSync(replayDump, { force: true });
    const r = L.spawnSync(args.player, [L.path.join(dir, FILMS[i][0] + '.mp4'), '--no-track-auto', '--track', recOf(i),
      '--headless', '--fast', '--size', '640x360', '--font-px', '32', '--dump-layout', replayDump],
    { env: Object.assign({}, process.env, { SDL_VIDEODRIVER: 'dummy', SDL_AUDIODRIVER: 'dummy' }) });
    L.check(r.status === 0, 'film ' + (i + 1) + ' replays with its recording (' + String(r.stderr).slice(-300) + ')');
    const replay = L.readJsonl(replayDump);
    let same = replay.length === live.length;
    for (let k = 1; same && k < live.length; k++) same = JSON.stringify(live[k]) === JSON.stringify(replay[k]);
    L.check(same, 'film ' + (i + 1) + ': the replay lays out every comment as live (' + live.length + ' lines)');
    L.check(live.slice(1).every((p) => p.shown), 'film ' + (i + 1) + ': every live comment was shown');
  }
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
