#!/usr/bin/env python3
"""The installed programs, away from the build and the source.

    install_e2e.py install BUILD_DIR PREFIX CMAKE   CMAKE --install into PREFIX (made afresh)
    install_e2e.py run PREFIX                   the installed player on the bundled demo
                                                (headless, screenshots where it says), from
                                                another folder and from a copy of the tree
                                                moved elsewhere; the installed converter on a
                                                track; --version of every program
    install_e2e.py man PREFIX                   `man -l` renders every installed page, and the
                                                options each lists are those --help prints
    install_e2e.py completion PREFIX            the bash completion sources cleanly and offers
                                                exactly the options --help prints
    install_e2e.py desktop PREFIX               desktop-file-validate passes the desktop entry;
                                                its icon is installed

A tool this needs that is missing (man, bash, desktop-file-validate) makes the
test report itself skipped (exit 77).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
PROGRAMS = ["danmaku", "danmaku-render", "danmaku-convert", "danmaku-gate", "danmaku-flood"]
# the options at the start of a --help line: "  --track FILE", "  -o, --output FILE", "      --null",
# "  --gifts, --no-gifts", "  --loop[=N|inf]"; in a rendered manual page the same at its first indent
_OPTS = r"(-{1,2}[A-Za-z0-9][A-Za-z0-9-]*(?:\[=[^\]]*\])?(?:, -{1,2}[A-Za-z0-9][A-Za-z0-9-]*(?:\[=[^\]]*\])?)*)"
HELP_OPTION = re.compile(r"^ {1,8}" + _OPTS)
MAN_OPTION = re.compile(r"^ {7}" + _OPTS)


def options_of(match):
    return {re.sub(r"\[=.*", "", o) for o in match.group(1).split(", ")}


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(SKIP)


def clean_env(**extra):
    """No display, no data folder override, no build-tree hints: as a user's shell."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DANMAKU_DATA_DIR", "DESTDIR")}
    env.update(extra)
    return env


def installed_programs(prefix):
    progs = [p for p in PROGRAMS if os.path.exists(os.path.join(prefix, "bin", p))]
    for p in ("danmaku", "danmaku-render", "danmaku-convert"):
        if p not in progs:
            fail(f"{prefix}/bin/{p} is not installed")
    return progs


def help_options(prog):
    out = subprocess.run([prog, "--help"], capture_output=True, text=True, env=clean_env(), timeout=30)
    if out.returncode != 0:
        fail(f"{prog} --help exited {out.returncode}: {out.stderr.strip()}")
    opts = set()
    for line in out.stdout.splitlines():
        m = HELP_OPTION.match(line)
        if m:
            opts |= options_of(m)
            # the option's arguments end where two spaces or the line do: a description one space
            # after them would run into the manual page's tag
            tag = line[m.end():].split("  ")[0].split()
            if any(re.fullmatch(r"[a-z][a-z']*[,.;:)]?", t) for t in tag):
                fail(f"{prog} --help: the description of {m.group(1)} is one space after it "
                     f"(two, or the next line): {line.strip()!r}")
    if "--help" not in opts or "--version" not in opts:
        fail(f"{prog} --help lists no --help or --version: {sorted(opts)}")
    return opts


