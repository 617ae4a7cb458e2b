"""Analytic additions to the DuckDB catalog: per-report identity/region, continuity breaches, `agency_year`.

`install_analytics(con)` runs on the catalog connection of a build, after the `core` views/tables exist:
1. `core.report_identity` (one row per report: agency_key, is_aggregate, province, city, county, adcode,
   region_reason) — computed in Python once per distinct agency, stored as a small table in the catalog;
2. `core.continuity_violations` — breaches of `carryover_continuity` (same columns as core.violations);
3. the view `agency_year`.
The `reports` and `rule_violations` views join / union these (see docs/analytics.md).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.analytics.continuity import carryover_violations, with_agency_identity
from pipelines.analytics.region import REGION_COLUMNS, dataset_info, with_region
from schemas.tables import REPORT_ID

IDENTITY_COLUMNS: tuple[str, ...] = ("agency_key", "is_aggregate", *REGION_COLUMNS)

IDENTITY_COMMENTS: dict[str, str] = {
    "agency_key": "机关标识 — agency identity across years and spellings (<adcode>:<rest> or normalized name)",
    "is_aggregate": "汇总报告 — report covers a whole territory (全市/全县…); excluded from sums over agencies",
    "province": "省 — province (GB/T 2260), NULL when the name does not determine it",
    "city": "市 — prefecture-level city (municipalities: the municipality itself)",
    "county": "县/区 — county-level division",
    "adcode": "行政区划代码 — 6-digit GB/T 2260 code of the most specific level known",
    "region_reason": "why the region is incomplete (ambiguous / unknown name); NULL when resolved",
}

CONTINUITY_COMMENTS: dict[str, str] = {
    "report_id": "报告编号 — the year-N report whose 上年结转 disagrees",
    "report_year": "报告年度 — year N",
    "rule": "规则 — always carryover_continuity",
    "location": "位置 — column=<applicant column>",
    "expected": "应为 — 结转下年度 printed in the same agency's year N−1 report",
    "actual": "实际 — 上年结转 printed in the year-N report",
    "message": "说明 — both years' figures in words",
}

# The headline figures of one report, from the base tables (table 3 totals and table 4).
_AGENCY_YEAR_SQL = """
CREATE OR REPLACE VIEW {name} AS
WITH chosen AS (
    SELECT r.report_id, r.report_year, r.agency, r.status, r.n_violations,
           i.agency_key, i.is_aggregate, i.province, i.city, i.county, i.adcode,
           count(*) OVER w AS n_reports,
           row_number() OVER (
               PARTITION BY i.agency_key, r.report_year, i.is_aggregate
               ORDER BY CASE r.status WHEN 'ok' THEN 0 WHEN 'invalid' THEN 1 WHEN 'partial' THEN 2 ELSE 3 END,
                        r.report_id
           ) AS pick
    FROM core.reports r JOIN core.report_identity i USING (report_id)
    WHERE r.duplicate_of IS NULL AND i.agency_key IS NOT NULL AND r.report_year IS NOT NULL {where}
    WINDOW w AS (PARTITION BY i.agency_key, r.report_year, i.is_aggregate)
),
apps AS (
    SELECT report_id,
           max(total) FILTER (WHERE row_code = 'new_received') AS requests_new,
           max(total) FILTER (WHERE row_code = 'carried_over') AS requests_carried_over,
           max(total) FILTER (WHERE row_code = 'outcome_total') AS requests_handled,
           max(total) FILTER (WHERE row_code = 'carried_forward') AS requests_carried_forward,
           max(total) FILTER (WHERE row_code = 'granted') AS granted,
           max(total) FILTER (WHERE row_code = 'partially_granted') AS partially_granted
    FROM core.applications GROUP BY report_id
),
appeal AS (
    SELECT report_id,
           sum(total) FILTER (WHERE proceeding = 'admin_review') AS admin_reviews,
           sum(total) FILTER (WHERE proceeding <> 'admin_review') AS lawsuits,
           sum(corrected) AS appeals_corrected,
           sum(total - pending) AS appeals_concluded
    FROM core.appeals GROUP BY report_id
)
SELECT c.agency_key, c.report_year, c.agency, c.province, c.city, c.county, c.adcode, {extra}
       c.n_reports, c.report_id, c.status, c.n_violations,
       a.requests_new, a.requests_carried_over, a.requests_handled, a.requests_carried_forward,
       a.granted, a.partially_granted,
       a.granted / nullif(a.requests_handled, 0) AS granted_share,
       (a.granted + a.partially_granted) / nullif(a.requests_handled, 0) AS granted_or_partial_share,
       p.admin_reviews, p.lawsuits, p.appeals_corrected,
       p.appeals_corrected / nullif(p.appeals_concluded, 0) AS correction_rate
