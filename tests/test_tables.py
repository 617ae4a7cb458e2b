"""Unit tests of the table parser: layouts, cell reading, and choices made by the rules."""

from __future__ import annotations

import pytest

from pipelines.parsing import parse_bytes
from pipelines.parsing.normalize import lines as split_lines
from pipelines.parsing.normalize import normalize
from pipelines.parsing.rules import count_breaches
from pipelines.parsing.table_cells import read_cell
from pipelines.parsing.tables import extract_tables
from schemas.codes import APPLICATION_ROWS, COLUMN_CODES, PROACTIVE_ITEMS, proactive_keys

TEMPLATE = "2021"
ROWS = APPLICATION_ROWS[TEMPLATE]
CODES = [r.code for r in ROWS]


def consistent_figures() -> dict[str, list[int]]:
    """Table-3 figures (7 columns per row) under which every rule holds; distinct enough that a wrong
    reading (column- for row-major, a shifted cell) breaks the rules."""
    table = {code: [0] * 7 for code in CODES}
    table["new_received"] = [50, 7, 1, 2, 3, 4, 67]
    table["carried_over"] = [5, 1, 0, 0, 0, 0, 6]
    table["granted"] = [30, 4, 1, 0, 2, 1, 38]
    table["partially_granted"] = [6, 1, 0, 1, 0, 0, 8]
    table["unable_not_held"] = [11, 2, 0, 1, 1, 2, 17]
    table["not_processed_duplicate"] = [3, 0, 0, 0, 0, 1, 4]
    table["outcome_total"] = [50, 7, 1, 2, 3, 4, 67]
    table["carried_forward"] = [5, 1, 0, 0, 0, 0, 6]
    return table


def lines_of(text: str) -> list[str]:
    return split_lines(normalize(text))


def table2_tsv() -> list[str]:
    out = ["二、主动公开政府信息情况"]
    n = 0
    for item in PROACTIVE_ITEMS[TEMPLATE]:
        out.append(f"{item.caption}\t\t\t")
        out.append("\t".join(["信息内容", *(m.label for m in item.metrics)]))
        for s in item.subjects:
            cells = []
            for _ in item.metrics:
                n += 1
                cells.append(str(n))
            out.append("\t".join([s.label, *cells]))
    return out


def table4(values: list[str] | None = None) -> list[str]:
    values = values or ["3", "1", "1", "0", "5", "2", "0", "0", "1", "3", "1", "0", "0", "0", "1"]
    return [
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议\t\t\t\t\t行政诉讼",
        "结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t未经复议直接起诉\t\t\t\t\t复议后起诉",
        "\t".join(values),
        "五、存在的主要问题及改进情况",
    ]


def table3_tsv(figs: dict[str, list[int]], cell=str) -> list[str]:
    out = [
        "三、收到和处理政府信息公开申请情况",
        "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)\t\t申请人情况\t\t\t\t\t\t总计",
        "\t\t自然人\t法人或其他组织",
        "\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他",
    ]
    for r in ROWS:
        label_cells = [r.group or "", r.label] if r.group else [r.label, ""]
        out.append("\t".join([*label_cells, *(cell(v) for v in figs[r.code])]))
    return out


def report(*tables: list[str]) -> list[str]:
    return lines_of("\n".join(["某县民政局2021年政府信息公开工作年度报告", *(x for t in tables for x in t)]))


def as_values(table: dict) -> dict[str, list]:
    return {code: [cells[c].value for c in COLUMN_CODES] for code, cells in table.items()}


# ---------------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "amount", "value"),
    [
        ("", False, None),
        ("-", False, 0),
        ("—", False, 0),
        ("/", False, 0),
        ("无", False, 0),
        ("1,234", False, 1234),
        ("+3", False, 3),
        ("-3", False, -3),
        ("26", False, 26),
        ("251000元", True, 25.1),
        ("103.3879万元", True, 103.3879),
        ("1,234,567元", True, 123.4567),
        ("0.0000", True, 0.0),
        ("96171.6", True, 96171.6),
    ],
)
def test_read_cell(raw: str, amount: bool, value: float | None) -> None:
    cell = read_cell(raw, amount=amount)
    assert cell.value == value
    assert cell.raw == raw
    if value is not None:
        assert isinstance(cell.value, float if amount else int)


