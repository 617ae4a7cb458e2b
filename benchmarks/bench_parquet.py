"""Parquet layout by measurement: compression codec × row-group size on the warehouse's own tables.

    python benchmarks/bench_parquet.py benchmarks/out/query-warehouse-n200000

For each base table of a built warehouse (`<out>/parquet/<table>/report_year=…/*.parquet`), rewrites the
whole table with each codec (zstd levels, snappy, lz4, none) and each row-group size, then records the
size on disk, the write time (pyarrow), and the time DuckDB takes to answer a typical aggregation over
it (a full scan of the numeric columns grouped by year, and a selective one-year filter that can skip
row groups). Results go to `benchmarks/out/bench_parquet-<timestamp>.json` and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
CODECS: tuple[tuple[str, int | None], ...] = (
    ("zstd", 1),
    ("zstd", 3),
    ("zstd", 9),
    ("snappy", None),
    ("lz4", None),
    ("none", None),
)
ROW_GROUPS: tuple[int, ...] = (16_384, 131_072, 1_048_576)


def _load(table_dir: Path) -> pa.Table:
    return ds.dataset(table_dir, format="parquet", partitioning="hive").to_table()


def _write(table: pa.Table, dest: Path, codec: str, level: int | None, row_group: int) -> float:
    dest.mkdir(parents=True)
    start = time.perf_counter()
    pq.write_table(
        table,
        dest / "part-0.parquet",
        compression=codec,
        compression_level=level,
        row_group_size=row_group,
        write_statistics=True,
    )
    return time.perf_counter() - start


def _scan_times(dest: Path, table: pa.Table, repeats: int = 3) -> tuple[float, float]:
    numeric = [f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    numeric = [c for c in numeric if c != "report_year"][:8] or ["report_year"]
    sums = ", ".join(f'sum("{c}")' for c in numeric)
    years = table.column("report_year") if "report_year" in table.column_names else None
    one_year = int(pc.max(years).as_py()) if years is not None and table.num_rows else 0
    glob = f"'{dest.as_posix()}/*.parquet'"
    full_sql = f"SELECT report_year, {sums} FROM read_parquet({glob}) GROUP BY ALL"
    filtered_sql = f"SELECT {sums} FROM read_parquet({glob}) WHERE report_year = {one_year}"
    best: list[float] = []
    with duckdb.connect() as con:
        for sql in (full_sql, filtered_sql):
            t = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                con.execute(sql).fetchall()
                t = min(t, time.perf_counter() - start)
            best.append(t)
    return best[0], best[1]


def measure(warehouse: Path, tables: list[str]) -> list[dict]:
    rows: list[dict] = []
    for name in tables:
        table_dir = warehouse / "parquet" / name
        if not table_dir.exists():
            print(f"skip {name}: no {table_dir}", file=sys.stderr)
            continue
        table = _load(table_dir)  # in the order the build wrote it: realistic run lengths for the encoders
        in_memory_mib = table.nbytes / 2**20
        for codec, level in CODECS:
            for row_group in ROW_GROUPS:
                with tempfile.TemporaryDirectory(dir=HERE / "out") as tmp:
                    dest = Path(tmp) / "t"
                    write_s = _write(table, dest, codec, level, row_group)
                    size = sum(f.stat().st_size for f in dest.iterdir())
                    scan_s, filtered_s = _scan_times(dest, table)
                    shutil.rmtree(dest)
                rows.append(
                    {
                        "table": name,
                        "rows": table.num_rows,
                        "arrow_mib": round(in_memory_mib, 1),
                        "codec": codec + (f"({level})" if level is not None else ""),
                        "row_group": row_group,
                        "size_mib": round(size / 2**20, 2),
                        "write_s": round(write_s, 3),
                        "scan_s": round(scan_s, 4),
                        "one_year_s": round(filtered_s, 4),
                    }
                )
                print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("warehouse", type=Path, help="output root of a built warehouse (holds parquet/)")
    p.add_argument("--tables", default="applications,proactive,reports")
    args = p.parse_args(argv)
    (HERE / "out").mkdir(exist_ok=True)
    rows = measure(args.warehouse, [t for t in args.tables.split(",") if t])
    cols = ["table", "rows", "codec", "row_group", "size_mib", "write_s", "scan_s", "one_year_s"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = HERE / "out" / f"bench_parquet-{stamp}.json"
    path.write_text(json.dumps(rows, indent=1))
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
