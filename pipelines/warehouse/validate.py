"""Validate a staged batch with the pandera schemas and turn it into the rows to load. The per-report
checks run on each chunk in its parser process (`check_chunk`); the build process does what needs the whole
batch (`validate_staged`), a group of staged chunks at a time (memory does not grow with the batch).

- duplicates: a report whose normalized text equals one already loaded (or one earlier in path order in
  this batch) gets `duplicate_of`; its figures are not loaded a second time;
- schema failures (wrong type, unknown code, out-of-range year) are collected, and block the load;
- arithmetic breaches become `violations` rows, and `n_violations` of each report; each rule is evaluated
  once (`schemas.checks.evaluate`) and pandera's rule checks read that evaluation's per-row outcome;
- the vectorized breaches are compared with the parser's own (`disagreements`).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.warehouse.ingest import PARSED_DIR, read_staged, staged_chunks, staged_rows
from pipelines.warehouse.registry import partition_year
from pipelines.warehouse.rows import PARSER_VIOLATIONS, STAGING_COLUMN, staging_schema
from schemas import checks
from schemas.rules import RULE_IDS
from schemas.tables import PARTITION_COLUMN, TABLES, pandera_schema, polars_schema

VALIDATED_DIR = "validated"
_KEY = [STAGING_COLUMN, "rule", "location"]
_FAILURE_SCHEMA = pl.Schema(
    {
        "table": pl.Utf8,
        "check": pl.Utf8,
        "column": pl.Utf8,
        "failure_case": pl.Utf8,
        "index": pl.Int64,
        STAGING_COLUMN: pl.Utf8,
    }
)


@dataclass
class Validation:
    #: failure cases of schema checks: table, check, column, failure_case, index
    schema_failures: pl.DataFrame
    #: per rule id: rows failing the pandera arithmetic check
    rule_failing_rows: Counter[str] = field(default_factory=Counter)
    #: per rule id: breaches recorded
    breaches_by_rule: Counter[str] = field(default_factory=Counter)
    #: breaches found by only one of the parser and the vectorized checks
    disagreements: pl.DataFrame = field(default_factory=pl.DataFrame)
    duplicates: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.schema_failures.is_empty()


def mark_duplicates(reports: pl.DataFrame, kept_originals: pl.DataFrame) -> pl.DataFrame:
    """Set `duplicate_of`: the report_id of the first report (already loaded, else first in path order)
    with the same normalized text. `kept_originals` are loaded reports not re-read: report_id, text_sha256."""
    batch = reports.sort(STAGING_COLUMN).with_row_index("_order")
    candidates = pl.concat(
        [
            kept_originals.select(
                "report_id",
                "text_sha256",
                pl.lit(None, pl.Utf8).alias("_path"),
                pl.lit(-1).cast(pl.Int64).alias("_rank"),
            ),
            batch.select(
                "report_id",
                "text_sha256",
                pl.col(STAGING_COLUMN).alias("_path"),
                pl.col("_order").cast(pl.Int64).alias("_rank"),
            ),
        ]
    ).filter(pl.col("text_sha256").is_not_null())
    first = candidates.sort("_rank").group_by("text_sha256", maintain_order=True).first()
    first = first.select("text_sha256", pl.col("report_id").alias("_orig_id"), pl.col("_path").alias("_orig_path"))
    marked = batch.join(first, on="text_sha256", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("_orig_id").is_not_null() & pl.col("_orig_path").ne_missing(pl.col(STAGING_COLUMN)))
        .then(pl.col("_orig_id"))
        .otherwise(None)
        .alias("duplicate_of")
    )
    return marked.drop("_order", "_orig_id", "_orig_path")


#: rows validated by pandera at a time. pandera's peak is several times the frame it validates (measured on
#: table 3 of 10,000 reports, 241,074 rows: +356 MB validated whole, +184 MB in 50,000-row slices, same
#: time), so validating a whole batch at once made the build's memory grow with N.
SLICE_ROWS = 50_000


def _report_slices(frame: pl.DataFrame, target: int) -> list[tuple[int, int]]:
    """(offset, length) slices of about `target` rows that never split one report's rows (the rule checks
    sum over a report). One slice when the frame is small or a report's rows are not contiguous."""
    if frame.height <= target:
        return [(0, frame.height)]
    path = pl.col(STAGING_COLUMN)
    starts = frame.select((path != path.shift(1)).fill_null(True).arg_true())[:, 0].to_list()
    if len(starts) != frame[STAGING_COLUMN].n_unique():
        return [(0, frame.height)]
    slices: list[tuple[int, int]] = []
    begin = 0
    for start in starts:
        if start - begin >= target:
            slices.append((begin, start - begin))
            begin = start
    slices.append((begin, frame.height - begin))
    return slices


