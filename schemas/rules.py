"""The cross-sum rules (勾稽关系), declared once.

Each rule is data: which table, along which axis, which terms add up to which. Two interpreters derive
from these declarations and nothing else: the parser's per-record evaluator
(`pipelines.parsing.rules.evaluate`) and the vectorized polars checks of the pandera models
(`schemas.tables`). A test asserts both report the same breaches.

Conventions for a breach: `expected` is the sum of the `parts`, `actual` is the sum of the `totals` as
printed; `location` is `column=<code>` for an equation that runs down a column, `row=<code>` or
`proceeding=<code>` for one that runs along a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.codes import (
    APPEAL_OUTCOME_CODES,
    ORG_COLUMN_CODES,
    TOTAL_PART_CODES,
)

Axis = Literal["down_columns", "along_rows"]


@dataclass(frozen=True, slots=True)
class SumRule:
    """sum(parts) == sum(totals), evaluated for every column (down_columns) or every row (along_rows)."""

    id: str
    table: Literal["applications", "appeals"]
    axis: Axis
    #: the summed terms (row codes for down_columns, column codes for along_rows);
    #: the special value OUTCOME_ROWS stands for the outcome rows of the report's format
    parts: tuple[str, ...]
    totals: tuple[str, ...]
    description: str
    #: the rule applies only when this column is present (local variants)
    requires_column: str | None = None


#: Placeholder in `parts`: the outcome rows of the report's format (`schemas.codes.outcome_rows`).
OUTCOME_ROWS = "@outcome_rows"

SUM_RULES: tuple[SumRule, ...] = (
    SumRule(
        "balance",
        "applications",
        "down_columns",
        ("new_received", "carried_over"),
        ("outcome_total", "carried_forward"),
        "新收 + 上年结转 = 办理结果总计 + 结转下年度 (new + carried over = handled + carried forward)",
    ),
    SumRule(
        "outcome_total",
        "applications",
        "down_columns",
        (OUTCOME_ROWS,),
        ("outcome_total",),
        "（七）总计 = sum of the outcome rows",
    ),
    SumRule(
        "row_total",
        "applications",
        "along_rows",
        TOTAL_PART_CODES,
        ("total",),
        "总计 = 自然人 + the five organisation columns",
    ),
    SumRule(
        "legal_person_subtotal",
        "applications",
        "along_rows",
        ORG_COLUMN_CODES,
        ("legal_person_subtotal",),
        "法人或其他组织 subtotal = the five organisation columns",
        requires_column="legal_person_subtotal",
    ),
    SumRule(
        "appeal_total",
        "appeals",
        "along_rows",
        APPEAL_OUTCOME_CODES[:4],
        ("total",),
        "总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    ),
)

#: Cell-level rule: counts are integers >= 0 (except SIGNED_METRICS); amounts >= 0.
NON_NEGATIVE = "non_negative"
#: Cross-report rule (issue: analytics): carried_over(c) of year N = carried_forward(c) of year N-1.
CARRYOVER_CONTINUITY = "carryover_continuity"

RULE_IDS: tuple[str, ...] = tuple(r.id for r in SUM_RULES) + (NON_NEGATIVE, CARRYOVER_CONTINUITY)
RULE_DESCRIPTIONS: dict[str, str] = {r.id: r.description for r in SUM_RULES} | {
    NON_NEGATIVE: "counts are integers >= 0 (本年增/减 may be negative); amounts >= 0",
    CARRYOVER_CONTINUITY: "上年结转 of year N = 结转下年度 of year N-1, same agency (soft)",
}
