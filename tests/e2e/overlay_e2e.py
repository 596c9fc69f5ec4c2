#!/usr/bin/env python3
"""Overlay mode end to end: no film, the comments on a black stage for a
second projector or a video mixer, on the host's clock or a running mpv's.

    overlay_e2e.py CHECK --player P --work DIR [--mpv MPV]

CHECK is one of:
  stage   the black stage: no pixel brighter than black where the key says
          nothing is; the key is the fill's coverage (a premultiplied colour
          never exceeds it, white text equals it); comments are where the
          layout put them
  clock   the host's clock stands until space, then runs; - and = nudge it
          by 0.1 s; a seek moves it
  mpv     a real mpv playing a film headless with its IPC socket: --overlay
          --follow-mpv draws for mpv's time-pos within one of its frames,
          follows a seek and a pause
Exit 0 when every assertion holds, 77 when a needed program is missing.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from player_e2e import read_png  # noqa: E402

failures = []
W, H = 640, 360


def expect(cond, msg):
    print(("ok - " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)
    return cond


def env():
    return dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")


def track(a, name, n=120, every=0.1):
    path = os.path.join(a["work"], name)
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<i>\n')
        for i in range(n):
            colour = (16777215, 16711680, 65280)[i % 3]
            f.write('<d p="%.2f,1,25,%d,0,0,u,%d">overlay %d 弹幕</d>\n' % (i * every, colour, i, i))
        f.write("</i>\n")
    return path


def presents(log):
    out = []
    for line in open(log):
        f = line.split()
        if f and f[0] == "present":
            out.append((float(f[1]), float(f[3])))   # wall (CLOCK_MONOTONIC), film time drawn
    return out


def targets(work, name):
    """(time the frame was drawn for, film time drawn) of each present of a run's frame log."""
    out = []
    for line in open(os.path.join(work, name + ".log")):
        f = line.split()
        if f and f[0] == "present" and len(f) >= 4:
            out.append((float(f[2]), float(f[3])))
    return out


def check_stage(a):
    t = track(a, "stage.xml")
    shot = os.path.join(a["work"], "stage.png")
    dump = os.path.join(a["work"], "stage.jsonl")
    r = subprocess.run([a["player"], "--overlay", "--track", t, "--fast", "--size", "%dx%d" % (W, H), "--key-fill",
                        "--screenshot", "6.0:" + shot, "--until", "6.5", "--dump-layout", dump], capture_output=True,
                       text=True, env=env())
    if not expect(r.returncode == 0, "overlay mode ran: %s" % r.stderr.strip()[-300:]):
        return
    key_path = shot[:-4] + "-key.png"
    if not expect(os.path.exists(key_path), "the key is written beside the fill (%s)" % os.path.basename(key_path)):
        return
    fw, fh, fill = read_png(shot)
    kw, kh, key = read_png(key_path)
    expect((fw, fh) == (W, H) == (kw, kh), "both at --size: %dx%d and %dx%d" % (fw, fh, kw, kh))
    lit_outside = covered = over = white_off = 0
    for y in range(H):
        for x in range(W):
            i = x * 4
            r_, g, b = fill[y][i], fill[y][i + 1], fill[y][i + 2]
            k = key[y][i]
            if key[y][i] != key[y][i + 1] or key[y][i] != key[y][i + 2]:
                over += 1   # the key is grey
            if k == 0:
                lit_outside += (r_ | g | b) != 0
            else:
                covered += 1
                over += max(r_, g, b) > k + 1   # a premultiplied colour never exceeds its coverage
    expect(covered > 2000, "comments are on the stage: %d covered px" % covered)
    expect(lit_outside == 0, "no pixel brighter than black where the key is 0 (%d)" % lit_outside)
    expect(over == 0, "the key is the fill's coverage: grey, and no colour above it (%d px otherwise)" % over)
    # where the layout put the comments at 6 s, there is coverage
    hits = boxes = 0
    with open(dump) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") != "comment" or not o.get("shown"):
                continue
            if not (o["start_ms"] <= 6000 < o["end_ms"]):
                continue
            x = o["x_start"] + (o["x_end"] - o["x_start"]) * (6000 - o["start_ms"]) / (o["end_ms"] - o["start_ms"])
            cx, cy = int(x + o["w"] / 2), int(o["y"] + o["h"] / 2)
            if 0 <= cx < W and 0 <= cy < H:
                boxes += 1
                hits += any(key[yy][xx * 4] > 0 for yy in range(max(0, cy - 6), min(H, cy + 6))
                            for xx in range(max(0, cx - 20), min(W, cx + 20)))
    expect(boxes > 5 and hits == boxes, "coverage where the layout put each comment at 6 s: %d of %d" % (hits, boxes))


