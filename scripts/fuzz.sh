#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs each one.
#
#   bash scripts/fuzz.sh            # each fuzzer for an hour
#   bash scripts/fuzz.sh 60         # each for a minute (what CI does)
#   MERGE=1 bash scripts/fuzz.sh 3600   # then merge new finds, minimized, into fuzz/corpus
#
# The committed corpus is read, never written, unless MERGE=1; new inputs go to a work
# folder. A crash leaves its input in build-fuzz/artifacts and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-3600}
CXX=clang++ cmake -S . -B build-fuzz -DTETHER_BUILD_FUZZERS=ON -DTETHER_BUILD_TESTS=OFF -DTETHER_BUILD_CLIENT=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 >/dev/null

mkdir -p build-fuzz/artifacts
# One fuzzer per folder of fuzz/corpus: fuzz/corpus/NAME is the seed corpus of fuzz_NAME.
for name in $(ls fuzz/corpus); do
  work="build-fuzz/corpus-$name"
  mkdir -p "$work"
  echo "fuzz: $name for ${seconds}s"
  log="build-fuzz/fuzz_$name.log"
  status=0
  ./build-fuzz/fuzz/fuzz_$name -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/artifacts/ "$work" "fuzz/corpus/$name" >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$log" || true
  if [ "$status" -ne 0 ]; then
    grep -E '^(==[0-9]+==|SUMMARY|    #)' "$log" | head -40 >&2 || true
    echo "fuzz: FAIL: fuzz_$name found a problem; the input is in build-fuzz/artifacts, the log in $log" >&2
    exit 1
  fi
  if [ "${MERGE:-0}" = 1 ]; then
    ./build-fuzz/fuzz/fuzz_$name -merge=1 "fuzz/corpus/$name" "$work" >/dev/null 2>&1
  fi
done
echo "fuzz: ok"
