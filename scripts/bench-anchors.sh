#!/usr/bin/env bash
# Side-by-side runs with the anchors' load generator (shared loadgen, see
# docs/benchmarks.md): each run starts a fresh server on 127.0.0.1, runs one
# scenario against it and stops it. One JSON line per run goes to $OUT.
#   scripts/bench-anchors.sh TARGET NAME loadgen-args…
# TARGET: livedash (LIVEDASH_BIN, default bin/livedash), livedash-old
# (LIVEDASH_OLD_BIN) or centrifugo (CENTRIFUGO_BIN, CENTRIFUGO_CONFIG).
set -euo pipefail
target=$1 name=$2; shift 2
OUT=${OUT:-bench-results/anchors.jsonl}
LOADGEN=${LOADGEN:-/tmp/loadgen}
mkdir -p "$(dirname "$OUT")"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
data=$(mktemp -d)
case $target in
  livedash|livedash-old)
    bin=${LIVEDASH_BIN:-bin/livedash}
    [[ $target == livedash-old ]] && bin=$LIVEDASH_OLD_BIN
    LIVEDASH_SECRET=bench-secret-change-me "$bin" serve --addr 127.0.0.1:8080 --data "$data" --host-metrics off 2>/dev/null &
    url=http://127.0.0.1:8080; lg=livedash;;
  centrifugo)
    (cd "$data" && exec "$CENTRIFUGO_BIN" -c "$CENTRIFUGO_CONFIG" >/dev/null 2>&1) &
    url=http://127.0.0.1:8000; lg=centrifugo;;
  *) echo "unknown target $target" >&2; exit 2;;
esac
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "$url/" && break; sleep 0.1; done
sleep 0.5
# centrifugo runs as a child of the subshell's exec: $pid is its pid.
"$LOADGEN" -target "$lg" -url "$url" -pid "$pid" -label "$target $name" -json-out "$OUT" "$@" | tail -n 3 >&2
