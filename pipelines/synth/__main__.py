"""Write a synthetic corpus from the command line.

python -m pipelines.synth OUT_DIR [--n 1000] [--seed 0] [--layout tsv] [--template 2021]
                          [--encoding utf-8] [--break-rule balance|any|none] [--duplicate-rate 0.01]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from pipelines.synth import BREAKABLE_RULES, ENCODINGS, LAYOUTS, write_corpus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.synth", description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layout", choices=sorted(LAYOUTS))
    ap.add_argument("--template", choices=("2019", "2021"))
    ap.add_argument("--encoding", choices=sorted(ENCODINGS))
    ap.add_argument("--break-rule", choices=(*BREAKABLE_RULES, "any", "none"), help="default: ~15%% at random")
    ap.add_argument("--duplicate-rate", type=float, default=0.0)
    args = ap.parse_args(argv)
    rule: str | bool | None = {"any": True, "none": False}.get(args.break_rule, args.break_rule)
    start = time.perf_counter()
    reports = write_corpus(
        args.out_dir,
        args.n,
        seed=args.seed,
        duplicate_rate=args.duplicate_rate,
        layout=args.layout,
        template=args.template,
        encoding=args.encoding,
        break_rule=rule,
    )
    seconds = time.perf_counter() - start
    print(f"{len(reports)} reports in {args.out_dir} ({seconds:.1f} s); truth in {args.out_dir / 'truth.jsonl'}")
    print("layouts:", dict(sorted(Counter(r.layout for r in reports).items())))
    print(
        "planted breaks:", sum(1 for r in reports if r.break_rule), "| sidecars:", sum(1 for r in reports if r.sidecar)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
