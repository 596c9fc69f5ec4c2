#!/usr/bin/env python3
"""A night of films end to end: three short films made at test time (two
with comment tracks and subtitles, one marked AI-generated) played from a
programme file with intermissions, headless.

    night_e2e.py CHECK --player P --work DIR [--checker LAYOUT_CHECK]

CHECK is one of:
  night     a screenshot from each film and from each intermission card
            (the card says what comes next); the AI film's label at its start
            and in its corner, and no comment over it (both checkers); one
            layout dump per film, each holding its own film's comments only
  cli       the same films from the command line: the tracks beside each,
            a --track after a film is that film's; > skips to the next film
  errors    a programme with a missing film, an unknown field, a wrong type,
            no films: one line each, exit 1, nothing played
Exit 0 when every assertion holds.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from player_e2e import read_png, count  # noqa: E402

failures = []
W, H = 640, 360


def expect(cond, msg):
    print(("ok - " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)
    return cond


def run(a, args):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    return subprocess.run([a["player"]] + args, capture_output=True, text=True, env=env, cwd=a["work"])


def make_films(a):
    w = a["work"]
    colours = {"a": "0x402020", "b": "0x204020", "c": "0x202040"}
    for n, c in colours.items():
        path = os.path.join(w, n + ".mp4")
        if not os.path.exists(path):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=%s:s=%dx%d:d=8:r=24" % (c, W, H),
                            "-f", "lavfi", "-i", "sine=f=440:d=8", "-c:v", "libx264", "-preset", "ultrafast",
                            "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path], check=True)
    for n in "abc":
        # a dense track for each (the AI film's too: its comments must keep off the label)
        with open(os.path.join(w, n + "-track.xml"), "w", encoding="utf-8") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<i>\n')
            for i in range(160):
                mode = (1, 1, 1, 5, 4)[i % 5]
                f.write('<d p="%.2f,%d,25,16777215,0,0,u,%s%d">%s %d 弹幕弹幕弹幕</d>\n' % (i * 0.05, mode, n, i, n, i))
            f.write("</i>\n")
    for n in "ab":
        with open(os.path.join(w, n + ".srt"), "w") as f:
            f.write("1\n00:00:01,000 --> 00:00:05,000\nThe subtitle of film %s\n" % n)


def checkers(a, dump):
    reports = []
    for checker in [os.path.join(os.path.dirname(os.path.abspath(__file__)), "dumpcheck.py")] + \
            ([a["checker"]] if a.get("checker") and os.path.exists(a["checker"]) else []):
        cmd = ([sys.executable] if checker.endswith(".py") else []) + [checker, dump, "--json"]
        out = subprocess.run(cmd, capture_output=True, text=True)
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return reports


def texts_of(dump):
    with open(dump) as f:
        return [json.loads(l).get("text", "") for l in f if '"type":"comment"' in l]


def plate(img, box):
    """Pixels of the label's dark plate (16,16,16 at 190/255 over the film) with white text in box."""
    dark = count(img, box, lambda r, g, b: r < 40 and g < 40 and b < 40)
    white = count(img, box, lambda r, g, b: r > 150 and g > 150 and b > 150)
    return dark, white


