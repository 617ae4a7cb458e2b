"""The warehouse tables, declared once: columns, types, ranges, allowed codes, comments and rule checks.

Everything that needs a table's shape derives it from `TABLES`: the pandera schemas that validate each
batch (`pandera_schema`), the Arrow/polars schemas of the Parquet files (`polars_schema`, `arrow_schema`),
the DuckDB view column lists and their `COMMENT`s (`pipelines.warehouse.catalog`). Labels and meanings of
codes come from `schemas.codes`; the arithmetic checks come from `schemas.rules` via `schemas.checks`.

A check whose name is a rule id (`schemas.rules.RULE_IDS`) is an *arithmetic* check: a report breaking it
is still loaded and the breach recorded. Every other check is a *schema* check: failing it blocks the build.

Column checks are kept as data (`ColumnCheck`) and turned into pandera objects only when a schema is built:
a build with nothing to validate, and every reader of the declarations, never pays for importing pandera.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa_arrow

from schemas import checks
from schemas.codes import (
    ALL_APPLICATION_ROWS,
    APPEAL_OUTCOMES,
    APPLICANT_COLUMNS,
    LEGAL_PERSON_SUBTOTAL,
    OUTCOME_CATEGORIES,
    PROACTIVE_ITEMS,
    PROCEEDINGS,
    SOURCE_FORMATS,
    STATUSES,
    TEMPLATES,
)
from schemas.rules import RULE_DESCRIPTIONS, RULE_IDS

if TYPE_CHECKING:
    import pandera.polars as pa

#: Partition value of reports whose year is unknown (`report_year=0`); the views show it as NULL.
UNKNOWN_YEAR_PARTITION = 0
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass(frozen=True, slots=True)
class ColumnCheck:
    """A built-in pandera column check as data: `pa.Check.<kind>(*args)`."""

    kind: str  # isin, in_range, ge, str_matches
    args: tuple[Any, ...]

    def to_pandera(self) -> pa.Check:
        import pandera.polars as pa

        return getattr(pa.Check, self.kind)(*self.args)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    dtype: pl.DataType
    label: str  # Chinese label
    meaning: str  # English meaning
    nullable: bool = True
    checks: tuple[ColumnCheck, ...] = ()

    @property
    def comment(self) -> str:
        return f"{self.label} — {self.meaning}"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    grain: str
    label: str
    columns: tuple[Column, ...]

    @property
    def comment(self) -> str:
        return f"{self.label} — one row per {self.grain}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _isin(values: object) -> tuple[ColumnCheck, ...]:
    return (ColumnCheck("isin", (sorted(set(values)),)),)  # type: ignore[call-overload]


_COUNT = pl.Int64
_HEX64 = (ColumnCheck("str_matches", (r"^[0-9a-f]{64}$",)),)
_YEAR = (ColumnCheck("in_range", (MIN_YEAR, MAX_YEAR)),)
_NON_NEGATIVE = (ColumnCheck("ge", (0,)),)

REPORT_ID = Column("report_id", pl.Utf8, "报告编号", "report id: sha256 of the raw file bytes (hex)", False, _HEX64)
REPORT_YEAR = Column("report_year", pl.Int32, "报告年度", "year the report covers (NULL when unknown)", True, _YEAR)

REPORTS = Table(
    "reports",
    "input file",
    "政府信息公开工作年度报告",
    (
        REPORT_ID,
        Column("source_path", pl.Utf8, "源文件路径", "path of the raw file, relative to the raw root", False),
        Column("source_format", pl.Utf8, "源文件格式", "format of the raw file", False, _isin(SOURCE_FORMATS)),
        Column("encoding", pl.Utf8, "文本编码", "text encoding detected (NULL for binary formats)"),
        Column("agency", pl.Utf8, "机关名称", "agency that published the report (NULL when unknown)"),
        REPORT_YEAR,
        Column(
            "template",
            pl.Utf8,
            "表格格式",
            "national table format: 2019, 2021, pre2019, unknown",
            False,
            _isin(TEMPLATES),
        ),
        Column(
            "status",
            pl.Utf8,
            "解析状态",
            "ok: all tables, all rules hold; invalid: a rule broken; partial: a table missing; failed: unreadable",
            False,
            _isin(STATUSES),
        ),
        Column("problems", pl.Utf8, "问题说明", "why the report is partial or failed (NULL when none)"),
        Column("n_violations", pl.Int32, "违反规则数", "number of rule breaches recorded", False, _NON_NEGATIVE),
        Column("duplicate_of", pl.Utf8, "重复于", "report_id of an identical text loaded before (NULL if none)"),
        Column("parser_version", pl.Utf8, "解析器版本", "version of the parser that read the file", False),
        Column("ingested_at", pl.Datetime("us", "UTC"), "入库时间", "when the file was parsed (UTC)", False),
        Column("text_sha256", pl.Utf8, "正文指纹", "sha256 of the normalized text (duplicate detection)"),
        Column("region", pl.Utf8, "地区", "region from the sidecar file (NULL if none)"),
        Column("source_url", pl.Utf8, "来源网址", "URL from the sidecar file (NULL if none)"),
        Column(
            "n_not_evaluable",
            pl.Int32,
            "无法校验数",
            "rule checks not evaluable (blank cells)",
            False,
            _NON_NEGATIVE,
        ),
    ),
)


def _all_codes(kind: str) -> set[str]:
    out: set[str] = set()
    for items in PROACTIVE_ITEMS.values():
        for it in items:
            if kind == "item":
                out.add(it.item)
            else:
                out.update(c.code for c in (it.subjects if kind == "subject" else it.metrics))
    return out


PROACTIVE = Table(
    "proactive",
    "table-2 cell",
    "主动公开政府信息情况（表二）",
    (
        REPORT_ID,
        REPORT_YEAR,
        Column("item", pl.Utf8, "条款", "article item of the regulations, e.g. 20.1", False, _isin(_all_codes("item"))),
        Column("subject", pl.Utf8, "信息内容", "subject of the figure", False, _isin(_all_codes("subject"))),
        Column("metric", pl.Utf8, "指标", "what is counted", False, _isin(_all_codes("metric"))),
        Column("value", pl.Float64, "数值", "the figure (amounts in 万元 = 10,000 yuan); NULL where blank"),
        Column("raw_text", pl.Utf8, "原文", "the cell as printed"),
    ),
)

_APPLICANT_COLUMNS = tuple(Column(c.code, _COUNT, c.label, c.meaning) for c in APPLICANT_COLUMNS)
APPLICATIONS = Table(
    "applications",
    "table-3 row",
    "收到和处理政府信息公开申请情况（表三）",
    (
        REPORT_ID,
        REPORT_YEAR,
        Column("template", pl.Utf8, "表格格式", "table format of the report (2019 or 2021)", False, _isin(TEMPLATES)),
        Column("row_code", pl.Utf8, "行", "row of table 3", False, _isin(r.code for r in ALL_APPLICATION_ROWS)),
        Column("row_order", pl.Int32, "行序", "position of the row in the printed table (1-based)", False),
        Column(
            "category",
            pl.Utf8,
            "办理结果类别",
            "outcome category (NULL for volume rows)",
            True,
            _isin(OUTCOME_CATEGORIES),
        ),
        *_APPLICANT_COLUMNS,
        Column(LEGAL_PERSON_SUBTOTAL.code, _COUNT, LEGAL_PERSON_SUBTOTAL.label, LEGAL_PERSON_SUBTOTAL.meaning),
    ),
)

APPEALS = Table(
    "appeals",
    "proceeding",
    "政府信息公开行政复议、行政诉讼情况（表四）",
    (
        REPORT_ID,
        REPORT_YEAR,
        Column(
            "proceeding",
            pl.Utf8,
            "程序",
            "administrative review or litigation",
            False,
            _isin(p.code for p in PROCEEDINGS),
        ),
        *(Column(o.code, _COUNT, o.label, o.meaning) for o in APPEAL_OUTCOMES),
    ),
)

VIOLATIONS = Table(
    "violations",
    "rule breach",
    "勾稽关系校验不通过",
    (
        REPORT_ID,
        REPORT_YEAR,
        Column(
            "rule",
            pl.Utf8,
            "规则",
            "rule id: " + "; ".join(f"{k}: {v}" for k, v in RULE_DESCRIPTIONS.items()),
            False,
            _isin(RULE_IDS),
        ),
        Column("location", pl.Utf8, "位置", "where the rule breaks, e.g. row=granted or column=natural_person", False),
        Column("expected", pl.Float64, "应为", "sum of the parts (what the total should be)"),
        Column("actual", pl.Float64, "实际", "the total as printed"),
        Column("message", pl.Utf8, "说明", "the breach in words", False),
    ),
)

#: The five base tables, in load order; each is one Parquet dataset and one `core.<name>` view.
TABLES: dict[str, Table] = {t.name: t for t in (REPORTS, PROACTIVE, APPLICATIONS, APPEALS, VIOLATIONS)}
#: The Hive partition column; not stored inside the Parquet files.
PARTITION_COLUMN = "report_year"


def polars_schema(table: str, *, with_partition: bool = True) -> pl.Schema:
    cols = TABLES[table].columns
    return pl.Schema({c.name: c.dtype for c in cols if with_partition or c.name != PARTITION_COLUMN})


def arrow_schema(table: str, *, with_partition: bool = False) -> pa_arrow.Schema:
    """Schema of the Parquet files (the partition column lives in the folder name), with comments."""
    cols = [c for c in TABLES[table].columns if with_partition or c.name != PARTITION_COLUMN]
    empty = pl.DataFrame(schema={c.name: c.dtype for c in cols}).to_arrow()
    fields = [f.with_metadata({"comment": c.comment}) for f, c in zip(empty.schema, cols, strict=True)]
    return pa_arrow.schema(fields, metadata={"comment": TABLES[table].comment})


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=polars_schema(table))


@cache
def pandera_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a table: column types, nullability, codes and ranges, plus the rule checks
    of `schemas.checks` (dataframe-level, named by rule id).

    Extra columns (e.g. the staging column `source_path` of figure tables) are allowed.
    """
    t = TABLES[table]
    import pandera.polars as pa

    columns = {
        c.name: pa.Column(c.dtype, checks=[k.to_pandera() for k in c.checks], nullable=c.nullable, required=True)
        for c in t.columns
    }
    return pa.DataFrameSchema(columns, checks=checks.rule_checks(table), name=table, strict=False, coerce=False)
