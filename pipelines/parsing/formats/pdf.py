"""PDF → report text, with every ruled table row as one line of tab-separated cells.

Why this design (measured on huaian_2024.pdf; see docs/formats.md):
- Characters and their boxes come from **pypdfium2** (PDFium): about 15 ms for the 6-page report, against
  about 250 ms for pdfplumber/pdfminer.six, which parse the same content streams in pure Python.
- Ruled tables are found from the drawn lines (PDFium path objects → horizontal/vertical edges) with the
  lattice algorithm of **pdfplumber** (`pdfplumber.table`: snap/join edges → intersections → cells →
  tables), used as a library on our edges. A cell's text is every character whose centre lies in it, so
  a label wrapped over two or three lines stays in its row, and a merged (rowspan/colspan) cell fills its
  first grid position and leaves the positions it spans empty — the layout of a table pasted from Word.
- Text outside ruled tables is clustered into lines by vertical overlap; a wide horizontal gap (a
  borderless table) becomes a tab. Wrapped paragraph lines are joined back into one line.
- Page numbers (`-4-`, `- 4 -`, `第4页`) and running headers/footers (the same text at the top or bottom
  of most pages) are dropped.
- A PDF whose pages carry no text is a scan: `UnreadableDocument("scanned PDF: no text layer")`; the
  report is recorded as failed, never as a report with empty figures.
"""

from __future__ import annotations

import ctypes
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from pipelines.parsing import metadata
from pipelines.parsing.formats import Extracted, UnreadableDocument, is_wide, join_wrapped

SCANNED = "scanned PDF: no text layer"
#: fewer non-blank characters than this in the whole document means there is no text layer
_MIN_TEXT_CHARS = 20
#: pdfplumber's default lattice tolerances, in points
_SNAP, _JOIN, _INTERSECT, _MIN_EDGE = 3.0, 3.0, 3.0, 3.0
#: a horizontal gap wider than this many em between two characters outside a ruled table is a cell break
_TAB_GAP_EM = 2.0
#: a gap wider than this many em next to a Latin letter or digit is a space
_SPACE_GAP_EM = 0.15
_PAGE_NUMBER = re.compile(r"^[-–—_\s]*(?:第\s*)?\d{1,4}\s*(?:页)?(?:\s*/\s*\d{1,4}|\s*共\s*\d{1,4}\s*页)?[-–—_\s]*$")
_DIGITS = re.compile(r"\d+")
#: a line that starts a section or an item: 一、 （一） (一) 1. 1、 第一
_NEW_ITEM = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+\s*、|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d+\s*[.、．](?!\d)|第[一二三四五六七八九十]+)"
)