def cmd_install(build, prefix, cmake):
    if os.path.exists(prefix):
        shutil.rmtree(prefix)
    r = subprocess.run([cmake, "--install", build, "--prefix", prefix], capture_output=True, text=True,
                       env=clean_env())
    if r.returncode != 0:
        fail("cmake --install failed:\n" + r.stdout + r.stderr)
    want = ["bin/danmaku", "bin/danmaku-render", "bin/danmaku-convert",
            "share/danmaku/demo/demo.mp4", "share/danmaku/demo/demo-track.xml", "share/danmaku/web/index.html",
            "share/danmaku/web/i18n.js", "share/danmaku/web/i18n/en.json", "share/danmaku/web/i18n/zh-CN.json",
            "share/danmaku/web/i18n/zh-TW.json", "share/danmaku/web/i18n/ja.json", "share/danmaku/web/i18n/ko.json",
            "share/danmaku/web/vendor/uPlot.iife.min.js", "share/danmaku/web/vendor/uPlot.min.css",
            "share/danmaku/web/vendor/uPlot.LICENSE",
            "share/doc/danmaku/README.md", "share/doc/danmaku/formats.md",
            "share/man/man1/danmaku.1", "share/man/man1/danmaku-render.1", "share/man/man1/danmaku-convert.1",
            "share/bash-completion/completions/danmaku", "share/applications/danmaku.desktop",
            "share/icons/hicolor/scalable/apps/danmaku.svg"]
    missing = [w for w in want if not os.path.exists(os.path.join(prefix, w))]
    if missing:
        fail("not installed: " + ", ".join(missing))
    print(f"installed into {prefix}")


