"""Parse throughput on one core: synthetic reports generated in memory, then `parse_bytes` timed per layout.

    python benchmarks/bench_parse.py [--n 20000] [--seed 0] [--layout tsv] [--min-rate 2000] [--json]

Generation is timed separately (it is not part of the parse figure). The process is pinned to one CPU
where the OS allows it, and rates are per CPU second of this process (wall-clock rate printed beside),
so the figure is per core even on a shared machine. Garbage collection runs as in the build's worker
processes (`pipelines.parsing.runtime.configure_worker_gc()`): its pauses are part of what a build pays per
report. Exit status 1 when --min-rate is given and the overall rate is below it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict

from pipelines.parsing import PARSER_VERSION, parse_bytes
from pipelines.parsing.native import running_compiled
from pipelines.parsing.runtime import configure_worker_gc
from pipelines.synth import LAYOUTS, generate_report

TARGET_RATE = 2000.0  # reports per second per core
#: layouts read by an HTML parser before the text parser; the others are text as a PDF or Word reader left
#: it (the corpus of the text-parsing throughput figure)
MARKUP_LAYOUTS = frozenset({"html"})


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    return "not pinned (no sched_setaffinity)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="number of reports (default 20000)")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--layout", choices=sorted(LAYOUTS), help="only this layout (default: all, round robin)")
    ap.add_argument("--min-rate", type=float, default=None, help=f"fail below this rate (target {TARGET_RATE:g}/s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args(argv)

    pinned = _pin_one_core()
    layouts = [args.layout] if args.layout else sorted(LAYOUTS)

    start = time.process_time()
    reports = [generate_report(args.seed + i, layout=layouts[i % len(layouts)]) for i in range(args.n)]
    gen_s = time.process_time() - start
    total_bytes = sum(len(r.data) for r in reports)

    parse_bytes(reports[0].data, reports[0].name, reports[0].sidecar)  # warm-up: lazy imports, regex caches
    configure_worker_gc()
    gc_regime = "as the build workers (pipelines.parsing.runtime.configure_worker_gc)"
    # CPU time of this process (one thread): the per-core rate even on a machine shared with other work;
    # wall time is reported beside it
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    statuses: dict[str, int] = defaultdict(int)
    wall = time.perf_counter()
    for r in reports:
        t0 = time.process_time()
        record = parse_bytes(r.data, r.name, r.sidecar)
        seconds[r.layout] += time.process_time() - t0
        counts[r.layout] += 1
        statuses[record.status] += 1
    wall_s = time.perf_counter() - wall
    parse_s = sum(seconds.values())
    overall = args.n / parse_s if parse_s else float("inf")
    text_layouts = [k for k in counts if k not in MARKUP_LAYOUTS]
    text_n = sum(counts[k] for k in text_layouts)
    text_s = sum(seconds[k] for k in text_layouts)
    text_rate = text_n / text_s if text_s else None

    result = {
        "parser_version": PARSER_VERSION,
        "compiled": running_compiled(),
        "n": args.n,
        "cpu": pinned,
        "gc": gc_regime,
        "mib": round(total_bytes / 2**20, 1),
        "generate_per_s": round(args.n / gen_s, 1),
        "parse_per_s": round(overall, 1),
        "parse_per_s_wall": round(args.n / wall_s, 1),
        "parse_mib_per_s": round(total_bytes / 2**20 / parse_s, 2) if parse_s else None,
        "per_layout_per_s": {k: round(counts[k] / seconds[k], 1) for k in sorted(counts)},
        "text_layouts_per_s": round(text_rate, 1) if text_rate is not None else None,
        "statuses": dict(sorted(statuses.items())),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        build = "compiled (mypyc)" if result["compiled"] else "pure Python (not compiled: see setup.py)"
        print(f"parser {PARSER_VERSION}, {build}; {args.n} reports, {result['mib']} MiB; {pinned}")
        print(f"garbage collection: {gc_regime}")
        print(f"generation: {result['generate_per_s']:>10,.0f} reports/s  ({gen_s:.1f} s)")
        print(
            f"parse:      {overall:>10,.0f} reports/s CPU time ({parse_s:.1f} s, {result['parse_mib_per_s']} MiB/s); "
            f"{result['parse_per_s_wall']:,.0f}/s wall"
        )
        for k in sorted(counts):
            print(f"  {k:<18} {counts[k] / seconds[k]:>10,.0f} reports/s  ({counts[k]} reports)")
        if text_rate is not None:
            print(f"  {'text layouts':<18} {text_rate:>10,.0f} reports/s  ({text_n} reports: all but html)")
        print(f"statuses: {result['statuses']}")
        verdict = "meets" if overall >= TARGET_RATE else "BELOW"
        print(f"target {TARGET_RATE:,.0f} reports/s/core: {verdict}", end="")
        if text_rate is not None:
            print(f" (text layouts: {'meet' if text_rate >= TARGET_RATE else 'BELOW'})", end="")
        print()
    if args.min_rate is not None and overall < args.min_rate:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
