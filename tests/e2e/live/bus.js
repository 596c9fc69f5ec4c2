// End to end on the comment bus (docs/scale.md), with real servers: one
// `nats-server -js` on a loopback port with a store of its own, two audience
// gateways (danmaku-gate) and two players, two "venues", headless, one of them
// the screening's clock. Independent `ws` clients on both gateways send
// comments; every acked comment is on both screens, both players' layout
// dumps are byte-identical, and the stream's export (danmaku-convert
// nats://...) lays out the same. Then the faults: a gateway whose NATS server
// goes away refuses with "unavailable" and acks nothing; one with no server
// at start, or a screening id NATS cannot take, exits with one clear line.
'use strict';
const L = require('./lib');
const B = require('./buslib');
const { spawnSync } = require('child_process');

async function main() {
  const args = L.parseArgs(process.argv);
  B.needNats(args);
  const screening = 'e2e-' + process.pid;
  const nats = await B.startNats(args.nats, L.path.join(args.workdir, 'nats-store'));
  const busUrl = 'nats://127.0.0.1:' + nats.m[1];
  L.check(Number(nats.m[1]) > 0, 'nats-server -js listens on ' + busUrl);

  // two halls: each gateway's audience is tagged with its hall's name
  const halls = ['hall-a', 'hall-b'];
  const gates = [await B.startGate(args, busUrl, screening, ['--venue', halls[0]]),
    await B.startGate(args, busUrl, screening, ['--venue', halls[1]])];
  const dumps = [L.path.join(args.workdir, 'bus-venue-a.jsonl'), L.path.join(args.workdir, 'bus-venue-b.jsonl')];
  const kept = L.path.join(args.workdir, 'bus-venue-b-record.jsonl');
  const ownHall = L.path.join(args.workdir, 'bus-venue-only-a.jsonl');
  for (const f of [...dumps, kept, ownHall]) L.fs.rmSync(f, { force: true });
  // (the film is long enough for every step on a slow machine: the players take the stream's comments until it ends)
  const UNTIL_S = 25;
  const common = ['--size', '640x360', '--font-px', '20', '--until', String(UNTIL_S), '--bus', busUrl, '--screening', screening,
    '--stats'];
  const players = [await L.startPlayer(args, [...common, '--clock', '--dump-layout', dumps[0]]),
    await L.startPlayer(args, [...common, '--dump-layout', dumps[1], '--record', kept]),
    await L.startPlayer(args, [...common, '--dump-layout', ownHall, '--venue', halls[0], '--venue-only'])];
  await L.sleep(1500);   // the clock player's film runs: the gateways stamp from its clock

  // two clients per gateway, 40 comments in all, alternating gateways
  const clients = [];
  for (const g of gates) for (let k = 0; k < 2; k++) clients.push(await L.connect(g.port));
  L.check(clients.every((c) => c.opened), 'four clients open, two on each gateway');
  const acks = [];
  for (let i = 0; i < 40; i++) {
    const c = clients[i % clients.length];
    const a = await L.request(c, { type: 'comment', text: 'venue comment ' + i + (i % 3 ? '' : ' 弹幕'),
      mode: i % 7 === 3 ? 'top' : 'scroll', color: i % 2 ? '#FFFFFF' : '#FE0302' });
    acks.push(a);
    await L.sleep(80);
  }
  const acked = acks.filter((a) => a && a.type === 'ack');
  L.check(acked.length === 40, 'all 40 comments acked by their gateways (' + acked.length + '; first refusal: ' +
    JSON.stringify(acks.find((a) => !a || a.type !== 'ack')) + ')');
  L.check(acked.every((a) => a.t_ms > 500 && a.t_ms < UNTIL_S * 1000 - 5000), 'stamped with the clock player\'s film time (first ' +
    acked[0].t_ms + ' ms, last ' + acked[acked.length - 1].t_ms + ' ms)');
  L.check(new Set(acked.map((a) => a.id)).size === 40, 'every comment has its own id across the two gateways');

  // faults while the players run: the bus goes away, a gateway refuses instead of acking
  nats.proc.kill('SIGKILL');
  await L.sleep(300);
  const refusal = await L.request(clients[0], { type: 'comment', text: 'nobody stores this' }, 10);
  L.check(refusal && refusal.type === 'error' && refusal.code === 'unavailable',
    'with the NATS server gone a gateway refuses with "unavailable" (' + JSON.stringify(refusal) + ')');

  // and it comes back on the same store: the players catch up, the gateways publish again
  const again = await B.startWaiting(args.nats, ['-js', '-a', '127.0.0.1', '-p', nats.m[1], '-sd',
    L.path.join(args.workdir, 'nats-store')], /Listening for client connections/, 'nats-server (restart)');
  let late = null;
  for (let tries = 0; tries < 40 && !(late && late.type === 'ack'); tries++) {
    await L.sleep(250);
    late = await L.request(clients[1], { type: 'comment', text: 'after the restart' }, 10);
  }
  L.check(late && late.type === 'ack', 'after the NATS server is back the gateway acks again (' + JSON.stringify(late) + ')');
  acked.push(late);

  // the players' readers are lost (their consumers deleted, as when their node dies): they read the stream again
  // (after the restart each player makes its consumer again: wait until the three are there)
  let dropped = [];
  for (let tries = 0; tries < 20; tries++) {
    const names = JSON.parse(await B.natsRequest(Number(nats.m[1]), '$JS.API.CONSUMER.NAMES.DANMAKU_' + screening, '') ||
      '{}').consumers || [];
    if (names.length >= 3) break;
    await L.sleep(250);
  }
  dropped = await B.dropConsumers(Number(nats.m[1]), screening);
  L.check(dropped.length >= 3, 'the three players\' consumers are deleted on the server (' + dropped.length + ')');
  for (let i = 0; i < 3; i++) {
    let a = null;
    // (gateway 2 may still be reconnecting after the restart: it says unavailable until it is back)
    for (let tries = 0; tries < 40 && !(a && a.type === 'ack'); tries++) {
      if (tries) await L.sleep(250);
      a = await L.request(clients[i % 2 ? 2 : 1], { type: 'comment', text: 'after the readers were lost ' + i }, 10);
    }
    L.check(a && a.type === 'ack', 'a comment after the readers were lost is acked (' + JSON.stringify(a) + ')');
    acked.push(a);
  }
  for (const c of clients) c.ws.close();

  // comments 0-39 alternate gateways two clients at a time; then gateway 1, then 1, 2, 1 (clients 1, 2, 1)
  const hallOf = new Map(acked.map((a, i) => [a.id, i < 40 ? halls[Math.floor((i % 4) / 2)] : halls[i === 42 ? 1 : 0]]));
  const results = [await L.waitExit(players[0], 40), await L.waitExit(players[1], 40), await L.waitExit(players[2], 40)];
  L.check(results.every((r) => r.code === 0), 'the three players finished cleanly');
  for (const [i, p] of players.entries())
    console.log('# player ' + (i + 1) + ': ' + ((/the stream stopped coming[^\n]*/.exec(p.stderr()) || ['its reader came back by itself'])[0]));
  const bytes = dumps.map((f) => L.fs.readFileSync(f));
  L.check(bytes[0].length > 0 && bytes[0].equals(bytes[1]), 'the two venues\' layout dumps are byte-identical (' +
    bytes[0].length + ' bytes)');
  const live = L.readJsonl(dumps[0]);
  const byId = new Map(live.slice(1).map((l) => [l.id, l]));
  const missing = acked.filter((a) => !byId.has(a.id));
  L.check(missing.length === 0, 'every acked comment is in the layout (' + missing.length + ' missing)');
  L.check(acked.every((a) => byId.get(a.id) && byId.get(a.id).shown), 'and shown on both screens');
  L.check(live.length - 1 === acked.length, 'nothing else, nothing twice (' + (live.length - 1) + ' placed)');

  // the stream is the recording: its export lays out what the players did
  const exported = L.path.join(args.workdir, 'bus-export.jsonl');
  const replay = L.path.join(args.workdir, 'bus-export-layout.jsonl');
  const ex = spawnSync(args.convert, [busUrl + '/' + screening, '-o', exported], { encoding: 'utf8' });
  L.check(ex.status === 0, 'danmaku-convert nats://.../' + screening + ' exports the stream (' + ex.stderr.trim() + ')');
  const lines = L.readJsonl(exported).filter((l) => l.type !== 'track');
  L.check(lines.length === acked.length, 'the export holds every acked comment (' + lines.length + ')');
  L.check(lines.every((l) => l.venue === hallOf.get(l.id)), 'each with the hall its gateway serves (' +
    JSON.stringify(lines.slice(0, 4).map((l) => l.venue)) + '...)');
  const rl = L.convertLayout(args, exported, '640x360', 20, replay);
  L.check(JSON.stringify(rl.slice(1)) === JSON.stringify(live.slice(1)), 'the export\'s layout equals the venues\' layout');

  // --venue-only: the hall's own audience only; the other hall's comments counted, not shown
  const own = L.readJsonl(ownHall).slice(1);
  const mine = acked.filter((a) => hallOf.get(a.id) === halls[0]);
  L.check(own.length === mine.length && mine.every((a) => own.some((l) => l.id === a.id && l.shown)),
    'the --venue-only player shows exactly hall-a\'s ' + mine.length + ' comments (' + own.length + ' placed)');
  const others = acked.length - mine.length;
  L.check(new RegExp('bus: ' + others + ' comments of other halls not shown').test(players[2].stderr()),
    'and says it left out hall-b\'s ' + others);

  // a player's --record beside the bus: its own copy of what its screen took from the stream
  const keptLines = L.readJsonl(kept);
  L.check(keptLines[0] && keptLines[0].type === 'track', 'the player\'s --record file starts with the track header');
  const keptIds = new Set(keptLines.slice(1).map((l) => l.id));
  L.check(keptLines.length - 1 === acked.length && acked.every((a) => keptIds.has(a.id)),
    'the player\'s --record holds every acked comment, once (' + (keptLines.length - 1) + ' lines)');
  const kl = L.convertLayout(args, kept, '640x360', 20, L.path.join(args.workdir, 'bus-record-layout.jsonl'));
  L.check(JSON.stringify(kl.slice(1)) === JSON.stringify(live.slice(1)), 'and lays out as the venues did');

  // bad input and faults at start
  const gateRecord = spawnSync(args.gate, ['--listen', '127.0.0.1:0', '--bus', busUrl, '--screening', screening,
    '--record', L.path.join(args.workdir, 'gate.jsonl')], { encoding: 'utf8', timeout: 20000 });
  L.check(gateRecord.status !== 0 && gateRecord.stderr.trim().split('\n').length === 1 && /--record/.test(gateRecord.stderr),
    'danmaku-gate has no --record: the stream is the recording (' + gateRecord.stderr.trim() + ')');
  const noBus = spawnSync(args.gate, ['--listen', '127.0.0.1:0', '--bus', 'nats://127.0.0.1:1', '--screening', 'x'],
    { encoding: 'utf8', timeout: 20000 });
  L.check(noBus.status === 2 && noBus.stderr.trim().split('\n').length === 1 && /cannot reach the NATS server/.test(noBus.stderr),
    'a gateway with no NATS server reachable exits 2 with one line (' + noBus.stderr.trim() + ')');
  const badId = spawnSync(args.gate, ['--listen', '127.0.0.1:0', '--bus', busUrl, '--screening', 'hall.1>*'],
    { encoding: 'utf8', timeout: 20000 });
  L.check(badId.status !== 0 && /screening id 'hall\.1>\*'/.test(badId.stderr), 'a screening id NATS subjects cannot take is refused (' +
    badId.stderr.trim() + ')');
  const badVenue = spawnSync(args.gate, ['--listen', '127.0.0.1:0', '--bus', busUrl, '--screening', 'x', '--venue', 'hall 1'],
    { encoding: 'utf8', timeout: 20000 });
  L.check(badVenue.status !== 0 && /venue name 'hall 1'/.test(badVenue.stderr), 'a venue name with a space is refused (' +
    badVenue.stderr.trim() + ')');
  const badExport = spawnSync(args.convert, [busUrl + '/never-ran', '-o', L.path.join(args.workdir, 'x.jsonl')], { encoding: 'utf8' });
  L.check(badExport.status !== 0 && /no screening 'never-ran'/.test(badExport.stderr), 'exporting a screening that never ran is an error (' +
    badExport.stderr.trim() + ')');
  for (const g of gates) g.proc.kill('SIGTERM');
  again.proc.kill('SIGTERM');
}

main().catch((e) => L.fail(e.stack || String(e)));
