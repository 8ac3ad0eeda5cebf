#!/usr/bin/env bash
# Call-log benchmarks.
#   bench/analytics.sh     # needs wrk and nginx (../shared/bench/setup); RECORDS=10000000 ROUNDS=5 DURATION=8
# 1. Insert throughput into SQLite (target: 100,000 records/s) and query times over RECORDS calls
#    spread over 24 hours (target: under 200 ms, from the rollups): Sources/portico-bench.
# 2. The writer's CPU per call for the gateway's own traffic shape, next to SQLite alone inserting
#    the same rows into the same schema (the floor any SQLite call log pays).
# 3. What logging costs a gateway (target: at most 5%): two gateways with identical configs but
#    `store.call-log` on and off, run at the same time and loaded at the same time, so the
#    machine's phases (this 2-core VM's speed drifts by 30% within a minute) hit both alike.
#    Both gateways on core 0; wrk (-t1 -c16 against each) and the nginx upstream on core 1.
#    Per round: requests/s and gateway CPU per request (from /proc). Sharing a core, the two
#    gateways split it by the scheduler's fairness (the logging one has one more busy thread),
#    so the cost is read from CPU per request: a gateway that is CPU-bound serves 1/CPU requests
#    per second, and logging costs it 1 - cpu_off/cpu_on of its throughput. Two setups: "proxy",
#    the petstore proxied to nginx answering 103 bytes (what the issue's "proxy throughput"
#    means), and "mock", answered inside the gateway (no upstream leg: the cheapest request the
#    gateway serves, so the largest share logging can take).
# Every process it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
records="${RECORDS:-10000000}"
rounds="${ROUNDS:-5}"
duration="${DURATION:-8}"
source bench/lib.sh analytics
needs wrk nginx
chmod 755 "$work"

swift build -c release --product portico >/dev/null
swift build -c release --product portico-bench >/dev/null
echo "Call log ($(date -u +%Y-%m-%d), release build)"
.build/release/portico-bench "$work/bench.sqlite" "$records"

