#!/usr/bin/env bash
# Every test: set up, then
#   1. build with g++ (-Werror) and run the unit tests,
#   1b. run the main job, scripts/run.sh (device -> cloud -> Device Manager, a screenshot),
#   2. build again with ASan + UBSan and run them again (the broker suites, which start
#      RabbitMQ, NATS and a NATS cluster, run once, in step 1),
#   3. build the core for a Cortex-M4 and check it needs no heap or exceptions, and its size,
#   4. run each fuzzer briefly (FUZZ_SECONDS, default 60),
#   5. run the example,
#   6. run each benchmark once, tiny: throughput, latency, 10k-connection scale (200 here),
#      static size, the cloud end to end with 20 devices (they print tables; speed never
#      fails CI; the cloud's fails only when an acknowledged write is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
fuzz_seconds=${FUZZ_SECONDS:-60}
passed=0

run_ctest() {  # build dir [ctest args]; adds the number of tests run to $passed
  local log dir=$1
  shift
  log=$(mktemp)
  if ! ctest --test-dir "$dir" --output-on-failure -j2 "$@" | tee "$log"; then
    rm -f "$log"
    return 1
  fi
  passed=$((passed + $(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log")))
  rm -f "$log"
}

echo "== unit tests (g++ $(g++ -dumpfullversion))"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
run_ctest build

echo "== the main job (the README's first command): device -> cloud -> Device Manager"
TETHER_SKIP_SETUP=1 bash scripts/run.sh
passed=$((passed + 1))

echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTETHER_SANITIZE=ON >/dev/null
cmake --build build-asan -j2
run_ctest build-asan -LE brokers

echo "== freestanding core for Cortex-M4"
bash scripts/footprint.sh
passed=$((passed + 1))

echo "== fuzzers, ${fuzz_seconds}s each"
bash scripts/fuzz.sh "$fuzz_seconds"
passed=$((passed + $(ls fuzz/corpus | wc -l)))

echo "== installed: cmake --install, then an outside project with find_package and with pkg-config, and the .deb"
JOBS=2 DEB=1 bash scripts/consumer.sh
passed=$((passed + 1))

echo "== example"
./build/examples/core_transcript >/dev/null
passed=$((passed + 1))

echo "== benchmarks: every program builds and a tiny run of each completes (speed is never judged here)"
bash scripts/bench.sh --tiny
passed=$((passed + 1))

echo "all tests passed"
echo "summary: $passed passed, 0 failed"
