#!/usr/bin/env python3
"""Turns Google Benchmark JSON outputs into a results page.

The page says how it was run (command, commit, cores, date, CPU), holds a
table a person reads, and ends with a fenced json block whose keys carry
their units, for scripts comparing runs (DESIGN.md, "Benchmark results").
"""
import argparse
import datetime
import json
import os
import re
import subprocess


def key_of(name):
    k = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()
    return k[3:] if k.startswith("bm_") else k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--title", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    rows, figures, ctx = [], {}, {}
    for path in a.inputs:
        with open(path) as f:
            doc = json.load(f)
        ctx = doc.get("context", ctx)
        for b in doc["benchmarks"]:
            if b.get("run_type") == "aggregate":
                continue
            unit = b.get("time_unit", "ns")
            t = b["real_time"]
            ns = t * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
            k = key_of(b["name"])
            figures[k + "_ns_per_op"] = round(ns, 1)
            per_s = b.get("items_per_second")
            if per_s:
                figures[k + "_ops_per_s"] = round(per_s, 1)
            bps = b.get("bytes_per_second")
            if bps:
                figures[k + "_mib_per_s"] = round(bps / 2**20, 2)
            rows.append((b["name"], ns, per_s or 1e9 / ns, bps))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cores = os.cpu_count()
    lines = [
        f"# {a.title}", "",
        f"- command: `{a.command}`",
        f"- commit: `{commit}`",
        f"- cores: {cores} (`nproc`), CPU {ctx.get('mhz_per_cpu', '?')} MHz",
        f"- date: {now}",
        f"- build: `bazel build -c opt`, Google Benchmark {ctx.get('library_build_type', '')}",
        "",
        "| benchmark | time per op | ops/s | throughput |",
        "|---|---:|---:|---:|",
    ]
    for name, ns, per_s, bps in rows:
        if ns >= 1e6:
            t = f"{ns / 1e6:.2f} ms"
        elif ns >= 1e3:
            t = f"{ns / 1e3:.2f} µs"
        else:
            t = f"{ns:.0f} ns"
        thr = f"{bps / 2**20:.1f} MiB/s" if bps else ""
        lines.append(f"| `{name}` | {t} | {per_s:,.0f} | {thr} |")
    figures["cores"] = cores
    lines += ["", "```json", json.dumps(figures, indent=2, sort_keys=True), "```", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
