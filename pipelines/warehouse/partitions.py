"""Hive-partitioned Parquet datasets, one per table: `<out>/parquet/<table>/report_year=<YYYY>/data.parquet`.

A build rewrites each year partition it touches as a whole (no DuckDB `COPY … OVERWRITE`, which deletes
every partition), one year at a time: the partition's current rows minus those of the files re-read or
removed, plus the new rows, read from the validated batch's files of that year only. Memory is one year
partition, not the batch. Reports of unknown year live in `report_year=0`.

The commit writes a new snapshot (`snapshots`): the unchanged partition files hard-linked from the current
one, the rewritten partitions, and the new registry; then one atomic flip of `<out>/current` makes all of
it visible at once. `<out>/parquet` links to `current/parquet`, so the public paths never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.warehouse import registry as reg
from pipelines.warehouse import snapshots
from pipelines.warehouse.validate import read_validated, validated_years
from schemas.tables import PARTITION_COLUMN, TABLES, arrow_schema, polars_schema

PARQUET_DIR = snapshots.PARQUET_DIR
DATA_FILE = "data.parquet"


#: columns of the batch's reports the commit needs (the registry rows and what to replace)
_REGISTRY_SOURCES = [
    "source_path",
    "report_id",
    PARTITION_COLUMN,
    "parser_version",
    "text_sha256",
    "duplicate_of",
    "status",
    "ingested_at",
]


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


def _merge(old: pl.DataFrame, added: pl.DataFrame, key: str) -> pl.DataFrame:
    """`old` rows and `added` rows as one frame sorted by `key`, ties in order (old first). A partition this
    code wrote is sorted already: merging it with the sorted batch rows is linear, where sorting the whole
    partition again took about a third of the commit's CPU. Anything else is concatenated and sorted."""
    added = added.sort(key, maintain_order=True)
    if added.schema == old.schema and old.get_column(key).is_sorted():
        return old.merge_sorted(added, key, maintain_order=True)
    return pl.concat([old, added], how="vertical_relaxed").sort(key, maintain_order=True)


@dataclass
class CommitSummary:
    years_rewritten: list[int] = field(default_factory=list)
    years_removed: list[int] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    registry_rows: int = 0


def commit(out_dir: Path, staging: Path, planned: pl.DataFrame, registry_token: str) -> CommitSummary:
    """Merge the validated batch in `staging` into the year partitions of a new snapshot, with the new
    registry, and commit the snapshot (one atomic flip).

    The caller holds the build lock. `planned` is the run's plan; `registry_token` the registry version it
    was planned against (a different one means another build committed since: refuse, nothing is written).
    """
    if reg.registry_token(out_dir) != registry_token:
        raise ConcurrentBuild(f"another build committed to {out_dir} after this run started; run the build again")
    snapshots.ensure_layout(out_dir)
    previous = snapshots.current_id(out_dir)
    registry = reg.read_registry(out_dir)
    # the batch's reports, narrow (one row per report): what to remove, which years, the registry rows
    reports = read_validated(staging, "reports", columns=_REGISTRY_SOURCES).with_columns(
        reg.partition_year(pl.col(PARTITION_COLUMN)).alias("_year")
    )
    affected_paths = planned.filter(pl.col("action").is_in([reg.CHANGED, reg.REPARSE, reg.REMOVED]))["source_path"]
    affected = registry.filter(pl.col("source_path").is_in(affected_paths.implode()))
    remove_paths = pl.concat([affected["source_path"], reports["source_path"]]).unique()
    remove_ids = pl.concat(
        [
            affected.filter(pl.col("duplicate_of").is_null())["sha256"],
            reports.filter(pl.col("duplicate_of").is_null())["report_id"],
        ]
    ).unique()
    years = sorted(set(affected["partition_year"].to_list()) | set(validated_years(staging)))

    summary = CommitSummary()
    sid, snapshot = snapshots.new_snapshot(out_dir)
    current = snapshots.current_dir(out_dir)
    if current is not None:  # partitions this build does not touch: hard links, no bytes copied
        for table in TABLES:
            for path in sorted((current / PARQUET_DIR / table).glob(f"{PARTITION_COLUMN}=*/{DATA_FILE}")):
                if int(path.parent.name.partition("=")[2]) not in years:
                    snapshots.link_or_copy(path, snapshot / PARQUET_DIR / table / path.parent.name / DATA_FILE)
    for year in years:  # one year partition in memory at a time: its current rows and the batch's
        merged: dict[str, pl.DataFrame] = {}
        for table in TABLES:
            key, drop = ("source_path", remove_paths) if table == "reports" else ("report_id", remove_ids)
            old = read_partition(out_dir, table, year).filter(~pl.col(key).is_in(drop.implode()))
            added = read_validated(staging, table, year).select(polars_schema(table, with_partition=False).names())
            merged[table] = _merge(old, added, key)
        if merged["reports"].is_empty():
            summary.years_removed.append(year)
            continue
        summary.years_rewritten.append(year)
        for table, frame in merged.items():
            write_parquet(frame, snapshot / PARQUET_DIR / table / f"{PARTITION_COLUMN}={year}" / DATA_FILE, table)
            snapshots.crash_point("partition-written")
            summary.rows_written[table] = summary.rows_written.get(table, 0) + frame.height

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
    reg.write_registry(snapshot, new_registry)
    snapshots.seal(snapshot, sid, previous)
    snapshots.crash_point("snapshot-sealed")
    snapshots.flip(out_dir, sid)  # the commit point: data and registry together
    snapshots.crash_point("flipped")
    summary.registry_rows = new_registry.height
    return summary
