"""A larger warehouse for query timings, made from a built one: every report copied k times.

    python benchmarks/scale_up.py benchmarks/out/run-…/warehouse benchmarks/out/wh-x4 --copies 4
    python benchmarks/queries.py benchmarks/out/wh-x4/xxgk.duckdb

Building 200,000 reports takes most of an hour on two shared cores; the queries only need the data. Each
copy gets new report ids (`sha256(report_id || copy)`, still 64 hex digits), `source_path` prefixed
`copy<k>/` and `duplicate_of` mapped the same way; figures, agencies and years are those of the original,
so group cardinalities (agencies, provinces) stay those of the source warehouse — say so when quoting the
times. The catalog is then written by the project's own `xxgk catalog`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ID_COLUMNS = ("report_id", "duplicate_of")


def _copy_expr(column: str, k: int) -> str:
    if column in ID_COLUMNS:
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE sha256({column} || '#{k}') END AS {column}"
    if column == "source_path":
        return f"'copy{k}/' || source_path AS source_path"
    if column == "sha256":  # registry
        return f"sha256(sha256 || '#{k}') AS sha256"
    return column


def scale_up(src: Path, dest: Path, copies: int) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    con = duckdb.connect()
    for part in sorted((src / "parquet").glob("*/report_year=*/*.parquet")):
        target = dest / part.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{part}')").fetchall()]
        union = " UNION ALL ".join(
            f"SELECT {', '.join(_copy_expr(c, k) for c in columns)} FROM read_parquet('{part}')" for k in range(copies)
        )
        con.execute(f"COPY ({union}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
    registry = src / "registry.parquet"
    if registry.exists():
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{registry}')").fetchall()]
        union = " UNION ALL ".join(
            f"SELECT {', '.join(_copy_expr(c, k) for c in columns)} FROM read_parquet('{registry}')"
            for k in range(copies)
        )
        con.execute(f"COPY ({union}) TO '{dest / 'registry.parquet'}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    xxgk = Path(sys.executable).with_name("xxgk")
    subprocess.run([str(xxgk), "catalog", "--out", str(dest)], check=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", type=Path, help="a built warehouse (xxgk build --out)")
    p.add_argument("dest", type=Path)
    p.add_argument("--copies", type=int, default=4)
    args = p.parse_args(argv)
    start = time.perf_counter()
    scale_up(args.src.resolve(), args.dest.resolve(), args.copies)
    print(f"{args.dest}: {args.copies} copies of {args.src} in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
