#!/usr/bin/env bash
# The device cloud end to end (issue 12): a fresh `tether-cloud init` and `run` in a scratch
# folder (on SQLite, or on a private PostgreSQL server with ENGINE=postgresql), then
# `tether bench devices`: DEVICES simulated devices, each with its own certificate (the
# broker's ACL checks it), sending RATE QoS 1 writes a second for DURATION seconds, and the
# raw ceiling of the same broker beside it. One result line, then a sentence. Never fails on
# speed; fails when a program fails or an acknowledged write is missing from the database.
#
#   bash scripts/bench_cloud.sh                                  # 1,000 devices, 2 writes/s, 30 s
#   DEVICES=10000 RATE=2 DURATION=30 bash scripts/bench_cloud.sh
#   ENGINE=postgresql KIND=metric bash scripts/bench_cloud.sh
#   RATE=0 bash scripts/bench_cloud.sh                           # as fast as acknowledged
#   bash scripts/bench_cloud.sh --soak                           # memory over 10 minutes (1,000 devices, 1/s)
#   bash scripts/bench_cloud.sh --tiny                           # CI: 20 devices for 2 s
#
# CLOUD_DIR=FOLDER keeps the deployment (SQLite only) and its device identities there, so
# that a rerun skips provisioning (about 7 ms of the cloud's CPU per device, once):
#   CLOUD_DIR=/var/tmp/tether-bench DEVICES=10000 bash scripts/bench_cloud.sh
# The run's rows are deleted from a kept deployment afterwards (KEEP_ROWS=1 keeps them),
# so that every run starts from a database of the same size.
# For a before/after in one run: CLOUD_BIN=PATH runs another tether-cloud binary (built
# from another commit), MAX_INFLIGHT=N rewrites the broker's max_inflight_messages (20 is
# mosquitto's default, which caps each commit batch), ANNOUNCE=false turns off the NOTIFY of
# live changes (PostgreSQL).
# PROFILE=1 records the service with perf (perf must be installed) into $PROFILE_OUT
# (default build/bench-cloud.perf.txt: `perf report` by symbol, down to 0.2%), and keeps the
# recording beside it (.data).
set -euo pipefail

devices=${DEVICES:-1000}
rate=${RATE:-2}
duration=${DURATION:-30}
kind=${KIND:-store}
engine=${ENGINE:-sqlite}
ceiling=${CEILING:-}
case "${1:-}" in
  --tiny) devices=20 rate=5 duration=2 ;;
  --soak) devices=${DEVICES:-1000} rate=${RATE:-1} duration=${DURATION:-600} ceiling=${CEILING:-10} ;;
  "") ;;
  *) echo "usage: bash scripts/bench_cloud.sh [--tiny|--soak]" >&2; exit 2 ;;
esac

# shellcheck source=scripts/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
# BUILD_DIR=FOLDER: programs already built there (say a sanitizer build), none built here.
build=${BUILD_DIR:-build}
[ -n "${BUILD_DIR:-}" ] || bench_build tether tether-cloud
ulimit -n "$(ulimit -Hn)"  # inherited by tether-cloud, its mosquitto and the bench
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((devices + 100)) ]; then
  echo "the open-file limit ($(ulimit -n)) is too low for $devices devices" >&2
  exit 1
fi

# mosquitto drops to its own user after reading its configuration: it must reach the files
# init gave it (RECIPES.md), through a scratch folder that is otherwise private.
chmod 711 "$work"
cloud="$work/cloud"
if [ -n "${CLOUD_DIR:-}" ]; then
  [ "$engine" = sqlite ] || { echo "CLOUD_DIR is for SQLite deployments only" >&2; exit 2; }
  cloud=$CLOUD_DIR
fi
if [ ! -f "$cloud/cloud.json5" ]; then
  "$build/tools/cloud/tether-cloud" init "$cloud" --port "$(free_port)" --web-port "$(free_port)" >"$work/init.log"
fi

if [ "$engine" = postgresql ]; then
  # A private server, fsync on (SQLite runs with synchronous=FULL): as root, under the
  # postgres user (RECIPES.md).
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pgdir=$(mktemp -d /tmp/tether-bench-pg-XXXXXX)
  as_pg=()
  if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdir"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -A trust -U tether -E UTF8 --locale=C >/dev/null
  pgport=$(free_port)
  "${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -h 127.0.0.1 -p "$pgport" -k "$pgdir" \
    -c max_connections=50 >"$work/postgres.log" 2>&1 &
  bench_pids+=($!)
  pg_cleanup() { bench_cleanup; rm -rf "$pgdir"; }
  trap pg_cleanup EXIT
  for _ in $(seq 600); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport" && break; sleep 0.1; done
  "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U tether tether
  python3 - "$cloud/cloud.json5" "postgresql://tether@127.0.0.1:$pgport/tether" <<'PY'
