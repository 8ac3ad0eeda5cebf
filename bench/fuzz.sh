#!/usr/bin/env bash
# Fuzzes the parsers that read what clients, upstreams and operators send, in a release build:
# path normalisation, the request-head guard, the HTTP/1.1 request and response parsers, the cache's Cache-Control/Age/Expires/Date
# parsers, the admin and portal query parameters and JSON bodies, the edge policies' readers
# (JSON bodies, Range, Accept-Encoding, Origin, templates), and the config loader.
#   bench/fuzz.sh                 # every target, FUZZ_COUNT (1,000,000) inputs each
#   FUZZ_COUNT=100000 bench/fuzz.sh path cache
# A crash or a broken property (FuzzEntry checks what must hold of each result) stops the run
# with the input that did it. Results go to bench/RESULTS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh fuzz
count="${FUZZ_COUNT:-1000000}"
seed="${FUZZ_SEED:-$(date +%s)}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(path headers http1 cache query json edge config)

swift build -c release --product portico-bench >/dev/null
bin=.build/release/portico-bench
status=0
for target in "${targets[@]}"; do
  last="$work/last-$target"
  if FUZZ_LAST="$last" "$bin" fuzz "$target" "$count" "$seed"; then
    :
  else
    code=$?
    echo "fuzz $target: CRASHED (exit $code) with seed $seed; the last input saved:" >&2
    cat "$last" >&2 || true
    status=1
  fi
done
exit $status