@dataclass(slots=True)
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(slots=True)
class _Line:
    chars: list[_Char]
    top: float
    bottom: float
    text: str = ""
    page: int = 0

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def x1(self) -> float:
        return self.chars[-1].x1

    @property
    def em(self) -> float:
        sizes = sorted(c.size for c in self.chars)
        return sizes[len(sizes) // 2]


@dataclass(slots=True)
class _Table:
    top: float
    rows: list[list[str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# PDFium access
# --------------------------------------------------------------------------------------------
_ToDisplay = Callable[[float, float], tuple[float, float]]
#: the same character drawn again within this share of its width (and a tenth of its height) is
#: overprinting (fake bold), not text: two real neighbours are a whole advance width apart
_OVERPRINT = 0.3


def _dedupe(chars: list[_Char]) -> list[_Char]:
    """Drop characters printed twice at (almost) the same place: "bold" made by drawing the text twice
    with a small offset, common in PDFs of CJK documents whose font has no bold face."""
    # cheap screening first: overprinted text puts many characters on the very same tolerance-sized
    # square; a page with no such collision is returned as it is
    seen: set[tuple[str, int, int]] = set()
    for ch in chars:
        key = (ch.text, int(ch.x0 / max(_OVERPRINT * (ch.x1 - ch.x0), 0.1)), int(ch.top / max(0.1 * ch.size, 0.1)))
        if key in seen:
            break
        seen.add(key)
    else:
        return chars
    kept: list[_Char] = []
    # (text, grid x, grid y) -> centres of the kept characters; the grid step is the character's size,
    # far larger than the tolerance, so only the neighbouring grid squares need looking at
    grid: dict[tuple[str, int, int], list[tuple[float, float, float]]] = {}
    for ch in chars:
        size = ch.size if ch.size > 1.0 else 1.0
        cx, cy, width = (ch.x0 + ch.x1) / 2, (ch.top + ch.bottom) / 2, ch.x1 - ch.x0
        gx, gy = int(cx // size), int(cy // size)
        duplicate = False
        for dx in (0, -1, 1):
            for dy in (0, -1, 1):
                for ox, oy, owidth in grid.get((ch.text, gx + dx, gy + dy), ()):
                    if abs(ox - cx) <= _OVERPRINT * min(width, owidth) and abs(oy - cy) <= 0.1 * size:
                        duplicate = True
                        break
        if not duplicate:
            grid.setdefault((ch.text, gx, gy), []).append((cx, cy, width))
            kept.append(ch)
    return kept


def _display_transform(page: pdfium.PdfPage) -> _ToDisplay:
    """PDF user space (y up) → the page as displayed (y down), honouring /Rotate: a landscape table
    drawn sideways on a rotated page comes out upright, like any other page."""
    rotation = page.get_rotation() % 360
    width, height = page.get_width(), page.get_height()  # as displayed
    if rotation in (90, 270):
        width, height = height, width  # user-space size
    if rotation == 90:
        return lambda x, y: (y, x)
    if rotation == 180:
        return lambda x, y: (width - x, y)
    if rotation == 270:
        return lambda x, y: (height - y, width - x)
    return lambda x, y: (x, height - y)


def _page_chars(textpage: pdfium.PdfTextPage, to_display: _ToDisplay) -> list[_Char]:
    chars: list[_Char] = []
    raw = textpage.raw
    n = textpage.count_chars()
    i = 0
    while i < n:
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        index = i
        i += 1
        if 0xD800 <= code <= 0xDBFF and i < n:  # a character outside the BMP comes as a surrogate pair
            low = pdfium_c.FPDFText_GetUnicode(raw, i)
            i += 1
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        if code == 0 or code == 0xFFFE or code == 0xFFFF:
            continue
        text = chr(code)
        if text.isspace() or unicodedata.category(text) in ("Cc", "Cf"):
            continue  # spaces are rebuilt from the gaps between characters
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        if right <= left:
            continue
        # the loose box spans the font's ascent and descent: its height is a steadier em than
        # FPDFText_GetFontSize, which ignores the text matrix
        x0, y0 = to_display(left, bottom)
        x1, y1 = to_display(right, top)
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        chars.append(_Char(text, x0, x1, y0, y1, y1 - y0))
    return _dedupe(chars)


_Matrix = tuple[float, float, float, float, float, float]


def _multiply(m: _Matrix, n: _Matrix) -> _Matrix:
    """m then n (PDF row-vector convention)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _object_matrix(obj: ctypes.c_void_p) -> _Matrix:
    fs = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, fs):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (fs.a, fs.b, fs.c, fs.d, fs.e, fs.f)


def _path_segments(obj: ctypes.c_void_p, matrix: _Matrix) -> list[tuple[float, float, float, float]]:
    """The straight segments of a path object, in page space (y up)."""
    a, b, c, d, e, f = matrix
    segments: list[tuple[float, float, float, float]] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    start: tuple[float, float] | None = None
    current: tuple[float, float] | None = None
    for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        if not pdfium_c.FPDFPathSegment_GetPoint(seg, x, y):
            continue
        point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = current = point
            continue
        if kind == pdfium_c.FPDF_SEGMENT_LINETO and current is not None:
            segments.append((*current, *point))
        current = point  # a Bézier piece only moves the pen: curves are not table rules
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            segments.append((*point, *start))
            current = start
    return segments


def _visible(obj: ctypes.c_void_p) -> bool:
    """A path that paints something other than white: Word draws white boxes behind text, which are not rules."""
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroke):
        return True
    r, g, b, a = (ctypes.c_uint() for _ in range(4))

    def painted(ok: int) -> bool:
        return bool(ok) and a.value > 0 and min(r.value, g.value, b.value) < 250

    if stroke.value and painted(pdfium_c.FPDFPageObj_GetStrokeColor(obj, r, g, b, a)):
        return True
    return bool(fill_mode.value) and painted(pdfium_c.FPDFPageObj_GetFillColor(obj, r, g, b, a))


def _collect_segments(
    objects: list[ctypes.c_void_p], parent: _Matrix, out: list[tuple[float, float, float, float]]
) -> None:
    for obj in objects:
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH and _visible(obj):
            out.extend(_path_segments(obj, _multiply(_object_matrix(obj), parent)))
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            matrix = _multiply(_object_matrix(obj), parent)
            children = [pdfium_c.FPDFFormObj_GetObject(obj, j) for j in range(pdfium_c.FPDFFormObj_CountObjects(obj))]
            _collect_segments(children, matrix, out)


def _page_edges(page: pdfium.PdfPage, to_display: _ToDisplay) -> list[dict[str, float | str]]:
    """Horizontal and vertical rules drawn on the page, as pdfplumber edge dicts (top-down y)."""
    raw = page.raw
    objects = [pdfium_c.FPDFPage_GetObject(raw, i) for i in range(pdfium_c.FPDFPage_CountObjects(raw))]
    segments: list[tuple[float, float, float, float]] = []
    _collect_segments(objects, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), segments)
    edges: list[dict[str, float | str]] = []
    for ux0, uy0, ux1, uy1 in segments:
        x0, y0 = to_display(ux0, uy0)
        x1, y1 = to_display(ux1, uy1)
        top, bottom = sorted((y0, y1))
        left, right = sorted((x0, x1))
        if bottom - top < 1.0 and right - left >= 1.0:
            edges.append({"x0": left, "x1": right, "top": top, "bottom": top, "width": right - left,
                          "height": 0.0, "orientation": "h"})  # fmt: skip
        elif right - left < 1.0 and bottom - top >= 1.0:
            edges.append({"x0": left, "x1": left, "top": top, "bottom": bottom, "width": 0.0,
                          "height": bottom - top, "orientation": "v"})  # fmt: skip
    return edges


# --------------------------------------------------------------------------------------------
# Geometry → text
# --------------------------------------------------------------------------------------------
def _cluster_lines(chars: list[_Char]) -> list[_Line]:
    """Group characters into lines: a character joins the line it overlaps by half its height."""
    lines: list[_Line] = []
    for ch in sorted(chars, key=lambda c: (c.top, c.x0)):
        height = ch.bottom - ch.top
        best: _Line | None = None
        for line in reversed(lines[-3:]):
            overlap = min(line.bottom, ch.bottom) - max(line.top, ch.top)
            if overlap >= 0.5 * min(height, line.bottom - line.top):
                best = line
                break
        if best is None:
            lines.append(_Line([ch], ch.top, ch.bottom))
        else:
            best.chars.append(ch)
            best.top, best.bottom = min(best.top, ch.top), max(best.bottom, ch.bottom)
    for line in lines:
        line.chars.sort(key=lambda c: c.x0)
    lines.sort(key=lambda ln: ln.top)
    return lines


def _line_text(line: _Line, tabs: bool) -> str:
    em = line.em or 10.0
    out: list[str] = []
    prev: _Char | None = None
    for ch in line.chars:
        if prev is not None:
            gap = ch.x0 - prev.x1
            if tabs and gap > _TAB_GAP_EM * em:
                out.append("\t")
            elif gap > 1.0 * em or (gap > _SPACE_GAP_EM * em and not (is_wide(prev.text) and is_wide(ch.text))):
                out.append(" ")
        out.append(ch.text)
        prev = ch
    return "".join(out)


def _cell_text(chars: list[_Char]) -> str:
    """A cell's characters as one line: wrapped lines are joined (no space between CJK characters)."""
    return join_wrapped(_line_text(line, tabs=False).strip() for line in _cluster_lines(chars))


def _tables(edges: list[dict[str, float | str]]) -> list[list[tuple[float, float, float, float]]]:
    """Ruled tables as lists of cell boxes (x0, top, x1, bottom); single boxes (frames) are not tables."""
    if not edges:
        return []
    merged = merge_edges(edges, _SNAP, _SNAP, _JOIN, _JOIN)
    merged = [e for e in merged if e["width" if e["orientation"] == "h" else "height"] >= _MIN_EDGE]
    cells = intersections_to_cells(edges_to_intersections(merged, _INTERSECT, _INTERSECT))
    tables = []
    for table in cells_to_tables(cells):
        # one column of boxes is a frame around text (or a text box), not a table
        if len({round(c[0], 1) for c in table}) >= 2:
            tables.append(table)
    return tables


def _grid(cells: list[tuple[float, float, float, float]], chars: list[_Char]) -> tuple[list[list[str]], list[_Char]]:
    """Rows of a ruled table (a merged cell's text sits at its first grid position, the rest stay empty),
    and the characters inside the table's box that no cell holds (read as text, never dropped)."""
    xs = sorted({round(c[0], 1) for c in cells})
    ys = sorted({round(c[1], 1) for c in cells})
    col_of = {x: i for i, x in enumerate(xs)}
    row_of = {y: i for i, y in enumerate(ys)}
    grid = [[""] * len(xs) for _ in ys]
    # locate characters by bisecting the cell boundaries (a table of many cells stays linear in characters)
    x_edges = sorted({round(v, 1) for c in cells for v in (c[0], c[2])})
    y_edges = sorted({round(v, 1) for c in cells for v in (c[1], c[3])})
    cover: dict[tuple[int, int], int] = {}
    for k, (x0, top, x1, bottom) in enumerate(cells):
        c0, c1 = bisect_left(x_edges, round(x0, 1)), bisect_left(x_edges, round(x1, 1))
        r0, r1 = bisect_left(y_edges, round(top, 1)), bisect_left(y_edges, round(bottom, 1))
        for r in range(r0, r1):
            for c in range(c0, c1):
                cover.setdefault((r, c), k)
    buckets: dict[int, list[_Char]] = {}
    stray: list[_Char] = []
    for ch in chars:
        covering = cover.get((bisect_right(y_edges, ch.cy) - 1, bisect_right(x_edges, ch.cx) - 1))
        if covering is not None:
            buckets.setdefault(covering, []).append(ch)
        else:
            stray.append(ch)
    for k, cell_chars in buckets.items():
        x0, top, _, _ = cells[k]
        grid[row_of[round(top, 1)]][col_of[round(x0, 1)]] = _cell_text(cell_chars).replace("\t", " ")
    return [row for row in grid if any(row)], stray


def _inside(ch: _Char, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= ch.cx <= box[2] and box[1] <= ch.cy <= box[3]


@dataclass(slots=True)
class _Page:
    number: int
    height: float
    lines: list[_Line]
    tables: list[_Table]


def _read_page(number: int, page: pdfium.PdfPage) -> _Page:
    height = page.get_height()
    to_display = _display_transform(page)
    textpage = page.get_textpage()
    try:
        chars = _page_chars(textpage, to_display)
    finally:
        textpage.close()
    tables: list[_Table] = []
    if chars:
        for cells in _tables(_page_edges(page, to_display)):
            box = (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells),
                   max(c[3] for c in cells))  # fmt: skip
            inside = [ch for ch in chars if _inside(ch, box)]
            if not inside:
                continue
            rows, stray = _grid(cells, inside)
            chars = [ch for ch in chars if not _inside(ch, box)] + stray
            tables.append(_Table(top=box[1], rows=rows))
    lines = _cluster_lines(chars)
    for line in lines:
        line.text = _line_text(line, tabs=True).strip()
        line.page = number
    return _Page(number, height, [ln for ln in lines if ln.text], tables)


def _running_texts(pages: list[_Page]) -> set[str]:
    """Texts printed at the top or bottom of most pages (digits ignored): running headers and footers."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for page in pages:
        edge_lines = page.lines[:1] + page.lines[-1:]
        seen.update({_DIGITS.sub("#", ln.text.replace(" ", "")) for ln in edge_lines})
    return {text for text, n in seen.items() if n >= max(3, len(pages) // 2 + 1)}


def _drop_page_furniture(pages: list[_Page]) -> None:
    running = _running_texts(pages)
    for page in pages:
        first_body = min([t.top for t in page.tables], default=None)
        keep: list[_Line] = []
        n = len(page.lines)
        for i, line in enumerate(page.lines):
            at_edge = i < 2 or i >= n - 2
            compact = line.text.replace(" ", "")
            if at_edge and _PAGE_NUMBER.match(line.text) and not (first_body and line.top > first_body and i < 2):
                continue
            if at_edge and _DIGITS.sub("#", compact) in running:
                continue
            keep.append(line)
        page.lines = keep


def _title(pages: list[_Page]) -> str | None:
    """The report title: the largest-type lines at the top of the first page with text."""
    for page in pages:
        head = page.lines[:8]
        if not head:
            continue
        biggest = max(ln.em for ln in head)
        parts: list[str] = []
        for ln in head:
            if abs(ln.em - biggest) <= 0.5:
                parts.append(ln.text)
            elif parts:
                break
        title = "".join(parts)
        return title if _names_agency_and_year(title) else None
    return None


def _names_agency_and_year(title: str) -> bool:
    """Only such a title is worth passing on: `metadata.agency_and_year` tries it before the text's lines."""
    agency, year = metadata.agency_and_year([title])
    return agency is not None and year is not None


def _assemble(pages: list[_Page]) -> list[str]:
    """Lines and table rows in reading order; wrapped paragraph lines joined back together."""
    out: list[str] = []
    prev: _Line | None = None  # the last free line, if it is the last thing emitted
    margins: dict[int, tuple[float, float]] = {}
    for page in pages:
        if page.lines:
            margins[page.number] = (min(ln.x0 for ln in page.lines), max(ln.x1 for ln in page.lines))
    for page in pages:
        items: list[tuple[float, _Line | _Table]] = [(ln.top, ln) for ln in page.lines]
        items += [(t.top, t) for t in page.tables]
        items.sort(key=lambda item: item[0])
        for _, item in items:
            if isinstance(item, _Table):
                out.extend("\t".join(row) for row in item.rows)
                prev = None
                continue
            line = item
            if prev is not None and "\t" not in line.text and "\t" not in prev.text:
                _, right = margins[prev.page]
                left, _ = margins[line.page]
                em = prev.em or 10.0
                if (
                    prev.x1 >= right - 1.5 * em
                    and line.x0 <= left + 0.5 * em
                    and not _NEW_ITEM.match(line.text)  # 二、… （一）… 1. … begin a heading or an item
                ):
                    out[-1] += line.text
                    prev = line
                    continue
            out.append(line.text)
            prev = line
    return out


def extract(data: bytes) -> Extracted:
    """Read a PDF report. Raises UnreadableDocument for scans, encrypted or damaged files."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise UnreadableDocument("encrypted PDF: a password is needed to read it") from exc
        raise UnreadableDocument(f"corrupt PDF: {message}") from exc
    try:
        if len(document) == 0:
            raise UnreadableDocument("corrupt PDF: the document has no pages")
        pages: list[_Page] = []
        for i in range(len(document)):
            page = document[i]
            try:
                pages.append(_read_page(i + 1, page))
            finally:
                page.close()
        n_chars = sum(len(ln.chars) for p in pages for ln in p.lines) + sum(
            len(cell) for p in pages for t in p.tables for row in t.rows for cell in row
        )
        if n_chars < _MIN_TEXT_CHARS:
            raise UnreadableDocument(SCANNED)
        title = _title(pages)
        if title is None:
            meta_title = (document.get_metadata_dict(skip_empty=True).get("Title") or "").strip()
            title = meta_title if _names_agency_and_year(meta_title) else None
        _drop_page_furniture(pages)
        return Extracted(text="\n".join(_assemble(pages)) + "\n", encoding=None, title=title)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(f"corrupt PDF: {exc}") from exc
    finally:
        document.close()
