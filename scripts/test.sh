#!/usr/bin/env bash
# Every test: set up, then
#   1. build everything with g++ (-Werror) under ASan + UBSan and run every test there,
#      the broker suites (RabbitMQ, NATS, a NATS cluster) included,
#   2. run the main job, scripts/run.sh (device -> cloud -> Device Manager, a screenshot),
#      which builds the tether and tether-cloud commands optimised (RelWithDebInfo, -Werror),
#      then the allocation tests in that build (they count malloc, which ASan replaces),
#   3. build the core for a Cortex-M4 and check it needs no heap or exceptions, and its size,
#   4. run each fuzzer briefly (FUZZ_SECONDS, default 20; scripts/fuzz.sh for longer runs),
#   5. build and install the library, and an outside project against it, and the .deb,
#   6. run the example,
#   7. run each benchmark once, tiny: throughput, latency, 10k-connection scale (200 here),
#      static size, the cloud end to end with 20 devices (they print tables; speed never
#      fails CI; the cloud's fails only when an acknowledged write is missing), optimised.
# The tests run once, in the sanitizer build: building the 80 test programs a second time,
# optimised, took about a third of CI's 35 minutes. The libraries and commands are still built
# optimised with -Werror (steps 2, 5 and 7), so warnings that only -O2 finds still fail CI.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
fuzz_seconds=${FUZZ_SECONDS:-20}
passed=0

step() { echo "== [$((SECONDS / 60)) min $((SECONDS % 60)) s] $*"; }  # where CI's time goes

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

step "every test, g++ $(g++ -dumpfullversion) with AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTETHER_SANITIZE=ON >/dev/null
cmake --build build-asan -j2
run_ctest build-asan

step "the main job (the README's first command): device -> cloud -> Device Manager"
TETHER_SKIP_SETUP=1 bash scripts/run.sh
passed=$((passed + 1))

step "allocations and idle memory per connection, optimised (ASan replaces malloc, so these skip above)"
cmake --build build -j2 --target alloc_tests >/dev/null
run_ctest build -R '^(AllocationCounting|Memory|Qos/Allocations)\.'

step "freestanding core for Cortex-M4"
bash scripts/footprint.sh
passed=$((passed + 1))

step "fuzzers, ${fuzz_seconds}s each"
bash scripts/fuzz.sh "$fuzz_seconds"
passed=$((passed + $(ls fuzz/corpus | wc -l)))

step "installed: cmake --install, then an outside project with find_package and with pkg-config, and the .deb"
JOBS=2 DEB=1 bash scripts/consumer.sh
passed=$((passed + 1))

step "example"
cmake --build build -j2 --target core_transcript >/dev/null
./build/examples/core_transcript >/dev/null
passed=$((passed + 1))

step "benchmarks: every program builds and a tiny run of each completes (speed is never judged here)"
bash scripts/bench.sh --tiny
passed=$((passed + 1))

echo "all tests passed"
echo "summary: $passed passed, 0 failed"
