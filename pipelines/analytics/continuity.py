"""The soft cross-report rule `carryover_continuity`, vectorized over the warehouse tables.

carried_over(c) of an agency's year-N report must equal carried_forward(c) of its year N−1 report, for
every applicant column c. A breach is a violation row of year N's report (location `column=<code>`,
expected = last year's carried_forward, actual = this year's carried_over). Nothing is evaluated where
either figure is blank, where the years are not consecutive, or where an agency has more than one
distinct report in a year (we cannot tell which one continues); duplicates (`duplicate_of`) are ignored.
"""

from __future__ import annotations

import polars as pl

from pipelines.analytics.agency import agency_key, is_aggregate
from schemas.codes import COLUMN_CODES
from schemas.rules import CARRYOVER_CONTINUITY

VIOLATION_COLUMNS: tuple[str, ...] = (
    "report_id",
    "report_year",
    "rule",
    "location",
    "expected",
    "actual",
    "message",
)


def with_agency_identity(reports: pl.DataFrame) -> pl.DataFrame:
    """`reports` plus `agency_key` and `is_aggregate`, computed once per distinct agency / file name
    (and sidecar `region` when the frame has it)."""
    title = "source_path" if "source_path" in reports.columns else None
    region = "region" if "region" in reports.columns else None
    keys = ["agency"] + [c for c in (title, region) if c]
    distinct = reports.select(keys).unique()
    agencies = distinct.get_column("agency").to_list()
    regions = distinct.get_column(region).to_list() if region else [None] * len(agencies)
    titles = distinct.select(_file_stem(pl.col(title))).to_series().to_list() if title else [None] * len(agencies)
    lookup = distinct.with_columns(
        pl.Series(
            "agency_key",
            [agency_key(a, r) or None for a, r in zip(agencies, regions, strict=True)],
            dtype=pl.String,
        ),
        pl.Series(
            "is_aggregate",
            # an ASCII file name (P020240115.pdf, t20240115_123.html) cannot name a territory: every word of
            # the aggregate patterns is Chinese, and normalizing ASCII keeps it ASCII
            [is_aggregate(a, t if t and not t.isascii() else None) for a, t in zip(agencies, titles, strict=True)],
            dtype=pl.Boolean,
        ),
    )
    return reports.join(lookup, on=keys, how="left", nulls_equal=True)


def _file_stem(path: pl.Expr) -> pl.Expr:
    """`PurePosixPath(path).stem`, vectorized: the last path part without its last suffix (a leading dot
    is not a suffix); NULL for a NULL or empty path."""
    name = path.str.extract(r"([^/]*)$")
    stem = name.str.extract(r"^(.+)\.[^./]+$")
    return pl.when(path.is_null() | (path == "")).then(None).otherwise(stem.fill_null(name))


def _volume(applications: pl.DataFrame, row_code: str, name: str) -> pl.DataFrame:
    columns = [c for c in COLUMN_CODES if c in applications.columns]
    return (
        applications.filter(pl.col("row_code") == row_code)
        .unpivot(index="report_id", on=columns, variable_name="column", value_name=name)
        .with_columns(pl.col(name).cast(pl.Int64))
    )


def carryover_violations(applications: pl.DataFrame, reports: pl.DataFrame) -> pl.DataFrame:
    """Violation rows of rule `carryover_continuity` (columns VIOLATION_COLUMNS)."""
    identity = reports if "agency_key" in reports.columns else with_agency_identity(reports)
    if "duplicate_of" in identity.columns:
        identity = identity.filter(pl.col("duplicate_of").is_null())
    identity = (
        identity.filter(pl.col("agency_key").is_not_null() & pl.col("report_year").is_not_null())
        .select("report_id", "report_year", "agency_key", "is_aggregate")
        .unique("report_id")
        # an agency with two different reports in one year: which one continues is unknowable
        .filter(pl.len().over("agency_key", "is_aggregate", "report_year") == 1)
    )
    this_year = _volume(applications, "carried_over", "carried_over").join(identity, on="report_id")
    last_year = (
        _volume(applications, "carried_forward", "carried_forward")
        .join(identity, on="report_id")
        .select(
            pl.col("report_id").alias("previous_report_id"),
            (pl.col("report_year") + 1).alias("report_year"),
            "agency_key",
            "is_aggregate",
            "column",
            "carried_forward",
        )
    )
    pairs = this_year.join(last_year, on=["agency_key", "is_aggregate", "report_year", "column"], how="inner")
    breaches = pairs.filter(
        pl.col("carried_over").is_not_null()
        & pl.col("carried_forward").is_not_null()
        & (pl.col("carried_over") != pl.col("carried_forward"))
    )
    return breaches.sort("report_year", "report_id", "column").select(
        "report_id",
        pl.col("report_year").cast(pl.Int32),
        pl.lit(CARRYOVER_CONTINUITY).alias("rule"),
        pl.format("column={}", "column").alias("location"),
        pl.col("carried_forward").cast(pl.Float64).alias("expected"),
        pl.col("carried_over").cast(pl.Float64).alias("actual"),
        pl.format(
            "上年结转 ({}) of {} is {} but 结转下年度 of {} was {} (report {})",
            "column",
            pl.col("report_year"),
            "carried_over",
            pl.col("report_year") - 1,
            "carried_forward",
            pl.col("previous_report_id").str.slice(0, 12),
        ).alias("message"),
    )
