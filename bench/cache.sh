#!/usr/bin/env bash
# Response cache: hit throughput against the same route uncached, against nginx proxying the same
# upstream and against the upstream direct, in the same run, and memory against the configured budget.
#   bench/cache.sh           # needs wrk and nginx (../shared/bench/setup); DURATION=5 ROUNDS=3 by default
# The upstream is nginx answering a fixed body with Cache-Control: max-age=3600 (100 B at /small,
# 16 KiB at /large). Servers on core 0, wrk -t1 -c16 on core 1, the three targets interleaved
# round after round. Target (issue 18): cache hits at least as fast as nginx proxying the same
# upstream (its own process, keep-alive upstream connections, on core 0 as well).
# Memory: a 32 MiB budget, then 6,000 distinct 16 KiB objects (about 96 MiB) through the cache;
# the gateway's resident memory above its warmed-up size should stay near the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-5}"
rounds="${ROUNDS:-3}"
source bench/lib.sh cache
needs wrk nginx curl

swift build -c release --product portico >/dev/null
echo "Response cache ($(date -u +%Y-%m-%d), release build)"

chmod 755 "$work"  # nginx reads www/ as nobody
mkdir -p "$work/run/tmp" "$work/www"
python3 -c 'import json; body = json.dumps({"pad": "x" * 16370}); print(body[:16384], end="")' > "$work/www/large.json"
cat > "$work/nginx.conf" <<NGINX
daemon off;
master_process off;  # one process, so stopping it by PID leaves nothing behind
pid run/nginx.pid;
error_log run/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    etag off;
    keepalive_requests 10000000;
    client_body_temp_path run/tmp/body;
    proxy_temp_path run/tmp/proxy;
    fastcgi_temp_path run/tmp/fastcgi;
    uwsgi_temp_path run/tmp/uwsgi;
    scgi_temp_path run/tmp/scgi;
    server {
        listen 127.0.0.1:18097;
        root www;
        add_header Cache-Control "max-age=3600";
        location = /small {
            default_type application/json;
            return 200 '{"status":"ok","service":"bench-upstream","id":123456,"message":"hello from the benchmark upstream"}';
        }
        location = /large { default_type application/json; try_files /large.json =500; }
    }
}
NGINX
taskset -c 0 nginx -p "$work/" -c nginx.conf & pids+=($!)
cat > "$work/proxy.conf" <<NGINX
daemon off;
master_process off;
pid run/proxy.pid;
error_log run/proxy-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path run/tmp/body;
    proxy_temp_path run/tmp/proxy;
    fastcgi_temp_path run/tmp/fastcgi;
    uwsgi_temp_path run/tmp/uwsgi;
    scgi_temp_path run/tmp/scgi;
    upstream origin { server 127.0.0.1:18097; keepalive 64; }
    server {
        listen 127.0.0.1:18095;
        location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
NGINX
taskset -c 0 nginx -p "$work/" -c proxy.conf & pids+=($!)

cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:18096
admin: {listen: 127.0.0.1:18098, token: bench-admin-token-0123456789abcdef}
store: {sqlite: $work/gateway.sqlite, call-log: false}
server: {access-log: false, watch-config: false}
cache: {memory: 32MiB}
upstreams:
  origin: {targets: [{url: "http://127.0.0.1:18097"}]}
apis:
  - {name: uncached, base-path: /uncached, upstream: origin}
  - {name: cached, base-path: /cached, upstream: origin, cache: true}
YAML
taskset -c 0 .build/release/portico serve --config "$work/gateway.yaml" --log-level warning & pid=$!; pids+=($pid)
for _ in $(seq 100); do curl -sf http://127.0.0.1:18096/cached/small >/dev/null && break; sleep 0.05; done
curl -sf -D - -o /dev/null http://127.0.0.1:18096/cached/small | grep -i '^cache-status' >&2

declare -A urls=(
  [direct]="http://127.0.0.1:18097"
  [nginx]="http://127.0.0.1:18095"
  [uncached]="http://127.0.0.1:18096/uncached"
  [hit]="http://127.0.0.1:18096/cached"
)
: > "$work/results"
for body in small large; do
  for name in direct nginx uncached hit; do wrk -t1 -c16 -d1s "${urls[$name]}/$body" >/dev/null; done
  for round in $(seq "$rounds"); do
    for name in direct nginx uncached hit; do
      taskset -c 1 wrk -t1 -c16 -d"${duration}s" "${urls[$name]}/$body" > "$work/$body-$name-$round.txt"
      rps=$(awk '/Requests\/sec/ {print $2}' "$work/$body-$name-$round.txt")
      non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$body-$name-$round.txt")
      echo "$body $name $rps ${non2xx:-0}" >> "$work/results"
    done
  done
done
python3 - "$work/results" "$duration" "$rounds" <<'PY'
import statistics, sys
runs = {}
for body, name, rps, non2xx in (line.split() for line in open(sys.argv[1])):
    runs.setdefault((body, name), []).append((float(rps), int(non2xx)))
print(f"throughput, wrk -t1 -c16 -d{sys.argv[2]}s x {sys.argv[3]} rounds, medians (requests/s)")
names = ["direct", "nginx", "uncached", "hit"]
print(f"{'body':6} {'direct':>10} {'nginx':>10} {'uncached':>10} {'hit':>10} {'hit/nginx':>10} {'hit/direct':>11} {'hit/uncached':>13} {'non-2xx':>8}")
for body in ["small", "large"]:
    med = {name: statistics.median(r[0] for r in runs[(body, name)]) for name in names}
    errors = sum(r[1] for name in names for r in runs[(body, name)])
    print(f"{body:6} {med['direct']:>10.0f} {med['nginx']:>10.0f} {med['uncached']:>10.0f} {med['hit']:>10.0f} "
          f"{med['hit'] / med['nginx']:>9.2f}x {med['hit'] / med['direct']:>10.2f}x {med['hit'] / med['uncached']:>12.2f}x {errors:>8}")
PY

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss_kib "$pid")
curl -s -o /dev/null "http://127.0.0.1:18096/cached/large?object=[1-6000]"
after=$(rss_kib "$pid")
stats=$(curl -s -H 'Authorization: Bearer bench-admin-token-0123456789abcdef' http://127.0.0.1:18098/admin/cache)
python3 - "$before" "$after" "$stats" <<'PY'
import json, sys
before, after, stats = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
mib = lambda kib: kib / 1024
print(f"memory: 6000 x 16 KiB objects offered (~94 MiB) to a {stats['budget'] / 2**20:.0f} MiB budget")
print(f"  cache holds {stats['entries']} entries, {stats['bytes'] / 2**20:.1f} MiB counted, {stats['evictions']} evicted")
print(f"  gateway RSS {mib(before):.1f} -> {mib(after):.1f} MiB (+{mib(after - before):.1f} MiB; budget {stats['budget'] / 2**20:.0f} MiB)")
PY
