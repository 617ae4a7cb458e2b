"""The report identity lookup a build keeps for the next one: reused where the inputs match, computed for
new inputs only, dropped for inputs no report has any more, and the same identities as computed afresh."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pipelines.analytics.views import IDENTITY_COLUMNS, identity_lookup, report_identity


def _reports(rows: list[tuple[str, str | None, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"report_id": pl.String, "agency": pl.String, "source_path": pl.String, "region": pl.String},
        orient="row",
    )  # fmt: skip


LAST_YEAR = _reports(
    [
        ("a", "洛阳市西工区民政局", "2023/a.txt", None),
        ("b", "鼓楼区民政局", "2023/b.txt", "江苏省南京市"),
        ("c", None, "2023/c.txt", None),
        ("gone", "某某县人民政府", "2023/gone.txt", None),
    ]
)
THIS_YEAR = pl.concat(
    [
        LAST_YEAR.filter(pl.col("report_id") != "gone"),
        _reports([("d", "北京市", "2024/全市汇总.html", None), ("e", "西工区民政局", "2024/e.txt", None)]),
    ]
)


def test_a_reused_lookup_gives_the_identities_computed_afresh() -> None:
    known = identity_lookup(LAST_YEAR)
    lookup = identity_lookup(THIS_YEAR, known)
    assert lookup.height == 5 and "2023/gone.txt" not in lookup["source_path"].to_list()
    assert report_identity(THIS_YEAR, lookup).equals(report_identity(THIS_YEAR))


def test_known_inputs_are_reused_and_only_new_ones_computed() -> None:
    planted = identity_lookup(LAST_YEAR).with_columns(pl.lit("planted").alias("agency_key"))
    identity = report_identity(THIS_YEAR, identity_lookup(THIS_YEAR, planted))
    keys = dict(identity.select("report_id", "agency_key").iter_rows())
    assert [keys[r] for r in ("a", "b", "c")] == ["planted"] * 3  # not recomputed
    assert keys["d"] != "planted" and keys["e"] != "planted"
    fresh = report_identity(THIS_YEAR).filter(pl.col("report_id").is_in(["d", "e"]))
    assert identity.filter(pl.col("report_id").is_in(["d", "e"])).equals(fresh)
    assert fresh.filter(pl.col("report_id") == "d")["is_aggregate"].item() is True
    assert list(identity.columns) == ["report_id", *IDENTITY_COLUMNS]


def _install(reports: pl.DataFrame, cache_dir: Path) -> pl.DataFrame:
    """`install_analytics` on a real DuckDB catalog whose core tables hold `reports` (no figures)."""
    import duckdb

    from pipelines.analytics.views import install_analytics

    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    extra = {"report_year": 2023, "duplicate_of": None, "status": "ok", "n_violations": 0}
    con.register("_reports", reports.with_columns(pl.lit(v).alias(k) for k, v in extra.items()))
    con.execute("CREATE TABLE core.reports AS SELECT * FROM _reports")
    con.execute("CREATE TABLE core.applications (report_id VARCHAR, row_code VARCHAR, total BIGINT)")
    con.execute(
        "CREATE TABLE core.appeals (report_id VARCHAR, proceeding VARCHAR, total BIGINT, pending BIGINT, "
        "corrected BIGINT)"
    )
    install_analytics(con, cache_dir=cache_dir)
    return con.sql("SELECT * FROM core.report_identity ORDER BY report_id").pl()


def test_the_saved_lookup_is_rewritten_only_when_its_rows_change(tmp_path: Path) -> None:
    """A build whose reports bring no new identity input and drop none leaves the saved lookup as it is (the
    same rows); one that does rewrites it, and every build's identities are those computed afresh."""
    first = _install(LAST_YEAR, tmp_path)
    (saved,) = tmp_path.glob("report_identity-*.parquet")
    stamp = saved.stat().st_mtime_ns
    os.utime(saved, ns=(stamp - 10**9, stamp - 10**9))  # an older file, whatever the clock's resolution
    assert _install(LAST_YEAR, tmp_path).equals(first)
    assert saved.stat().st_mtime_ns == stamp - 10**9, "the same rows: not written again"
    fresh = report_identity(THIS_YEAR).sort("report_id")
    assert _install(THIS_YEAR, tmp_path).equals(fresh)
    assert saved.stat().st_mtime_ns != stamp - 10**9, "new and dropped inputs: rewritten"
    assert pl.read_parquet(saved).sort("source_path").equals(identity_lookup(THIS_YEAR).sort("source_path"))
