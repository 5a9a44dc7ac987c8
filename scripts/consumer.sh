#!/usr/bin/env bash
# Builds tether (Release, library and command only), installs it into a temporary prefix,
# then builds the outside project tests/consumer/ against the installed files twice — with
# CMake (find_package(tether CONFIG REQUIRED), tether::client) and with pkg-config
# (tether-client) — and runs both against a private mosquitto on a free loopback port.
# Also checks that the installed tether command runs, and, with DEB=1, that `cpack -G DEB`
# makes a package holding the library, the headers and the command.
#
#   bash scripts/consumer.sh            # BUILD_DIR=build-install by default
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-install}
jobs=${JOBS:-1}

work=$(mktemp -d)
broker=
cleanup() {
    if [ -n "$broker" ]; then kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
prefix=$work/prefix

echo "== build and install into $prefix"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTETHER_BUILD_TESTS=OFF -DTETHER_BUILD_DEVICE=OFF \
    -DTETHER_BUILD_CLOUD=OFF -DTETHER_SANITIZE=OFF -DTETHER_WERROR="${WERROR:-ON}" >/dev/null
cmake --build "$build" -j"$jobs" --target tether_core tether_client tether >/dev/null
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/tether/client/client.hpp include/tether/core/session.hpp lib/libtether_client.a \
         lib/libtether_core.a lib/cmake/tether/tether-config.cmake lib/pkgconfig/tether-client.pc bin/tether; do
    [ -e "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done

echo "== the consumer, with CMake (find_package) and with pkg-config"
cmake -S tests/consumer -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/consumer" >/dev/null
# shellcheck disable=SC2046  # the flags are words
g++ -O2 -o "$work/consumer-pc" tests/consumer/main.cpp \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs tether-client)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/mosquitto.conf" <<CONF
user root
listener $port 127.0.0.1
allow_anonymous true
log_dest none
CONF
mosquitto -c "$work/mosquitto.conf" 2>/dev/null &
broker=$!
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

echo "   cmake build:      $("$work/consumer/consumer" 127.0.0.1 "$port")"
echo "   pkg-config build: $("$work/consumer-pc" 127.0.0.1 "$port")"
"$prefix/bin/tether" pub -p "$port" -t consumer/command -m installed -q 1
echo "   installed tether pub: ok"

if [ "${DEB:-0}" = 1 ]; then
    echo "== cpack -G DEB"
    (cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
    deb=$(ls "$work"/deb/tether_*.deb)
    dpkg-deb --contents "$deb" | grep -E 'bin/tether$|libtether_client.a|tether-client.pc|tether-config.cmake|client/client.hpp' |
        awk '{print "   " $NF}'
    [ "$(dpkg-deb --contents "$deb" | grep -cE 'bin/tether$|libtether_client.a|tether-client.pc|tether-config.cmake')" = 4 ] ||
        { echo "the package misses files" >&2; exit 1; }
    echo "   $(basename "$deb"): $(dpkg-deb --field "$deb" Depends)"
fi
echo "== consumer: ok"
