#!/usr/bin/env bash
# Every benchmark, one after the other; each prints its own table (see docs/BENCHMARKS.md).
# None fails on speed: a failure means a program did not build or did not complete.
#
#   bash scripts/bench.sh                 # all of them, full length (about an hour)
#   bash scripts/bench.sh latency scale   # only these (throughput latency scale size persist cloud)
#   bash scripts/bench.sh --tiny          # CI: each program builds and a tiny run completes
set -euo pipefail
cd "$(dirname "$0")/.."

tiny=()
parts=()
for arg in "$@"; do
  case $arg in
    --tiny) tiny=(--tiny) ;;
    throughput | latency | scale | size | persist | cloud) parts+=("$arg") ;;
    *) echo "usage: bash scripts/bench.sh [throughput] [latency] [scale] [size] [persist] [cloud] [--tiny]" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -eq 0 ] && parts=(throughput latency scale size persist cloud)
for part in "${parts[@]}"; do
  echo "== $part"
  bash "scripts/bench_$part.sh" "${tiny[@]}"
done
