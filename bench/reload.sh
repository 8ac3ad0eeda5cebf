#!/usr/bin/env bash
# Reloads under load, and the compile time of a large config.
#   bench/reload.sh        # needs wrk (../shared/bench/setup installs it); DURATION=30 by default
# 1. wrk (2 threads, 64 connections) against Portico for DURATION seconds without reloads, then
#    again while the config flips between two versions every 500 ms (POST /admin/reload):
#    non-2xx responses and socket errors (target 0), and p99 against the quiet run (target <= 1.2x).
# 2. A config of 1,000 routes across 50 OpenAPI documents: the reload time /admin/status reports
#    (load, check and compile; target < 100 ms).
# Every process it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-30}"
source bench/lib.sh reload
needs wrk
auth=(-H 'Authorization: Bearer bench-admin-token-0123456789abcdef')

swift build -c release --product portico >/dev/null
portico=.build/release/portico

start() {  # start CONFIG: runs portico, waits for its admin API
  "$portico" serve --config "$1" --log-level warning & pids+=($!)
  for _ in $(seq 200); do curl -sf "${auth[@]}" http://127.0.0.1:19096/admin/status >/dev/null && return; sleep 0.05; done
  echo "portico did not start" >&2; exit 1
}
stop() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

# --- 1. wrk with and without reloads, against the petstore from config/ answered by the mock.
mkdir -p "$work/small"
cp config/specs/petstore.yaml "$work/small/petstore.yaml"
write_small() {  # write_small VERSION
  cat > "$work/small/gateway.yaml" <<YAML
listen: 127.0.0.1:18096
admin: {listen: 127.0.0.1:19096, token: bench-admin-token-0123456789abcdef}
store: {sqlite: $work/small/portico.sqlite}
server: {access-log: false, watch-config: false}
auth: {keys: {type: api-key}}  # the petstore's api_key scheme maps onto it
apis:
  - name: petstore
    base-path: /petstore
    openapi: petstore.yaml
    upstream: mock
    response-headers: {set: {X-Version: "$1"}}
YAML
}
write_small A
start "$work/small/gateway.yaml"
url=http://127.0.0.1:18096/petstore/pets/1
wrk -t2 -c64 -d2s "$url" >/dev/null   # warm-up
wrk -t2 -c64 -d"${duration}s" --latency "$url" > "$work/quiet.txt"

( v=B; while true; do write_small $v; curl -s -o /dev/null "${auth[@]}" -X POST http://127.0.0.1:19096/admin/reload
    [ $v = A ] && v=B || v=A; sleep 0.5; done ) & pids+=($!)
wrk -t2 -c64 -d"${duration}s" --latency "$url" > "$work/reloading.txt"
kill "${pids[-1]}"; unset 'pids[-1]'
reloads=$(curl -s "${auth[@]}" http://127.0.0.1:19096/admin/status | python3 -c 'import json,sys; r=json.load(sys.stdin)["reloads"]; print(r["succeeded"], r["failed"])')
stop

read -r _ q_rps q_p99 q_non q_err <<<"$(python3 bench/wrk-summary.py "$work/quiet.txt" quiet)"
read -r _ r_rps r_p99 r_non r_err <<<"$(python3 bench/wrk-summary.py "$work/reloading.txt" reloading)"
read -r ok failed <<<"$reloads"
echo "Reload under load ($(date -u +%Y-%m-%d), wrk -t2 -c64, ${duration}s each, release build, mock upstream)"
printf '%-16s %10s %10s %10s %14s\n' run rps p99_ms non_2xx socket_errors
printf '%-16s %10s %10s %10s %14s\n' "no reloads" "$q_rps" "$q_p99" "$q_non" "$q_err"
printf '%-16s %10s %10s %10s %14s\n' "reload/500ms" "$r_rps" "$r_p99" "$r_non" "$r_err"
python3 -c "print(f'p99 ratio {float(\"$r_p99\")/float(\"$q_p99\"):.2f} (target <= 1.2); reloads applied $ok, failed $failed')"

# --- 2. compile time of 1,000 routes across 50 documents.
python3 bench/gen-routes.py "$work/large" 50 20 A
start "$work/large/gateway.yaml"
times=()
for i in $(seq 10); do
  v=$([ $((i % 2)) = 1 ] && echo B || echo A)
  python3 bench/gen-routes.py "$work/large" 50 20 "$v"
  times+=("$(curl -s "${auth[@]}" -X POST http://127.0.0.1:19096/admin/reload | python3 -c 'import json,sys; print(json.load(sys.stdin)["reload_ms"])')")
done
routes=$(curl -s "${auth[@]}" http://127.0.0.1:19096/admin/status | python3 -c 'import json,sys; print(json.load(sys.stdin)["routes"])')
stop
python3 - "$routes" "${times[@]}" <<'PY'
import statistics, sys
routes, times = sys.argv[1], sorted(float(t) for t in sys.argv[2:])
print(f"Compile of {routes} routes across 50 OpenAPI documents (load, check, compile), {len(times)} reloads:"
      f" median {statistics.median(times):.1f} ms, max {times[-1]:.1f} ms (target < 100 ms)")
PY