import re, sys
path, url = sys.argv[1], sys.argv[2]
text = open(path).read()
text, n = re.subn(r'"?database"?\s*:\s*\{[^}]*\}', '"database": {"engine": "postgresql", "url": "%s"}' % url, text)
assert n == 1, "no database section in cloud.json5"
open(path, "w").write(text)
PY
fi

if [ -n "${MAX_INFLIGHT:-}" ]; then
  sed -i "s/^max_inflight_messages .*//" "$cloud/broker/mosquitto.conf"
  echo "max_inflight_messages $MAX_INFLIGHT" >>"$cloud/broker/mosquitto.conf"
fi
if [ -n "${ANNOUNCE:-}" ]; then
  python3 - "$cloud/cloud.json5" "$ANNOUNCE" <<'PY'
import re, sys
path, on = sys.argv[1], sys.argv[2]
text = open(path).read()
text, n = re.subn(r'("?database"?\s*:\s*\{)', r'\1"announce": %s, ' % on, text, count=1)
assert n == 1, "no database section in cloud.json5"
open(path, "w").write(text)
PY
fi
"${CLOUD_BIN:-$build/tools/cloud/tether-cloud}" run "$cloud" >"$work/run.log" 2>&1 &
cloud_pid=$!
bench_pids+=("$cloud_pid")
for _ in $(seq 600); do grep -q "tether-cloud running" "$work/run.log" && break; sleep 0.1; done
grep -q "tether-cloud running" "$work/run.log" || { cat "$work/run.log" >&2; exit 1; }

if [ -n "${PROFILE:-}" ]; then
  perf record -g -p "$cloud_pid" -o "$work/perf.data" >/dev/null 2>&1 &
  perf_pid=$!
fi

machine_line
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
echo "# $devices devices, $rate $kind write(s) a second each (0: as fast as acknowledged), $duration s, $engine"
args=(--cloud "$cloud" --devices "$devices" --rate "$rate" --duration "$duration" --kind "$kind")
[ -n "$ceiling" ] && args+=(--ceiling "$ceiling")
# The identities stay in the scratch folder: a fresh deployment has a fresh CA.
"$build/tools/tether" bench devices "${args[@]}" | tee "$work/result"

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${PROFILE:-}" ]; then
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  # Flat, by symbol: the call graphs of a build without frame pointers say little. The
  # recording stays beside it for `perf report -i` (say --sort dso, or -g caller).
  profile_out=${PROFILE_OUT:-build/bench-cloud.perf.txt}
  perf report -i "$work/perf.data" --no-children -g none --percent-limit 0.2 --stdio >"$work/perf.txt" 2>/dev/null
  grep -v '^#' "$work/perf.txt" | grep -v '^$' >"$profile_out" || true
  mv "$work/perf.data" "${profile_out%.txt}.data"
  echo "# profile: $profile_out (recording: ${profile_out%.txt}.data)"
fi

kill -TERM "$cloud_pid"
wait "$cloud_pid" || true
grep "tether-cloud stopped" "$work/run.log" || true
if [ -n "${CLOUD_DIR:-}" ] && [ -z "${KEEP_ROWS:-}" ]; then
  # A kept deployment would otherwise grow by every run's writes (each a key of its own),
  # and the service's CPU per write grows with it (a bigger index: a page of its own per
  # row to write and sync): runs would not compare. The bench's rows go (their keys and
  # metric start with "bench" and a digit); the devices, their identities and the rest stay.
  python3 - "$cloud/cloud.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM store_items WHERE item_key GLOB 'bench[0-9]*'")
db.execute("DELETE FROM metric_points WHERE series_key IN "
           "(SELECT series_key FROM metric_series WHERE metric GLOB 'bench[0-9]*')")
db.execute("DELETE FROM metric_series WHERE metric GLOB 'bench[0-9]*'")
db.commit()
db.execute("VACUUM")
db.close()
PY
fi
python3 - "$work/result" <<'PY'
import sys
f = dict(kv.split("=", 1) for kv in open(sys.argv[1]).read().split())
print(f"cloud ({f['engine']}, {f['kind']}): {int(f['devices']):,} devices, {float(f['writes_per_s']):,.0f} writes/s committed "
      f"({f['lost']} lost), raw ceiling {float(f['ceiling_per_s']):,.0f}/s, ratio {f['ratio']}; "
      f"publish->PUBACK p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms; service CPU {f['svc_cpu_pct']}% "
      f"({f['svc_cpu_us_per_write']} us/write), memory {f['svc_rss_MB']} MB, "
      f"{f['svc_rss_per_device_B']} B per connected device; over the run {f['svc_rss_first_MB']} -> {f['svc_rss_last_MB']} MB")
PY
