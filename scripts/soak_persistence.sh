#!/usr/bin/env bash
# The durable outbox's crash test, long: the publisher SIGKILLed KILLS times per seed while
# publishing MESSAGES numbered messages (QoS 1 and 2) through a real mosquitto, for SEEDS
# seeds (docs/PERSISTENCE.md). Fails if any accepted message is missing or a QoS 2 one
# arrives twice. Uses the Debug+ASan build in build-dev (configure it as README says).
#
#   bash scripts/soak_persistence.sh
#   KILLS=50 MESSAGES=100000 SEEDS=3 bash scripts/soak_persistence.sh
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${KILLS:-20}
messages=${MESSAGES:-20000}
seeds=${SEEDS:-10}
build=${BUILD:-build-dev}
cmake --build "$build" -j2 --target persistence_tests >/dev/null
for seed in $(seq "$seeds"); do
  echo "== seed $seed: $kills kills, $messages messages"
  TETHER_CRASH_KILLS=$kills TETHER_CRASH_MESSAGES=$messages TETHER_CRASH_SEED=$seed \
    "$build/tests/persistence_tests" --gtest_filter='PersistenceCrash.*' | grep -E 'crash test|OK|FAILED|Failure'
done
