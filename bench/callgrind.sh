#!/usr/bin/env bash
# Instructions per request under valgrind's callgrind: repeatable on a noisy machine, unlike wall time.
#   bench/callgrind.sh [path/to/portico]   # default .build/release/portico (built if missing)
# Three setups, each its own gateway process: the plain proxy (like bench/proxy.yaml), the keyed and
# limited proxy (API key, rate limit, stdout access log and SQLite call log on), and the mock (no
# upstream leg). Each: 1,000 warm-up requests, counters zeroed, N requests on one keep-alive
# connection (N=${REQUESTS:-5000}), counters dumped; the figure is instructions / N, for the whole
# process (every thread), including the call log's writer. The upstream is nginx (not measured).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh callgrind
needs valgrind nginx python3
requests="${REQUESTS:-5000}"
binary="${1:-.build/release/portico}"
[ -x "$binary" ] || swift build -c release --product portico >/dev/null
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:18095;
        location / {
            default_type application/json;
            return 200 '{"status":"ok","service":"bench-upstream","id":123456,"message":"hello from the benchmark upstream"}';
        }
    }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)

key="bench-api-key-0123456789abcdef"
cp config/specs/petstore.yaml "$work/petstore.yaml"
write_config() { # name access-log
  cat > "$work/$1.yaml" <<YAML
listen: 127.0.0.1:18096
store: {sqlite: $work/$1.sqlite}
server: {access-log: $2, watch-config: false}
auth:
  key: {type: api-key}
consumers:
  - {name: bench, keys: ["$key"]}
upstreams:
  peer: {targets: [{url: "http://127.0.0.1:18095"}], max-connections: 128}
apis:
  - {name: plain, base-path: /small, strip-base-path: false, upstream: peer}
  - name: keyed
    base-path: /keyed
    upstream: peer
    auth: key
    rate-limit: {rate: 1000000/s, burst: 1000000, by: consumer}
  - {name: mock, base-path: /mock, openapi: $work/petstore.yaml, upstream: mock}
YAML
}
write_config quiet false
write_config logged true

measure() { # label config path [header]
  local out="$work/callgrind.$1.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" serve --config "$work/$2.yaml" --log-level warning \
    >"$work/$1.stdout" 2>"$work/$1.stderr" &
  local pid=$!
  pids+=($pid)
  python3 - "$3" "${4:-}" "$requests" "$pid" <<'PY'
import http.client, subprocess, sys, time
path, header, count, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
headers = dict([header.split(": ", 1)]) if header else {}
for _ in range(600):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", 18096, timeout=30)
        conn.request("GET", path, headers=headers); response = conn.getresponse(); response.read()
        if response.status == 200: break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit("the gateway did not answer 200 on " + path)
def run(n):
    for _ in range(n):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse(); response.read()
        assert response.status == 200, response.status
run(1000)
subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
run(count)
subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
PY
  sleep 1
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local total
  total=$(for file in "$out".*; do grep -h "^summary:" "$file" 2>/dev/null; done | awk '{sum += $2} END {print sum}')
  printf '%-28s %12s instructions per request\n' "$1" "$(( total / requests ))"
}

echo "callgrind, $requests requests each, $(basename "$binary") ($(git rev-parse --short HEAD))"
measure plain quiet /small/x
measure keyed-limited-logged logged /keyed/x "X-API-Key: $key"
measure mock quiet /mock/pets
