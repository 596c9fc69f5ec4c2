#!/usr/bin/env python3
"""The programs' side of the track formats, from outside: danmaku-convert and
the player merge several tracks with a per-track --offset, find each format
by its content, print one summary line (shown N of M, and why not the
others), refuse input no reader knows with one clear line, and show a live
recording's super chats as cards (hidden with --no-superchat).

    formats_cli.py CONVERT PLAYER
"""
import json
import os
import subprocess
import sys
import tempfile

XML = ('<?xml version="1.0" encoding="UTF-8"?><i>'
       '<d p="1,1,25,16777215,0,0,u,x1">one</d>'
       '<d p="2,5,25,255,0,0,u,x2">two</d>'
       '<d p="oops">broken</d></i>')
ARTPLAYER = json.dumps([{"text": "art", "time": 0.5, "mode": 0},
                        {"text": "no time", "mode": 1}])
LIVE = ('<?xml version="1.0" encoding="utf-8"?><i BililiveRecorder="B站录播姬弹幕文件">'
        '<d p="1.0,1,25,16777215,1622548801234,0,1,0" user="甲">前方高能</d>'
        '<sc ts="2" user="土豪" price="50" time="30">加油</sc>'
        '<gift ts="3" user="乙" giftname="辣条" giftcount="2"/></i>')

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(what)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def dump_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main(argv):
    convert, player = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        def put(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path

        xml, art, live = put("a.xml", XML), put("b.json", ARTPLAYER), put("live.xml", LIVE)
        out = os.path.join(tmp, "out.jsonl")

        # the offset belongs to the input it follows
        r = run([convert, xml, "--offset", "10", art, "--offset", "-0.25", "-o", out])
        check("convert: two inputs with offsets", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            lines = dump_lines(out)
            t = [c["t_ms"] for c in lines[1:]]
            check("convert: each offset shifts its own input", t == [11000, 12000, 250], t)
            summary = [l for l in r.stderr.splitlines() if ": warning: " not in l]
            check("convert: one summary line", summary == ["danmaku-convert: 2 tracks: kept 3 of 5; not kept: 2 malformed"],
                  r.stderr)

        r = run([convert, "--offset", "3", xml, "-o", out])
        check("convert: --offset before any input is refused", r.returncode != 0 and
              "comes before any input" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)

        dump = os.path.join(tmp, "dump.jsonl")
        r = run([convert, xml, art, "--layout", "-o", dump, "--stage", "1280x720"])
        check("convert --layout", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            lines = dump_lines(dump)
            comments = [l for l in lines if l["type"] == "comment"]
            check("dump: every input comment has its line", lines[0]["input_count"] == 5 and len(comments) == 5,
                  lines[0])
            check("dump: malformed ones say so", [c.get("reason") for c in comments if not c["shown"]] ==
                  ["malformed", "malformed"], comments)
            check("convert --layout: the summary line",
                  "danmaku-convert: 2 tracks: shown 3 of 5; not shown: 2 malformed" in r.stderr, r.stderr)

        junk = put("notes.json", '{"title": "not a track"}')
        r = run([convert, junk, "-o", out])
        check("convert: input no reader knows is one clear error", r.returncode != 0 and
              "is not a comment track: tried Bilibili XML" in r.stderr and
              len(r.stderr.strip().splitlines()) == 1, r.stderr)

        r = run([convert, live, "--layout", "-o", dump])
        lines = dump_lines(dump) if r.returncode == 0 else []
        cards = [l for l in lines if l.get("type") == "obstacle" and l.get("kind") == "superchat"]
        check("live recording: the super chat is a card and an obstacle", r.returncode == 0 and len(cards) == 1 and
              cards[0]["end_ms"] - cards[0]["start_ms"] == 30000, r.stderr)
        check("live recording: gifts hidden by default", "1 hidden" in r.stderr, r.stderr)
        r = run([convert, live, "--layout", "-o", dump, "--no-superchat", "--gifts"])
        lines = dump_lines(dump) if r.returncode == 0 else []
        kinds = sorted(l["kind"] for l in lines if l.get("type") == "obstacle")
        check("live recording: --no-superchat --gifts", r.returncode == 0 and kinds == ["gift"], (r.stderr, kinds))

        # the player: the same offsets and the same summary line
        pdump = os.path.join(tmp, "player.jsonl")
        r = run([player, "--headless", "--fast", "--until", "2", "--size", "640x360", "--track", xml,
                 "--offset", "1.5", "--track", art, "--dump-layout", pdump])
        check("player: --track with --offset", r.returncode == 0, r.stderr)
        if r.returncode == 0:
            t = [c["t_ms"] for c in dump_lines(pdump) if c["type"] == "comment"]
            # (the broken comment of a.xml has no time of its own: 0, shifted with its file)
            check("player: the offset belongs to its track", t == [2500, 3500, 1500, 500, 0], t)
            check("player: one summary line", "danmaku: 2 tracks: shown 3 of 5; not shown: 2 malformed" in r.stderr,
                  r.stderr)
        r = run([player, "--headless", "--fast", "--until", "1", "--offset", "2", "--track", xml])
        check("player: --offset before any --track is refused", r.returncode != 0 and "comes before any --track" in
              r.stderr, r.stderr)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
