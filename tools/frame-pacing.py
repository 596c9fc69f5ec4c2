#!/usr/bin/env python3
"""Smoothness figures from a player's --log-frames file.

    tools/frame-pacing.py FRAMES.log [--hz HZ]

The log's `present WALL TARGET FILM_T INDEX X` lines give, for each present,
when it returned, the time it was drawn for, the film time drawn and the x
of one tracked scrolling comment. Prints: presents, the refresh period
(--hz, else the median interval between presents), intervals of about two
periods or more (missed refreshes) and under half a period (doubled), and
for the tracked comment the deviation of each step from the ideal step
(its speed, fitted over its whole run, times the time between the presents
as the display showed them, rounded to whole periods).
"""
import statistics
import sys


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, hz = argv[1], None
    if "--hz" in argv:
        hz = float(argv[argv.index("--hz") + 1])
    rows = []
    for line in open(path):
        f = line.split()
        if f and f[0] == "present" and len(f) >= 6:
            rows.append((float(f[1]), float(f[2]), float(f[3]), int(f[4]), float(f[5])))
    if len(rows) < 3:
        print("frame-pacing: fewer than 3 presents in %s" % path, file=sys.stderr)
        return 1
    gaps = [b[0] - a[0] for a, b in zip(rows, rows[1:])]
    period = 1.0 / hz if hz else statistics.median(gaps)
    missed = sum(1 for g in gaps if g > period * 1.5)
    doubled = sum(1 for g in gaps if g < period * 0.5)
    devs = []
    # runs of one tracked comment: fit x = a + v * film_t, then compare each step with v * (whole periods)
    run = []
    for r in rows + [(0, 0, 0, -2, 0)]:
        if run and r[3] != run[-1][3]:
            if run[-1][3] >= 0 and len(run) > 3:
                ts, xs = [q[2] for q in run], [q[4] for q in run]
                mt, mx = statistics.fmean(ts), statistics.fmean(xs)
                var = sum((t - mt) ** 2 for t in ts)
                v = sum((t - mt) * (x - mx) for t, x in zip(ts, xs)) / var if var > 0 else 0
                for a, b in zip(run, run[1:]):
                    shown = round((b[0] - a[0]) / period) * period
                    devs.append(abs((b[4] - a[4]) - v * shown))
            run = []
        run.append(r)
    print("presents: %d over %.2f s, period %.3f ms (%.2f Hz)" % (len(rows), rows[-1][0] - rows[0][0], period * 1000,
                                                                   1 / period))
    print("missed refreshes (interval > 1.5 periods): %d, doubled (interval < 0.5 period): %d" % (missed, doubled))
    print("interval p50 / p99 / max: %.3f / %.3f / %.3f ms" % (statistics.median(gaps) * 1000,
                                                               sorted(gaps)[int(0.99 * (len(gaps) - 1))] * 1000,
                                                               max(gaps) * 1000))
    if devs:
        devs.sort()
        print("tracked comment: %d steps, deviation from the ideal step p50 / p99 / max: %.3f / %.3f / %.3f px" %
              (len(devs), devs[len(devs) // 2], devs[int(0.99 * (len(devs) - 1))], devs[-1]))
    else:
        print("tracked comment: none on screen long enough")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
