#!/usr/bin/env bash
# TLS at the edge: Portico against nginx, both terminating TLS in front of the same upstream, in
# the same run. HTTP/1.1 over TLS with wrk -t2 -c64 and HTTP/2 over TLS (ALPN h2) with
# h2load -c8 -m8, as the peer harness loads its plaintext and h2c runs.
#   bench/tls.sh       # needs wrk, h2load, nginx, openssl (../shared/bench/setup); DURATION=5 ROUNDS=3
# The certificate is a P-256 key made for the run; both servers offer TLS 1.2 and 1.3, so the
# clients get TLS 1.3 (the cipher each one chose is printed). Keep-alive connections: the
# figure is the per-request cost of encryption and proxying, not of handshakes. nginx runs two
# workers, as Portico runs two event loops; CPU per request counts every process of each proxy.
# Target (issue 19): at least 0.66x nginx's requests per second with TLS and with h2.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-5}"
rounds="${ROUNDS:-3}"
source bench/lib.sh tls
needs wrk h2load nginx openssl curl

swift build -c release --product portico >/dev/null
echo "TLS at the edge ($(date -u +%Y-%m-%d), release build, $(nproc) cores)"

chmod 755 "$work"  # nginx reads www/ as nobody
mkdir -p "$work/run/tmp" "$work/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
python3 -c 'import json; body = json.dumps({"pad": "x" * 16370}); print(body[:16384], end="")' > "$work/www/large.json"
temp_paths="client_body_temp_path run/tmp/body; proxy_temp_path run/tmp/proxy; fastcgi_temp_path run/tmp/fastcgi;
    uwsgi_temp_path run/tmp/uwsgi; scgi_temp_path run/tmp/scgi;"
