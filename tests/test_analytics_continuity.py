"""carryover_continuity over consecutive-year pairs with planted breaks: all found, none invented."""

from __future__ import annotations

import random

import polars as pl

from pipelines.analytics.continuity import VIOLATION_COLUMNS, carryover_violations
from schemas.codes import COLUMN_CODES, TOTAL_PART_CODES
from schemas.rules import CARRYOVER_CONTINUITY

# The same agency spelled differently from year to year (agency_key must join them).
SPELLINGS = [
    ("洛阳市西工区民政局", "西工区民政局", "河南省洛阳市西工区民政局"),
    ("淮安市人民政府办公室", "淮安市政府办公室", "淮安市政府办"),
    ("武陟县财政局", "焦作市武陟县财政局", "武陟县 财政局"),
    ("教育部", "中华人民共和国教育部", "教育部"),
    ("南京市鼓楼区教育局", "南京市鼓楼区教育局", "江苏省南京市鼓楼区教育局"),
]


def _row(report_id: str, year: int, row_code: str, values: list[int | None]) -> dict:
    parts = dict(zip(TOTAL_PART_CODES, values, strict=True))
    total = None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]
    return {"report_id": report_id, "report_year": year, "row_code": row_code, **parts, "total": total}


def make_corpus(seed: int, years: tuple[int, ...] = (2020, 2021, 2022, 2023)):
    rng = random.Random(seed)
    reports, rows, planted = [], [], set()
    for a, spellings in enumerate(SPELLINGS):
        forward: list[int | None] | None = None
        for y, year in enumerate(years):
            if year == 2022 and a == 3:
                forward = None  # a gap year: 2021 → 2023 is not consecutive and must not be compared
                continue
            rid = f"r{a}_{year}"
            reports.append({"report_id": rid, "agency": spellings[y % 3], "report_year": year, "duplicate_of": None})
            over: list[int | None] = list(forward) if forward else [rng.randint(0, 9) for _ in TOTAL_PART_CODES]
            if forward:
                for c in range(len(over)):
                    if rng.random() < 0.15:
                        over[c] = (over[c] or 0) + rng.randint(1, 5)
                        planted.add((rid, TOTAL_PART_CODES[c]))
                if rng.random() < 0.3:
                    over[2] = None  # blank: not evaluable, never a breach
                    planted.discard((rid, TOTAL_PART_CODES[2]))
            prev_total = None if forward is None or any(v is None for v in forward) else sum(forward)  # type: ignore[arg-type]
            this_total = None if any(v is None for v in over) else sum(over)  # type: ignore[arg-type]
            if prev_total is not None and this_total is not None and prev_total != this_total:
                planted.add((rid, "total"))
            rows.append(_row(rid, year, "carried_over", over))
            forward = [rng.randint(0, 20) for _ in TOTAL_PART_CODES]
            rows.append(_row(rid, year, "carried_forward", forward))
            rows.append(_row(rid, year, "new_received", [rng.randint(0, 50) for _ in TOTAL_PART_CODES]))
    return pl.DataFrame(rows), pl.DataFrame(reports), planted


def test_every_planted_break_is_reported_and_none_invented() -> None:
    for seed in range(20):
        applications, reports, planted = make_corpus(seed)
        found = carryover_violations(applications, reports)
        assert found.columns == list(VIOLATION_COLUMNS)
        got = {(r, loc.removeprefix("column=")) for r, loc in found.select("report_id", "location").iter_rows()}
        assert got == planted, seed
        assert set(found["rule"]) <= {CARRYOVER_CONTINUITY}
    assert planted  # the generator did plant breaks


def test_violation_row_names_both_years_figures() -> None:
    reports = pl.DataFrame(
        {"report_id": ["a", "b"], "agency": ["西工区民政局", "洛阳市西工区民政局"], "report_year": [2021, 2022]}
    )
    zeros = [0] * len(TOTAL_PART_CODES)
    applications = pl.DataFrame(
        [_row("a", 2021, "carried_forward", [7, *zeros[1:]]), _row("b", 2022, "carried_over", [5, *zeros[1:]])]
    )
    found = carryover_violations(applications, reports).to_dicts()
    assert [(v["report_id"], v["location"], v["expected"], v["actual"]) for v in found] == [
        ("b", "column=natural_person", 7.0, 5.0),
        ("b", "column=total", 7.0, 5.0),
    ]
    assert "2022" in found[0]["message"] and "2021" in found[0]["message"]
    assert " 5 " in found[0]["message"] and " 7 " in found[0]["message"]


def test_duplicates_gaps_and_ambiguous_years_are_skipped() -> None:
    zeros = [0] * len(TOTAL_PART_CODES)
    reports = pl.DataFrame(
        {
            "report_id": ["a", "b", "c", "d", "e"],
            "agency": ["武陟县财政局", "武陟县财政局", "武陟县财政局", "鼓楼区民政局", "鼓楼区民政局"],
            "report_year": [2020, 2021, 2021, 2022, 2023],
            "duplicate_of": [None, None, "b", None, None],
        }
    )
    applications = pl.DataFrame(
        [
            _row("a", 2020, "carried_forward", [1, *zeros[1:]]),
            _row("b", 2021, "carried_over", [1, *zeros[1:]]),
            _row("c", 2021, "carried_over", [9, *zeros[1:]]),  # a duplicate copy: ignored
            _row("d", 2022, "carried_forward", [3, *zeros[1:]]),
            _row("e", 2023, "carried_over", [3, *zeros[1:]]),
        ]
    )
    assert carryover_violations(applications, reports).height == 0
    # two distinct reports of one agency in one year: no pairing at all
    both = reports.with_columns(pl.lit(None, pl.String).alias("duplicate_of"))
    assert carryover_violations(applications, both).filter(pl.col("report_year") == 2021).height == 0


def test_all_columns_are_checked() -> None:
    assert set(COLUMN_CODES) == {*TOTAL_PART_CODES, "total"}
