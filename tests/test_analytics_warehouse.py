"""Analytics on a real built warehouse (`xxgk build`, then `xxgk report`): acceptance figures.

Consecutive-year reports with planted carryover_continuity breaks (tests/analytics_corpus.py) plus the
seed fixtures go through the real pipeline; we check every planted break is in `rule_violations` and
none is invented, the provinces of `reports`, `agency_year`, and the quality page in headless Chromium.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from analytics_corpus import ContinuityCorpus, write_continuity_corpus
from conftest import copy_seeds
from test_analytics_report import CHROMIUM, _dump_dom

from pipelines.cli import main as xxgk
from pipelines.parsing.parse import PARSER_VERSION
from pipelines.synth import write_corpus
from pipelines.warehouse.catalog import CACHE_DIR, build_catalog

SYNTH_REGIONS: dict[str, str | None] = {}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ContinuityCorpus]:
    root = tmp_path_factory.mktemp("analytics_wh")
    raw, out = root / "raw", root / "warehouse"
    copy_seeds(raw)
    corpus = write_continuity_corpus(raw / "pairs", n_agencies=12, seed=2)
    # the generator's own reports: true region chains in the names, sidecar regions now and then
    for report in write_corpus(raw / "synth", 40, seed=11):
        if report.duplicate_of is None:
            SYNTH_REGIONS[f"synth/{report.name}"] = report.region
    # a byte-identical copy under another name (a different title, even): one report, one identity
    shutil.copy2(raw / "pairs" / corpus.files[0], raw / "pairs" / "全市汇总_copy.txt")
    assert xxgk(["build", "--raw", str(raw), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    return out, corpus


def _query(out: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_planted_continuity_breaks_all_reported_none_invented(built: tuple[Path, ContinuityCorpus]) -> None:
    out, corpus = built
    found = _query(
        out,
        "SELECT source_path, report_year, replace(location, 'column=', '') FROM rule_violations "
        "WHERE rule = 'carryover_continuity' AND source_path LIKE 'pairs/%'",
    )
    planted = {(f"pairs/{name}", year, column) for name, year, column in corpus.planted}
    assert len(planted) > 20
    assert set(found) == planted
    assert len(found) == len(planted)
    # the message names both years' figures
    (message,) = _query(out, "SELECT any_value(message) FROM rule_violations WHERE rule = 'carryover_continuity'")[0]
    assert len(re.findall(r"\b20\d\d\b", message)) >= 2


def test_every_continuity_breach_holds_in_the_base_tables(built: tuple[Path, ContinuityCorpus]) -> None:
    """Also the generator's independent reports (same agency in consecutive years, unrelated figures):
    each breach reported is re-derived here by a plain SQL join on the base tables."""
    out, _ = built
    rows = _query(
        out,
        """
        SELECT v.report_id, v.location, v.expected, v.actual,
               list(DISTINCT prev_cf.value) AS previous, any_value(this_co.value) AS this
        FROM core.continuity_violations v
        JOIN core.report_identity i USING (report_id)
        JOIN core.report_identity pi ON pi.agency_key = i.agency_key AND pi.is_aggregate = i.is_aggregate
        JOIN core.reports p ON p.report_id = pi.report_id AND p.report_year = v.report_year - 1
             AND p.duplicate_of IS NULL
        JOIN (UNPIVOT (SELECT * FROM core.applications WHERE row_code = 'carried_forward')
              ON natural_person, commercial_enterprise, research_institution, social_welfare_org,
                 legal_service_org, other_org, total INTO NAME col VALUE value) prev_cf
             ON prev_cf.report_id = p.report_id AND 'column=' || prev_cf.col = v.location
        JOIN (UNPIVOT (SELECT * FROM core.applications WHERE row_code = 'carried_over')
              ON natural_person, commercial_enterprise, research_institution, social_welfare_org,
                 legal_service_org, other_org, total INTO NAME col VALUE value) this_co
             ON this_co.report_id = v.report_id AND 'column=' || this_co.col = v.location
        GROUP BY ALL
        """,
    )
    (n,) = _query(out, "SELECT count(*) FROM core.continuity_violations")[0]
    assert len(rows) == n and n > 0
    for _, _, expected, actual, previous, this in rows:
        assert previous == [expected] and this == actual and expected != actual


def test_reports_view_has_region_and_identity(built: tuple[Path, ContinuityCorpus]) -> None:
    out, corpus = built
    rows = _query(out, "SELECT source_path, province, adcode, region_reason, agency_key, is_aggregate FROM reports")
    by_path = {r[0]: r[1:] for r in rows}
    for name, province in corpus.provinces.items():
        got, adcode, reason, key, aggregate = by_path[f"pairs/{name}"]
        assert got == province, name
        if province is None:  # an ambiguous name alone: NULL with the reason, never a guess
            assert adcode is None and reason.startswith("ambiguous")
        else:
            assert adcode is not None and reason is None
        assert key and aggregate is False
    # the seed fixtures: 西工区民政局 → 河南省洛阳市西工区, the Huai'an PDF → 江苏省淮安市
    assert by_path["000_4a563719454909a3.txt"][:2] == ("河南省", "410303")
    assert by_path["huaian_2024.pdf"][:2] == ("江苏省", "320800")


def test_provinces_of_the_generators_reports_are_never_wrong(built: tuple[Path, ContinuityCorpus]) -> None:
    out, _ = built
    rows = _query(
        out, "SELECT source_path, province, city, region_reason FROM reports WHERE source_path LIKE 'synth/%'"
    )
    resolved = 0
    for path, province, city, reason in rows:
        truth = SYNTH_REGIONS.get(path)
        if truth is None:
            continue
        if province is None:
            assert reason, path  # NULL always says why
            continue
        resolved += 1
        assert truth.startswith(province), (path, truth, province)
        assert city is None or truth in (province + city, province), (path, truth, city)
    assert resolved >= 0.8 * len(rows)


def test_copies_do_not_multiply_rows(built: tuple[Path, ContinuityCorpus]) -> None:
    out, _ = built
    assert _query(out, "SELECT report_id FROM reports GROUP BY 1 HAVING count(*) > 1") == []
    assert _query(out, "SELECT report_id FROM core.report_identity GROUP BY 1 HAVING count(*) > 1") == []
    copies = _query(out, "SELECT count(*) FROM core.reports WHERE duplicate_of IS NOT NULL")
    assert copies == [(1,)]


def test_agency_year_one_row_per_agency_and_year(built: tuple[Path, ContinuityCorpus]) -> None:
    out, corpus = built
    dupes = _query(out, "SELECT agency_key, report_year FROM agency_year GROUP BY ALL HAVING count(*) > 1")
    assert dupes == []
    (n,) = _query(out, "SELECT count(*) FROM agency_year WHERE report_id IN (SELECT report_id FROM reports "
                  "WHERE source_path LIKE 'pairs/%') AND requests_handled IS NOT NULL")[0]  # fmt: skip
    assert n == len(corpus.files)
    # spellings that differ from year to year are one agency
    (multi,) = _query(
        out, "SELECT count(*) FROM (SELECT agency_key FROM agency_year GROUP BY 1 HAVING count(DISTINCT agency) > 1)"
    )[0]
    assert multi >= 5


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_xxgk_report_renders_in_chromium(built: tuple[Path, ContinuityCorpus], tmp_path: Path) -> None:
    out, _ = built
    page = tmp_path / "quality.html"
    assert xxgk(["report", "--warehouse", str(out), "--out", str(page)]) == 0
    dom = _dump_dom(page, tmp_path)
    assert len(re.findall(r'class="[^"]*\bjs-plotly-plot\b', dom)) >= 5
    assert "carryover_continuity" in dom


def test_bi_connection_to_the_built_warehouse(built: tuple[Path, ContinuityCorpus]) -> None:
    """Superset's way in (SQLAlchemy + duckdb-engine, read-only URI) on the real catalog."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("duckdb_engine")
    out, _ = built
    engine = sqlalchemy.create_engine(f"duckdb:///{out / 'xxgk.duckdb'}?access_mode=READ_ONLY")
    try:
        with engine.connect() as conn:
            views = set(sqlalchemy.inspect(conn).get_view_names())
            assert {"reports", "disclosure_counts", "outcomes", "appeals", "rule_violations", "agency_year"} <= views
            rows = conn.execute(
                sqlalchemy.text(
                    "SELECT province, count(DISTINCT agency_key) AS agencies, sum(requests_new) AS requests "
                    "FROM agency_year WHERE province IS NOT NULL GROUP BY province ORDER BY requests DESC"
                )
            ).all()
            assert rows and all(r.agencies >= 1 for r in rows)
    finally:
        engine.dispose()


