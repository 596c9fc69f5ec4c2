#!/usr/bin/env bash
# bench-scale.sh - the comment bus under load, side by side with the single
# process, in one run: the same audience (danmaku-flood, CLIENTS connections
# sending RATE comments/s in all for BENCH_SECONDS) on
#   1. one player with its own --listen and --record (the default), and
#   2. a real nats-server -js, two danmaku-gate gateways (half the audience
#      each) and one player reading the stream (the screening's clock).
# Prints each flood's figures (accepted comments/s, ack latency percentiles,
# errors by code), the players' (comments shown, acceptance-to-screen
# latency), and checks that every acked comment of run 2 is in the stream.
#
#   tools/bench-scale.sh [BUILD_DIR]     (default: build)
#   CLIENTS=400 RATE=8000 BENCH_SECONDS=20 tools/bench-scale.sh build
set -euo pipefail

cd "$(dirname "$0")/.."
build=${1:-build}
clients=${CLIENTS:-400}
rate=${RATE:-4000}
secs=${BENCH_SECONDS:-15}
player="$build/renderer/player/danmaku"
gate="$build/tools/danmaku-gate"
flood="$build/tools/danmaku-flood"
convert="$build/tools/danmaku-convert"
nats=$(command -v nats-server || echo /usr/sbin/nats-server)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

for f in "$player" "$gate" "$flood" "$convert" "$nats"; do
  [ -x "$f" ] || { echo "bench-scale: $f not found (build first; nats-server: apt-get install nats-server)" >&2; exit 1; }
done
ulimit -n 8192 2>/dev/null || true
film_secs=$((secs + 20))
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=24" -t "$film_secs" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$work/film.mp4"
per_client=$(( (rate + clients - 1) / clients ))
limits=(--live-rate $((per_client * 2)) --live-burst $((per_client * 2))
        --live-per-address $((clients + 16)) --live-max-connections $((clients + 64)))

# wait_port FILE: the port a program printed ("live on port N")
wait_port() {
  for _ in $(seq 200); do
    grep -q "live on port" "$1" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/.*live on port \([0-9]*\).*/\1/p' "$1" | head -1
}

echo "== 1. the single process: danmaku --listen --record, $clients clients, $rate comments/s, $secs s"
"$player" "$work/film.mp4" --headless --size 1280x720 --until $((secs + 10)) --listen 127.0.0.1:0 \
  --record "$work/single.jsonl" --stats "${limits[@]}" 2> "$work/single.err" > /dev/null &
pids+=($!)
port=$(wait_port "$work/single.err")
"$flood" "ws://127.0.0.1:$port/ws" --clients "$clients" --rate "$rate" --seconds "$secs" | tee "$work/flood1.out"
wait "${pids[-1]}" || true
grep -E "danmaku: live:" "$work/single.err" | sed 's/; every comment.*//' || true

echo
echo "== 2. the comment bus: nats-server -js, 2 gateways ($((clients / 2)) clients each, $((rate / 2)) comments/s each), 1 player"
"$nats" -js -a 127.0.0.1 -p -1 -sd "$work/nats" > "$work/nats.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "Listening for client connections" "$work/nats.log" && break; sleep 0.1; done
nport=$(sed -n 's/.*Listening for client connections on [^ ]*:\([0-9]*\).*/\1/p' "$work/nats.log" | head -1)
bus="nats://127.0.0.1:$nport"
for g in 1 2; do
  "$gate" --listen 127.0.0.1:0 --bus "$bus" --screening bench "${limits[@]}" 2> "$work/gate$g.err" &
  pids+=($!)
done
gport1=$(wait_port "$work/gate1.err")
gport2=$(wait_port "$work/gate2.err")
"$player" "$work/film.mp4" --headless --size 1280x720 --until $((secs + 10)) --bus "$bus" --screening bench --clock \
  --stats 2> "$work/bus-player.err" > /dev/null &
pids+=($!)
pplayer=${pids[-1]}
wait_port "$work/bus-player.err" > /dev/null
"$flood" "ws://127.0.0.1:$gport1/ws" --clients $((clients / 2)) --rate $((rate / 2)) --seconds "$secs" \
  > "$work/flood2a.out" &
fa=$!
"$flood" "ws://127.0.0.1:$gport2/ws" --clients $((clients / 2)) --rate $((rate / 2)) --seconds "$secs" \
  > "$work/flood2b.out"
wait "$fa" || true
echo "-- gateway 1:"; cat "$work/flood2a.out"
echo "-- gateway 2:"; cat "$work/flood2b.out"
wait "$pplayer" || true
grep -E "danmaku: live:" "$work/bus-player.err" | sed 's/; every comment.*//' || true
"$convert" "$bus/bench" -o "$work/stream.jsonl" 2> "$work/convert.err" || cat "$work/convert.err" >&2
echo "in the stream: $(grep -c '"type":"comment"' "$work/stream.jsonl" || true) comments"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
