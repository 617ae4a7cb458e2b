"""The warehouse as Dagster assets: thin wrappers around `pipelines.warehouse`.

raw_files → parsed_reports → validated_tables → warehouse_parquet → duckdb_catalog

Assets hand work to each other through the run's staging folder (`<out>/.staging/<run_id>/`), not
through an IO manager: a batch can be 100,000 reports, and the staged Parquet is already on the
warehouse's filesystem, ready to be renamed into place. Asset checks:
- `validated_tables.schema` (blocking): a wrong type or an unknown code stops the run before anything
  is written;
- `validated_tables.rules`: arithmetic breaches (reports still load; counts by rule in metadata);
- `validated_tables.parser_agreement`: the vectorized pandera checks find exactly the parser's breaches;
- `duckdb_catalog.views_answer` and `duckdb_catalog.comments`.
"""

import shutil
import time
from pathlib import Path

import duckdb
import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from tqdm import tqdm

from pipelines.parsing.parse import PARSER_VERSION
from pipelines.resources import STAGING_DIR, WarehouseResource
from pipelines.warehouse import catalog, ingest, partitions, snapshots, validate
from pipelines.warehouse import registry as reg
from pipelines.warehouse.lock import build_lock
from schemas.codes import STATUSES
from schemas.rules import RULE_IDS

GROUP = "warehouse"
PLAN_FILE = "plan.parquet"
TOKEN_FILE = "registry_token.txt"
#: staging folders of runs that died are removed after this long
STALE_STAGING_SECONDS = 24 * 3600


class BuildConfig(Config):
    full_refresh: bool = False
    """Hash and parse every file again, whatever the registry says."""


def _staging(warehouse: WarehouseResource, context: AssetExecutionContext, *, must_exist: bool = True) -> Path:
    staging = warehouse.staging_path(context.run.run_id)
    if must_exist and not (staging / PLAN_FILE).exists():
        raise Failure(
            f"no staged work for run {context.run.run_id} in {staging}: materialize raw_files and the assets "
            "after it in the same run (e.g. the job build_warehouse or `xxgk build`)"
        )
    return staging


def _plan(staging: Path) -> pl.DataFrame:
    return pl.read_parquet(staging / PLAN_FILE)


def _md_table(frame: pl.DataFrame, limit: int = 20) -> MetadataValue:
    rows = frame.head(limit).rows()
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    body = "".join("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |\n" for row in rows)
    return MetadataValue.md(head + body + (f"\n… {frame.height - limit} more" if frame.height > limit else ""))


def _remove_stale_staging(out: Path) -> None:
    root = out / STAGING_DIR
    if not root.exists():
        return
    now = time.time()
    for folder in root.iterdir():
        if folder.is_dir() and now - folder.stat().st_mtime > STALE_STAGING_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


@asset(group_name=GROUP, description="Registry of raw report files: what is new, changed, unchanged or removed.")
def raw_files(context: AssetExecutionContext, config: BuildConfig, warehouse: WarehouseResource) -> MaterializeResult:
    raw, out = warehouse.raw_path(), warehouse.out_path()
    if not raw.is_dir():
        raise Failure(f"raw folder {raw} does not exist (set --raw, XXGK_RAW_DIR or the warehouse resource)")
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out)
    staging = _staging(warehouse, context, must_exist=False)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # the parser processes' imports (~1.4 s of a CPU) overlap the scan; the in-process executor keeps them
    ingest.start_parser_processes(warehouse.worker_count())
    token = reg.registry_token(out)
    registry = reg.read_registry(out)
    scanned = reg.scan(raw, registry, rehash=config.full_refresh)
    planned = reg.plan(scanned, registry, PARSER_VERSION, full_refresh=config.full_refresh)
    planned.write_parquet(staging / PLAN_FILE)
    (staging / TOKEN_FILE).write_text(token)
    counts = dict(planned.group_by("action").len().iter_rows())
    return MaterializeResult(
        metadata={
            "raw_dir": str(raw),
            "out_dir": str(out),
            "parser_version": PARSER_VERSION,
            "files_seen": scanned.height,
            **{f"files_{a}": int(counts.get(a, 0)) for a in (reg.NEW, reg.CHANGED, reg.UNCHANGED, reg.REPARSE)},
            "files_removed": int(counts.get(reg.REMOVED, 0)),
        }
    )


