"""Random, internally consistent figures for tables 2–4, and planted rule breaks with known truth.

Figures are drawn per agency size: most agencies are small (nearly every cell 0), a few are large
(thousands of requests, millions of licensing or penalty decisions, like 淮安市人民政府 2024). Every
rule of `schemas.rules` holds by construction; a planted break alters one printed figure afterwards,
and the expected breaches are whatever `pipelines.parsing.rules.evaluate` finds on the truth record —
never listed by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from pipelines.parsing.record import Cell, ReportRecord, Source
from pipelines.parsing.rules import evaluate
from schemas.codes import (
    AMOUNT_METRICS,
    APPEAL_OUTCOME_CODES,
    APPLICATION_ROWS,
    LEGAL_PERSON_SUBTOTAL,
    ORG_COLUMN_CODES,
    PROCEEDING_CODES,
    SIGNED_METRICS,
    TOTAL_PART_CODES,
    outcome_rows,
    proactive_keys,
)
from schemas.rules import NON_NEGATIVE, SUM_RULES

SUBTOTAL = LEGAL_PERSON_SUBTOTAL.code
#: rule ids a break can be planted for (the per-record rules; continuity is cross-report)
BREAKABLE_RULES: tuple[str, ...] = (*(r.id for r in SUM_RULES), NON_NEGATIVE)

SIZES: tuple[tuple[str, float], ...] = (("small", 0.55), ("medium", 0.33), ("large", 0.12))

# Relative weight of each outcome in a column, and the chance the cell is 0 even in a busy column.
_OUTCOME_WEIGHT: dict[str, tuple[float, float]] = {
    "granted": (0.45, 0.15),
    "partially_granted": (0.12, 0.5),
    "withheld_state_secret": (0.01, 0.9),
    "withheld_prohibited_by_law": (0.02, 0.8),
    "withheld_three_safeties": (0.01, 0.9),
    "withheld_third_party_rights": (0.02, 0.8),
    "withheld_internal_affairs": (0.02, 0.8),
    "withheld_process_info": (0.03, 0.75),
    "withheld_enforcement_files": (0.02, 0.8),
    "withheld_admin_query": (0.04, 0.75),
    "unable_not_held": (0.25, 0.3),
    "unable_needs_creation": (0.03, 0.7),
    "unable_unclear": (0.02, 0.75),
    "not_processed_complaint": (0.03, 0.7),
    "not_processed_duplicate": (0.02, 0.75),
    "not_processed_publication": (0.01, 0.9),
    "not_processed_excessive": (0.01, 0.9),
    "not_processed_confirmation": (0.01, 0.9),
    "other_no_correction": (0.03, 0.7),
    "other_fee_unpaid": (0.01, 0.9),
    "other_other": (0.04, 0.7),
    "other_processing": (0.06, 0.6),
}
# Requests handled per applicant column (0 for an idle column), by agency size.
_COLUMN_SCALE: dict[str, dict[str, tuple[float, int]]] = {
    # column: size -> (chance the column is idle, typical volume when busy)
    "natural_person": {"small": (0.45, 6), "medium": (0.05, 120), "large": (0.0, 2500)},
    "commercial_enterprise": {"small": (0.9, 2), "medium": (0.5, 10), "large": (0.1, 60)},
    "research_institution": {"small": (0.98, 1), "medium": (0.9, 2), "large": (0.7, 4)},
    "social_welfare_org": {"small": (0.97, 1), "medium": (0.85, 2), "large": (0.6, 5)},
    "legal_service_org": {"small": (0.93, 1), "medium": (0.6, 6), "large": (0.2, 60)},
    "other_org": {"small": (0.95, 1), "medium": (0.75, 3), "large": (0.3, 8)},
}


@dataclass(slots=True)
class Figures:
    """The printed figures of one report (after any planted break): the truth."""

    template: str
    size: str
    #: item|subject|metric -> int, or float 万元 for amounts
    proactive: dict[str, int | float]
    #: amounts as whole yuan (the printer needs them exact: 251000元 = 25.1 万元)
    amount_yuan: dict[str, int]
    applications: dict[str, dict[str, int]]
    appeals: dict[str, dict[str, int]]
    has_subtotal: bool
    #: what was altered for a planted break: (table, outer key, inner key, consistent value, printed value)
    planted: list[tuple[str, str, str | None, int | float, int | float]] = field(default_factory=list)
    break_rule: str | None = None
    #: cells left blank (value None): their rule checks cannot be evaluated
    has_blanks: bool = False


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for name, w in weighted:
        x -= w
        if x < 0:
            return name
    return weighted[-1][0]


def _volume(rng: random.Random, typical: float) -> int:
    """A skewed positive volume around `typical` (log-normal-ish: a few very large values)."""
    return max(1, int(typical * rng.lognormvariate(0.0, 0.9)))


def _proactive(rng: random.Random, template: str, size: str) -> tuple[dict[str, int | float], dict[str, int]]:
    big = {"small": 1, "medium": 30, "large": 3000}[size]
    government = rng.random() < (0.25 if size == "small" else 0.6)
    values: dict[str, int | float] = {}
    yuan: dict[str, int] = {}
    for key in proactive_keys(template):
        item, subject, metric = key.split("|")
        if metric in AMOUNT_METRICS:
            if rng.random() < (0.75 if size == "small" else 0.35):
                amount = 0
            else:
                amount = _volume(rng, {"small": 20_000, "medium": 600_000, "large": 90_000_000}[size])
                if rng.random() < 0.5:
                    amount = amount // 100 * 100 or 100
            yuan[key] = amount
            values[key] = amount / 10000
            continue
        if metric in SIGNED_METRICS:
            values[key] = 0 if rng.random() < 0.6 else rng.randint(-6, 8)
            continue
        if subject == "regulations" and not government:
            values[key] = 0
            continue
        zero_chance = {"small": 0.7, "medium": 0.35, "large": 0.1}[size]
        if rng.random() < zero_chance:
            values[key] = 0
        elif metric in ("in_force", "total_published", "items_last_year"):
            values[key] = _volume(rng, 4 * (big if item != "20.1" else min(big, 40)))
        elif item in ("20.5", "20.6") and metric == "decisions":
            values[key] = _volume(rng, big * (40 if subject == "administrative_penalty" else 15))
        else:
            values[key] = _volume(rng, min(big, 12))
    # currently in force / total published cannot be below what was issued this year
    for issued, stock in (("issued", "in_force"), ("produced", "total_published"), ("published", "total_published")):
        for subject in ("regulations", "normative_documents"):
            a, b = f"20.1|{subject}|{issued}", f"20.1|{subject}|{stock}"
            if a in values and b in values and values[b] < values[a]:
                values[b] = values[a] + int(values[b])
    return values, yuan


def _applications(rng: random.Random, template: str, size: str, subtotal: bool) -> dict[str, dict[str, int]]:
    rows = [r.code for r in APPLICATION_ROWS[template]]
    outcomes = outcome_rows(template)
    table: dict[str, dict[str, int]] = {r: {} for r in rows}
    for col in TOTAL_PART_CODES:
        idle, typical = _COLUMN_SCALE[col][size]
        if rng.random() < idle:
            for r in rows:
                table[r][col] = 0
            continue
        volume = _volume(rng, typical)
        handled = 0
        for r in outcomes:
            weight, zero = _OUTCOME_WEIGHT[r]
            busy = r == "granted" or rng.random() >= zero
            v = round(volume * weight * rng.uniform(0.3, 1.7)) if busy else 0
            table[r][col] = v
            handled += v
        table["outcome_total"][col] = handled
        forward = 0 if rng.random() < 0.7 else round((handled + 1) * rng.uniform(0.0, 0.15))
        over = 0 if rng.random() < 0.7 else rng.randint(0, handled + forward)
        table["carried_forward"][col] = forward
        table["carried_over"][col] = over
        table["new_received"][col] = handled + forward - over
    for r in rows:
        cells = table[r]
        if subtotal:
            cells[SUBTOTAL] = sum(cells[c] for c in ORG_COLUMN_CODES)
        cells["total"] = sum(cells[c] for c in TOTAL_PART_CODES)
    return table


def _appeals(rng: random.Random, size: str) -> dict[str, dict[str, int]]:
    idle = {"small": 0.8, "medium": 0.45, "large": 0.05}[size]
    typical = {"small": 1, "medium": 4, "large": 60}[size]
    out: dict[str, dict[str, int]] = {}
    for i, proceeding in enumerate(PROCEEDING_CODES):
        cells = dict.fromkeys(APPEAL_OUTCOME_CODES[:4], 0)
        if rng.random() >= idle + 0.1 * i:
            for outcome in APPEAL_OUTCOME_CODES[:4]:
                if rng.random() < 0.6:
                    cells[outcome] = int(typical * rng.uniform(0.0, 2.5)) + (1 if rng.random() < 0.5 else 0)
        cells["total"] = sum(cells.values())
        out[proceeding] = cells
    return out


def draw(rng: random.Random, template: str, *, subtotal: bool) -> Figures:
    size = _pick(rng, SIZES)
    proactive, yuan = _proactive(rng, template, size)
    return Figures(
        template=template,
        size=size,
        proactive=proactive,
        amount_yuan=yuan,
        applications=_applications(rng, template, size, subtotal),
        appeals=_appeals(rng, size),
        has_subtotal=subtotal,
    )


# ------------------------------------------------------------------------------------------------
# Planted breaks
# ------------------------------------------------------------------------------------------------
def _delta(rng: random.Random, value: int) -> int:
    """A non-zero change that keeps the figure >= 0 (a typo, a mis-added total)."""
    span = max(3, value // 10)
    while True:
        d = rng.randint(-span, span)
        if d and value + d >= 0:
            return d


def _alter(fig: Figures, table: str, outer: str, inner: str | None, new: int | float) -> None:
    if table == "proactive":
        old = fig.proactive[outer]
        fig.proactive[outer] = new
    else:
        grid = fig.applications if table == "applications" else fig.appeals
        assert inner is not None
        old = grid[outer][inner]
        grid[outer][inner] = new  # type: ignore[assignment]
    fig.planted.append((table, outer, inner, old, new))


def plant_break(rng: random.Random, fig: Figures, rule: str) -> None:
    """Alter printed figures so that `rule` is broken (other rules may break too: the evaluator says)."""
    apps = fig.applications
    rows = list(apps)
    outcomes = outcome_rows(fig.template)
    fig.break_rule = rule
    part_cols = list(TOTAL_PART_CODES)
    if rule == "balance":
        # carried forward mis-stated in one applicant column and in 总计 alike: only balance breaks
        col = rng.choice(part_cols[:2])
        d = _delta(rng, min(apps["carried_forward"][col], apps["carried_forward"]["total"]))
        for c in (col, "total", *((SUBTOTAL,) if fig.has_subtotal and col in ORG_COLUMN_CODES else ())):
            _alter(fig, "applications", "carried_forward", c, apps["carried_forward"][c] + d)
    elif rule == "outcome_total":
        row = rng.choice(outcomes)
        col = rng.choice(part_cols[:2])
        d = _delta(rng, min(apps[row][col], apps[row]["total"]))
        cols = (col, "total", *((SUBTOTAL,) if fig.has_subtotal and col in ORG_COLUMN_CODES else ()))
        if rng.random() < 0.5:
            for c in cols:
                _alter(fig, "applications", row, c, apps[row][c] + d)
        else:  # the printed （七）总计 itself is wrong (balance then breaks too)
            for c in cols:
                _alter(fig, "applications", "outcome_total", c, apps["outcome_total"][c] + d)
    elif rule == "row_total":
        row = rng.choice(rows)
        if rng.random() < 0.5:
            _alter(fig, "applications", row, "total", apps[row]["total"] + _delta(rng, apps[row]["total"]))
        else:
            col = rng.choice(part_cols)
            _alter(fig, "applications", row, col, apps[row][col] + _delta(rng, apps[row][col]))
    elif rule == "legal_person_subtotal":
        if not fig.has_subtotal:
            raise ValueError("legal_person_subtotal can only break in a report with the subtotal column")
        row = rng.choice(rows)
        _alter(fig, "applications", row, SUBTOTAL, apps[row][SUBTOTAL] + _delta(rng, apps[row][SUBTOTAL]))
    elif rule == "appeal_total":
        proceeding = rng.choice(PROCEEDING_CODES)
        outcome = rng.choice(APPEAL_OUTCOME_CODES)
        cell = fig.appeals[proceeding][outcome]
        _alter(fig, "appeals", proceeding, outcome, cell + _delta(rng, cell))
    elif rule == NON_NEGATIVE:
        keys = [
            k
            for k in fig.proactive
            if k.rsplit("|", 1)[-1] not in SIGNED_METRICS and k.rsplit("|", 1)[-1] not in AMOUNT_METRICS
        ]
        x = rng.random()
        if x < 0.15:  # an amount printed with a minus sign
            key = next(k for k in fig.proactive if k.rsplit("|", 1)[-1] in AMOUNT_METRICS)
            yuan = -(fig.amount_yuan[key] or rng.randint(1, 90) * 100)
            fig.amount_yuan[key] = yuan
            _alter(fig, "proactive", key, None, yuan / 10000)
        elif x < 0.7:
            key = rng.choice(keys)
            _alter(fig, "proactive", key, None, -(int(fig.proactive[key]) or rng.randint(1, 9)))
        else:  # a count printed with a minus sign in table 3 (breaks the sums through it as well)
            row, col = rng.choice(rows), rng.choice(part_cols)
            _alter(fig, "applications", row, col, -(apps[row][col] or rng.randint(1, 9)))
    else:
        raise ValueError(f"unknown rule {rule!r}; one of {', '.join(BREAKABLE_RULES)}")


# ------------------------------------------------------------------------------------------------
# Truth
# ------------------------------------------------------------------------------------------------
def truth_record(fig: Figures, agency: str | None, year: int | None) -> ReportRecord:
    """The figures as a `ReportRecord` (what a perfect parser returns), rules evaluated."""

    def cell(v: int | float) -> Cell:
        return Cell(v, str(v))

    record = ReportRecord(source=Source(path="<synthetic>"), agency=agency, year=year, template=fig.template)
    record.proactive = {k: cell(v) for k, v in fig.proactive.items()}
    record.applications = {r: {c: cell(v) for c, v in cols.items()} for r, cols in fig.applications.items()}
    record.appeals = {p: {o: cell(v) for o, v in outs.items()} for p, outs in fig.appeals.items()}
    record.violations, record.not_evaluable = evaluate(record)
    return record


def leave_blanks(rng: random.Random, fig: Figures) -> None:
    """Leave a few zero cells blank, as some agencies do: the truth is None (NULL), not 0, and the rules
    through them are not evaluable."""
    zeros = [(r, c) for r, cols in fig.applications.items() for c, v in cols.items() if v == 0 and c != "total"]
    for r, c in rng.sample(zeros, min(len(zeros), rng.randint(1, 4))):
        fig.applications[r][c] = None  # type: ignore[assignment]
    # in table 2 only where the row keeps other figures (a row of one blank cell reads as a label alone)
    keys = [k for k, v in fig.proactive.items() if v == 0 and k.split("|")[0] == "20.1"]
    if keys and rng.random() < 0.5:
        fig.proactive[rng.choice(keys)] = None  # type: ignore[assignment]
    fig.has_blanks = True


def truncate(fig: Figures, sections: int) -> None:
    """Drop the tables a truncated report no longer prints (2: tables 3 and 4 gone; 3: table 4 gone)."""
    if sections <= 2:
        fig.applications = {}
    if sections <= 3:
        fig.appeals = {}


def truth_json(fig: Figures, agency: str | None, year: int | None) -> dict[str, Any]:
    """The truth in the shape of `ReportRecord.to_json()` (keys agency … violations)."""
    violations: list[dict[str, Any]] = []
    if fig.planted:
        record = truth_record(fig, agency, year)
        violations = [
            {"rule": v.rule, "location": v.location, "expected": v.expected, "actual": v.actual}
            for v in record.violations
        ]
    return {
        "agency": agency,
        "year": year,
        "template": fig.template,
        "proactive": dict(fig.proactive),
        "applications": {r: dict(cols) for r, cols in fig.applications.items()},
        "appeals": {p: dict(outs) for p, outs in fig.appeals.items()},
        "violations": violations,
    }