def check_night(a):
    make_films(a)
    w = a["work"]
    prog = {"title": "Test night", "intermission": 2, "films": [
        {"film": "a.mp4", "title": "First film", "tracks": ["a-track.xml"], "subtitles": ["a.srt"]},
        {"film": "b.mp4", "title": "Second film", "credits": "dir. B", "tracks": ["b-track.xml"],
         "subtitles": ["b.srt"]},
        {"film": "c.mp4", "title": "The AI one", "aigc": True, "tracks": ["c-track.xml"]}]}
    with open(os.path.join(w, "night.json"), "w") as f:
        json.dump(prog, f)
    for old in os.listdir(w):
        if old.endswith(".png") or old.startswith("dump"):
            os.remove(os.path.join(w, old))
    r = run(a, ["--programme", "night.json", "--fast", "--size", "%dx%d" % (W, H), "--screenshot", "2.0:film%n.png",
                "--screenshot", "6.5:late%n.png", "--screenshot", "intermission+1.0:card%n.png",
                "--dump-layout", "dump.jsonl"])
    if not expect(r.returncode == 0, "the night played: %s" % r.stderr.strip()[-400:]):
        return
    for n in (1, 2, 3):
        expect(os.path.exists(os.path.join(w, "film%d.png" % n)), "a screenshot from film %d" % n)
    for n in (2, 3):
        expect(os.path.exists(os.path.join(w, "card%d.png" % n)), "a screenshot of the card before film %d" % n)
    expect(not os.path.exists(os.path.join(w, "card1.png")), "no intermission before the first film")
    # each film's own picture (colour): the night went through them in order
    for n, want in ((1, (0x40, 0x20, 0x20)), (2, (0x20, 0x40, 0x20)), (3, (0x20, 0x20, 0x40))):
        img = read_png(os.path.join(w, "film%d.png" % n))
        px = count(img, (0, 0, W, H),
                   lambda r, g, b: abs(r - want[0]) < 12 and abs(g - want[1]) < 12 and abs(b - want[2]) < 12)
        expect(px > W * H // 3, "film %d's own picture at 2 s (%d px of its colour)" % (n, px))
    card = read_png(os.path.join(w, "card3.png"))
    bright = count(card, (0, 0, W, H), lambda r, g, b: r > 150 and g > 150 and b > 150)
    pink = count(card, (0, 0, W, H), lambda r, g, b: r > 180 and 80 < g < 150 and 110 < b < 190)
    expect(bright > 200 and pink > 50, "the card shows the next title and its countdown (%d white, %d pink px)" %
           (bright, pink))
    # the AI film's label: the card at 2 s (upper middle), the corner at 6.5 s (top right)
    dumps = {n: os.path.join(w, "dump-%02d-%s.jsonl" % (n, x)) for n, x in ((1, "a"), (2, "b"), (3, "c"))}
    for n, d in dumps.items():
        expect(os.path.exists(d), "film %d has its own layout dump (%s)" % (n, os.path.basename(d)))
    if not all(os.path.exists(d) for d in dumps.values()):
        return
    labels = [json.loads(l) for l in open(dumps[3]) if '"kind":"label"' in l]
    expect(len(labels) == 2, "the AI film's dump has its two label boxes: %s" % labels)
    expect(not any('"kind":"label"' in l for l in open(dumps[1])), "a film not marked AI-generated has no label")
    if len(labels) == 2:
        card_box = next(b for b in labels if b["id"] == "aigc-card")
        corner = next(b for b in labels if b["id"] == "aigc-corner")
        f3, late3 = read_png(os.path.join(w, "film3.png")), read_png(os.path.join(w, "late3.png"))
        dark, white = plate(f3, (card_box["x"], card_box["y"], card_box["w"], card_box["h"]))
        expect(dark > card_box["w"] * card_box["h"] // 3 and white > 100,
               "the label's card is on screen at the AI film's start (%d dark, %d white px)" % (dark, white))
        dark, white = plate(late3, (corner["x"], corner["y"], corner["w"], corner["h"]))
        f1 = read_png(os.path.join(w, "late1.png"))
        dark1, white1 = plate(f1, (corner["x"], corner["y"], corner["w"], corner["h"]))
        expect(dark > corner["w"] * corner["h"] // 3 and white > 20,
               "the corner label is on screen later (%d dark, %d white px)" % (dark, white))
        expect(dark1 < dark // 2, "no label on a film not marked (%d dark px there, %d on the AI film)" %
               (dark1, dark))
    for n, d in dumps.items():
        reps = checkers(a, d)
        rep = reps[0]
        agree = all(x["overlaps"] == rep["overlaps"] and x["obstacle_overlaps"] == rep["obstacle_overlaps"]
                    for x in reps)
        expect(rep["overlaps"] == 0 and rep["obstacle_overlaps"] == 0 and rep["errors"] == 0 and agree,
               "film %d: no overlap, no comment over a subtitle or the label (%d checker(s)): %s" %
               (n, len(reps), {k: rep[k] for k in ("comments", "shown", "obstacles", "obstacle_overlaps")}))
        own = {t.split(" ")[0] for t in texts_of(d)}
        expect(own == {"abc"[n - 1]}, "film %d's dump holds its own comments only: %s" % (n, sorted(own)))


def check_cli(a):
    make_films(a)
    w = a["work"]
    # the tracks beside a film: a.xml beside a.mp4
    shutil.copy(os.path.join(w, "a-track.xml"), os.path.join(w, "a.xml"))
    for old in os.listdir(w):
        if old.startswith("cli"):
            os.remove(os.path.join(w, old))
    script = os.path.join(w, "cli.script")
    with open(script, "w") as f:
        f.write("1.0 key >\n")   # film 1 -> film 2 at once
    r = run(a, ["a.mp4", "b.mp4", "--track", "b-track.xml", "c.mp4", "--fast", "--size", "%dx%d" % (W, H),
                "--dump-layout", "cli.jsonl", "--script", script, "--screenshot", "3.0:cli%n.png"])
    if not expect(r.returncode == 0, "three films from the command line: %s" % r.stderr.strip()[-300:]):
        return
    got = {n: texts_of(os.path.join(w, "cli-%02d-%s.jsonl" % (n, x))) for n, x in ((1, "a"), (2, "b"), (3, "c"))}
    expect(len(got[1]) == 160 and got[1][0].startswith("a "), "film 1 took the track beside it: %d comments" %
           len(got[1]))
    expect(len(got[2]) == 160 and got[2][0].startswith("b "), "the --track after film 2 is film 2's: %d comments" %
           len(got[2]))
    expect(len(got[3]) == 0, "film 3 has none: %d" % len(got[3]))
    expect(not os.path.exists(os.path.join(w, "cli1.png")) and os.path.exists(os.path.join(w, "cli2.png")),
           "> at 1 s went to film 2 before film 1's screenshot at 3 s")
    os.remove(os.path.join(w, "a.xml"))
    # a film's own title (its container's tag, control codes as spaces) names it, else its file name
    titled = os.path.join(w, "titled.mp4")
    if not os.path.exists(titled):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", os.path.join(w, "a.mp4"), "-c", "copy",
                        "-metadata", "title= Der Fluss\x01河 ", titled], check=True)
    r = run(a, ["titled.mp4", "b.mp4", "--fast", "--verbose", "--size", "%dx%d" % (W, H), "--script", script])
    lines = [l for l in r.stderr.splitlines() if " of 2: " in l]
    expect(r.returncode == 0 and len(lines) == 2 and "film 1 of 2: Der Fluss 河 (" in lines[0] and
           "film 2 of 2: b (" in lines[1], "the film's own title, else its file name: %s" % lines)


