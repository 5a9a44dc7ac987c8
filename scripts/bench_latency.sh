#!/usr/bin/env bash
# Round-trip latency publisher -> mosquitto -> subscriber for tether, libmosquitto and
# Paho C, in the same run: QoS 0/1/2, one message at a time and at a fixed rate. Each
# client runs RUNS times, alternating; prints the medians of p50 and p99 over the runs
# (microseconds) and the ratios tether/peer (below 1: tether is faster).
# Never fails on speed; fails only if a program does.
#
#   bash scripts/bench_latency.sh                  # 5 runs of 5,000 messages, rate 1,000/s
#   RUNS=9 LATENCY_COUNT=10000 RATE=5000 bash scripts/bench_latency.sh
#   bash scripts/bench_latency.sh --tiny           # CI: does every program build and complete?
set -euo pipefail

runs=${RUNS:-5}
count=${LATENCY_COUNT:-5000}
rate=${RATE:-1000}
size=${SIZE:-64}
if [ "${1:-}" = "--tiny" ]; then runs=1 count=200; fi

# shellcheck source=scripts/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
bench_build tether lat_mosquitto lat_paho
# The broker on one CPU and the client process on another, for every client alike: left
# to the scheduler, a run lands either on one CPU (about 15 us a round trip) or across two
# (about 70 us, a wake-up of an idle CPU in this VM), and the medians measure that.
pin=()
if [ "$(nproc)" -ge 2 ]; then
  broker_cpu=1
  pin=(taskset -c 0)
fi
start_mosquitto
port=$mosquitto_port

machine_line
echo "# $runs runs each, $count messages of $size B after 200 to warm up; fixed rate $rate/s; clients alternate"
[ ${#pin[@]} -gt 0 ] && echo "# broker on CPU 1, clients on CPU 0"
results="$work/results"
for mode in 0 "$rate"; do
  for qos in 0 1 2; do
    for _ in $(seq "$runs"); do
      for client in tether libmosquitto paho; do
        case $client in
          tether) line=$(timeout 300 "${pin[@]}" ./build/tools/tether bench latency --host 127.0.0.1 --port "$port" --qos "$qos" \
                           --count "$count" --size "$size" --rate "$mode") ;;
          libmosquitto) line=$(timeout 300 "${pin[@]}" ./build/bench/lat_mosquitto 127.0.0.1 "$port" "$qos" "$count" "$size" "$mode") ;;
          paho) line=$(timeout 300 "${pin[@]}" ./build/bench/lat_paho 127.0.0.1 "$port" "$qos" "$count" "$size" "$mode") ;;
        esac
        echo "$line" >>"$results"
      done
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    if int(f["lost"]) != 0:
        print(f"# {f['client']} qos {f['qos']} rate {f['rate']}: {f['lost']} messages lost")
    key = ("one at a time" if f["rate"] == "0" else f"{f['rate']}/s", int(f["qos"]))
    rows.setdefault(key, {}).setdefault(f["client"], []).append((float(f["p50_us"]), float(f["p99_us"])))
print(f"{'mode':<15}{'qos':>4}{'p50 tether':>12}{'libmosq':>9}{'paho':>9}{'t/libmosq':>11}{'t/paho':>8}"
      f"{'p99 tether':>12}{'libmosq':>9}{'paho':>9}")
for (mode, qos), by in sorted(rows.items()):
    p50 = {c: statistics.median(v[0] for v in vals) for c, vals in by.items()}
    p99 = {c: statistics.median(v[1] for v in vals) for c, vals in by.items()}
    t, m, p = p50.get("tether", 0), p50.get("libmosquitto", 0), p50.get("paho", 0)
    print(f"{mode:<15}{qos:>4}{t:>12.1f}{m:>9.1f}{p:>9.1f}{(t / m if m else 0):>10.2f}x{(t / p if p else 0):>7.2f}x"
          f"{p99.get('tether', 0):>12.1f}{p99.get('libmosquitto', 0):>9.1f}{p99.get('paho', 0):>9.1f}")
PY
