"""Known-truth reports in the national table layouts, shared by the HTML and Word format tests.

A layout is a list of tables; a table is a list of rows; a row is a list of `Cell(text, rowspan, colspan)` —
exactly how the national formats merge their label cells. `render_html` and the Word builder in
test_formats_docx.py draw the same layouts, and `expected_rows` is the tab-separated grid a format reader
must produce for them (merged cells: text at the first position, spanned positions empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

from schemas.codes import (
    APPEAL_OUTCOME_CODES,
    APPLICATION_ROWS,
    COLUMN_CODES,
    PROACTIVE_ITEMS,
    PROCEEDINGS,
    TOTAL_PART_CODES,
    outcome_rows,
)


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1


Row = list[Cell]
Table = list[Row]


# --------------------------------------------------------------------------------------------
# Truth: figures that satisfy every rule, with distinct non-zero values (a swapped column shows)
# --------------------------------------------------------------------------------------------
def _applications(template: str, with_total: bool) -> dict[str, dict[str, int | None]]:
    parts = TOTAL_PART_CODES
    table: dict[str, dict[str, int | None]] = {}
    for i, code in enumerate(outcome_rows(template)):
        table[code] = {c: (i * 7 + j * 5 + 3) % 13 * (10 if j == 0 else 1) for j, c in enumerate(parts)}
    outcome_total = {c: sum(table[r][c] or 0 for r in outcome_rows(template)) for c in parts}
    carried_over = {c: (j * 3 + 2) % 5 for j, c in enumerate(parts)}
    carried_forward = {c: (j * 2 + 1) % 4 for j, c in enumerate(parts)}
    new_received = {c: outcome_total[c] + carried_forward[c] - carried_over[c] for c in parts}
    full = {"new_received": new_received, "carried_over": carried_over, **table}
    full["outcome_total"] = outcome_total
    full["carried_forward"] = carried_forward
    out: dict[str, dict[str, int | None]] = {}
    for row in APPLICATION_ROWS[template]:
        values: dict[str, int | None] = dict(full[row.code])
        values["total"] = sum(full[row.code][c] or 0 for c in parts) if with_total else None
        out[row.code] = {c: values[c] for c in COLUMN_CODES}
    return out


def _appeals(seed: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for p, proceeding in enumerate(PROCEEDINGS):
        values = [(seed + p * 4 + k * 3) % 9 for k in range(4)]
        out[proceeding.code] = dict(zip(APPEAL_OUTCOME_CODES, [*values, sum(values)], strict=True))
    return out


TRUTH_2021: dict = {
    "agency": "江宁市滨河区人民政府",
    "year": 2024,
    "template": "2021",
    "proactive": {
        "20.1|regulations|issued": 3,
        "20.1|regulations|repealed": 1,
        "20.1|regulations|in_force": 40,
        "20.1|normative_documents|issued": 12,
        "20.1|normative_documents|repealed": 4,
        "20.1|normative_documents|in_force": 156,
        "20.5|administrative_licensing|decisions": 2048,
        "20.6|administrative_penalty|decisions": 357,
        "20.6|administrative_coercion|decisions": 19,
        "20.8|administrative_fees|amount_10k_yuan": 96.5,
    },
    "applications": _applications("2021", with_total=True),
    "appeals": _appeals(1),
}
#: 2019 format as many pages print it: the 总计 column of table 3 left blank, amounts with their unit
TRUTH_2019: dict = {
    "agency": "滨河区教育局",
    "year": 2020,
    "template": "2019",
    "proactive": {
        "20.1|regulations|produced": 2,
        "20.1|regulations|published": 2,
        "20.1|regulations|total_published": 35,
        "20.1|normative_documents|produced": 9,
        "20.1|normative_documents|published": 8,
        "20.1|normative_documents|total_published": 120,
        "20.5|administrative_licensing|items_last_year": 150,
        "20.5|administrative_licensing|items_change": -3,
        "20.5|administrative_licensing|decisions": 1834,
        "20.5|other_external_services|items_last_year": 40,
        "20.5|other_external_services|items_change": 2,
        "20.5|other_external_services|decisions": 260,
        "20.6|administrative_penalty|items_last_year": 88,
        "20.6|administrative_penalty|items_change": 0,
        "20.6|administrative_penalty|decisions": 512,
        "20.6|administrative_coercion|items_last_year": 12,
        "20.6|administrative_coercion|items_change": 1,
        "20.6|administrative_coercion|decisions": 33,
        "20.8|administrative_fees|items_last_year": 6,
        "20.8|administrative_fees|items_change": -1,
        "20.9|government_procurement|procurement_items": 14,
        "20.9|government_procurement|procurement_amount_10k_yuan": 25.1,
    },
    "applications": _applications("2019", with_total=False),
    "appeals": _appeals(4),
}
#: the same 2019-format report with its 总计 column filled in
TRUTH_2019_FULL: dict = {**TRUTH_2019, "applications": _applications("2019", with_total=True)}
#: how a figure is printed when it is not just the number
RAW_2019 = {"20.9|government_procurement|procurement_amount_10k_yuan": "251000元"}


def _printed(value: int | float | None) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------------------------
# Layouts of the national formats
# --------------------------------------------------------------------------------------------
def table2(truth: dict, raw: dict[str, str] | None = None) -> Table:
    """Table 2 as one table: a caption row per item spanning the full width, then header and subjects."""
    raw = raw or {}
    template = truth["template"]
    rows: Table = []
    for item in PROACTIVE_ITEMS[template]:
        rows.append([Cell(item.caption, colspan=4)])
        metrics = list(item.metrics)
        header = [Cell("信息内容")] + [Cell(m.label) for m in metrics]
        if len(metrics) < 3:  # the last metric spans the rest of the width
            header[-1] = Cell(metrics[-1].label, colspan=4 - len(metrics))
        rows.append(header)
        for subject in item.subjects:
            row = [Cell(subject.label)]
            for k, m in enumerate(metrics):
                key = f"{item.item}|{subject.code}|{m.code}"
                text = raw.get(key, _printed(truth["proactive"][key]))
                span = 4 - len(metrics) if (k == len(metrics) - 1 and len(metrics) < 3) else 1
                row.append(Cell(text, colspan=span))
            rows.append(row)
    return rows


_GROUP_LABELS = ("（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理")


def table3(truth: dict) -> Table:
    """Table 3: three label columns (rowspan'd 三、本年度办理结果 and group cells), seven value columns."""
    template = truth["template"]
    apps = truth["applications"]
    rows: Table = [
        [Cell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3),
         Cell("申请人情况", colspan=7)],
        [Cell("自然人", rowspan=2), Cell("法人或其他组织", colspan=5), Cell("总计", rowspan=2)],
        [Cell("商业企业"), Cell("科研机构"), Cell("社会公益组织"), Cell("法律服务机构"), Cell("其他")],
    ]  # fmt: skip
    codes = APPLICATION_ROWS[template]
    in_block = [r for r in codes if r.group is not None]
    group_sizes: dict[str, int] = {}
    for r in in_block:
        if r.group in _GROUP_LABELS:
            group_sizes[r.group] = group_sizes.get(r.group, 0) + 1
    seen_groups: set[str] = set()
    for r in codes:
        values = [Cell(_printed(apps[r.code][c])) for c in COLUMN_CODES]
        if r.group is None:
            rows.append([Cell(r.label, colspan=3), *values])
            continue
        row: Row = []
        if r is in_block[0]:
            row.append(Cell("三、本年度办理结果", rowspan=len(in_block)))
        if r.group in _GROUP_LABELS:
            if r.group not in seen_groups:
                seen_groups.add(r.group)
                row.append(Cell(r.group, rowspan=group_sizes[r.group]))
            row.append(Cell(r.label))
        else:
            row.append(Cell(r.label, colspan=2))
        rows.append(row + values)
    return rows