def check_errors(a):
    make_films(a)
    w = a["work"]
    cases = [
        ({"films": [{"film": "missing.mp4"}]}, "films[0]", "missing.mp4"),
        ({"films": [{"film": "a.mp4", "titel": "x"}]}, "films[0]", "titel"),
        ({"films": [{"film": "a.mp4", "aigc": "yes"}]}, "films[0]", "aigc"),
        ({"films": []}, "no films", None),
    ]
    for prog, part1, part2 in cases:
        path = os.path.join(w, "bad.json")
        with open(path, "w") as f:
            json.dump(prog, f)
        shot = os.path.join(w, "bad.png")
        if os.path.exists(shot):
            os.remove(shot)
        r = run(a, ["--programme", "bad.json", "--fast", "--screenshot", "0.5:bad.png"])
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        expect(r.returncode == 1 and len(lines) == 1 and part1 in lines[0] and (part2 is None or part2 in lines[0])
               and not os.path.exists(shot), "%s: one line, exit 1, nothing played: %s" % (json.dumps(prog), lines))


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    check, a, args = argv[1], {}, argv[2:]
    while args:
        k = args.pop(0).lstrip("-").replace("-", "_")
        a[k] = args.pop(0)
    if not shutil.which("ffmpeg"):
        print("skipped: the test films need ffmpeg")
        return 77
    a["work"] = os.path.join(a["work"], check)
    os.makedirs(a["work"], exist_ok=True)
    {"night": check_night, "cli": check_cli, "errors": check_errors}[check](a)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
