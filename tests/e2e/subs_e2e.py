#!/usr/bin/env python3
"""Film subtitles end to end: the player, burn-in and the converter on the
subtitle test films (made by the subs_films fixture) and dense tracks.

    subs_e2e.py CHECK --player P --render R --convert C --films DIR --work DIR
                [--tracks DIR] [--gen-tracks DIR] [--checker LAYOUT_CHECK]

CHECK is one of:
  layout  dense tracks around a film's dialogue (one line every few seconds
          for the whole track) and around each test film's own track: the
          checkers find no overlap and no comment over a subtitle; the share
          shown is reported beside the share without subtitles
  frames  each test film's subtitle is drawn (pixels against --sid no), a
          frame with a subtitle and dense comments has no comment pixel in
          the subtitle's box, and a seek back and forth equals a fresh start
  keys    v hides and shows, j/J go to the next/previous track, z/Z move the
          delay by -/+0.1 s, each with the frame it should give
  burnin  burn-in with subtitles: its frame matches the player's headless
          frame, and the output keeps the film's duration and sound
Exit 0 when every assertion holds.
"""
import json
import os
import subprocess
import sys
import tempfile

failures = []
W, H = 640, 360


def expect(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg)
    return cond


def run(cmd, **kw):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)


def rgb(png_or_film, seek=None):
    cmd = ["ffmpeg", "-v", "error"]
    if seek is not None:
        cmd += ["-ss", "%.3f" % seek]
    cmd += ["-i", png_or_film, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def shot(a, film, t, name, extra=(), size=(W, H), until=None):
    """The player's headless frame at film time t, as RGB bytes."""
    png = os.path.join(a["work"], name + ".png")
    r = run([a["player"], film, "--headless", "--fast", "--size", "%dx%d" % size, "--until",
             "%.3f" % (until if until is not None else t + 0.1), "--screenshot", "%.3f:%s" % (t, png)] + list(extra))
    if not expect(r.returncode == 0 and os.path.exists(png), "%s: player failed: %s" % (name, r.stderr.strip())):
        return None
    return rgb(png)


def differing(a, b, box=None, w=W):
    """Pixels that differ (any channel by more than 8), in box (x, y, w, h) or everywhere."""
    n = 0
    x0, y0, bw, bh = box if box else (0, 0, w, len(a) // 3 // w)
    for y in range(y0, y0 + bh):
        for x in range(x0, x0 + bw):
            i = (y * w + x) * 3
            if abs(a[i] - b[i]) > 8 or abs(a[i + 1] - b[i + 1]) > 8 or abs(a[i + 2] - b[i + 2]) > 8:
                n += 1
    return n


def dialogue_srt(path, seconds):
    """A film's dialogue: a line every 4 s, two rows every third one, for the whole track."""
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(range(1, seconds, 4)):
            text = "Line %d of the dialogue" % i + ("\nand its second row" if i % 3 == 0 else "")
            f.write("%d\n%s --> %s\n%s\n\n" % (i + 1, stamp(t), stamp(t + 3.2), text))


def stamp(s):
    ms = int(round(s * 1000))
    return "%02d:%02d:%02d,%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


def check_dump(a, dump):
    reports = []
    for checker in [os.path.join(os.path.dirname(os.path.abspath(__file__)), "dumpcheck.py")] + \
            ([a["checker"]] if a.get("checker") and os.path.exists(a["checker"]) else []):
        cmd = ([sys.executable] if checker.endswith(".py") else []) + [checker, dump, "--json"]
        out = subprocess.run(cmd, capture_output=True, text=True)
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return reports


def check_layout(a):
    tracks = []
    for d, names in ((a.get("tracks"), None), (a.get("gen_tracks"), None)):
        if d and os.path.isdir(d):
            tracks += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".xml", ".json"))
                       and f != "manifest.json"]
    if not a.get("tracks") or not os.path.isdir(a["tracks"]):
        print("note: no real tracks (../shared/data/tracks): the generated ones only")
    expect(tracks, "no tracks to lay out")
    srt = os.path.join(a["work"], "dialogue.srt")
    dialogue_srt(srt, 620)
    films = [f for f in ("signs.mkv", "srt.mkv", "dvdsub.mkv") if os.path.exists(os.path.join(a["films"], f))]
    print("| track | subtitles | shown without | shown with | overlaps | obstacles | obstacle overlaps |")
    print("|---|---|---|---|---|---|---|")
    for track in tracks:
        base = None
        for sub, extra in [(None, [])] + [("dialogue.srt", ["--sub", srt])] + \
                [(f, ["--sub", os.path.join(a["films"], f), "--sid", "1"]) for f in films]:
            dump = os.path.join(a["work"], "layout.jsonl")
            r = run([a["convert"], track, "--layout", "-o", dump, "-q", "--stage", "1920x1080"] + extra)
            if not expect(r.returncode == 0, "%s %s: %s" % (track, sub, r.stderr.strip())):
                continue
            reps = check_dump(a, dump)
            rep = reps[0]
            if sub is None:
                base = rep
                continue
            agree = all(x["overlaps"] == rep["overlaps"] and x["obstacle_overlaps"] == rep["obstacle_overlaps"]
                        for x in reps)
            print("| %s | %s | %.1f %% | %.1f %% | %d | %d | %d |" % (
                os.path.basename(track), sub, 100 * base["shown_fraction"], 100 * rep["shown_fraction"],
                rep["overlaps"], rep["obstacles"], rep["obstacle_overlaps"]))
            expect(rep["overlaps"] == 0 and rep["obstacle_overlaps"] == 0 and rep["errors"] == 0 and agree,
                   "%s with %s: %s" % (os.path.basename(track), sub, rep))
            expect(rep["obstacles"] > 0, "%s with %s: no subtitle boxes in the dump" % (track, sub))
            if sub == "dialogue.srt":
                # the dialogue holds the bottom of the stage a good part of the time: a small drop
                expect(rep["shown_fraction"] >= base["shown_fraction"] - 0.15,
                       "%s: %.3f shown with the dialogue, %.3f without" % (track, rep["shown_fraction"],
                                                                        base["shown_fraction"]))


