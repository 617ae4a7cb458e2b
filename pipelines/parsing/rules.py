"""Per-record interpreter of the rule declarations in `schemas.rules`.

Pure functions over the record's tables. The table parser also uses `count_breaches` to choose between
readings a layout leaves open (row- or column-major, a shifted row): the reading under which the rules
hold wins. Figures are never altered here.

The parser calls the evaluator several times per report, so each rule is expanded once per format
(`_compiled`: its terms, the labels of its messages), and a table's figures are read once per evaluation
into one flat row-major list (`_Figures`) that every rule sums with C-level builtins (`map(sum, ...)` over
slices) instead of looking up cells term by term. Which slices a rule sums depends only on the table's
row and column codes, so it is worked out once per such layout (`_Layout`, `_Plan`). A table whose rows
do not all hold the same columns is evaluated cell by cell (`_evaluate_cells`, the reference the fast path
must equal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import cast

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
_BY_IDENTITY: dict[tuple[int, str], _Compiled] = {}


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


#: how one side of a rule reads a regular table's flat value list: `(by_location, slices)`. By location:
#: one slice per location (column or row) holding that location's terms in order, summed slice by slice;
#: else one slice per term (a row or a column), summed position by position (`_sums`)
_Side = tuple[bool, tuple[slice, ...]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One compiled rule on one table layout: where its two sides' terms lie in the flat value list."""

    expected: _Side
    actual: _Side
    #: `column`, or the compiled rule's key (`row`/`proceeding`): what the locations are
    where: str
    locations: tuple[str, ...]


class _Layout:
    """The row and column codes of a regular table, and how each rule reads its flat value list.

    Worked out once per layout: a report format prints its tables with the rows and columns of its national
    template (a row or column not found makes another layout), so real reports share a handful of them and
    `_layout` keeps a bounded number. A rule's reading of a layout is a `_Plan`: 0 or None where
    `_evaluate_figures` gives that without looking at the figures (a required column or a term is absent)."""

    __slots__ = ("column_index", "columns", "pick", "plans", "row_index", "rows", "width")

    def __init__(self, rows: tuple[str, ...], columns: tuple[str, ...]) -> None:
        self.rows = rows
        self.columns = columns
        self.width = len(columns)
        self.row_index = {code: i for i, code in enumerate(rows)}
        self.column_index = {code: j for j, code in enumerate(columns)}
        #: a row's cells in the first row's column order
        self.pick: Callable[[Mapping[str, Cell]], tuple[Cell, ...]]
        self.pick = itemgetter(*columns) if self.width > 1 else (lambda cells: (cells[columns[0]],))  # type: ignore[assignment]
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
        """For every column, the sum of the rows `codes` (in that order)."""
        width, first = self.width, self.row_index[codes[0]]
        if len(codes) > 1 and [self.row_index[code] for code in codes] == list(range(first, first + len(codes))):
            # consecutive rows (the printed order): each column's terms are one strided slice
            end = (first + len(codes)) * width
            return True, tuple(slice(first * width + j, end, width) for j in range(width))
        return False, tuple(slice(self.row_index[code] * width, (self.row_index[code] + 1) * width) for code in codes)

    def _along_rows(self, codes: tuple[str, ...]) -> _Side:
        """For every row, the sum of the columns `codes` (in that order)."""
        width, first = self.width, self.column_index[codes[0]]
        if len(codes) > 1 and [self.column_index[code] for code in codes] == list(range(first, first + len(codes))):
            # consecutive columns (the printed order): each row's terms are one slice
            return True, tuple(slice(s, s + len(codes)) for s in range(first, len(self.rows) * width, width))
        return False, tuple(slice(self.column_index[code], None, width) for code in codes)