def run_script_overlay(a, name, lines, extra, until_film, deadline=60):
    """Runs the overlay until it has drawn film time `until_film` (polling its frame log: a loaded
    machine may start it late, so a fixed sleep would test the machine, not the clock) or
    `deadline` seconds have passed."""
    script = os.path.join(a["work"], name + ".script")
    with open(script, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    log = os.path.join(a["work"], name + ".log")
    if os.path.exists(log):
        os.unlink(log)
    p = subprocess.Popen([a["player"], "--overlay", "--track", track(a, "clock.xml"), "--headless", "--size", "320x180",
                          "--log-frames", log, "--script", script] + extra, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env())
    end = time.monotonic() + deadline
    while time.monotonic() < end and p.poll() is None:
        time.sleep(0.1)
        try:
            ps = presents(log)
        except (OSError, ValueError, IndexError):
            continue
        if ps and ps[-1][1] >= until_film:
            break
    p.terminate()
    out, err = p.communicate(timeout=20)
    return p.returncode, err, presents(log) if os.path.exists(log) else []


def check_clock(a):
    # standing at 0 until space; the script's times are film times, so they cannot start it: the keys
    # come through a real clock: --start 2 stands at 2 s; "2.0 key space" starts it at once
    rc, err, ps = run_script_overlay(a, "clock", ["2.0 key space", "3.0 key =", "3.0 key =",
                                                  "4.0 key Right"], ["--start", "2"], 9.5)
    if not expect(ps, "overlay ran on the host's clock: %s" % err.strip()[-300:]):
        return
    film = [f for _, f in ps]
    expect(abs(film[0] - 2.0) < 0.05, "it stands at --start first: %.3f s" % film[0])
    # Film times are measured against the times the frames were drawn for (the clock is read for
    # them), not when their presents returned: a loaded machine returns a present late, which
    # would read as the film running slow or jumping.
    tg = targets(a["work"], "clock")
    # after space it runs at wall speed: between the first and last frames of 2.1 to 2.9 s (before the nudges)
    run1 = [(w, f) for w, f in tg if 2.1 < f < 2.9]
    if expect(len(run1) > 10, "it runs after space (%d presents between 2.1 and 2.9 s)" % len(run1)):
        (w0, f0), (w1, f1) = run1[0], run1[-1]
        expect(abs((f1 - f0) - (w1 - w0)) < 0.02, "at the wall's speed: %.3f s of film in %.3f s" % (f1 - f0, w1 - w0))
    # two = at 3.0 s: +0.2 s; Right at 4.0 s: +5 s
    jumps = [b[1] - a_[1] - (b[0] - a_[0]) for a_, b in zip(tg, tg[1:])]
    nudges = [j for j in jumps if 0.05 < j < 0.25]
    seeks = [j for j in jumps if 4.5 < j < 5.5]
    expect(len(nudges) >= 1 and abs(sum(nudges) - 0.2) < 0.03,
           "= twice nudges the clock by +0.2 s: %s" % ["%.3f" % j for j in nudges])
    expect(len(seeks) == 1, "Right seeks 5 s: %s" % ["%.3f" % j for j in seeks])


def mpv_ipc(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.settimeout(5)
    return s


def mpv_get(s, prop, rid=[100]):
    rid[0] += 1
    s.sendall((json.dumps({"command": ["get_property", prop], "request_id": rid[0]}) + "\n").encode())
    buf = b""
    while True:
        buf += s.recv(65536)
        for line in buf.split(b"\n"):
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if o.get("request_id") == rid[0]:
                return o.get("data"), time.monotonic()


def mpv_cmd(s, *cmd):
    s.sendall((json.dumps({"command": list(cmd)}) + "\n").encode())


def film_at(ps, when):
    """Our film time drawn at wall time `when` (the present nearest it, moved on at wall speed)."""
    best = min(ps, key=lambda p: abs(p[0] - when))
    return best[1], abs(best[0] - when)


def check_mpv(a):
    mpv = a.get("mpv")
    if not mpv or mpv.endswith("NOTFOUND"):
        mpv = shutil.which("mpv")
    if not mpv or not shutil.which("ffmpeg"):
        print("skipped: needs mpv and ffmpeg")
        return 77
    w = a["work"]
    film = os.path.join(w, "mpv-film.mp4")
    if not os.path.exists(film):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=40", "-c:v",
                        "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", film], check=True)
    sock_path = os.path.join(w, "mpv.sock")
    if os.path.exists(sock_path):
        os.remove(sock_path)
    m = subprocess.Popen([mpv, "--no-config", "--vo=null", "--ao=null", "--no-audio", "--idle=no", "--keep-open=yes",
                          "--input-ipc-server=" + sock_path, film], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        if os.path.exists(sock_path):
            break
        time.sleep(0.05)
    if not expect(os.path.exists(sock_path), "mpv opened its IPC socket"):
        m.kill()
        return 1
    log = os.path.join(w, "mpv.log")
    p = subprocess.Popen([a["player"], "--overlay", "--follow-mpv", sock_path, "--track", track(a, "mpv.xml", 400),
                          "--headless", "--size", "320x180", "--log-frames", log], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env())
    try:
        s = mpv_ipc(sock_path)
        time.sleep(2.0)
        samples = []
        for _ in range(5):
            pos, when = mpv_get(s, "time-pos")
            samples.append((pos, when))
            time.sleep(0.2)
        mpv_cmd(s, "seek", 25, "absolute+exact")
        time.sleep(1.0)
        after_seek = mpv_get(s, "time-pos")
        mpv_cmd(s, "set_property", "pause", True)
        time.sleep(0.5)
        paused_pos, paused_at = mpv_get(s, "time-pos")
        time.sleep(0.8)
        paused_end = time.monotonic()
        s.close()
    finally:
        time.sleep(0.2)
        p.terminate()
        out, err = p.communicate(timeout=20)
        m.terminate()
        m.wait(timeout=10)
    ps = presents(log) if os.path.exists(log) else []
    if not expect(len(ps) > 50, "the overlay followed mpv: %d presents: %s" % (len(ps), err.strip()[-300:])):
        return 1
    frame = 1 / 24 + 1 / 60 + 0.01
    # Five samples of mpv's time-pos against what the overlay drew then. On a
    # loaded two-core machine mpv itself can be starved for a moment (its
    # time-pos then lags its own clock), so one sample of the five may miss;
    # the median must be within a frame, and so must four of the five.
    errors = []
    for pos, when in samples:
        ours, gap = film_at(ps, when)
        ours += (when - min(ps, key=lambda q: abs(q[0] - when))[0])
        errors.append(abs(ours - pos))
        print("# at mpv's time-pos %.3f s the overlay drew %.3f s (%.3f off)" % (pos, ours, abs(ours - pos)))
    within = sum(1 for e in errors if e <= frame)
    expect(sorted(errors)[len(errors) // 2] <= frame and within >= len(errors) - 1,
           "the overlay drew mpv's time within one frame (%.3f s): %d of %d samples, median %.3f s off" %
           (frame, within, len(errors), sorted(errors)[len(errors) // 2]))
    pos, when = after_seek
    ours, _ = film_at(ps, when)
    expect(abs(ours - pos) <= frame + 0.02 and pos > 24, "after mpv seeked to 25 s: mpv %.3f, overlay %.3f" % (pos, ours))
    still = [f for wl, f in ps if paused_at <= wl <= paused_end]
    expect(len(still) > 5 and max(still) - min(still) < 1e-6 and abs(still[0] - paused_pos) <= frame,
           "while mpv is paused the overlay's time stands at mpv's (%d presents at %s, mpv %.3f)" %
           (len(still), sorted(set("%.3f" % f for f in still))[:3], paused_pos))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    check, a, args = argv[1], {}, argv[2:]
    while args:
        k = args.pop(0).lstrip("-").replace("-", "_")
        a[k] = args.pop(0)
    a["work"] = os.path.join(a["work"], check)
    os.makedirs(a["work"], exist_ok=True)
    rc = {"stage": check_stage, "clock": check_clock, "mpv": check_mpv}[check](a)
    if rc == 77:
        return 77
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
