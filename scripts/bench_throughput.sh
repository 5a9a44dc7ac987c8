#!/usr/bin/env bash
# Throughput of tether against libmosquitto and Paho C, in the same run: each client in
# turn, RUNS times, for QoS 0/1/2 and 64 B / 4 KiB payloads, (a) into the sink (the
# client's own cost) and (b) through a local mosquitto. Prints medians and the ratios
# tether/peer. Never fails on speed; fails only if a program does.
#
#   bash scripts/bench_throughput.sh            # 5 runs of 100,000 messages each
#   RUNS=9 COUNT=200000 bash scripts/bench_throughput.sh
#   bash scripts/bench_throughput.sh --tiny     # CI: does every program build and complete?
set -euo pipefail

runs=${RUNS:-5}
count=${COUNT:-100000}
inflight=${INFLIGHT:-1000}
sizes=${SIZES:-"64 4096"}
if [ "${1:-}" = "--tiny" ]; then runs=1 count=2000 sizes=64; fi

# shellcheck source=scripts/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
bench_build tether bench_sink peer_mosquitto peer_paho

./build/bench/bench_sink 0 >"$work/sink.port" &
bench_pids+=($!)
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.05; done
sport=$(cat "$work/sink.port")
start_mosquitto
mport=$mosquitto_port

machine_line
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