@asset(
    group_name=GROUP, deps=[raw_files], description="New and changed files parsed (process pool) into staged batches."
)
def parsed_reports(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    staging = _staging(warehouse, context)
    planned = _plan(staging).filter(pl.col("action").is_in(reg.TO_PARSE))
    todo = planned.select("source_path", "sha256").rows()
    with_sidecar = planned.filter(pl.col("sidecar_sha256").is_not_null())["source_path"].to_list()
    with tqdm(
        total=len(todo), desc="parsing", unit="file", disable=not warehouse.show_progress or not todo, leave=False
    ) as bar:
        summary = ingest.parse_to_staging(
            warehouse.raw_path(),
            todo,
            staging,
            workers=warehouse.worker_count(),
            chunk_size=warehouse.chunk_size,
            with_sidecar=with_sidecar,
            progress=bar.update,
        )
    statuses = dict(ingest.read_staged(staging, "reports", columns=["status"]).group_by("status").len().iter_rows())
    context.log.info(f"parsed {len(todo)} files in {summary.wall_s:.1f}s")
    return MaterializeResult(
        metadata={
            "files_parsed": len(todo),
            "parse_seconds": round(summary.wall_s, 2),
            # CPU of the parser processes (parse, frames, staged writes): per report, the per-core parse cost
            "parse_cpu_seconds": round(summary.worker_cpu_s, 2),
            "parse_workers": summary.workers,
            "parse_chunks": summary.chunks,
            **{f"parsed_{s}": int(statuses.get(s, 0)) for s in STATUSES},
        }
    )


@asset(
    group_name=GROUP,
    deps=[parsed_reports],
    description="Staged batch validated with the pandera schemas; rule breaches computed (vectorized).",
    check_specs=[
        AssetCheckSpec("schema", asset="validated_tables", blocking=True, description="types, codes, ranges"),
        AssetCheckSpec(
            "rules", asset="validated_tables", description="arithmetic rules (勾稽关系); reports still load"
        ),
        AssetCheckSpec(
            "parser_agreement", asset="validated_tables", description="vectorized checks find the parser's breaches"
        ),
    ],
)
def validated_tables(context: AssetExecutionContext, warehouse: WarehouseResource):
    staging = _staging(warehouse, context)
    planned = _plan(staging)
    unchanged = planned.filter(pl.col("action") == reg.UNCHANGED).select("source_path")
    kept_originals = (
        reg.read_registry(warehouse.out_path())
        .join(unchanged, on="source_path", how="semi")
        .filter(pl.col("duplicate_of").is_null())
        .select(pl.col("sha256").alias("report_id"), "text_sha256")
    )
    result = validate.validate_staged(staging, kept_originals)
    result.schema_failures.write_parquet(staging / "schema_failures.parquet")
    breaches = {
        rule: int(result.breaches_by_rule.get(rule, 0)) for rule in RULE_IDS if result.breaches_by_rule.get(rule)
    }
    yield MaterializeResult(
        metadata={
            **{f"rows_{t}": n for t, n in result.rows.items()},
            "duplicates": result.duplicates,
            "breaches": sum(breaches.values()),
            **{f"breaches_{r}": n for r, n in breaches.items()},
            "schema_failures": result.schema_failures.height,
        }
    )
    failures = result.schema_failures
    yield AssetCheckResult(
        check_name="schema",
        passed=result.ok,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "failures": failures.height,
            **(
                {
                    "by_check": _md_table(
                        failures.group_by("table", "check", "column").len().sort("len", descending=True)
                    )
                }
                if failures.height
                else {}
            ),
            **({"examples": _md_table(failures)} if failures.height else {}),
        },
    )
    yield AssetCheckResult(
        check_name="rules",
        passed=not breaches,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "breaches": sum(breaches.values()),
            **{f"breaches_{r}": n for r, n in breaches.items()},
            # pandera's failure cases: rows on the total side of a broken equation, per rule check
            **{f"failing_rows_{r}": n for r, n in sorted(result.rule_failing_rows.items())},
        },
    )
    disagreements = result.disagreements
    yield AssetCheckResult(
        check_name="parser_agreement",
        passed=disagreements.is_empty(),
        severity=AssetCheckSeverity.WARN,
        metadata={
            "disagreements": disagreements.height,
            **({"examples": _md_table(disagreements)} if disagreements.height else {}),
        },
    )
    if not result.ok:
        context.log.error(
            f"{failures.height} schema failures: nothing will be written. First: {failures.head(5).to_dicts()}"
        )