#: (row codes, column codes) -> its `_Layout`; emptied when full (a few layouts are in use at a time)
_LAYOUTS: dict[tuple[tuple[str, ...], tuple[str, ...]], _Layout] = {}
_MAX_LAYOUTS = 64


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
    order)."""

    __slots__ = ("layout", "values")

    def __init__(self, layout: _Layout, values: list[Number | None]) -> None:
        self.layout = layout
        self.values = values

    def row(self, code: str) -> list[Number | None]:
        width = self.layout.width
        start = self.layout.row_index[code] * width
        return self.values[start : start + width]

    def column(self, code: str) -> list[Number | None]:
        return self.values[self.layout.column_index[code] :: self.layout.width]

    def side(self, side: _Side) -> tuple[list[Number | None], bool]:
        """The sums of one side of a rule at every location, and whether none was blank (`_sums`)."""
        by_location, slices = side
        values = self.values
        if not by_location:
            return _sums(list(map(values.__getitem__, slices)))
        try:
            return list(map(sum, map(cast(list[Number], values).__getitem__, slices))), True
        except TypeError:  # a blank (None) term: location by location
            return list(map(_sum_or_none, map(values.__getitem__, slices))), False


def _figures(grid: Grid) -> _Figures | None:
    """The grid's values in one pass, or None when its rows differ in their columns (or it is empty)."""
    if not grid:
        return None
    rows = list(grid.values())
    columns = tuple(rows[0])
    width = len(columns)
    if not width or sum(map(len, rows)) != width * len(rows):
        return None
    layout = _layout(tuple(grid), columns)
    try:
        cells = chain.from_iterable(list(map(layout.pick, rows)))
    except KeyError:
        return None  # a row lacks a column of the first row (and holds another instead)
    # a comprehension, not `map(attrgetter("value"), ...)`: its specialised attribute load is faster
    return _Figures(layout, [cell.value for cell in cells])


def _sum_or_none(values: Sequence[Number | None]) -> Number | None:
    """Sum of the terms (left to right), None if any is blank."""
    return None if None in values else sum(cast(Sequence[Number], values))


def _sums(terms: list[list[Number | None]]) -> tuple[list[Number | None], bool]:
    """Element-wise sums of equally long term vectors (None where a term is blank), and whether no term
    was blank. A single vector is returned as it is: `sum((v,))` is `0 + v`, equal to `v` (the reported
    figure is `0 + v`, see `_evaluate_figures`), and it is not known to hold no blank."""
    if len(terms) == 1:
        return terms[0], False
    try:
        return list(map(sum, zip(*terms, strict=True))), True
    except TypeError:  # a blank (None) term somewhere: sum position by position
        return list(map(_sum_or_none, zip(*terms, strict=True))), False


def _evaluate_figures(
    c: _Compiled, figures: _Figures, breaches: list[Violation] | None, unevaluable: list[str] | None
) -> int | None:
    """`_evaluate_cells` on a regular table; None when the rule names a column the table lacks (left to
    `_evaluate_cells`, which says so row by row)."""
    plan = figures.layout.plan(c)
    if not isinstance(plan, _Plan):
        return plan
    (expected, expected_whole), (actual, actual_whole) = figures.side(plan.expected), figures.side(plan.actual)
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


def _total(rows: list[Mapping[str, Cell]], col: str) -> Number | None:
    """Sum of the cells at `col` of the given rows (left to right), None if any is missing or blank."""
    try:
        values = [row[col].value for row in rows]
    except KeyError:
        return None
    return None if None in values else sum(cast(list[Number], values))


def _row_total(cells: Mapping[str, Cell], cols: tuple[str, ...]) -> Number | None:
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


def _whole_and_non_negative(values: list[Number | None]) -> bool:
    """Whether every figure is blank or a whole number >= 0 of type int (a table with none to report).

    A float anywhere makes the sum a float, a negative int makes the minimum negative: then the table is
    looked at cell by cell."""
    present = cast(list[Number], values)
    try:
        total = sum(present)
    except TypeError:  # blanks
        present = [v for v in values if v is not None]
        total = sum(present)
    return type(total) is int and min(present, default=0) >= 0


def _non_negative(record: ReportRecord, figures: Mapping[str, _Figures | None] | None = None) -> list[Violation]:
    """Negative and fractional counts; `figures`: the tables' `_figures` when already read."""
    out: list[Violation] = []
    # no figure below 0 (blanks and zeros left out): no cell of table 2 need be looked at
    no_negative = min(filter(None, [cell.value for cell in record.proactive.values()]), default=0) >= 0
    for key, cell in () if no_negative else record.proactive.items():
        if cell.value is not None and cell.value < 0 and key.rsplit("|", 1)[-1] not in SIGNED_METRICS:
            out.append(Violation(NON_NEGATIVE, f"cell={key}", 0, cell.value, f"negative figure {cell.raw!r} at {key}"))
    for table, key in ((record.applications, "row"), (record.appeals, "proceeding")):
        read = figures.get("applications" if key == "row" else "appeals") if figures else None
        if read is not None and _whole_and_non_negative(read.values):
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
    return sum(_evaluate_rule(c, applications, None, None, figures) for c in _compiled(template, "applications"))


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
