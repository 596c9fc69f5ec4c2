// The host's clear takes off what was sent before it, never what comes after:
// an audience member who sees the clear (the "clear" broadcast) and answers at
// once, usually before the player's next frame takes the clear, keeps the
// comment. Top comments last 0.6 s of film, and a round starts only once the
// last round's reply has left by the film's clock, so rounds do not overlap.
// The recording has delete lines for the cleared comments only, and the
// replay's layout equals the live one.
'use strict';
const L = require('../live/lib');
const H = require('./hostlib');

const ROUNDS = 5;

// Send a comment and wait for its ack (a subscriber also gets the stream in between).
async function send(c, text) {
  const seen = c.messages.length;
  const answer = (x) => x.messages.slice(seen).find((m) => m.type === 'ack' || m.type === 'error');
  c.ws.send(JSON.stringify({ type: 'comment', text, mode: 'top' }));
  await L.until(c, (x) => !!answer(x), 10);
  return answer(c) || {};
}

async function main() {
  const args = L.parseArgs(process.argv);
  const rec = L.path.join(args.workdir, 'clear-rec.jsonl');
  const dump = L.path.join(args.workdir, 'clear-layout.jsonl');
  for (const f of [rec, dump]) L.fs.rmSync(f, { force: true });
  const player = await L.startPlayer(args, ['--size', '640x360', '--font-px', '32', '--until', '25',
    '--live-rate', '50', '--live-burst', '50', '--fixed', '0.6', '--record', rec, '--dump-layout', dump]);
  const { token } = H.hostToken(player);
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer ' + token });
  const a = await L.connect(player.port);
  const sub = await L.request(a, { type: 'subscribe' });
  L.check(sub && sub.type === 'subscribed', 'the audience client subscribes to the stream');

  const before = [], after = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ack = await send(a, 'before clear ' + round);
    L.check(ack.type === 'ack', 'round ' + round + ': a comment before the clear is acked');
    before.push(ack.id);
    await L.sleep(200);   // on screen by now, for 0.6 s (--fixed)
    const seen = a.messages.length;
    host.ws.send(JSON.stringify({ type: 'clear' }));
    await L.until(a, (x) => x.messages.slice(seen).some((m) => m.type === 'clear'), 10);
    L.check(a.messages.slice(seen).some((m) => m.type === 'clear'), 'round ' + round + ': the audience sees the clear');
    // answer at once: queued after the clear, and most likely taken in the same frame
    const reply = await send(a, 'after clear ' + round);
    L.check(reply.type === 'ack', 'round ' + round + ': a comment after the clear is acked');
    after.push(reply.id);
    // gone before the next round's clear: by the film's clock, not the wall's (a loaded
    // machine's player can fall behind, and a comment lasts 0.6 s of film)
    await L.sleep(900);
    await H.waitStats(host, (s) => s.film_ms >= reply.t_ms + 700, 'film time past round ' + round + "'s reply", 30);
  }
  host.ws.close();
  a.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  const lines = L.readJsonl(rec);
  const deleted = new Set(lines.filter((l) => l.type === 'delete').map((l) => l.id));
  L.check(before.every((id) => deleted.has(id)), 'every comment sent before a clear is deleted in the recording');
  const kept = after.filter((id) => !deleted.has(id));
  L.check(kept.length === ROUNDS, 'no comment sent after a clear is deleted (' + kept.length + ' of ' + ROUNDS + ' kept)');
  const live = L.readJsonl(dump).slice(1);
  const byId = new Map(live.map((l) => [l.id, l]));
  L.check(after.every((id) => byId.get(id) && byId.get(id).shown), 'the live layout shows every comment sent after a clear');
  L.check(before.every((id) => byId.get(id) && !byId.get(id).shown && byId.get(id).reason === 'deleted'),
    'the live layout says "deleted" for the cleared ones');
  const replay = L.convertLayout(args, rec, '640x360', 32, L.path.join(args.workdir, 'clear-replay.jsonl'), ['--fixed', '0.6']).slice(1);
  L.check(JSON.stringify(replay) === JSON.stringify(live), 'the replay lays out the recording as live');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
