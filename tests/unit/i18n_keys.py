#!/usr/bin/env python3
"""The pages' translations are whole: every language the server offers
(net/server.c, dm_net_page_langs) has its file under assets/web/i18n, with
exactly the English file's keys and the same {placeholders}; every error code
of the registry (net/net_errors.c) has its sentence, the English one the
registry's own; every key the pages use (data-i18n* in the HTML, t('...') and
the keys the scripts build from codes, colours and statuses) is in the
English file.

    i18n_keys.py SOURCE_DIR
"""
import json
import pathlib
import re
import sys

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
web = src / "assets/web"
failures = []


def fail(msg):
    failures.append(msg)


def placeholders(s):
    return sorted(set(re.findall(r"\{(\w+)\}", s)))


server_c = (src / "net/server.c").read_text()
m = re.search(r"dm_net_page_langs\[\]\s*=\s*\{([^}]*)\}", server_c)
langs = re.findall(r'"([^"]+)"', m.group(1)) if m else []
if not langs or langs[0] != "en":
    fail("net/server.c: dm_net_page_langs not found or not English first: %r" % langs)

en = json.loads((web / "i18n/en.json").read_text())
for lang in langs:
    path = web / "i18n" / (lang + ".json")
    if not path.exists():
        fail("%s: missing (the server offers %s)" % (path, lang))
        continue
    tr = json.loads(path.read_text())
    for k in sorted(set(en) - set(tr)):
        fail("%s: lacks the key %s" % (path.name, k))
    for k in sorted(set(tr) - set(en)):
        fail("%s: has %s, which the English file has not" % (path.name, k))
    for k in sorted(set(en) & set(tr)):
        if not isinstance(tr[k], str) or not tr[k].strip():
            fail("%s: %s is empty" % (path.name, k))
        elif placeholders(tr[k]) != placeholders(en[k]):
            fail("%s: %s has placeholders %s, the English %s" % (path.name, k, placeholders(tr[k]), placeholders(en[k])))
files = sorted(p.name for p in (web / "i18n").glob("*.json"))
for f in files:
    if f[:-5] not in langs:
        fail("i18n/%s: a language the server does not offer (net/server.c dm_net_page_langs)" % f)

# the error registry: each code, and its sentence as the English says it
errors_c = (src / "net/net_errors.c").read_text()
registry = re.findall(r'\[DM_NET_\w+\]\s*=\s*\{\s*"(\w+)",\s*"((?:[^"\\]|\\.)*)"\s*\}', errors_c)
if len(registry) < 20:
    fail("net/net_errors.c: the registry was not read (%d codes)" % len(registry))
for code, sentence in registry:
    key = "error." + code
    if key not in en:
        fail("en.json: no sentence for the error code %s" % code)
    elif en[key] != sentence.replace('\\"', '"'):
        fail("en.json: %s is %r, the registry says %r" % (key, en[key], sentence))

# the keys the pages use
used = set()
for html in web.glob("*.html"):
    text = html.read_text()
    used |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', text))
js = {p.name: p.read_text() for p in web.glob("*.js")}
for name, text in js.items():
    used |= set(re.findall(r"\bt\('([a-z_.A-Z0-9]+)'", text))
    used |= set(re.findall(r"\bbutton\('([a-z_.]+)'", text))
    # whole keys in quotes (a prefix a key is built from, "reason.", is checked below with its codes)
    used |= {k for k in re.findall(r"'((?:audience|status|host|error|login)\.[a-z_.]+)'", text) if not k.endswith(".")}
palette = re.search(r"const PALETTE = \[([^\]]*)\]", js["app.js"], re.S)
used |= {"colour." + c for c in re.findall(r"'#([0-9A-F]{6})'", palette.group(1))}
layers = re.search(r"const REASONS = \[([^\]]*)\]", js["host.js"])
used |= {"reason." + r for r in re.findall(r"'(\w+)'", layers.group(1))} | {"reason.shown"}
# a comment's statuses and the reasons a status carries (docs/protocol.md, "Server to console")
for st in ("shown", "held", "waiting", "rejected", "deleted"):
    used.add("host.st." + st)
for r in ("blocked", "banned", "slow_mode", "busy", "rejected", "not_recorded"):
    used.add("reason." + r)
for kind in ("keyword", "regex"):
    used.add("host.rule." + kind)
for k in sorted(k for k in used if not k.endswith(".")):   # "reason." + code: the codes are added above
    if k not in en:
        fail("the pages use the key %s, which en.json lacks" % k)

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print("PASS: %d languages, %d keys each, %d error codes, %d keys used" % (len(langs), len(en), len(registry), len(used)))
