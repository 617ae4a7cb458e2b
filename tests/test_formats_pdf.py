"""PDF reader: the real Huai'an report read exactly from its PDF; scans and damaged files fail with a reason."""

from __future__ import annotations

import ctypes
import io
import json
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageDraw

from pipelines.parsing import parse_bytes, parse_file
from pipelines.parsing.formats import UnreadableDocument, pdf
from pipelines.parsing.normalize import lines as split_lines
from pipelines.parsing.normalize import normalize

REAL = Path(__file__).parent / "fixtures" / "real"
HUAIAN = REAL / "huaian_2024.pdf"


@pytest.fixture(scope="module")
def huaian_lines() -> list[str]:
    return split_lines(normalize(pdf.extract(HUAIAN.read_bytes()).text))


def test_huaian_pdf_gives_exactly_the_expected_figures() -> None:
    expected = json.loads((REAL / "huaian_2024.expected.json").read_text(encoding="utf-8"))
    record = parse_file(HUAIAN)
    got = record.to_json()
    assert record.source.format == "pdf"
    for key in ("agency", "year", "template", "proactive", "applications", "appeals", "violations"):
        assert got[key] == expected[key], key
    assert record.status == "ok" and not record.problems


def test_huaian_table_rows_are_tab_separated_lines(huaian_lines: list[str]) -> None:
    # a label wrapped over two lines in its cell stays in its row; the merged group cells sit once
    for row in (
        "规章\t1\t0\t11",
        "行政规范性文件\t8\t26\t66",
        "行政许可\t447228",
        "行政事业性收费\t96171.6",
        "一、本年新收政府信息公开申请数量\t\t\t3001\t53\t0\t0\t61\t4\t3119",
        "三、本年度办理结果\t(一)予以公开\t\t1288\t21\t0\t0\t50\t3\t1362",
        "\t(二)部分公开(区分处理的,只计这一情形,不计其他情形)\t\t447\t7\t0\t0\t0\t0\t454",
        "\t(三)不予公开\t1.属于国家秘密\t2\t0\t0\t0\t0\t0\t2",
        "\t\t8.属于行政查询事项\t105\t0\t0\t0\t0\t0\t105",
        "\t\t5.要求行政机关确认或重新出具已获取信息\t1\t0\t0\t0\t0\t0\t1",
        "\t(六)其他处理\t1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请\t67\t3\t0\t0\t1\t0\t71",
        "\t(七)总计\t\t2932\t53\t0\t0\t61\t4\t3050",
        "四、结转下年度继续办理\t\t\t103\t0\t0\t0\t0\t0\t103",
        "72\t64\t178\t37\t351\t13\t4\t8\t1\t26\t12\t1\t1\t6\t20",
    ):
        assert row in huaian_lines, row


def test_title_is_the_largest_type_on_the_first_page() -> None:
    assert pdf.extract(HUAIAN.read_bytes()).title == "淮安市人民政府2024 年政府信息公开工作年度报告"
    # a first page whose largest type names no agency and year gives no title (the lines decide)
    heading_only = _text_pdf([(200, 100, "Annual Report"), (72, 140, "x" * 60)])
    assert pdf.extract(heading_only).title is None


def test_huaian_page_furniture_dropped_and_paragraphs_joined(huaian_lines: list[str]) -> None:
    assert not any(line.replace(" ", "") in {f"-{n}-" for n in range(1, 7)} for line in huaian_lines)
    assert huaian_lines[:2] == ["淮安市人民政府", "2024 年政府信息公开工作年度报告"]
    period = next(line for line in huaian_lines if "统计期限" in line)
    assert "统计期限自 2024 年 1 月 1 日至 2024 年 12 月 31 日" in period
    assert period.startswith("本报告由") and period.endswith("hazwgkc@163.com)。")  # one paragraph, one line


