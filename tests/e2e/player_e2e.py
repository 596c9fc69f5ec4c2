#!/usr/bin/env python3
"""The viewer's player end to end: the seek bar OSD, the density graph, the
viewer filters, the config file, resume, loop, screenshots with and without
the OSD, the one-line mistakes, and text in scripts that need their own fonts.

    player_e2e.py CHECK --player P --work DIR

CHECK is one of:
  osd       a seek shows the bar (pink up to the film time, the time text);
            `screenshot` (as the s key) has no OSD, `screenshot-window` (S) has
            it; the bar goes after 2 s; a click on the bar seeks there
  density   the density curve stands over the part of the film with comments
            and not over the rest
  filters   keys 1-6 and --hide hide each kind (the dump says "filtered" for
            exactly those), l/L and --block-level by weight, --block rules;
            a comment on screen that a new filter hides leaves at once
  config    options from the config file apply, the command line overrides
            them, a bad line is one error naming the file and line
  resume    --save-position-on-quit remembers where q was pressed, the next
            run starts there (once), --no-resume does not
  loop      --loop=1 plays the film twice, --loop=no once
  mistakes  an unknown option is one line naming it with exit 1, --start past
            the end is an error
  scripts   Thai and Devanagari comments are drawn; a code point no font has
            gets one warning naming it, however many comments hold it
Exit 0 when every assertion holds.
"""
import json
import os
import shutil
import subprocess
import sys
import zlib

failures = []
W, H = 640, 360
PINK = (0xFB, 0x72, 0x99)
DUR = 20.0


def expect(cond, msg):
    print(("ok - " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)
    return cond


def run(a, args, env_extra=None, **kw):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               XDG_CONFIG_HOME=os.path.join(a["work"], "no-config"), XDG_STATE_HOME=os.path.join(a["work"], "state"))
    env.update(env_extra or {})
    return subprocess.run([a["player"]] + args, capture_output=True, text=True, env=env, **kw)


def read_png(path):
    """RGBA rows of a PNG the player wrote (8-bit RGBA, no interlace)."""
    d = open(path, "rb").read()
    pos, idat, w, h = 8, [], 0, 0
    while pos < len(d):
        n = int.from_bytes(d[pos:pos + 4], "big")
        kind, body = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride, rows, prev = w * 4, [], bytearray(w * 4)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 4] if i >= 4 else 0
            up, ul = prev[i], prev[i - 4] if i >= 4 else 0
            if f == 1:
                line[i] = (line[i] + left) & 255
            elif f == 2:
                line[i] = (line[i] + up) & 255
            elif f == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(up - ul), abs(left - ul), abs(left + up - 2 * ul)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def count(img, box, pred):
    w, h, rows = img
    x0, y0, bw, bh = box
    return sum(1 for y in range(y0, min(h, y0 + bh)) for x in range(x0, min(w, x0 + bw))
               if pred(rows[y][x * 4], rows[y][x * 4 + 1], rows[y][x * 4 + 2]))


def near(c, ref, tol=12):
    return all(abs(c[i] - ref[i]) <= tol for i in range(3))


# the bar at 640x360 (player.c bar_geometry: unit = h / 60)
UNIT = H // 60
BAR = (W // 40, H - 3 * UNIT, W - 2 * (W // 40), UNIT)
BAND = (0, H - 14 * UNIT, W, 14 * UNIT)


def film(a):
    path = os.path.join(a["work"], "film.mp4")
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x203040:s=%dx%d:d=%g:r=24" %
                        (W, H, DUR), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path],
                       check=True)
    return path


def track(a, name, comments):
    """comments: (t, bili_mode, colour, weight, text, user)"""
    path = os.path.join(a["work"], name)
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<i>\n')
        for i, (t, mode, colour, weight, text, user) in enumerate(comments):
            f.write('<d p="%.3f,%d,25,%d,0,0,%s,%d,%d">%s</d>\n' % (t, mode, colour, user, i + 1, weight, text))
        f.write("</i>\n")
    return path