def _schema_failures(table: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, Counter[str]]:
    """Run the table's pandera schema (lazy: every failure), in report-aligned slices of SLICE_ROWS rows;
    split schema failures from rule failures."""
    failures: list[pl.DataFrame] = []
    rules: Counter[str] = Counter()
    for offset, length in _report_slices(frame, SLICE_ROWS):
        failed, rule_rows = _slice_failures(table, frame.slice(offset, length))
        failures.append(failed.with_columns(pl.col("index") + offset))
        rules += rule_rows
    return pl.concat(failures, how="vertical_relaxed"), rules


def _slice_failures(table: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, Counter[str]]:
    import pandera.errors

    try:
        pandera_schema(table).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        is_rule = pl.col("check").is_in(list(RULE_IDS))
        rules = cases.filter(is_rule)
        paths = frame.select(pl.col(STAGING_COLUMN)).with_row_index("index").cast({"index": pl.Int64})
        schema = (
            cases.filter(~is_rule)
            .select(
                pl.lit(table).alias("table"),
                "check",
                "column",
                pl.col("failure_case").cast(pl.Utf8),
                pl.col("index").cast(pl.Int64),
            )
            .join(paths, on="index", how="left", maintain_order="left")
        )
        return schema, Counter(dict(rules.group_by("check").len().iter_rows()))
    return pl.DataFrame(schema=_FAILURE_SCHEMA), Counter()


def _disagreements(vectorized: pl.DataFrame, parser: pl.DataFrame) -> pl.DataFrame:
    """Breaches found by one side only, or with other figures (full outer comparison on source/rule/location)."""
    v = vectorized.select(*_KEY, "expected", "actual")
    p = parser.select(*_KEY, "expected", "actual")
    only_v = v.join(p, on=[*_KEY, "expected", "actual"], how="anti", nulls_equal=True)
    only_p = p.join(v, on=[*_KEY, "expected", "actual"], how="anti", nulls_equal=True)
    return pl.concat(
        [
            only_v.with_columns(pl.lit("vectorized").alias("found_by")),
            only_p.with_columns(pl.lit("parser").alias("found_by")),
        ]
    )


#: reports validated (and written) together: the staged chunks are grouped up to about this many reports,
#: so the build's memory is one group's frames whatever the batch size (a chunk never splits a report)
GROUP_REPORTS = 5_000


def _chunk_groups(staging: Path, target: int) -> list[list[str]]:
    """Consecutive staged chunks, grouped up to about `target` reports each."""
    groups: list[list[str]] = []
    size = target
    for name in staged_chunks(staging):
        rows = staged_rows(staging, "reports", name)
        if size + rows > target and (not groups or groups[-1]):
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += rows
    return [g for g in groups if g]


def _year_dir(staging: Path, table: str, year: int) -> Path:
    return staging / VALIDATED_DIR / table / f"{PARTITION_COLUMN}={year}"


def _write_by_year(staging: Path, table: str, frame: pl.DataFrame, part: int) -> None:
    """Rows to load, one file per year partition they go to (the commit reads one year at a time)."""
    year = partition_year(pl.col(PARTITION_COLUMN)).alias("_year")
    for (value,), rows in frame.with_columns(year).partition_by("_year", as_dict=True, maintain_order=True).items():
        path = _year_dir(staging, table, int(value)) / f"part-{part:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.drop("_year").write_parquet(path, compression="lz4", statistics=False)


