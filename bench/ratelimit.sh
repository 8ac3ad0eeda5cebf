#!/usr/bin/env bash
# Rate-limit costs.
#   bench/ratelimit.sh       # needs wrk (../shared/bench/setup); DURATION=5 ROUNDS=4 by default
# 1. In-process (portico-bench limits): the in-memory limiter's decision time over 100,000
#    distinct keys (target: median under 1 µs), and its memory with 1,000,000 keys.
# 2. End to end: the same mock-answered API with a GCRA limit by ip that is never reached, and
#    without one, interleaved round after round (gateway on core 0, wrk -t1 -c16 on core 1);
#    requests per second and gateway CPU per request.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-5}"
rounds="${ROUNDS:-4}"
source bench/lib.sh ratelimit
needs wrk

swift build -c release --product portico >/dev/null
swift build -c release --product portico-bench >/dev/null
echo "Rate limits ($(date -u +%Y-%m-%d), release build)"
.build/release/portico-bench limits 100000 10

cp config/specs/petstore.yaml "$work/petstore.yaml"
cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:18095
store: {sqlite: $work/gateway.sqlite}
server: {access-log: false, watch-config: false}
auth: {keys: {type: api-key}}  # the petstore's api_key scheme maps onto it
apis:
  - {name: off, base-path: /off, openapi: petstore.yaml, upstream: mock}
  - {name: on, base-path: /on, openapi: petstore.yaml, upstream: mock, rate-limit: {rate: 1000000/s, by: ip}}
YAML
taskset -c 0 .build/release/portico serve --config "$work/gateway.yaml" --log-level warning & pid=$!; pids+=($pid)
for _ in $(seq 100); do curl -sf http://127.0.0.1:18095/off/pets/1 >/dev/null && break; sleep 0.05; done
curl -sf -D - -o /dev/null http://127.0.0.1:18095/on/pets/1 | grep -i '^ratelimit' >&2
: > "$work/results"
for name in off on; do wrk -t1 -c16 -d2s "http://127.0.0.1:18095/$name/pets/1" >/dev/null; done
for round in $(seq "$rounds"); do
  for name in off on; do
    before=$(cpu_ticks "$pid")
    taskset -c 1 wrk -t1 -c16 -d"${duration}s" "http://127.0.0.1:18095/$name/pets/1" > "$work/$name-$round.txt"
    after=$(cpu_ticks "$pid")
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name-$round.txt")
    requests=$(awk '/requests in/ {print $1}' "$work/$name-$round.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$name-$round.txt")
    echo "$name $rps $requests $((after - before)) ${non2xx:-0}" >> "$work/results"
  done
done
python3 - "$work/results" "$(getconf CLK_TCK)" "$duration" "$rounds" <<'PY'
import statistics, sys
hz = float(sys.argv[2])
runs = {}
for name, rps, requests, ticks, non2xx in (line.split() for line in open(sys.argv[1])):
    runs.setdefault(name, []).append((float(rps), int(ticks) / hz / int(requests) * 1e6, int(non2xx)))
print(f"end to end, wrk -t1 -c16 -d{sys.argv[3]}s x {sys.argv[4]} rounds, medians")
print(f"{'limits':8} {'rps':>10} {'cpu us/req':>11} {'non-2xx':>8}")
for name in ["off", "on"]:
    rows = runs[name]
    print(f"{name:8} {statistics.median(r[0] for r in rows):>10.0f} {statistics.median(r[1] for r in rows):>11.2f} {sum(r[2] for r in rows):>8}")
off = statistics.median(r[0] for r in runs["off"]); on = statistics.median(r[0] for r in runs["on"])
print(f"throughput with limits on: {100 * on / off:.1f}% of off")
PY
