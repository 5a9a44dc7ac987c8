#!/usr/bin/env bash
# The main job: the whole device -> cloud loop on one machine. Sets up (apt-get), builds,
# makes a deployment with `tether-cloud init` in a temporary folder, serves it with
# `tether-cloud run` (which starts its own mosquitto, TLS on a free loopback port), copies
# the device kit, and drives a device with `tether device`: it provisions itself from the
# kit (claim certificate -> CSR -> its own certificate and thing name), sets
# model = "Acme Rocket" and a stream of cpu values, reads them back from the cloud, and
# reads the metric CPU that the default device schema computes from them.
#
#   bash scripts/run.sh            # runs the loop, stops the cloud, removes the folder
#   bash scripts/run.sh --serve    # the same, then keeps the cloud running until Ctrl-C
#
# (scripts/run_pubsub.sh is the client alone: tether pub/sub and the examples.)
set -euo pipefail
cd "$(dirname "$0")/.."

serve=false
case "${1:-}" in
  --serve) serve=true ;;
  "") ;;
  *) echo "usage: bash scripts/run.sh [--serve]" >&2; exit 1 ;;
esac

step() { printf '\n== %s\n' "$*"; }
# Prints the command, runs it, indents what it prints; a failure stops the script.
show() {
  printf '   $ %s\n' "$(printf '%q ' "$@" | sed "s|$work|\$WORK|g; s|$PWD/||g")"
  "$@" 2>&1 | sed 's/^/     /'
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

step "setup and build (RelWithDebInfo, in build/)"
# scripts/test.sh runs this right after its own setup: TETHER_SKIP_SETUP=1 skips apt-get.
[ "${TETHER_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tether tether-cloud >/dev/null
tether=$PWD/build/tools/tether
cloud=$PWD/build/tools/cloud/tether-cloud

work=$(mktemp -d)
# mosquitto, started as root, drops to its own user: it must be able to reach the folder.
chmod 711 "$work"
run_pid=
cleanup() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then kill -TERM "$run_pid"; wait "$run_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$(free_port)
web_port=$(free_port)

step "tether-cloud init: CA, broker configuration (TLS on 127.0.0.1:$port), database, device schema, device kit"
show "$cloud" init "$work/cloud" --port "$port" --web-port "$web_port" | tee "$work/init.out"
printf '   the device schema (%s):\n' "\$WORK/cloud/schema.json5"
grep -E "^ *(namespace|fields|where|dimensions):" "$work/cloud/schema.json5" | sed 's/^ */     /'

step "tether-cloud run (in the background; it starts mosquitto itself)"
"$cloud" run "$work/cloud" >"$work/run.out" 2>"$work/run.err" &
run_pid=$!
for _ in $(seq 600); do
  grep -q "tether-cloud running" "$work/run.out" && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$work/run.err" >&2; exit 1; }
  sleep 0.1
done
grep -q "tether-cloud running" "$work/run.out" || { echo "tether-cloud did not start" >&2; cat "$work/run.err" >&2; exit 1; }
sed 's/^/     /' "$work/run.out"

step "a device from the kit: copy it, and its first command provisions it over TLS"
show cp -r "$work/cloud/kit" "$work/device"
show "$tether" device set "$work/device" model "Acme Rocket"
printf '   provisioned: thing name %s (%s)\n' "$(sed -n 's/.*"thing": "\(.*\)".*/\1/p' "$work/device/config/provision.json5")" \
  "\$WORK/device/config/provision.json5, its key and certificate in \$WORK/device/certs/"

step "a stream of cpu values, 2 s apart (Store writes, QoS 1, each acknowledged after the cloud committed it)"
# Spaced so that the chart's 1-minute view (5 s points) shows a line, not one point.
first=true
for v in 12 35 51 28 44 60 37 23; do
  $first || sleep 2
  first=false
  show "$tether" device set "$work/device" cpu "$v" --type number
done

step "get: the values read back from the cloud"
show "$tether" device get "$work/device" model
show "$tether" device get "$work/device" cpu

step "metric-get: CPU, computed by the cloud from the schema (cpu writes), over the last 5 minutes"
for stat in avg min max count current; do
  show "$tether" device metric-get "$work/device" CPU --statistic "$stat" --period 300
done
printf '   expected from the values: avg 36.25, min 12, max 60, count 8, current 23\n'

step "the Device Manager"
printf '   http://127.0.0.1:%s/  (user admin; the password is the one init printed above)\n' "$web_port"
# The device stays connected meanwhile (tether device run), so the page shows it online.
"$tether" device run "$work/device" >"$work/device-run.out" 2>&1 &
device_pid=$!
shot=$PWD/build/run-device-manager.png
password=$(sed -n 's/.*admin password (shown only now, stored as a hash): //p' "$work/init.out")
thing=$(sed -n 's/.*"thing": "\(.*\)".*/\1/p' "$work/device/config/provision.json5")
printf '   headless Chromium signs in and opens the device %s (scripts/screenshot.py)\n' "$thing"
python3 scripts/screenshot.py "http://127.0.0.1:$web_port" "$password" "$thing" "$shot" --period 60
printf '   screenshot of its page: %s\n' "${shot#$PWD/}"
kill -TERM "$device_pid" 2>/dev/null; wait "$device_pid" 2>/dev/null || true

if $serve; then
  step "serving: the cloud stays up (devices: copy \$WORK/cloud/kit; TLS on 127.0.0.1:$port). Ctrl-C stops it."
  printf '   WORK=%s\n' "$work"
  wait "$run_pid" || true
  run_pid=
else
  step "stopping tether-cloud (SIGTERM: it disconnects, stops its mosquitto, and says what it did)"
  kill -TERM "$run_pid"
  wait "$run_pid"
  run_pid=
  sed 's/^/     /' "$work/run.out" | tail -1
fi
