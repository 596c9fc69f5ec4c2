// Crash safety of the recording: SIGKILL the player in the middle of a flood;
// the recording must still be a valid track (danmaku-convert reads it with
// dm_read_jsonl) holding every comment that was acked before the kill.
'use strict';
const { execFileSync } = require('child_process');
const L = require('./lib');

async function main() {
  const args = L.parseArgs(process.argv);
  const rec = L.path.join(args.workdir, 'crash-rec.jsonl');
  const back = L.path.join(args.workdir, 'crash-read-back.jsonl');
  L.fs.rmSync(rec, { force: true });
  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '120', '--record', rec,
    '--live-rate', '100000', '--live-burst', '100000']);
  const clients = await Promise.all(Array.from({ length: 8 }, () => L.connect(player.port)));
  L.check(clients.every((c) => c.opened), '8 clients connected');
  const acked = new Set();
  let stop = false, sent = 0;
  for (const c of clients) {
    c.ws.on('message', (m) => { const j = JSON.parse(String(m)); if (j.type === 'ack') acked.add(j.id); });
    (async () => {
      while (!stop && !c.closed) {
        for (let i = 0; i < 10; i++) { sent++; c.ws.send(JSON.stringify({ type: 'comment', text: 'crash test ' + sent + ' 弹幕' })); }
        await L.sleep(10);
      }
    })();
  }
  // kill once a good number of comments are through, while the flood goes on
  const deadline = Date.now() + 20000;
  while (acked.size < 1000 && Date.now() < deadline) await L.sleep(20);
  player.proc.kill('SIGKILL');
  const killedAckCount = acked.size;   // acks that arrived before the kill
  const snapshot = new Set(acked);
  await L.waitExit(player, 10);
  stop = true;
  for (const c of clients) c.ws.terminate();
  L.check(killedAckCount >= 100, killedAckCount + ' comments acked before the kill (' + sent + ' sent)');

  // the recording reads back as a track, with nothing fatal
  execFileSync(args.convert, [rec, '-o', back, '--to', 'jsonl']);
  const lines = L.readJsonl(back).filter((l) => l.type !== 'track');
  const ids = new Set(lines.map((l) => l.id));
  let missing = 0;
  for (const id of snapshot) if (!ids.has(id)) missing++;
  L.check(missing === 0, 'every acked comment is in the recording (' + snapshot.size + ' acked, ' + lines.length + ' recorded, ' + missing + ' missing)');
  L.check(lines.length >= snapshot.size && lines.every((l) => /^crash test \d+ 弹幕$/.test(l.text)), 'recorded texts intact');
  const raw = L.fs.readFileSync(rec, 'utf8');
  const last = raw.slice(raw.lastIndexOf('\n', raw.length - 2) + 1);
  console.log('# recording ends ' + (raw.endsWith('\n') ? 'on a whole line' : 'inside a line: ' + JSON.stringify(last.slice(0, 60))));
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
