"""The quality page (rendered in a real headless Chromium) and BI access through SQLAlchemy/duckdb-engine."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from analytics_support import build_catalog

from pipelines.analytics.quality_report import CHARTS, render_quality_report, write_quality_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Collect uncaught errors and console.error into the DOM, where --dump-dom shows them.
_ERROR_PROBE = """<script>
(function () {
  var record = function (m) { var d = document.documentElement;
    d.setAttribute('data-js-errors', (d.getAttribute('data-js-errors') || '') + m + ' | '); };
  window.addEventListener('error', function (e) { record('error: ' + e.message); });
  window.addEventListener('unhandledrejection', function (e) { record('rejection: ' + e.reason); });
  var original = console.error; console.error = function () { record('console: ' + [].join.call(arguments, ' '));
    original.apply(console, arguments); };
})();
</script>"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warehouse")
    build_catalog(root / "xxgk.duckdb")
    return root


def _dump_dom(page: Path, tmp: Path) -> str:
    assert CHROMIUM
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        # no network at all: the page must not need any
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
        "--virtual-time-budget=15000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_page_is_self_contained(warehouse: Path, tmp_path: Path) -> None:
    out = write_quality_report(warehouse, tmp_path / "quality.html")
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page), "no external scripts"
    assert not re.search(r"<link[^>]+href=", page), "no external stylesheets"
    assert page.count("Plotly.newPlot") >= 5
    # plotly.js itself is inline, once
    assert page.count("plotly.js v") >= 1 and len(page) > 1_000_000


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_page_renders_in_headless_chromium(warehouse: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(warehouse / "xxgk.duckdb"), read_only=True)
    page = render_quality_report(con)
    con.close()
    probed = tmp_path / "quality.html"
    probed.write_text(page.replace("<head>", "<head>" + _ERROR_PROBE, 1), encoding="utf-8")
    dom = _dump_dom(probed, tmp_path)
    errors = re.search(r'data-js-errors="([^"]*)"', dom)
    assert errors is None, errors.group(1) if errors else ""
    plots = re.findall(r'class="[^"]*\bjs-plotly-plot\b', dom)
    assert len(plots) >= 5 and len(plots) == len(CHARTS)
    # each chart drew its SVG (main-svg) and its bars / lines
    assert dom.count('class="main-svg"') >= 2 * len(CHARTS)
    assert dom.count('class="point"') + dom.count('class="js-line"') > 10


def test_read_only_reader_does_not_block_and_sees_every_chart(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse / "xxgk.duckdb"), read_only=True)
    try:
        page = render_quality_report(con)
    finally:
        con.close()
    for chart in CHARTS:
        assert f'id="chart-{chart.__name__.removeprefix("chart_").replace("_", "-")}"' in page


def test_bi_tools_connect_through_sqlalchemy_duckdb_engine(warehouse: Path) -> None:
    """What Superset does: a SQLAlchemy engine on duckdb-engine, read-only, list views, run a query."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("duckdb_engine")
    # the URI a Superset user pastes (docs/analytics.md): absolute path, read-only through the URL
    url = f"duckdb:///{warehouse / 'xxgk.duckdb'}?access_mode=READ_ONLY"
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        views = set(sqlalchemy.inspect(conn).get_view_names())
        assert {"agency_year", "agency_year_all"} <= views
        rows = conn.execute(
            sqlalchemy.text(
                "SELECT province, count(*) AS n, sum(requests_new) AS requests FROM agency_year "
                "WHERE province IS NOT NULL GROUP BY province ORDER BY province"
            )
        ).all()
        assert [r.province for r in rows] == ["江苏省", "河南省"]
        with pytest.raises(sqlalchemy.exc.DBAPIError):  # read-only really is read-only
            conn.execute(sqlalchemy.text("CREATE TABLE nope (x INT)"))
    engine.dispose()


def test_agency_year_excludes_aggregates_and_duplicates(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse / "xxgk.duckdb"), read_only=True)
    try:
        keys = con.execute("SELECT agency_key, report_year, count(*) FROM agency_year GROUP BY ALL").fetchall()
        assert all(n == 1 for *_, n in keys)
        assert con.execute("SELECT max(n_reports) FROM agency_year").fetchone() == (1,)
        aggregates = con.execute("SELECT count(*) FROM agency_year_all WHERE is_aggregate").fetchone()
        assert aggregates == (3,)
        comments = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'agency_year' AND comment IS NULL"
        ).fetchone()
        assert comments == (0,)
    finally:
        con.close()


def test_empty_warehouse_still_answers(tmp_path: Path) -> None:
    from analytics_support import build_frames

    empty = {name: frame.clear() for name, frame in build_frames().items()}
    path = build_catalog(tmp_path / "xxgk.duckdb", empty)
    con = duckdb.connect(str(path), read_only=True)
    try:
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE core.report_identity)").fetchall())
        assert types["is_aggregate"] == "BOOLEAN"
        assert con.execute("SELECT count(*) FROM agency_year").fetchone() == (0,)
        page = render_quality_report(con)
    finally:
        con.close()
    assert page.count("no data in the warehouse") >= 5


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="xxgk build"):
        write_quality_report(tmp_path / "nowhere", tmp_path / "q.html")
