#!/usr/bin/env bash
# CPU cost per request of CORS, IP rules and a header transform, and compression throughput.
#   bench/edge.sh            # ROUNDS=7 ITERATIONS=200000 by default; no peers or network needed
# In-process (portico-bench edge, release build): for each route of bench/edge.yaml the event-loop
# path's per-request policy work (guard, route match, the fast policies, the upstream head and the
# response phase) in a loop, routes interleaved round after round; the median CPU µs per request
# (getrusage) over rounds, and the added cost against the plain route. Then gzip and deflate of a
# 1 MiB JSON body in 16 KiB writes: MB compressed per CPU second, and the ratio.
# Targets: CORS, IP rules and a header transform each add at most 1 µs per request.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product portico-bench >/dev/null
.build/release/portico-bench edge bench/edge.yaml "${ROUNDS:-7}" "${ITERATIONS:-200000}"
