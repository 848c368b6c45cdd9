#!/usr/bin/env python3
"""Medians per (label) of the loadgen JSON lines: scripts/bench-summary.py results.jsonl"""
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        d = json.loads(line)
        runs[d["label"]].append(d)
def med(xs):
    return statistics.median(xs) if xs else float("nan")
print("| run | n | p50 ms | p99 ms | lost | dups | server CPU µs/delivery | idle KiB/conn |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for label in sorted(runs):
    rs = runs[label]
    if rs[0]["scenario"] == "fanout":
        p50 = [r["latency_ms"]["P50"] for r in rs]
        p99 = [r["latency_ms"]["P99"] for r in rs]
        cpu = [r["server"]["cpu_s_phase"] * 1e6 / max(r["delivered"], 1) for r in rs]
        lost = [r.get("lost", r["expected"] - r["delivered"]) for r in rs]
        dups = [r.get("dups", 0) for r in rs]
        print(f"| {label} | {len(rs)} | {med(p50):.1f} ({', '.join(f'{x:.1f}' for x in p50)}) | {med(p99):.1f} ({', '.join(f'{x:.1f}' for x in p99)}) | {max(lost)} | {max(dups)} | {med(cpu):.2f} ({', '.join(f'{x:.2f}' for x in cpu)}) | |")
    else:
        kib = [r.get("rss_per_conn_kb", float("nan")) for r in rs]
        print(f"| {label} | {len(rs)} | | | | | | {med(kib):.1f} ({', '.join(f'{x:.1f}' for x in kib)}) |")
