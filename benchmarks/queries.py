"""The usual questions, timed through the analytic views of a built warehouse (`xxgk.duckdb`).

Each query runs on a fresh read-only connection (as a BI tool or notebook would open the catalog), first
once cold (new connection, nothing cached by DuckDB; the OS page cache is warm), then `repeats` times
warm; both are reported. Runs as a module of the benchmark or on its own:

    python benchmarks/queries.py data/warehouse/xxgk.duckdb
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb


@dataclass
class QueryTiming:
    name: str
    sql: str
    rows: int
    cold_s: float
    warm_s: float  # best of the warm repeats


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?", [view]
    ).fetchall()
    return {r[0] for r in rows}


def _group_key(con: duckdb.DuckDBPyConnection) -> str:
    """`province` (or `region`) of the reporting agency when the warehouse knows it, else `agency`."""
    report_cols = _columns(con, "reports")
    for key in ("province", "region"):
        if key in report_cols:
            known = con.execute(f"SELECT count({key}) FROM reports").fetchone()
            if known and known[0]:
                return key
    return "agency"


def usual_queries(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """SQL of the usual questions against this warehouse's views (adapts to optional columns)."""
    key = _group_key(con)
    counts_cols = _columns(con, "disclosure_counts")
    outcome_cols = _columns(con, "outcomes")
    # the per-report views may or may not repeat the report's attributes; join `reports` when they do not
    counts_from = "disclosure_counts d"
    if not {"agency", "report_year"} <= counts_cols:
        counts_from = "disclosure_counts d JOIN reports r USING (report_id)"
    counts_agency = "d.agency" if "agency" in counts_cols else "r.agency"
    counts_year = "d.report_year" if "report_year" in counts_cols else "r.report_year"
    outcomes_from = "outcomes o" if key in outcome_cols else "outcomes o JOIN reports r USING (report_id)"
    outcome_key = f"o.{key}" if key in outcome_cols else f"r.{key}"
    return {
        "totals_by_year": f"""
            SELECT {counts_year} AS report_year, count(*) AS reports,
                   sum(d.requests_new) AS requests_new, sum(d.requests_carried_over) AS requests_carried_over,
                   sum(d.requests_handled) AS requests_handled,
                   sum(d.requests_carried_forward) AS requests_carried_forward
            FROM {counts_from} GROUP BY ALL ORDER BY report_year""",
        f"outcome_mix_by_{key}": f"""
            SELECT {outcome_key} AS {key}, o.category, sum(o.total) AS requests,
                   sum(o.total) / sum(sum(o.total)) OVER (PARTITION BY {outcome_key}) AS share
            FROM {outcomes_from} GROUP BY 1, 2 ORDER BY 1, 2""",
        "top20_agencies_by_requests": f"""
            SELECT {counts_agency} AS agency, sum(d.requests_new) AS requests_new, count(*) AS reports
            FROM {counts_from} WHERE {counts_agency} IS NOT NULL
            GROUP BY ALL ORDER BY requests_new DESC NULLS LAST LIMIT 20""",
    }


def time_queries(db: Path, repeats: int = 3) -> list[QueryTiming]:
    with duckdb.connect(str(db), read_only=True) as con:
        queries = usual_queries(con)
    out: list[QueryTiming] = []
    for name, sql in queries.items():
        with duckdb.connect(str(db), read_only=True) as con:
            start = time.perf_counter()
            rows = con.execute(sql).fetchall()
            cold = time.perf_counter() - start
            warm = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                con.execute(sql).fetchall()
                warm = min(warm, time.perf_counter() - start)
        out.append(QueryTiming(name, " ".join(sql.split()), len(rows), cold, warm))
    return out


def warehouse_summary(db: Path) -> dict:
    """Row counts and status mix of a built warehouse (proves the benchmark measured a real build)."""
    with duckdb.connect(str(db), read_only=True) as con:
        reports = con.execute("SELECT count(*) FROM core.reports").fetchone()[0]
        status = dict(con.execute("SELECT status, count(*) FROM core.reports GROUP BY 1 ORDER BY 1").fetchall())
        tables = {}
        for table in ("proactive", "applications", "appeals", "violations"):
            try:
                tables[table] = con.execute(f"SELECT count(*) FROM core.{table}").fetchone()[0]
            except duckdb.Error:
                tables[table] = None
    return {"reports": reports, "status": status, "rows": tables}


if __name__ == "__main__":
    db = Path(sys.argv[1])
    print(json.dumps([asdict(t) for t in time_queries(db)], indent=1, ensure_ascii=False))