@asset(
    group_name=GROUP,
    deps=[validated_tables],
    description="Hive-partitioned Parquet datasets (report_year=YYYY) and the registry: a new snapshot per "
    "build, all tables committed at once (atomic flip of <out>/current).",
)
def warehouse_parquet(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    staging = _staging(warehouse, context)
    out = warehouse.out_path()
    planned = _plan(staging)
    if planned.filter(pl.col("action") != reg.UNCHANGED).is_empty():
        shutil.rmtree(staging, ignore_errors=True)
        return MaterializeResult(metadata={"changed": False, "years_rewritten": MetadataValue.json([])})
    with build_lock(out, wait_seconds=warehouse.lock_wait_seconds):
        summary = partitions.commit(out, staging, planned, (staging / TOKEN_FILE).read_text())
    shutil.rmtree(staging, ignore_errors=True)
    context.log.info(f"rewrote year partitions {summary.years_rewritten}, removed {summary.years_removed}")
    return MaterializeResult(
        metadata={
            "changed": True,
            "years_rewritten": MetadataValue.json(summary.years_rewritten),
            "years_removed": MetadataValue.json(summary.years_removed),
            **{f"rows_{t}": n for t, n in summary.rows_written.items()},
            "registry_files": summary.registry_rows,
        }
    )


def _catalog_is_current(out: Path) -> bool:
    """The catalog exists, was built for this folder and parser, and nothing was committed since."""
    path = out / catalog.CATALOG_FILE
    if not path.exists():
        return False
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            row = con.execute("SELECT out_dir, registry_token, parser_version FROM core.build_info").fetchone()
        finally:
            con.close()
    except duckdb.Error:
        return False
    return row == (str(out), reg.registry_token(out), PARSER_VERSION)


@asset(
    group_name=GROUP,
    deps=[warehouse_parquet],
    description="The DuckDB catalog xxgk.duckdb: core views over the Parquet, analytic views, comments.",
    check_specs=[
        AssetCheckSpec("views_answer", asset="duckdb_catalog", description="every view answers a query"),
        AssetCheckSpec("comments", asset="duckdb_catalog", description="every view and column has a comment"),
    ],
)
def duckdb_catalog(context: AssetExecutionContext, warehouse: WarehouseResource):
    out = warehouse.out_path()
    with build_lock(out, wait_seconds=warehouse.lock_wait_seconds):
        snapshots.ensure_layout(out)  # a warehouse written before snapshots is converted at the next build
        rebuilt = not _catalog_is_current(out)
        if rebuilt:
            catalog.build_catalog(out, PARSER_VERSION, registry_token=reg.registry_token(out))
    stats = catalog.describe(out / catalog.CATALOG_FILE)
    yield MaterializeResult(
        metadata={
            "path": str(out / catalog.CATALOG_FILE),
            "rebuilt": rebuilt,
            "storage_compatibility": catalog.STORAGE_COMPATIBILITY,
            **{f"reports_{s}": n for s, n in stats.statuses.items()},
            "reports_total": sum(stats.statuses.values()),
            "duplicates": stats.duplicates,
            **{f"breaches_{r}": n for r, n in stats.breaches.items()},
            **{f"rows_{v}": n for v, n in stats.view_rows.items()},
        }
    )
    yield AssetCheckResult(
        check_name="views_answer",
        passed=not stats.view_errors,
        metadata={"errors": MetadataValue.json(stats.view_errors)},
    )
    yield AssetCheckResult(
        check_name="comments",
        passed=not stats.missing_comments,
        metadata={"missing": MetadataValue.json(stats.missing_comments[:50])},
    )


WAREHOUSE_ASSETS = [raw_files, parsed_reports, validated_tables, warehouse_parquet, duckdb_catalog]
