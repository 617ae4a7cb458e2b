"""Hive-partitioned Parquet datasets, one per table: `<out>/parquet/<table>/report_year=<YYYY>/<part>.parquet`.

A year partition is one or more part files (`part-<build id>.parquet`), each sorted by the table's key
(`source_path` for reports, `report_id` for the others: zone maps), disjoint (a report's rows are in one part
of each table). A build touches only the partitions of its years, one year at a time (memory: one year of
the batch, plus the parts it must rewrite):

- the batch's new rows of the year are written as ONE new part, `part-<this build's id>.parquet`; the
  partition's other parts are kept as they are (hard links), so adding reports costs what the new rows cost,
  not what the partition holds;
- rows that must go (files changed, removed or re-read: the registry knows their paths and report ids) are
  removed from the parts holding them, which are rewritten INTO the new part (their remaining rows merged
  with the new ones); a year the registry says loses no rows is not read at all;
- a partition that would hold more than `MAX_PARTS` parts is compacted (`parts_to_compact`);
- a first build, or a full refresh (every row replaced), writes one part per partition.

Reports of unknown year live in `report_year=0`. A year left without reports is removed (every table).

The commit writes a new snapshot (`snapshots`): the kept part files hard-linked from the current one, the
new parts, and the new registry; then one atomic flip of `<out>/current` makes all of it visible at once.
`<out>/parquet` links to `current/parquet`, so the public paths never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.warehouse import registry as reg
from pipelines.warehouse import snapshots
from pipelines.warehouse.validate import read_validated, validated_years
from schemas.tables import PARTITION_COLUMN, TABLES, arrow_schema, polars_schema

PARQUET_DIR = snapshots.PARQUET_DIR
#: the part files of a partition: any Parquet file in its folder (a warehouse built before parts has one
#: `data.parquet` per partition; it is a part like the others)
PART_GLOB = "*.parquet"
#: most part files a year partition of one table holds after a commit: a build that would add one more
#: compacts the partition (`parts_to_compact`). Every part costs every query that reads its partition: DuckDB
#: opens each file and reads its footer (~0.13 ms of CPU per file and table scanned, measured on a 10,000
#: report warehouse, 7 years, one thread), so the benchmark queries took 1.6x / 2.4x / 3.7x the CPU of one
#: part per partition with 4 / 8 / 16 parts (estimated for a table scan at 50,000 reports: +14 / +32 / +70 %).
#: Compacting costs little: it merges the recent parts only (`BASE_SHARE`), 0.1 s of CPU for all 35
#: partitions at 10,000 reports. So the bound is low: 1 to 4 parts, a compaction every third incremental build.
MAX_PARTS = 4
#: a compaction leaves the partition's largest part as it is while the other parts together hold fewer rows
#: than this share of it, and merges only those: it then costs the recent rows, not the whole partition
BASE_SHARE = 0.25


#: the batch's reports' columns the commit needs (the registry rows and what to replace)
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


def partition_key(table: str) -> str:
    """The column the part files of `table` are sorted by, and by which the commit replaces rows."""
    return "source_path" if table == "reports" else "report_id"


def part_name(build_id: str) -> str:
    """The file name of the part a build writes: unique per build (its snapshot id), never a kept part's."""
    return f"part-{build_id}.parquet"


def dataset_dir(root: Path, table: str) -> Path:
    """`root`: the warehouse folder (through its `parquet` link) or one snapshot folder."""
    return root / PARQUET_DIR / table


def partition_dir(root: Path, table: str, year: int) -> Path:
    return dataset_dir(root, table) / f"{PARTITION_COLUMN}={year}"


def part_files(root: Path, table: str, year: int) -> list[Path]:
    return sorted(partition_dir(root, table, year).glob(PART_GLOB))


def has_data(out_dir: Path, table: str) -> bool:
    return any(dataset_dir(out_dir, table).glob(f"{PARTITION_COLUMN}=*/{PART_GLOB}"))


