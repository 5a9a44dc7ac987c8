# Shared by the benchmark scripts (sourced): the build, a scratch directory cleaned up on
# exit, free loopback ports, and a local mosquitto.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
bench_pids=()
bench_cleanup() {
  if [ ${#bench_pids[@]} -gt 0 ]; then
    kill "${bench_pids[@]}" 2>/dev/null || true
    wait "${bench_pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap bench_cleanup EXIT

# Builds the given targets of the RelWithDebInfo build in build/.
bench_build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 --target "$@" >/dev/null
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on port $1" >&2
  return 1
}

# Starts mosquitto on a free loopback port and sets mosquitto_port to it (not a $(...)
# call: the broker must stay a child of this shell, to be stopped on exit). Nagle off (set_tcp_nodelay):
# with it on, small acknowledgements wait for delayed ACKs and every client measures the
# same 40 ms stalls instead of itself. Extra configuration lines may follow as arguments.
# With broker_cpu set, the broker is pinned to that CPU.
start_mosquitto() {
  local port conf
  port=$(free_port)
  conf="$work/mosquitto-$port.conf"
  printf 'user root\nlistener %s 127.0.0.1\nallow_anonymous true\nlog_dest none\nset_tcp_nodelay true\n' "$port" >"$conf"
  for line in "$@"; do echo "$line" >>"$conf"; done
  if [ -n "${broker_cpu:-}" ]; then
    taskset -c "$broker_cpu" mosquitto -c "$conf" >/dev/null 2>&1 &
  else
    mosquitto -c "$conf" >/dev/null 2>&1 &
  fi
  bench_pids+=($!)
  wait_for_port "$port"
  mosquitto_port=$port
}

machine_line() {
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
}