def table4(truth: dict) -> Table:
    outcomes = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    return [
        [Cell("行政复议", colspan=5), Cell("行政诉讼", colspan=10)],
        [*(Cell(o, rowspan=2) for o in outcomes), Cell("未经复议直接起诉", colspan=5), Cell("复议后起诉", colspan=5)],
        [Cell(o) for o in outcomes * 2],
        [Cell(_printed(truth["appeals"][p.code][o])) for p in PROCEEDINGS for o in APPEAL_OUTCOME_CODES],
    ]


def report_blocks(truth: dict, raw: dict[str, str] | None = None) -> list[str | Table]:
    """The whole report in reading order: paragraphs (str) and tables."""
    year = truth["year"]
    return [
        f"{truth['agency']}{year}年政府信息公开工作年度报告",
        f"本报告依据《中华人民共和国政府信息公开条例》编制。报告所列统计期限自{year}年1月1日至{year}年12月31日。",
        "一、总体情况",
        f"{year}年，我单位认真贯彻落实政府信息公开各项要求。{year + 1}年，将继续做好相关工作。",
        "二、主动公开政府信息情况",
        table2(truth, raw),
        "三、收到和处理政府信息公开申请情况",
        table3(truth),
        "四、政府信息公开行政复议、行政诉讼情况",
        table4(truth),
        "五、存在的主要问题及改进情况",
        "公开内容的及时性还需提高。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]


def placements(table: Table) -> Iterator[tuple[int, int, Cell]]:
    """Each cell with the grid position (row, column) its rowspan/colspan neighbours leave it."""
    occupied: set[tuple[int, int]] = set()
    for r, row in enumerate(table):
        c = 0
        for cell in row:
            while (r, c) in occupied:
                c += 1
            occupied.update((r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
            yield r, c, cell
            c += cell.colspan


def expand(table: Table) -> list[list[str]]:
    """The full-width grid of a table: a merged cell's text at its first position, the rest empty."""
    grid = {(r, c): cell for r, c, cell in placements(table)}
    width = max(c + cell.colspan for (_, c), cell in grid.items())
    return [[grid[(r, c)].text if (r, c) in grid else "" for c in range(width)] for r in range(len(table))]


def expected_rows(table: Table) -> list[str]:
    """Lines a reader must emit for the table (trailing blanks are stripped by normalize.lines)."""
    return ["\t".join(row).rstrip("\t") for row in expand(table)]


def render_table_html(table: Table, attrs: str = 'border="1" cellspacing="0"') -> str:
    out = [f"<table {attrs}>", "<tbody>"]
    for row in table:
        out.append("<tr>")
        for cell in row:
            span = (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "") + (
                f' colspan="{cell.colspan}"' if cell.colspan > 1 else ""
            )
            text = escape(cell.text) if cell.text else "&nbsp;"
            out.append(f'<td{span} style="text-align:center"><p><span>{text}</span></p></td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def test_truths_satisfy_every_rule() -> None:
    """The fixtures' figures are internally consistent, so a parse that reads them right gets no violation."""
    for truth in (TRUTH_2021, TRUTH_2019, TRUTH_2019_FULL):
        apps = truth["applications"]
        rows = outcome_rows(truth["template"])
        for c in TOTAL_PART_CODES:
            assert (
                apps["new_received"][c] + apps["carried_over"][c]
                == apps["outcome_total"][c] + apps["carried_forward"][c]
            )
            assert apps["outcome_total"][c] == sum(apps[r][c] for r in rows)
        for p in truth["appeals"].values():
            assert p["total"] == p["upheld"] + p["corrected"] + p["other"] + p["pending"]
    assert all(row["total"] is None for row in TRUTH_2019["applications"].values())
    assert all(row["total"] == sum(row[c] for c in TOTAL_PART_CODES) for row in TRUTH_2021["applications"].values())


def test_expand_leaves_spanned_positions_empty() -> None:
    grid = expand(table3(TRUTH_2021))
    assert grid[0][:4] == ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况"]
    assert all(len(row) == 10 for row in grid)
    granted = next(row for row in grid if row[1] == "（一）予以公开")
    assert granted[0] == "三、本年度办理结果" and granted[2] == ""