#: what each parser process stages beside a chunk's parsed tables: its own per-report validation
SCHEMA_FAILURES = "schema_failures"
RULE_FAILURES = "rule_failures"  # per rule id: rows failing its pandera check
DISAGREEMENTS = "disagreements"
_RULE_FAILURES_SCHEMA = pl.Schema({"rule": pl.Utf8, "rows": pl.Int64})
_DISAGREEMENTS_SCHEMA = pl.Schema(
    {**staging_schema(PARSER_VIOLATIONS), "found_by": pl.Utf8}  # type: ignore[dict-item]
)
#: tables whose failure-case indexes count rows of that table (offset by the chunks before, batch-wide)
_INDEXED_TABLES: tuple[str, ...] = ("reports", *checks.RULE_CHECKED_TABLES, "violations")
#: the staged tables `check_chunk` adds to a parsed chunk
CHECKED_TABLES: tuple[str, ...] = ("violations", SCHEMA_FAILURES, RULE_FAILURES, DISAGREEMENTS)


def checked_schema(table: str) -> pl.Schema:
    """Schema of a staged table of the chunk checks (the others: `rows.staging_schema`)."""
    return {
        SCHEMA_FAILURES: _FAILURE_SCHEMA,
        RULE_FAILURES: _RULE_FAILURES_SCHEMA,
        DISAGREEMENTS: _DISAGREEMENTS_SCHEMA,
    }.get(table) or staging_schema(table)


