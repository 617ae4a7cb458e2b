"""Hive-partitioned Parquet datasets, one per table: `<out>/parquet/<table>/report_year=<YYYY>/data.parquet`.

A build rewrites each year partition it touches as a whole: the partition's current rows minus those of
the files re-read or removed, plus the new rows. Every new partition file is first written under the
run's staging folder (same filesystem), then renamed over the old one with `os.replace` — atomic per file,
so a reader sees either the old or the new partition, never a half-written or missing one (no DuckDB
`COPY … OVERWRITE`, which deletes every partition). Reports of unknown year live in `report_year=0`.

Only after every partition is in place is the registry replaced: if a build dies in between, the next
build re-reads those files and the rewrite (remove by key, then add) gives the same result.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.warehouse import registry as reg
from pipelines.warehouse.validate import read_validated
from schemas.tables import PARTITION_COLUMN, TABLES, arrow_schema, polars_schema

PARQUET_DIR = "parquet"
DATA_FILE = "data.parquet"
COMMIT_DIR = "commit"


class ConcurrentBuild(RuntimeError):
    """The registry changed since this run planned its work: another build committed in between."""


def dataset_dir(out_dir: Path, table: str) -> Path:
    return out_dir / PARQUET_DIR / table


def partition_file(out_dir: Path, table: str, year: int) -> Path:
    return dataset_dir(out_dir, table) / f"{PARTITION_COLUMN}={year}" / DATA_FILE


def has_data(out_dir: Path, table: str) -> bool:
    return any(dataset_dir(out_dir, table).glob(f"{PARTITION_COLUMN}=*/{DATA_FILE}"))


def read_partition(out_dir: Path, table: str, year: int) -> pl.DataFrame:
    path = partition_file(out_dir, table, year)
    schema = polars_schema(table, with_partition=False)
    if not path.exists():
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(path).select(schema.names()).cast(schema)  # type: ignore[arg-type]


def write_parquet(frame: pl.DataFrame, path: Path, table: str) -> None:
    """Write rows of `table` (without the partition column) with the declared Arrow schema and comments."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema(table)
    pq.write_table(frame.select(schema.names).to_arrow().cast(schema), path, compression="zstd")


@dataclass
class CommitSummary:
    years_rewritten: list[int] = field(default_factory=list)
    years_removed: list[int] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    registry_rows: int = 0


def commit(out_dir: Path, staging: Path, planned: pl.DataFrame, registry_token: str) -> CommitSummary:
    """Merge the validated batch in `staging` into the year partitions, then commit the registry.

    The caller holds the build lock. `planned` is the run's plan; `registry_token` the registry version it
    was planned against (a different one means another build committed since: refuse, nothing is written).
    """
    if reg.registry_token(out_dir) != registry_token:
        raise ConcurrentBuild(f"another build committed to {out_dir} after this run started; run the build again")
    registry = reg.read_registry(out_dir)
    new = {t: read_validated(staging, t) for t in TABLES}
    reports = new["reports"].with_columns(reg.partition_year(pl.col(PARTITION_COLUMN)).alias("_year"))
    affected_paths = planned.filter(pl.col("action").is_in([reg.CHANGED, reg.REPARSE, reg.REMOVED]))["source_path"]
    affected = registry.filter(pl.col("source_path").is_in(affected_paths.implode()))
    remove_paths = pl.concat([affected["source_path"], reports["source_path"]]).unique()
    remove_ids = pl.concat(
        [
            affected.filter(pl.col("duplicate_of").is_null())["sha256"],
            reports.filter(pl.col("duplicate_of").is_null())["report_id"],
        ]
    ).unique()
    years = sorted(set(affected["partition_year"].to_list()) | set(reports["_year"].to_list()))

    summary = CommitSummary()
    commit_root = staging / COMMIT_DIR
    staged: list[tuple[Path, Path]] = []
    for year in years:
        merged: dict[str, pl.DataFrame] = {}
        for table in TABLES:
            key, drop = ("source_path", remove_paths) if table == "reports" else ("report_id", remove_ids)
            old = read_partition(out_dir, table, year).filter(~pl.col(key).is_in(drop.implode()))
            frame = new[table]
            year_of = reg.partition_year(pl.col(PARTITION_COLUMN))
            added = frame.filter(year_of == year).select(polars_schema(table, with_partition=False).names())
            merged[table] = pl.concat([old, added], how="vertical_relaxed").sort(key, maintain_order=True)
        if merged["reports"].is_empty():
            summary.years_removed.append(year)
            continue
        summary.years_rewritten.append(year)
        for table, frame in merged.items():
            target = partition_file(out_dir, table, year)
            tmp = commit_root / table / target.parent.name / DATA_FILE
            write_parquet(frame, tmp, table)
            staged.append((tmp, target))
            summary.rows_written[table] = summary.rows_written.get(table, 0) + frame.height

    # Swap in: every file is complete on disk before the first rename.
    for tmp, target in staged:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
    for year in summary.years_removed:
        for table in TABLES:
            folder = partition_file(out_dir, table, year).parent
            if folder.exists():
                shutil.rmtree(folder)

    scanned = planned.filter(pl.col("action") != reg.REMOVED).select(
        "source_path", "size", "mtime_ns", "sidecar_sha256"
    )
    added_rows = reports.join(scanned, on="source_path", how="left").select(
        "source_path",
        pl.col("report_id").alias("sha256"),
        "size",
        "mtime_ns",
        "sidecar_sha256",
        "parser_version",
        pl.col("_year").alias("partition_year"),
        "text_sha256",
        "duplicate_of",
        "status",
        "ingested_at",
    )
    kept = registry.filter(~pl.col("source_path").is_in(remove_paths.implode()))
    new_registry = pl.concat([kept, added_rows.cast(reg.REGISTRY_SCHEMA)], how="vertical_relaxed")  # type: ignore[arg-type]
    reg.write_registry(out_dir, new_registry)
    summary.registry_rows = new_registry.height
    return summary