def read_part(path: Path, table: str) -> pl.DataFrame:
    schema = polars_schema(table, with_partition=False)
    return pl.read_parquet(path).select(schema.names()).cast(schema)  # type: ignore[arg-type]


def read_partition(root: Path, table: str, year: int) -> pl.DataFrame:
    """Every row of one year partition (all its parts), sorted by the table's key."""
    parts = [read_part(path, table) for path in part_files(root, table, year)]
    if not parts:
        return pl.DataFrame(schema=polars_schema(table, with_partition=False))
    return merge_parts(parts, partition_key(table))


def write_parquet(frame: pl.DataFrame, path: Path, table: str) -> None:
    """Write rows of `table` (without the partition column) with the declared Arrow schema and comments."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema(table)
    pq.write_table(frame.select(schema.names).to_arrow().cast(schema), path, compression="zstd")


def merge_parts(frames: list[pl.DataFrame], key: str) -> pl.DataFrame:
    """`frames` as one frame sorted by `key`, ties in order (earlier frames first). Parts this code wrote are
    sorted already: merging them pairwise is linear per level (log2(len(frames)) levels), where sorting the
    whole partition again took about a third of the commit's CPU. A frame not sorted is sorted first (stable);
    frames of different schemas are concatenated and sorted."""
    if any(frame.schema != frames[0].schema for frame in frames):
        return pl.concat(frames, how="vertical_relaxed").sort(key, maintain_order=True)
    level = [f if f.get_column(key).is_sorted() else f.sort(key, maintain_order=True) for f in frames]
    while len(level) > 1:
        pairs = range(0, len(level) - 1, 2)
        merged = [level[i].merge_sorted(level[i + 1], key, maintain_order=True) for i in pairs]
        level = merged + level[len(merged) * 2 :]
    return level[0]


def parts_to_compact(kept_rows: Mapping[str, int], new_rows: int) -> list[str]:
    """Which kept parts (name → rows) a commit that writes a new part of `new_rows` rows merges into it.

    None while the partition stays within `MAX_PARTS` parts. Beyond, the parts other than the largest when
    together (with the new rows) they hold less than `BASE_SHARE` of its rows: the partition is back to two
    parts at the cost of the rows added since the largest was written. Else every part: one file again."""
    if len(kept_rows) + 1 <= MAX_PARTS:
        return []
    largest = max(kept_rows, key=lambda name: (kept_rows[name], name))
    others = [name for name in kept_rows if name != largest]
    if sum(kept_rows[name] for name in others) + new_rows < BASE_SHARE * kept_rows[largest]:
        return others
    return list(kept_rows)


@dataclass
class PartitionPlan:
    """What a commit does to one table's year partition."""

    kept: list[Path]  # parts kept as they are (hard-linked into the new snapshot)
    new: pl.DataFrame | None  # the rows of the part this build writes (None: no new part)
    rows: int  # rows in the partition after the commit
    rewritten: int = 0  # old parts replaced by the new part (rows removed, or compacted)
    compacted: bool = False


def _holds_any(path: Path, key: str, drop: pl.Series) -> bool:
    """Whether the part at `path` has a row whose `key` is in `drop` (reads that one column)."""
    return bool(pl.read_parquet(path, columns=[key]).get_column(key).is_in(drop.implode()).any())