def play_demo(prefix, label):
    """The installed player with no film and no display: the demo, headless, screenshots in ./danmaku-demo."""
    with tempfile.TemporaryDirectory(prefix="danmaku-elsewhere-") as cwd:
        r = subprocess.run([os.path.join(prefix, "bin", "danmaku")], cwd=cwd, capture_output=True, text=True,
                           env=clean_env(PWD=cwd), timeout=300)
        if r.returncode != 0:
            fail(f"{label}: the installed player on the demo exited {r.returncode}:\n{r.stderr}")
        said = r.stdout + r.stderr
        m = re.search(r"screenshots of the demo are in (\S+?)/?$", said, re.M)
        if not m:
            fail(f"{label}: the player did not say where the screenshots are:\n{said}")
        shots_dir = m.group(1)
        if os.path.realpath(shots_dir) != os.path.realpath(os.path.join(cwd, "danmaku-demo")):
            fail(f"{label}: screenshots in {shots_dir}, not in the folder it ran in ({cwd})")
        shots = sorted(f for f in os.listdir(shots_dir) if f.endswith(".png"))
        if len(shots) != 5:
            fail(f"{label}: {len(shots)} screenshots in {shots_dir}, not 5: {shots}")
        for s in shots:
            with open(os.path.join(shots_dir, s), "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    fail(f"{label}: {s} is not a PNG")
        # the track it played is the installed one, not the checkout's
        track = os.path.join(os.path.realpath(prefix), "share/danmaku/demo/demo-track.xml")
        if track + ": shown" not in said:
            fail(f"{label}: the demo's track is not {track}:\n{said}")
        print(f"{label}: demo played headless from {cwd}, {len(shots)} screenshots in {shots_dir}")


def serve_pages(prefix):
    """The installed player's live feed serves the pages' translations and the console's charting library."""
    exe = os.path.join(prefix, "bin", "danmaku")
    if "--listen" not in subprocess.run([exe, "--help"], capture_output=True, text=True, env=clean_env()).stdout:
        print("no live feed in this build: pages not checked")
        return
    token = "install-token-1234"
    proc = subprocess.Popen([exe, "--headless", "--listen", "127.0.0.1:0", "--host-token", token, "--page-lang", "ja"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        port, seen = None, ""
        deadline = time.time() + 30
        while port is None and time.time() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
            m = re.search(r"live on port (\d+)", line)
            port = int(m.group(1)) if m else None
        if port is None:
            fail("the installed player's live feed did not start: " + seen)
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(base + "/screening.json", timeout=10) as r:
            if json.load(r).get("lang") != "ja":
                fail("/screening.json does not carry --page-lang")
        with urllib.request.urlopen(base + "/i18n/ko.json", timeout=10) as r:
            if "audience.heading" not in json.load(r):
                fail("/i18n/ko.json is not the translation")
        req = urllib.request.Request(base + "/host/vendor/uPlot.iife.min.js", headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=10) as r:
            if b"uPlot" not in r.read(200):
                fail("/host/vendor/uPlot.iife.min.js is not uPlot")
        print("the installed live feed serves the translations and uPlot")
    finally:
        proc.kill()
        proc.wait()


def cmd_run(prefix):
    progs = installed_programs(prefix)
    for p in progs:
        r = subprocess.run([os.path.join(prefix, "bin", p), "--version"], capture_output=True, text=True,
                           env=clean_env(), timeout=30)
        lines = r.stdout.splitlines()
        if r.returncode != 0 or not lines or not re.fullmatch(re.escape(p) + r" \d+\.\d+\.\d+", lines[0]):
            fail(f"{p} --version: exit {r.returncode}, first line {lines[:1]}")
        # libavfilter only where the program links it: the player and the burn-in filter audio and video
        libs = ("libavformat", "libavcodec", "libavutil", "SDL2", "SDL2_ttf", "HarfBuzz", "libass")
        for lib in libs + (("libavfilter",) if p in ("danmaku", "danmaku-render") else ()):
            if not re.search(r"^\s+" + re.escape(lib) + r"\s+\d+\.\d+(\.\d+)?\s*$", r.stdout, re.M):
                fail(f"{p} --version names no {lib} version:\n{r.stdout}")
    print("--version: " + ", ".join(progs))

    play_demo(prefix, "installed")
    # the same tree moved elsewhere still finds its data (nothing points back at the build or the source)
    with tempfile.TemporaryDirectory(prefix="danmaku-moved-") as moved:
        copy = os.path.join(moved, "opt")
        shutil.copytree(prefix, copy, symlinks=True)
        play_demo(copy, "moved")

    serve_pages(prefix)

    # a data folder that is not there: one line, exit 1
    r = subprocess.run([os.path.join(prefix, "bin", "danmaku"), "--headless"], capture_output=True, text=True,
                       env=clean_env(DANMAKU_DATA_DIR="/nonexistent/danmaku-data"), timeout=60)
    if r.returncode == 0 or "DANMAKU_DATA_DIR=/nonexistent/danmaku-data" not in r.stderr \
            or len(r.stderr.strip().splitlines()) != 1:
        fail(f"DANMAKU_DATA_DIR to no folder: exit {r.returncode}, {r.stderr!r}")

    with tempfile.TemporaryDirectory(prefix="danmaku-convert-") as cwd:
        track = os.path.join(prefix, "share/danmaku/demo/demo-track.xml")
        for out in ("demo.jsonl", "demo.ass"):
            r = subprocess.run([os.path.join(prefix, "bin", "danmaku-convert"), track, "-o", out], cwd=cwd,
                               capture_output=True, text=True, env=clean_env(), timeout=120)
            if r.returncode != 0:
                fail(f"installed danmaku-convert to {out} exited {r.returncode}: {r.stderr}")
            with open(os.path.join(cwd, out), encoding="utf-8") as f:
                text = f.read()
            if out.endswith(".jsonl") and len(text.splitlines()) < 100:
                fail(f"{out}: {len(text.splitlines())} lines, the demo track has over 200 comments")
            if out.endswith(".ass") and "Dialogue:" not in text:
                fail(f"{out} has no Dialogue lines")
        print("installed danmaku-convert wrote demo.jsonl and demo.ass")


def cmd_man(prefix):
    man = shutil.which("man")
    if not man:
        skip("man is not installed (apt-get install man-db)")
    for p in installed_programs(prefix):
        page = os.path.join(prefix, "share/man/man1", p + ".1")
        if not os.path.exists(page):
            fail(f"no manual page {page}")
        r = subprocess.run([man, "-l", page], capture_output=True, text=True,
                           env=clean_env(LC_ALL="C.UTF-8", MANWIDTH="100", MAN_KEEP_FORMATTING=""), timeout=60)
        if r.returncode != 0 or "NAME" not in r.stdout or p not in r.stdout:
            fail(f"man -l {page}: exit {r.returncode}: {r.stderr.strip()}")
        text = r.stdout.replace("\u2010", "-").replace("\u2212", "-")
        listed = set()
        for line in text.splitlines():
            # the tags of the option list: at the page's first indent
            m = MAN_OPTION.match(line)
            if m:
                listed |= options_of(m)
        helped = help_options(os.path.join(prefix, "bin", p))
        if listed != helped:
            fail(f"{p}.1 and {p} --help differ: only in the page {sorted(listed - helped)}, "
                 f"only in --help {sorted(helped - listed)}")
        print(f"{p}.1: renders, lists the {len(helped)} options --help prints")


def cmd_completion(prefix):
    bash = shutil.which("bash")
    if not bash:
        skip("bash is not installed")
    env = clean_env(PATH=os.path.join(prefix, "bin") + os.pathsep + os.environ.get("PATH", ""))
    for p in installed_programs(prefix):
        comp = os.path.join(prefix, "share/bash-completion/completions", p)
        if not os.path.exists(comp):
            fail(f"no completion file {comp}")
        script = (f'set -e; source "{comp}"; complete -p {p} >/dev/null; '
                  'COMP_WORDS=("$1" "$2"); COMP_CWORD=1; _danmaku; printf "%s\\n" "${COMPREPLY[@]}"')
        r = subprocess.run([bash, "--norc", "--noprofile", "-c", script, "bash", p, "--"],
                           capture_output=True, text=True, env=env, timeout=60)
        if r.returncode != 0 or r.stderr.strip():
            fail(f"{comp} does not source cleanly: exit {r.returncode}, {r.stderr.strip()}")
        offered = {w for w in r.stdout.split() if w.startswith("--")}
        helped = {o for o in help_options(os.path.join(prefix, "bin", p)) if o.startswith("--")}
        if offered != helped:
            fail(f"completion of {p} --: only offered {sorted(offered - helped)}, "
                 f"not offered {sorted(helped - offered)}")
        # a prefix narrows it down
        r = subprocess.run([bash, "--norc", "--noprofile", "-c", script, "bash", p, "--hel"],
                           capture_output=True, text=True, env=env, timeout=60)
        if r.stdout.split() != ["--help"]:
            fail(f"completion of {p} --hel offers {r.stdout.split()}, not --help")
        print(f"completion of {p}: the {len(helped)} long options --help prints")


def cmd_desktop(prefix):
    validate = shutil.which("desktop-file-validate")
    if not validate:
        skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    entry = os.path.join(prefix, "share/applications/danmaku.desktop")
    r = subprocess.run([validate, entry], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or r.stdout.strip() or r.stderr.strip():
        fail(f"desktop-file-validate {entry}: exit {r.returncode}: {r.stdout}{r.stderr}")
    with open(entry, encoding="utf-8") as f:
        text = f.read()
    mime = re.search(r"^MimeType=(.*)$", text, re.M)
    if not mime or "video/mp4" not in mime.group(1) or "video/x-matroska" not in mime.group(1):
        fail("the desktop entry does not register video types")
    icon = re.search(r"^Icon=(.*)$", text, re.M).group(1)
    if not os.path.exists(os.path.join(prefix, "share/icons/hicolor/scalable/apps", icon + ".svg")):
        fail(f"the icon {icon} is not installed")
    exe = re.search(r"^Exec=(\S+)", text, re.M).group(1)
    if not os.path.exists(os.path.join(prefix, "bin", exe)):
        fail(f"Exec={exe} is not an installed program")
    print(f"{entry}: valid, {len(mime.group(1).split(';')) - 1} video types, icon {icon}.svg")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd = sys.argv[1]
    if cmd == "install" and len(sys.argv) == 5:
        cmd_install(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd in ("run", "man", "completion", "desktop") and len(sys.argv) == 3:
        {"run": cmd_run, "man": cmd_man, "completion": cmd_completion, "desktop": cmd_desktop}[cmd](sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
