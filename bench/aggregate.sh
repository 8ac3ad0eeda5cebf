#!/usr/bin/env bash
# Composite endpoints: one GET the gateway answers from three backend calls it makes concurrently,
# against the same three calls made by the client one after another; latency, and the gateway's
# CPU per composite call.
#   bench/aggregate.sh       # needs wrk, nginx, curl (../shared/bench/setup); ROUNDS=3 DURATION=5 by default
# Backends users, teams and feed on 127.0.0.1:18211-18213, each a small fixed JSON body; two
# scenarios: nginx answering at once, then bench/delay-upstream.py answering after DELAY_MS (20),
# as a real service might. The gateway on 18210 serves GET /bff/home/{user} (calls
# /users/{user}, /teams/t-7 and /feed?user={user}, answers {"user", "team", "feed"}) and the plain
# proxies /users, /teams and /feed.
# Latency (bench/aggregate-client.py: one client, keep-alive, one request after another, the three
# variants interleaved iteration by iteration): (a) the composite GET; (b) the three GETs through the
# gateway's proxies one after another; (c) the same three GETs straight to the backends. ITERATIONS
# (1000) per round, SLOW_ITERATIONS (200) with the delay; p50 and p99 per round.
# CPU: wrk -t1 -c16 -d DURATION against the composite endpoint and against /users/u1 (one proxied
# call); the gateway's CPU ticks from /proc over requests served, in µs per request.
# Servers on core 0, the client and wrk on core 1, the variants interleaved round after round,
# medians over ROUNDS. The issue sets no number. Expected: with 20 ms backends the composite
# takes about one backend's time and the client's three calls three; the gateway's CPU per
# composite call is compared with three proxied calls.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-5}"
rounds="${ROUNDS:-3}"
iterations="${ITERATIONS:-1000}"
slow_iterations="${SLOW_ITERATIONS:-200}"
delay_ms="${DELAY_MS:-20}"
source bench/lib.sh aggregate
needs wrk nginx curl taskset python3

swift build -c release --product portico >/dev/null
echo "Composite endpoints ($(date -u +%Y-%m-%d), release build; ROUNDS=$rounds DURATION=$duration ITERATIONS=$iterations SLOW_ITERATIONS=$slow_iterations DELAY_MS=$delay_ms)"

gateway=127.0.0.1:18210
declare -A port=([users]=18211 [teams]=18212 [feed]=18213)
declare -A body=(
  [users]='{"id":"u1","name":"Ada Lovelace","email":"ada@example.com","team":"t-7"}'
  [teams]='{"id":"t-7","name":"Analytical Engines","members":12}'
  [feed]='{"user":"u1","items":[{"id":1,"title":"Welcome"},{"id":2,"title":"Release notes"},{"id":3,"title":"Weekly digest"}]}'
)
clk_tck=$(getconf CLK_TCK)

mkdir -p "$work/run/tmp"
{
  cat <<NGINX
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
NGINX
  for name in users teams feed; do
    cat <<NGINX
    server {
        listen 127.0.0.1:${port[$name]};
        location / { default_type application/json; return 200 '${body[$name]}'; }
    }
NGINX
  done
  echo "}"
} > "$work/nginx.conf"

cat > "$work/gateway.yaml" <<YAML
listen: $gateway
store: {sqlite: $work/gateway.sqlite, call-log: false}
server: {access-log: false, watch-config: false}
upstreams:
  users: {targets: [{url: "http://127.0.0.1:${port[users]}"}]}
  teams: {targets: [{url: "http://127.0.0.1:${port[teams]}"}]}
  feed:  {targets: [{url: "http://127.0.0.1:${port[feed]}"}]}
apis:
  - name: bff
    base-path: /bff
    endpoints:
      - path: /home/{user}
        calls:
          - {name: user, upstream: users, path: "/users/{path.user}", group: user}
          - {name: team, upstream: teams, path: "/teams/t-7", group: team}
          - {name: feed, upstream: feed, path: "/feed?user={path.user}", group: feed}
  # plain proxies, so the client can make the same three calls itself through the gateway
  - {name: users, base-path: /users, upstream: users, strip-base-path: false}
  - {name: teams, base-path: /teams, upstream: teams, strip-base-path: false}
  - {name: feed, base-path: /feed, upstream: feed, strip-base-path: false}
