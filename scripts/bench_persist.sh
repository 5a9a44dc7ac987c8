#!/usr/bin/env bash
# The durable outbox's cost (docs/PERSISTENCE.md): QoS 1 publishing with tether without
# persistence, with it (process_crash), with it at power_loss (concurrent publishers
# sharing each fdatasync), and Paho C without and with its file persistence
# (MQTTCLIENT_PERSISTENCE_DEFAULT), in the same run, into the sink (the client's own cost)
# and through a local mosquitto. Journals go to a fresh directory under $PERSIST_DIR
# (default: the scratch directory, on /tmp's disk). Prints medians and ratios. Never fails
# on speed; fails only if a program does.
#
#   bash scripts/bench_persist.sh            # 5 runs of 100,000 messages (power_loss: 20,000)
#   RUNS=9 COUNT=200000 bash scripts/bench_persist.sh
#   COUNT=200000 PAHO_COUNT=20000 bash scripts/bench_persist.sh  # fewer for Paho's slow file persistence
#   bash scripts/bench_persist.sh --tiny     # CI: does every program build and complete?
#   CLIENTS="tether tether-persist" bash scripts/bench_persist.sh  # only these (Paho is slow)
#   BASELINE=/tmp/old bash scripts/bench_persist.sh  # also an older tree's build/tools/tether
#                                            # (columns base, base-persist): before and after
#                                            # a change, in the same run
set -euo pipefail

runs=${RUNS:-5}
count=${COUNT:-100000}
sync_count=${SYNC_COUNT:-20000}
paho_count=${PAHO_COUNT:-$count}  # Paho with its file persistence does ~600 msg/s
inflight=${INFLIGHT:-1000}
size=${SIZE:-64}
if [ "${1:-}" = "--tiny" ]; then runs=1 count=2000 sync_count=500 paho_count=500; fi

# shellcheck source=scripts/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"
bench_build tether bench_sink peer_paho
persist_root=${PERSIST_DIR:-$work}

./build/bench/bench_sink 0 >"$work/sink.port" &
bench_pids+=($!)
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.05; done
sport=$(cat "$work/sink.port")
start_mosquitto
mport=$mosquitto_port

machine_line
echo "# $runs runs each, $count messages of $size B at QoS 1 ($sync_count at power_loss, $paho_count for paho-persist), window $inflight;"
echo "# journals in $persist_root ($(df -T "$persist_root" | awk 'NR == 2 { print $2 }'))"
results="$work/results"
for target in sink mosquitto; do
  port=$sport
  [ "$target" = mosquitto ] && port=$mport
  for run in $(seq "$runs"); do
    read -r -a clients <<<"${CLIENTS:-tether tether-persist tether-persist-sync paho paho-persist}"
    [ -n "${BASELINE:-}" ] && clients+=(base base-persist)
    for client in "${clients[@]}"; do
      dir=$(mktemp -d "$persist_root/journal-XXXXXX")
      n=$count
      [ "$client" = tether-persist-sync ] && n=$sync_count
      [ "$client" = paho-persist ] && n=$paho_count
      common=(--host 127.0.0.1 --port "$port" --qos 1 --count "$n" --size "$size" --inflight "$inflight")
      case $client in
        tether) line=$(timeout 600 ./build/tools/tether bench pub "${common[@]}") ;;
        tether-persist) line=$(timeout 600 ./build/tools/tether bench pub "${common[@]}" --persist "$dir") ;;
        tether-persist-sync)
          line=$(timeout 600 ./build/tools/tether bench pub "${common[@]}" --persist "$dir" --persist-sync | tr '\n' ' ') ;;
        base) line="$(timeout 600 "$BASELINE/build/tools/tether" bench pub "${common[@]}") client=base" ;;
        base-persist)
          line="$(timeout 600 "$BASELINE/build/tools/tether" bench pub "${common[@]}" --persist "$dir") client=base-persist" ;;
        paho) line=$(timeout 600 ./build/bench/peer_paho 127.0.0.1 "$port" 1 "$n" "$size" "$inflight") ;;
        paho-persist) line=$(cd "$dir" && timeout 600 "$OLDPWD/build/bench/peer_paho" 127.0.0.1 "$port" 1 "$n" "$size" "$inflight" "$dir") ;;
      esac
      rm -rf "$dir"
      echo "target=$target $line" >>"$results"
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.replace("#", "").split() if "=" in kv)
    rows.setdefault(f["target"], {}).setdefault(f["client"], []).append(f)
names = ["tether", "tether-persist", "tether-persist-sync", "paho", "paho-persist"]
if any("base" in by for by in rows.values()):
    names += ["base", "base-persist"]
print(f"{'target':<10}" + "".join(f"{n + ' msg/s':>26}" for n in names))
for target, by in sorted(rows.items()):
    med = {c: statistics.median(float(r["msgs_per_s"]) for r in by[c]) for c in by}
    print(f"{target:<10}" + "".join(f"{med.get(n, 0):>26,.0f}" for n in names))
    t, tp, pp = med.get("tether", 0), med.get("tether-persist", 0), med.get("paho-persist", 0)
    syncs = [float(r["fsyncs_per_msg"]) for r in by.get("tether-persist-sync", []) if "fsyncs_per_msg" in r]
    print(f"{'':<10}tether-persist / paho-persist {tp / pp if pp else 0:.1f}x; "
          f"tether / tether-persist {t / tp if tp else 0:.2f}x; "
          f"power_loss fsyncs per message {statistics.median(syncs) if syncs else 0:.4f}")
    if "base" in med:
        b, bp = med.get("base", 0), med.get("base-persist", 0)
        print(f"{'':<10}baseline: base / base-persist {b / bp if bp else 0:.2f}x; "
              f"tether-persist / base-persist {tp / bp if bp else 0:.1f}x")
PY
