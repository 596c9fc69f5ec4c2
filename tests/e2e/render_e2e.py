#!/usr/bin/env python3
"""End-to-end checks of danmaku-render on films made at test time with the
ffmpeg command-line tool.

    render_e2e.py CHECK RENDER PLAYER FFMPEG FFPROBE WORKDIR

CHECK is one of: output, golden, audio, range, interrupt, broken, null, keepoff.
Exit status 0 when every assertion of that check holds; each failure prints
one line saying what was expected and what was found.
"""
import json
import os
import shutil
import subprocess
import sys

FPS = 25
FILM_SECONDS = 4
W, H = 640, 360

# Comments of every mode and a few colours, some CJK; times in seconds.
TRACK = """<?xml version="1.0" encoding="UTF-8"?>
<i>
<d p="0.20,1,25,16777215,0,0,a1,1,5">Hello from the back row!</d>
<d p="0.40,1,25,16711680,0,0,a2,2,5">前方高能 red</d>
<d p="0.60,1,36,65280,0,0,a3,3,5">BIG green comment</d>
<d p="0.80,1,18,16776960,0,0,a4,4,5">small yellow 233333</d>
<d p="1.00,5,25,16777215,0,0,a5,5,5">top comment stays</d>
<d p="1.10,4,25,255,0,0,a6,6,5">bottom blue 字幕</d>
<d p="1.20,1,25,0,0,0,a7,7,5">black text, light edge</d>
<d p="1.30,1,25,16777215,0,0,a8,8,5">this shot is gorgeous</d>
<d p="1.50,6,25,16711935,0,0,a9,9,5">reverse magenta</d>
<d p="1.70,1,25,16777215,0,0,b1,10,5">第一次来，好喜欢</d>
<d p="1.90,1,25,65535,0,0,b2,11,5">cyan flying by</d>
<d p="2.40,1,25,16777215,0,0,b3,12,5">late one</d>
</i>
"""

failures = []


