#!/usr/bin/env bash
# Call-log benchmarks.
#   bench/analytics.sh                 # RECORDS=10000000 by default; needs wrk (../shared/bench/setup)
# 1. Insert throughput into SQLite (target: 100,000 records/s) and query times over RECORDS calls
#    spread over 24 hours (target: under 200 ms, from the rollups): Sources/portico-bench.
# 2. Throughput with the call log on and off in the same run (target: logging costs at most 5%),
#    wrk -t2 -c64 against the petstore answered by the mock upstream, 10 s per run, alternated twice.
# Every process it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
records="${RECORDS:-10000000}"
source bench/lib.sh analytics
needs wrk

swift build -c release --product portico >/dev/null
swift build -c release --product portico-bench >/dev/null
echo "Call log ($(date -u +%Y-%m-%d), release build)"
.build/release/portico-bench "$work/bench.sqlite" "$records"

cp config/specs/petstore.yaml "$work/petstore.yaml"
run() {  # run on|off
  local flag=$([ "$1" = on ] && echo true || echo false)
  cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:18099
store: {sqlite: $work/gateway.sqlite, call-log: $flag}
server: {access-log: false, watch-config: false}
auth: {keys: {type: api-key}}  # the petstore's api_key scheme maps onto it
apis:
  - {name: petstore, base-path: /petstore, openapi: petstore.yaml, upstream: mock}
YAML
  .build/release/portico serve --config "$work/gateway.yaml" --log-level warning & local pid=$!; pids+=($pid)
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18099/petstore/pets/1 >/dev/null && break; sleep 0.05; done
  wrk -t2 -c64 -d2s http://127.0.0.1:18099/petstore/pets/1 >/dev/null
  wrk -t2 -c64 -d10s --latency http://127.0.0.1:18099/petstore/pets/1 > "$work/$1-$2.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for round in 1 2; do run on "$round"; run off "$round"; done
printf '%-16s %10s %10s %10s %14s\n' run rps p99_ms non_2xx socket_errors
for file in on-1 off-1 on-2 off-2; do python3 bench/wrk-summary.py "$work/$file.txt" "log $file"; done
python3 - "$work" <<'PY'
import re, sys
def rps(name):
    return float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{sys.argv[1]}/{name}.txt").read()).group(1))
on = (rps("on-1") + rps("on-2")) / 2
off = (rps("off-1") + rps("off-2")) / 2
print(f"call log cost: {100 * (off - on) / off:.1f}% of throughput (target <= 5%)")
PY
