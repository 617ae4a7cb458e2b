"""Per-record interpreter of the rule declarations in `schemas.rules`.

Pure functions over the record's tables. The table parser also uses `count_breaches` to choose between
readings a layout leaves open (row- or column-major, a shifted row): the reading under which the rules
hold wins. Figures are never altered here.

The parser calls the evaluator several times per report, so each rule is expanded once per format
(`_compiled`: its terms, the labels of its messages), and a table's figures are read once per evaluation
into one flat row-major list (`_Figures`) that every rule sums by index, in integer loops when the table
holds only ints (`_count_sums`), instead of looking up cells term by term. Which indices a rule sums
depends only on the table's row and column codes, so it is worked out once per such layout (`_Layout`,
`_Plan`). A table whose rows do not all hold the same columns is evaluated cell by cell (`_evaluate_cells`,
the reference the fast path must equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final, cast

from pipelines.parsing.record import Cell, ReportRecord, Violation
from schemas.codes import (
    APPLICATION_ROWS,
    SIGNED_METRICS,
    TABLED_TEMPLATES,
    outcome_rows,
)
from schemas.rules import NON_NEGATIVE, OUTCOME_ROWS, SUM_RULES, SumRule

Grid = dict[str, dict[str, Cell]]  # outer key -> inner key -> cell
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
    #: every row (down_columns) or column (along_rows) the rule reads
    terms: frozenset[str]


def _expand(terms: tuple[str, ...], template: str) -> tuple[str, ...]:
    out: list[str] = []
    for t in terms:
        out.extend(outcome_rows(template) if t == OUTCOME_ROWS else (t,))
    return tuple(out)


#: (id of a rule, template) -> its compiled form: hashing a `SumRule` (a frozen dataclass: a Python-level
#: `__hash__` over all its fields) costs more than evaluating it on a small table, and the table parser
#: scores every candidate reading of table 4 with the same rule object
_BY_IDENTITY: Final[dict[tuple[int, str], _Compiled]] = {}


def _compile(rule: SumRule, template: str) -> _Compiled:
    compiled = _BY_IDENTITY.get((id(rule), template))
    if compiled is None or compiled.rule is not rule:  # not seen, or another rule at a reused address
        compiled = _compile_rule(rule, template)
        if len(_BY_IDENTITY) < 256:
            _BY_IDENTITY[id(rule), template] = compiled  # the entry holds the rule: its id stays its own
    return compiled


@cache
def _compile_rule(rule: SumRule, template: str) -> _Compiled:
    parts = _expand(rule.parts, template)
    if rule.axis == "down_columns":
        parts_label = " + ".join(parts) if len(parts) <= 4 else "sum of outcome rows"
    else:
        parts_label = " + ".join(parts) if len(parts) <= 4 else "sum of " + ", ".join(parts)
    key = "proceeding" if rule.table == "appeals" else "row"
    return _Compiled(
        rule, parts, rule.totals, parts_label, " + ".join(rule.totals), key, frozenset(parts + rule.totals)
    )


@cache
def _compiled(template: str, table: str | None = None) -> tuple[_Compiled, ...]:
    return tuple(_compile(r, template) for r in SUM_RULES if table is None or r.table == table)


def _fmt(n: Number | None) -> str:
    return "blank" if n is None else (f"{n:g}" if isinstance(n, float) else str(n))


#: where one side of a rule's terms lie in a regular table's flat value list: for every location (column
#: or row), the indices of its terms in the order they are summed
_Side = list[list[int]]


class _Plan:
    """One compiled rule on one table layout: where its two sides' terms lie in the flat value list."""

    __slots__ = ("actual", "expected", "locations", "where")

    def __init__(self, expected: _Side, actual: _Side, where: str, locations: tuple[str, ...]) -> None:
        self.expected = expected
        self.actual = actual
        #: `column`, or the compiled rule's key (`row`/`proceeding`): what the locations are
        self.where = where
        self.locations = locations


