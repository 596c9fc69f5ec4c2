#!/usr/bin/env bash
# bench-render.sh - the burn-in benchmark: what drawing comments costs in
# danmaku-render against ffmpeg's ass filter (libass) with the same track
# converted to ASS (danmaku-convert, same layout), on the same film, and full
# H.264 encodes of both at the same x264 preset and CRF.
#
#   tools/bench-render.sh [BUILD_DIR]        (default: build)
#
# Environment: BENCH_SECONDS (film length, default 20), BENCH_REPS (runs of
# each null measurement, best kept, default 3), BENCH_ENC_REPS (runs of each
# encode, default 2), BENCH_PRESET (default veryfast), BENCH_CRF (default 23),
# BENCH_SIZES (default "1280x720 1920x1080"), BENCH_SUBS_SIZES (sizes of the
# second table, with film subtitles; default 1920x1080, "" for none).
#
# Films and tracks are made at run time: testsrc2 with a sine tone, and
# synthetic dense tracks of short comments. Prints a Markdown table.
set -euo pipefail

BUILD=${1:-build}
RENDER=$BUILD/tools/danmaku-render
CONVERT=$BUILD/tools/danmaku-convert
LEN=${BENCH_SECONDS:-20}
REPS=${BENCH_REPS:-3}
ENC_REPS=${BENCH_ENC_REPS:-2}
PRESET=${BENCH_PRESET:-veryfast}
CRF=${BENCH_CRF:-23}
SIZES=${BENCH_SIZES:-"1280x720 1920x1080"}
SUBS_SIZES=${BENCH_SUBS_SIZES-1920x1080}
# name:comments per second:overflow policy. The layout caps what fits: 800 on
# screen needs short comments on the second (overlay) layer.
DENSITIES=${BENCH_DENSITIES:-"50:8:delay 200:32:delay 800:200:overlay"}

for p in "$RENDER" "$CONVERT"; do
  [ -x "$p" ] || { echo "bench-render: $p not found; build first (cmake --build $BUILD)" >&2; exit 1; }
