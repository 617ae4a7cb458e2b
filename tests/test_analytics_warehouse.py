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
import pytest
from analytics_corpus import ContinuityCorpus, write_continuity_corpus
from conftest import copy_seeds
from test_analytics_report import CHROMIUM, _dump_dom

from pipelines.cli import main as xxgk


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ContinuityCorpus]:
    root = tmp_path_factory.mktemp("analytics_wh")
    raw, out = root / "raw", root / "warehouse"
    copy_seeds(raw)
    corpus = write_continuity_corpus(raw / "pairs", n_agencies=12, seed=2)
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
        "WHERE rule = 'carryover_continuity'",
    )
    planted = {(f"pairs/{name}", year, column) for name, year, column in corpus.planted}
    assert len(planted) > 20
    assert set(found) == planted
    assert len(found) == len(planted)
    # the message names both years' figures
    (message,) = _query(out, "SELECT any_value(message) FROM rule_violations WHERE rule = 'carryover_continuity'")[0]
    assert len(re.findall(r"\b20\d\d\b", message)) >= 2


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
