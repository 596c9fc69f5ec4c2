#!/usr/bin/env bash
# bench-scale.sh - the comment bus under load, side by side with the single
# process, in one run: the same audience (danmaku-flood, CLIENTS connections
# sending RATE comments/s in all for BENCH_SECONDS) on
#   1. one player with its own --listen and --record (the default), and
#   2. a real nats-server -js, two danmaku-gate gateways (half the audience
#      each) and one player reading the stream (the screening's clock).
#   3. (CLUSTER=1) the set-up of a big screening: three nats-server nodes in
#      one JetStream cluster (the stream with three replicas), four gateways
#      (a quarter of the audience each) and two players (one the clock).
# Prints each flood's figures (accepted comments/s, ack latency percentiles,
# errors by code), the players' (comments shown, acceptance-to-screen
# latency, frames and late frames), checks that every acked comment of runs
# 2 and 3 is in the stream, and for run 3 the CPU time and peak RSS of every
# process.
#
#   tools/bench-scale.sh [BUILD_DIR]     (default: build)
#   CLIENTS=400 RATE=8000 BENCH_SECONDS=20 tools/bench-scale.sh build
#   CLUSTER=1 CLIENTS=4000 RATE=8000 BENCH_SECONDS=30 tools/bench-scale.sh build
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
if [ "${CLUSTER:-0}" = 1 ]; then
  echo
  echo "== 3. a three-node JetStream cluster (R3), 4 gateways ($((clients / 4)) clients, $((rate / 4)) comments/s each), 2 players"
  ports=()
  for i in 1 2 3; do ports+=("$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"); done
  npids=()
  for i in 0 1 2; do
    routes=$(for j in 0 1 2; do [ "$j" = "$i" ] || printf 'nats://127.0.0.1:%s,' "${ports[$j]}"; done)
    "$nats" -js -a 127.0.0.1 -p -1 -sd "$work/n$i" --server_name "n$i" --cluster_name bench \
      --cluster "nats://127.0.0.1:${ports[$i]}" --routes "${routes%,}" > "$work/n$i.log" 2>&1 &
    pids+=($!); npids+=($!)
  done
  for _ in $(seq 300); do cat "$work"/n*.log | grep -q "metadata leader" && break; sleep 0.1; done
  cports=()
  for i in 0 1 2; do
    for _ in $(seq 100); do grep -q "Listening for client connections" "$work/n$i.log" && break; sleep 0.1; done
    cports+=("$(sed -n 's/.*Listening for client connections on [^ ]*:\([0-9]*\).*/\1/p' "$work/n$i.log" | head -1)")
  done
  cbus="nats://127.0.0.1:${cports[0]},nats://127.0.0.1:${cports[1]},nats://127.0.0.1:${cports[2]}"
  gpids=(); gports=()
  for g in 1 2 3 4; do
    "$gate" --listen 127.0.0.1:0 --bus "$cbus" --screening big --bus-replicas 3 "${limits[@]}" 2> "$work/cgate$g.err" &
    pids+=($!); gpids+=($!)
    gports+=("$(wait_port "$work/cgate$g.err")")
  done
  ppids=()
  for p in 1 2; do
    clock=(); [ "$p" = 1 ] && clock=(--clock)
    "$player" "$work/film.mp4" --headless --size 1280x720 --until $((secs + 10)) --bus "$cbus" --screening big \
      "${clock[@]}" --stats 2> "$work/cplayer$p.err" > /dev/null &
    pids+=($!); ppids+=($!)
    wait_port "$work/cplayer$p.err" > /dev/null
  done
  fpids=()
  for g in 0 1 2 3; do
    "$flood" "ws://127.0.0.1:${gports[$g]}/ws" --clients $((clients / 4)) --rate $((rate / 4)) --seconds "$secs" \
      > "$work/cflood$g.out" &
    fpids+=($!)
  done
  for f in "${fpids[@]}"; do wait "$f" || true; done
  # each process's CPU time (user + system, s) and peak RSS, read before any of them ends
  tick=$(getconf CLK_TCK)
  usage() {
    local name=$1 pid=$2 st hwm
    st=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || { echo "$name: gone"; return; }
    hwm=$(sed -n 's/^VmHWM:\s*//p' "/proc/$pid/status")
    echo "$name: cpu $(echo "$st" | awk -v t="$tick" '{printf "%.1f", ($1 + $2) / t}') s, peak rss $hwm"
  }
  for i in 0 1 2; do usage "nats-server n$i" "${npids[$i]}"; done
  for g in 0 1 2 3; do usage "gateway $((g + 1))" "${gpids[$g]}"; done
  for p in 0 1; do usage "player $((p + 1))" "${ppids[$p]}"; done
  for g in 0 1 2 3; do echo "-- gateway $((g + 1)):"; cat "$work/cflood$g.out"; done
  for p in 0 1; do wait "${ppids[$p]}" || true; done
  for p in 1 2; do
    echo "-- player $p:"
    grep -E "danmaku: live:|frames presented" "$work/cplayer$p.err" || true
  done
  "$convert" "nats://127.0.0.1:${cports[1]}/big" -o "$work/big.jsonl" 2> "$work/convert3.err" || cat "$work/convert3.err" >&2
  echo "in the stream (read from node 2): $(grep -c '"type":"comment"' "$work/big.jsonl" || true) comments"
fi
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