class _Layout:
    """The row and column codes of a regular table, and how each rule reads its flat value list.

    Worked out once per layout: a report format prints its tables with the rows and columns of its national
    template (a row or column not found makes another layout), so real reports share a handful of them and
    `_layout` keeps a bounded number. A rule's reading of a layout is a `_Plan`: 0 or None where
    `_evaluate_figures` gives that without looking at the figures (a required column or a term is absent)."""

    __slots__ = ("column_index", "columns", "plans", "row_index", "rows", "width")

    def __init__(self, rows: tuple[str, ...], columns: tuple[str, ...]) -> None:
        self.rows = rows
        self.columns = columns
        self.width = len(columns)
        self.row_index = {code: i for i, code in enumerate(rows)}
        self.column_index = {code: j for j, code in enumerate(columns)}
        #: id of a `_Compiled` -> (it, its plan): keyed by identity like `_BY_IDENTITY`, the entry holding the
        #: compiled rule so that its id stays its own
        self.plans: dict[int, tuple[_Compiled, _Plan | int | None]] = {}

    def plan(self, c: _Compiled) -> _Plan | int | None:
        entry = self.plans.get(id(c))
        if entry is None or entry[0] is not c:
            entry = self.plans[id(c)] = (c, self._plan(c))
        return entry[1]

    def _plan(self, c: _Compiled) -> _Plan | int | None:
        rule = c.rule
        if rule.requires_column and rule.requires_column not in self.column_index:
            return 0
        if rule.axis == "down_columns":
            if not self.row_index.keys() >= c.terms:
                return 0
            return _Plan(self._down_columns(c.parts), self._down_columns(c.totals), "column", self.columns)
        if not self.column_index.keys() >= c.terms:
            return None
        return _Plan(self._along_rows(c.parts), self._along_rows(c.totals), c.key, self.rows)

    def _down_columns(self, codes: tuple[str, ...]) -> _Side:
        """For every column, the rows `codes` (in that order)."""
        starts = [self.row_index[code] * self.width for code in codes]
        return [[start + j for start in starts] for j in range(self.width)]

    def _along_rows(self, codes: tuple[str, ...]) -> _Side:
        """For every row, the columns `codes` (in that order)."""
        at = [self.column_index[code] for code in codes]
        return [[i * self.width + j for j in at] for i in range(len(self.rows))]


#: (row codes, column codes) -> its `_Layout`; emptied when full (a few layouts are in use at a time)
_LAYOUTS: Final[dict[tuple[tuple[str, ...], tuple[str, ...]], _Layout]] = {}
_MAX_LAYOUTS: Final = 64


def _layout(rows: tuple[str, ...], columns: tuple[str, ...]) -> _Layout:
    layout = _LAYOUTS.get((rows, columns))
    if layout is None:
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
        layout = _LAYOUTS[rows, columns] = _Layout(rows, columns)
    return layout


class _Figures:
    """A table whose rows all hold the same columns, its values as one row-major list.

    `values[i * width + j]` is row `layout.rows[i]`, column `layout.columns[j]` (the first row's column
    order). `counts` is the same list when every value is an int (no blank, no fraction: most tables),
    else None; compiled, its sums are machine-integer additions."""

    __slots__ = ("counts", "layout", "values")

    def __init__(self, layout: _Layout, values: list[Number | None], counts: list[int] | None) -> None:
        self.layout = layout
        self.values = values
        self.counts = counts


def _figures(grid: Grid) -> _Figures | None:
    """The grid's values in one pass, or None when its rows differ in their columns (or it is empty)."""
    if not grid:
        return None
    columns: tuple[str, ...] = ()
    values: list[Number | None] = []
    all_ints = True
    for cells in grid.values():
        if not columns:
            columns = tuple(cells)
            if not columns:
                return None
        elif len(cells) != len(columns):
            return None
        for code in columns:
            cell = cells.get(code)
            if cell is None:
                return None  # a row lacks a column of the first row (and holds another instead)
            value = cell.value
            if all_ints and type(value) is not int:
                all_ints = False
            values.append(value)
    counts = cast(list[int], values) if all_ints else None
    return _Figures(_layout(tuple(grid), columns), values, counts)