YAML
.build/release/portico validate "$work/gateway.yaml" >/dev/null

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
wait_for() { for _ in $(seq 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }

# check: the composite answers 200 with exactly the three backends' bodies under user, team and
# feed, not partial; the proxies answer each backend's body. Fails the run otherwise.
check() {
  local headers merged name
  headers=$(curl -s -D - -o "$work/merged.json" -w '%{http_code}' "http://$gateway/bff/home/u1")
  merged=$(cat "$work/merged.json")
  python3 - "$headers" "$merged" "${body[users]}" "${body[teams]}" "${body[feed]}" <<'PY' || { echo "composite check failed" >&2; exit 1; }
import json, sys
headers, merged, user, team, feed = sys.argv[1:]
status = headers.rsplit("\n", 1)[-1].strip()
assert status == "200", f"composite status {status}: {merged}"
assert "x-portico-completed: false" not in headers.lower(), f"partial answer: {headers}"
got = json.loads(merged)
want = {"user": json.loads(user), "team": json.loads(team), "feed": json.loads(feed)}
assert got == want, f"composite answer {got}, expected {want}"
PY
  local -A paths=([users]=/users/u1 [teams]=/teams/t-7 [feed]="/feed?user=u1")
  for name in users teams feed; do
    [ "$(curl -sf "http://$gateway${paths[$name]}")" = "${body[$name]}" ] ||
      { echo "proxied GET ${paths[$name]} does not answer the $name body" >&2; exit 1; }
  done
}

: > "$work/results"
# scenario NAME ITERATIONS WARMUP: backends must be up on the three ports.
scenario() {
  local name=$1 iters=$2 warm=$3 gw before after requests rps p99 non2xx errors
  taskset -c 0 .build/release/portico serve --config "$work/gateway.yaml" --log-level warning & gw=$!; pids+=($gw)
  wait_for "http://$gateway/users/u1"
  check
  echo "$name: composite GET answers 200 with user, team and feed" >&2
  declare -A urls=([composite]="http://$gateway/bff/home/u1" [proxied]="http://$gateway/users/u1")
  for target in composite proxied; do taskset -c 1 wrk -t1 -c16 -d1s "${urls[$target]}" >/dev/null; done
  for round in $(seq "$rounds"); do
    taskset -c 1 python3 bench/aggregate-client.py "$gateway" "127.0.0.1:${port[users]}" "127.0.0.1:${port[teams]}" \
      "127.0.0.1:${port[feed]}" "$iters" "$warm" | sed "s/^/lat $name $round /" >> "$work/results"
    for target in composite proxied; do
      before=$(cpu_ticks "$gw")
      taskset -c 1 wrk -t1 -c16 -d"${duration}s" --latency "${urls[$target]}" > "$work/$name-$target-$round.txt"
      after=$(cpu_ticks "$gw")
      requests=$(awk '/requests in/ {print $1}' "$work/$name-$target-$round.txt")
      read -r _ rps p99 non2xx errors < <(python3 bench/wrk-summary.py "$work/$name-$target-$round.txt" x)
      echo "cpu $name $round $target $requests $((after - before)) $rps $p99 $non2xx $errors" >> "$work/results"
    done
    echo "$name: round $round of $rounds done" >&2
  done
  stop "$gw"
}

taskset -c 0 nginx -p "$work/" -c nginx.conf & nginx=$!; pids+=($nginx)
for name in users teams feed; do wait_for "http://127.0.0.1:${port[$name]}/"; done
scenario instant "$iterations" 100
stop "$nginx"

slow=()
for name in users teams feed; do
  taskset -c 0 python3 bench/delay-upstream.py "${port[$name]}" "$delay_ms" "${body[$name]}" & slow+=($!); pids+=($!)
done
for name in users teams feed; do wait_for "http://127.0.0.1:${port[$name]}/"; done
scenario "delay-${delay_ms}ms" "$slow_iterations" 20
for pid in "${slow[@]}"; do stop "$pid"; done

python3 - "$work/results" "$clk_tck" "$rounds" "$duration" <<'PY'
import statistics, sys
path, clk_tck, rounds, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lat, cpu, scenarios = {}, {}, []
for line in open(path):
    kind, scenario, _round, *rest = line.split()
    if scenario not in scenarios:
        scenarios.append(scenario)
    if kind == "lat":
        variant, p50, p99, n = rest
        lat.setdefault((scenario, variant), []).append((float(p50), float(p99), int(n)))
    else:
        target, requests, ticks, rps, p99, non2xx, errors = rest
        us = int(ticks) / clk_tck * 1e6 / int(requests)
        cpu.setdefault((scenario, target), []).append((us, float(rps), float(p99), int(non2xx), int(errors)))
med = lambda rows, i: statistics.median(r[i] for r in rows)
span = lambda rows, i: f"{min(r[i] for r in rows):.0f}-{max(r[i] for r in rows):.0f}"

print(f"\nlatency, one client, one request after another; ms, medians over {rounds} rounds of each round's p50 / p99")
print(f"{'backends':12} {'composite':>15} {'3 via gateway':>15} {'3 direct':>15} {'p50 composite/3 via gw':>23}")
for s in scenarios:
    cells = [f"{med(lat[(s, v)], 0):.2f} / {med(lat[(s, v)], 1):.2f}" for v in ("composite", "sequential", "direct")]
    ratio = med(lat[(s, 'composite')], 0) / med(lat[(s, 'sequential')], 0)
    n = lat[(s, 'composite')][0][2]
    print(f"{s:12} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} {ratio:>22.2f}x   ({n} iterations a round)")

print(f"\ngateway CPU, wrk -t1 -c16 -d{duration}s, medians over {rounds} rounds (range over rounds)")
print(f"{'backends':12} {'composite rps':>14} {'CPU µs/composite':>17} {'proxied rps':>12} {'CPU µs/proxied':>15} "
      f"{'3 x proxied':>12} {'composite/3x':>13} {'p99 ms comp/prox':>17} {'non-2xx/err':>12}")
for s in scenarios:
    c, p = cpu[(s, "composite")], cpu[(s, "proxied")]
    bad = sum(r[3] + r[4] for r in c + p)
    print(f"{s:12} {med(c, 1):>14.0f} {med(c, 0):>8.1f} ({span(c, 0):>7}) {med(p, 1):>12.0f} {med(p, 0):>6.1f} ({span(p, 0):>7}) "
          f"{3 * med(p, 0):>12.1f} {med(c, 0) / (3 * med(p, 0)):>12.2f}x {med(c, 2):>8.2f} / {med(p, 2):<6.2f} {bad:>12}")
PY