def scripted(a, name, lines, args, until=None):
    script = os.path.join(a["work"], name + ".script")
    with open(script, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    return run(a, [film(a), "--headless", "--fast", "--size", "%dx%d" % (W, H), "--script", script] +
               (["--until", str(until)] if until else []) + args)


def shot(a, name):
    return read_png(os.path.join(a["work"], name))


def pink_width(img):
    """Pixels of the bar's row that are the played colour."""
    y = BAR[1] + BAR[3] // 2
    return count(img, (BAR[0], y, BAR[2], 1), lambda r, g, b: near((r, g, b), PINK))


def check_osd(a):
    w = a["work"]
    p = lambda n: os.path.join(w, n)
    r = scripted(a, "osd", ["1.0 key Right", "6.5 screenshot-window " + p("osd-window.png"),
                            "6.5 screenshot " + p("osd-clean.png"), "9.5 screenshot-window " + p("osd-gone.png"),
                            "10.0 click %d %d" % (BAR[0] + int(BAR[2] * 0.75), BAR[1] + 2),
                            "10.0 screenshot-window " + p("osd-click.png")], [], until=16)
    if not expect(r.returncode == 0, "player ran: " + r.stderr.strip()[-300:]):
        return
    win, clean, gone, click = (shot(a, n) for n in ("osd-window.png", "osd-clean.png", "osd-gone.png",
                                                     "osd-click.png"))
    played = pink_width(win)
    expect(abs(played - BAR[2] * 6.5 / DUR) <= 4,
           "after a seek the bar shows 6.5 s of %g played: %d px of %d pink (%.0f expected)" %
           (DUR, played, BAR[2], BAR[2] * 6.5 / DUR))
    expect(pink_width(clean) == 0, "the screenshot without the OSD (s) has no bar: %d pink px" % pink_width(clean))
    text = count(win, (BAND[0], BAND[1], W // 3, BAND[3] // 2), lambda r, g, b: r > 150 and g > 150 and b > 150)
    expect(text > 30, "the time is written above the bar: %d white px" % text)
    expect(pink_width(gone) == 0, "2 s after the seek the bar is gone (%d pink px at 9.5 s)" % pink_width(gone))
    played = pink_width(click)
    expect(abs(played - BAR[2] * 0.75) <= 6,
           "a click at 75 %% of the bar seeks there: %d px of %d pink" % (played, BAR[2]))


def check_density(a):
    # comments only in the first quarter of the film
    t = track(a, "early.xml", [(0.2 + i * 0.02, 1, 16777215, 5, "c%d" % i, "u") for i in range(200)])
    p = os.path.join(a["work"], "density.png")
    r = scripted(a, "density", ["8.0 key space", "8.2 screenshot-window " + p], ["--track", t], until=9)
    if not expect(r.returncode == 0, "player ran: " + r.stderr.strip()[-300:]):
        return
    img = read_png(p)
    blue = lambda r, g, b: b > r + 60 and b > 150 and g > 120
    gy = BAR[1] - 7 * UNIT
    first = count(img, (BAR[0], gy, BAR[2] // 4, 7 * UNIT), blue)
    rest = count(img, (BAR[0] + BAR[2] // 4 + BAR[2] // 20, gy, BAR[2] * 3 // 4 - BAR[2] // 20, 7 * UNIT), blue)
    expect(first > 200 and rest == 0,
           "the density curve stands over the first quarter only: %d px there, %d over the rest" % (first, rest))


def dump_reasons(path):
    out = {}
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") == "comment":
                out[o.get("text")] = "shown" if o.get("shown") else o.get("reason", "?")
    return out


KINDS = [  # key, --hide name, bili mode, colour (the coloured one is a top comment)
    ("1", "scroll", 1, 16777215), ("2", "top", 5, 16777215), ("3", "bottom", 4, 16777215),
    ("4", "reverse", 6, 16777215), ("5", "positioned", 7, 16777215), ("6", "coloured", 5, 16711680),
]


def kinds_track(a):
    comments = []
    for k, name, mode, colour in KINDS:
        text = '[0.1,0.1,"1-1",3,"%s"]' % name if mode == 7 else name
        comments.append((1.0, mode, colour, 5, text, "u" + name))
    return track(a, "kinds.xml", comments)


def check_filters(a):
    t = kinds_track(a)
    base = os.path.join(a["work"], "f-none.jsonl")
    r = scripted(a, "f-none", [], ["--track", t, "--dump-layout", base], until=3)
    if not expect(r.returncode == 0, "player ran: " + r.stderr.strip()[-300:]):
        return
    every = dump_reasons(base)
    expect(len(every) == 6 and all(v == "shown" for v in every.values()),
           "without filters every kind is shown: %s" % every)
    for key, name, mode, colour in KINDS:
        for how, args, lines in (("key", [], ["0.5 key " + key]), ("option", ["--hide", name], [])):
            d = os.path.join(a["work"], "f-%s-%s.jsonl" % (name, how))
            r = scripted(a, "f-%s-%s" % (name, how), lines, ["--track", t, "--dump-layout", d] + args, until=3)
            got = dump_reasons(d) if r.returncode == 0 else {}
            hidden = sorted(k for k, v in got.items() if v == "filtered")
            # the comments of that mode, or in colour: the coloured one is a top comment too
            want = sorted(x for x in got if x == name or (mode == 7 and "positioned" in x) or
                          (name == "top" and x == "coloured"))
            expect(r.returncode == 0 and hidden == want and len(got) == 6,
                   "%s %s hides exactly the %s comments: %s" % (how, key if how == "key" else name, name, hidden))
    # block level: weights 0..10
    lv = track(a, "levels.xml", [(1.0 + 0.01 * w, 1, 16777215, w, "w%d" % w, "u%d" % w) for w in range(11)])
    for how, args, lines in (("option", ["--block-level", "4"], []),
                             ("key", [], ["0.5 key l", "0.5 key l", "0.5 key l", "0.5 key l", "0.5 key l",
                                          "0.6 key Shift+l"])):
        d = os.path.join(a["work"], "lv-%s.jsonl" % how)
        r = scripted(a, "lv-" + how, lines, ["--track", lv, "--dump-layout", d] + args, until=3)
        got = dump_reasons(d) if r.returncode == 0 else {}
        hidden = sorted((k for k, v in got.items() if v == "filtered"), key=lambda s: int(s[1:]))
        expect(hidden == ["w0", "w1", "w2", "w3"], "block level 4 (%s) hides weights 0-3: %s" % (how, hidden))
    # the rules
    rt = track(a, "rules.xml", [(1.0, 1, 16777215, 5, "spoiler ahead", "a1"), (1.1, 1, 16777215, 5, "ｓｐｏｉｌｅｒ", "a2"),
                                (1.2, 1, 16777215, 5, "buy now 1234", "a3"), (1.3, 1, 16777215, 5, "kind words", "bad"),
                                (1.4, 1, 16777215, 5, "fine", "a5")])
    d = os.path.join(a["work"], "rules.jsonl")
    r = scripted(a, "rules", [], ["--track", rt, "--dump-layout", d, "--block", "spoiler", "--block-regex",
                                  "buy now \\d+", "--block-user", "bad"], until=3)
    got = dump_reasons(d) if r.returncode == 0 else {}
    expect(sorted(k for k, v in got.items() if v == "filtered") ==
           sorted(["spoiler ahead", "ｓｐｏｉｌｅｒ", "buy now 1234", "kind words"]) and got.get("fine") == "shown",
           "--block, --block-regex, --block-user hide what they name (after NFKC): %s" % got)
    # on screen: a scrolling comment from 1.0 s is hidden by key 1 at 2.0 s: it leaves at once
    p1, p2 = os.path.join(a["work"], "onscreen-before.png"), os.path.join(a["work"], "onscreen-after.png")
    one = track(a, "one.xml", [(1.0, 1, 16777215, 5, "WWWWWWWWWW", "u")])
    r = scripted(a, "onscreen", ["1.9 screenshot " + p1, "2.0 key 1", "2.1 screenshot " + p2],
                 ["--track", one, "--font-px", "40"], until=3)
    if expect(r.returncode == 0, "player ran"):
        white = lambda r, g, b: r > 200 and g > 200 and b > 200
        before, after = count(read_png(p1), (0, 0, W, H), white), count(read_png(p2), (0, 0, W, H), white)
        expect(before > 300 and after == 0,
               "a comment on screen that a new filter hides leaves at once: %d white px before, %d after" %
               (before, after))


def check_config(a):
    t = kinds_track(a)
    cfgdir = os.path.join(a["work"], "cfg")
    os.makedirs(os.path.join(cfgdir, "danmaku"), exist_ok=True)
    conf = os.path.join(cfgdir, "danmaku", "danmaku.conf")
    with open(conf, "w") as f:
        f.write("# the viewer's settings\nhide=top,bottom\n--opacity = 0.8\nno-comments\n")
    env = {"XDG_CONFIG_HOME": cfgdir}
    d = os.path.join(a["work"], "cfg.jsonl")
    r = run(a, [film(a), "--headless", "--fast", "--size", "%dx%d" % (W, H), "--until", "3", "--track", t,
                "--dump-layout", d], env)
    got = dump_reasons(d) if r.returncode == 0 else {}
    # (the coloured comment is a top one too)
    expect(sorted(k for k, v in got.items() if v == "filtered") == ["bottom", "coloured", "top"],
           "the config file's hide=top,bottom applies: %s" % got)
    # the command line overrides: --hide adds, --config names another file, --no-config reads none
    d2 = os.path.join(a["work"], "cfg2.jsonl")
    r = run(a, [film(a), "--headless", "--fast", "--until", "3", "--track", t, "--dump-layout", d2, "--no-config"],
            env)
    got = dump_reasons(d2) if r.returncode == 0 else {}
    expect(r.returncode == 0 and all(v == "shown" for v in got.values()), "--no-config reads none: %s" % got)
    other = os.path.join(a["work"], "other.conf")
    with open(other, "w") as f:
        f.write("block-level=6\n")
    lv = track(a, "cfg-levels.xml", [(1.0 + 0.01 * w, 1, 16777215, w, "w%d" % w, "u%d" % w) for w in range(11)])
    d3 = os.path.join(a["work"], "cfg3.jsonl")
    r = run(a, [film(a), "--headless", "--fast", "--until", "3", "--track", lv, "--dump-layout", d3, "--config", other,
                "--block-level", "2"], env)
    got = dump_reasons(d3) if r.returncode == 0 else {}
    expect(sorted(k for k, v in got.items() if v == "filtered") == ["w0", "w1"],
           "the command line's --block-level 2 overrides the file's 6: %s" % got)
    with open(conf, "a") as f:
        f.write("no-such-option=3\n")
    r = run(a, [film(a), "--headless", "--fast", "--until", "1"], env)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    expect(r.returncode == 1 and len(lines) == 1 and conf + ":5:" in lines[0] and "no-such-option" in lines[0],
           "a bad config line is one error naming the file and line: %s" % lines)


def check_resume(a):
    state = os.path.join(a["work"], "state")
    shutil.rmtree(state, ignore_errors=True)
    log = os.path.join(a["work"], "resume.log")
    r = scripted(a, "resume-quit", ["5.0 key q"], ["--save-position-on-quit"])
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(state) for f in fs]
    expect(r.returncode == 0 and len(files) == 1, "q with --save-position-on-quit writes one watch-later file: %s" %
           files)
    r = run(a, [film(a), "--headless", "--fast", "--until", "6", "--log-frames", log])
    first = None
    if r.returncode == 0:
        for line in open(log):
            if line.startswith("present "):
                first = float(line.split()[3])
                break
    expect(first is not None and abs(first - 5.0) < 0.1 and "resuming at 00:05" in r.stderr,
           "the next run starts where q was pressed: film time %s, %r" % (first, r.stderr.strip()[-200:]))
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(state) for f in fs]
    expect(not files, "and the position is forgotten once used: %s" % files)
    r = scripted(a, "resume-quit2", ["4.0 key q"], ["--save-position-on-quit"])
    r = run(a, [film(a), "--headless", "--fast", "--until", "1", "--log-frames", log, "--no-resume"])
    first = None
    for line in open(log):
        if line.startswith("present "):
            first = float(line.split()[3])
            break
    expect(first is not None and first < 0.1, "--no-resume starts at the beginning: %s" % first)
    # the film's end is not a quit: nothing is saved
    shutil.rmtree(state, ignore_errors=True)
    run(a, [film(a), "--headless", "--fast", "--until", "2", "--save-position-on-quit"])
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(state) for f in fs]
    expect(not files, "playing to the end saves no position: %s" % files)


def presents(log):
    return [float(l.split()[3]) for l in open(log) if l.startswith("present ")]


def check_loop(a):
    for arg, plays in (("--loop=1", 2), ("--loop=no", 1)):
        log = os.path.join(a["work"], "loop.log")
        r = run(a, [film(a), "--headless", "--fast", "--size", "320x180", arg, "--log-frames", log])
        ts = presents(log) if r.returncode == 0 else []
        wraps = sum(1 for x, y in zip(ts, ts[1:]) if y < x - 1)
        expect(r.returncode == 0 and wraps == plays - 1 and max(ts) > DUR - 0.5,
               "%s plays the film %d time(s): %d wrap(s) back to the start" % (arg, plays, wraps))


def check_mistakes(a):
    r = run(a, ["--no-such-option"])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    expect(r.returncode == 1 and len(lines) == 1 and "--no-such-option" in lines[0] and "--help" in lines[0],
           "an unknown option is one line naming it: %s" % lines)
    r = run(a, ["--track"])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    expect(r.returncode == 1 and len(lines) == 1 and "--track" in lines[0], "a missing value is one line: %s" % lines)
    r = run(a, [film(a), "--headless", "--fast", "--start", "100"])
    expect(r.returncode == 1 and "past the end" in r.stderr, "--start past the end is an error: %r" % r.stderr.strip())


def check_scripts(a):
    t = track(a, "scripts.xml", [(0.5, 5, 16777215, 5, "สวัสดีครับ ทุกคน", "u1"), (0.5, 4, 16777215, 5, "नमस्ते दुनिया", "u2"),
                                 (0.7, 1, 16777215, 5, "pua \ue000 one", "u3"),
                                 (0.8, 1, 16777215, 5, "pua \ue000 two", "u4")])
    p = os.path.join(a["work"], "scripts.png")
    r = run(a, [film(a), "--headless", "--fast", "--size", "%dx%d" % (W, H), "--until", "1.6", "--track", t,
                "--screenshot", "1.5:" + p, "--font-px", "40"])
    if not expect(r.returncode == 0, "player ran: " + r.stderr.strip()[-300:]):
        return
    img = read_png(p)
    white = lambda r, g, b: r > 200 and g > 200 and b > 200
    top = count(img, (0, 0, W, 50), white)
    bottom = count(img, (0, H - 50, W, 50), white)
    expect(top > 150, "the Thai comment (top) is drawn: %d px" % top)
    expect(bottom > 150, "the Devanagari comment (bottom) is drawn: %d px" % bottom)
    warns = [l for l in r.stderr.splitlines() if "U+E000" in l]
    expect(len(warns) == 1 and "no installed font" in warns[0],
           "one warning names U+E000 for the two comments with it: %s" % warns)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    check, a, args = argv[1], {}, argv[2:]
    while args:
        k = args.pop(0).lstrip("-").replace("-", "_")
        a[k] = args.pop(0)
    if "player" not in a or "work" not in a:
        print("missing --player or --work", file=sys.stderr)
        return 2
    if not shutil.which("ffmpeg"):
        print("skipped: the test film needs ffmpeg")
        return 77
    a["work"] = os.path.join(a["work"], check)
    os.makedirs(a["work"], exist_ok=True)
    {"osd": check_osd, "density": check_density, "filters": check_filters, "config": check_config,
     "resume": check_resume, "loop": check_loop, "mistakes": check_mistakes, "scripts": check_scripts}[check](a)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
