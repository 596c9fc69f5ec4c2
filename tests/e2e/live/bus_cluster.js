// The comment bus under failures (docs/scale.md), with real servers: a
// three-node JetStream cluster (routes on loopback ports, a store each), the
// screening's stream with three replicas, two gateways that know each other
// (--peer), two players, one of them the clock. A flood goes through both
// gateways from `ws` clients, and an audience page in Chromium sits on the
// first gateway. Mid-flood:
//   - SIGKILL of the NATS node the gateways connected to: they move to the
//     others, and every comment acked before, during and after is in the
//     stream and in the players' layouts, once;
//   - SIGKILL of a gateway: its clients (the page, by itself) reconnect to the
//     other and go on sending;
//   - SIGKILL of a player, started again: it rebuilds the screen from the
//     stream, and its layout at the end is byte for byte the other's.
'use strict';
const L = require('./lib');
const B = require('./buslib');
const { spawnSync } = require('child_process');

const UNTIL_S = 28;            // the players' film ends here
const RESTARTED_UNTIL_S = 24;  // ...the restarted player's here
const FLOOD_MARGIN_S = 4;      // nothing is sent in the last seconds before the earlier end

async function main() {
  const args = L.parseArgs(process.argv);
  B.needNats(args);
  let chromium = null;
  try { chromium = require('playwright-core').chromium; } catch (e) { chromium = null; }
  const screening = 'cluster-' + process.pid;
  const client = [], route = [];
  for (let i = 0; i < 3; i++) { client.push(await B.freePort()); route.push(await B.freePort()); }
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    const dir = L.path.join(args.workdir, 'store-n' + (i + 1));
    L.fs.rmSync(dir, { recursive: true, force: true });
    const routes = route.filter((_, j) => j !== i).map((p) => 'nats://127.0.0.1:' + p).join(',');
    nodes.push(B.startWaiting(args.nats, ['-js', '-a', '127.0.0.1', '-p', String(client[i]), '-sd', dir,
      '--server_name', 'n' + (i + 1), '--cluster_name', 'danmaku', '--cluster', 'nats://127.0.0.1:' + route[i],
      '--routes', routes], /Server is ready/, 'nats-server n' + (i + 1)));
  }
  const n = await Promise.all(nodes);
  const all = client.map((p) => 'nats://127.0.0.1:' + p).join(',');
  const first = 'nats://127.0.0.1:' + client[0];

  // The gateways know only the first node: they learn the others from the cluster. The first starts at once,
  // while the cluster is still forming (no metadata leader, or one that does not know three peers yet), as when
  // a venue's machines all start together: it waits for the cluster, then makes the stream with three replicas.
  const gatePorts = [await B.freePort(), await B.freePort()];
  const gates = [];
  const leader = () => n.some((x) => /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/.test(x.err()));
  const leaderBefore = leader();
  for (let i = 0; i < 2; i++) {
    gates.push(await B.startGate(args, first, screening, ['--bus-replicas', '3',
      '--peer', 'http://127.0.0.1:' + gatePorts[1 - i] + '/'], gatePorts[i]));
  }
  L.check(leader(), 'a three-node JetStream cluster formed (a metadata leader)');
  if (leaderBefore) {
    console.log('# the cluster had its leader before the first gateway started: its wait was not needed this time');
  } else {
    L.check(/waiting up to \d+ s for the JetStream cluster/.test(gates[0].err()),
      'the first gateway, started before the cluster had a leader, said it waited for the cluster');
  }
  L.check(true, 'two gateways on the cluster, the stream with three replicas');

  const dumps = ['a', 'b', 'b-restarted'].map((x) => L.path.join(args.workdir, 'cluster-' + x + '.jsonl'));
  for (const f of dumps) L.fs.rmSync(f, { force: true });
  const common = ['--size', '640x360', '--font-px', '16', '--until', String(UNTIL_S), '--bus', all, '--screening', screening];
  // Player a is the clock: once its film ends, comments still acked are stamped at its last time and only a
  // player started later shows them; the restarted player stops earlier. The flood ends FLOOD_MARGIN_S of film
  // before that at the latest (the film cannot be further on than the wall time since its player was started),
  // however long the cluster takes to elect new leaders.
  const floodEnd = Date.now() + (RESTARTED_UNTIL_S - FLOOD_MARGIN_S) * 1000;
  const pa = await L.startPlayer(args, [...common, '--clock', '--dump-layout', dumps[0]]);
  let pb = await L.startPlayer(args, [...common, '--dump-layout', dumps[1]]);
  await L.sleep(1000);

  // the audience page in a real browser, on the first gateway
  let browser = null, page = null;
  if (chromium && args.chromium && L.fs.existsSync(args.chromium)) {
    const profile = L.path.join(args.workdir, 'chromium-profile');
    L.fs.rmSync(profile, { recursive: true, force: true });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium, headless: true, timeout: 60000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = await browser.newPage();
    await page.goto('http://127.0.0.1:' + gatePorts[0] + '/', { timeout: 20000 });
    await page.waitForSelector('#send:not([disabled])', { timeout: 20000 });
  } else {
    console.log('# no chromium or playwright-core: the page\'s own reconnect is not exercised here (live_bus_cluster checks the ws clients)');
  }

  // the flood: 8 clients, 4 on each gateway; a client whose gateway dies goes to the other, as the page does
  const acked = new Map();   // id -> text
  let sent = 0, refused = 0, lost = 0, running = true;
  const codes = {};
  async function runClient(k) {
    let gi = k % 2, c = await L.connect(gatePorts[gi]), i = 0;
    while (running && Date.now() < floodEnd) {
      if (c.closed || !c.opened) {
        gi = 1 - gi;
        await L.sleep(200);
        c = await L.connect(gatePorts[gi]);
        continue;
      }
      const text = 'flood ' + k + '-' + (i++);
      sent++;
      const a = await L.request(c, { type: 'comment', text }, 8);
      if (a && a.type === 'ack') acked.set(a.id, text);
      else if (a && a.type === 'error') { refused++; codes[a.code] = (codes[a.code] || 0) + 1; }
      else lost++;   // no answer: the gateway died with it in flight
      await L.sleep(100);
    }
    c.ws.close();
  }
  const flood = [];
  for (let k = 0; k < 8; k++) flood.push(runClient(k));

  await L.sleep(1500);
  const beforeKill = acked.size;
  n[0].proc.kill('SIGKILL');
  L.check(beforeKill > 0, 'the flood runs (' + beforeKill + ' acked), then SIGKILL of NATS node n1, the gateways\' node');
  await L.sleep(1500);
  gates[0].proc.kill('SIGKILL');
  const atGateKill = acked.size;
  L.check(true, 'SIGKILL of gateway 1 (' + atGateKill + ' acked so far)');
  await L.sleep(700);
  if (page) {
    // the page finds the other gateway by itself and sends from there; while the cluster elects the leaders
    // the dead node had, the gateway refuses ("unavailable", try again in a moment) and the viewer tries again
    const left = () => Math.max(1000, floodEnd - Date.now());
    await page.waitForFunction(() => /Connected/.test(document.getElementById('status').textContent), null, { timeout: left() });
    let said = '', tries = 0;
    while (said !== 'Sent!' && Date.now() < floodEnd) {
      if (tries++) await L.sleep(1000);
      await page.fill('#text', 'from the page after its gateway died');
      await page.click('#send');
      try {
        await page.waitForFunction(() => !/Sending/.test(document.getElementById('status').textContent), null, { timeout: left() });
      } catch (e) { /* still sending at the deadline */ }
      said = await page.textContent('#status');
    }
    if (said !== 'Sent!')
      L.fail('the page did not say Sent! but ' + JSON.stringify(said) + ' after ' + tries + ' tries; acked ' + acked.size +
        ', refused ' + JSON.stringify(codes) + '; gateway 2 says:\n' + gates[1].err().slice(-2000));
    L.check(true, 'the audience page moved to the other gateway and its comment was acked (' + tries + ' tr' +
      (tries === 1 ? 'y' : 'ies') + ')');
  }
  pb.proc.kill('SIGKILL');
  await pb.exited;
  // (the cluster may still be electing the leaders the killed node had: each JetStream request it times out on is
  // tried again, 5 s a try)
  const tRestart = Date.now();
  pb = await L.startPlayer(args, [...common, '--until', String(RESTARTED_UNTIL_S), '--dump-layout', dumps[2]], undefined, 60);
  L.check(true, 'SIGKILL of player b, started again (in ' + (Date.now() - tRestart) + ' ms)');
  await L.sleep(2000);
  const cut = Date.now() >= floodEnd;
  running = false;
  await Promise.all(flood);
  L.check(true, 'the flood stopped' + (cut ? ' (at its deadline, ' + FLOOD_MARGIN_S + ' s of film before the restarted player stops)' : '') +
    '; the players run on to the end of their film (the restarted one too)');
  const afterKill = acked.size;
  L.check(afterKill > atGateKill, 'clients of the dead gateway went on sending through the other (' + afterKill + ' acked in all, ' +
    refused + ' refused ' + JSON.stringify(codes) + ', ' + lost + ' lost with the gateway, of ' + sent + ')');
  if (browser) await browser.close();

  const ra = await L.waitExit(pa, 60), rb = await L.waitExit(pb, 60);
  L.check(ra.code === 0 && rb.code === 0, 'both players finished cleanly');
  const bytes = [L.fs.readFileSync(dumps[0]), L.fs.readFileSync(dumps[2])];
  L.check(bytes[0].length > 0 && bytes[0].equals(bytes[1]), 'the restarted player\'s layout is byte for byte the other\'s (' +
    bytes[0].length + ' bytes)');
  const live = L.readJsonl(dumps[0]).slice(1);
  const ids = live.map((l) => l.id);
  L.check(new Set(ids).size === ids.length, 'nothing doubled (' + ids.length + ' placed, all ids distinct)');
  const byId = new Map(live.map((l) => [l.id, l]));
  const missing = [...acked.keys()].filter((id) => !byId.has(id) || byId.get(id).text !== acked.get(id));
  L.check(missing.length === 0, 'every acked comment is on both screens, with its text (' + acked.size + ' acked, ' +
    missing.length + ' missing)');

  const exported = L.path.join(args.workdir, 'cluster-export.jsonl');
  const ex = spawnSync(args.convert, ['nats://127.0.0.1:' + client[1] + '/' + screening, '-o', exported],
    { encoding: 'utf8' });
  L.check(ex.status === 0, 'the stream exports from a surviving node (' + ex.stderr.trim() + ')');
  const lines = L.readJsonl(exported).filter((l) => l.type !== 'track');
  L.check(lines.length === live.length && lines.every((l) => byId.has(l.id)), 'the export holds what the players laid out (' +
    lines.length + ')');
  gates[1].proc.kill('SIGTERM');
  for (const x of n.slice(1)) x.proc.kill('SIGTERM');
}

main().catch((e) => L.fail(e.stack || String(e)));
