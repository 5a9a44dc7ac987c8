#!/usr/bin/env bash
# The size of a minimal statically linked tether publisher (bench/min_pub.cpp: connect,
# publish one QoS 1 message, disconnect), split by where the bytes come from — tether with
# the Asio it instantiates, OpenSSL, the C++ runtime, libc — next to the text of
# libmosquitto's shared library (which leaves OpenSSL and libc out in the same way).
# Built with -Os (MinSizeRel) and -O2 (RelWithDebInfo, as Debian builds libmosquitto).
#
#   bash scripts/bench_size.sh
#   bash scripts/bench_size.sh --tiny      # CI: the -Os build only
set -euo pipefail

builds="MinSizeRel RelWithDebInfo"
if [ "${1:-}" = "--tiny" ]; then builds=MinSizeRel; fi

# shellcheck source=scripts/bench_lib.sh
source "$(dirname "$0")/bench_lib.sh"

machine_line
for type in $builds; do
  dir=build-size-$type
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DTETHER_STATIC_MIN_PUB=ON -DTETHER_BUILD_TESTS=OFF >/dev/null
  cmake --build "$dir" -j2 --target min_pub 2>&1 | grep -v "statically linked applications requires" | grep -E "error|warning" || true
  strip -o "$work/min_pub" "$dir/bench/min_pub"
  python3 - "$dir/bench/min_pub.map" "$(stat -c %s "$work/min_pub")" "$type" <<'PY'
import re, sys
map_file, stripped, build = sys.argv[1], int(sys.argv[2]), sys.argv[3]
groups = {"tether + Asio": 0, "OpenSSL": 0, "C++ runtime": 0, "libc": 0}
def group(path):
    name = path.rsplit("/", 1)[-1]
    if re.match(r"lib(ssl|crypto)\.a", name): return "OpenSSL"
    if re.match(r"lib(stdc\+\+|supc\+\+|gcc|gcc_eh)\.a", name): return "C++ runtime"
    if re.match(r"(lib(c|m|pthread|dl|rt|resolv|nss_\w+)\.a|crt\w*\.o)", name) or "/gcc/" in path and name.endswith(".o"):
        return "libc"
    return "tether + Asio"
# Sections that take space in the stripped file: code, constants, data, unwind tables.
kept = re.compile(r"^\.(text|rodata|data|eh_frame|gcc_except_table|init_array|fini_array|data\.rel\.ro|tdata)\b")
in_map, pending = False, None
for line in open(map_file):
    if line.startswith("Linker script and memory map"):
        in_map = True
        continue
    if not in_map:
        continue
    m = re.match(r"^ (\.\S+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)", line)
    if m:
        section, size, path = m.group(1), int(m.group(2), 16), m.group(3)
    elif pending and (m := re.match(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)", line)):
        section, size, path = pending, int(m.group(1), 16), m.group(2)
    else:
        m = re.match(r"^ (\.\S+)\s*$", line)
        pending = m.group(1) if m else None
        continue
    pending = None
    if kept.match(section):
        groups[group(path)] += size
total = sum(groups.values())
print(f"min_pub, static, {build}: stripped file {stripped:,} B; code and data {total:,} B, of which")
for name, size in groups.items():
    print(f"  {name:<14}{size:>10,} B")
PY
done
lib=$(ldconfig -p | awk '/libmosquitto\.so\.1 /{found = $NF} END {print found}')
if [ -n "$lib" ]; then
  read -r text data _ < <(size "$lib" | tail -1)
  echo "libmosquitto ($lib, Debian -O2, shared): text $(printf "%'d" "$text") B, data $(printf "%'d" "$data") B"
fi