def _without_rules(data: bytes) -> bytes:
    """The same report with every drawn line and box removed: its tables become borderless."""
    doc = pdfium.PdfDocument(data)
    for i in range(len(doc)):
        page = doc[i]
        for obj in list(page.get_objects(max_depth=0)):
            if obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
                page.remove_obj(obj)
        page.gen_content()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _drawn_sideways(data: bytes, rotation: int) -> bytes:
    """The same report drawn rotated in PDF space, with /Rotate turning it upright on screen."""
    doc = pdfium.PdfDocument(data)
    for i in range(len(doc)):
        page = doc[i]
        w, h = page.get_width(), page.get_height()
        matrix = {90: (0, 1, -1, 0, h, 0), 180: (-1, 0, 0, -1, w, h), 270: (0, -1, 1, 0, 0, w)}[rotation]
        for obj in list(page.get_objects(max_depth=0)):
            obj.transform(pdfium.PdfMatrix(*matrix))
        if rotation in (90, 270):
            page.set_mediabox(0, 0, h, w)
            page.set_cropbox(0, 0, h, w)
        page.set_rotation(rotation)
        page.gen_content()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _overprinted(data: bytes, dx: float = 0.4) -> bytes:
    """Every page drawn a second time 0.4 pt to the right: "bold" as some CJK PDF producers make it."""
    source = pdfium.PdfDocument(data)
    doc = pdfium.PdfDocument(data)
    for i in range(len(doc)):
        xobject = pdfium_c.FPDF_NewXObjectFromPage(doc.raw, source.raw, i)
        form = pdfium_c.FPDF_NewFormObjectFromXObject(xobject)
        pdfium_c.FPDFPageObj_Transform(form, 1, 0, 0, 1, dx, 0)
        page = doc[i]
        pdfium_c.FPDFPage_InsertObject(page.raw, form)
        page.gen_content()
        pdfium_c.FPDF_CloseXObject(xobject)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "variant",
    ["borderless", "rotate90", "rotate180", "rotate270", "overprinted"],
)
def test_huaian_variants_give_the_same_figures(variant: str) -> None:
    data = HUAIAN.read_bytes()
    if variant == "borderless":
        data = _without_rules(data)
    elif variant == "overprinted":
        single = pdfium.PdfDocument(data)[0].get_textpage().count_chars()
        data = _overprinted(data)
        assert pdfium.PdfDocument(data)[0].get_textpage().count_chars() >= 1.9 * single  # doubled for real
    else:
        data = _drawn_sideways(data, int(variant[6:]))
    expected = json.loads((REAL / "huaian_2024.expected.json").read_text(encoding="utf-8"))
    got = parse_bytes(data, f"huaian_{variant}.pdf").to_json()
    for key in ("agency", "year", "template", "proactive", "applications", "appeals", "violations"):
        assert got[key] == expected[key], key
    if variant != "borderless":  # upright again: the ruled tables are rebuilt as grids
        lines = split_lines(normalize(pdf.extract(data).text))
        assert "一、本年新收政府信息公开申请数量\t\t\t3001\t53\t0\t0\t61\t4\t3119" in lines


def _with_running_header_and_footer(data: bytes) -> bytes:
    """Every page gets the same header line at the top and an `i/n` page number at the bottom."""
    doc = pdfium.PdfDocument(data)
    n = len(doc)
    for i in range(n):
        page = doc[i]
        w, h = page.get_width(), page.get_height()
        for text, x, y in ((RUNNING_HEADER, 72, h - 40), (f"{i + 1}/{n}", w / 2, 30)):
            obj = pdfium_c.FPDFPageObj_NewTextObj(doc.raw, b"Helvetica", ctypes.c_float(9))
            buffer = ctypes.create_string_buffer(text.encode("utf-16-le") + b"\0\0")
            pdfium_c.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
            pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
            pdfium_c.FPDFPage_InsertObject(page.raw, obj)
        page.gen_content()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


RUNNING_HEADER = "Huai'an Government Information Disclosure Annual Report"


def test_running_header_and_page_numbers_are_dropped() -> None:
    data = _with_running_header_and_footer(HUAIAN.read_bytes())
    raw_text = pdfium.PdfDocument(data)[2].get_textpage().get_text_range()
    assert RUNNING_HEADER in raw_text and "3/6" in raw_text  # the furniture is really on the page
    text = pdf.extract(data).text
    assert RUNNING_HEADER not in text and "/6" not in text
    expected = json.loads((REAL / "huaian_2024.expected.json").read_text(encoding="utf-8"))
    got = parse_bytes(data, "huaian_furniture.pdf").to_json()
    assert (got["agency"], got["year"], got["applications"]) == (
        expected["agency"],
        expected["year"],
        expected["applications"],
    )


def _scanned_pdf() -> bytes:
    """A page image with a table drawn in pixels and no text layer, as a scanner produces."""
    image = Image.new("RGB", (620, 877), "white")
    draw = ImageDraw.Draw(image)
    for y in range(100, 700, 40):
        draw.line((60, y, 560, y), fill="black", width=2)
        draw.text((70, y + 12), "2024 1288 21 0 0 50 3 1362", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=75.0)
    return buffer.getvalue()


