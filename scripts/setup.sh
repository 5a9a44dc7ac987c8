#!/usr/bin/env bash
# Installs everything tether needs to build, test and benchmark, from Debian's packages.
# Safe to run again. Needs root, or sudo.
set -euo pipefail

packages=(
  cmake make g++ python3 openssl
  libasio-dev libssl-dev                       # the client: standalone Asio, OpenSSL 3
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and micro-benchmarks
  mosquitto mosquitto-clients                  # the real broker for integration tests
  socat                                        # a TLS-1.2-only server for the --tls-version/--ciphers tests
  gcc-arm-none-eabi binutils-arm-none-eabi     # the Cortex-M4 footprint build
  libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev libstdc++-arm-none-eabi-newlib
  clang libclang-rt-14-dev                     # libFuzzer, ASan, UBSan
  libmosquitto-dev libpaho-mqtt-dev            # peers in the benchmarks only
  nlohmann-json3-dev                           # the one JSON type (json5/, device/, cloud/)
  libsqlite3-dev libpq-dev postgresql          # the cloud's storage engines; tests start their own PostgreSQL
  libcpp-httplib-dev libjs-chart.js            # the cloud's web server and the Device Manager's charts
  rabbitmq-server nats-server                  # more brokers (and clusters) for the client's tests
  chromium chromium-driver                     # a real browser for the Device Manager's tests
)

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  as_root=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup: apt-get update"
"${as_root[@]}" apt-get update -qq
echo "setup: apt-get install ${#packages[@]} packages"
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup: done"
