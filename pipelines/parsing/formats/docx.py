"""Word (.docx) → report text: paragraphs as lines, every table row as one line of tab-separated cells.

python-docx opens the package; the body is walked in document order (paragraphs and tables interleave,
content controls `w:sdt` are entered). Tables are rebuilt from the WordprocessingML grid rather than from
`row.cells`, which repeats a merged cell's text in every position it covers: here a horizontally merged
cell (`w:gridSpan`) and a vertically merged one (`w:vMerge`) keep their text at the first grid position
and leave the positions they span empty, and `w:gridBefore`/`w:gridAfter` keep short rows aligned — the
layout of a table pasted from Word, which `tables.py` reads.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from lxml import etree

from pipelines.parsing import metadata
from pipelines.parsing.formats import Extracted, UnreadableDocument, join_wrapped

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: what a damaged package raises while it is opened: bad zip structure, bad deflate data, missing or
#: malformed parts
_DAMAGED = (
    PackageNotFoundError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    etree.XMLSyntaxError,
)
_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_TR, _TC, _TCPR, _TRPR = qn("w:tr"), qn("w:tc"), qn("w:tcPr"), qn("w:trPr")
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_VAL = qn("w:val")


def _paragraph_text(p: etree._Element) -> str:
    """The visible text of a paragraph: runs, hyperlinks, fields; deleted text (w:delText) is not read."""
    parts: list[str] = []
    for node in p.iter(_T, _TAB, _BR, _CR):
        if node.tag == _T:
            parts.append(node.text or "")
        else:
            parts.append(" ")
    return " ".join("".join(parts).split())


def _cell_text(tc: etree._Element) -> str:
    """A cell's paragraphs (and any nested table's text) joined into one line."""
    return join_wrapped([_paragraph_text(p) for p in tc.iter(_P)]).replace("\t", " ")


def _int_val(parent: etree._Element | None, tag: str, default: int) -> int:
    if parent is None:
        return default
    el = parent.find(qn(tag))
    if el is None:
        return default
    try:
        return max(int(el.get(_VAL, default)), 0)
    except ValueError:
        return default


def _own(parent: etree._Element, tag: str) -> list[etree._Element]:
    """Children of `parent` with `tag`, including those wrapped in content controls (w:sdt); a nested
    table's rows are not the parent's (their text is read into the enclosing cell)."""
    found: list[etree._Element] = []
    for child in parent:
        if child.tag == tag:
            found.append(child)
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                found.extend(_own(content, tag))
    return found


def table_grid(tbl: etree._Element) -> list[list[str]]:
    """Rows of the table as a full-width grid; merged cells keep their text in the first position only."""
    rows: list[list[str]] = []
    for tr in _own(tbl, _TR):
        trpr = tr.find(_TRPR)
        row: list[str] = [""] * _int_val(trpr, "w:gridBefore", 0)
        for tc in _own(tr, _TC):
            tcpr = tc.find(_TCPR)
            span = max(_int_val(tcpr, "w:gridSpan", 1), 1)
            vmerge = tcpr.find(qn("w:vMerge")) if tcpr is not None else None
            continuation = vmerge is not None and vmerge.get(_VAL, "continue") != "restart"
            row.append("" if continuation else _cell_text(tc))
            row.extend([""] * (span - 1))
        row.extend([""] * _int_val(trpr, "w:gridAfter", 0))
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows if any(r)]


def _body_lines(container: etree._Element, out: list[str]) -> None:
    for child in container:
        if child.tag == _P:
            text = _paragraph_text(child)
            if text:
                out.append(text)
        elif child.tag == _TBL:
            out.extend("\t".join(row) for row in table_grid(child))
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                _body_lines(content, out)


def extract(data: bytes) -> Extracted:
    if data.startswith(_OLE2_MAGIC):
        raise UnreadableDocument("Word 97-2003 (.doc) file, not .docx: convert it to .docx to read it")
    try:
        document = Document(io.BytesIO(data))
        lines: list[str] = []
        _body_lines(document.element.body, lines)
        core_title = (document.core_properties.title or "").strip()
    except _DAMAGED as exc:
        raise UnreadableDocument(f"corrupt Word file: not a readable .docx package ({exc})") from exc
    agency, year = metadata.agency_and_year([core_title]) if core_title else (None, None)
    title = core_title if agency and year else None
    return Extracted(text="\n".join(lines) + "\n", encoding=None, title=title)
