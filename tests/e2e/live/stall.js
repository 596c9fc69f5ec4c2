// A recording whose disk stalls: --record points at a FIFO whose reader (this
// script) stops reading for a few seconds. Meanwhile the film must keep
// playing (the console's statistics show the film time moving at about real
// time), other clients must still be answered (a ping), and no comment may be
// acked: an ack means its line is written. Once the reader reads again, every
// comment is acked, each only after its line came out of the FIFO.
'use strict';
const { execFileSync } = require('child_process');
const L = require('./lib');
const H = require('../host/hostlib');

const STALL_S = 3;
const COMMENTS = 5;

async function main() {
  const args = L.parseArgs(process.argv);
  const fifo = L.path.join(args.workdir, 'stall-rec.fifo');
  L.fs.rmSync(fifo, { force: true });
  execFileSync('mkfifo', [fifo]);
  // both ends, so the player's open does not wait for a reader and nothing ever sees an end of file
  const fd = L.fs.openSync(fifo, L.fs.constants.O_RDWR | L.fs.constants.O_NONBLOCK);
  let seen = '';
  const readFifo = () => {
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      let n = 0;
      try { n = L.fs.readSync(fd, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EAGAIN') break; throw e; }
      if (n <= 0) break;
      seen += buf.toString('utf8', 0, n);
    }
  };

  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '14', '--record', fifo, '--stats',
    '--live-rate', '50', '--live-burst', '50', '--host-token', 'stall-test-token']);
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer stall-test-token' });
  const a = await L.connect(player.port);
  const b = await L.connect(player.port);
  L.check(host.opened && a.opened && b.opened, 'a console and two audience clients connected');
  await L.sleep(1000);   // the film is under way, so stamps say where it is
  const first = await L.request(a, { type: 'comment', text: 'before the stall' });
  L.check(first && first.type === 'ack', 'a comment before the stall is acked');
  readFifo();
  L.check(seen.includes('"text":"before the stall"'), 'its line came out of the FIFO');

  // the disk stalls: fill the pipe, then read nothing
  const filler = Buffer.from('x'.repeat(1023) + '\n');
  let filled = 0;
  for (const chunk of [filler, Buffer.from('\n')]) {   // to the last byte: a short line would still fit otherwise
    for (;;) {
      try { filled += L.fs.writeSync(fd, chunk); } catch (e) { if (e.code === 'EAGAIN') break; throw e; }
    }
  }
  L.check(filled > 0, 'the FIFO is full (' + filled + ' bytes nobody reads)');
  const before = a.messages.length;
  for (let i = 0; i < COMMENTS; i++) a.ws.send(JSON.stringify({ type: 'comment', text: 'stalled ' + i }));
  const t0 = Date.now();
  const film0 = (await H.waitStats(host, () => true, 'statistics at the stall\'s start', 10)).film_ms;
  const pong = await L.request(b, { type: 'ping' }, 5);
  L.check(pong && pong.type === 'pong', 'during the stall another client is answered (' + (Date.now() - t0) + ' ms)');
  await L.sleep(STALL_S * 1000 - (Date.now() - t0));
  const stats = await H.waitStats(host, () => true, 'statistics at the stall\'s end', 10);
  const wall = Date.now() - t0;
  L.check(a.messages.length === before, 'no comment is acked while its line cannot be written (' +
    (a.messages.length - before) + ' replies in ' + wall + ' ms)');
  const advanced = stats.film_ms - film0;
  L.check(advanced >= 0.5 * (wall - 1000), 'the film kept playing during the stall: film time ' + film0 + ' -> ' +
    stats.film_ms + ' ms in about ' + wall + ' ms');

  // the reader reads again: each ack comes after its line is out of the FIFO
  const deadline = Date.now() + 20000;
  let checked = 0;
  while (checked < COMMENTS && Date.now() < deadline) {
    readFifo();
    const replies = a.messages.slice(before);
    for (; checked < replies.length; checked++) {
      const m = replies[checked];
      L.check(m.type === 'ack', 'stalled ' + checked + ' is acked once the disk frees (' + JSON.stringify(m) + ')');
      // the ack was sent after the line was written: reading what the FIFO holds now must find it
      readFifo();
      L.check(seen.includes('"id":"' + m.id + '"') && seen.includes('"text":"stalled ' + checked + '"'),
        'its line was written before the ack');
    }
    await L.sleep(20);
  }
  L.check(checked === COMMENTS, 'every stalled comment acked (' + checked + ' of ' + COMMENTS + ')');
  host.ws.close(); a.ws.close(); b.ws.close();
  let r = null;
  while (!r) {   // keep reading until the player is gone: its last lines go through the FIFO too
    readFifo();
    r = await Promise.race([player.exited, L.sleep(50).then(() => null)]);
  }
  readFifo();
  L.fs.closeSync(fd);
  L.check(r.code === 0, 'the player finished cleanly (' + JSON.stringify(r) + ')');
  const live = /live: .*?(\d+) frames, (\d+) late/.exec(player.stderr());
  if (live) console.log('# ' + live[1] + ' frames, ' + live[2] + ' late, over the whole run (stall included)');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
