"""Validate a staged batch with the pandera schemas and turn it into the rows to load.

- duplicates: a report whose normalized text equals one already loaded (or one earlier in path order in
  this batch) gets `duplicate_of`; its figures are not loaded a second time;
- schema failures (wrong type, unknown code, out-of-range year) are collected, and block the load;
- arithmetic breaches become `violations` rows (the same polars expressions as the pandera rule checks),
  and `n_violations` of each report;
- the vectorized breaches are compared with the parser's own (`disagreements`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.warehouse.ingest import read_staged
from pipelines.warehouse.rows import PARSER_VIOLATIONS, STAGING_COLUMN
from schemas import checks
from schemas.rules import RULE_IDS
from schemas.tables import TABLES, empty_frame, pandera_schema, polars_schema

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


def validate_staged(staging: Path, kept_originals: pl.DataFrame) -> Validation:
    """Validate the parsed batch in `staging` and write the rows to load to `<staging>/validated/`."""
    out = staging / VALIDATED_DIR
    out.mkdir(parents=True, exist_ok=True)
    reports = mark_duplicates(read_staged(staging, "reports"), kept_originals)
    if reports.is_empty():  # nothing was parsed: nothing to validate (and no need to load pandera)
        result = Validation(schema_failures=pl.DataFrame(schema=_FAILURE_SCHEMA), disagreements=pl.DataFrame())
        for table in TABLES:
            empty_frame(table).write_parquet(out / f"{table}.parquet")
            result.rows[table] = 0
        return result
    failures: list[pl.DataFrame] = []
    rule_rows: Counter[str] = Counter()
    found: list[pl.DataFrame] = []
    figures: dict[str, pl.DataFrame] = {}
    for table in checks.RULE_CHECKED_TABLES:  # the figure tables a parse fills
        frame = read_staged(staging, table)
        failed, rules = _schema_failures(table, frame)
        failures.append(failed)
        rule_rows += rules
        if failed.is_empty():
            found.append(checks.breaches(table, frame))
        figures[table] = frame
    violations = (
        pl.concat(found, how="vertical_relaxed")
        if found
        else pl.DataFrame(schema={**polars_schema("violations"), STAGING_COLUMN: pl.Utf8})
    )
    per_report = violations.group_by(STAGING_COLUMN).len("n")
    reports = (
        reports.join(per_report, on=STAGING_COLUMN, how="left", maintain_order="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int32).alias("n_violations"))
        .drop("n")
    )
    figures["violations"] = violations
    for table, frame in (("reports", reports), ("violations", violations)):
        failed, _ = _schema_failures(table, frame)
        failures.append(failed)
    result = Validation(
        schema_failures=pl.concat(failures, how="vertical_relaxed"),
        rule_failing_rows=rule_rows,
        breaches_by_rule=Counter(dict(violations.group_by("rule").len().iter_rows())),
        disagreements=_disagreements(violations, read_staged(staging, PARSER_VIOLATIONS)),
        duplicates=reports.filter(pl.col("duplicate_of").is_not_null()).height,
    )
    originals = reports.filter(pl.col("duplicate_of").is_null()).select(STAGING_COLUMN)
    reports.select(TABLES["reports"].column_names).write_parquet(out / "reports.parquet")
    result.rows["reports"] = reports.height
    for table, frame in figures.items():
        loaded = frame.join(originals, on=STAGING_COLUMN, how="semi").select(TABLES[table].column_names)
        loaded.write_parquet(out / f"{table}.parquet")
        result.rows[table] = loaded.height
    return result


def read_validated(staging: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(staging / VALIDATED_DIR / f"{table}.parquet")