def test_full_width_cells_after_normalization() -> None:
    (line,) = lines_of("２６")
    assert read_cell(line).value == 26


def test_text_where_a_figure_belongs_is_not_a_figure() -> None:
    assert read_cell("见附件").value is None


# ---------------------------------------------------------------------------------------------------
# Tab-separated grids
# ---------------------------------------------------------------------------------------------------
def test_tsv_report_reads_every_figure() -> None:
    figs = consistent_figures()
    found = extract_tables(report(table2_tsv(), table3_tsv(figs), table4()), TEMPLATE)
    assert as_values(found.applications) == figs
    assert [k for k in found.proactive] == list(proactive_keys(TEMPLATE))
    assert [c.value for c in found.proactive.values()] == [*range(1, 10), 10.0]
    assert found.appeals["litigation_direct"]["total"].value == 3
    assert found.problems == []


def test_blank_cell_is_none_and_zero_marks_are_zero() -> None:
    figs = consistent_figures()
    lines = table3_tsv(figs)
    i = next(i for i, line in enumerate(lines) if "予以公开" in line)
    cells = lines[i].split("\t")
    cells[3] = ""  # 商业企业 blank
    cells[4] = "—"  # 科研机构 printed as a dash (value 1 in the figures: a printed breach)
    lines[i] = "\t".join(cells)
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    granted = found.applications["granted"]
    assert granted["commercial_enterprise"].value is None
    assert granted["commercial_enterprise"].raw == ""
    assert granted["research_institution"].value == 0
    assert granted["research_institution"].raw == "—"
    assert granted["total"].value == 38


def test_shifted_row_and_drifting_label() -> None:
    figs = consistent_figures()
    lines = table3_tsv(figs)
    i = next(i for i, line in enumerate(lines) if "重复申请" in line)
    lines[i] = "2.重复申请\t\t\t\t" + "\t".join(map(str, figs["not_processed_duplicate"]))  # label left, 3 extra cells
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    assert as_values(found.applications) == figs


def test_extra_trailing_cell_is_ignored_and_noted() -> None:
    figs = consistent_figures()
    lines = [line + "\t0" if any(r.label in line for r in ROWS) else line for line in table3_tsv(figs)]
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    assert as_values(found.applications) == figs
    assert any("one cell more than the header" in p for p in found.problems)


def test_subtotal_column_is_kept_when_the_header_prints_it() -> None:
    figs = consistent_figures()
    lines = table3_tsv(figs, cell=str)
    lines[3] = lines[3] + "\t小计"
    for i, line in enumerate(lines):
        for r in ROWS:
            if line.endswith("\t".join(map(str, figs[r.code]))) and r.label in line:
                v = figs[r.code]
                lines[i] = "\t".join([*line.split("\t")[:-1], str(sum(v[1:6])), str(v[6])])
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    assert found.applications["new_received"]["legal_person_subtotal"].value == 17
    assert found.applications["new_received"]["total"].value == 67
    assert count_breaches(found.applications, TEMPLATE) == 0


def test_planted_breach_is_reported_not_fixed() -> None:
    figs = consistent_figures()
    figs["granted"] = [*figs["granted"][:6], 39]  # 总计 printed one too many
    text = "\n".join(["某县民政局2021年政府信息公开工作年度报告", *table2_tsv(), *table3_tsv(figs), *table4()])
    record = parse_bytes(text.encode("utf-8"), "breach.txt")
    assert record.applications["granted"]["total"].value == 39
    assert record.status == "invalid"
    assert {(v.rule, v.location) for v in record.violations} >= {("row_total", "row=granted")}


