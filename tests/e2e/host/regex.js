// A catastrophic blocklist regex cannot freeze the feed. A pattern that
// backtracks without end on probe texts is refused when the host adds it,
// previews it or loads it from --moderation. One the probes miss
// (^(\p{Han}|\p{Han}\p{Han})+$: they are built from ASCII) meets a flood of
// 20 comments of 59 Han characters and a "b", each of which would take pcre2
// ~10 million steps: the match limit stops each, the comment goes through
// that rule (a limit is no match), the console is told, and a ping from
// another client is answered within 50 ms throughout (the time is scaled by
// DM_TIME_SCALE for sanitizer builds).
'use strict';
const { spawnSync } = require('child_process');
const L = require('../live/lib');
const H = require('./hostlib');

const SCALE = Number(process.env.DM_TIME_SCALE || 1);
const FLOOD = 20;

async function main() {
  const args = L.parseArgs(process.argv);
  // refused from a settings file too
  const bad = L.path.join(args.workdir, 'catastrophic.json');
  L.fs.writeFileSync(bad, JSON.stringify({ blocklist: [{ regex: '^(a|aa)+$' }] }));
  const r0 = spawnSync(args.player, [args.film, '--headless', '--listen', '127.0.0.1:0', '--moderation', bad],
    { encoding: 'utf8', timeout: 20000 });
  L.check(r0.status === 1 && r0.stderr.trim().split('\n').length === 1 && /too long/.test(r0.stderr),
    'a catastrophic regex in --moderation: one line, exit 1 (' + r0.stderr.trim() + ')');

  const player = await L.startPlayer(args, ['--size', '320x180', '--until', '60', '--live-rate', '100',
    '--live-burst', '100', '--host-token', 'regex-test-token']);
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer regex-test-token' });
  await L.until(host, (x) => x.state, 10);
  for (const pattern of ['^(a|aa)+$', '(\\w+\\s?)*$', '^(x+)+y?$']) {
    const add = await H.ask(host, { type: 'add_rule', kind: 'regex', pattern }, ['state', 'error']);
    L.check(add.type === 'error' && add.code === 'bad_rule' && /too long/.test(add.message),
      'add_rule ' + pattern + ' -> bad_rule (' + add.message + ')');
    const pre = await H.ask(host, { type: 'preview', kind: 'regex', pattern }, ['preview', 'error']);
    L.check(pre.type === 'error' && pre.code === 'bad_rule', 'preview ' + pattern + ' -> bad_rule too');
  }
  const ok = await H.ask(host, { type: 'add_rule', kind: 'regex', pattern: 'buy\\s+now' }, ['state', 'error']);
  L.check(ok.type === 'state', 'an ordinary regex is added');
  const han = await H.ask(host, { type: 'add_rule', kind: 'regex', pattern: '^(\\p{Han}|\\p{Han}\\p{Han})+$' },
    ['state', 'error']);
  L.check(han.type === 'state' && han.rules.length === 2, 'a catastrophic regex the probes miss is added');
  const ruleId = han.rules[1].id;

  const flooder = await L.connect(player.port);
  const pinger = await L.connect(player.port, { localAddress: '127.0.0.2' });
  L.check(flooder.opened && pinger.opened, 'a flooder and another client connected');
  const evil = '字'.repeat(59) + 'b';
  const t0 = Date.now();
  for (let i = 0; i < FLOOD; i++) flooder.ws.send(JSON.stringify({ type: 'comment', text: evil }));
  const rtts = [];
  while (flooder.messages.length < FLOOD && Date.now() - t0 < 60000) {
    const sent = Date.now();
    const pong = await L.request(pinger, { type: 'ping' }, 30);
    L.check(pong && pong.type === 'pong', 'ping ' + (rtts.length + 1) + ' answered');
    rtts.push(Date.now() - sent);
  }
  const took = Date.now() - t0;
  L.check(flooder.messages.length === FLOOD && flooder.messages.every((m) => m.type === 'ack'),
    'the flood is answered (' + flooder.messages.length + ' acks in ' + took + ' ms): a limit is no match');
  const worst = Math.max(...rtts);
  L.check(rtts.length >= 1 && worst < 50 * SCALE, 'during the flood every ping was answered within ' + 50 * SCALE +
    ' ms (' + rtts.length + ' pings, slowest ' + worst + ' ms)');
  const notice = await L.until(host, (x) => x.messages.some((m) => m.type === 'rule_limit'), 10);
  const n = host.messages.find((m) => m.type === 'rule_limit');
  L.check(notice && n.rule === ruleId && n.limit_hits >= 1 && /too long/.test(n.message),
    'the console is told which rule reached its limits (' + JSON.stringify(n) + ')');
  const stats = await H.ask(host, { type: 'ping' }, ['pong']);
  L.check(stats && host.state.rules.find((r) => r.id === ruleId).limit_hits >= 1, 'the rule counts its limit hits');
  // the rule still blocks what it matches quickly
  const hit = await L.request(flooder, { type: 'comment', text: '字字' });
  L.check(hit.type === 'error' && hit.code === 'blocked', 'the rule still blocks what it matches ("字字")');
  host.ws.close(); flooder.ws.close(); pinger.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
