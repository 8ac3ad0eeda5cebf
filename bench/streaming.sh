#!/usr/bin/env bash
# Streams 1 GiB through Portico in each direction and reports the gateway's peak resident memory
# above idle (target: under 100 MiB). Upstream: bench/stream-upstream.py on 127.0.0.1:18090.
#   bench/streaming.sh            # release build; SIZE=bytes to change the amount
# Every process it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size="${SIZE:-1073741824}"
source bench/lib.sh stream

swift build -c release --product portico >/dev/null
cat > "$work/gateway.yaml" <<YAML
listen: 127.0.0.1:18095
store:
  sqlite: $work/portico.sqlite
server:
  access-log: false
upstreams:
  bulk:
    targets:
      - url: http://127.0.0.1:18090
apis:
  - name: bulk
    base-path: /bulk
    upstream: bulk
YAML
python3 bench/stream-upstream.py 18090 & pids+=($!)
.build/release/portico serve --config "$work/gateway.yaml" --log-level warning & gateway=$!; pids+=($gateway)
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18095/bulk/download/1 && break; sleep 0.1; done
head -c "$size" /dev/zero > "$work/payload"

rss() { awk '/VmRSS/ {print $2}' "/proc/$gateway/status"; }
measure() {  # measure NAME COMMAND... -> prints NAME, result, idle and peak RSS above idle
  local idle peak sampler
  idle=$(rss)
  ( while kill -0 "$gateway" 2>/dev/null; do rss; sleep 0.05; done ) > "$work/rss" & sampler=$!
  local result
  result=$("${@:2}")
  kill "$sampler" 2>/dev/null || true
  peak=$(sort -n "$work/rss" | tail -1)
  printf '%-34s %-28s idle %6d KiB  peak %6d KiB  above idle %5d MiB\n' "$1" "$result" "$idle" "$peak" $(( (peak - idle) / 1024 ))
}

echo "Portico streaming $size bytes ($(date -u +%Y-%m-%d))"
measure "download" curl -s -o /dev/null -w '%{http_code} %{size_download}B' "http://127.0.0.1:18095/bulk/download/$size"
measure "upload, Content-Length" curl -s -T "$work/payload" -X POST "http://127.0.0.1:18095/bulk/upload" -w ' %{http_code}'
measure "upload, chunked" curl -s -T "$work/payload" -H 'Transfer-Encoding: chunked' -X POST "http://127.0.0.1:18095/bulk/upload" -w ' %{http_code}'
