#!/usr/bin/env bash
# soak-live.sh - memory over a long live flood: danmaku-flood plays an
# audience of CLIENTS connections sending RATE comments/s in all for
# SOAK_SECONDS against TARGET, whose resident memory is sampled every second
# into OUT/rss.csv and drawn into OUT/rss.png (tools/plot-rss.py).
#
#   TARGET=net     the live feed alone (bench-net-soak: dm_net with a drain
#                  loop standing for the render thread), the default
#   TARGET=player  the player, headless, with --listen and --record
#
#   tools/soak-live.sh [BUILD_DIR]        (default: build)
#   SOAK_SECONDS=600 CLIENTS=100 RATE=2000 WARMUP=60 OUT=soak TARGET=net tools/soak-live.sh build
#
# With CHECK_MB set, exits 1 if RSS grows by more than that after WARMUP
# seconds (max - min): the ctest soak test uses it. SOAK_SKIP (a reason):
# says it and exits 77 (skipped) instead.
set -euo pipefail

cd "$(dirname "$0")/.."
build=${1:-build}
secs=${SOAK_SECONDS:-600}
clients=${CLIENTS:-100}
rate=${RATE:-2000}
warmup=${WARMUP:-60}
target=${TARGET:-net}
out=${OUT:-soak-$target}
flood="$build/tools/danmaku-flood"
mkdir -p "$out"
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi' EXIT

if [ -n "${SOAK_SKIP:-}" ]; then
  echo "SKIP: $SOAK_SKIP"
  exit 77
fi
[ -x "$flood" ] || { echo "soak-live: $flood not built" >&2; exit 1; }
ulimit -n 8192 2>/dev/null || true
rm -f "$out/rss.csv" "$out/rec.jsonl"
case "$target" in
net)
  "$build/tools/bench-net-soak" --seconds $((secs + 5)) --csv "$out/rss.csv" --record "$out/rec.jsonl" \
    --web assets/web 2> "$out/target.err" &
  pid=$!
  ;;
player)
  film="$out/film.mp4"
  [ -f "$film" ] || ffmpeg -v error -f lavfi -i "testsrc2=size=640x360:rate=24" -t $((secs + 30)) \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$film"
  "$build/renderer/player/danmaku" "$film" --headless --size 1280x720 --until $((secs + 5)) \
    --listen 127.0.0.1:0 --record "$out/rec.jsonl" --live-rate 1000 --live-burst 1000 \
    --live-per-address $((clients + 16)) --live-max-connections $((clients + 64)) 2> "$out/target.err" > /dev/null &
  pid=$!
  ;;
*)
  echo "soak-live: TARGET is net or player, not $target" >&2
  exit 2
  ;;
esac
for _ in $(seq 200); do
  grep -q "live on port" "$out/target.err" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*live on port \([0-9]*\).*/\1/p' "$out/target.err" | head -n 1)
[ -n "$port" ] || { cat "$out/target.err" >&2; exit 1; }
if [ "$target" = player ]; then
  # sampled from outside: /proc/PID/status, once a second
  ( echo "seconds,rss_kib"; t=0
    while kill -0 "$pid" 2>/dev/null; do
      r=$(sed -n 's/^VmRSS:\s*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$r" ] && echo "$t,$r"
      sleep 1; t=$((t + 1))
    done ) > "$out/rss.csv" &
fi
echo "== danmaku-flood ws://127.0.0.1:$port/ws --clients $clients --rate $rate --seconds $secs ($target)"
"$flood" "ws://127.0.0.1:$port/ws" --clients "$clients" --rate "$rate" --seconds "$secs" | tail -n 4
wait "$pid" || true
pid=
echo "recorded comments: $(grep -c '"type":"comment"' "$out/rec.jsonl" || true)"
python3 tools/plot-rss.py "$out/rss.csv" "$out/rss.png" --title "$target soak" --warmup "$warmup" | tee "$out/summary.txt"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
if [ -n "${CHECK_MB:-}" ]; then
  growth=$(sed -n 's/.*growth after [0-9]* s: \([0-9.]*\) MiB.*/\1/p' "$out/summary.txt")
  if awk -v g="$growth" -v c="$CHECK_MB" 'BEGIN { exit !(g > c) }'; then
    echo "soak-live: RSS grew by $growth MiB after $warmup s (more than $CHECK_MB MiB)" >&2
    exit 1
  fi
  echo "soak-live: RSS flat within $CHECK_MB MiB after $warmup s (grew $growth MiB)"
fi