def _count_sums(counts: list[int], side: _Side) -> list[int]:
    """The sums of one side of a rule at every location, on a table of ints."""
    sums: list[int] = []
    for terms in side:
        total = 0
        for k in terms:
            total += counts[k]
        sums.append(total)
    return sums


def _sums(values: list[Number | None], side: _Side) -> tuple[list[Number | None], bool]:
    """The sums of one side of a rule at every location (None where a term is blank, else `sum` of the
    terms left to right, as `_evaluate_cells` adds them), and whether no term was blank."""
    sums: list[Number | None] = []
    whole = True
    for terms in side:
        figures = [values[k] for k in terms]
        if None in figures:
            sums.append(None)
            whole = False
        else:
            sums.append(sum(cast(list[Number], figures)))
    return sums, whole


def _evaluate_figures(
    c: _Compiled, figures: _Figures, breaches: list[Violation] | None, unevaluable: list[str] | None
) -> int | None:
    """`_evaluate_cells` on a regular table; None when the rule names a column the table lacks (left to
    `_evaluate_cells`, which says so row by row)."""
    plan = figures.layout.plan(c)
    if not isinstance(plan, _Plan):
        return plan
    counts = figures.counts
    if counts is not None:  # no blank, no fraction: the common table
        expected_counts, actual_counts = _count_sums(counts, plan.expected), _count_sums(counts, plan.actual)
        if expected_counts == actual_counts:
            return 0
        return _tally(c, plan.where, plan.locations, expected_counts, actual_counts, breaches, unevaluable)
    expected, expected_whole = _sums(figures.values, plan.expected)
    actual, actual_whole = _sums(figures.values, plan.actual)
    # equal lists, one of them without a blank: the other has none either (None equals no number)
    if (expected_whole or actual_whole) and expected == actual:
        return 0
    return _tally(c, plan.where, plan.locations, expected, actual, breaches, unevaluable)


def _tally(
    c: _Compiled,
    where: str,
    locations: Sequence[str],
    expected: Sequence[Number | None],
    actual: Sequence[Number | None],
    breaches: list[Violation] | None,
    unevaluable: list[str] | None,
) -> int:
    """Compare each location's two sums: a blank side makes it unevaluable, a difference is a breach
    (appended when lists are given). Returns the number of breaches."""
    n = 0
    for location, e, a in zip(locations, expected, actual, strict=True):
        if e is None or a is None:
            if unevaluable is not None:
                unevaluable.append(f"{c.rule.id}@{where}={location}")
        elif e != a:
            n += 1
            if breaches is not None:
                # `0 + x` is `sum((x,))` for a single term as it stands, and leaves a sum as it is
                breaches.append(_violation(c, f"{where}={location}", 0 + e, 0 + a))
    return n


def _total(rows: list[dict[str, Cell]], col: str) -> Number | None:
    """Sum of the cells at `col` of the given rows (left to right), None if any is missing or blank."""
    try:
        values = [row[col].value for row in rows]
    except KeyError:
        return None
    return None if None in values else sum(cast(list[Number], values))


def _row_total(cells: dict[str, Cell], cols: tuple[str, ...]) -> Number | None:
    """Sum of the row's cells in `cols` (left to right), None if any is missing or blank."""
    try:
        values = [cells[col].value for col in cols]
    except KeyError:
        return None
    return None if None in values else sum(cast(list[Number], values))


def _evaluate_rule(
    c: _Compiled,
    grid: Grid,
    breaches: list[Violation] | None,
    unevaluable: list[str] | None,
    figures: _Figures | None = None,
) -> int:
    """Evaluate one compiled rule; appends breaches and unevaluable locations when lists are given.
    Returns the number of breaches. `figures`: the grid's `_figures`, when the caller already read them."""
    if figures is None:
        figures = _figures(grid)
    if figures is not None:
        n = _evaluate_figures(c, figures, breaches, unevaluable)
        if n is not None:
            return n
    return _evaluate_cells(c, grid, breaches, unevaluable)


