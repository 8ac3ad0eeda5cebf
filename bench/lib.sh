# Shared by the bench scripts: a scratch folder and the processes started, both cleaned up on exit.
#   source bench/lib.sh NAME     # sets $work; append every started PID to pids
work="$(mktemp -d "/tmp/portico-$1.XXXXXX")"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
