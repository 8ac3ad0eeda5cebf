#!/usr/bin/env bash
# OpenAPI at scale: load and reload time of a config holding a 4 MB, 420-operation, 1,000-schema
# document (bench/gen-openapi.py, YAML and JSON), and what validating a request costs.
#   bench/openapi.sh
# 1. `portico validate` on the config, 5 runs (perf stat): wall time (target < 0.5 s).
# 2. The reload that `POST /admin/reload` reports after the document changed (load, check and
#    compile, target < 0.5 s), 5 times.
# 3. portico-bench validation: one valid ~1 KB JSON body checked against its schema, parsing
#    included (target <= 10 µs), an invalid one, and a request's parameters.
# Every process it starts is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh openapi
auth=(-H 'Authorization: Bearer bench-admin-token-0123456789abcdef')

swift build -c release --product portico >/dev/null
swift build -c release --product portico-bench >/dev/null
portico=.build/release/portico

for format in yaml json; do
  python3 bench/gen-openapi.py "$work/$format" 420 1000 "$format"
  echo "== validate ($format)"
  perf stat -r 5 "$portico" validate "$work/$format/gateway.yaml" 2>&1 >/dev/null | grep -E "task-clock|elapsed"
done

echo "== reload (yaml), as /admin/reload reports it"
"$portico" serve --config "$work/yaml/gateway.yaml" --log-level warning & pids+=($!)
for _ in $(seq 400); do curl -sf "${auth[@]}" http://127.0.0.1:19097/admin/status >/dev/null && break; sleep 0.05; done
for round in 1 2 3 4 5; do
  # A changed description, so that the reload applies rather than finding the same content.
  sed -i "s/\"title\": \"Large API[^\"]*\"/\"title\": \"Large API $round\"/; s/^  title: \"Large API[^\"]*\"/  title: \"Large API $round\"/" "$work/yaml/large.yaml"
  curl -sf "${auth[@]}" -X POST http://127.0.0.1:19097/admin/reload; echo
  sleep 3  # the portal's docs of the new config are built in the background meanwhile, as after a save
done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

echo "== validation cost"
.build/release/portico-bench validation "$work/yaml/gateway.yaml" 200