# film, sid, a time its subtitle shows, the box it is in (px of the 640x360 output)
FILMS = [("mov_text.mp4", "1", 1.8), ("srt.mkv", "1", 1.8), ("signs.mkv", "1", 1.5), ("webvtt.webm", "1", 1.8),
         ("gbk.mp4", "auto", 1.8), ("dvdsub.mkv", "1", 1.5)]


def obstacles_at(a, film, sid, t, extra=()):
    """The subtitle boxes on screen at t, from the converter's dump at the player's stage."""
    dump = os.path.join(a["work"], "boxes.jsonl")
    empty = os.path.join(a["work"], "empty.jsonl")
    with open(empty, "w") as f:
        f.write('{"type":"track","format":"danmaku","version":1}\n')
    r = run([a["convert"], empty, "--layout", "-o", dump, "-q", "--stage", "%dx%d" % (W, H), "--sub",
             os.path.join(a["films"], film), "--sid", sid] + list(extra))
    if r.returncode:
        return []
    boxes = []
    with open(dump) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") == "obstacle" and o["start_ms"] <= t * 1000 < o["end_ms"]:
                boxes.append((o["x"], o["y"], o["w"], o["h"]))
    return boxes


def dense_track(path, seconds):
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<i>\n')
        for i in range(int(seconds * 20)):
            mode = (1, 1, 1, 5, 4)[i % 5]
            f.write('<d p="%.2f,%d,25,16777215,0,0,u,%d">弹幕 comment %d 前方高能</d>\n' % (i / 20, mode, i, i))
        f.write("</i>\n")


