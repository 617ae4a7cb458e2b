"""Per-record interpreter of the rule declarations in `schemas.rules`.

Pure functions over the record's tables. The table parser also uses `count_breaches` to choose between
readings a layout leaves open (row- or column-major, a shifted row): the reading under which the rules
hold wins. Figures are never altered here.

The parser calls the evaluator several times per report, so each rule is expanded once per format
(`_compiled`: its terms, the labels of its messages) and the equations are plain loops over the cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from pipelines.parsing.record import Cell, ReportRecord, Violation
from schemas.codes import (
    APPLICATION_ROWS,
    SIGNED_METRICS,
    TABLED_TEMPLATES,
    outcome_rows,
)
from schemas.rules import NON_NEGATIVE, OUTCOME_ROWS, SUM_RULES, SumRule

Grid = Mapping[str, Mapping[str, Cell]]  # outer key -> inner key -> cell
Number = int | float


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One rule for one format: its terms expanded, the labels its breach messages use."""

    rule: SumRule
    parts: tuple[str, ...]
    totals: tuple[str, ...]
    parts_label: str
    totals_label: str
    #: `proceeding` or `row` (along_rows locations)
    key: str


def _expand(terms: tuple[str, ...], template: str) -> tuple[str, ...]:
    out: list[str] = []
    for t in terms:
        out.extend(outcome_rows(template) if t == OUTCOME_ROWS else (t,))
    return tuple(out)


@cache
def _compile(rule: SumRule, template: str) -> _Compiled:
    parts = _expand(rule.parts, template)
    if rule.axis == "down_columns":
        parts_label = " + ".join(parts) if len(parts) <= 4 else "sum of outcome rows"
    else:
        parts_label = " + ".join(parts) if len(parts) <= 4 else "sum of " + ", ".join(parts)
    key = "proceeding" if rule.table == "appeals" else "row"
    return _Compiled(rule, parts, rule.totals, parts_label, " + ".join(rule.totals), key)


@cache
def _compiled(template: str, table: str | None = None) -> tuple[_Compiled, ...]:
    return tuple(_compile(r, template) for r in SUM_RULES if table is None or r.table == table)


def _fmt(n: Number | None) -> str:
    return "blank" if n is None else (f"{n:g}" if isinstance(n, float) else str(n))


def _total(rows: list[Mapping[str, Cell]], col: str) -> Number | None:
    """Sum of the cells at `col` of the given rows (left to right), None if any is missing or blank."""
    try:
        values = [row[col].value for row in rows]
    except KeyError:
        return None
    return None if None in values else sum(values)  # type: ignore[arg-type]


def _row_total(cells: Mapping[str, Cell], cols: tuple[str, ...]) -> Number | None:
    """Sum of the row's cells in `cols` (left to right), None if any is missing or blank."""
    try:
        values = [cells[col].value for col in cols]
    except KeyError:
        return None
    return None if None in values else sum(values)  # type: ignore[arg-type]


def _evaluate_rule(c: _Compiled, grid: Grid, breaches: list[Violation] | None, unevaluable: list[str] | None) -> int:
    """Evaluate one compiled rule; appends breaches and unevaluable locations when lists are given.
    Returns the number of breaches."""
    rule = c.rule
    required = rule.requires_column
    if required and not any(required in cells for cells in grid.values()):
        return 0
    n = 0
    if rule.axis == "down_columns":
        if not grid:
            return 0
        part_rows: list[Mapping[str, Cell]] = []
        total_rows: list[Mapping[str, Cell]] = []
        for r in c.parts:
            row = grid.get(r)
            if row is None:
                return 0
            part_rows.append(row)
        for r in c.totals:
            row = grid.get(r)
            if row is None:
                return 0
            total_rows.append(row)
        for col in next(iter(grid.values())):
            expected, actual = _total(part_rows, col), _total(total_rows, col)
            if expected is None or actual is None:
                if unevaluable is not None:
                    unevaluable.append(f"{rule.id}@column={col}")
            elif expected != actual:
                n += 1
                if breaches is not None:
                    breaches.append(_violation(c, f"column={col}", expected, actual))
        return n
    for row_code, cells in grid.items():
        if required and required not in cells:
            continue
        expected, actual = _row_total(cells, c.parts), _row_total(cells, c.totals)
        if expected is None or actual is None:
            if unevaluable is not None:
                unevaluable.append(f"{rule.id}@{c.key}={row_code}")
        elif expected != actual:
            n += 1
            if breaches is not None:
                breaches.append(_violation(c, f"{c.key}={row_code}", expected, actual))
    return n


