"""Vectorized interpreter of the rule declarations in `schemas.rules`, written as polars expressions.

The twin of the per-record evaluator `pipelines.parsing.rules`: both read `SUM_RULES` and nothing else, and
a test asserts they find the same breaches. Here every equation of every report is computed at once over a
table (no Python loop per row): `breaches()` gives the violation rows, and `sum_rule_checks()` /
`non_negative_check()` wrap the same expressions as pandera dataframe-level checks with a per-row result
(a row fails when it is the total side of a broken equation, or holds a negative count).

Conventions follow the parser: an equation with a blank term is not evaluable (neither pass nor breach);
a down-the-columns rule applies to a report only when all of its rows are present; `expected` is the sum
of the parts, `actual` the printed total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from schemas.codes import (
    APPEAL_OUTCOME_CODES,
    COLUMN_CODES,
    LEGAL_PERSON_SUBTOTAL,
    SIGNED_METRICS,
    TABLED_TEMPLATES,
    outcome_rows,
)
from schemas.rules import NON_NEGATIVE, OUTCOME_ROWS, SUM_RULES, SumRule

if TYPE_CHECKING:
    import pandera.polars as pa
    from pandera.api.polars.types import PolarsData

#: The format assumed for a report whose template is not a tabled one (as the parser does).
FALLBACK_TEMPLATE = "2021"

#: per table: the column naming a row of the grid, its location prefix, the value columns
_GRID: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "applications": ("row_code", "row", (*COLUMN_CODES, LEGAL_PERSON_SUBTOTAL.code)),
    "appeals": ("proceeding", "proceeding", APPEAL_OUTCOME_CODES),
}
#: inner location key of a single cell (non_negative), per table
_CELL_KEY = {"applications": "column", "appeals": "outcome"}


def _ident(lf: pl.LazyFrame) -> list[str]:
    """Columns identifying one report's rows. `source_path` is present while staging (byte-identical copies
    of a file share a report_id until duplicates are set aside)."""
    names = lf.collect_schema().names()
    return ["report_id", "report_year"] + (["source_path"] if "source_path" in names else [])


def _expand(parts: tuple[str, ...], template: str) -> tuple[str, ...]:
    out: list[str] = []
    for p in parts:
        out.extend(outcome_rows(template) if p == OUTCOME_ROWS else (p,))
    return tuple(out)


def _template_expr() -> pl.Expr:
    t = pl.col("template")
    return pl.when(t.is_in(list(TABLED_TEMPLATES))).then(t).otherwise(pl.lit(FALLBACK_TEMPLATE))


def _label(terms: tuple[str, ...], long_label: str) -> str:
    return " + ".join(terms) if len(terms) <= 4 else long_label


def _text(*pieces: str | pl.Expr) -> pl.Expr:
    """Concatenate literals and string expressions. (Not `pl.format`: with several computed inputs over a
    multi-chunk frame after a filter it panics in polars 2.1 — binview index assertion.)"""
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in pieces])


def _fmt(expr: pl.Expr) -> pl.Expr:
    """A number as the parser prints it: integers without a decimal point."""
    as_int = expr.cast(pl.Int64, strict=False)
    return pl.when(expr == as_int).then(as_int.cast(pl.Utf8)).otherwise(expr.cast(pl.Utf8)).fill_null("blank")


def _message(rule: SumRule) -> pl.Expr:
    """The parser's wording of a breach."""
    parts = _expand(rule.parts, FALLBACK_TEMPLATE)
    long_label = "sum of outcome rows" if rule.axis == "down_columns" else "sum of " + ", ".join(parts)
    return _text(
        f"{rule.id} at ",
        pl.col("location"),
        f": {_label(parts, long_label)} = ",
        _fmt(pl.col("expected")),
        f", but {' + '.join(rule.totals)} = ",
        _fmt(pl.col("actual")),
    )


def _null_if_any_null(values: list[pl.Expr]) -> pl.Expr:
    return pl.when(pl.any_horizontal([v.is_null() for v in values])).then(None).otherwise(pl.sum_horizontal(values))


def _along_rows(rule: SumRule, lf: pl.LazyFrame) -> pl.LazyFrame:
    key, prefix, _ = _GRID[rule.table]
    parts, totals = rule.parts, rule.totals
    return (
        lf.select(
            *_ident(lf),
            pl.col(key).alias("anchor"),
            _null_if_any_null([pl.col(c) for c in parts]).cast(pl.Float64).alias("expected"),
            _null_if_any_null([pl.col(c) for c in totals]).cast(pl.Float64).alias("actual"),
        )
        .filter(pl.col("expected").is_not_null() & pl.col("actual").is_not_null())
        .with_columns((pl.lit(prefix + "=") + pl.col("anchor")).alias("location"))
    )


