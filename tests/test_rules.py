"""The rule evaluator's fast path (one flat list of a table's figures, summed with builtins) gives exactly
what the cell-by-cell reading gives: same breaches with the same messages, same unevaluable locations in
the same order, same counts — on regular tables, tables with blanks, fractions and negatives, missing rows
and columns, and tables whose rows hold different columns."""

from __future__ import annotations

import random

import pytest

from pipelines.parsing import rules
from pipelines.parsing.record import Cell, ReportRecord, Source, Violation
from schemas.codes import (
    APPEAL_OUTCOME_CODES,
    APPLICATION_ROWS,
    COLUMN_CODES,
    LEGAL_PERSON_SUBTOTAL,
    PROCEEDING_CODES,
    SIGNED_METRICS,
    proactive_keys,
)
from schemas.rules import NON_NEGATIVE

Grid = dict[str, dict[str, Cell]]


def _figure(rng: random.Random) -> int | float | None:
    roll = rng.random()
    if roll < 0.04:
        return None
    if roll < 0.06:
        return rng.choice([-1, -3, 2.5, 0.5, 3.0, -0.0])
    return rng.randint(0, 3)


def _consistent_rows(codes: list[str], columns: list[str], rng: random.Random) -> Grid:
    """Rows whose total columns mostly add up (so that breaches are rare, as in real reports)."""
    grid: Grid = {}
    for code in codes:
        values = {c: _figure(rng) for c in columns}
        if "total" in values and rng.random() < 0.8:
            parts = [values.get(c) for c in COLUMN_CODES[:6]]
            if None not in parts:
                values["total"] = sum(parts)  # type: ignore[arg-type]
        grid[code] = {c: Cell(v, "" if v is None else str(v)) for c, v in values.items()}
    return grid


def _applications(rng: random.Random, template: str) -> Grid:
    codes = [r.code for r in APPLICATION_ROWS[template]]
    if rng.random() < 0.2:
        codes = [c for c in codes if rng.random() < 0.9]  # a row not found
    columns = list(COLUMN_CODES)
    if rng.random() < 0.3:
        columns.insert(6, LEGAL_PERSON_SUBTOTAL.code)
    if rng.random() < 0.1:
        columns.remove(rng.choice(columns))  # a column not found
    grid = _consistent_rows(codes, columns, rng)
    if grid and rng.random() < 0.1:  # rows holding different columns
        row = grid[rng.choice(list(grid))]
        del row[rng.choice(list(row))]
        if rng.random() < 0.5:
            row["extra"] = Cell(1, "1")
    return grid


def _appeals(rng: random.Random) -> Grid:
    grid: Grid = {}
    for p in PROCEEDING_CODES:
        values = {o: _figure(rng) for o in APPEAL_OUTCOME_CODES}
        if rng.random() < 0.8 and None not in (parts := [values[o] for o in APPEAL_OUTCOME_CODES[:4]]):
            values["total"] = sum(parts)  # type: ignore[arg-type]
        grid[p] = {o: Cell(v, "" if v is None else str(v)) for o, v in values.items()}
    return grid


def _evaluate_by_cells(record: ReportRecord) -> tuple[list[Violation], list[str]]:
    """`rules.evaluate` with every rule read cell by cell (the reference of the fast path)."""
    template = record.template if record.template in ("2019", "2021") else "2021"
    breaches: list[Violation] = []
    unevaluable: list[str] = []
    for c in rules._compiled(template):
        grid = record.applications if c.rule.table == "applications" else record.appeals
        if grid:
            rules._evaluate_cells(c, grid, breaches, unevaluable)
    return breaches, unevaluable


def _non_negative_by_cells(record: ReportRecord) -> list[Violation]:
    """The non-negative rule read cell by cell, as written in the rule's declaration."""
    out: list[Violation] = []
    for key, cell in record.proactive.items():
        if cell.value is not None and cell.value < 0 and key.rsplit("|", 1)[-1] not in SIGNED_METRICS:
            out.append(Violation(NON_NEGATIVE, f"cell={key}", 0, cell.value, f"negative figure {cell.raw!r} at {key}"))
    for table, key, inner in ((record.applications, "row", "column"), (record.appeals, "proceeding", "outcome")):
        for outer, cells in table.items():
            for code, cell in cells.items():
                v = cell.value
                if v is not None and (v < 0 or v != int(v)):
                    loc = f"{key}={outer},{inner}={code}"
                    what = "negative" if v < 0 else "fractional"
                    out.append(
                        Violation(NON_NEGATIVE, loc, 0 if v < 0 else int(v), v, f"{what} count {cell.raw!r} at {loc}")
                    )
    return out


def _record(rng: random.Random) -> ReportRecord:
    template = rng.choice(["2019", "2021"])
    record = ReportRecord(source=Source(path="r.txt"), template=template)
    record.applications = _applications(rng, template) if rng.random() < 0.95 else {}
    record.appeals = _appeals(rng) if rng.random() < 0.95 else {}
    record.proactive = {k: Cell(v, str(v)) for k in proactive_keys(template) if (v := _figure(rng)) is not None}
    return record


@pytest.mark.parametrize("seed", range(8))
def test_fast_evaluation_equals_cell_by_cell(seed: int) -> None:
    rng = random.Random(seed)
    kinds: set[str] = set()
    for _ in range(250):
        record = _record(rng)
        breaches, unevaluable = rules.evaluate(record)
        expected_breaches, expected_unevaluable = _evaluate_by_cells(record)
        expected_breaches += _non_negative_by_cells(record)
        assert [v.to_json() for v in breaches] == [v.to_json() for v in expected_breaches]
        assert unevaluable == expected_unevaluable
        applications_only = [c for c in rules._compiled(record.template, "applications")]
        assert rules.count_breaches(record.applications, record.template) == sum(
            rules._evaluate_cells(c, record.applications, None, None) for c in applications_only
        )
        kinds |= {v.rule for v in breaches} | {u.split("@")[0] for u in unevaluable}
    # the random tables exercised every rule, both ways
    assert {"balance", "outcome_total", "row_total", "appeal_total", NON_NEGATIVE} <= kinds


def test_figures_refuses_rows_with_different_columns() -> None:
    one = {"a": Cell(1, "1"), "b": Cell(2, "2")}
    assert rules._figures({"r1": one, "r2": {"a": Cell(1, "1"), "c": Cell(2, "2")}}) is None
    assert rules._figures({"r1": one, "r2": {"a": Cell(1, "1")}}) is None
    assert rules._figures({}) is None
    figures = rules._figures({"r1": one, "r2": {"b": Cell(4, "4"), "a": Cell(3, "3")}})
    assert figures is not None
    assert figures.values == [1, 2, 3, 4]  # in the first row's column order
    assert figures.values[2:4] == [3, 4] and figures.values[1::2] == [2, 4]  # row r2, column b


def test_a_breach_message_names_both_sums() -> None:
    grid = _consistent_rows(["granted"], list(COLUMN_CODES), random.Random(0))
    grid["granted"] = {c: Cell(1, "1") for c in COLUMN_CODES}  # six parts of 1, total printed as 1
    rule = next(r for r in rules.SUM_RULES if r.id == "row_total")
    breaches, unevaluable = rules.check_sum_rule(rule, grid, "2021")
    assert unevaluable == []
    assert [(v.location, v.expected, v.actual) for v in breaches] == [("row=granted", 6, 1)]
    assert breaches[0].message.endswith("= 6, but total = 1")
    assert rules.count_sum_breaches(rule, grid, "2021") == 1
