#!/usr/bin/env bash
# Throughput of tether against libmosquitto and Paho C, in the same run: each client in
# turn, RUNS times, for QoS 0/1/2 and 64 B / 4 KiB payloads, (a) into the sink (the
# client's own cost) and (b) through a local mosquitto. Prints medians and the ratios
# tether/peer. Never fails on speed; fails only if a program does.
#
#   bash scripts/bench.sh                 # 5 runs of 100,000 messages each
#   RUNS=9 COUNT=200000 bash scripts/bench.sh
#   bash scripts/bench.sh --tiny          # CI: does every program build and complete?
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
count=${COUNT:-100000}
inflight=${INFLIGHT:-1000}
sizes=${SIZES:-"64 4096"}
if [ "${1:-}" = "--tiny" ]; then runs=1 count=2000 sizes=64; fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tether bench_sink peer_mosquitto peer_paho >/dev/null

work=$(mktemp -d)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
./build/bench/bench_sink 0 >"$work/sink.port" &
sink=$!
mport=$(free_port)
# Nagle off on the broker (set_tcp_nodelay): with it on, small acknowledgements wait for
# delayed ACKs and every client measures the same 40 ms stalls instead of itself.
printf 'user root\nlistener %s 127.0.0.1\nallow_anonymous true\nlog_dest none\nset_tcp_nodelay true\n' "$mport" \
  >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" 2>/dev/null &
broker=$!
trap 'kill $sink $broker 2>/dev/null; wait $sink $broker 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.05; done
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null && break; sleep 0.05; done
sport=$(cat "$work/sink.port")

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $runs runs each, $count messages, window $inflight; clients alternate within each run"
results="$work/results"
for target in sink mosquitto; do
  port=$sport
  [ "$target" = mosquitto ] && port=$mport
  for size in $sizes; do
    for qos in 0 1 2; do
      for run in $(seq "$runs"); do
        for client in tether libmosquitto paho; do
          case $client in
            tether) line=$(timeout 300 ./build/tools/tether bench pub --host 127.0.0.1 --port "$port" --qos "$qos" \
                             --count "$count" --size "$size" --inflight "$inflight") ;;
            libmosquitto) line=$(timeout 300 ./build/bench/peer_mosquitto 127.0.0.1 "$port" "$qos" "$count" "$size" "$inflight") ;;
            paho) line=$(timeout 300 ./build/bench/peer_paho 127.0.0.1 "$port" "$qos" "$count" "$size" "$inflight") ;;
          esac
          echo "target=$target $line" >>"$results"
        done
      done
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    key = (f["target"], int(f["size"]), int(f["qos"]))
    per_msg_cpu_us = float(f["cpu_s"]) / int(f["count"]) * 1e6
    rows.setdefault(key, {}).setdefault(f["client"], []).append((float(f["msgs_per_s"]), per_msg_cpu_us))
print(f"{'target':<10}{'size':>6}{'qos':>4}{'tether msg/s':>14}{'libmosq msg/s':>15}{'paho msg/s':>12}"
      f"{'t/libmosq':>11}{'t/paho':>9}{'cpu us/msg t':>14}{'cpu us/msg m':>14}")
for (target, size, qos), by in sorted(rows.items()):
    med = {c: statistics.median(v[0] for v in vals) for c, vals in by.items()}
    cpu = {c: statistics.median(v[1] for v in vals) for c, vals in by.items()}
    t, m, p = med.get("tether", 0), med.get("libmosquitto", 0), med.get("paho", 0)
    print(f"{target:<10}{size:>6}{qos:>4}{t:>14,.0f}{m:>15,.0f}{p:>12,.0f}"
          f"{(t / m if m else 0):>10.2f}x{(t / p if p else 0):>8.2f}x"
          f"{cpu.get('tether', 0):>14.2f}{cpu.get('libmosquitto', 0):>14.2f}")
PY
