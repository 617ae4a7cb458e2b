"""The layout-independent content of a synthetic report: what every renderer prints.

Labels come from `schemas.codes` (never re-typed), with the printed variations real reports show:
ASCII or full-width brackets, `1.` / `1、` / `1. ` item numbers, 社会组织 for 社会公益组织, the
typo 本年度止件数, local additions such as 现行有效件数（历史累计）.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipelines.synth import cells
from pipelines.synth.figures import SUBTOTAL, Figures
from schemas.codes import (
    AMOUNT_METRICS,
    APPEAL_OUTCOME_CODES,
    APPEAL_OUTCOMES,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    LEGAL_PERSON_SUBTOTAL,
    PROACTIVE_ITEMS,
    PROCEEDING_CODES,
    PROCEEDINGS,
    SIGNED_METRICS,
)

#: the merged header above the five organisation columns, and above the two litigation proceedings
LEGAL_PERSON_HEADER = "法人或其他组织"
APPLICANT_HEADER = "申请人情况"
LITIGATION_HEADER = "行政诉讼"
CONTENT_HEADER = "信息内容"
BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
#: section of table 3 that holds the outcome rows (the group of （一）予以公开 in schemas.codes)
OUTCOME_SECTION = APPLICATION_ROWS["2021"][2].group or ""


@dataclass(slots=True)
class ProactiveBlock:
    """One item of table 2 (第二十条第（x）项): a header and one row per subject."""

    caption: str
    metrics: list[str]
    #: (subject label, printed cells); a local extra row has key None in `keys`
    rows: list[tuple[str, list[str]]]


@dataclass(slots=True)
class ApplicationRow:
    code: str
    #: 三、本年度办理结果 for the outcome rows and （七）总计, else None
    section: str | None
    #: （三）不予公开 etc. for numbered sub-rows, else None
    group: str | None
    label: str
    cells: list[str]


@dataclass(slots=True)
class Document:
    template: str
    agency: str | None
    year: int
    title: list[str]
    #: the title comes after the first heading (一、总体情况) instead of on top
    title_after_heading: bool
    preface: list[str]
    headings: tuple[str, ...]
    narrative: dict[int, list[str]]
    proactive: list[ProactiveBlock]
    #: printed column labels of table 3: 自然人, five organisations, [小计], 总计
    natural_label: str
    org_labels: list[str]
    subtotal_label: str | None
    total_label: str
    applications: list[ApplicationRow]
    proceeding_labels: list[str]
    outcome_labels: list[str]
    #: 15 printed cells: three proceedings x five outcomes
    appeals: list[str]
    style: cells.CellStyle
    #: sections printed: 6, or fewer for a truncated report (2: ends after table 2, 3: after table 3)
    sections: int = 6
    #: free-form flags chosen while building (for reporting)
    flags: list[str] = field(default_factory=list)
    #: some cells are left blank (truth None): delimited layouts must not add empty cells of their own
    has_blanks: bool = False

    @property
    def column_labels(self) -> list[str]:
        return [
            self.natural_label,
            *self.org_labels,
            *([self.subtotal_label] if self.subtotal_label else []),
            self.total_label,
        ]


def _bracket_style(rng: random.Random, pdf_like: bool) -> tuple[str, str]:
    """(bracket style, item-number separator) for the labels of one document.

    ASCII brackets with spaces ("(一) 予以公开", "1. 属于国家秘密") come from Word/HTML tables; PDF
    extractions of the national template print full-width brackets (seeds 000/004, huaian).
    """
    if pdf_like:
        return "full", rng.choice((".", ".", "、"))
    return rng.choice(("full", "full", "ascii", "ascii_space")), rng.choice((".", ".", "、", ". "))


def _vary(label: str, brackets: str, sep: str) -> str:
    if brackets != "full" and label.startswith("（"):
        close = label.index("）")
        head = "(" + label[1:close] + ")" + (" " if brackets == "ascii_space" else "")
        label = head + label[close + 1 :]
    if brackets == "ascii_space":
        label = label.replace("（", " (").replace("）", ")").replace("，", ", ")
    if sep != "." and len(label) > 2 and label[0].isdigit() and label[1] == ".":
        label = label[0] + sep + label[2:]
    return label


def build(
    rng: random.Random,
    fig: Figures,
    *,
    agency: str | None,
    year: int,
    title: list[str],
    title_after_heading: bool,
    preface: list[str],
    narrative: dict[int, list[str]],
    headings: tuple[str, ...],
    pdf_like: bool = False,
    sections: int = 6,
) -> Document:
    style = cells.draw_style(rng)
    brackets, sep = _bracket_style(rng, pdf_like)
    flags: list[str] = []

    # ---- table 2
    blocks: list[ProactiveBlock] = []
    typo = fig.template == "2021" and rng.random() < 0.15
    cumulative = rng.random() < 0.1
    extra_row = fig.template == "2019" and rng.random() < 0.08
    for item in PROACTIVE_ITEMS[fig.template]:
        metrics = []
        for m in item.metrics:
            label = m.label
            if typo and m.code == "repealed":
                label = m.aliases[0]
                flags.append("typo")
            if cumulative and m.code in ("in_force", "total_published"):
                label += "（历史累计）"
                flags.append("local_label")
            if m.code == "amount_10k_yuan" and rng.random() < 0.4:
                label = label.replace("万元）", "万元，保留4位小数）")
            metrics.append(label)
        rows: list[tuple[str, list[str]]] = []
        for s in item.subjects:
            printed = []
            for m in item.metrics:
                key = f"{item.item}|{s.code}|{m.code}"
                if m.code in AMOUNT_METRICS:
                    printed.append(cells.amount(fig.amount_yuan[key], style, rng))
                else:
                    v = fig.proactive[key]
                    printed.append(
                        cells.count(None if v is None else int(v), style, rng, signed=m.code in SIGNED_METRICS)
                    )
            rows.append((s.label, printed))
        if extra_row and item.item == "20.1":
            # a local addition (Hubei 2020): not a national figure, not in the truth
            rows.append(("其他主动公开文件", [str(rng.randint(1, 300)) for _ in item.metrics]))
            flags.append("extra_row")
        caption = item.caption if rng.random() < 0.8 else item.caption.replace("条第", "条 第")
        blocks.append(ProactiveBlock(caption, metrics, rows))

    # ---- table 3
    org_labels = [c.label for c in APPLICANT_COLUMNS[1:6]]
    social = APPLICANT_COLUMNS[3]
    if rng.random() < 0.2:
        org_labels[2] = rng.choice(social.aliases)
        flags.append("social_alias")
    columns = [c.code for c in APPLICANT_COLUMNS[:6]] + ([SUBTOTAL] if fig.has_subtotal else []) + ["total"]
    app_rows: list[ApplicationRow] = []
    for row in APPLICATION_ROWS[fig.template]:
        values = fig.applications[row.code]
        printed = [cells.count(values[c], style, rng) for c in columns]
        if row.category is None and row.group is None:  # 一、二、四、: their own section
            section, group = None, None
        elif row.group == OUTCOME_SECTION:  # （一）（二）（七）, 2019's （六）
            section, group = OUTCOME_SECTION, None
        else:
            section, group = OUTCOME_SECTION, _vary(row.group or "", brackets, sep)
        app_rows.append(ApplicationRow(row.code, section, group, _vary(row.label, brackets, sep), printed))

    # ---- table 4
    appeals = [cells.count(fig.appeals[p][o], style, rng) for p in PROCEEDING_CODES for o in APPEAL_OUTCOME_CODES]
    return Document(
        template=fig.template,
        agency=agency,
        year=year,
        title=title,
        title_after_heading=title_after_heading,
        preface=preface,
        headings=headings,
        narrative=narrative,
        proactive=blocks,
        natural_label=APPLICANT_COLUMNS[0].label,
        org_labels=org_labels,
        subtotal_label=(LEGAL_PERSON_SUBTOTAL.aliases[0] if rng.random() < 0.7 else LEGAL_PERSON_SUBTOTAL.label)
        if fig.has_subtotal
        else None,
        total_label=APPLICANT_COLUMNS[6].label,
        applications=app_rows,
        proceeding_labels=[p.label for p in PROCEEDINGS],
        outcome_labels=[o.label for o in APPEAL_OUTCOMES],
        appeals=appeals,
        style=style,
        sections=sections,
        flags=flags,
        has_blanks=fig.has_blanks,
    )
