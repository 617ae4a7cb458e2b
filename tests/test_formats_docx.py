"""Word reader: .docx reports built here with python-docx (merged cells as Word writes them: gridSpan and
vMerge), in both national formats — every figure asserted through the whole parse."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from test_formats_layouts import (
    TRUTH_2019_FULL,
    TRUTH_2021,
    Table,
    expand,
    expected_rows,
    placements,
    report_blocks,
)

from pipelines.parsing import parse_bytes
from pipelines.parsing.formats import UnreadableDocument, docx
from pipelines.parsing.normalize import lines as split_lines
from pipelines.parsing.normalize import normalize
from schemas.codes import APPLICATION_ROWS, proactive_keys


def _add_table(document: Document, table: Table) -> None:
    grid = expand(table)
    word = document.add_table(rows=len(grid), cols=len(grid[0]))
    word.style = "Table Grid"
    for r, c, cell in placements(table):
        target = word.cell(r, c)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(word.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        target.text = cell.text


_BUILT: dict[tuple[str, int, str], bytes] = {}


def build_docx(truth: dict, core_title: str = "") -> bytes:
    """The report as a .docx (built once per truth and title: python-docx merges are slow)."""
    key = (truth["template"], truth["year"], core_title)
    if key not in _BUILT:
        if core_title:
            document = Document(io.BytesIO(build_docx(truth)))
            document.core_properties.title = core_title
            buffer = io.BytesIO()
            document.save(buffer)
            _BUILT[key] = buffer.getvalue()
        else:
            _BUILT[key] = _build_docx(truth)
    return _BUILT[key]


def _build_docx(truth: dict) -> bytes:
    document = Document()
    for i, block in enumerate(report_blocks(truth)):
        if isinstance(block, str):
            if i == 0:
                document.add_heading(block, level=1)
            else:
                document.add_paragraph(block)
        else:
            _add_table(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("truth", [TRUTH_2021, TRUTH_2019_FULL], ids=["2021", "2019"])
def test_tables_are_grids_with_merged_cells_once(truth: dict) -> None:
    extracted = docx.extract(build_docx(truth))
    lines = split_lines(normalize(extracted.text))
    for table in report_blocks(truth):
        if isinstance(table, str):
            assert normalize(table) in lines  # paragraphs are lines
            continue
        block = split_lines(normalize("\n".join(expected_rows(table))))
        start = lines.index(block[0])
        assert lines[start : start + len(block)] == block


@pytest.mark.parametrize("truth", [TRUTH_2021, TRUTH_2019_FULL], ids=["2021", "2019"])
def test_docx_report_gives_every_figure(truth: dict) -> None:
    record = parse_bytes(build_docx(truth), "report.docx")
    got = record.to_json()
    template = truth["template"]
    assert record.source.format == "docx"
    assert (got["agency"], got["year"], got["template"]) == (truth["agency"], truth["year"], template)
    assert set(got["proactive"]) == set(proactive_keys(template))
    for key, value in truth["proactive"].items():
        assert got["proactive"][key] == value, key
    assert list(got["applications"]) == [r.code for r in APPLICATION_ROWS[template]]
    assert got["applications"] == truth["applications"]
    assert got["appeals"] == truth["appeals"]
    assert got["violations"] == []
    assert record.status == "ok", record.problems


def test_core_title_is_used_only_when_it_names_agency_and_year() -> None:
    assert docx.extract(build_docx(TRUTH_2021, "甲县人民政府2021年政府信息公开工作年度报告")).title == (
        "甲县人民政府2021年政府信息公开工作年度报告"
    )
    assert docx.extract(build_docx(TRUTH_2021, "Microsoft Word - 年报.docx")).title is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 not really a zip", "corrupt Word file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Word 97-2003 (.doc) file"),
        (b"", "corrupt Word file"),
    ],
    ids=["truncated-zip", "legacy-doc", "empty"],
)
def test_unreadable_word_files_fail_with_a_reason(data: bytes, reason: str) -> None:
    _assert_unreadable(data, reason)


def _assert_unreadable(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument, match=reason.replace("(", r"\(").replace(")", r"\)")):
        docx.extract(data)
    record = parse_bytes(data, "broken.docx")  # parse.py may recognise the bytes first; either way: failed
    assert record.status == "failed" and record.problems


def test_damaged_deflate_data_fails_with_a_reason() -> None:
    """A download cut or garbled inside the compressed document part (zlib errors, bad CRC)."""
    data = bytearray(build_docx(TRUTH_2021))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 100, start + info.compress_size - 100, 97):
        data[k] ^= 0x5A
    _assert_unreadable(bytes(data), "corrupt Word file")


def test_grid_before_after_and_vertical_merge_keep_columns() -> None:
    """A row that starts one grid column in (w:gridBefore) or stops short (w:gridAfter) stays aligned; a
    vertically merged cell has its text once."""
    document = Document()
    table = document.add_table(rows=3, cols=4)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(1, 0)).text = "合并"
    short = table.rows[2]._tr
    short.remove(short.tc_lst[0])  # the row's first grid column is skipped …
    short.remove(short.tc_lst[-1])  # … and so is its last
    tr_pr = short.get_or_add_trPr()
    for tag in ("w:gridBefore", "w:gridAfter"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), "1")
        tr_pr.append(el)
    assert docx.table_grid(table._tbl) == [
        ["合并", "01", "02", "03"],
        ["", "11", "12", "13"],
        ["", "21", "22", ""],
    ]