done
command -v ffmpeg >/dev/null || { echo "bench-render: ffmpeg not found" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# seconds of wall, user+sys CPU of one run, as "WALL CPU"
run_time() {
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" >/dev/null 2>"$WORK/stderr" ; } 2>&1 ) || { cat "$WORK/stderr" >&2; return 1; }
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<<"$t"
}

# "WALL CPU" lines on standard input -> the least wall time and the least CPU time
least() {
  awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $2 < c { c = $2 } END { printf "%.3f %.3f\n", w, c }'
}

make_track() {   # RATE OUT
  python3 - "$1" "$LEN" "$2" <<'EOF'
import random, sys
rate, seconds, out = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
random.seed(7)
words = ["233333", "草", "前方高能", "awsl", "哈哈哈哈", "好耶", "yyds", "wow", "nice", "来了", "泪目", "打卡",
         "666", "kksk", "hhhh", "确实", "太强了", "第一", "lol", "gg", "神回", "可爱", "?", "!!!"]
colours = [16777215] * 6 + [16711680, 65280, 255, 16776960, 16711935, 65535, 0]
with open(out, "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<i>\n')
    for i in range(int(rate * seconds)):
        mode = random.choices([1, 5, 4], [90, 5, 5])[0]
        size = random.choices([25, 18, 36], [80, 12, 8])[0]
        f.write('<d p="%.3f,%d,%d,%d,0,0,u%d,%d,5">%s</d>\n'
                % (i / rate, mode, size, random.choice(colours), i % 97, i, random.choice(words)))
    f.write("</i>\n")
EOF
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "Machine: $(nproc) cores, $cpu; $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo "Films: testsrc2 ${LEN} s at 24 fps (H.264, with AAC sound). Seconds of wall time (CPU seconds, user + system"
echo "in brackets), each the least of $REPS interleaved runs ($ENC_REPS for encodes); encodes: libx264 -preset $PRESET"
echo "-crf $CRF, sound copied. Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| size | comments on screen (target: mean) | (1) decode | (2) ffmpeg + ass, null | (3) danmaku-render --null | overlay cost (2)-(1) / (3)-(1), wall | same, CPU | (4) ffmpeg + ass encode | (4) danmaku-render encode |"
echo "|---|---|---|---|---|---|---|---|---|"
for size in $SIZES; do
  w=${size%x*} h=${size#*x}
  film=$WORK/film-$size.mp4
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=${size}:rate=24:duration=$LEN" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$LEN" \
    -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -c:a aac "$film"
  font_px=$(awk -v h="$h" 'BEGIN { printf "%d", h / 22.5 + 0.5 }')
  : >"$WORK/dec"
  for _ in $(seq "$REPS"); do run_time ffmpeg -v error -i "$film" -an -f null - >>"$WORK/dec"; done
  dec=$(least <"$WORK/dec")
  for d in $DENSITIES; do
    IFS=: read -r name rate policy <<<"$d"
    track=$WORK/track-$rate.xml
    [ -f "$track" ] || make_track "$rate" "$track"
    ass=$WORK/track-$rate-$size.ass
    "$CONVERT" "$track" -o "$ass" --stage "$size" --font-px "$font_px" --overflow "$policy" -q
    # interleaved, so a burst of load elsewhere hits both sides alike
    : >"$WORK/lass"; : >"$WORK/ours"; : >"$WORK/eff"; : >"$WORK/eus"
    for _ in $(seq "$REPS"); do
      run_time ffmpeg -v error -i "$film" -an -vf "ass=$ass" -f null - >>"$WORK/lass"
      run_time "$RENDER" "$film" --track "$track" --null --overflow "$policy" >>"$WORK/ours"
    done
    for _ in $(seq "$ENC_REPS"); do
      run_time ffmpeg -v error -y -i "$film" -vf "ass=$ass" -c:v libx264 -preset "$PRESET" -crf "$CRF" \
        -c:a copy "$WORK/ff.mp4" >>"$WORK/eff"
      run_time "$RENDER" "$film" --track "$track" -o "$WORK/us.mp4" --overflow "$policy" --preset "$PRESET" \
        --crf "$CRF" >>"$WORK/eus"
    done
    lass=$(least <"$WORK/lass"); ours=$(least <"$WORK/ours"); enc_ff=$(least <"$WORK/eff"); enc_us=$(least <"$WORK/eus")
    onscreen=$("$RENDER" "$film" --track "$track" --null --overflow "$policy" --stats 2>&1 |
               sed -n 's/.* \([0-9.]*\) on screen per frame.*/\1/p')
    awk -v size="$size" -v name="$name" -v on="$onscreen" -v dec="$dec" -v lass="$lass" -v ours="$ours" \
        -v eff="$enc_ff" -v eus="$enc_us" 'BEGIN {
      split(dec, D, " "); split(lass, L, " "); split(ours, O, " "); split(eff, F, " "); split(eus, U, " ")
      # an overlay cost below the timer noise is shown as "< 0.01 s"
      cw = L[1] - D[1]; ow = O[1] - D[1]; cc = L[2] - D[2]; oc = O[2] - D[2]
      rw = ow > 0.01 ? sprintf("%.2f / %.2f s = %.0fx", cw, ow, cw / ow) : sprintf("%.2f / <0.01 s = >%.0fx", cw, cw / 0.01)
      rc = oc > 0.01 ? sprintf("%.2f / %.2f s = %.0fx", cc, oc, cc / oc) : sprintf("%.2f / <0.01 s = >%.0fx", cc, cc / 0.01)
      printf "| %s | ~%s: %s | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %s | %s | %.2f (%.2f) | %.2f (%.2f) |\n", \
        size, name, on, D[1], D[2], L[1], L[2], O[1], O[2], rw, rc, F[1], F[2], U[1], U[2]
    }'
  done
done

[ -n "$SUBS_SIZES" ] || exit 0

# The same with the film's subtitles, a SubRip dialogue (a line every 4 s, shown 3.2 s, two rows every
# third): ffmpeg draws the comments' ASS (laid out around the subtitles by danmaku-convert --sub) and the
# subtitles with its subtitles filter, danmaku-render draws both (--sub).
make_dialogue() {   # OUT
  python3 - "$LEN" "$1" <<'EOF'
import sys
seconds, out = int(float(sys.argv[1])), sys.argv[2]
def stamp(s):
    ms = int(round(s * 1000))
    return "%02d:%02d:%02d,%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)
with open(out, "w", encoding="utf-8") as f:
    for i, t in enumerate(range(1, seconds, 4)):
        text = "Line %d of the dialogue" % i + ("\nand its second row" if i % 3 == 0 else "")
        f.write("%d\n%s --> %s\n%s\n\n" % (i + 1, stamp(t), stamp(t + 3.2), text))
EOF
}
echo
echo "With the film's subtitles (SubRip dialogue, a line every 4 s): ffmpeg -vf \"ass=TRACK.ass,subtitles=FILM.srt\""
echo "against danmaku-render --sub FILM.srt; the subtitles' own share of danmaku-render's compose time from --stats."
echo
echo "| size | comments on screen | (1) decode | (2) ffmpeg + ass + subtitles, null | (3) danmaku-render --sub --null | overlay cost (2)-(1) / (3)-(1), wall | same, CPU | subtitles per frame (danmaku-render) |"
echo "|---|---|---|---|---|---|---|---|"
for size in $SUBS_SIZES; do
  w=${size%x*} h=${size#*x}
  film=$WORK/film-$size.mp4
  [ -f "$film" ] || ffmpeg -v error -y -f lavfi -i "testsrc2=size=${size}:rate=24:duration=$LEN" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$LEN" \
    -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p -c:a aac "$film"
  srt=$WORK/film-$size.srt
  make_dialogue "$srt"
  font_px=$(awk -v h="$h" 'BEGIN { printf "%d", h / 22.5 + 0.5 }')
  : >"$WORK/dec"
  for _ in $(seq "$REPS"); do run_time ffmpeg -v error -i "$film" -an -f null - >>"$WORK/dec"; done
  dec=$(least <"$WORK/dec")
  for d in $DENSITIES; do
    IFS=: read -r name rate policy <<<"$d"
    track=$WORK/track-$rate.xml
    [ -f "$track" ] || make_track "$rate" "$track"
    ass=$WORK/track-$rate-$size-subs.ass
    "$CONVERT" "$track" -o "$ass" --stage "$size" --font-px "$font_px" --overflow "$policy" --sub "$srt" -q
    : >"$WORK/lass"; : >"$WORK/ours"
    for _ in $(seq "$REPS"); do
      run_time ffmpeg -v error -i "$film" -an -vf "ass=$ass,subtitles=$srt" -f null - >>"$WORK/lass"
      run_time "$RENDER" "$film" --track "$track" --sub "$srt" --null --overflow "$policy" >>"$WORK/ours"
    done
    lass=$(least <"$WORK/lass"); ours=$(least <"$WORK/ours")
    stats=$("$RENDER" "$film" --track "$track" --sub "$srt" --null --overflow "$policy" --stats 2>&1)
    onscreen=$(sed -n 's/.* \([0-9.]*\) on screen per frame.*/\1/p' <<<"$stats")
    subms=$(sed -n 's/.*subtitles \([0-9.]*\)).*/\1/p' <<<"$stats")
    awk -v size="$size" -v name="$name" -v on="$onscreen" -v dec="$dec" -v lass="$lass" -v ours="$ours" \
        -v subms="$subms" 'BEGIN {
      split(dec, D, " "); split(lass, L, " "); split(ours, O, " ")
      cw = L[1] - D[1]; ow = O[1] - D[1]; cc = L[2] - D[2]; oc = O[2] - D[2]
      rw = ow > 0.01 ? sprintf("%.2f / %.2f s = %.0fx", cw, ow, cw / ow) : sprintf("%.2f / <0.01 s = >%.0fx", cw, cw / 0.01)
      rc = oc > 0.01 ? sprintf("%.2f / %.2f s = %.0fx", cc, oc, cc / oc) : sprintf("%.2f / <0.01 s = >%.0fx", cc, cc / 0.01)
      printf "| %s | ~%s: %s | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) | %s | %s | %s ms |\n", \
        size, name, on, D[1], D[2], L[1], L[2], O[1], O[2], rw, rc, subms
    }'
  done
done