def check_chunk(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every per-report check of one parsed chunk (run in its parser process, chunks in parallel): pandera
    schemas, each arithmetic rule evaluated once (the breaches, and the outcome pandera checks), the reports'
    `n_violations`, the comparison with the parser's breaches. Returns the chunk's frames with `reports`
    completed and the CHECKED_TABLES added. Failure-case indexes count from the start of the chunk."""
    failures: list[pl.DataFrame] = []
    rule_rows: Counter[str] = Counter()
    found: list[pl.DataFrame] = []
    for table in checks.RULE_CHECKED_TABLES:  # the figure tables a parse fills
        evaluation = checks.evaluate(table, frames[table])
        failed, rules = _schema_failures(table, evaluation.checked)
        failures.append(failed)
        rule_rows += rules
        if failed.is_empty():
            found.append(evaluation.breaches)
    violations = (
        # in a stable order (the checks' own order varies from run to run)
        pl.concat(found, how="vertical_relaxed").sort(STAGING_COLUMN, "rule", "location", maintain_order=True)
        if found
        else pl.DataFrame(schema=staging_schema("violations"))
    ).cast(staging_schema("violations"))  # type: ignore[arg-type]
    per_report = violations.group_by(STAGING_COLUMN).len("n")
    staged = frames["reports"]
    reports = (
        staged.join(per_report, on=STAGING_COLUMN, how="left", maintain_order="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int32).alias("n_violations"))
        .select(staged.columns)
    )
    for table, frame in (("reports", reports), ("violations", violations)):
        failures.append(_schema_failures(table, frame)[0])
    return {
        **frames,
        "reports": reports,
        "violations": violations,
        SCHEMA_FAILURES: pl.concat(failures, how="vertical_relaxed").cast(_FAILURE_SCHEMA),  # type: ignore[arg-type]
        RULE_FAILURES: pl.DataFrame(list(rule_rows.items()), schema=_RULE_FAILURES_SCHEMA, orient="row"),
        DISAGREEMENTS: _disagreements(violations, frames[PARSER_VIOLATIONS]).cast(_DISAGREEMENTS_SCHEMA),  # type: ignore[arg-type]
    }


def _scan_checked(staging: Path, table: str, chunks: list[str]) -> pl.LazyFrame:
    """The chunks' staged check results of `table`, as one lazy scan (tiny files; nothing held)."""
    files = [str(staging / PARSED_DIR / table / name) for name in chunks]
    if not files:
        return pl.LazyFrame(schema=checked_schema(table))
    return pl.scan_parquet(files, schema=checked_schema(table), include_file_paths="_file")


def _batch_failures(staging: Path, chunks: list[str]) -> pl.DataFrame:
    """The chunks' schema failures, their indexes counted from the start of the batch (chunk order)."""
    failed = _scan_checked(staging, SCHEMA_FAILURES, chunks).collect()
    if failed.is_empty():
        return failed.drop("_file")
    offsets = []
    for table in _INDEXED_TABLES:
        starts = itertools.accumulate((staged_rows(staging, table, name) for name in chunks[:-1]), initial=0)
        offsets += [(table, name, start) for name, start in zip(chunks, starts, strict=True)]
    offset = pl.DataFrame(offsets, schema={"table": pl.Utf8, "_chunk": pl.Utf8, "_offset": pl.Int64}, orient="row")
    return (
        failed.with_columns(pl.col("_file").str.extract(r"([^/\\]+)$").alias("_chunk"))
        .join(offset, on=["table", "_chunk"], how="left", maintain_order="left")
        .with_columns(pl.col("index") + pl.col("_offset"))
        .select(_FAILURE_SCHEMA.names())
    )


def validate_staged(staging: Path, kept_originals: pl.DataFrame, *, group_reports: int | None = None) -> Validation:
    """Gather the parsed batch's validation and write the rows to load to
    `<staging>/validated/<table>/report_year=<Y>/part-NNNNN.parquet`, a group of staged chunks at a time.

    The per-report checks ran in the parser processes (`check_chunk`: every rule is per report and a chunk
    holds whole reports); what needs the whole batch is done here: duplicate marking (three narrow columns
    read whole), and the batch summaries of the chunks' checks (lazy scans of small files)."""
    out = staging / VALIDATED_DIR
    out.mkdir(parents=True, exist_ok=True)
    identity = read_staged(staging, "reports", columns=[STAGING_COLUMN, "report_id", "text_sha256"])
    duplicate_of = mark_duplicates(identity, kept_originals).select(STAGING_COLUMN, "duplicate_of")
    result = Validation(schema_failures=pl.DataFrame(schema=_FAILURE_SCHEMA), disagreements=pl.DataFrame())
    result.rows = dict.fromkeys(TABLES, 0)
    if identity.is_empty():  # nothing was parsed: nothing to validate
        return result
    result.duplicates = duplicate_of.filter(pl.col("duplicate_of").is_not_null()).height
    chunks = staged_chunks(staging)
    result.schema_failures = _batch_failures(staging, chunks)
    rule_rows = _scan_checked(staging, RULE_FAILURES, chunks).group_by("rule").agg(pl.col("rows").sum()).collect()
    result.rule_failing_rows = Counter({r: int(n) for r, n in rule_rows.iter_rows() if n})
    by_rule = _scan_checked(staging, "violations", chunks).group_by("rule").len().collect()
    result.breaches_by_rule = Counter(dict(by_rule.iter_rows()))
    result.disagreements = _scan_checked(staging, DISAGREEMENTS, chunks).drop("_file").collect()
    for part, group in enumerate(_chunk_groups(staging, group_reports or GROUP_REPORTS)):
        staged = read_staged(staging, "reports", group)
        reports = (
            staged.drop("duplicate_of")
            .join(duplicate_of, on=STAGING_COLUMN, how="left", maintain_order="left")
            .select(staged.columns)
        )
        _write_by_year(staging, "reports", reports.select(TABLES["reports"].column_names), part)
        result.rows["reports"] += reports.height
        originals = reports.filter(pl.col("duplicate_of").is_null()).select(STAGING_COLUMN)
        for table in (*checks.RULE_CHECKED_TABLES, "violations"):
            loaded = (
                read_staged(staging, table, group)
                .join(originals, on=STAGING_COLUMN, how="semi")
                .select(TABLES[table].column_names)
            )
            _write_by_year(staging, table, loaded, part)
            result.rows[table] += loaded.height
    return result


def validated_years(staging: Path) -> list[int]:
    """Year partitions the validated batch has rows for."""
    folder = staging / VALIDATED_DIR / "reports"
    return (
        sorted(int(p.name.partition("=")[2]) for p in folder.glob(f"{PARTITION_COLUMN}=*")) if folder.exists() else []
    )


def read_validated(
    staging: Path, table: str, year: int | None = None, columns: list[str] | None = None
) -> pl.DataFrame:
    """Validated rows of `table` to load: of one year partition, or (year None) of every year (small tables
    and tests only: the commit reads one year at a time)."""
    schema = polars_schema(table)
    pattern = f"{PARTITION_COLUMN}={year}" if year is not None else f"{PARTITION_COLUMN}=*"
    files = sorted((staging / VALIDATED_DIR / table).glob(f"{pattern}/part-*.parquet"))
    names = columns or schema.names()
    if not files:
        return pl.DataFrame(schema={c: schema[c] for c in names})
    frames = [pl.read_parquet(f, columns=names) for f in files]
    return pl.concat(frames, how="vertical_relaxed").cast({c: schema[c] for c in names})  # type: ignore[arg-type]
