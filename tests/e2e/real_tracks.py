#!/usr/bin/env python3
"""Lay out every track of a folder with danmaku-convert and check the dumps:
no same-mode overlap under the default policy and under --overflow drop,
none over a keep-off box in the lower third, no overlap across modes either
with --strict, every comment accounted for,
the same bytes on a second run, and, for the real tracks, a shown fraction
at least the reference converters' figures (read from the tracks README).

    real_tracks.py CONVERT TRACKS_DIR [--checker LAYOUT_CHECK] [--inkdump ASS_INKDUMP] [--generated] [--markdown]

With --inkdump, each track is also converted to ASS (plain and --strict) and
the boxes libass actually draws for it (ass-inkdump) are checked the same
way: no same-mode overlap (and none across modes with --strict) as mpv or
ffmpeg's ass filter shows the file.

The dumps are checked by the suite's own checker (dumpcheck.py, beside this
file) and, when --checker names ../shared/tools/layout-check, by that one
too: both must report the same counts. --generated: the folder holds the
suite's generated tracks (no reference figures). Exit status 0 when every
check holds, 1 when one fails, 77 (skipped) when TRACKS_DIR is not there.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ARGS = ["--stage", "1920x1080", "--font-px", "48", "--scroll", "8", "--fixed", "4"]
KEEP_OFF = "0,0.6667,1.0,0.3333"      # the lower third: a venue's caption box
OWN_CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dumpcheck.py")
COMPARED = ("comments", "shown", "overlaps", "cross_mode_overlaps", "obstacles", "obstacle_overlaps")


def reference_figures(readme):
    """{track: (danmaku2ass_shown, danmakufactory_shown)} from the README table."""
    refs = {}
    # "| name.xml [note] | 98.1 % / 0 / 942 | 99.0 % / 0 / 1032 |": shown, then
    # overlapping pairs and cross-mode crossings (older tables had fewer columns)
    row = re.compile(r"^\|\s*(\S+\.(?:xml|json))[^|]*\|\s*([\d.]+)\s*%(?:\s*/\s*\d+)*\s*\|"
                     r"\s*([\d.]+)\s*%(?:\s*/\s*\d+)*\s*\|")
    with open(readme, encoding="utf-8") as f:
        for line in f:
            m = row.match(line)
            if m:
                refs[m.group(1)] = (float(m.group(2)) / 100, float(m.group(3)) / 100)
    return refs


def run_checker(checker, dump, strict):
    cmd = [checker, dump, "--json"] + (["--strict"] if strict else [])
    if checker.endswith(".py"):
        cmd = [sys.executable] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["exit"] = out.returncode
    return report


def check(convert, checkers, track, extra, inkdump=None):
    with tempfile.TemporaryDirectory() as tmp:
        dumps = [os.path.join(tmp, f"dump{i}.jsonl") for i in (1, 2)]
        outs = [os.path.join(tmp, f"out{i}.ass") for i in (1, 2)] if inkdump else dumps
        for o in outs:
            subprocess.run([convert, track, "-o", o, "-q"] + ([] if inkdump else ["--layout"]) + ARGS + extra,
                           check=True)
        with open(outs[0], "rb") as a, open(outs[1], "rb") as b:
            same_bytes = a.read() == b.read()
        if inkdump:
            subprocess.run([inkdump, outs[0], "-o", dumps[0]], check=True)
            with open(outs[0], encoding="utf-8") as f:
                events = sum(1 for line in f if line.startswith("Dialogue:"))
        reports = [run_checker(c, dumps[0], "--strict" in extra) for c in checkers]
        if inkdump:
            # the ink dump's lines are pieces of events: the shown share is the events'
            for r in reports:
                r["events"] = events
    r = reports[0]
    r["deterministic"] = same_bytes
    r["checkers_agree"] = all(all(x.get(k) == r.get(k) for k in COMPARED) for x in reports[1:])
    return r


def count_comments(convert, track, cache={}):
    """How many comments the track holds (its layout dump's input_count)."""
    if track not in cache:
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "d.jsonl")
            subprocess.run([convert, track, "--layout", "-o", d, "-q"] + ARGS, check=True)
            with open(d, encoding="utf-8") as f:
                cache[track] = json.loads(f.readline())["input_count"]
    return cache[track]