def test_the_next_catalog_reuses_the_identity_lookup(built: tuple[Path, ContinuityCorpus], tmp_path: Path) -> None:
    """A build keeps its identity lookup in `<out>/.cache`; the next catalog reuses its rows (a planted value
    shows through) instead of computing every agency again, and without it computes the same identities."""
    out, _ = built
    [cached] = (out / CACHE_DIR).glob("report_identity-*.parquet")
    copy = tmp_path / "warehouse"
    shutil.copytree(out, copy, symlinks=True)
    identity_sql = "SELECT * FROM core.report_identity ORDER BY report_id"
    original = _query(out, identity_sql)
    lookup = pl.read_parquet(cached)
    planted = lookup["source_path"][0]
    lookup.with_columns(
        pl.when(pl.col("source_path") == planted).then(pl.lit("planted")).otherwise("agency_key").alias("agency_key")
    ).write_parquet(copy / CACHE_DIR / cached.name)
    build_catalog(copy, PARSER_VERSION)
    keys = dict(_query(copy, "SELECT source_path, agency_key FROM reports"))
    assert keys[planted] == "planted" and list(keys.values()).count("planted") == 1
    shutil.rmtree(copy / CACHE_DIR)
    build_catalog(copy, PARSER_VERSION)
    assert _query(copy, identity_sql) == original
    assert [p.name for p in (copy / CACHE_DIR).iterdir()] == [cached.name]
