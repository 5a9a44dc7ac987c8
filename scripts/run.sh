#!/usr/bin/env bash
# The main job: set up, build, and show the core at work (a session and a scripted
# server exchanging CONNECT, SUBSCRIBE, PUBLISH at QoS 1 and 2, keep-alive, a reconnect).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target core_transcript
./build/examples/core_transcript
