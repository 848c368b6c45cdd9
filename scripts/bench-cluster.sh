#!/usr/bin/env bash
# Fan-out through a cluster of 1, 2 and 3 livedash nodes on one redis-server,
# all on 127.0.0.1: subscribers spread over the nodes, publishing to the
# first. One JSON result per size in $OUT (default ./bench-results).
#   scripts/bench-cluster.sh [path/to/livedash] [bench fanout flags…]
set -euo pipefail
BIN=${1:-bin/livedash}; shift || true
FLAGS=("$@"); [ ${#FLAGS[@]} -gt 0 ] || FLAGS=(--subs 1000 --rate 50 --messages 1000)
OUT=${OUT:-bench-results}
mkdir -p "$OUT"
export LIVEDASH_SECRET=bench-secret
REDIS_PORT=16380
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

for n in 1 2 3; do
  redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
  pids=($!)
  for _ in $(seq 50); do redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break; sleep 0.1; done
  urls=()
  for i in $(seq "$n"); do
    port=$((18800 + i))
    "$BIN" serve --addr 127.0.0.1:$port --data "$(mktemp -d)" --host-metrics off \
      --broker redis://127.0.0.1:$REDIS_PORT 2>/dev/null &
    pids+=($!)
    urls+=("http://127.0.0.1:$port")
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  done
  subs=$(IFS=,; echo "${urls[*]}")
  token=$("$BIN" token --sub bench --admin --data "$(mktemp -d)")
  echo "== $n node(s): livedash bench fanout ${FLAGS[*]} --sub-url $subs" >&2
  "$BIN" bench fanout "${FLAGS[@]}" --url "${urls[0]}" --sub-url "$subs" --token "$token" --quiet --json > "$OUT/cluster-$n.json"
  cleanup
  pids=()
done
echo "results in $OUT/" >&2
