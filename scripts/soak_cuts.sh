#!/usr/bin/env bash
# QoS 2 under random link cuts (issue 8, defect 1's second reproduction): `tether pub -l -c`
# sends COUNT numbered lines at QoS 2 to a local mosquitto (max_inflight_messages 100)
# through a proxy that cuts every live link every 40-160 ms; a `tether sub -c` behind a
# second cutting proxy and a subscriber on the broker directly count what arrives. Prints,
# per run: pub's exit status, lines delivered and distinct at each subscriber, duplicates,
# cuts, and the missing lines. Fails if a line is missing or a QoS 2 line came twice.
#
#   bash scripts/soak_cuts.sh                 # 3 runs of 20,000
#   RUNS=10 COUNT=20000 bash scripts/soak_cuts.sh
#   RECORD=DIR bash scripts/soak_cuts.sh      # both clients' links, byte for byte: DIR/runN/{pub,sub}
#   python3 scripts/qos2_ids.py DIR/run1/sub  # what became of each QoS 2 id the broker sent the subscriber
set -euo pipefail

runs=${RUNS:-3}
count=${COUNT:-20000}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$here/bench_lib.sh"
bench_build tether
tether=$PWD/build/tools/tether
chmod 755 "$work"
failed=0
for run in $(seq "$runs"); do
  d="$work/run$run"
  mkdir -p "$d"
  port=$(free_port); sub_port=$(free_port); pub_port=$(free_port)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 100\nmax_queued_messages 0\nlog_dest stderr\nlog_type error\nlog_type notice\n' \
    "$port" >"$d/mosquitto.conf"
  mosquitto -c "$d/mosquitto.conf" 2>"$d/broker.log" &
  pids=($!)
  [ -n "${RECORD:-}" ] && mkdir -p "$RECORD/run$run/pub" "$RECORD/run$run/sub"
  REC=${RECORD:+$RECORD/run$run/sub} python3 "$here/cut_proxy.py" "$sub_port" "$port" "$((2 * run))" 40 160 >"$d/cuts-sub" &
  pids+=($!)
  REC=${RECORD:+$RECORD/run$run/pub} python3 "$here/cut_proxy.py" "$pub_port" "$port" "$((2 * run + 1))" 40 160 >"$d/cuts-pub" &
  pids+=($!)
  # Both subscribers' sessions exist before anything is published, so that none misses a
  # line by subscribing late; the proxies listen before anyone connects through them (a
  # first connection that fails ends a command, as it ends mosquitto_sub).
  wait_for_port "$port"
  for id in soak-sub soak-direct; do "$tether" sub -p "$port" -c -i "$id" -q 2 -t soak/t -E; done
  wait_for_port "$sub_port"
  wait_for_port "$pub_port"
  "$tether" sub -p "$sub_port" -c -i soak-sub -q 2 -t soak/t >"$d/cut-sub.out" 2>"$d/cut-sub.err" &
  pids+=($!)
  "$tether" sub -p "$port" -c -i soak-direct -q 2 -t soak/t >"$d/direct.out" 2>/dev/null &
  pids+=($!)
  status=0
  seq 1 "$count" | "$tether" pub -p "$pub_port" -c -i soak-pub -q 2 -t soak/t -l 2>"$d/pub.err" || status=$?
  # Until both have everything, or nothing more came for 30 s (a loaded machine is slow,
  # not lossy: a fixed limit reported late lines as missing).
  last="" still=0
  while [ "$still" -lt 300 ]; do
    now="$(sort -u "$d/cut-sub.out" | wc -l) $(sort -u "$d/direct.out" | wc -l)"
    [ "$now" = "$count $count" ] && break
    if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0 last=$now; fi
    sleep 0.1
  done
  sleep 1
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  line=""
  for who in cut-sub direct; do
    total=$(wc -l <"$d/$who.out"); distinct=$(sort -u "$d/$who.out" | wc -l)
    missing=$(seq 1 "$count" | sort | comm -23 - <(sort -u "$d/$who.out") | sort -n | awk 'NR <= 20' | tr '\n' ' ')
    line+=" $who=$distinct/$count dups=$((total - distinct)) missing=[${missing% }]"
    [ "$distinct" -eq "$count" ] && [ "$total" -eq "$count" ] || failed=1
  done
  echo "run=$run pub_exit=$status$line cuts_sub=$(tail -1 "$d/cuts-sub" | cut -d= -f2) cuts_pub=$(tail -1 "$d/cuts-pub" | cut -d= -f2)"
  [ -s "$d/pub.err" ] && sed 's/^/  pub: /' "$d/pub.err" | sort | uniq -c | awk 'NR <= 3'
done
exit "$failed"
