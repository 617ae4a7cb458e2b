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
        # ~40 figure rows a report: per-cell work is kept lean (a cell's location text is only built for a
        # problem, the template's row order is computed once per template)
        proactive = self.columns["proactive"]
        for key, cell in record.proactive.items():
            item, subject, metric = (key.split("|") + ["", "", ""])[:3]
            value = cell.value if isinstance(cell.value, int | float) and not isinstance(cell.value, bool) else None
            _append(
                proactive,
                report_id=report_id,
                report_year=year,
                source_path=path,
                item=item,
                subject=subject,
                metric=metric,
                value=value,
                raw_text=cell.raw,
            )
        order = _row_order(record.template)
        applications = self.columns["applications"]
        for row_code, cells in record.applications.items():
            row = ROW_BY_CODE.get(row_code)
            values = {c: _count(cells.get(c), "row", row_code, c, problems) for c in _APP_VALUE_COLUMNS}
            _append(
                applications,
                report_id=report_id,
                report_year=year,
                source_path=path,
                template=record.template,
                row_code=row_code,
                row_order=order.get(row_code, 0),
                category=row.category if row else None,
                **values,
            )
        appeals = self.columns["appeals"]
        for proceeding, cells in record.appeals.items():
            values = {o: _count(cells.get(o), "proceeding", proceeding, o, problems) for o in APPEAL_OUTCOME_CODES}
            _append(appeals, report_id=report_id, report_year=year, source_path=path, proceeding=proceeding, **values)
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


def _append(columns: dict[str, list[Any]], **values: Any) -> None:
    """One row: every column of the table gets a value (None where `values` has none)."""
    for name, buf in columns.items():
        buf.append(values.get(name))


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
