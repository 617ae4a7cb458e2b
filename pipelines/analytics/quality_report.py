"""`xxgk report`: one self-contained HTML page on the warehouse's quality and contents.

Every figure is computed by SQL against the catalog (core tables of warehouse.md, plus the analytic
tables when present), drawn with plotly, and plotly.js is embedded inline once — the page works offline
and from a file:// URL, with no CDN.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path

import duckdb
import plotly.graph_objects as go

from schemas.codes import OUTCOME_CATEGORIES, PROCEEDINGS, STATUSES, TEMPLATES

_STATUS_COLOURS = {"ok": "#2ca02c", "invalid": "#ff7f0e", "partial": "#9467bd", "failed": "#d62728"}


def _has(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, name]
    ).fetchone()
    return bool(row and row[0])


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _violations_source(con: duckdb.DuckDBPyConnection) -> str:
    """core.violations plus the continuity breaches when the warehouse keeps them apart."""
    if _has(con, "core", "continuity_violations"):
        # the build may already have merged them into core.violations: count each breach once
        return (
            "(SELECT report_id, rule, location FROM core.violations UNION "
            "SELECT report_id, rule, location FROM core.continuity_violations)"
        )
    return "core.violations"


def _empty_note(fig: go.Figure, rows: Sequence) -> go.Figure:
    if not rows:
        fig.add_annotation(text="no data in the warehouse", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def _layout(fig: go.Figure, title: str, **kwargs: object) -> go.Figure:
    layout: dict[str, object] = {"height": 420, "margin": {"l": 60, "r": 20, "t": 60, "b": 60}}
    fig.update_layout(title=title, **(layout | kwargs))
    return fig


def chart_reports_by_year(con: duckdb.DuckDBPyConnection) -> go.Figure:
    rows = _rows(
        con,
        "SELECT coalesce(CAST(report_year AS VARCHAR), 'unknown') AS y, template, status, count(*) "
        "FROM core.reports GROUP BY ALL ORDER BY y",
    )
    fig = go.Figure()
    years = sorted({r[0] for r in rows})
    for status in STATUSES:
        for template in TEMPLATES:
            counts = {r[0]: r[3] for r in rows if r[1] == template and r[2] == status}
            if counts:
                fig.add_bar(
                    x=years,
                    y=[counts.get(y, 0) for y in years],
                    name=f"{status} · {template}",
                    marker_color=_STATUS_COLOURS[status],
                    marker_pattern_shape=["", "/", ".", "x"][TEMPLATES.index(template)],
                )
    return _layout(
        _empty_note(fig, rows), "Reports by year, template and status", barmode="stack", xaxis_type="category"
    )


def chart_breaches_by_rule(con: duckdb.DuckDBPyConnection) -> go.Figure:
    rows = _rows(
        con,
        f"SELECT rule, count(*), count(DISTINCT report_id) FROM {_violations_source(con)} "
        "GROUP BY rule ORDER BY 2 DESC",
    )
    fig = go.Figure()
    fig.add_bar(x=[r[0] for r in rows], y=[r[1] for r in rows], name="breaches")
    fig.add_bar(x=[r[0] for r in rows], y=[r[2] for r in rows], name="reports with a breach")
    return _layout(_empty_note(fig, rows), "Rule breaches by rule", barmode="group")


def chart_outcome_mix(con: duckdb.DuckDBPyConnection) -> go.Figure:
    aggregate_filter = _not_aggregate_filter(con)
    rows = _rows(
        con,
        "SELECT a.report_year, a.category, sum(a.total) FROM core.applications a "
        "JOIN core.reports r USING (report_id) "
        f"WHERE a.category IS NOT NULL AND r.duplicate_of IS NULL {aggregate_filter} "
        "GROUP BY ALL ORDER BY 1",
    )
    totals: dict[object, float] = {}
    for year, _, value in rows:
        totals[year] = totals.get(year, 0) + (value or 0)
    years = sorted(totals, key=str)
    fig = go.Figure()
    for category in OUTCOME_CATEGORIES:
        values = {r[0]: r[2] or 0 for r in rows if r[1] == category}
        fig.add_bar(
            x=[str(y) for y in years],
            y=[values.get(y, 0) / totals[y] if totals[y] else None for y in years],
            name=category,
        )
    return _layout(
        _empty_note(fig, rows),
        "Outcome mix of handled requests by year (share; aggregated reports and duplicates excluded)",
        barmode="stack",
        yaxis_tickformat=".0%",
        xaxis_type="category",
    )


def chart_correction_rates(con: duckdb.DuckDBPyConnection) -> go.Figure:
    aggregate_filter = _not_aggregate_filter(con)
    rows = _rows(
        con,
        "SELECT p.report_year, p.proceeding, sum(p.corrected), sum(p.total - p.pending) FROM core.appeals p "
        "JOIN core.reports r USING (report_id) "
        f"WHERE r.duplicate_of IS NULL {aggregate_filter} GROUP BY ALL ORDER BY 1",
    )
    fig = go.Figure()
    for proceeding in PROCEEDINGS:
        points = [(str(r[0]), r[2] / r[3]) for r in rows if r[1] == proceeding.code and r[3]]
        fig.add_scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            mode="lines+markers",
            name=f"{proceeding.label} ({proceeding.code})",
        )
    return _layout(
        _empty_note(fig, rows),
        "Appeal correction rate = corrected / (total − pending), by proceeding",
        yaxis_tickformat=".1%",
        xaxis_type="category",
    )


def chart_top_agencies(con: duckdb.DuckDBPyConnection, limit: int = 20) -> go.Figure:
    if _has(con, "main", "agency_year"):
        sql = (
            "SELECT any_value(agency ORDER BY report_year DESC), sum(requests_new) AS n FROM agency_year "
            f"WHERE requests_new IS NOT NULL GROUP BY agency_key ORDER BY n DESC LIMIT {limit}"
        )
    else:
        sql = (
            "SELECT r.agency, sum(a.total) AS n FROM core.applications a JOIN core.reports r USING (report_id) "
            "WHERE a.row_code = 'new_received' AND r.duplicate_of IS NULL AND r.agency IS NOT NULL "
            f"GROUP BY r.agency ORDER BY n DESC LIMIT {limit}"
        )
    rows = _rows(con, sql)
    fig = go.Figure(go.Bar(x=[r[1] for r in rows][::-1], y=[r[0] for r in rows][::-1], orientation="h"))
    return _layout(
        _empty_note(fig, rows),
        f"Top {limit} agencies by new requests received (all years)",
        height=max(420, 24 * len(rows) + 120),
    )


def chart_regions(con: duckdb.DuckDBPyConnection) -> go.Figure:
    rows: list[tuple] = []
    if _has(con, "core", "report_identity"):
        rows = _rows(
            con,
            "SELECT coalesce(province, '(unknown: ' || CASE WHEN region_reason LIKE 'ambiguous%' "
            "THEN 'ambiguous' ELSE 'not a region' END || ')'), count(*) FROM core.report_identity "
            "GROUP BY 1 ORDER BY 2 DESC",
        )
    fig = go.Figure(go.Bar(x=[r[0] for r in rows], y=[r[1] for r in rows]))
    return _layout(_empty_note(fig, rows), "Reports by province (from the agency name / sidecar region)")


CHARTS = (
    chart_reports_by_year,
    chart_breaches_by_rule,
    chart_outcome_mix,
    chart_correction_rates,
    chart_top_agencies,
    chart_regions,
)


def _not_aggregate_filter(con: duckdb.DuckDBPyConnection) -> str:
    if _has(con, "core", "report_identity"):
        return "AND report_id NOT IN (SELECT report_id FROM core.report_identity WHERE is_aggregate)"
    return ""


def _summary(con: duckdb.DuckDBPyConnection) -> list[tuple[str, object]]:
    row = con.execute(
        "SELECT count(*), count(DISTINCT agency), min(report_year), max(report_year), "
        "count(*) FILTER (WHERE duplicate_of IS NOT NULL), sum(n_violations) FROM core.reports"
    ).fetchone()
    assert row is not None
    labels = ("reports (files)", "agencies (as printed)", "first year", "last year", "duplicate copies")
    out: list[tuple[str, object]] = list(zip(labels, row[:5], strict=True))
    out.append(("in-report rule breaches", row[5] or 0))
    if _has(con, "core", "continuity_violations"):
        (continuity,) = con.execute("SELECT count(*) FROM core.continuity_violations").fetchone() or (0,)
        out.append(("carryover_continuity breaches (across years)", continuity))
    if _has(con, "main", "agency_year"):
        (agencies,) = con.execute("SELECT count(DISTINCT agency_key) FROM agency_year").fetchone() or (0,)
        out.append(("agencies (agency_key, aggregates excluded)", agencies))
    return out


def render_quality_report(con: duckdb.DuckDBPyConnection) -> str:
    """The whole page as one HTML string (plotly.js inline once; no network needed to view it)."""
    parts: list[str] = []
    for i, chart in enumerate(CHARTS):
        fig = chart(con)
        parts.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=(i == 0),
                div_id=f"chart-{chart.__name__.removeprefix('chart_').replace('_', '-')}",
                config={"displaylogo": False, "responsive": True},
            )
        )
    summary = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>" for label, value in _summary(con)
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    charts = "\n".join(f'<section class="chart">{p}</section>' for p in parts)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>政府信息公开年度报告 — warehouse quality report</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: .25rem .75rem; text-align: left; }}
section.chart {{ margin-bottom: 2rem; }}
</style></head>
<body>
<h1>政府信息公开工作年度报告 · warehouse quality report</h1>
<p>Generated {generated}. Every figure below is a SQL query over the warehouse catalog.</p>
<table>{summary}</table>
{charts}
</body></html>
"""


def write_quality_report(warehouse: Path, out: Path) -> Path:
    """Open `<warehouse>/xxgk.duckdb` read-only and write the page to `out`."""
    catalog = warehouse / "xxgk.duckdb"
    if not catalog.is_file():
        raise FileNotFoundError(f"no warehouse catalog at {catalog}: run `xxgk build --out {warehouse}` first")
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        page = render_quality_report(con)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
