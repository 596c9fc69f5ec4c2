#!/usr/bin/env python3
"""plot-rss.py - draw a soak test's memory curve as a PNG, with nothing but
the standard library (zlib and struct write the PNG; digits and labels come
from a 3x5 pixel font below).

    tools/plot-rss.py rss.csv rss.png [--title "net soak"] [--warmup 60]

rss.csv has a header line, then "seconds,rss_kib[,...]" (bench-net-soak and
tools/soak-live.sh write it). The curve is RSS in MiB against time; a grey
line marks the end of the warm-up, and the title line says the growth after
it (max - min of RSS after the warm-up). Prints that figure too.
"""
import argparse
import struct
import sys
import zlib

W, H = 800, 400
ML, MR, MT, MB = 60, 20, 30, 40  # margins: left, right, top, bottom

FONT = {  # 3x5, rows top to bottom, bits left to right
    '0': (7, 5, 5, 5, 7), '1': (2, 6, 2, 2, 7), '2': (7, 1, 7, 4, 7), '3': (7, 1, 7, 1, 7),
    '4': (5, 5, 7, 1, 1), '5': (7, 4, 7, 1, 7), '6': (7, 4, 7, 5, 7), '7': (7, 1, 1, 1, 1),
    '8': (7, 5, 7, 5, 7), '9': (7, 5, 7, 1, 7), '.': (0, 0, 0, 0, 2), ' ': (0, 0, 0, 0, 0),
    '-': (0, 0, 7, 0, 0), '+': (0, 2, 7, 2, 0), ':': (0, 2, 0, 2, 0), '(': (1, 2, 2, 2, 1),
    ')': (4, 2, 2, 2, 4), '/': (1, 1, 2, 4, 4), ',': (0, 0, 0, 2, 4),
}
for ch, rows in {
    'A': (2, 5, 7, 5, 5), 'B': (6, 5, 6, 5, 6), 'C': (7, 4, 4, 4, 7), 'D': (6, 5, 5, 5, 6), 'E': (7, 4, 6, 4, 7),
    'F': (7, 4, 6, 4, 4), 'G': (7, 4, 5, 5, 7), 'H': (5, 5, 7, 5, 5), 'I': (7, 2, 2, 2, 7), 'K': (5, 5, 6, 5, 5),
    'L': (4, 4, 4, 4, 7), 'M': (5, 7, 7, 5, 5), 'N': (6, 5, 5, 5, 5), 'O': (7, 5, 5, 5, 7), 'P': (7, 5, 7, 4, 4),
    'R': (7, 5, 6, 5, 5), 'S': (7, 4, 7, 1, 7), 'T': (7, 2, 2, 2, 2), 'U': (5, 5, 5, 5, 7), 'V': (5, 5, 5, 5, 2),
    'W': (5, 5, 7, 7, 5), 'X': (5, 5, 2, 5, 5), 'Y': (5, 5, 2, 2, 2), 'Z': (7, 1, 2, 4, 7),
}.items():
    FONT[ch] = rows


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b'\xff' * (w * h * 3))

    def dot(self, x, y, rgb):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(rgb)

    def line(self, x0, y0, x1, y1, rgb):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.dot(x0, y0, rgb)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x, y, s, rgb, scale=2):
        for ch in s.upper():
            rows = FONT.get(ch, FONT[' '])
            for r, bits in enumerate(rows):
                for c in range(3):
                    if bits & (4 >> c):
                        for a in range(scale):
                            for b in range(scale):
                                self.dot(x + c * scale + a, y + r * scale + b, rgb)
            x += 4 * scale

    def png(self):
        raw = b''.join(b'\x00' + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))

        def chunk(tag, data):
            return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)
        return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', self.w, self.h, 8, 2, 0, 0, 0)) +
                chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def nice_step(span, ticks=5):
    raw = span / ticks if span > 0 else 1
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def main():
    ap = argparse.ArgumentParser(description='Draw a soak test\'s RSS curve as a PNG.')
    ap.add_argument('csv')
    ap.add_argument('png')
    ap.add_argument('--title', default='RSS')
    ap.add_argument('--warmup', type=float, default=60.0, help='seconds before the curve should be flat')
    a = ap.parse_args()
    pts = []
    with open(a.csv) as f:
        next(f, None)
        for line in f:
            p = line.strip().split(',')
            if len(p) >= 2 and p[0] and p[1] and float(p[1]) > 0:
                pts.append((float(p[0]), float(p[1]) / 1024.0))
    if len(pts) < 2:
        sys.exit('plot-rss: %s: fewer than two samples' % a.csv)
    after = [m for t, m in pts if t >= a.warmup] or [m for _, m in pts]
    growth = max(after) - min(after)
    t_max = pts[-1][0]
    lo = min(m for _, m in pts)
    hi = max(m for _, m in pts)
    step = nice_step(max(hi - lo, 1.0))
    lo = step * int(lo / step)
    hi = lo + step * (int((hi - lo) / step) + 1)
    cv = Canvas(W, H)
    fx = lambda t: ML + int((W - ML - MR) * t / t_max)
    fy = lambda m: H - MB - int((H - MT - MB) * (m - lo) / (hi - lo))
    grey, black, blue = (200, 200, 200), (0, 0, 0), (30, 90, 200)
    y = lo
    while y <= hi + 1e-9:
        cv.line(ML, fy(y), W - MR, fy(y), grey)
        cv.text(4, fy(y) - 5, ('%.0f' % y) if step >= 1 else ('%.1f' % y), black)
        y += step
    tstep = nice_step(t_max, 8)
    t = 0.0
    while t <= t_max + 1e-9:
        cv.line(fx(t), H - MB, fx(t), H - MB + 4, black)
        cv.text(fx(t) - 8, H - MB + 8, '%.0f' % t, black)
        t += tstep
    if 0 < a.warmup < t_max:
        cv.line(fx(a.warmup), MT, fx(a.warmup), H - MB, (160, 160, 160))
    cv.line(ML, MT, ML, H - MB, black)
    cv.line(ML, H - MB, W - MR, H - MB, black)
    for (t0, m0), (t1, m1) in zip(pts, pts[1:]):
        cv.line(fx(t0), fy(m0), fx(t1), fy(m1), blue)
        cv.line(fx(t0), fy(m0) + 1, fx(t1), fy(m1) + 1, blue)
    cv.text(ML, 8, '%s: RSS MIB / SECONDS, +%.1f MIB AFTER %.0f S' % (a.title, growth, a.warmup), black)
    with open(a.png, 'wb') as f:
        f.write(cv.png())
    print('plot-rss: %d samples over %.0f s, RSS %.1f-%.1f MiB, growth after %.0f s: %.2f MiB -> %s' % (
        len(pts), t_max, min(m for _, m in pts), max(m for _, m in pts), a.warmup, growth, a.png))


if __name__ == '__main__':
    main()