def plan_partition(parts: list[Path], added: pl.DataFrame, table: str, drop: pl.Series | None) -> PartitionPlan:
    """The plan for one table's year partition, whose current part files are `parts`: `added` (the batch's
    rows of that year) and the kept rows of the parts holding a `drop` key (None: nothing leaves this year)
    go to one new part; the other parts are kept, unless `parts_to_compact` merges some of them in too."""
    key = partition_key(table)
    hit = [path for path in parts if drop is not None and _holds_any(path, key, drop)]
    fresh = [read_part(path, table).filter(~pl.col(key).is_in(drop.implode())) for path in hit if drop is not None]
    fresh.append(added)
    fresh_rows = sum(frame.height for frame in fresh)
    kept = {path: pq.read_metadata(path).num_rows for path in parts if path not in hit}
    if fresh_rows:  # a part without rows (written so that every table has a file in each year) goes now
        kept = {path: n for path, n in kept.items() if n}
    if not fresh_rows and kept:  # nothing to add: the partition stays as it is
        return PartitionPlan(list(kept), None, sum(kept.values()), rewritten=len(hit))
    by_name = {path.name: path for path in kept}
    compact = [by_name[name] for name in parts_to_compact({p.name: n for p, n in kept.items()}, fresh_rows)]
    rows = sum(kept.values()) + fresh_rows
    new = merge_parts([*(read_part(path, table) for path in compact), *fresh], key)
    kept_paths = [path for path in kept if path not in compact]
    return PartitionPlan(kept_paths, new, rows, rewritten=len(hit) + len(compact), compacted=bool(compact))


@dataclass
class CommitSummary:
    years_rewritten: list[int] = field(default_factory=list)  # years with a new part (or parts replaced)
    years_removed: list[int] = field(default_factory=list)
    years_compacted: list[int] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)  # rows in the new parts
    parts_written: int = 0
    parts_kept: int = 0  # in the touched years; untouched years are linked whole
    parts_rewritten: int = 0  # old parts replaced (rows removed, or compacted)
    registry_rows: int = 0


def commit(out_dir: Path, staging: Path, planned: pl.DataFrame, registry_token: str) -> CommitSummary:
    """Add the validated batch in `staging` to the year partitions of a new snapshot, with the new registry,
    and commit the snapshot (one atomic flip).

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
    # the years some committed rows leave: the registry has every committed path and report id, with its
    # year. Any other year only gains rows: its parts are neither read nor rewritten
    leaving = registry.filter(
        pl.col("source_path").is_in(remove_paths.implode()) | pl.col("sha256").is_in(remove_ids.implode())
    )
    shrinking = set(leaving["partition_year"].to_list())

    summary = CommitSummary()
    sid, snapshot = snapshots.new_snapshot(out_dir)
    new_part = part_name(sid)
    current = snapshots.current_dir(out_dir)
    if current is not None:  # partitions this build does not touch: hard links, no bytes copied
        for table in TABLES:
            for path in sorted(dataset_dir(current, table).glob(f"{PARTITION_COLUMN}=*/{PART_GLOB}")):
                if int(path.parent.name.partition("=")[2]) not in years:
                    snapshots.link_or_copy(path, dataset_dir(snapshot, table) / path.parent.name / path.name)
    for year in years:  # one year in memory at a time: the batch's rows and the parts to rewrite
        plans: dict[str, PartitionPlan] = {}
        for table in TABLES:  # reports first: a year left without reports is removed, every table
            names = polars_schema(table, with_partition=False).names()
            drop = None if year not in shrinking else remove_paths if table == "reports" else remove_ids
            parts = part_files(current, table, year) if current is not None else []
            plans[table] = plan_partition(parts, read_validated(staging, table, year).select(names), table, drop)
            if not plans["reports"].rows:
                break
        if not plans["reports"].rows:
            summary.years_removed.append(year)
            continue
        summary.years_rewritten.append(year)
        if any(plan.compacted for plan in plans.values()):
            summary.years_compacted.append(year)
        for table, plan in plans.items():
            folder = partition_dir(snapshot, table, year)
            for path in plan.kept:
                snapshots.link_or_copy(path, folder / path.name)
            summary.parts_kept += len(plan.kept)
            summary.parts_rewritten += plan.rewritten
            if plan.new is not None:
                write_parquet(plan.new, folder / new_part, table)
                snapshots.crash_point("partition-written")
                summary.parts_written += 1
                summary.rows_written[table] = summary.rows_written.get(table, 0) + plan.new.height

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
