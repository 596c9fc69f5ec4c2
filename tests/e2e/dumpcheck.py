#!/usr/bin/env python3
"""The suite's own checker of layout dumps (LAYOUT-DUMP.md), written apart
from the engine, for clones that have no ../shared/tools/layout-check beside
them. Where that checker is there, the tests run both and require the same
counts.

    dumpcheck.py DUMP.jsonl [--json] [--strict]

Counts, among shown comments that are not positioned: same-mode pairs whose
boxes intersect by more than half a pixel while both are on screen
(overlaps), such pairs of different modes (cross_mode_overlaps), and
crossings of obstacle boxes (obstacle_overlaps); checks that every comment
has its line (input_count) and that shown ones have a box and a life.
Exit 0 when the dump is well formed with no overlap and no obstacle
crossing (with --strict: no cross-mode overlap either), 1 otherwise.
"""
import json
import sys
from collections import Counter

EPS = 0.5


def interval_where_positive(a0, a1, t0, t1):
    """Sub-interval of [t0, t1] where the linear function (a0 at t0, a1 at t1) exceeds 0, or None."""
    if a0 <= 0 and a1 <= 0:
        return None
    if a0 > 0 and a1 > 0:
        return (t0, t1)
    cross = t0 + (t1 - t0) * a0 / (a0 - a1)
    return (t0, cross) if a0 > 0 else (cross, t1)


def left(c, t):
    return c["x_start"] + (c["x_end"] - c["x_start"]) * (t - c["start_ms"]) / (c["end_ms"] - c["start_ms"])


def meet(a, b):
    """Do boxes a and b overlap by more than EPS px at some moment both are shown?"""
    t0, t1 = max(a["start_ms"], b["start_ms"]), min(a["end_ms"], b["end_ms"])
    if t1 <= t0:
        return False
    if min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]) <= EPS:
        return False
    lo, hi = t0, t1
    # b's right edge beyond a's left edge, and a's right edge beyond b's left edge
    for p, q in ((b, a), (a, b)):
        span = interval_where_positive(left(p, t0) + p["w"] - left(q, t0) - EPS,
                                       left(p, t1) + p["w"] - left(q, t1) - EPS, t0, t1)
        if span is None:
            return False
        lo, hi = max(lo, span[0]), min(hi, span[1])
    return hi - lo > 1e-6


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    stage, comments, obstacles, errors = None, [], [], []
    with open(argv[1], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                errors.append(f"line {n}: not JSON")
                continue
            kind = rec.get("type")
            if kind == "stage":
                stage = rec
            elif kind == "comment":
                comments.append(rec)
            elif kind == "obstacle":
                obstacles.append(dict(rec, x_start=rec.get("x"), x_end=rec.get("x"), mode="obstacle"))
            else:
                errors.append(f"line {n}: unknown type {kind!r}")
    if stage is None:
        errors.append("no stage line")
    elif stage.get("input_count") != len(comments):
        errors.append(f"input_count {stage.get('input_count')} but {len(comments)} comment lines")
    shown = []
    for c in comments:
        if not c.get("shown"):
            if not c.get("reason"):
                errors.append(f"comment {c.get('id')}: not shown and no reason")
            continue
        if not all(isinstance(c.get(k), (int, float)) for k in ("start_ms", "end_ms", "y", "w", "h", "x_start", "x_end")) \
                or c["end_ms"] <= c["start_ms"] or c["w"] <= 0 or c["h"] <= 0:
            errors.append(f"comment {c.get('id')}: shown without a box and a life")
            continue
        shown.append(c)
    moving = sorted((c for c in shown if c.get("mode") != "positioned"), key=lambda c: c["start_ms"])
    same = cross = 0
    on_screen = []
    for c in moving:
        on_screen = [a for a in on_screen if a["end_ms"] > c["start_ms"]]
        for a in on_screen:
            if meet(a, c):
                if a.get("mode") == c.get("mode"):
                    same += 1
                else:
                    cross += 1
        on_screen.append(c)
    hits = sum(1 for o in obstacles for c in moving if meet(o, c))
    report = {
        "comments": len(comments), "shown": len(shown),
        "shown_fraction": round(len(shown) / len(comments), 4) if comments else 0.0,
        "not_shown": dict(Counter(c.get("reason") for c in comments if not c.get("shown"))),
        "overlaps": same, "cross_mode_overlaps": cross, "obstacles": len(obstacles),
        "obstacle_overlaps": hits, "errors": len(errors),
    }
    if "--json" in argv:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for e in errors[:5]:
            print("error:", e)
        print(" ".join(f"{k}={v}" for k, v in report.items()))
    return 1 if same or hits or errors or ("--strict" in argv and cross) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
