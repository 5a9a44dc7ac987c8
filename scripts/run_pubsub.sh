#!/usr/bin/env bash
# The client alone (what scripts/run.sh showed before the cloud): set up, build, start a
# private mosquitto on a free loopback port, and show `tether sub` receiving what
# `tether pub` sends (QoS 0, 1 and 2, a line per message from stdin), then the two
# examples talking through the same broker, then the core on its own.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tether publish_init subscribe_change core_transcript >/dev/null
tether=./build/tools/tether

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/mosquitto.conf" <<CONF
user root
listener $port 127.0.0.1
allow_anonymous true
log_dest none
CONF
mosquitto -c "$work/mosquitto.conf" 2>/dev/null &
broker=$!
trap 'kill $broker 2>/dev/null; wait $broker 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
echo "== a private mosquitto on 127.0.0.1:$port"

echo "== tether sub -t 'demo/#' -v -q 2 -C 5   (in the background)"
$tether sub -p "$port" -i demo-sub -t 'demo/#' -v -q 2 -C 5 -d >"$work/sub.out" 2>"$work/sub.err" &
sub=$!
for _ in $(seq 100); do grep -q connected "$work/sub.err" && break; sleep 0.05; done
sleep 0.2

echo "== tether pub: QoS 0, QoS 1, QoS 2, and two lines from stdin"
$tether pub -p "$port" -t demo/qos0 -m "hello at QoS 0"
$tether pub -p "$port" -t demo/qos1 -m "hello at QoS 1" -q 1
$tether pub -p "$port" -t demo/qos2 -m "hello at QoS 2" -q 2
printf 'first line\nsecond line\n' | $tether pub -p "$port" -t demo/lines -l -q 1
wait $sub
echo "== what tether sub printed:"
sed 's/^/   /' "$work/sub.out"

echo "== the examples: publish_init and subscribe_change (tether sub -t 'myDevice/#' -v watching)"
$tether sub -p "$port" -t 'myDevice/#' -v -q 1 -C 2 -d >"$work/watch.out" 2>"$work/watch.err" &
watch=$!
./build/examples/subscribe_change 127.0.0.1 "$port" 1 >"$work/change.out" &
listener=$!
for _ in $(seq 100); do grep -q connected "$work/watch.err" && break; sleep 0.05; done
sleep 0.3
./build/examples/publish_init 127.0.0.1 "$port"
$tether pub -p "$port" -t myDevice/change -m "colour=blue" -q 1
wait $listener $watch
echo "   subscribe_change printed: $(cat "$work/change.out")"
sed 's/^/   tether sub printed: /' "$work/watch.out"

echo "== the core alone: a session and a scripted server, packets in hex"
./build/examples/core_transcript
