#!/usr/bin/env bash
# Builds the whole core (core/src/*.cpp) the way a microcontroller would and prints its
# code size: Cortex-M4 Thumb-2 and x86-64, both -Os. Fails if any object needs the heap
# or exception support, or if the Cortex-M4 text of the protocol core passes the budget.
# The protocol core is every object but session_restore.o, the durable outbox's restore,
# which a device links only when it keeps an outbox across restarts (a static library
# brings in an object only when called); the table shows it and the whole core apart.
#
#   bash scripts/footprint.sh            # table, checks
#   BUDGET=6000 bash scripts/footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${BUDGET:-6000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
arm_flags=(-std=c++20 -Os -DNDEBUG -mcpu=cortex-m4 -mthumb -fno-exceptions -fno-rtti)
host_flags=(-std=c++20 -Os -DNDEBUG -fno-exceptions -fno-rtti)

mkdir -p "$out/arm" "$out/x86"
for src in core/src/*.cpp; do
  name=$(basename "$src" .cpp)
  arm-none-eabi-g++ "${arm_flags[@]}" -Wall -Wextra -Werror -Icore/include -c "$src" -o "$out/arm/$name.o"
  g++ "${host_flags[@]}" -Wall -Wextra -Werror -Icore/include -c "$src" -o "$out/x86/$name.o"
done

# Anything that would pull in the heap, exceptions or RTTI at link time.
forbidden='^(malloc|calloc|realloc|free|_Zn[wa][jm].*|_Zd[la]Pv.*|__cxa_.*|_Unwind_.*|__gxx_personality.*|__aeabi_unwind.*|_ZSt[0-9]*__throw_.*|_ZTI.*|_ZTV.*)$'
bad=$(arm-none-eabi-nm -u "$out"/arm/*.o | awk 'NF==2 {print $2}' | grep -E "$forbidden" | sort -u || true)

optional=session_restore
text_of() { "$1" "$2"/*.o | awk 'NR>1 {sum += $1} END {print sum}'; }
text_without() { "$1" $(ls "$2"/*.o | grep -v "/$optional\.o$") | awk 'NR>1 {sum += $1} END {print sum}'; }
arm_whole=$(text_of arm-none-eabi-size "$out/arm")
x86_whole=$(text_of size "$out/x86")
arm_total=$(text_without arm-none-eabi-size "$out/arm")
x86_total=$(text_without size "$out/x86")

echo "tether core footprint (text bytes, -Os, -fno-exceptions -fno-rtti, -DNDEBUG)"
printf "  %-14s %10s %10s\n" "file" "cortex-m4" "x86-64"
for src in core/src/*.cpp; do
  name=$(basename "$src" .cpp)
  a=$(arm-none-eabi-size "$out/arm/$name.o" | awk 'NR==2 {print $1}')
  x=$(size "$out/x86/$name.o" | awk 'NR==2 {print $1}')
  printf "  %-14s %10s %10s\n" "$name" "$a" "$x"
done
printf "  %-14s %10s %10s\n" "protocol core" "$arm_total" "$x86_total"
printf "  %-14s %10s %10s\n" "whole core" "$arm_whole" "$x86_whole"
echo "  undefined symbols the core needs: $(arm-none-eabi-nm -u "$out"/arm/*.o | awk 'NF==2 {print $2}' | grep -v -E '^_ZNK?6tether' | sort -u | tr '\n' ' ')"

if [ -n "$bad" ]; then
  echo "footprint: FAIL: the core references heap or exception support:" >&2
  echo "$bad" >&2
  exit 1
fi
if [ "$arm_total" -gt "$budget" ]; then
  echo "footprint: FAIL: $arm_total bytes of Cortex-M4 text (protocol core) is over the budget of $budget" >&2
  exit 1
fi
echo "footprint: ok: $arm_total bytes of Cortex-M4 text for the protocol core (budget $budget), $arm_whole with the outbox restore; no heap, no exceptions, no RTTI"
