#!/usr/bin/env bash
# Portico against nginx, HAProxy, Caddy, Envoy and the direct upstream, same load, same run.
#   ../shared/bench/setup    # once per machine (nginx, haproxy, caddy, wrk, h2load, envoy)
#   bench/proxy.sh           # release build, then the peer harness with Portico as the gateway
#   CONFIG=bench/proxy-keyed.yaml GATEWAY_QUERY=api_key=bench-api-key-0123456789abcdef bench/proxy.sh
#                            # the same with an API key, a rate limit and both logs on
#   MODE=h2 bench/proxy.sh   # h2c on the front side (Portico's listener on 8081), HTTP/1.1 upstream
# Extra arguments and environment (BODIES, DURATION, ROUNDS, MODE) pass through to the harness.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${SHARED_DIR:-../shared}"
[ -x "$shared/bench/peer-bench" ] || { echo "needs $shared/bench/peer-bench" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: run $shared/bench/setup first" >&2; exit 1; }

swift build -c release --product portico
mkdir -p /tmp/portico-bench
rm -f /tmp/portico-bench/portico.sqlite*
config="${CONFIG:-bench/proxy.yaml}"
.build/release/portico validate "$config"

GATEWAY_NAME=portico \
GATEWAY_CMD="$PWD/.build/release/portico serve --config $PWD/$config --log-level warning" \
GATEWAY_URL=http://127.0.0.1:8080 \
GATEWAY_H2_URL="${GATEWAY_H2_URL:-http://127.0.0.1:8081}" \
  "$shared/bench/peer-bench" "$@"