def _down_columns(rule: SumRule, lf: pl.LazyFrame) -> pl.LazyFrame:
    key, _, value_columns = _GRID[rule.table]
    ident = _ident(lf)
    roles = pl.LazyFrame(
        [
            {
                "_template": t,
                key: code,
                "role": role,
                "n_parts": len(_expand(rule.parts, t)),
            }
            for t in TABLED_TEMPLATES
            for role, codes in (("part", _expand(rule.parts, t)), ("total", rule.totals))
            for code in codes
        ]
    )
    is_part, is_total = pl.col("role") == "part", pl.col("role") == "total"

    def sides(c: str) -> list[pl.Expr]:
        """A value column split by side of the equation (plain columns: the aggregations below stay on
        polars' fast path, where a `filter` inside `agg` runs group by group)."""
        v = pl.col(c)
        return [
            pl.when(is_part).then(v).alias(f"_part:{c}"),
            pl.when(is_total).then(v).alias(f"_total:{c}"),
            (v.is_null() & is_part).alias(f"_blank_part:{c}"),
            (v.is_null() & is_total).alias(f"_blank_total:{c}"),
        ]

    def column_sums(c: str) -> pl.Expr:
        """One column's equation of a report: the sums of its parts and totals, and whether one is blank."""
        return pl.struct(
            pl.col(f"_part:{c}").sum().cast(pl.Float64).alias("expected"),
            pl.col(f"_total:{c}").sum().cast(pl.Float64).alias("actual"),
            pl.col(f"_blank_part:{c}").any().alias("_blank_part"),
            pl.col(f"_blank_total:{c}").any().alias("_blank_total"),
        ).alias(c)

    # one row per report (the rows on either side of the equation, summed per value column), then one row
    # per report and column: aggregating before unpivoting keeps the long frame report-sized, not cell-sized
    per_report = (
        lf.select(*ident, _template_expr().alias("_template"), key, *value_columns)
        .join(roles, on=["_template", key], how="inner")
        .select(*ident, "role", "n_parts", *(e for c in value_columns for e in sides(c)))
        .group_by(ident)
        .agg(
            is_part.sum().alias("_n_parts_found"),
            is_total.sum().alias("_n_totals_found"),
            pl.col("n_parts").first(),
            *(column_sums(c) for c in value_columns),
        )
    )
    return (
        per_report.filter(
            (pl.col("_n_parts_found") == pl.col("n_parts")) & (pl.col("_n_totals_found") == len(rule.totals))
        )
        .unpivot(on=list(value_columns), index=ident, variable_name="column")
        .unnest("value")
        .filter(~pl.col("_blank_part") & ~pl.col("_blank_total"))
        .select(
            *ident,
            pl.lit(list(rule.totals)).alias("anchor"),
            _text("column=", pl.col("column")).alias("location"),
            "expected",
            "actual",
        )
        .explode("anchor")
    )


def equations(rule: SumRule, lf: pl.LazyFrame) -> pl.LazyFrame:
    """Every evaluable equation of `rule` over a table: identity, `anchor` (the row on the total side),
    `location`, `expected`, `actual`. Down-the-columns equations appear once per row on their total side."""
    return _down_columns(rule, lf) if rule.axis == "down_columns" else _along_rows(rule, lf)


def _sum_rule_breaches(rule: SumRule, lf: pl.LazyFrame) -> pl.LazyFrame:
    """Broken equations of `rule`, once per row on their total side (`anchor`): the rows its check flags.
    A down-the-columns equation has several such rows; `breaches` keeps one row per location."""
    return (
        equations(rule, lf)
        .filter(pl.col("expected") != pl.col("actual"))
        .select(
            *_ident(lf),
            pl.lit(rule.id).alias("rule"),
            "anchor",
            "location",
            "expected",
            "actual",
            _message(rule).alias("message"),
        )
    )


def _negative_cells(table: str, lf: pl.LazyFrame) -> pl.LazyFrame:
    """One row per negative count (or amount), with the row key for flagging."""
    ident = _ident(lf)
    if table == "proactive":
        key = _text(pl.col("item"), "|", pl.col("subject"), "|", pl.col("metric"))
        return lf.filter((pl.col("value") < 0) & ~pl.col("metric").is_in(list(SIGNED_METRICS))).select(
            *ident,
            key.alias("anchor"),
            pl.lit(NON_NEGATIVE).alias("rule"),
            _text("cell=", key).alias("location"),
            pl.lit(0.0).alias("expected"),
            pl.col("value").alias("actual"),
            _text("negative figure '", pl.col("raw_text").fill_null(""), "' at ", key).alias("message"),
        )
    key, prefix, value_columns = _GRID[table]
    long = lf.select(*ident, key, *value_columns).unpivot(
        on=list(value_columns), index=[*ident, key], variable_name="column"
    )
    location = _text(f"{prefix}=", pl.col(key), f",{_CELL_KEY[table]}=", pl.col("column"))
    return long.filter(pl.col("value") < 0).select(
        *ident,
        pl.col(key).alias("anchor"),
        pl.lit(NON_NEGATIVE).alias("rule"),
        location.alias("location"),
        pl.lit(0.0).alias("expected"),
        pl.col("value").cast(pl.Float64).alias("actual"),
        _text("negative count '", pl.col("value").cast(pl.Utf8), "' at ", location).alias("message"),
    )


