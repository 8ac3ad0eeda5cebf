# Shared by the bench scripts: a scratch folder and the processes started, both cleaned up on exit.
#   source bench/lib.sh NAME     # sets $work; append every started PID to pids
work="$(mktemp -d "/tmp/portico-$1.XXXXXX")"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# needs wrk [nginx …]: stops with a hint when a tool the peer harness installs is missing.
needs() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: run ../shared/bench/setup first" >&2; exit 1; }
  done
}

# cpu_ticks PID: the process's user and system CPU time so far, in clock ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
