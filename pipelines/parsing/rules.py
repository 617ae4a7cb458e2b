"""Per-record interpreter of the rule declarations in `schemas.rules`.

Pure functions over the record's tables. The table parser also uses `count_breaches` to choose between
readings a layout leaves open (row- or column-major, a shifted row): the reading under which the rules
hold wins. Figures are never altered here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipelines.parsing.record import Cell, ReportRecord, Violation
from schemas.codes import (
    APPLICATION_ROWS,
    SIGNED_METRICS,
    TABLED_TEMPLATES,
    outcome_rows,
)
from schemas.rules import NON_NEGATIVE, OUTCOME_ROWS, SUM_RULES, SumRule

Grid = Mapping[str, Mapping[str, Cell]]  # outer key -> inner key -> cell


def _expand(terms: Iterable[str], template: str) -> tuple[str, ...]:
    out: list[str] = []
    for t in terms:
        out.extend(outcome_rows(template) if t == OUTCOME_ROWS else (t,))
    return tuple(out)


def _sum(values: list[int | float | None]) -> int | float | None:
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _fmt(n: int | float | None) -> str:
    return "blank" if n is None else (f"{n:g}" if isinstance(n, float) else str(n))


def _equations(rule: SumRule, grid: Grid, template: str) -> Iterable[tuple[str, list, list, str, str]]:
    """Yield (location, parts, totals, parts_label, totals_label) for every equation of the rule."""
    parts = _expand(rule.parts, template)
    totals = rule.totals
    if rule.axis == "down_columns":
        rows = [grid.get(r) for r in (*parts, *totals)]
        if any(r is None for r in rows):
            return
        columns = list(next(iter(grid.values())).keys()) if grid else []
        for col in columns:
            yield (
                f"column={col}",
                [grid[r][col].value if col in grid[r] else None for r in parts],
                [grid[r][col].value if col in grid[r] else None for r in totals],
                " + ".join(parts) if len(parts) <= 4 else "sum of outcome rows",
                " + ".join(totals),
            )
    else:
        key = "proceeding" if rule.table == "appeals" else "row"
        for row_code, cells in grid.items():
            if rule.requires_column and rule.requires_column not in cells:
                continue
            yield (
                f"{key}={row_code}",
                [cells[c].value if c in cells else None for c in parts],
                [cells[c].value if c in cells else None for c in totals],
                " + ".join(parts) if len(parts) <= 4 else "sum of " + ", ".join(parts),
                " + ".join(totals),
            )


def check_sum_rule(rule: SumRule, grid: Grid, template: str) -> tuple[list[Violation], list[str]]:
    """Breaches of one rule, and the locations where it could not be evaluated (blank cells)."""
    breaches: list[Violation] = []
    unevaluable: list[str] = []
    if rule.requires_column and not any(rule.requires_column in cells for cells in grid.values()):
        return breaches, unevaluable
    for location, parts, totals, parts_label, totals_label in _equations(rule, grid, template):
        expected, actual = _sum(parts), _sum(totals)
        if expected is None or actual is None:
            unevaluable.append(f"{rule.id}@{location}")
        elif expected != actual:
            breaches.append(
                Violation(
                    rule.id,
                    location,
                    expected,
                    actual,
                    f"{rule.id} at {location}: {parts_label} = {_fmt(expected)}, but {totals_label} = {_fmt(actual)}",
                )
            )
    return breaches, unevaluable


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
                if v is not None and (v < 0 or v != int(v)):
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
    for rule in SUM_RULES:
        grid = record.applications if rule.table == "applications" else record.appeals
        if not grid:
            continue
        b, u = check_sum_rule(rule, grid, template)
        breaches += b
        unevaluable += u
    breaches += _non_negative(record)
    return breaches, unevaluable


def count_breaches(applications: Grid, template: str) -> int:
    """Number of sum-rule breaches of a table-3 reading (for choosing between readings)."""
    n = 0
    for rule in SUM_RULES:
        if rule.table == "applications":
            n += len(check_sum_rule(rule, applications, template)[0])
    return n


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