def test_scanned_pdf_fails_with_no_text_layer() -> None:
    data = _scanned_pdf()
    with pytest.raises(UnreadableDocument) as caught:
        pdf.extract(data)
    assert str(caught.value) == "scanned PDF: no text layer"
    record = parse_bytes(data, "scan.pdf")
    assert record.status == "failed"
    assert record.problems == ["scanned PDF: no text layer"]
    assert not record.proactive and not record.applications and not record.appeals


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", HUAIAN.read_bytes()[:5000]],
    ids=["garbage", "truncated"],
)
def test_damaged_pdf_fails_with_a_reason(data: bytes) -> None:
    with pytest.raises(UnreadableDocument, match=r"^corrupt PDF: "):
        pdf.extract(data)
    record = parse_bytes(data, "damaged.pdf")
    assert record.status == "failed" and record.problems


def _text_pdf(lines: list[tuple[float, float, str]]) -> bytes:
    """A one-page PDF with 12 pt Helvetica text lines at (x, y from the top)."""
    return _ruled_pdf([], lines, font_size=12)


def test_wrapped_lines_join_but_a_numbered_item_starts_a_new_line() -> None:
    full = "x" * 74  # Helvetica x is 0.5 em: 74 of them at 12 pt span the text block, 72 to 516 pt
    data = _text_pdf(
        [
            (96, 100, "Indented first line of a paragraph that is long enough to reach the margin xx"),
            (72, 116, full),
            (72, 132, "continued without indent, so it belongs to the paragraph above."),
            (96, 148, "Indented first line of the next paragraph, also long enough to reach the margin"),
            (72, 164, full),
            (72, 180, "1. An item that starts at the margin is not a continuation."),
        ]
    )
    lines = [line for line in pdf.extract(data).text.splitlines() if line]
    assert len(lines) == 3, lines
    assert lines[0].endswith("continued without indent, so it belongs to the paragraph above.")
    assert lines[2] == "1. An item that starts at the margin is not a continuation."


def _ruled_pdf(
    rules: list[tuple[float, float, float, float]], texts: list[tuple[float, float, str]], font_size: float = 10
) -> bytes:
    """A page with stroked black lines (x0, y0, x1, y1 from the top) and Helvetica texts at (x, y)."""
    doc = pdfium.PdfDocument.new()
    page = doc.new_page(595, 842)
    for x0, y0, x1, y1 in rules:
        path = pdfium_c.FPDFPageObj_CreateNewPath(x0, 842 - y0)
        pdfium_c.FPDFPath_LineTo(path, x1, 842 - y1)
        pdfium_c.FPDFPageObj_SetStrokeColor(path, 0, 0, 0, 255)
        pdfium_c.FPDFPageObj_SetStrokeWidth(path, ctypes.c_float(0.5))
        pdfium_c.FPDFPath_SetDrawMode(path, 0, True)
        pdfium_c.FPDFPage_InsertObject(page.raw, path)
    for x, y, text in texts:
        obj = pdfium_c.FPDFPageObj_NewTextObj(doc.raw, b"Helvetica", ctypes.c_float(font_size))
        buffer = ctypes.create_string_buffer(text.encode("utf-16-le") + b"\0\0")
        pdfium_c.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
        pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, 842 - y)
        pdfium_c.FPDFPage_InsertObject(page.raw, obj)
    page.gen_content()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_ruled_grid_blank_cells_and_uncovered_text() -> None:
    """Blank cells keep their column; text inside the table's box but in no closed cell (a border left
    undrawn) is read as a line, never dropped."""
    xs, ys = (100, 200, 300, 400), (100, 130, 160, 190)
    rules = [(100, y, 400, y) for y in ys[:3]] + [(100, 190, 300, 190)]  # no bottom rule under the last cell
    rules += [(x, 100, x, 190) for x in xs]
    texts = [(110, 120, "Label"), (210, 120, "12"), (310, 120, "34"),
             (110, 150, "Row two"), (310, 150, "56"),  # blank middle cell
             (110, 180, "Row three"), (210, 180, "78"), (310, 180, "90")]  # fmt: skip
    lines = [line for line in pdf.extract(_ruled_pdf(rules, texts)).text.splitlines() if line]
    assert lines[:2] == ["Label\t12\t34", "Row two\t\t56"]
    assert any("90" in line for line in lines)  # the cell without its bottom rule: its text is kept
    assert any(line.startswith("Row three") and "78" in line for line in lines)
