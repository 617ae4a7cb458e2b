"""`ReportRecord`s → polars frames shaped like the warehouse tables, one batch at a time.

Column lists come from `schemas.tables`; the figure tables carry an extra staging column `source_path`
(byte-identical copies share a report_id until duplicates are set aside). The parser's own breaches are
staged too (`parser_violations`) so the vectorized checks can be compared with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import polars as pl

from pipelines.parsing.record import Cell, ReportRecord
from schemas.codes import APPEAL_OUTCOME_CODES, APPLICATION_ROWS, COLUMN_CODES, LEGAL_PERSON_SUBTOTAL, ROW_BY_CODE
from schemas.tables import TABLES, polars_schema

STAGING_COLUMN = "source_path"
#: the parser's own breaches, staged beside the tables to compare with the vectorized checks
PARSER_VIOLATIONS = "parser_violations"
_PARSER_VIOLATIONS_SCHEMA = pl.Schema(
    {STAGING_COLUMN: pl.Utf8, "rule": pl.Utf8, "location": pl.Utf8, "expected": pl.Float64, "actual": pl.Float64}
)
#: tables a parse batch fills (violations are computed later, by the vectorized checks)
STAGED_TABLES: tuple[str, ...] = (*(t for t in TABLES if t != "violations"), PARSER_VIOLATIONS)
_APP_VALUE_COLUMNS = (*COLUMN_CODES, LEGAL_PERSON_SUBTOTAL.code)
#: outcome category of each table-3 row code (None: a volume row, or a code no format has)
_CATEGORY: dict[str, str | None] = {code: row.category for code, row in ROW_BY_CODE.items()}


def staging_schema(table: str) -> pl.Schema:
    """Schema of a staged table: the warehouse table plus `source_path` for figure tables."""
    if table == PARSER_VIOLATIONS:
        return _PARSER_VIOLATIONS_SCHEMA
    schema = dict(polars_schema(table))
    schema.setdefault(STAGING_COLUMN, pl.Utf8)
    return pl.Schema(schema)


@dataclass(slots=True)
class FileInfo:
    """What the registry knows about a raw file before parsing it."""

    source_path: str
    sha256: str
    region: str | None = None
    source_url: str | None = None


@dataclass
class Batch:
    """Column buffers of one batch of records, for every table."""

    columns: dict[str, dict[str, list[Any]]] = field(
        default_factory=lambda: {t: {c: [] for c in staging_schema(t)} for t in STAGED_TABLES}
    )

    def _row(self, table: str, **values: Any) -> None:
        cols = self.columns[table]
        for name, buf in cols.items():
            buf.append(values.get(name))

    def add(self, record: ReportRecord, info: FileInfo, parser_version: str, ingested_at: datetime) -> None:
        problems = list(record.problems)
        report_id = record.source.sha256 or info.sha256
        year = record.year
        path = info.source_path
        # ~40 figure rows and ~200 cells a report: the per-cell work appends to column lists directly (no
        # per-row dict); a value common to a report's rows is repeated with one `extend`; a cell's location
        # text is only built for a problem, the template's row order is computed once per template
        proactive = self.columns["proactive"]
        n = len(record.proactive)
        _repeat(proactive, n, report_id=report_id, report_year=year, source_path=path)
        items, subjects, metrics = proactive["item"], proactive["subject"], proactive["metric"]
        for key in record.proactive:
            parts = key.split("|")
            if len(parts) != 3:
                parts = (parts + ["", "", ""])[:3]
            items.append(parts[0])
            subjects.append(parts[1])
            metrics.append(parts[2])
        proactive["value"].extend(_number(cell.value) for cell in record.proactive.values())
        proactive["raw_text"].extend(cell.raw for cell in record.proactive.values())

        applications = self.columns["applications"]
        rows = record.applications
        order = _row_order(record.template)
        _repeat(
            applications, len(rows), report_id=report_id, report_year=year, source_path=path, template=record.template
        )
        applications["row_code"].extend(rows)
        applications["row_order"].extend(order.get(code, 0) for code in rows)
        applications["category"].extend(_CATEGORY.get(code) for code in rows)
        _add_counts(applications, rows, _APP_VALUE_COLUMNS, "row", problems)

        appeals = self.columns["appeals"]
        _repeat(appeals, len(record.appeals), report_id=report_id, report_year=year, source_path=path)
        appeals["proceeding"].extend(record.appeals)
        _add_counts(appeals, record.appeals, APPEAL_OUTCOME_CODES, "proceeding", problems)

        self._row(
            "reports",
            report_id=report_id,
            source_path=info.source_path,
            source_format=record.source.format,
            encoding=record.source.encoding,
            agency=record.agency,
            report_year=year,
            template=record.template,
            status=record.status,
            problems="; ".join(problems) if problems else None,
            n_violations=len(record.violations),
            duplicate_of=None,
            parser_version=parser_version,
            ingested_at=ingested_at,
            text_sha256=record.text_sha256,
            region=info.region,
            source_url=info.source_url,
            n_not_evaluable=len(record.not_evaluable),
        )
        for v in record.violations:
            self._row(
                PARSER_VIOLATIONS,
                source_path=info.source_path,
                rule=v.rule,
                location=v.location,
                expected=v.expected,
                actual=v.actual,
            )

    def frames(self) -> dict[str, pl.DataFrame]:
        return {t: pl.DataFrame(cols, schema=staging_schema(t), strict=False) for t, cols in self.columns.items()}


def _repeat(columns: dict[str, list[Any]], n: int, **values: Any) -> None:
    """The same value in the next `n` rows of each named column (the identity of a report's rows)."""
    for name, value in values.items():
        columns[name].extend([value] * n)


def _number(value: object) -> int | float | None:
    """A table-2 figure as stored: a number, else NULL (a bool is not a figure)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _add_counts(
    columns: dict[str, list[Any]],
    rows: dict[str, dict[str, Cell]],
    codes: tuple[str, ...],
    axis: str,
    problems: list[str],
) -> None:
    """The count cells of a table-3/4 report, row by row (so that `problems` keeps the cells' order)."""
    buffers = [(code, columns[code]) for code in codes]
    for key, cells in rows.items():
        for code, buf in buffers:
            cell = cells.get(code)
            if cell is None:
                buf.append(None)
            elif type(cell.value) is int:  # the common case, without a call (a bool is not a count)
                buf.append(cell.value)
            else:
                buf.append(_count(cell, axis, key, code, problems))


@cache
def _row_order(template: str | None) -> dict[str, int]:
    """1-based position of each table-3 row code in the template's row order."""
    return {r.code: i + 1 for i, r in enumerate(APPLICATION_ROWS.get(template, ()))}  # type: ignore[arg-type]


def _count(cell: Cell | None, axis: str, key: str, column: str, problems: list[str]) -> int | None:
    """A table-3/4 cell as an integer count. A fractional count cannot be stored in a BIGINT column: it is
    stored as NULL and said so in `problems` (the parser's non_negative breach records the figure).
    `axis`=`key`, column=`column` say where the cell is (the text is built only for a problem)."""
    if cell is None:
        return None
    value = cell.value
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if float(value).is_integer():
        return int(value)
    problems.append(f"fractional count {cell.raw!r} at {axis}={key},column={column} stored as NULL")
    return None


def now_utc() -> datetime:
    return datetime.now(UTC)
