// A console that connects gets the whole list the docs promise: the last
// 1,000 comments, oldest first (it used to get the newest 240, what fitted
// in a reply ring of 256), then the statistics.
'use strict';
const L = require('../live/lib');
const H = require('./hostlib');

const SENT = 1100, LIST = 1000;

async function main() {
  const args = L.parseArgs(process.argv);
  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '60', '--live-rate', '1000',
    '--live-burst', '1000', '--host-token', 'list-test-token']);
  const clients = await Promise.all(Array.from({ length: 4 }, () => L.connect(player.port)));
  for (let k = 0; k < SENT; k++) clients[k % 4].ws.send(JSON.stringify({ type: 'comment', text: 'list ' + k }));
  const acks = (c) => c.messages.filter((m) => m.type === 'ack');
  await Promise.all(clients.map((c, i) => L.until(c, (x) => acks(x).length >= SENT / 4, 60)));
  const ids = [].concat(...clients.map((c) => acks(c).map((m) => m.id)));
  L.check(ids.length === SENT, SENT + ' comments acked (' + ids.length + ')');
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer list-test-token' });
  await L.until(host, (x) => x.messages.some((m) => m.type === 'stats'), 20);
  const first = host.messages.findIndex((m) => m.type === 'stats');
  const list = host.messages.slice(0, first).filter((m) => m.type === 'comment');
  L.check(list.length === LIST, 'the console gets ' + LIST + ' comments at connect (' + list.length + ')');
  const sorted = ids.slice().sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  const want = new Set(sorted.slice(SENT - LIST));
  const extra = list.filter((m) => !want.has(m.id)).map((m) => m.id);
  L.check(extra.length === 0, 'the newest ' + LIST + ' of them (' + extra.length + ' others: ' + extra.slice(0, 5).join(' ') + ')');
  L.check(list.every((m, i) => i === 0 || Number(m.id.split('-')[1]) > Number(list[i - 1].id.split('-')[1])), 'oldest first');
  host.ws.close();
  for (const c of clients) c.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