# ---------------------------------------------------------------------------------------------------
# PDF text
# ---------------------------------------------------------------------------------------------------
def pdf_table3(figs: dict[str, list[int]]) -> list[str]:
    out = ["三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "法人或其他组织", "总计"]
    out.append("商业企业 科研机构 社会公益组织 法律服务机构 其他")
    seen_groups: set[str] = set()
    for i, r in enumerate(ROWS):
        if r.group and r.group not in seen_groups:
            seen_groups.add(r.group)
            out += list(r.group) if r.group.startswith("三、") else [r.group[:4], r.group[4:]]
        numbers = " ".join(map(str, figs[r.code]))
        if len(r.label) > 20:  # wrapped label, its figures on the line after its first half
            out += [r.label[:14], numbers, r.label[14:]]
        else:
            out.append(f"{r.label} {numbers}")
        if i == 10:
            out.append("- 4 -")  # page number inside the table
    return out


def test_pdf_text_wrapped_labels_vertical_heading_and_page_number() -> None:
    figs = consistent_figures()
    found = extract_tables(report(table2_tsv(), pdf_table3(figs), table4()), TEMPLATE)
    assert as_values(found.applications) == figs


def test_numbering_inside_a_label_is_never_a_value() -> None:
    figs = consistent_figures()
    lines = [line.replace("1.属于国家秘密", "1 属于国家秘密") for line in pdf_table3(figs)]
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    assert as_values(found.applications) == figs


def test_one_cell_per_line_with_lone_zero_marks() -> None:
    figs = consistent_figures()
    out = ["三、收到和处理政府信息公开申请情况", "申请人情况", "自然人", "总计"]
    for r in ROWS:
        out.append(r.label)
        out += ["无" if v == 0 else str(v) for v in figs[r.code]]
    found = extract_tables(report(table2_tsv(), out, table4()), TEMPLATE)
    assert as_values(found.applications) == figs


def test_vertical_label_character_is_not_a_zero() -> None:
    figs = consistent_figures()
    out = ["三、收到和处理政府信息公开申请情况"]
    for r in ROWS:
        if r.code == "unable_not_held":
            out += ["(四)", "无", "法", "提", "供"]
        out.append(r.label + " " + " ".join(map(str, figs[r.code])))
    found = extract_tables(report(table2_tsv(), out, table4()), TEMPLATE)
    assert as_values(found.applications) == figs
    assert found.problems == []


def test_typo_in_a_label_is_tolerated() -> None:
    figs = consistent_figures()
    lines = [line.replace("本机关不掌握相关政府信息", "本机关不掌捂相关政府信息") for line in table3_tsv(figs)]
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    assert as_values(found.applications) == figs


# ---------------------------------------------------------------------------------------------------
# Column by column (pdfminer): the rules choose the reading
# ---------------------------------------------------------------------------------------------------
def labels_then_numbers(figs: dict[str, list[int]], column_major: bool) -> list[str]:
    out = ["三、收到和处理政府信息公开申请情况", "申请人情况"]
    halves = (CODES[:13], CODES[13:])  # two page blocks, as in huaian_2024.pdfminer.txt
    for block in halves:
        out += [r.label for r in ROWS if r.code in block]
        out += ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
        if column_major:
            out += [str(figs[code][c]) for c in range(7) for code in block]
        else:
            out += [str(figs[code][c]) for code in block for c in range(7)]
    return out


@pytest.mark.parametrize("column_major", [True, False])
def test_labels_first_reading_is_chosen_by_the_rules(column_major: bool) -> None:
    figs = consistent_figures()
    found = extract_tables(report(table2_tsv(), labels_then_numbers(figs, column_major), table4()), TEMPLATE)
    assert as_values(found.applications) == figs
    assert count_breaches(found.applications, TEMPLATE) == 0


def test_column_major_table2_per_item() -> None:
    out = ["二、主动公开政府信息情况", "第二十条第(一)项", "信息内容", "规章", "行政规范性文件"]
    out += ["本年制发件数", "本年废止件数", "现行有效件数", "1", "8", "0", "26", "11", "66"]
    found = extract_tables(report(out, table3_tsv(consistent_figures()), table4()), TEMPLATE)
    got = {k: c.value for k, c in found.proactive.items() if k.startswith("20.1")}
    assert got == {
        "20.1|regulations|issued": 1,
        "20.1|regulations|repealed": 0,
        "20.1|regulations|in_force": 11,
        "20.1|normative_documents|issued": 8,
        "20.1|normative_documents|repealed": 26,
        "20.1|normative_documents|in_force": 66,
    }


# ---------------------------------------------------------------------------------------------------
# Markdown, table 4, missing tables
# ---------------------------------------------------------------------------------------------------
def test_markdown_one_table_per_group_with_invented_headers() -> None:
    figs = consistent_figures()
    out = ["## 三、收到和处理政府信息公开申请情况", ""]
    group = None
    for r in ROWS:
        if r.group != group or group is None:
            group = r.group
            out += ["", "| 数据1 | 数据2 | 数据3 | 数据4 | 数据5 | 数据6 |", "|---|---|---|---|---|---|"]
        out.append("| " + " | ".join([r.label, "", *map(str, figs[r.code])]) + " |")
    found = extract_tables(report(table2_tsv(), out, table4()), TEMPLATE)
    assert as_values(found.applications) == figs


def test_table4_column_major_is_recognised_by_its_totals() -> None:
    row_major = ["3", "1", "1", "0", "5", "2", "0", "0", "1", "3", "1", "0", "0", "0", "1"]
    column_major = [row_major[i * 5 + j] for j in range(5) for i in range(3)]
    found = extract_tables(report(table2_tsv(), table3_tsv(consistent_figures()), table4(column_major)), TEMPLATE)
    assert [c.value for c in found.appeals["admin_review"].values()] == [3, 1, 1, 0, 5]
    assert any("column by column" in p for p in found.problems)


def test_missing_table_is_empty_with_a_problem() -> None:
    found = extract_tables(report(table2_tsv()), TEMPLATE)
    assert found.proactive
    assert found.applications == {}
    assert found.appeals == {}
    assert any("table 3" in p for p in found.problems)
    assert any("table 4" in p for p in found.problems)


def test_truncated_table3_keeps_the_rows_found() -> None:
    figs = consistent_figures()
    lines = table3_tsv(figs)[:12]
    found = extract_tables(report(table2_tsv(), lines), TEMPLATE)
    assert list(found.applications) == CODES[:8]
    assert as_values(found.applications) == {c: figs[c] for c in CODES[:8]}


def test_text_in_a_figure_cell_is_blank_and_reported() -> None:
    figs = consistent_figures()
    lines = table3_tsv(figs)
    i = next(i for i, line in enumerate(lines) if "属于国家秘密" in line)
    lines[i] = lines[i].rsplit("\t", 7)[0] + "\t0\t见附件\t0\t0\t0\t0\t0"
    found = extract_tables(report(table2_tsv(), lines, table4()), TEMPLATE)
    secret = found.applications["withheld_state_secret"]
    assert secret["commercial_enterprise"].value is None
    assert secret["commercial_enterprise"].raw == "见附件"
    assert secret["total"].value == 0
    assert any("见附件" in p for p in found.problems)


def test_markdown_blank_last_cell_stays_in_its_column() -> None:
    figs = consistent_figures()
    out = [
        "## 三、收到和处理政府信息公开申请情况",
        "| 项目 | | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |",
    ]
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in ROWS:
        cells = [str(v) for v in figs[r.code]]
        if r.code == "granted":
            cells[-1] = " "  # 总计 left blank
        out.append("| " + " | ".join([r.label, "", *cells]) + " |")
    found = extract_tables(report(table2_tsv(), out, table4()), TEMPLATE)
    granted = found.applications["granted"]
    assert granted["total"].value is None
    assert [granted[c].value for c in COLUMN_CODES[:6]] == figs["granted"][:6]


def test_fixed_width_blank_cell_is_placed_by_its_column() -> None:
    """pdftotext -layout of a real report with one figure erased: the blank lands in its column."""
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "real" / "huaian_2024.pdftotext-layout.txt"
    lines = lines_of(path.read_text(encoding="utf-8"))
    for blank_column in (0, 3, 6):
        changed = list(lines)
        i = next(i for i, line in enumerate(changed) if "本年新收" in line)
        tokens = changed[i].split()
        figure = tokens[-7 + blank_column]
        start = changed[i].rindex(" " + figure + (" " if blank_column < 6 else "")) + 1
        changed[i] = changed[i][:start] + " " * len(figure) + changed[i][start + len(figure) :]
        found = extract_tables(changed, TEMPLATE)
        row = found.applications["new_received"]
        expected = [3001, 53, 0, 0, 61, 4, 3119]
        expected[blank_column] = None
        assert [row[c].value for c in COLUMN_CODES] == expected
        assert any("placed by position" in p for p in found.problems)


def test_2019_format_signed_changes_amounts_and_other_processing() -> None:
    t2 = [
        "二、主动公开政府信息情况",
        "第二十条第(一)项",
        "信息内容 本年新制作数量 本年新公开数量 对外公开总数量",
        "规章 0 0 3",
        "规范性文件 2 2 1,234",
        "第二十条第(五)项",
        "信息内容 上一年项目数量 本年增/减 处理决定数量",
        "行政许可 12 -3 410",
        "其他对外管理服务事项 4 +2 —",
        "第二十条第(六)项",
        "信息内容 上一年项目数量 本年增/减 处理决定数量",
        "行政处罚 5 0 77",
        "行政强制 1 - 0",
        "第二十条第(八)项",
        "信息内容 上一年项目数量 本年增/减",
        "行政事业性收费 3 -1",
        "第二十条第(九)项",
        "信息内容 采购项目数量 采购总金额",
        "政府集中采购 6 251000元",
    ]
    rows = APPLICATION_ROWS["2019"]
    t3 = ["三、收到和处理政府信息公开申请情况"]
    for r in rows:
        figures = [1, 0, 0, 0, 0, 0, 1] if r.code in ("new_received", "other_processing", "outcome_total") else [0] * 7
        t3.append(r.label + " " + " ".join(map(str, figures)))
    found = extract_tables(report(t2, t3, table4()), "2019")
    got = {k: c.value for k, c in found.proactive.items()}
    assert list(got) == list(proactive_keys("2019"))
    assert got["20.1|normative_documents|total_published"] == 1234
    assert got["20.5|administrative_licensing|items_change"] == -3
    assert got["20.5|other_external_services|items_change"] == 2
    assert got["20.5|other_external_services|decisions"] == 0
    assert got["20.8|administrative_fees|items_change"] == -1
    assert got["20.9|government_procurement|procurement_amount_10k_yuan"] == 25.1
    assert list(found.applications) == [r.code for r in rows]
    assert found.applications["other_processing"]["total"].value == 1
    assert count_breaches(found.applications, "2019") == 0


def test_grid_row_with_blank_total_is_read_at_the_header_positions() -> None:
    """An HTML table keeps its cells in place: a blank 总计 at the end of a row (the trailing tab lost to
    line stripping) must not be read as a row shifted by its label padding."""
    figs = consistent_figures()
    out = [
        "三、收到和处理政府信息公开申请情况",
        "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)\t\t\t申请人情况",
        "\t\t\t自然人\t法人或其他组织\t\t\t\t\t总计",
        "\t\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他",
    ]
    for r in ROWS:
        label_cells = [r.label, "", ""] if r.group is None else ["", r.group, r.label]
        out.append("\t".join([*label_cells, *map(str, figs[r.code][:6]), ""]).rstrip("\t"))
    found = extract_tables(report(table2_tsv(), out, table4()), TEMPLATE)
    assert as_values(found.applications) == {code: [*v[:6], None] for code, v in figs.items()}
