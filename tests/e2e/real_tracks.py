#!/usr/bin/env python3
"""Lay out every real track with danmaku-convert and check the dumps with the
independent checker: no same-mode overlap under the default policy and under
--overflow drop, and a shown fraction at least the reference converters'
figures (read from the tracks README at run time).

    real_tracks.py CONVERT TRACKS_DIR LAYOUT_CHECK [--markdown]

Exit status 0 when every check holds; prints one line per track and policy.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ARGS = ["--stage", "1920x1080", "--font-px", "48", "--scroll", "8", "--fixed", "4"]


def reference_figures(readme):
    """{track: (danmaku2ass_shown, danmakufactory_shown)} from the README table."""
    refs = {}
    row = re.compile(r"^\|\s*(\S+\.(?:xml|json))\s*\|\s*([\d.]+)\s*%\s*/\s*\d+\s*\|\s*([\d.]+)\s*%\s*/\s*\d+\s*\|")
    with open(readme, encoding="utf-8") as f:
        for line in f:
            m = row.match(line)
            if m:
                refs[m.group(1)] = (float(m.group(2)) / 100, float(m.group(3)) / 100)
    return refs


def check(convert, checker, track, policy):
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "dump.jsonl")
        cmd = [convert, track, "--layout", "-o", dump, "-q"] + ARGS
        if policy != "delay":
            cmd += ["--overflow", policy]
        subprocess.run(cmd, check=True)
        out = subprocess.run([checker, dump, "--json"], capture_output=True, text=True)
        report = json.loads(out.stdout.strip().splitlines()[-1])
        report["exit"] = out.returncode
        return report


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    convert, tracks_dir, checker = argv[1:4]
    markdown = "--markdown" in argv
    refs = reference_figures(os.path.join(tracks_dir, "README.md"))
    if len(refs) < 4:
        print(f"could not read the reference figures from {tracks_dir}/README.md", file=sys.stderr)
        return 1
    tracks = sorted(f for f in os.listdir(tracks_dir) if f.endswith((".xml", ".json")))
    failures = []
    if markdown:
        print("| track | policy | shown | reference (danmaku2ass / DanmakuFactory) | overlaps | mean delay ms | max delay ms |")
        print("|---|---|---|---|---|---|---|")
    for name in tracks:
        for policy in ("delay", "drop"):
            r = check(convert, checker, os.path.join(tracks_dir, name), policy)
            ref = refs.get(name)
            need = None
            if ref:
                need = max(ref) if policy == "delay" else ref[0]
            ok = r["overlaps"] == 0 and r["errors"] == 0 and r["exit"] == 0
            ok = ok and (need is None or r["shown_fraction"] >= need)
            if markdown:
                reftxt = f"{ref[0]*100:.1f} % / {ref[1]*100:.1f} %" if ref else "n/a"
                print(f"| {name} | {policy} | {r['shown_fraction']*100:.1f} % | {reftxt} | {r['overlaps']} | "
                      f"{r['mean_delay_ms']} | {r['max_delay_ms']} |")
            else:
                print(f"{'ok  ' if ok else 'FAIL'} {name:28} {policy:6} shown={r['shown_fraction']:.4f} "
                      f"(need {need if need is not None else 'n/a'}) overlaps={r['overlaps']} "
                      f"errors={r['errors']} mean_delay={r['mean_delay_ms']} max_delay={r['max_delay_ms']} "
                      f"not_shown={r['not_shown']}")
            if not ok:
                failures.append(f"{name} {policy}")
    if failures:
        print("failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