FROM chosen c LEFT JOIN apps a USING (report_id) LEFT JOIN appeal p USING (report_id)
WHERE c.pick = 1
"""

AGENCY_YEAR_COMMENTS: dict[str, str] = {
    "agency_key": IDENTITY_COMMENTS["agency_key"],
    "report_year": "报告年度 — report year",
    "agency": "机关名称 — agency name as printed (of the report chosen for the year)",
    "n_reports": "报告数 — distinct (non-duplicate) reports of this agency and year; figures are of one of them",
    "report_id": "报告 — the report the figures come from (best status first)",
    "status": "状态 — status of that report (ok / invalid / partial / failed)",
    "n_violations": "违反规则数 — rule breaches found in that report",
    "requests_new": "本年新收申请 — new requests received (total column)",
    "requests_carried_over": "上年结转 — requests carried over from last year",
    "requests_handled": "办理结果总计 — requests handled (outcome total)",
    "requests_carried_forward": "结转下年度 — requests carried forward to next year",
    "granted": "予以公开 — granted in full",
    "partially_granted": "部分公开 — partially granted",
    "granted_share": "予以公开比例 — granted / handled",
    "granted_or_partial_share": "公开及部分公开比例 — (granted + partially granted) / handled",
    "admin_reviews": "行政复议 — administrative reviews (total)",
    "lawsuits": "行政诉讼 — lawsuits, with or without prior review (total)",
    "appeals_corrected": "结果纠正 — reviews and lawsuits whose result corrected the agency",
    "correction_rate": "纠错率 — corrected / (total − pending), reviews and lawsuits together",
}


#: what a report's identity is computed from (`with_agency_identity`: the file name can mark a whole-territory
#: report; `with_region`: the sidecar's region), when the reports table has them
IDENTITY_INPUTS: tuple[str, ...] = ("agency", "source_path", "region")


def _identity_inputs(columns: Sequence[str]) -> list[str]:
    """The IDENTITY_INPUTS among a reports frame's `columns`."""
    return [c for c in IDENTITY_INPUTS if c in columns]


def _originals(reports: pl.DataFrame) -> pl.DataFrame:
    """One row per report_id. Byte-identical copies share their original's report_id (core.reports has a
    row per file): the identity is the original's (the row whose duplicate_of is NULL)."""
    if "duplicate_of" in reports.columns:
        reports = reports.sort(pl.col("duplicate_of").is_not_null(), maintain_order=True)
    return reports.unique("report_id", keep="first", maintain_order=True)


def identity_lookup(reports: pl.DataFrame, known: pl.DataFrame | None = None) -> pl.DataFrame:
    """IDENTITY_INPUTS + IDENTITY_COLUMNS for every distinct input of `reports`' originals.

    `known`: such a lookup from an earlier build. Its rows are reused where the inputs match, and only new
    inputs are computed: the work is Python per distinct agency (~17 µs), which would otherwise make every
    build, even a no-op one, grow with the whole corpus. Rows of `known` no report has any more are dropped.
    """
    return _lookup(_originals(reports), known)


def _lookup(originals: pl.DataFrame, known: pl.DataFrame | None) -> pl.DataFrame:
    """`identity_lookup` of reports already reduced to their originals (`_originals`)."""
    inputs = _identity_inputs(originals.columns)
    distinct = originals.select(inputs).unique()
    todo = distinct
    if known is not None:
        todo = distinct.join(known, on=inputs, how="anti", nulls_equal=True)
    computed = with_region(with_agency_identity(todo), "agency", "region" if "region" in inputs else None)
    computed = computed.select(*inputs, *IDENTITY_COLUMNS)
    if known is None:
        return computed
    reused = known.join(distinct, on=inputs, how="semi", nulls_equal=True).select(computed.columns)
    return pl.concat([reused, computed.cast(reused.schema)])  # type: ignore[arg-type]


