#!/usr/bin/env bash
# The side-by-side matrix of docs/benchmarks.md (issue 13): every scenario
# against each target, ROUNDS rounds, targets alternating within a round, a
# fresh server per run (scripts/bench-anchors.sh). Appends to $OUT.
#   CENTRIFUGO_BIN=… CENTRIFUGO_CONFIG=… LIVEDASH_BIN=… [LIVEDASH_OLD_BIN=…] scripts/bench-anchors-matrix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
TARGETS=${TARGETS:-livedash centrifugo}
declare -A args=(
  [ws-1k-100]="-scenario fanout -transport ws -n 1000 -rate 100 -m 2000"
  [sse-1k-100]="-scenario fanout -n 1000 -rate 100 -m 2000"
  [ws-5k-20]="-scenario fanout -transport ws -n 5000 -rate 20 -m 400"
  [sse-5k-20]="-scenario fanout -n 5000 -rate 20 -m 400"
  [idle-ws-5k]="-scenario idle -transport ws -n 5000 -hold 5s"
  [idle-sse-5k]="-scenario idle -n 5000 -hold 5s"
)
SCENARIOS=${SCENARIOS:-ws-1k-100 sse-1k-100 ws-5k-20 sse-5k-20 idle-ws-5k idle-sse-5k}
for round in $(seq "$ROUNDS"); do
  for sc in $SCENARIOS; do
    for target in $TARGETS; do
      echo "== round $round $sc $target" >&2
      # shellcheck disable=SC2086
      scripts/bench-anchors.sh "$target" "$sc" ${args[$sc]} || echo "run failed: $round $sc $target" >&2
    done
  done
done