# 2. The writer, then SQLite alone on the same schema (a store the writer created, emptied).
.build/release/portico-bench writer "$work/writer.sqlite" 300000
python3 - "$work/writer.sqlite" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA synchronous = NORMAL")
db.execute("DELETE FROM calls")
db.commit()
started = time.process_time()
for batch in range(300):
    first = batch * 1000
    db.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {first + 999})
        INSERT INTO calls (time, request_id, method, path, api, version, consumer, route, status, bytes_in, bytes_out,
                           total_ms, upstream_ms, target, client, error, retries, key_prefix, rate_limit, cache, trace_id)
        SELECT 1.8e9 + i * 0.0001, printf('0123456789ab%012x', i), 'GET', '/petstore/pets/1', 'petstore', NULL, NULL,
               'getPetById', 200, 0, 103, 0.3, 0.1, 'http://127.0.0.1:18180', '127.0.0.1', NULL, 0, NULL, NULL, NULL,
               '4bf92f3577b34da6a3ce929d0e0e4736'
        FROM n""")
    db.commit()
print(f"sqlite alone: 300000 rows in batches of 1000, {(time.process_time() - started) / 300000 * 1e6:.2f} us of CPU per row")
PY

# 3. Logging on against off, at the same time.
cp config/specs/petstore.yaml "$work/petstore.yaml"
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:18180;
    keepalive_requests 1000000;
    location / {
      default_type application/json;
      return 200 '{"id":1,"name":"Rex","tag":"dog","status":"available","category":{"id":1,"name":"Dogs"},"photoUrls":[]}';
    }
  }
}
NGINX
taskset -c 1 nginx -c "$work/nginx/nginx.conf" & nginx_pid=$!; pids+=($nginx_pid)

gateway() {  # gateway SETUP on|off PORT: writes the config, starts the gateway on core 0, prints its PID
  local upstream=$([ "$1" = proxy ] && echo nginx || echo mock)
  cat > "$work/$1-$2.yaml" <<YAML
listen: 127.0.0.1:$3
store: {sqlite: $work/$1-$2.sqlite, call-log: $([ "$2" = on ] && echo true || echo false)}
server: {access-log: false, watch-config: false}
auth: {keys: {type: api-key}}  # the petstore's api_key scheme maps onto it
upstreams:
  nginx: {targets: [{url: "http://127.0.0.1:18180"}]}
apis:
  - {name: petstore, base-path: /petstore, openapi: petstore.yaml, upstream: $upstream}
YAML
  taskset -c 0 .build/release/portico serve --config "$work/$1-$2.yaml" --log-level warning >/dev/null &
  echo $!
}
: > "$work/results"
for setup in proxy mock; do
  on=$(gateway "$setup" on 18101); pids+=("$on")
  off=$(gateway "$setup" off 18102); pids+=("$off")
  for port in 18101 18102; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/petstore/pets/1" >/dev/null && break; sleep 0.05; done
    curl -sf "http://127.0.0.1:$port/petstore/pets/1" >/dev/null || { echo "gateway on $port does not answer" >&2; exit 1; }
  done
  warm=()
  for port in 18101 18102; do taskset -c 1 wrk -t1 -c16 -d2s "http://127.0.0.1:$port/petstore/pets/1" >/dev/null & warm+=($!); done
  wait "${warm[@]}"
  for round in $(seq "$rounds"); do
    on_before=$(cpu_ticks "$on"); off_before=$(cpu_ticks "$off")
    taskset -c 1 wrk -t1 -c16 -d"${duration}s" http://127.0.0.1:18101/petstore/pets/1 > "$work/on.txt" & load_on=$!
    taskset -c 1 wrk -t1 -c16 -d"${duration}s" http://127.0.0.1:18102/petstore/pets/1 > "$work/off.txt" & load_off=$!
    wait "$load_on" "$load_off"
    on_after=$(cpu_ticks "$on"); off_after=$(cpu_ticks "$off")
    for side in on off; do
      file="$work/$side.txt"
      ticks=$([ "$side" = on ] && echo $((on_after - on_before)) || echo $((off_after - off_before)))
      echo "$setup $round $side $(awk '/Requests\/sec/ {print $2}' "$file") $(awk '/requests in/ {print $1}' "$file") $ticks $(awk '/Non-2xx/ {print $5}' "$file" | grep . || echo 0)" >> "$work/results"
    done
  done
  kill "$on" "$off"
  while kill -0 "$on" 2>/dev/null || kill -0 "$off" 2>/dev/null; do sleep 0.1; done
done
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
python3 - "$work/results" "$(getconf CLK_TCK)" "$rounds" "$duration" <<'PY'
import statistics, sys
hz = float(sys.argv[2])
runs = {}
for setup, round_, side, rps, requests, ticks, non2xx in (line.split() for line in open(sys.argv[1])):
    runs.setdefault((setup, int(round_)), {})[side] = (float(rps), int(ticks) / hz / int(requests) * 1e6, int(non2xx))
print(f"logging on against off at the same time, wrk -t1 -c16 -d{sys.argv[4]}s each, {sys.argv[3]} rounds")
print(f"{'setup':6} {'round':>5} {'rps on':>8} {'rps off':>8} {'cpu us/req on':>14} {'off':>7} {'cost':>6} {'non-2xx':>8}")
costs = {}
for (setup, round_), sides in sorted(runs.items()):
    (rps_on, cpu_on, bad_on), (rps_off, cpu_off, bad_off) = sides["on"], sides["off"]
    cost = 1 - cpu_off / cpu_on
    costs.setdefault(setup, []).append(cost)
    print(f"{setup:6} {round_:>5} {rps_on:>8.0f} {rps_off:>8.0f} {cpu_on:>14.2f} {cpu_off:>7.2f} {100 * cost:>5.1f}% {bad_on + bad_off:>8}")
for setup, values in costs.items():
    print(f"call log cost, {setup}: median {100 * statistics.median(values):.1f}% of throughput (1 - cpu_off/cpu_on; target <= 5%)")
PY
