// The recording's disk fills during a flood, then frees (a small tmpfs in a
// mount namespace of this test's own; skipped with a reason where none can
// be made). While it is full comments are refused with not_recorded, never
// acked; stderr says so once and then at most every 5 s (not a line per
// comment); the console's statistics show "recording stopped: disk full"
// and count the refusals apart. Once space is back comments are acked
// again, and the file is a valid track: every line whole JSON, holding every
// acked comment and none that was refused (a write cut part-way by ENOSPC
// used to leave half a line, onto which the next comment was appended).
// While the disk is full the player's picture carries a red line saying the
// recording stopped (screenshots every half second: one taken while full
// has it, the first one, before, has not).
'use strict';
const { spawnSync, execFileSync } = require('child_process');
const L = require('./lib');

const SKIP = 77;   // ctest SKIP_RETURN_CODE

// Run this script again inside a new mount namespace (as root: --mount; else a user namespace too).
function reexecInNamespace() {
  for (const flags of [['--mount'], ['--user', '--map-root-user', '--mount']]) {
    const probe = spawnSync('unshare', [...flags, 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) continue;
    const r = spawnSync('unshare', [...flags, process.execPath, ...process.argv.slice(1)],
      { stdio: 'inherit', env: Object.assign({}, process.env, { DM_DISKFULL_NS: '1' }) });
    process.exit(r.status === null ? 1 : r.status);
  }
  console.log('SKIP: needs a mount namespace for a small tmpfs (unshare --mount, or --user --map-root-user): not permitted here');
  process.exit(SKIP);
}

async function main() {
  if (!process.env.DM_DISKFULL_NS) return reexecInNamespace();
  const args = L.parseArgs(process.argv);
  const dir = L.path.join(args.workdir, 'tmpfs');
  L.fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['--make-rprivate', '/'], { stdio: 'ignore' });
  } catch (e) { /* already private, or not needed */ }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
  } catch (e) {
    console.log('SKIP: cannot mount a tmpfs in the namespace: ' + e.message);
    process.exit(SKIP);
  }
  const rec = L.path.join(dir, 'rec.jsonl');
  const ballast = L.path.join(dir, 'ballast');
  const shots = [];
  for (let i = 1; i <= 60; i++) shots.push('--screenshot', (i / 2).toFixed(1) + ':' + L.path.join(args.workdir, 'shot-' + i + '.png'));
  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '60', '--record', rec,
    '--live-rate', '1000', '--live-burst', '1000', '--host-token', 'diskfull-token-1', ...shots]);
  const started = Date.now();
  const H = require('../host/hostlib');
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer diskfull-token-1' });
  const clients = await Promise.all(Array.from({ length: 4 }, () => L.connect(player.port)));
  L.check(host.opened && clients.every((c) => c.opened), 'a console and 4 clients connected');

  const acked = new Set(), other = [];
  const refused = { size: 0 };
  let flooding = true;
  for (const c of clients) {
    c.ws.on('message', (m) => {
      const j = JSON.parse(String(m));
      if (j.type === 'ack') acked.add(j.id);
      else if (j.type === 'error' && j.code === 'not_recorded') refused.size++;
      else other.push(j);
    });
    (async () => {
      while (flooding && !c.closed) {
        for (let i = 0; i < 5; i++) c.ws.send(JSON.stringify({ type: 'comment', text: 'disk test ' + Math.random().toString(36).slice(2) + ' 弹幕' }));
        await L.sleep(20);
      }
    })();
  }
  await L.sleep(1000);
  L.check(acked.size > 50, acked.size + ' comments acked before the disk fills');

  // fill the disk: the recording's next writes fail, part-way when its last page has room for part of them
  const fd = L.fs.openSync(ballast, 'w');
  const chunk = Buffer.alloc(4096, 0x78);
  try { for (;;) L.fs.writeSync(fd, chunk); } catch (e) { L.check(e.code === 'ENOSPC', 'the tmpfs is full (' + e.code + ')'); }
  try { for (;;) L.fs.writeSync(fd, chunk, 0, 1); } catch (e) { /* to the last byte */ }
  L.fs.closeSync(fd);
  const ackedAtFull = acked.size;
  const full = await H.waitStats(host, (m) => m.recording && !m.recording.ok, 'the recording stopped', 15);
  L.check(full.recording.error === 'disk full', 'the console\'s statistics say "recording stopped": ' + JSON.stringify(full.recording));
  await L.sleep(6000);   // long enough for the count's line on stderr
  const during = await H.waitStats(host, (m) => m.recording && !m.recording.ok && m.recording.refused > 0, 'refusals counted', 10);
  L.check(refused.size > 50 && during.rejected.not_recorded === during.recording.refused,
    refused.size + ' comments refused with not_recorded while the disk is full, counted apart (' +
    JSON.stringify(during.rejected) + ')');
  const ackedDuringFull = acked.size - ackedAtFull;
  const fullFrom = (Date.now() - started) / 1000 - 6, fullUntil = (Date.now() - started) / 1000;

  // free the disk: comments are acked again
  L.fs.rmSync(ballast);
  const before = acked.size;
  const back = await H.waitStats(host, (m) => m.recording && m.recording.ok, 'the recording resumed', 15);
  L.check(back.recording.ok, 'the console\'s statistics say the recording works again');
  const t0 = Date.now();
  while (acked.size < before + 50 && Date.now() - t0 < 15000) await L.sleep(50);
  L.check(acked.size >= before + 50, 'comments are acked again once space is back (' + (acked.size - before) + ')');
  flooding = false;
  await L.sleep(500);
  for (const c of clients) c.ws.close();
  host.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  // the file: every line whole, every acked comment in it, no refused one
  const text = L.fs.readFileSync(rec, 'utf8');
  const lines = text.split('\n');
  L.check(lines[lines.length - 1] === '', 'the recording ends with a whole line');
  let bad = 0;
  const ids = new Set();
  for (const l of lines.slice(0, -1)) {
    try { const j = JSON.parse(l); if (j.id) ids.add(j.id); } catch (e) { bad++; }
  }
  L.check(bad === 0, 'every line of the recording is valid JSON (' + bad + ' invalid of ' + (lines.length - 1) + ')');
  const missing = [...acked].filter((id) => !ids.has(id)).length;
  L.check(missing === 0, 'every acked comment is in the recording (' + acked.size + ' acked, ' + ids.size +
    ' recorded, ' + missing + ' missing; ' + ackedDuringFull + ' acked while full, from the last page\'s room)');
  L.check(ids.size === acked.size, 'and nothing else: no refused comment was recorded (' + ids.size + ' lines with ids)');
  execFileSync(args.convert, [rec, '-o', L.path.join(args.workdir, 'diskfull-read.jsonl'), '--to', 'jsonl']);
  // the banner: red in the top left corner while full, not before (film time follows the wall clock here)
  const banner = { x: 8, y: 8, w: 300, h: 24 };
  const red = (i) => {
    const f = L.path.join(args.workdir, 'shot-' + i + '.png');
    if (!L.fs.existsSync(f)) return -1;
    const img = L.readPng(f);
    let n = 0;
    for (let y = banner.y; y < banner.y + banner.h; y++)
      for (let x = banner.x; x < banner.x + banner.w; x++) {
        const k = (y * img.w + x) * 4;
        if (img.px[k] > 150 && img.px[k + 1] < 70 && img.px[k + 2] < 70) n++;
      }
    return n;
  };
  const mid = Math.round((fullFrom + fullUntil) / 2 * 2);
  const redBefore = red(1), redDuring = red(mid);
  L.check(redBefore >= 0 && redDuring > 2000 && redBefore < 200,
    'the picture says the recording stopped while the disk is full: ' + redDuring + ' red pixels in the top left corner at ' +
    (mid / 2) + ' s, ' + redBefore + ' at 0.5 s');
  // stderr: the first failure, a count every 5 s at most, the recovery; never a line per comment
  const recLines = player.stderr().split('\n').filter((l) => /recording/.test(l));
  L.check(recLines.length >= 3 && recLines.length <= 6 && /recording stopped: .*No space left/.test(recLines[0]) &&
    /recording resumed/.test(recLines[recLines.length - 1]),
    recLines.length + ' lines on stderr about the recording for ' + refused.size + ' refusals:\n# ' + recLines.join('\n# '));
  L.check(other.every((m) => m.type === 'error' ? m.code === 'busy' : true), 'no other error than busy (' +
    JSON.stringify(other.slice(0, 3)) + ')');
  execFileSync('umount', [dir]);
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