def _evaluate_cells(c: _Compiled, grid: Grid, breaches: list[Violation] | None, unevaluable: list[str] | None) -> int:
    """Evaluate one compiled rule cell by cell (any grid, rows with differing columns included)."""
    rule = c.rule
    required = rule.requires_column
    if required and not any(required in cells for cells in grid.values()):
        return 0
    if rule.axis == "down_columns":
        if not grid or not grid.keys() >= c.terms:
            return 0
        part_rows = [grid[r] for r in c.parts]
        total_rows = [grid[r] for r in c.totals]
        columns = list(next(iter(grid.values())))
        expected = [_total(part_rows, col) for col in columns]
        actual = [_total(total_rows, col) for col in columns]
        return _tally(c, "column", columns, expected, actual, breaches, unevaluable)
    rows = [(code, cells) for code, cells in grid.items() if not required or required in cells]
    expected = [_row_total(cells, c.parts) for _, cells in rows]
    actual = [_row_total(cells, c.totals) for _, cells in rows]
    return _tally(c, c.key, [code for code, _ in rows], expected, actual, breaches, unevaluable)


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


def _whole_and_non_negative(figures: _Figures) -> bool:
    """Whether every figure is blank or a whole number >= 0 of type int (a table with none to report).

    A float anywhere makes the sum a float, a negative int makes the minimum negative: then the table is
    looked at cell by cell."""
    if figures.counts is not None:
        return all(count >= 0 for count in figures.counts)
    present = [v for v in figures.values if v is not None]
    return type(sum(present)) is int and min(present, default=0) >= 0


def _non_negative(record: ReportRecord, figures: dict[str, _Figures | None] | None = None) -> list[Violation]:
    """Negative and fractional counts; `figures`: the tables' `_figures` when already read."""
    out: list[Violation] = []
    for key, cell in record.proactive.items():
        if cell.value is not None and cell.value < 0 and key.rsplit("|", 1)[-1] not in SIGNED_METRICS:
            out.append(Violation(NON_NEGATIVE, f"cell={key}", 0, cell.value, f"negative figure {cell.raw!r} at {key}"))
    for table, key in ((record.applications, "row"), (record.appeals, "proceeding")):
        read = figures.get("applications" if key == "row" else "appeals") if figures else None
        if read is not None and _whole_and_non_negative(read):
            continue
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
    figures = {"applications": _figures(record.applications), "appeals": _figures(record.appeals)}
    for c in _compiled(template):
        grid = record.applications if c.rule.table == "applications" else record.appeals
        if grid:
            _evaluate_rule(c, grid, breaches, unevaluable, figures[c.rule.table])
    breaches += _non_negative(record, figures)
    return breaches, unevaluable


def count_breaches(applications: Grid, template: str) -> int:
    """Number of sum-rule breaches of a table-3 reading (for choosing between readings)."""
    figures = _figures(applications)
    n = 0
    for c in _compiled(template, "applications"):
        n += _evaluate_rule(c, applications, None, None, figures)
    return n


@cache
def _application_row_codes(template: str) -> tuple[str, ...]:
    return tuple(r.code for r in APPLICATION_ROWS[template])


@cache
def _application_row_set(template: str) -> frozenset[str]:
    return frozenset(_application_row_codes(template))


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
        # one set test for the common table 3 that holds every row
        absent_rows = (
            []
            if _application_row_set(record.template) <= record.applications.keys()
            else [code for code in _application_row_codes(record.template) if code not in record.applications]
        )
        if record.applications and absent_rows:
            gaps.append("table 3 rows not found: " + ", ".join(absent_rows))
    if record.not_evaluable and not record.violations:
        shown = ", ".join(record.not_evaluable[:5]) + (" …" if len(record.not_evaluable) > 5 else "")
        gaps.append(f"{len(record.not_evaluable)} rule checks not evaluable (blank cells): {shown}")
    record.problems.extend(gaps)
    record.status = "partial" if gaps else ("invalid" if record.violations else "ok")
    return record