cat > "$work/upstream.conf" <<NGINX
daemon off;
master_process off;
pid run/upstream.pid;
error_log run/upstream-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    etag off;
    keepalive_requests 10000000;
    $temp_paths
    server {
        listen 127.0.0.1:18297;
        root www;
        location = /small {
            default_type application/json;
            return 200 '{"status":"ok","service":"bench-upstream","id":123456,"message":"hello from the benchmark upstream"}';
        }
        location = /large { default_type application/json; try_files /large.json =500; }
    }
}
NGINX
nginx -p "$work/" -c upstream.conf & pids+=($!)
cat > "$work/proxy.conf" <<NGINX
daemon off;
pid run/proxy.pid;
worker_processes 2;
error_log run/proxy-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    $temp_paths
    upstream origin { server 127.0.0.1:18297; keepalive 128; }
    server {
        listen 127.0.0.1:18243 ssl http2;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
NGINX
nginx -p "$work/" -c proxy.conf & nginx_pid=$!; pids+=($nginx_pid)

cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:18280
admin: {listen: 127.0.0.1:18298, token: bench-admin-token-0123456789abcdef}
store: {sqlite: $work/gateway.sqlite}
server: {access-log: false, watch-config: false}
listeners:
  - listen: 127.0.0.1:18244
    tls: {certificates: [{cert: $work/cert.pem, key: $work/key.pem}], min-version: "1.2"}
    protocols: [h2, http/1.1]
upstreams:
  origin: {targets: [{url: "http://127.0.0.1:18297"}], max-connections: 128}
apis:
  - {name: small, base-path: /small, strip-base-path: false, upstream: origin}
  - {name: large, base-path: /large, strip-base-path: false, upstream: origin}
YAML
.build/release/portico serve --config "$work/gateway.yaml" --log-level warning & portico_pid=$!; pids+=($portico_pid)
for port in 18243 18244; do
  for _ in $(seq 100); do curl -skf "https://127.0.0.1:$port/small" >/dev/null && break; sleep 0.05; done
done
for pid in $(pgrep -P "$nginx_pid"); do pids+=($pid); done
for port in 18243 18244; do
  echo "  $port: $(curl -sk -o /dev/null -w '%{http_version} %{http_code}' "https://127.0.0.1:$port/small"), $(openssl s_client -connect 127.0.0.1:$port </dev/null 2>/dev/null | awk '/^New,/ {print $2, $5}')"
done

# ticks NAME: CPU ticks so far of the proxy NAME (every process of it).
ticks() {
  local total=0 pid
  if [ "$1" = nginx ]; then
    for pid in "$nginx_pid" $(pgrep -P "$nginx_pid"); do total=$((total + $(cpu_ticks "$pid"))); done
  else
    total=$(cpu_ticks "$portico_pid")
  fi
  echo "$total"
}
declare -A ports=([nginx]=18243 [portico]=18244)
: > "$work/results"
for mode in h1 h2; do
  for body in small large; do
    for name in nginx portico; do
      url="https://127.0.0.1:${ports[$name]}/$body"
      if [ "$mode" = h1 ]; then wrk -t2 -c64 -d1s "$url" >/dev/null; else h2load -c8 -m8 -t2 -D 1 "$url" >/dev/null; fi
    done
    for round in $(seq "$rounds"); do
      for name in nginx portico; do
        url="https://127.0.0.1:${ports[$name]}/$body"
        out="$work/$mode-$body-$name-$round.txt"
        before=$(ticks "$name")
        if [ "$mode" = h1 ]; then
          wrk -t2 -c64 -d"${duration}s" --latency "$url" > "$out"
          requests=$(awk '/requests in/ {print $1}' "$out")
          rps=$(awk '/Requests\/sec/ {print $2}' "$out")
          p99=$(awk '$1 == "99%" {print $2}' "$out")
          bad=$(awk '/Non-2xx/ {print $5}' "$out")
        else
          h2load -c8 -m8 -t2 -D "$duration" "$url" > "$out"
          requests=$(awk '/^requests:/ {print $8}' "$out")
          rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' "$out")
          p99=-
          bad=$(awk '/^requests:/ {print $10 + $12}' "$out")
        fi
        after=$(ticks "$name")
        echo "$mode $body $name $rps $requests $((after - before)) ${p99:--} ${bad:-0}" >> "$work/results"
      done
    done
  done
done
python3 - "$work/results" "$duration" "$rounds" "$(getconf CLK_TCK)" <<'PY'
import statistics, sys
hz = int(sys.argv[4])
runs = {}
for mode, body, name, rps, requests, ticks, p99, bad in (line.split() for line in open(sys.argv[1])):
    runs.setdefault((mode, body, name), []).append((float(rps), int(requests), int(ticks), p99, int(bad)))
print(f"{sys.argv[3]} rounds x {sys.argv[2]}s; h1 = wrk -t2 -c64, h2 = h2load -c8 -m8 -t2; medians; CPU = proxy ticks / requests over all rounds")
print(f"{'mode':4} {'body':6} {'nginx rps':>10} {'portico rps':>12} {'x nginx':>8} {'nginx us/req':>13} {'portico us/req':>15} {'x':>5} {'p99 nginx':>10} {'p99 portico':>12} {'errors':>7}")
for mode in ["h1", "h2"]:
    for body in ["small", "large"]:
        n, p = runs[(mode, body, "nginx")], runs[(mode, body, "portico")]
        rn, rp = statistics.median(r[0] for r in n), statistics.median(r[0] for r in p)
        cn = sum(r[2] for r in n) / hz * 1e6 / max(sum(r[1] for r in n), 1)
        cp = sum(r[2] for r in p) / hz * 1e6 / max(sum(r[1] for r in p), 1)
        p99n, p99p = n[len(n) // 2][3], p[len(p) // 2][3]
        errors = sum(r[4] for r in n + p)
        print(f"{mode:4} {body:6} {rn:>10.0f} {rp:>12.0f} {rp / rn:>8.2f} {cn:>13.1f} {cp:>15.1f} {cp / cn:>5.2f} {p99n:>10} {p99p:>12} {errors:>7}")
PY