def report_identity(reports: pl.DataFrame, lookup: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per report_id: report_id + IDENTITY_COLUMNS (sidecar `region` used when the table has it),
    the original's identity for byte-identical copies, so joins on report_id stay 1:1. `lookup`:
    `identity_lookup(reports)`, when the caller has it."""
    originals = _originals(reports)
    return _identified(originals, _lookup(originals, None) if lookup is None else lookup)


def _identified(originals: pl.DataFrame, lookup: pl.DataFrame) -> pl.DataFrame:
    """`report_identity` of reports already reduced to their originals, from their lookup."""
    inputs = _identity_inputs(originals.columns)
    return originals.join(lookup, on=inputs, how="left", nulls_equal=True).select("report_id", *IDENTITY_COLUMNS)


def _identity_version() -> str:
    """What the identities were computed with: the analytics code, the normalizer it folds names with, and
    the division list. A cached lookup of another version is not reused."""
    from pipelines.analytics import agency, continuity, region
    from pipelines.parsing import normalize

    h = hashlib.sha256()
    for module in (agency, continuity, region, normalize):
        h.update(Path(str(module.__file__)).read_bytes())
    h.update(json.dumps(dataset_info(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def _cached_lookup(path: Path, inputs: list[str]) -> pl.DataFrame | None:
    """The lookup a build saved, if it is readable and of this shape (else it is recomputed: a cache)."""
    try:
        known = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        return None
    return known if known.columns == [*inputs, *IDENTITY_COLUMNS] else None


def _save_lookup(cache_dir: Path, path: Path, lookup: pl.DataFrame) -> None:
    """Write the lookup atomically; lookups of other versions are removed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    lookup.write_parquet(tmp)
    os.replace(tmp, path)
    for other in cache_dir.glob("report_identity-*.parquet"):
        if other != path:
            other.unlink(missing_ok=True)


def install_analytics(con: duckdb.DuckDBPyConnection, cache_dir: Path | None = None) -> None:
    """Create core.report_identity, core.continuity_violations and the agency_year views in `con`.

    Expects core.reports and core.applications/core.appeals (tables or views) to exist. `cache_dir`: where
    the identity lookup of the previous build is kept (`identity_lookup`), the warehouse's `.cache`.
    """
    report_columns = {r[0] for r in con.execute("DESCRIBE core.reports").fetchall()}
    wanted = [
        c
        for c in ("report_id", "agency", "report_year", "source_path", "duplicate_of", "region")
        if c in report_columns
    ]
    reports = con.sql(f"SELECT {', '.join(wanted)} FROM core.reports").pl()
    if cache_dir is None:
        identity = report_identity(reports)
    else:
        cached = cache_dir / f"report_identity-{_identity_version()}.parquet"
        inputs = _identity_inputs(wanted)
        known = _cached_lookup(cached, inputs)
        originals = _originals(reports)
        lookup = _lookup(originals, known)
        if known is None or not lookup.equals(known):  # the same rows (nothing new, nothing dropped): kept as is
            _save_lookup(cache_dir, cached, lookup)
        identity = _identified(originals, lookup)
    con.register("_identity", identity)
    con.execute("CREATE OR REPLACE TABLE core.report_identity AS SELECT * FROM _identity")
    con.unregister("_identity")
    con.execute(
        "COMMENT ON TABLE core.report_identity IS '报告身份 — one row per report: agency key across years, "
        "whole-territory flag and region (GB/T 2260)'"
    )
    for column, comment in {REPORT_ID.name: REPORT_ID.comment, **IDENTITY_COMMENTS}.items():
        con.execute(f"COMMENT ON COLUMN core.report_identity.{column} IS '{_sql(comment)}'")

    applications = con.sql("SELECT * FROM core.applications WHERE row_code IN ('carried_over', 'carried_forward')").pl()
    violations = carryover_violations(applications, reports.join(identity, on="report_id", how="left"))
    con.register("_continuity", violations)
    con.execute("CREATE OR REPLACE TABLE core.continuity_violations AS SELECT * FROM _continuity")
    con.unregister("_continuity")
    con.execute(
        "COMMENT ON TABLE core.continuity_violations IS "
        "'上年结转 ≠ 上一年度结转下年度 — breaches of the soft rule carryover_continuity "
        "(same columns as core.violations)'"
    )
    for column, comment in CONTINUITY_COMMENTS.items():
        con.execute(f"COMMENT ON COLUMN core.continuity_violations.{column} IS '{_sql(comment)}'")
    install_agency_year(con)


def install_agency_year(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_AGENCY_YEAR_SQL.format(name="agency_year", where="AND NOT i.is_aggregate", extra=""))
    con.execute(_AGENCY_YEAR_SQL.format(name="agency_year_all", where="", extra="c.is_aggregate,"))
    con.execute(
        "COMMENT ON VIEW agency_year IS '机关年度 — one row per agency and year, headline figures; "
        "aggregated (whole-territory) reports and duplicate copies excluded'"
    )
    con.execute(
        "COMMENT ON VIEW agency_year_all IS '机关年度（含汇总）— as agency_year, aggregated reports kept "
        "(one row per agency, year and is_aggregate)'"
    )
    comments = IDENTITY_COMMENTS | AGENCY_YEAR_COMMENTS
    for view in ("agency_year", "agency_year_all"):
        for (column,) in con.execute(f"SELECT column_name FROM (DESCRIBE {view})").fetchall():
            con.execute(f"COMMENT ON COLUMN {view}.{column} IS '{_sql(comments[column])}'")


def _sql(text: str) -> str:
    return text.replace("'", "''")
