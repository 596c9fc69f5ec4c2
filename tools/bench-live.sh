#!/usr/bin/env bash
# bench-live.sh - the live feed under load: a headless screening with a live
# feed on loopback, and danmaku-flood playing an audience of CLIENTS
# connections sending RATE comments/s in all for BENCH_SECONDS. Prints the flood's
# figures (accepted rate, ack latency) and the player's (acceptance-to-screen
# latency, late frames, dropped video frames, peak RSS).
#
#   tools/bench-live.sh [BUILD_DIR]     (default: build)
#   CLIENTS=1000 RATE=10000 BENCH_SECONDS=30 SIZE=1920x1080 tools/bench-live.sh build
#   PLAYER_ARGS="--overflow drop" tools/bench-live.sh build   (more player options)
set -euo pipefail

cd "$(dirname "$0")/.."
build=${1:-build}
clients=${CLIENTS:-1000}
rate=${RATE:-10000}
secs=${BENCH_SECONDS:-30}
size=${SIZE:-1920x1080}
player="$build/renderer/player/danmaku"
flood="$build/tools/danmaku-flood"
work=$(mktemp -d)
trap 'kill "$ppid" 2>/dev/null || true; rm -rf "$work"' EXIT
ppid=

for f in "$player" "$flood"; do
  [ -x "$f" ] || { echo "bench-live: $f not built" >&2; exit 1; }
done
ulimit -n 8192 2>/dev/null || true

# a film longer than the run (the bundled demo lasts 30 s)
film_secs=$((secs + 20))
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=24" -t "$film_secs" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$work/film.mp4"

# per client: RATE/CLIENTS comments/s; the limits leave room for that and a burst
per_client=$(( (rate + clients - 1) / clients ))
/usr/bin/time -v "$player" "$work/film.mp4" --headless --size "$size" --until $((secs + 12)) \
  --listen 127.0.0.1:0 --record "$work/rec.jsonl" --stats \
  --live-rate $((per_client * 2)) --live-burst $((per_client * 2)) \
  --live-per-address $((clients + 16)) --live-max-connections $((clients + 64)) ${PLAYER_ARGS:-} \
  2> "$work/player.err" > /dev/null &
ppid=$!
for _ in $(seq 100); do
  grep -q "live on port" "$work/player.err" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*live on port \([0-9]*\).*/\1/p' "$work/player.err")
[ -n "$port" ] || { cat "$work/player.err" >&2; exit 1; }

echo "== danmaku-flood ws://127.0.0.1:$port/ws --clients $clients --rate $rate --seconds $secs"
"$flood" "ws://127.0.0.1:$port/ws" --clients "$clients" --rate "$rate" --seconds "$secs"
wait "$ppid" || true
ppid=
echo "== player ($size, headless, real time)"
grep -E "danmaku: (live|[0-9]+ frames)" "$work/player.err" || cat "$work/player.err"
sed -n 's/^\s*Maximum resident set size (kbytes): \([0-9]*\)/peak RSS: \1 KiB/p' "$work/player.err"
echo "recorded comments: $(grep -c '"type":"comment"' "$work/rec.jsonl")"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
