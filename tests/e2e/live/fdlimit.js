// At the file-descriptor limit. Under `prlimit --nofile=128:128` the player
// says at start that the live feed takes fewer connections, and with 200
// sockets held open against it the network thread does not spin (it used to
// take a full core: accept() failing with EMFILE, again and again, until the
// sockets went); once they go, the feed works. Under a soft limit of 128 with
// room above it, the soft limit is raised to what the connection cap needs.
'use strict';
const net = require('net');
const L = require('./lib');

// CPU ticks (1/100 s) of the player's thread named `name`, or null.
function threadTicks(pid, name) {
  for (const t of L.fs.readdirSync('/proc/' + pid + '/task')) {
    let comm;
    try { comm = L.fs.readFileSync('/proc/' + pid + '/task/' + t + '/comm', 'utf8').trim(); } catch (e) { continue; }
    if (comm !== name) continue;
    const f = L.fs.readFileSync('/proc/' + pid + '/task/' + t + '/stat', 'utf8').split(')').pop().trim().split(/\s+/);
    return Number(f[11]) + Number(f[12]);   // utime + stime
  }
  return null;
}

async function main() {
  const args = L.parseArgs(process.argv);
  const { spawnSync } = require('child_process');
  if (spawnSync('prlimit', ['--version']).status !== 0) {
    console.log('SKIP: needs prlimit (util-linux)');
    process.exit(77);
  }
  // a hard limit of 128: the cap comes down, said once
  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '60'], ['prlimit', '--nofile=128:128']);
  const warn = /only 128 file descriptors are allowed .*at most (\d+) connections instead of 2048/.exec(player.stderr());
  L.check(warn && Number(warn[1]) > 0 && Number(warn[1]) < 128, 'at start: ' + (warn ? warn[0] : player.stderr()));
  const pid = player.proc.pid;
  L.check(threadTicks(pid, 'dm-net') !== null, 'the network thread is named dm-net');
  // 200 sockets held open, never a byte sent
  const held = await Promise.all(Array.from({ length: 200 }, () => new Promise((resolve) => {
    const s = net.connect(player.port, '127.0.0.1');
    s.on('connect', () => resolve(s));
    s.on('error', () => resolve(s));
  })));
  await L.sleep(500);
  const t0 = threadTicks(pid, 'dm-net');
  await L.sleep(3000);
  const used = threadTicks(pid, 'dm-net') - t0;
  const fds = L.fs.readdirSync('/proc/' + pid + '/fd').length;
  L.check(used < 30, '200 sockets held: the network thread used ' + used / 100 + ' s of CPU in 3 s (a spin takes ~3 s)');
  L.check(fds < 128, 'the player stays under its limit (' + fds + ' descriptors open)');
  for (const s of held) s.destroy();
  await L.sleep(500);
  const c = await L.connect(player.port);
  const ack = c.opened ? await L.request(c, { type: 'comment', text: 'after the siege' }) : null;
  L.check(ack && ack.type === 'ack', 'once they are gone, a client comments again');
  c.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  // room above a low soft limit: raised to what the cap needs, no warning
  const p2 = await L.startPlayer(args, ['--size', '320x180', '--until', '60'], ['prlimit', '--nofile=128:8192']);
  const limits = L.fs.readFileSync('/proc/' + p2.proc.pid + '/limits', 'utf8');
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)[1]);
  L.check(soft >= 2048 && soft <= 8192 && !/file descriptors are allowed/.test(p2.stderr()),
    'a soft limit of 128 under a hard one of 8192 is raised to ' + soft + ', with no warning');
  p2.proc.kill('SIGTERM');
  L.check((await L.waitExit(p2, 30)).code === 0, 'the player exits cleanly');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
