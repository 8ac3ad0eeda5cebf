#!/usr/bin/env bash
# Failover under load: wrk against Portico over three nginx targets while one is killed and restarted.
#   bench/failover.sh      # needs nginx and wrk (../shared/bench/setup installs both)
# Three 10 s wrk runs (2 threads, 64 connections): before; during (target 2 killed with SIGKILL at
# its start); after (target 2 restarted at its start). Reports failed requests per run (target:
# only those in flight at the kill) and each run's p99. Every process it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
phase="${PHASE:-10}"
source bench/lib.sh failover
needs wrk nginx

start_target() {  # start_target PORT -> pid in $target_pid
  mkdir -p "$work/$1"
  cat > "$work/$1/nginx.conf" <<CONF
master_process off;
daemon off;
worker_processes 1;
pid $work/$1/nginx.pid;
error_log $work/$1/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/$1; proxy_temp_path $work/$1; fastcgi_temp_path $work/$1;
  uwsgi_temp_path $work/$1; scgi_temp_path $work/$1;
  server { listen 127.0.0.1:$1; keepalive_requests 1000000; location / { return 200 "target $1\n"; } }
}
CONF
  nginx -p "$work/$1" -c "$work/$1/nginx.conf" & target_pid=$!; pids+=($target_pid)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/" >/dev/null && return; sleep 0.05; done
  echo "target $1 did not start" >&2; exit 1
}

start_target 18101; start_target 18102; second=$target_pid; start_target 18103
swift build -c release --product portico >/dev/null
cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:18098
store: {sqlite: $work/portico.sqlite}
server: {access-log: false, watch-config: false}
upstreams:
  svc:
    targets: [{url: "http://127.0.0.1:18101"}, {url: "http://127.0.0.1:18102"}, {url: "http://127.0.0.1:18103"}]
    retries: {attempts: 2, on: [connect-failure, reset, 502, 503, 504], budget: 20%}
    health:
      active: {path: /, interval: 1s, timeout: 500ms, healthy: 2, unhealthy: 2}
      passive: {consecutive-failures: 1, ejection: 5s}
    timeouts: {connect: 500ms, try: 2s, total: 5s}
apis:
  - {name: svc, base-path: /svc, upstream: svc}
YAML
.build/release/portico serve --config "$work/gateway.yaml" --log-level warning & pids+=($!)
for _ in $(seq 100); do curl -sf http://127.0.0.1:18098/svc/ >/dev/null && break; sleep 0.05; done

run() { wrk -t2 -c64 -d"${phase}s" --latency http://127.0.0.1:18098/svc/ > "$work/$1.txt"; }
run before
( sleep 0.5; kill -9 "$second" ) & run during
start_target 18102
run after

echo "Failover ($(date -u +%Y-%m-%d), wrk -t2 -c64, ${phase}s per phase, release build, 3 nginx targets)"
printf '%-16s %10s %10s %10s %14s\n' phase rps p99_ms non_2xx socket_errors
for name in before during after; do python3 bench/wrk-summary.py "$work/$name.txt" "$name"; done
