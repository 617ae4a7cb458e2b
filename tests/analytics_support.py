"""A small warehouse catalog built from polars frames with the columns of warehouse.md (analytics tests).

Used until/alongside the real `xxgk build`: the analytics code only relies on the contract's core tables.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import polars as pl

from schemas.codes import APPLICATION_ROWS, COLUMN_CODES, PROCEEDING_CODES, TOTAL_PART_CODES

AGENCIES = (
    "洛阳市西工区民政局",
    "淮安市人民政府",
    "武陟县财政局",
    "洛龙区人民政府",
    "鼓楼区民政局",
    "教育部",
)


def build_frames(seed: int = 0, years: tuple[int, ...] = (2021, 2022, 2023)) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    reports, apps, appeals, violations = [], [], [], []
    for a, agency in enumerate((*AGENCIES, "洛阳市人民政府")):
        aggregate = a == len(AGENCIES)
        forward = None
        for year in years:
            rid = f"{a:02d}{year}".ljust(64, "0")
            status = rng.choice(["ok", "ok", "ok", "invalid", "partial"])
            path = f"{year}/{agency}{'全市汇总' if aggregate else ''}.txt"
            reports.append(
                {
                    "report_id": rid, "source_path": path, "source_format": "text", "encoding": "utf-8",
                    "agency": agency, "report_year": year, "template": "2021", "status": status,
                    "problems": None, "n_violations": int(status == "invalid"), "duplicate_of": None,
                    "parser_version": "test", "ingested_at": None,
                }
            )  # fmt: skip
            values = {r.code: [rng.randint(0, 30) for _ in TOTAL_PART_CODES] for r in APPLICATION_ROWS["2021"]}
            if forward is not None:
                values["carried_over"] = forward
            forward = values["carried_forward"]
            for order, row in enumerate(APPLICATION_ROWS["2021"]):
                v = values[row.code]
                apps.append(
                    {"report_id": rid, "report_year": year, "row_code": row.code, "row_order": order,
                     "category": row.category, **dict(zip(TOTAL_PART_CODES, v, strict=True)), "total": sum(v)}
                )  # fmt: skip
            for p in PROCEEDING_CODES:
                up, co, ot, pe = (rng.randint(0, 5) for _ in range(4))
                appeals.append(
                    {"report_id": rid, "report_year": year, "proceeding": p, "upheld": up, "corrected": co,
                     "other": ot, "pending": pe, "total": up + co + ot + pe}
                )  # fmt: skip
            if status == "invalid":
                violations.append(
                    {"report_id": rid, "report_year": year, "rule": "balance", "location": "column=total",
                     "expected": 1.0, "actual": 2.0, "message": "test"}
                )  # fmt: skip
    # a duplicate copy of the first report
    dup = dict(reports[0], report_id="f" * 64, source_path="copy.txt", duplicate_of=reports[0]["report_id"])
    reports.append(dup)
    return {
        "reports": pl.DataFrame(reports, infer_schema_length=None),
        "applications": pl.DataFrame(apps).select(
            "report_id", "report_year", "row_code", "row_order", "category", *COLUMN_CODES
        ),
        "appeals": pl.DataFrame(appeals),
        "violations": pl.DataFrame(violations),
    }


def build_catalog(path: Path, frames: dict[str, pl.DataFrame] | None = None) -> Path:
    """A DuckDB file with schema core and the four base tables, plus the analytics."""
    from pipelines.analytics.views import install_analytics

    frames = frames or build_frames()
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    for name, frame in frames.items():
        con.register("_f", frame)
        con.execute(f"CREATE TABLE core.{name} AS SELECT * FROM _f")
        con.unregister("_f")
    install_analytics(con)
    con.close()
    return path
