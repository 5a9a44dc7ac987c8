#!/usr/bin/env bash
# Many connections from one process: tether bench pub --clients CLIENTS against a local
# mosquitto, each connection publishing RATE QoS 1 messages a second for DURATION seconds.
# Prints messages per second, latency percentiles (publish to PUBACK) and resident memory
# per connection, idle and busy. Raises the open-file limits of both processes to their
# hard limit. Never fails on speed; fails only if a program does (or a connection fails).
#
#   bash scripts/bench_scale.sh                       # 10,000 connections for 60 s
#   CLIENTS=5000 DURATION=30 bash scripts/bench_scale.sh
#   bash scripts/bench_scale.sh --tiny                # CI: 200 connections for 2 s
set -euo pipefail

clients=${CLIENTS:-10000}
duration=${DURATION:-60}
rate=${RATE:-1}
if [ "${1:-}" = "--tiny" ]; then clients=200 duration=2; fi

# shellcheck source=scripts/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
bench_build tether
ulimit -n "$(ulimit -Hn)"  # inherited by mosquitto and tether
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((clients + 100)) ]; then
  echo "the open-file limit ($(ulimit -n)) is too low for $clients connections" >&2
  exit 1
fi
start_mosquitto "max_connections -1"

machine_line
echo "# $clients connections, $rate QoS 1 message(s) of 64 B a second each, for $duration s"
./build/tools/tether bench pub --host 127.0.0.1 --port "$mosquitto_port" --clients "$clients" \
  --duration "$duration" --rate "$rate" --qos 1 --size 64 | tee "$work/result"
python3 - "$work/result" <<'PY'
import sys
f = dict(kv.split("=", 1) for kv in open(sys.argv[1]).read().split())
print(f"connections {f['clients']}: connected in {f['connect_s']} s; {float(f['msgs_per_s']):,.0f} msg/s; "
      f"latency p50 {f['p50_us']} us, p90 {f['p90_us']} us, p99 {f['p99_us']} us, max {f['max_us']} us; "
      f"resident memory per connection: idle {float(f['idle_rss_per_conn_B']):,.0f} B, "
      f"busy {float(f['busy_rss_per_conn_B']):,.0f} B (target: idle at most 8,192 B)")
PY
