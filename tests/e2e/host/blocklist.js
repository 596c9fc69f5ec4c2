// The blocklist end to end through the server: rules from a --moderation
// file and rules the host adds live, matched after NFKC and case folding, so
// full-width and half-width forms, case variants and CJK text meet the same
// rule; a preview tells what a new rule would have blocked. Blocked comments
// get {"type":"error","code":"blocked"}, never reach the screen (layout dump)
// or the recording, and count in the console's statistics. Also: bans by
// author and by address. A bad settings file is one clear line and exit 1.
'use strict';
const { spawnSync } = require('child_process');
const L = require('../live/lib');
const H = require('./hostlib');

async function main() {
  const args = L.parseArgs(process.argv);
  const settings = L.path.join(args.workdir, 'moderation.json');
  const rec = L.path.join(args.workdir, 'blocklist-rec.jsonl');
  const dump = L.path.join(args.workdir, 'blocklist-layout.jsonl');
  for (const f of [rec, dump]) L.fs.rmSync(f, { force: true });
  L.fs.writeFileSync(settings, JSON.stringify({
    blocklist: [{ keyword: 'spam' }, { keyword: '剧透' }, { keyword: 'ｶﾞｲｼﾞﾝ' }, { regex: 'buy\\s+now' }, { regex: 'free.*money' }],
  }));

  // a settings file with a typo is refused before anything starts
  const badFile = L.path.join(args.workdir, 'bad-moderation.json');
  L.fs.writeFileSync(badFile, '{"blocklist": [{"keywrd": "spam"}]}');
  const bad = spawnSync(args.player, [args.film, '--headless', '--listen', '127.0.0.1:0', '--moderation', badFile],
    { encoding: 'utf8', timeout: 20000 });
  L.check(bad.status === 1 && bad.stderr.trim().split('\n').length === 1 && bad.stderr.includes('bad-moderation.json'),
    'a bad --moderation file: one line naming it, exit 1 (' + bad.stderr.trim() + ')');
  const missing = spawnSync(args.player, [args.film, '--headless', '--listen', '127.0.0.1:0', '--moderation',
    L.path.join(args.workdir, 'no-such-file.json')], { encoding: 'utf8', timeout: 20000 });
  L.check(missing.status === 1 && missing.stderr.trim().split('\n').length === 1,
    'a missing --moderation file: one line, exit 1 (' + missing.stderr.trim() + ')');

  const player = await L.startPlayer(args, ['--size', '640x360', '--until', '60', '--live-rate', '50',
    '--live-burst', '50', '--moderation', settings, '--record', rec, '--dump-layout', dump]);
  const { token } = H.hostToken(player);
  const host = await H.hostConnect(player.port, { Authorization: 'Bearer ' + token });
  await L.until(host, (x) => x.state, 10);
  L.check(host.state.rules.length === 5, 'the console lists the 5 rules from the file');
  const a = await L.connect(player.port);

  const send = (text) => L.request(a, { type: 'comment', text });
  const blocked = [
    ['ＳＰＡＭ', 'full-width upper case'], ['SpAm', 'mixed case'], ['ｓｐａｍ here', 'full-width lower case'],
    ['不要剧透啊', 'CJK keyword inside a sentence'], ['ガイジン', 'full-width katakana against a half-width rule'],
    ['ｶﾞｲｼﾞﾝ', 'half-width katakana as written'], ['BUY   NOW', 'regex, case and spaces'],
    ['ＦＲＥＥ ｍｏｎｅｙ!', 'regex against full-width text'],
  ];
  for (const [text, what] of blocked) {
    const r = await send(text);
    L.check(r.type === 'error' && r.code === 'blocked' && /blocked/.test(r.message),
      'blocked: ' + what + ' "' + text + '" -> ' + JSON.stringify(r));
  }
  const passed = ['hello', 'spa', '剧场版', 'Ｈｅｌｌｏ　ｗｏｒｌｄ', 'ガイド'];
  for (const text of passed) {
    const r = await send(text);
    L.check(r.type === 'ack', 'passes: "' + text + '"');
  }

  // a live rule with a preview first: what would ｈｅｌｌｏ (full-width) have blocked?
  const prev = await H.ask(host, { type: 'preview', kind: 'keyword', pattern: 'ｈｅｌｌｏ' }, ['preview', 'error']);
  L.check(prev.type === 'preview' && prev.count === 2 && prev.matches.includes('hello') &&
    prev.matches.some((t) => /^Ｈｅｌｌｏ/.test(t)),
    'preview: the new rule would have blocked 2 recent comments ' + JSON.stringify(prev.matches));
  const badRule = await H.ask(host, { type: 'preview', kind: 'regex', pattern: '(unclosed' }, ['preview', 'error']);
  L.check(badRule.type === 'error' && badRule.code === 'bad_rule', 'preview of a bad regex: bad_rule error');
  const st = await H.ask(host, { type: 'add_rule', kind: 'keyword', pattern: 'ｈｅｌｌｏ' }, ['state', 'error']);
  L.check(st.type === 'state' && st.rules.length === 6, 'the host added the rule live');
  for (const text of ['HELLO', 'hello', 'ＨＥＬＬＯ there', 'Hello']) {
    const r = await send(text);
    L.check(r.type === 'error' && r.code === 'blocked', 'the live rule blocks "' + text + '"');
  }
  const rule = host.state.rules.find((r) => r.pattern === 'ｈｅｌｌｏ');
  const rm = await H.ask(host, { type: 'remove_rule', rule: rule.id }, ['state', 'error']);
  const spam = rm.rules.find((r) => r.pattern === 'spam');
  L.check(rm.type === 'state' && rm.rules.length === 5 && !rm.rules.some((r) => r.id === rule.id) && spam.hits === 3,
    'rule hits are counted (spam: ' + spam.hits + ') and the rule can be removed');
  L.check((await send('hello again')).type === 'ack', 'once removed, the rule blocks nothing');

  const stats = await H.waitStats(host, (m) => m.rejected.blocked === 12, '12 blocked', 15);
  L.check(stats.rejected.blocked === 12, 'the console counts 12 rejections as blocked');
  const listed = [...host.comments.values()].filter((c) => c.status === 'rejected' && c.reason === 'blocked');
  L.check(listed.length === 12, 'the console lists each blocked comment with its reason (' + listed.length + ')');

  // bans: an author's ban ends with its connection; an address ban holds for new connections too
  const mine = [...host.comments.values()].find((c) => c.text === 'hello again');
  let st2 = await H.ask(host, { type: 'ban', who: mine.author }, ['state', 'error']);
  L.check(st2.type === 'state' && st2.bans.includes(mine.author), 'the author is banned');
  const banned = await send('still here');
  L.check(banned.type === 'error' && banned.code === 'banned', 'a banned author gets "banned"');
  const b = await L.connect(player.port);
  L.check((await L.request(b, { type: 'comment', text: 'new phone' })).type === 'ack',
    'a new connection from the same address is a new author');
  st2 = await H.ask(host, { type: 'ban', who: mine.address }, ['state', 'error']);
  const c2 = await L.connect(player.port);
  const r2 = await L.request(c2, { type: 'comment', text: 'newer phone' });
  L.check(st2.bans.includes(mine.address) && r2.type === 'error' && r2.code === 'banned',
    'an address ban refuses every connection from that address');
  await H.ask(host, { type: 'unban', who: mine.address }, ['state', 'error']);
  st2 = await H.ask(host, { type: 'unban', who: mine.author }, ['state', 'error']);
  L.check(st2.bans.length === 0 && (await L.request(c2, { type: 'comment', text: 'welcome back' })).type === 'ack' &&
    (await send('me too')).type === 'ack', 'unbanned, both comment again');
  b.ws.close();
  c2.ws.close();
  a.ws.close();
  host.ws.close();
  player.proc.kill('SIGTERM');
  L.check((await L.waitExit(player, 30)).code === 0, 'the player exits cleanly');

  const shownTexts = L.readJsonl(dump).filter((l) => l.type === 'comment').map((l) => l.text);
  const recTexts = L.readJsonl(rec).filter((l) => l.text).map((l) => l.text);
  const all = blocked.map((b) => b[0]).concat(['HELLO', 'ＨＥＬＬＯ there', 'Hello']);
  L.check(!all.some((t) => shownTexts.includes(t) || recTexts.includes(t)),
    'no blocked comment reached the screen or the recording');
  L.check(['hello', '剧场版', 'hello again'].every((t) => shownTexts.includes(t) && recTexts.includes(t)),
    'the passing comments did (' + shownTexts.length + ' on screen)');
  console.log('PASS');
  process.exit(0);
}
main().catch((e) => L.fail(e.stack || String(e)));
