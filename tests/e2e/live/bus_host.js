// The host console through the comment bus (docs/scale.md), with real
// servers: one nats-server -js, two gateways, two players. On the first
// gateway's console the host adds a blocklist rule: the second gateway refuses
// the next matching comment, within a second. The host deletes a comment: it
// leaves both screens (both layouts say so, byte-identical, and so does the
// stream's export). The host bans an address: the ban holds at the other
// gateway too (address hashes share the screening's salt). After an unban,
// the host clears the screen: both players take off the same comments at the
// clear's own moment (the export marks them, named by the clock player), and
// pauses the film: both players pause, and the gateways' stamps stand still.
// Slow mode holds across gateways for one viewer (the page's own id in
// /ws?viewer=), also after a reconnect, and holds no other viewer. With
// approval on, comments held at gateway 2 are listed on gateway 1's console,
// which approves one (the phone at gateway 2 gets its ack, both screens show
// it) and rejects the other (the phone is told).
'use strict';
const L = require('./lib');
const B = require('./buslib');
const H = require('../host/hostlib');
const { spawnSync } = require('child_process');

const TOKEN = 'bus-host-token-0123';

async function main() {
  const args = L.parseArgs(process.argv);
  B.needNats(args);
  const screening = 'host-' + process.pid;
  const nats = await B.startNats(args.nats, L.path.join(args.workdir, 'nats-store-host'));
  const busUrl = 'nats://127.0.0.1:' + nats.m[1];
  const ga = await B.startGate(args, busUrl, screening, ['--host-token', TOKEN]);
  const gb = await B.startGate(args, busUrl, screening);
  const dumps = [L.path.join(args.workdir, 'bus-host-a.jsonl'), L.path.join(args.workdir, 'bus-host-b.jsonl')];
  for (const f of dumps) L.fs.rmSync(f, { force: true });
  const common = ['--size', '640x360', '--font-px', '20', '--until', '20', '--bus', busUrl, '--screening', screening];
  const players = [await L.startPlayer(args, [...common, '--clock', '--dump-layout', dumps[0]]),
    await L.startPlayer(args, [...common, '--dump-layout', dumps[1]])];
  await L.sleep(1000);

  const host = await H.hostConnect(ga.port, { Authorization: 'Bearer ' + TOKEN });
  L.check(host.opened, 'the host console of gateway 1 opens');
  const ca = await L.connect(ga.port), cb = await L.connect(gb.port);
  const doomed = await L.request(ca, { type: 'comment', text: 'delete me please' });
  const kept = await L.request(cb, { type: 'comment', text: 'keep me' });
  L.check(doomed.type === 'ack' && kept.type === 'ack', 'a comment through each gateway, acked');

  // a rule on one console: the other gateway refuses within a second
  await L.until(host, (x) => x.comments.has(doomed.id), 10);
  const t0 = Date.now();
  const st = await H.ask(host, { type: 'add_rule', kind: 'keyword', pattern: 'spoiler' }, ['state', 'error']);
  L.check(st && st.type === 'state' && st.rules.some((r) => r.pattern === 'spoiler'), 'the console adds the rule "spoiler"');
  let refusal = null, tries = 0;
  while (Date.now() - t0 < 5000) {
    tries++;
    refusal = await L.request(cb, { type: 'comment', text: 'SPOILER: it was a dream ' + tries });
    if (refusal.type === 'error') break;
    await L.sleep(50);
  }
  const took = Date.now() - t0;
  L.check(refusal.type === 'error' && refusal.code === 'blocked', 'gateway 2 refuses a matching comment: ' +
    JSON.stringify(refusal.code));
  L.check(took <= 1000, 'within a second of the rule (' + took + ' ms, ' + (tries - 1) + ' let through before)');
  const passedBefore = tries - 1;

  // a delete on the console: off both screens
  const del = await H.ask(host, { type: 'delete', id: doomed.id }, ['status', 'error']);
  L.check(del && del.type === 'status' && del.status === 'deleted', 'the console deletes ' + doomed.id);

  // a ban of the address on one console holds at the other gateway
  const entry = host.comments.get(doomed.id);
  await H.ask(host, { type: 'ban', who: entry.address }, ['state', 'error']);
  let banned = null, beforeBan = 0;
  const tBan = Date.now();
  for (let i = 0; i < 20; i++) {
    banned = await L.request(cb, { type: 'comment', text: 'still here ' + i });
    if (banned.type === 'error') break;
    beforeBan++;
    await L.sleep(50);
  }
  L.check(banned.type === 'error' && banned.code === 'banned', 'the address banned on gateway 1 is refused at gateway 2 (' +
    JSON.stringify(banned.code) + ' after ' + (Date.now() - tBan) + ' ms)');

  // unbanned, the address comments again
  await H.ask(host, { type: 'unban', who: entry.address }, ['state', 'error']);
  let back = null, probes = 0;
  for (let i = 0; i < 40 && !(back && back.type === 'ack'); i++) {
    back = await L.request(cb, { type: 'comment', text: 'unbanned ' + i });
    if (back.type === 'ack') probes++;
    else await L.sleep(50);
  }
  L.check(back && back.type === 'ack', 'after the unban gateway 2 takes the address\'s comments again');

  // a clear on gateway 1's console: off both screens, at the same moment
  const toClear = [];
  for (let i = 0; i < 3; i++) toClear.push(await L.request(i % 2 ? ca : cb, { type: 'comment', text: 'clear me ' + i }));
  L.check(toClear.every((a) => a.type === 'ack'), 'three comments to clear, acked');
  await L.sleep(400);   // on both screens by now
  host.ws.send(JSON.stringify({ type: 'clear' }));
  await L.sleep(300);
  const afterClear = await L.request(cb, { type: 'comment', text: 'after the clear' });
  L.check(afterClear.type === 'ack', 'a comment after the clear, acked');

  // a film pause on the console: every player pauses, the stamps stand still until it plays again
  host.ws.send(JSON.stringify({ type: 'film_pause' }));
  // the gateways stamp with the clock player's film time: measure once its film has paused
  // (the request goes console, bus, player; slow machines and sanitizers take a while)
  const tPause = Date.now();
  while (!/host: pause/.test(players[0].stderr()) && Date.now() - tPause < 10000) await L.sleep(20);
  L.check(/host: pause/.test(players[0].stderr()), 'the clock player pauses at the console\'s word (after ' +
    (Date.now() - tPause) + ' ms)');
  await L.sleep(500);   /* its paused clock reaches both gateways */
  const p1 = await L.request(ca, { type: 'comment', text: 'during the pause 1' });
  await L.sleep(700);
  const p2 = await L.request(cb, { type: 'comment', text: 'during the pause 2' });
  host.ws.send(JSON.stringify({ type: 'film_play' }));
  L.check(p1.type === 'ack' && p2.type === 'ack' && Math.abs(p2.t_ms - p1.t_ms) < 150,
    'while the film is paused both gateways stamp the same moment (' + p1.t_ms + ' and ' + p2.t_ms + ' ms, 700 ms apart)');

  // slow mode across the gateways: one viewer (the page's id) is one author at every gateway
  // (5 s, and a second between the tries: room for a slow machine, where the setting and the
  // viewer's last comment take a while through the bus)
  const slow = await H.ask(host, { type: 'slow_mode', seconds: 5 }, ['state', 'error']);
  L.check(slow && slow.type === 'state' && slow.slow_mode_s === 5, 'the console sets slow mode to 5 s');
  await L.sleep(1000);   // the setting reaches gateway 2 through the bucket
  const viewer = 'viewer=0123456789abcdef';
  const va = await L.connect(ga.port, undefined, viewer), vb = await L.connect(gb.port, undefined, viewer);
  const vo = await L.connect(gb.port, undefined, 'viewer=fedcba9876543210');
  const s1 = await L.request(va, { type: 'comment', text: 'slow one' });
  await L.sleep(1000);   // the viewer's comment reaches gateway 2 through the bus
  const s2 = await L.request(vb, { type: 'comment', text: 'slow two' });
  const s3 = await L.request(vo, { type: 'comment', text: 'another viewer' });
  L.check(s1.type === 'ack', 'a viewer comments at gateway 1');
  L.check(s2.type === 'error' && s2.code === 'slow_mode', 'the same viewer at gateway 2, 1 s later, is held by slow mode (' +
    JSON.stringify(s2.code || s2.type) + ')');
  L.check(s3.type === 'ack', 'another viewer at gateway 2 is not');
  vb.ws.close();
  const vb2 = await L.connect(gb.port, undefined, viewer);
  const s4 = await L.request(vb2, { type: 'comment', text: 'slow three' });
  L.check(s4.type === 'error' && s4.code === 'slow_mode', 'nor is a reconnect a way round it (' + JSON.stringify(s4.code || s4.type) + ')');
  await H.ask(host, { type: 'slow_mode', seconds: 0 }, ['state', 'error']);
  for (const c of [va, vb2, vo]) c.ws.close();

  // the approval queue across the gateways: held at gateway 2, decided on gateway 1's console
  host.ws.send(JSON.stringify({ type: 'approval', on: true }));
  await L.until(host, (x) => x.state && x.state.approval === true, 5);
  L.check(host.state && host.state.approval === true, 'the console turns approval on (' +
    JSON.stringify({ closed: host.closed, state: host.state && host.state.approval,
      last: host.messages.slice(-3).map((m) => m.type + (m.type === 'error' ? ':' + m.code : '')) }) + ')');
  await L.sleep(1000);   // the setting reaches gateway 2
  const wa = await L.connect(gb.port, undefined, 'viewer=1111111111111111');
  const h1 = await L.request(wa, { type: 'comment', text: 'approve me at the other gateway' });
  const h2 = await L.request(wa, { type: 'comment', text: 'reject me at the other gateway' });
  L.check(h1.type === 'held' && h2.type === 'held', 'gateway 2 holds two comments for approval (' + h1.type + ', ' + h2.type + ')');
  await L.until(host, (x) => x.comments.has(h1.id) && x.comments.has(h2.id), 5);
  L.check(host.comments.has(h1.id) && host.comments.get(h1.id).status === 'held' && host.comments.has(h2.id),
    'gateway 1\'s console lists them as held');
  const seen = wa.messages.length;
  host.ws.send(JSON.stringify({ type: 'approve', id: h1.id }));
  host.ws.send(JSON.stringify({ type: 'reject', id: h2.id }));
  await L.until(wa, (x) => x.messages.slice(seen).some((m) => m.type === 'ack' && m.id === h1.id) &&
    x.messages.slice(seen).some((m) => m.type === 'error' && m.code === 'rejected'), 5);
  const told = wa.messages.slice(seen);
  L.check(told.some((m) => m.type === 'ack' && m.id === h1.id), 'the phone at gateway 2 gets the ack of the approved one');
  L.check(told.some((m) => m.type === 'error' && m.code === 'rejected'), 'and is told the other was rejected');
  await L.until(host, (x) => x.comments.get(h1.id).status === 'shown' && x.comments.get(h2.id).status === 'rejected', 5);
  L.check(host.comments.get(h1.id).status === 'shown' && host.comments.get(h2.id).status === 'rejected',
    'gateway 1\'s console says shown and rejected (' + host.comments.get(h1.id).status + ', ' +
    host.comments.get(h2.id).status + ')');
  await H.ask(host, { type: 'approval', on: false }, ['state', 'error']);
  wa.ws.close();
  for (const c of [ca, cb, host]) c.ws.close();

  const r = [await L.waitExit(players[0], 40), await L.waitExit(players[1], 40)];
  L.check(r.every((x) => x.code === 0), 'both players finished cleanly');
  const bytes = dumps.map((f) => L.fs.readFileSync(f));
  L.check(bytes[0].equals(bytes[1]), 'both layouts are byte-identical');
  const live = new Map(L.readJsonl(dumps[0]).slice(1).map((l) => [l.id, l]));
  L.check(live.get(kept.id) !== undefined, 'the other comment is placed on both screens (the clear took it off later)');
  L.check(live.get(doomed.id) && !live.get(doomed.id).shown && live.get(doomed.id).reason === 'deleted',
    'the deleted one left both screens: ' + JSON.stringify(live.get(doomed.id) && live.get(doomed.id).reason));
  const extra = probes + toClear.length + 3 + 2 + 1;   /* the two slow mode let through, the approved one */
  L.check(live.size === 2 + passedBefore + beforeBan + extra, 'no blocked or banned comment reached the stream (' + live.size +
    ' placed: 2, ' + passedBefore + ' before the rule reached gateway 2, ' + beforeBan + ' before the ban did, ' + extra +
    ' after the unban)');
  L.check(toClear.every((a) => live.get(a.id) && !live.get(a.id).shown && live.get(a.id).reason === 'deleted'),
    'the clear took the three off both screens: ' + JSON.stringify(toClear.map((a) => live.get(a.id) && live.get(a.id).reason)));
  L.check(live.get(afterClear.id) && live.get(afterClear.id).shown, 'the comment sent after the clear is shown');
  L.check(live.get(h1.id) && live.get(h1.id).shown && !live.get(h2.id), 'the approved comment is on both screens, the rejected one nowhere');
  for (const [i, p] of players.entries())
    L.check(/host: pause/.test(p.stderr()) && /host: play/.test(p.stderr()), 'player ' + (i + 1) +
      ' paused and played the film at the host\'s word');
  const ex = spawnSync(args.convert, [busUrl + '/' + screening, '-o', L.path.join(args.workdir, 'bus-host-layout.jsonl'),
    '--layout', '--stage', '640x360', '--font-px', '20'], { encoding: 'utf8' });
  L.check(ex.status === 0, 'the stream\'s layout (' + ex.stderr.trim() + ')');
  const replay = L.fs.readFileSync(L.path.join(args.workdir, 'bus-host-layout.jsonl'));
  L.check(replay.equals(bytes[0]), 'the export lays the delete and the clear out as the screens did');
  ga.proc.kill('SIGTERM');
  gb.proc.kill('SIGTERM');
  nats.proc.kill('SIGTERM');
}

main().catch((e) => L.fail(e.stack || String(e)));