def expect(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL: " + message)
    return cond


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def make_film(ffmpeg, path, audio_codec="aac", seconds=FILM_SECONDS, size=(W, H), extra=()):
    if os.path.exists(path):
        return
    cmd = [ffmpeg, "-v", "error", "-y",
           "-f", "lavfi", "-i", "testsrc2=size=%dx%d:rate=%d:duration=%d" % (size[0], size[1], FPS, seconds),
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=%d" % seconds,
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
           "-c:a", audio_codec] + list(extra) + [path]
    subprocess.run(cmd, check=True)


def probe(ffprobe, path):
    out = run([ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", path])
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def stream(info, kind):
    for s in info.get("streams", []):
        if s.get("codec_type") == kind:
            return s
    return None


def rgb_of(ffmpeg, path, seek=None, size=None):
    """Raw RGB24 bytes of one picture (a PNG, or the frame at `seek` of a film)."""
    cmd = [ffmpeg, "-v", "error"]
    if seek is not None:
        cmd += ["-ss", "%.3f" % seek]
    cmd += ["-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    out = subprocess.run(cmd, capture_output=True, check=True)
    if size is not None and len(out.stdout) != size[0] * size[1] * 3:
        raise RuntimeError("%s: %d bytes, expected a %dx%d picture" % (path, len(out.stdout), size[0], size[1]))
    return out.stdout


def compare(render, player, base):
    """Mean absolute difference, per channel, over the whole picture and over
    the comment pixels (where the player's frame differs clearly from the
    same frame without comments)."""
    n = len(player)
    total = 0
    mask_px = mask_diff = mask_base = 0
    for i in range(0, n, 3):
        d = abs(render[i] - player[i]) + abs(render[i + 1] - player[i + 1]) + abs(render[i + 2] - player[i + 2])
        total += d
        b = abs(base[i] - player[i]) + abs(base[i + 1] - player[i + 1]) + abs(base[i + 2] - player[i + 2])
        if b > 90:
            mask_px += 1
            mask_diff += d
            mask_base += b
    return {
        "mean": total / n,
        "mask_px": mask_px,
        "mask_mean": mask_diff / max(mask_px, 1) / 3,
        "mask_base_mean": mask_base / max(mask_px, 1) / 3,
    }


def golden_at(a, film, track, out, size, film_t, out_t, tag, picture_tolerance=4.0):
    """The output's frame at out_t against the player's screenshot at film_t."""
    sw, sh = size
    shot = os.path.join(a.work, "player-%s.png" % tag)
    bare = os.path.join(a.work, "bare-%s.png" % tag)
    for path, extra in ((shot, []), (bare, ["--no-comments"])):
        r = run([a.player, film, "--track", track, "--headless", "--fast", "--size", "%dx%d" % size,
                 "--until", "%.3f" % (film_t + 0.1), "--screenshot", "%.3f:%s" % (film_t, path)] + extra,
                env=dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))
        if not expect(r.returncode == 0 and os.path.exists(path), "%s: player screenshot failed: %s" % (tag, r.stderr.strip())):
            return
    player = rgb_of(a.ffmpeg, shot, size=size)
    base = rgb_of(a.ffmpeg, bare, size=size)
    render = rgb_of(a.ffmpeg, out, seek=out_t, size=size)
    c = compare(render, player, base)
    print("%s: mean |render - player| %.2f, comment pixels %d: mean %.2f (without comments %.2f)"
          % (tag, c["mean"], c["mask_px"], c["mask_mean"], c["mask_base_mean"]))
    # Comments must be on the frame for the comparison to mean anything.
    expect(c["mask_px"] > sw * sh // 200, "%s: only %d comment pixels in the player's frame" % (tag, c["mask_px"]))
    # Encoding noise and 4:2:0 chroma on coloured edges: a few levels on
    # average; a comment one pixel off gives about 40 on its pixels.
    expect(c["mean"] < picture_tolerance, "%s: mean difference %.2f per channel, expected < %g"
           % (tag, c["mean"], picture_tolerance))
    expect(c["mask_mean"] < 16.0, "%s: mean difference on comments %.2f, expected < 16" % (tag, c["mask_mean"]))
    # Where comments are, the render must be far closer to the player than a
    # frame without comments (a missing or shifted comment fails here).
    expect(c["mask_mean"] < 0.3 * c["mask_base_mean"],
           "%s: comments differ by %.2f, not much less than no comments at all (%.2f)"
           % (tag, c["mask_mean"], c["mask_base_mean"]))


def one_line_error(r, tag, must_contain=None):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    expect(r.returncode != 0, "%s: exit status 0, expected an error" % tag)
    expect(len(lines) == 1, "%s: %d lines on stderr, expected one: %r" % (tag, len(lines), r.stderr))
    if lines:
        expect(lines[0].startswith("danmaku-render: "), "%s: message %r does not name the program" % (tag, lines[0]))
        if must_contain:
            expect(must_contain in lines[0], "%s: message %r does not mention %r" % (tag, lines[0], must_contain))


def check_output(a, film, track):
    frame = 1.0 / FPS
    src = probe(a.ffprobe, film)
    film_dur = float(src["format"]["duration"])
    for name, size in (("out.mp4", None), ("out.mkv", (480, 270))):
        out = os.path.join(a.work, name)
        cmd = [a.render, film, "--track", track, "-o", out, "--preset", "ultrafast", "--crf", "18"]
        if size:
            cmd += ["--size", "%dx%d" % size]
        r = run(cmd)
        if not expect(r.returncode == 0, "%s: exit %d: %s" % (name, r.returncode, r.stderr.strip())):
            continue
        expect(r.stderr.strip() == "", "%s: not quiet off a terminal: %r" % (name, r.stderr))
        info = probe(a.ffprobe, out)
        if not expect(info is not None, "%s: ffprobe cannot read the output" % name):
            continue
        v, au = stream(info, "video"), stream(info, "audio")
        dur = float(info["format"]["duration"])
        print("%s: %s %sx%s, %.3f s (film %.3f s), audio %s" % (name, v and v["codec_name"], v and v["width"],
              v and v["height"], dur, film_dur, au and au["codec_name"]))
        expect(v is not None and v["codec_name"] == "h264", "%s: video is not H.264" % name)
        expect(abs(dur - film_dur) <= frame + 1e-6, "%s: duration %.3f s, film %.3f s" % (name, dur, film_dur))
        if v is not None and v.get("duration"):
            expect(abs(float(v["duration"]) - FILM_SECONDS) <= frame + 1e-6,
                   "%s: video lasts %s s, expected %d" % (name, v["duration"], FILM_SECONDS))
        expect(au is not None, "%s: no sound" % name)
        want = size or (W, H)
        expect(v is not None and (v["width"], v["height"]) == want,
               "%s: size %sx%s, expected %dx%d" % (name, v and v["width"], v and v["height"], want[0], want[1]))
        frames = run([a.ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                      "stream=nb_read_frames", "-of", "csv=p=0", out]).stdout.strip()
        expect(frames == str(FPS * FILM_SECONDS), "%s: %s frames, expected %d" % (name, frames, FPS * FILM_SECONDS))


def check_golden(a, film, track):
    out = os.path.join(a.work, "golden.mp4")
    r = run([a.render, film, "--track", track, "-o", out, "--preset", "ultrafast", "--crf", "10"])
    if expect(r.returncode == 0, "golden render: %s" % r.stderr.strip()):
        golden_at(a, film, track, out, (W, H), 2.0, 2.0, "same-size")
    # Letterboxed: a 4:3 output of the 16:9 film; comments lay out on the picture.
    out = os.path.join(a.work, "golden-4x3.mp4")
    r = run([a.render, film, "--track", track, "-o", out, "--preset", "ultrafast", "--crf", "10", "--size", "480x360"])
    if expect(r.returncode == 0, "letterbox render: %s" % r.stderr.strip()):
        # The player scales the picture nearest-neighbour, the render bicubic:
        # on this sharp test pattern that alone differs by ~5 levels.
        golden_at(a, film, track, out, (480, 360), 2.6, 2.6, "letterbox", picture_tolerance=8.0)


def check_audio(a, track):
    # PCM sound cannot go into MP4: it is re-encoded to AAC; into MKV it is copied.
    film = os.path.join(a.work, "film-pcm.mkv")
    make_film(a.ffmpeg, film, audio_codec="pcm_s16le")
    for name, codec in (("pcm.mp4", "aac"), ("pcm.mkv", "pcm_s16le")):
        out = os.path.join(a.work, name)
        r = run([a.render, film, "--track", track, "-o", out, "--preset", "ultrafast"])
        if not expect(r.returncode == 0, "%s: %s" % (name, r.stderr.strip())):
            continue
        info = probe(a.ffprobe, out)
        au = stream(info, "audio") if info else None
        expect(au is not None and au["codec_name"] == codec,
               "%s: sound is %s, expected %s" % (name, au and au["codec_name"], codec))
        dur = float(info["format"]["duration"]) if info else 0
        expect(abs(dur - FILM_SECONDS) <= 1.0 / FPS + 0.03, "%s: duration %.3f s" % (name, dur))
    # A film that starts late (MPEG-TS near 1.4 s): film time 0 is its first picture, and the
    # sound keeps its place against it (the burn-in takes that origin from the media module).
    ts = os.path.join(a.work, "film.ts")
    make_film(a.ffmpeg, ts, extra=("-f", "mpegts"))
    src = probe(a.ffprobe, ts)
    out = os.path.join(a.work, "from-ts.mkv")
    r = run([a.render, ts, "--track", track, "-o", out, "--preset", "ultrafast"])
    if expect(r.returncode == 0, "from-ts.mkv: %s" % r.stderr.strip()):
        info = probe(a.ffprobe, out)
        sv, sa = stream(src, "video"), stream(src, "audio")
        ov, oa = stream(info, "video"), stream(info, "audio")
        src_gap = float(sa["start_time"]) - float(sv["start_time"])
        out_gap = float(oa["start_time"]) - float(ov["start_time"])
        print("from-ts.mkv: the film starts at %.3f s; sound starts %.3f s after the picture (film %.3f s)"
              % (float(src["format"]["start_time"]), out_gap, src_gap))
        expect(float(src["format"]["start_time"]) > 0.5, "film.ts does not start late: the check means nothing")
        expect(abs(out_gap - src_gap) <= 0.03, "from-ts.mkv: sound starts %.3f s after the picture, the film's %.3f s"
               % (out_gap, src_gap))


def check_range(a, film, track):
    out = os.path.join(a.work, "range.mp4")
    r = run([a.render, film, "--track", track, "-o", out, "--preset", "ultrafast", "--crf", "10",
             "--start", "1", "--end", "3"])
    if not expect(r.returncode == 0, "range: %s" % r.stderr.strip()):
        return
    info = probe(a.ffprobe, out)
    v = stream(info, "video")
    dur = float(info["format"]["duration"])
    expect(abs(dur - 2.0) <= 1.0 / FPS + 0.03, "range: duration %.3f s, expected 2" % dur)
    expect(stream(info, "audio") is not None, "range: no sound")
    frames = run([a.ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                  "stream=nb_read_frames", "-of", "csv=p=0", out]).stdout.strip()
    expect(frames == str(2 * FPS), "range: %s frames, expected %d" % (frames, 2 * FPS))
    # Output time 1.0 is film time 2.0: comments follow the film's clock.
    golden_at(a, film, track, out, (W, H), 2.0, 1.0, "range")
    del v


def check_interrupt(a, film, track):
    out = os.path.join(a.work, "interrupted.mp4")
    r = run([a.render, film, "--track", track, "-o", out, "--preset", "ultrafast", "--interrupt-after", "30"])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    expect(r.returncode == 130, "interrupt: exit %d, expected 130" % r.returncode)
    expect(len(lines) == 1 and "interrupted" in lines[0], "interrupt: message %r" % r.stderr)
    info = probe(a.ffprobe, out)
    if not expect(info is not None, "interrupt: the partial output is not a readable file"):
        return
    frames = run([a.ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                  "stream=nb_read_frames", "-of", "csv=p=0", out]).stdout.strip()
    expect(frames == "30", "interrupt: %s frames, expected the 30 rendered" % frames)
    dur = float(info["format"]["duration"])
    expect(abs(dur - 30.0 / FPS) <= 1.0 / FPS + 0.03, "interrupt: duration %.3f s, expected 1.2" % dur)
    expect(stream(info, "audio") is not None, "interrupt: no sound")


def check_broken(a, film, track):
    w = a.work
    out = os.path.join(w, "broken-out.mp4")
    one_line_error(run([a.render, os.path.join(w, "missing.mp4"), "--track", track, "-o", out]),
                   "missing film", "missing.mp4")
    one_line_error(run([a.render, film, "--track", os.path.join(w, "missing.xml"), "-o", out]),
                   "missing track", "missing.xml")
    garbage = os.path.join(w, "garbage.mp4")
    with open(garbage, "wb") as f:
        f.write(bytes((i * 7919 + 13) % 251 for i in range(200000)))
    one_line_error(run([a.render, garbage, "--track", track, "-o", out]), "garbage film", "garbage.mp4")
    bad_track = os.path.join(w, "bad.xml")
    with open(bad_track, "w") as f:
        f.write("this is not a comment track\n")
    one_line_error(run([a.render, film, "--track", bad_track, "-o", out]), "unparsable track", "bad.xml")
    one_line_error(run([a.render, film, "--track", track, "-o", os.path.join(w, "no-such-dir", "x.mp4")]),
                   "unwritable output", "no-such-dir")
    one_line_error(run([a.render, film, "--track", track, "-o", os.path.join(w, "x.unknownext")]),
                   "unknown container", "x.unknownext")
    one_line_error(run([a.render, film, "--track", track, "-o", out, "--start", "60"]), "start past the end", "past the end")
    one_line_error(run([a.render, film, "--track", track, "-o", out, "--preset", "nosuch"]), "unknown preset", "nosuch")
    one_line_error(run([a.render, film, "--track", track, "-o", out, "--codec", "nosuch"]), "unknown encoder", "nosuch")
    expect(not os.path.exists(out), "a failed render left %s behind" % out)
    size = os.path.getsize(film)
    one_line_error(run([a.render, film, "--track", track, "-o", film]), "output over the film", "film itself")
    expect(os.path.getsize(film) == size, "the film was overwritten")

    # A film cut short: what is there renders, exit status 0.
    mkv = os.path.join(w, "film-cut.mkv")
    make_film(a.ffmpeg, mkv)
    cut = os.path.join(w, "cut.mkv")
    with open(mkv, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[: len(data) * 6 // 10])
    out = os.path.join(w, "cut-out.mp4")
    r = run([a.render, cut, "--track", track, "-o", out, "--preset", "ultrafast"])
    expect(r.returncode == 0, "truncated film: exit %d: %s" % (r.returncode, r.stderr.strip()))
    info = probe(a.ffprobe, out)
    dur = float(info["format"]["duration"]) if info else 0
    print("truncated film: rendered %.2f s of %d" % (dur, FILM_SECONDS))
    expect(1.0 < dur < FILM_SECONDS, "truncated film: %.2f s rendered" % dur)

    # Damaged data in the middle: the damaged frames are skipped or concealed, the rest renders.
    damaged = os.path.join(w, "damaged.mp4")
    with open(film, "rb") as f:
        data = bytearray(f.read())
    for i in range(len(data) * 4 // 10, len(data) * 5 // 10):
        data[i] = (i * 31) & 0xFF
    with open(damaged, "wb") as f:
        f.write(data)
    out = os.path.join(w, "damaged-out.mp4")
    r = run([a.render, damaged, "--track", track, "-o", out, "--preset", "ultrafast"])
    expect(r.returncode == 0, "damaged film: exit %d: %s" % (r.returncode, r.stderr.strip()))
    info = probe(a.ffprobe, out)
    dur = float(info["format"]["duration"]) if info else 0
    print("damaged film: rendered %.2f s; stderr: %s" % (dur, r.stderr.strip().replace("\n", " | ")))
    expect(dur > FILM_SECONDS * 0.5, "damaged film: only %.2f s rendered" % dur)


def check_null(a, film, track):
    before = set(os.listdir(a.work))
    r = run([a.render, film, "--track", track, "--null", "--stats"], cwd=a.work)
    expect(r.returncode == 0, "null: exit %d: %s" % (r.returncode, r.stderr.strip()))
    expect("%d frames" % (FPS * FILM_SECONDS) in r.stderr, "null: statistics %r" % r.stderr.strip())
    expect(set(os.listdir(a.work)) == before, "null: files were written: %s" % (set(os.listdir(a.work)) - before))


def dense_track(path, seconds):
    """Scrolling, top and bottom comments in every row, all the time."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<i>\n')
        for i in range(int(seconds * 25)):
            mode = (1, 1, 1, 5, 4)[i % 5]
            f.write('<d p="%.2f,%d,25,16777215,0,0,u,%d">弹幕 comment %d 前方高能</d>\n' % (i / 25, mode, i, i))
        f.write("</i>\n")


def keep_off_box(size):
    """The box --keep-off 0,0.6667,1.0,0.3333 keeps free, in output px (the film fills the output)."""
    w, h = size
    y = int(0.6667 * h)
    return 0, y, w, h - y


def box_differs(a, b, size, box):
    """Pixels inside box where two RGB24 pictures differ at all, and pixels in all."""
    w = size[0]
    x0, y0, bw, bh = box
    n = 0
    for y in range(y0, y0 + bh):
        row = (y * w + x0) * 3
        n += sum(1 for i in range(row, row + bw * 3, 3) if a[i:i + 3] != b[i:i + 3])
    return n, bw * bh


def check_keepoff(a, film, track):
    """--keep-off in burn-in and the player: a dense track, no comment pixel in the box."""
    dense = os.path.join(a.work, "dense.xml")
    empty = os.path.join(a.work, "empty.jsonl")
    dense_track(dense, FILM_SECONDS)
    with open(empty, "w") as f:
        f.write('{"type":"track","format":"danmaku","version":1}\n')
    box, t = keep_off_box((W, H)), 2.0
    outs = {}
    for tag, tr, extra in (("kept", dense, ["--keep-off", "0,0.6667,1.0,0.3333"]), ("free", dense, []),
                           ("bare", empty, [])):
        out = os.path.join(a.work, "keepoff-%s.mkv" % tag)
        # lossless, so a pixel that differs is a pixel a comment drew
        r = run([a.render, film, "--track", tr, "-o", out, "--preset", "ultrafast", "--crf", "0"] + extra)
        if not expect(r.returncode == 0, "keepoff %s render: %s" % (tag, r.stderr.strip())):
            return
        outs[tag] = rgb_of(a.ffmpeg, out, seek=t, size=(W, H))
    kept, n = box_differs(outs["kept"], outs["bare"], (W, H), box)
    free, _ = box_differs(outs["free"], outs["bare"], (W, H), box)
    above, _ = box_differs(outs["kept"], outs["bare"], (W, H), (0, 0, W, box[1]))
    print("burn-in: comment pixels in the kept box %d of %d (without --keep-off %d); above it %d" % (kept, n, free, above))
    expect(free > n // 50, "keepoff: without --keep-off comments cross the box (%d px): the test would mean nothing" % free)
    expect(above > W * H // 50, "keepoff: comments are drawn above the box (%d px)" % above)
    expect(kept == 0, "keepoff: burn-in drew %d comment pixels inside the kept box" % kept)
    # the player's headless frame: the same box, against the same frame without comments
    shots = {}
    for tag, extra in (("kept", ["--keep-off", "0,0.6667,1.0,0.3333"]), ("bare", ["--no-comments"])):
        png = os.path.join(a.work, "keepoff-player-%s.png" % tag)
        r = run([a.player, film, "--track", dense, "--headless", "--fast", "--size", "%dx%d" % (W, H),
                 "--until", "%.3f" % (t + 0.1), "--screenshot", "%.3f:%s" % (t, png)] + extra,
                env=dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"))
        if not expect(r.returncode == 0, "keepoff player %s: %s" % (tag, r.stderr.strip())):
            return
        shots[tag] = rgb_of(a.ffmpeg, png, size=(W, H))
    kept, n = box_differs(shots["kept"], shots["bare"], (W, H), box)
    above, _ = box_differs(shots["kept"], shots["bare"], (W, H), (0, 0, W, box[1]))
    print("player: comment pixels in the kept box %d of %d; above it %d" % (kept, n, above))
    expect(above > W * H // 50, "keepoff: the player draws comments above the box (%d px)" % above)
    expect(kept == 0, "keepoff: the player drew %d comment pixels inside the kept box" % kept)


class Args:
    pass


def main(argv):
    if len(argv) != 7:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    a = Args()
    check, a.render, a.player, a.ffmpeg, a.ffprobe, a.work = argv[1:]
    a.work = os.path.join(a.work, check)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    film = os.path.join(a.work, "film.mp4")
    track = os.path.join(a.work, "track.xml")
    make_film(a.ffmpeg, film)
    with open(track, "w", encoding="utf-8") as f:
        f.write(TRACK)
    checks = {"output": check_output, "golden": check_golden, "range": check_range,
              "interrupt": check_interrupt, "broken": check_broken, "null": check_null, "keepoff": check_keepoff,
              "audio": lambda x, _f, t: check_audio(x, t)}
    if check not in checks:
        print("unknown check %r" % check, file=sys.stderr)
        return 2
    checks[check](a, film, track)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