def main(argv):
    args = argv[1:]
    markdown = "--markdown" in args
    generated = "--generated" in args
    checkers = [OWN_CHECKER]
    inkdump = args[args.index("--inkdump") + 1] if "--inkdump" in args else None
    if "--checker" in args:
        ref = args[args.index("--checker") + 1]
        if os.path.exists(ref):
            checkers.append(ref)
        else:
            print(f"note: {ref} is not there; the suite's own checker alone checks the dumps")
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] not in ("--checker", "--inkdump"))]
    if len(pos) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    convert, tracks_dir = pos
    if not os.path.isdir(tracks_dir):
        print(f"skipped: no tracks in {tracks_dir} (the real tracks come from ../shared/data/tracks; "
              "the generated ones are checked by generated_tracks_layout)")
        return 77
    refs = {}
    if not generated:
        refs = reference_figures(os.path.join(tracks_dir, "README.md"))
        if len(refs) < 4:
            print(f"could not read the reference figures from {tracks_dir}/README.md", file=sys.stderr)
            return 1
    tracks = sorted(f for f in os.listdir(tracks_dir) if f.endswith((".xml", ".json")) and f != "manifest.json")
    failures = []
    if markdown:
        print("| track | policy | shown | reference (danmaku2ass / DanmakuFactory) | overlaps | cross-mode | obstacle overlaps |")
        print("|---|---|---|---|---|---|---|")
    for name in tracks:
        runs = [("delay", [], None), ("drop", ["--overflow", "drop"], None), ("keep-off", ["--keep-off", KEEP_OFF], None),
                ("strict", ["--strict"], None)]
        if inkdump:
            runs += [("ass", [], inkdump), ("ass-strict", ["--strict"], inkdump)]
        for policy, extra, ink in runs:
            r = check(convert, checkers, os.path.join(tracks_dir, name), extra, ink)
            if ink:   # the share of comments the ASS file holds
                r["shown_fraction"] = round(r["events"] / count_comments(convert, os.path.join(tracks_dir, name)), 4)
                r["not_shown"] = "n/a"
            ref = refs.get(name)
            need = None
            if ref and policy in ("delay", "drop"):
                need = max(ref) if policy == "delay" else ref[0]
            ok = (r["overlaps"] == 0 and r["obstacle_overlaps"] == 0 and r["errors"] == 0 and r["exit"] == 0
                  and r["deterministic"] and r["checkers_agree"])
            ok = ok and (need is None or r["shown_fraction"] >= need)
            if policy == "keep-off":
                ok = ok and r["obstacles"] == 1
            if policy in ("strict", "ass-strict"):
                ok = ok and r["cross_mode_overlaps"] == 0
            if markdown:
                reftxt = f"{ref[0]*100:.1f} % / {ref[1]*100:.1f} %" if ref else "n/a"
                print(f"| {name} | {policy} | {r['shown_fraction']*100:.1f} % | {reftxt} | {r['overlaps']} | "
                      f"{r['cross_mode_overlaps']} | {r['obstacle_overlaps']} |")
            else:
                print(f"{'ok  ' if ok else 'FAIL'} {name:30} {policy:8} shown={r['shown_fraction']:.4f} "
                      f"(need {need if need is not None else 'n/a'}) overlaps={r['overlaps']} "
                      f"cross_mode={r['cross_mode_overlaps']} obstacle_overlaps={r['obstacle_overlaps']} errors={r['errors']} "
                      f"deterministic={r['deterministic']} checkers_agree={r['checkers_agree']} "
                      f"not_shown={r['not_shown']}")
            if not ok:
                failures.append(f"{name} {policy}")
    if failures:
        print("failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
