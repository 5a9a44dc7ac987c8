#!/usr/bin/env bash
# The long cluster test: a 3-node NATS cluster on loopback; the node the subscriber is on
# is stopped ROUNDS times in turn (and started again) while MESSAGES QoS 1 messages per
# round are published; every message must arrive at least once, the subscriber's
# persistent session must come along on every move. CI runs the short version (one stop,
# 200 messages) as the ctest broker_tests.cluster.
#
#   bash scripts/cluster.sh                    # ROUNDS=6 MESSAGES=2000, build-brokers
#   ROUNDS=20 MESSAGES=5000 bash scripts/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-brokers}

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTETHER_SANITIZE=ON >/dev/null
fi
cmake --build "$build" -j"${JOBS:-1}" --target broker_tests >/dev/null
TETHER_CLUSTER_ROUNDS=${ROUNDS:-6} TETHER_CLUSTER_MESSAGES=${MESSAGES:-2000} \
    "$build/tests/brokers/broker_tests" --gtest_filter='Cluster.*'
