#!/usr/bin/env bash
# Cluster mode's costs.
#   bench/cluster.sh        # needs wrk, redis-server and postgresql; DURATION=5 ROUNDS=4 CALLS=200000
# 1. What a Redis-backed rate limit costs per request against the in-memory one: two release
#    gateways with the same mock-answered API and a GCRA limit by ip that is never reached, one
#    counting in memory, one in a redis-server started here on 127.0.0.1 (no persistence).
#    Interleaved round after round (gateways and Redis on core 0, wrk -t1 -c16 on core 1):
#    requests per second, p50 and p99 latency, the gateway's CPU per request and Redis's.
# 2. Call-log ingest into PostgreSQL (a cluster started here with initdb, as the postgres user
#    when run as root), in records per second, with 1 and 3 writers (nodes), against SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-5}"
rounds="${ROUNDS:-4}"
source bench/lib.sh cluster
needs wrk redis-server
calls="${CALLS:-200000}"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is missing: apt-get install postgresql" >&2; exit 1; }

swift build -c release --product portico >/dev/null
swift build -c release --product portico-bench >/dev/null
redis_port=18379
taskset -c 0 redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" & redis=$!; pids+=($redis)
cp config/specs/petstore.yaml "$work/petstore.yaml"
for store in memory redis; do
  port=$([ $store = memory ] && echo 18096 || echo 18097)
  url=$([ $store = memory ] && echo memory || echo "redis://127.0.0.1:$redis_port/0")
  cat > "$work/$store.yaml" <<YAML
listen: 127.0.0.1:$port
store: {sqlite: $work/$store.sqlite}
server: {access-log: false, watch-config: false}
limits: {store: "$url"}
auth: {keys: {type: api-key}}
apis:
  - {name: on, base-path: /on, openapi: petstore.yaml, upstream: mock, rate-limit: {rate: 1000000/s, by: ip}}
YAML
  taskset -c 0 .build/release/portico serve --config "$work/$store.yaml" --log-level warning & pid=$!; pids+=($pid)
  eval "pid_$store=$pid"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/on/pets/1" >/dev/null && break; sleep 0.05; done
  curl -sf -D - -o /dev/null "http://127.0.0.1:$port/on/pets/1" | grep -i '^ratelimit:' >&2
  wrk -t1 -c16 -d2s "http://127.0.0.1:$port/on/pets/1" >/dev/null
done
echo "Redis keys after warm-up: $(redis-cli -p $redis_port dbsize)" >&2
: > "$work/results"
for round in $(seq "$rounds"); do
  for store in memory redis; do
    port=$([ $store = memory ] && echo 18096 || echo 18097)
    pid=$([ $store = memory ] && echo "$pid_memory" || echo "$pid_redis")
    before=$(cpu_ticks "$pid"); redis_before=$(cpu_ticks "$redis")
    taskset -c 1 wrk -t1 -c16 -d"${duration}s" --latency "http://127.0.0.1:$port/on/pets/1" > "$work/$store-$round.txt"
    after=$(cpu_ticks "$pid"); redis_after=$(cpu_ticks "$redis")
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/$store-$round.txt")
    requests=$(awk '/requests in/ {print $1}' "$work/$store-$round.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$store-$round.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/$store-$round.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$store-$round.txt")
    echo "$store $rps $requests $((after - before)) $((redis_after - redis_before)) ${non2xx:-0} $p50 $p99" >> "$work/results"
  done
done
python3 - "$work/results" "$(getconf CLK_TCK)" "$duration" "$rounds" <<'PY'
import statistics, sys
hz = float(sys.argv[2])
def ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit): return float(text[:-len(unit)]) * factor
runs = {}
for store, rps, requests, ticks, redis, non2xx, p50, p99 in (line.split() for line in open(sys.argv[1])):
    n = int(requests)
    runs.setdefault(store, []).append((float(rps), int(ticks) / hz / n * 1e6, int(redis) / hz / n * 1e6, int(non2xx), ms(p50), ms(p99)))
print(f"limit store, wrk -t1 -c16 -d{sys.argv[3]}s x {sys.argv[4]} rounds, medians")
print(f"{'store':8} {'rps':>9} {'gateway us/req':>15} {'redis us/req':>13} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
med = lambda rows, i: statistics.median(r[i] for r in rows)
for store in ["memory", "redis"]:
    rows = runs[store]
    print(f"{store:8} {med(rows,0):>9.0f} {med(rows,1):>15.1f} {med(rows,2):>13.1f} {med(rows,4):>8.2f} {med(rows,5):>8.2f} {sum(r[3] for r in rows):>8}")
m, r = runs["memory"], runs["redis"]
print(f"Redis adds {med(r,1) - med(m,1):.1f} us of gateway CPU and {med(r,2):.1f} us of Redis CPU per request, "
      f"{med(r,4) - med(m,4):+.2f} ms at p50 and {med(r,5) - med(m,5):+.2f} ms at p99; throughput {100 * med(r,0) / med(m,0):.0f}% of memory")
PY

echo
echo "Call-log ingest ($calls gateway-shaped calls in batches of 1,000)"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$work" "$work/pg"
as_pg "$pg_bin/initdb" -D "$work/pg" -U portico --auth=trust -E UTF8 --no-sync >/dev/null
pg_port=18432
as_pg "$pg_bin/postgres" -D "$work/pg" -p $pg_port -k "$work" -c listen_addresses=127.0.0.1 >"$work/pg.log" 2>&1 &
for _ in $(seq 100); do [ -f "$work/pg/postmaster.pid" ] && "$pg_bin/pg_isready" -q -h 127.0.0.1 -p $pg_port && break; sleep 0.1; done
pids+=($(head -1 "$work/pg/postmaster.pid"))
for writers in 1 3; do
  "$pg_bin/createdb" -h 127.0.0.1 -p $pg_port -U portico "ingest$writers"
  .build/release/portico-bench ingest "postgres://portico@127.0.0.1:$pg_port/ingest$writers?sslmode=disable" "$calls" $writers
done
.build/release/portico-bench ingest "$work/ingest.sqlite" "$calls" 1