#: prefix of the per-row outcome columns `evaluate` attaches to a table, one per rule id (True: the row
#: passes). The pandera rule checks read them when present instead of evaluating the rule a second time.
OUTCOME_PREFIX = "_passes:"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every arithmetic rule of one table evaluated once: what pandera checks and what the build records."""

    #: the table with one `OUTCOME_PREFIX + rule id` column per rule (the pandera checks' per-row result)
    checked: pl.DataFrame
    #: the breaches: identity columns + rule, location, expected, actual, message
    breaches: pl.DataFrame


def _row_key(table: str) -> pl.Expr:
    """The expression naming a row as a breach's `anchor` does."""
    if table in _GRID:
        return pl.col(_GRID[table][0])
    return _text(pl.col("item"), "|", pl.col("subject"), "|", pl.col("metric"))


def _table_rule_ids(table: str) -> list[str]:
    return [r.id for r in SUM_RULES if r.table == table] + [NON_NEGATIVE]


def evaluate(table: str, frame: pl.DataFrame) -> Evaluation:
    """Evaluate the table's rules once (one polars query per rule, run together) and derive from the same
    result both the breach rows and the per-row outcome of each rule's pandera check."""
    lf = frame.lazy()
    ident = _ident(lf)
    sum_rules = [_sum_rule_breaches(r, lf) for r in SUM_RULES if r.table == table]
    *found, negative = pl.collect_all([*sum_rules, _negative_cells(table, lf)])
    anchored = pl.concat([f.select(*ident, "anchor", "rule") for f in (*found, negative)], how="vertical_relaxed")
    breaches = pl.concat(
        [
            # a down-the-columns equation is one breach, however many rows its total side has
            *(f.unique([*ident, "location"], keep="first", maintain_order=True).drop("anchor") for f in found),
            negative.drop("anchor"),
        ],
        how="vertical_relaxed",
    )
    broken = anchored.group_by([*ident, "anchor"]).agg(pl.col("rule").unique().alias("_broken"))
    checked = (
        frame.with_columns(_row_key(table).alias("_anchor"))
        .join(broken, left_on=[*ident, "_anchor"], right_on=[*ident, "anchor"], how="left", maintain_order="left")
        .with_columns(
            pl.col("_broken").list.contains(pl.lit(rule)).fill_null(False).not_().alias(OUTCOME_PREFIX + rule)
            for rule in _table_rule_ids(table)
        )
        .drop("_anchor", "_broken")
    )
    return Evaluation(checked, breaches)


def breaches(table: str, frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """All rule breaches in one table (identity columns + rule, location, expected, actual, message)."""
    return evaluate(table, frame.lazy().collect()).breaches


def _outcome(data: PolarsData, rule_id: str) -> pl.LazyFrame | None:
    """The outcome `evaluate` attached for this rule, if the validated frame has it."""
    column = OUTCOME_PREFIX + rule_id
    if column in data.lazyframe.collect_schema().names():
        return data.lazyframe.select(pl.col(column).alias("check"))
    return None


def _flag_rows(table: str, lf: pl.LazyFrame, bad: pl.LazyFrame) -> pl.LazyFrame:
    """Per-row check result: False for rows named as `anchor` in `bad`."""
    ident = _ident(lf)
    lf = lf.with_columns(_row_key(table).alias("_key"))
    bad = bad.select(*ident, "anchor").unique().with_columns(pl.lit(True).alias("_bad"))
    return lf.join(
        bad, left_on=[*ident, "_key"], right_on=[*ident, "anchor"], how="left", maintain_order="left"
    ).select(pl.col("_bad").is_null().alias("check"))


def _sum_rule_check(rule: SumRule) -> pa.Check:
    import pandera.polars as pa

    def check(data: PolarsData) -> pl.LazyFrame:
        outcome = _outcome(data, rule.id)
        if outcome is not None:
            return outcome
        eqs = equations(rule, data.lazyframe).filter(pl.col("expected") != pl.col("actual"))
        return _flag_rows(rule.table, data.lazyframe, eqs)

    return pa.Check(check, name=rule.id)


def sum_rule_checks(table: str) -> tuple[pa.Check, ...]:
    """One pandera dataframe-level check per sum rule of the table."""
    return tuple(_sum_rule_check(r) for r in SUM_RULES if r.table == table)


def non_negative_check(table: str) -> pa.Check:
    import pandera.polars as pa

    def check(data: PolarsData) -> pl.LazyFrame:
        outcome = _outcome(data, NON_NEGATIVE)
        if outcome is not None:
            return outcome
        return _flag_rows(table, data.lazyframe, _negative_cells(table, data.lazyframe))

    return pa.Check(check, name=NON_NEGATIVE)


#: tables with arithmetic checks
RULE_CHECKED_TABLES: tuple[str, ...] = ("proactive", "applications", "appeals")


def rule_checks(table: str) -> list[pa.Check]:
    """The dataframe-level arithmetic checks of a table: its sum rules, then non_negative."""
    if table not in RULE_CHECKED_TABLES:
        return []
    return [*sum_rule_checks(table), non_negative_check(table)]
