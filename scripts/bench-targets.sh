#!/usr/bin/env bash
# Runs livedash bench against the targets, each scenario against a
# freshly started server on 127.0.0.1 (stopped afterwards), and leaves one
# JSON result per scenario in $OUT (default ./bench-results).
#   scripts/bench-targets.sh [path/to/livedash]
# SERVE_ARGS adds flags to serve (e.g. "--config old-engine.yaml");
# ONLY runs just the scenarios whose names it lists (e.g. "idle-sse-10k").
set -euo pipefail
BIN=${1:-bin/livedash}
OUT=${OUT:-bench-results}
PORT=${PORT:-18777}
mkdir -p "$OUT"
export LIVEDASH_SECRET=bench-secret
TOKEN=$("$BIN" token --sub bench --admin --data "$(mktemp -d)")
URL=http://127.0.0.1:$PORT

run() { # name, bench args…
  local name=$1; shift
  if [[ -n ${ONLY:-} && " $ONLY " != *" $name "* ]]; then return; fi
  local data; data=$(mktemp -d)
  "$BIN" serve --addr 127.0.0.1:$PORT --data "$data" --host-metrics off ${SERVE_ARGS:-} 2>/dev/null &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  for _ in $(seq 50); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.1; done
  echo "== $name: livedash bench $*" >&2
  "$BIN" bench "$@" --url "$URL" --token "$TOKEN" --pid "$pid" --quiet --json > "$OUT/$name.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  trap - EXIT
  rm -rf "$data"
}

run fanout-1k-100 fanout --subs 1000 --rate 100 --messages 2000
run fanout-5k-20  fanout --subs 5000 --rate 20 --messages 400
run idle-sse-10k  idle --subs 10000 --hold 5s
run idle-ws-2k    idle --transport ws --subs 2000 --hold 5s
run publish-b100  publish --conc 8 --batch 100 --duration 10s
run publish-b1    publish --conc 8 --batch 1 --duration 10s
echo "results in $OUT/" >&2