def check_frames(a):
    films = a["films"]
    for name, sid, t in FILMS:
        film = os.path.join(films, name)
        if not expect(os.path.exists(film), "%s: the test film is missing" % name):
            continue
        with_subs = shot(a, film, t, "with-" + name, ["--sid", sid])
        without = shot(a, film, t, "without-" + name, ["--sid", "no"])
        if with_subs is None or without is None:
            continue
        boxes = obstacles_at(a, name, sid, t)
        inside = sum(differing(with_subs, without, b) for b in boxes)
        everywhere = differing(with_subs, without)
        print("%s: %d subtitle pixels at %.1f s, %d of them inside its %d box(es)" % (name, everywhere, t, inside,
                                                                                       len(boxes)))
        expect(boxes and inside > 50, "%s: no subtitle drawn in its box at %.1f s" % (name, t))
        expect(everywhere - inside <= everywhere // 50 + 4, "%s: subtitle pixels outside its boxes" % name)
    # dense comments and a subtitle: no comment pixel inside the subtitle's box
    track = os.path.join(a["work"], "dense.xml")
    dense_track(track, 6)
    film = os.path.join(films, "signs.mkv")
    if os.path.exists(film):
        both = shot(a, film, 1.5, "signs-comments", ["--sid", "1", "--track", track])
        subs_only = shot(a, film, 1.5, "signs-nocomments", ["--sid", "1", "--track", track, "--no-comments"])
        comments_only = shot(a, film, 1.5, "signs-nosubs", ["--sid", "no", "--track", track])
        boxes = obstacles_at(a, "signs.mkv", "1", 1.5)
        inside = sum(differing(both, subs_only, b) for b in boxes)
        drawn = differing(both, subs_only)
        print("signs.mkv with comments: %d comment pixels, %d inside the %d subtitle boxes" % (drawn, inside,
                                                                                            len(boxes)))
        expect(drawn > W * H // 50, "signs.mkv: the dense track drew no comments")
        expect(inside == 0, "signs.mkv: %d comment pixels inside the subtitle boxes" % inside)
        # without subtitles, comments do use those rows: the check above means something
        expect(sum(differing(comments_only, rgb(os.path.join(a["work"], "without-signs.mkv.png")), b)
                   for b in boxes) > 0 if os.path.exists(os.path.join(a["work"], "without-signs.mkv.png")) else True,
               "signs.mkv: comments never reach the subtitles' rows without them: the check means nothing")
        # seek back and forth: the frame at 2.0 s equals a fresh start there
        script = os.path.join(a["work"], "seek.script")
        seek_png = os.path.join(a["work"], "seek.png")
        with open(script, "w") as f:
            # script times are film times, run in order: 0.5 s -> 5.5 s -> 0.6 s, shot at 2.0 s
            f.write("0.5 key Right\n5.6 key Left\n2.0 screenshot %s\n" % seek_png)
        r = run([a["player"], film, "--headless", "--fast", "--size", "%dx%d" % (W, H), "--sid", "1", "--track", track,
                 "--script", script, "--until", "8"])
        fresh = shot(a, film, 2.0, "fresh", ["--sid", "1", "--track", track])
        if expect(r.returncode == 0 and os.path.exists(seek_png), "seek run: %s" % r.stderr.strip()) and fresh:
            d = differing(rgb(seek_png), fresh)
            print("after seeking back and forth: %d pixels differ from a fresh start at 2.0 s" % d)
            expect(d == 0, "after seeking back and forth the frame differs from a fresh start (%d px)" % d)


def check_keys(a):
    srt = os.path.join(a["films"], "srt.mkv")
    if not expect(os.path.exists(srt), "srt.mkv missing"):
        return

    def scripted(name, keys, t):
        script = os.path.join(a["work"], name + ".script")
        png = os.path.join(a["work"], name + ".png")
        with open(script, "w") as f:
            for at, key in keys:
                f.write("%.2f key %s\n" % (at, key))
            f.write("%.2f screenshot %s\n" % (t, png))
        r = run([a["player"], srt, "--headless", "--fast", "--size", "%dx%d" % (W, H), "--script", script, "--until",
                 "%.2f" % (t + 0.2)])
        expect(r.returncode == 0, "%s: %s" % (name, r.stderr.strip()))
        return rgb(png) if os.path.exists(png) else None

    en = shot(a, srt, 1.8, "key-en", ["--sid", "1"])
    zh = shot(a, srt, 1.8, "key-zh", ["--sid", "2"])
    none = shot(a, srt, 1.8, "key-none", ["--sid", "no"])
    # each key shows its OSD line for 1.5 s (on the simulated display's clock with --fast): the
    # screenshots come after it has gone. The second line shows 3.0-4.0 s.
    early = shot(a, srt, 2.8, "key-early", ["--sid", "1", "--sub-delay", "-0.3"])
    late_none = shot(a, srt, 3.1, "key-late", ["--sid", "1", "--sub-delay", "0.3"])
    plain_late = shot(a, srt, 3.1, "key-late-ref", ["--sid", "no"])
    cases = [
        ("v hides", [(0.1, "v")], 1.8, none),
        ("v twice shows again", [(0.1, "v"), (0.2, "v")], 1.8, en),
        ("j goes to the next track", [(0.1, "j")], 1.8, zh),
        ("j twice is none", [(0.1, "j"), (0.2, "j")], 1.8, none),
        ("Shift+j goes back", [(0.1, "j"), (0.2, "Shift+j")], 1.8, en),
        ("z three times is -0.3 s", [(0.1, "z"), (0.2, "z"), (0.3, "z")], 2.8, early),
        ("Z three times is +0.3 s", [(0.1, "Shift+z"), (0.2, "Shift+z"), (0.3, "Shift+z")], 3.1, plain_late),
    ]
    for name, keys, t, want in cases:
        got = scripted(name.replace(" ", "-"), keys, t)
        if got is None or want is None:
            continue
        d = differing(got, want)
        print("%s: %d pixels differ from the frame it should give" % (name, d))
        expect(d == 0, "%s: the frame differs by %d pixels" % (name, d))
    expect(differing(en, zh) > 50 and differing(en, none) > 50, "the tracks do not differ: the key checks mean nothing")
    expect(late_none is not None and differing(late_none, plain_late) == 0,
           "--sub-delay 0.3: a subtitle already shows at 3.1 s")
    on_time = shot(a, srt, 2.8, "key-ontime", ["--sid", "1"])
    expect(early is not None and on_time is not None and differing(early, on_time) > 50,
           "--sub-delay -0.3: the line of 3.0 s does not show at 2.8 s")


def check_burnin(a):
    film = os.path.join(a["films"], "signs.mkv")
    if not expect(os.path.exists(film), "signs.mkv missing"):
        return
    track = os.path.join(a["work"], "dense.xml")
    dense_track(track, 6)
    out = os.path.join(a["work"], "burned.mkv")
    r = run([a["render"], film, "--track", track, "--sid", "1", "-o", out, "--preset", "ultrafast", "--crf", "4",
             "--end", "4"])
    if not expect(r.returncode == 0, "burn-in with subtitles: %s" % r.stderr.strip()):
        return
    info = json.loads(run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", out]).stdout)
    dur = float(info["format"]["duration"])
    expect(abs(dur - 4.0) < 0.15, "burned.mkv lasts %.3f s, expected 4" % dur)
    for t in (1.5, 2.5):
        player = shot(a, film, t, "burn-player-%g" % t, ["--sid", "1", "--track", track])
        frame = rgb(out, seek=t)
        total = sum(abs(x - y) for x, y in zip(player, frame))
        mean = total / len(player)
        print("burn-in at %.1f s: mean |render - player| %.2f per channel" % (t, mean))
        expect(mean < 4.0, "burn-in frame at %.1f s differs from the player's by %.2f on average" % (t, mean))
    # with sound: the film's own (the test films have none, so a film with a tone)
    toned = os.path.join(a["work"], "toned.mkv")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", film, "-f", "lavfi", "-i", "sine=f=440:d=4", "-map", "0",
                    "-map", "1:a", "-c:v", "copy", "-c:s", "copy", "-c:a", "aac", "-t", "4", toned], check=True)
    out2 = os.path.join(a["work"], "burned-sound.mkv")
    r = run([a["render"], toned, "--track", track, "--sid", "1", "-o", out2, "--preset", "ultrafast"])
    if expect(r.returncode == 0, "burn-in with sound: %s" % r.stderr.strip()):
        info = json.loads(run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", out2]).stdout)
        expect(any(s["codec_type"] == "audio" for s in info["streams"]), "burned-sound.mkv has no sound")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    check, a, args = argv[1], {}, argv[2:]
    while args:
        k = args.pop(0).lstrip("-").replace("-", "_")
        a[k] = args.pop(0)
    for k in ("player", "render", "convert", "films", "work"):
        if k not in a:
            print("missing --" + k, file=sys.stderr)
            return 2
    if not os.path.isdir(a["films"]) or not os.listdir(a["films"]):
        print("skipped: no subtitle test films in %s (they need ffmpeg)" % a["films"])
        return 77
    a["work"] = os.path.join(a["work"], check)
    os.makedirs(a["work"], exist_ok=True)
    {"layout": check_layout, "frames": check_frames, "keys": check_keys, "burnin": check_burnin}[check](a)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