def _violation(c: _Compiled, location: str, expected: Number, actual: Number) -> Violation:
    return Violation(
        c.rule.id,
        location,
        expected,
        actual,
        f"{c.rule.id} at {location}: {c.parts_label} = {_fmt(expected)}, but {c.totals_label} = {_fmt(actual)}",
    )


def check_sum_rule(rule: SumRule, grid: Grid, template: str) -> tuple[list[Violation], list[str]]:
    """Breaches of one rule, and the locations where it could not be evaluated (blank cells)."""
    breaches: list[Violation] = []
    unevaluable: list[str] = []
    _evaluate_rule(_compile(rule, template), grid, breaches, unevaluable)
    return breaches, unevaluable


def count_sum_breaches(rule: SumRule, grid: Grid, template: str) -> int:
    """Number of breaches of one rule (no messages built: for choosing between readings)."""
    return _evaluate_rule(_compile(rule, template), grid, None, None)


def _non_negative(record: ReportRecord) -> list[Violation]:
    out: list[Violation] = []
    for key, cell in record.proactive.items():
        if cell.value is not None and cell.value < 0 and key.rsplit("|", 1)[-1] not in SIGNED_METRICS:
            out.append(Violation(NON_NEGATIVE, f"cell={key}", 0, cell.value, f"negative figure {cell.raw!r} at {key}"))
    for table, key in ((record.applications, "row"), (record.appeals, "proceeding")):
        inner = "column" if key == "row" else "outcome"
        for outer, cells in table.items():
            for code, cell in cells.items():
                v = cell.value
                if v is None or (v >= 0 if type(v) is int else (v >= 0 and v == int(v))):
                    continue
                if v < 0 or v != int(v):
                    loc = f"{key}={outer},{inner}={code}"
                    what = "negative" if v < 0 else "fractional"
                    out.append(
                        Violation(NON_NEGATIVE, loc, 0 if v < 0 else int(v), v, f"{what} count {cell.raw!r} at {loc}")
                    )
    return out


def evaluate(record: ReportRecord) -> tuple[list[Violation], list[str]]:
    """All breaches of the record's tables, and the rule checks that could not be evaluated."""
    template = record.template if record.template in TABLED_TEMPLATES else "2021"
    breaches: list[Violation] = []
    unevaluable: list[str] = []
    for c in _compiled(template):
        grid = record.applications if c.rule.table == "applications" else record.appeals
        if grid:
            _evaluate_rule(c, grid, breaches, unevaluable)
    breaches += _non_negative(record)
    return breaches, unevaluable


def count_breaches(applications: Grid, template: str) -> int:
    """Number of sum-rule breaches of a table-3 reading (for choosing between readings)."""
    return sum(_evaluate_rule(c, applications, None, None) for c in _compiled(template, "applications"))


def finalize(record: ReportRecord) -> ReportRecord:
    """Evaluate the rules and set `violations`, `not_evaluable` and `status` of a parsed record.

    ok: all tables found, every rule evaluated and holding; invalid: tables found, a rule broken;
    partial: a table (or table-3 row) missing, an unknown/pre-2019 format, or a rule not evaluable.
    """
    record.violations, record.not_evaluable = evaluate(record)
    gaps: list[str] = []
    if record.template == "pre2019":
        gaps.append("pre-2019 report: no national tables to extract")
    elif record.template == "unknown":
        gaps.append("no national table format recognised (neither 2019 nor 2021 headers found)")
    else:
        tables = (("table 2", record.proactive), ("table 3", record.applications), ("table 4", record.appeals))
        absent_tables = [name for name, table in tables if not table]
        if absent_tables:
            gaps.append("tables not found: " + ", ".join(absent_tables))
        absent_rows = [r.code for r in APPLICATION_ROWS[record.template] if r.code not in record.applications]
        if record.applications and absent_rows:
            gaps.append("table 3 rows not found: " + ", ".join(absent_rows))
    if record.not_evaluable and not record.violations:
        shown = ", ".join(record.not_evaluable[:5]) + (" …" if len(record.not_evaluable) > 5 else "")
        gaps.append(f"{len(record.not_evaluable)} rule checks not evaluable (blank cells): {shown}")
    record.problems.extend(gaps)
    record.status = "partial" if gaps else ("invalid" if record.violations else "ok")
    return record
