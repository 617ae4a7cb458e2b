"""HTML → report text, with every data-table row as one line of tab-separated cells.

- Encoding: a BOM wins, then the charset the page declares (`<meta charset>` or `http-equiv`), checked by
  decoding strictly; GB2312/GBK declarations are decoded as GB18030 (their superset: pages labelled
  GB2312 routinely hold GBK-only characters). A page whose bytes contradict its declaration falls back to
  the byte-level detector of `decode.py`.
- Parsing: lxml's HTML parser (libxml2), which repairs the tag soup of CMS-generated pages.
- Tables: a table that holds another table is page layout — its cells are read as ordinary blocks; an
  innermost table is data and is rebuilt as a grid honouring rowspan/colspan. A merged cell's text sits at
  its first grid position, the positions it spans stay empty, so every row has the full width and a blank
  cell stays in its column (the layout of a table pasted from Word, which `tables.py` reads).
- Page chrome is ignored: scripts, styles, forms, `<nav>`/`<header>`/`<footer>`/`<aside>`, hidden elements,
  and blocks whose class or id names a menu, footer, breadcrumb or sidebar — unless they hold a table.
- Speed: `_Writer` (a recursive walk) defines the lines; `_fast_lines` gives the same lines with the
  per-element work in libxml2 — one pass decides what is left out, the tree is marked (left-out elements
  emptied, a private-use mark where a line ends, each data table replaced by a place-holder) and its text is
  read once. A page that itself holds one of the marks is read by `_Writer`.
- Title: `<meta name="ArticleTitle">` (the Chinese government CMS convention), then headings and
  `*title*` elements, then `<title>` split at its site-name separators; the first that names an agency and
  a year (`metadata.agency_and_year`) wins; without one the text's own lines decide.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from pipelines.parsing import decode, metadata
from pipelines.parsing.formats import Extracted, is_wide, join_wrapped

#: declared charsets decoded with a superset codec
_CHARSET_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "gb18030": "gb18030",
    "utf8": "utf-8",
    "big5": "big5hkscs",
}
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link", "iframe",
                        "object", "embed", "svg", "canvas", "select", "option", "button", "input", "textarea",
                        "map", "audio", "video"})  # fmt: skip
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside", "form"})
#: class/id words that name page chrome wherever they appear in a compound name (`main-nav`, `footer_wrap`)
_CHROME_PARTS = frozenset({"nav", "navbar", "navigation", "menu", "menus", "submenu", "footer", "breadcrumb",
                           "breadcrumbs", "crumb", "crumbs", "sidebar", "copyright", "banner", "topbar", "toolbar",
                           "login", "weizhi", "dqwz", "header", "side", "foot", "share"})  # fmt: skip
#: words that name chrome only as a whole class or id (`class="position"`, `id="top"`): as parts they are
#: too common in content names (`position-relative`, `search-result`, `top-news`). A chrome-named block
#: that holds a table or the report's title (`article-header`) is kept anyway.
_CHROME_WORDS = frozenset({"head", "top", "search", "skip", "position", "location"})
_NAME_PARTS = re.compile(r"[-_\d]+")


def _chrome_named(el: etree._Element) -> bool:
    for token in f"{el.get('class') or ''} {el.get('id') or ''}".lower().split():
        if token.strip("-_0123456789") in _CHROME_WORDS:
            return True
        if any(part in _CHROME_PARTS for part in _NAME_PARTS.split(token)):
            return True
    return False


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
                         "ol", "dl", "dt", "dd", "blockquote", "pre", "center", "address", "figure", "figcaption",
                         "caption", "hr", "table", "tr", "td", "th", "tbody", "thead", "tfoot", "body", "html",
                         "header", "footer", "nav", "aside", "form", "fieldset", "legend"})  # fmt: skip
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--|—|－| - )\s*")
_MAX_SPAN = 200

#: libxml2's HTML parser with lxml's plain element classes: `lxml.html`'s HtmlElement lookup costs a Python
#: call for every element proxy, and nothing here needs its methods
_PARSER = etree.HTMLParser()


def _text_content(el: etree._Element) -> str:
    """An element's text as `lxml.html`'s `text_content()` gives it (descendant text nodes, no comments)."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def _clean(text: str) -> str:
    """Collapse HTML whitespace; drop the spaces between two CJK characters (source line wrapping)."""
    return _join_words(_SPACES.sub(" ", text).strip())


def _join_words(text: str) -> str:
    """`_clean` of a text whose whitespace is already collapsed and stripped."""
    if " " not in text:
        return text
    parts = text.split(" ")
    out = parts[0]
    for part in parts[1:]:
        if out and part and is_wide(out[-1]) and is_wide(part[0]):
            out += part
        else:
            out += " " + part
    return out


# --------------------------------------------------------------------------------------------
# bytes → str
# --------------------------------------------------------------------------------------------
def _codec(name: str) -> str | None:
    name = name.strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(data: bytes) -> tuple[str, str]:
    """(text, encoding): BOM, then the declared charset if the bytes agree, then byte-level detection."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode.decode(data)
    m = _META_CHARSET.search(data[:8192])
    codec = _codec(m.group(1).decode("ascii", "replace")) if m else None
    if codec is not None and not codec.startswith("utf-16"):
        try:
            return data.decode(codec), "gb18030" if codec == "gb18030" else codec
        except UnicodeDecodeError:
            pass  # mislabelled page: the bytes decide
    return decode.decode(data)


# --------------------------------------------------------------------------------------------
# tree → lines
# --------------------------------------------------------------------------------------------
def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _hidden(el: etree._Element) -> bool:
    return el.get("hidden") is not None or bool(_HIDDEN_STYLE.search(el.get("style") or ""))


def _is_chrome(el: etree._Element) -> bool:
    """Navigation, header, footer and sidebar blocks — but never one that holds a table or a report-title
    heading."""
    if (
        _tag(el) not in _CHROME_TAGS
        and el.get("role") not in ("navigation", "banner", "contentinfo")
        and not _chrome_named(el)
    ):
        return False
    if next(el.iter("table"), None) is not None:
        return False
    # an article header holding the report's title (with its year) is content, whatever its class says;
    # a sidebar headed 年度报告 that lists other years' reports is not
    titles = [*el.iter("h1", "h2", "h3", "h4"), *el.xpath(".//*[contains(@class, 'title')]")]
    return not any(_is_report_title(_clean(_text_content(h))) for h in titles)


def _is_report_title(text: str) -> bool:
    return "政府信息公开" in text and "报告" in text and metadata.agency_and_year([text])[1] is not None


def _span(value: str | None) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), _MAX_SPAN)


def _own_rows(table: etree._Element) -> list[etree._Element]:
    rows: list[etree._Element] = []
    for child in table:
        tag = child.tag  # libxml2's HTML names are lower case; a comment's tag is not a str
        if tag == "tr":
            rows.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            rows.extend(child.iterchildren("tr"))
    return rows


def _cell_text(cell: etree._Element) -> str:
    """A cell's text on one line: its own line breaks (br, p, div) are joined like wrapped lines."""
    lines = _Writer()
    lines.walk_children(cell)
    lines.flush()
    return join_wrapped(lines.lines).replace("\t", " ")


def table_grid(table: etree._Element) -> list[list[str]]:
    """The table as a full-width grid: rowspan/colspan expanded, spanned positions left empty."""
    rows = _own_rows(table)
    grid: dict[tuple[int, int], str] = {}
    occupied: set[tuple[int, int]] = set()
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr:
            if _tag(cell) not in ("td", "th") or _hidden(cell):
                continue
            while (r, c) in occupied:
                c += 1
            rowspan, colspan = _span(cell.get("rowspan")), _span(cell.get("colspan"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied.add((r + dr, c + dc))
            grid[(r, c)] = _cell_text(cell)
            c += colspan
            width = max(width, c)
        width = max(width, max((cc + 1 for rr, cc in occupied if rr == r), default=0))
    out = [[grid.get((r, c), "") for c in range(width)] for r in range(len(rows))]
    return [row for row in out if any(row)]


class _Writer:
    """Accumulates inline text into lines; block elements end lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._buffer: list[str] = []

    def text(self, text: str | None) -> None:
        if text:
            self._buffer.append(text)

    def flush(self) -> None:
        line = _clean("".join(self._buffer))
        self._buffer = []
        if line:
            self.lines.append(line)

    def walk_children(self, el: etree._Element) -> None:
        self.text(el.text)
        for child in el:
            self.walk(child)
            self.text(child.tail)

    def walk(self, el: etree._Element) -> None:
        tag = _tag(el)
        if not tag or tag in _SKIP_TAGS or _hidden(el) or _is_chrome(el):
            return
        if tag == "br":
            self.flush()
            return
        if tag == "table" and next(el.iterdescendants("table"), None) is None:
            self.flush()
            self.lines.extend("\t".join(row) for row in table_grid(el))
            return
        block = tag in _BLOCK_TAGS
        if block:
            self.flush()
        self.walk_children(el)
        if block:
            self.flush()


# --------------------------------------------------------------------------------------------
# title
# --------------------------------------------------------------------------------------------
def _title_candidates(root: etree._Element) -> list[str]:
    found: list[str] = []
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() in ("articletitle", "title") and meta.get("content"):
            found.append(meta.get("content") or "")
    for el in root.iter("h1", "h2", "h3", "h4", "p", "div", "td", "span", "strong"):
        # the tag filter matches libxml2's lower-case names: a heading starts with h; any other element
        # counts only by its class or id, which most have not
        if el.tag[0] != "h":
            keys = el.keys()
            if not keys or ("class" not in keys and "id" not in keys):
                continue
            named = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
            if "title" not in named and "biaoti" not in named:
                continue
        text = _clean(_text_content(el))
        if 0 < len(text) <= 80:
            found.append(text)
    title_el = root.find(".//title")
    if title_el is not None:
        text = _clean(_text_content(title_el))
        found.extend(p for p in _TITLE_SEPARATORS.split(text) if p)
        found.append(text)
    return [_clean(t) for t in found if "报告" in t or "年报" in t]


def best_title(root: etree._Element) -> str | None:
    """The first candidate naming both agency and year, else None.

    A title naming only the year ("2024年政府信息公开工作年度报告" under an agency line) is not returned:
    `metadata.agency_and_year` tries the title first and would then miss the agency printed above it.
    """
    for text in _title_candidates(root):
        agency, year = metadata.agency_and_year([text])
        if agency and year:
            return text
    return None


# --------------------------------------------------------------------------------------------
# tree → lines, with the per-element work in libxml2
# --------------------------------------------------------------------------------------------
#: private-use characters the fast reader writes into the tree or its texts: a line break (where `_Writer`
#: flushes), the start of a table's place-holder, the end of a cell; a page that holds any of them is read
#: by `_Writer` instead
_BREAK = "\ue000"
_TABLE = "\ue001"
_CELL = "\ue002"
_BREAK_OR_SPACE = _BREAK + " "
#: tags `_excluded` holds for whatever the attributes; every other element needs one of `_CHECKED_ATTRIBUTES`
_EXCLUDED_TAGS = _SKIP_TAGS | _CHROME_TAGS
_CHECKED_ATTRIBUTES = frozenset({"hidden", "style", "role", "class", "id"})
#: the tag an excluded element is renamed to once emptied (inline, not skipped: only its tail counts)
_REMOVED = "xxgk-removed"


def _excluded(el: etree._Element) -> bool:
    """What `_Writer.walk` leaves out (with everything inside)."""
    tag = _tag(el)
    return not tag or tag in _SKIP_TAGS or _hidden(el) or _is_chrome(el)


def _joined_cell_text(text: str) -> str:
    """`_cell_text` from a cell's text, whitespace already collapsed, with `_BREAK` where `_Writer` would end
    a line."""
    if _BREAK not in text:
        return _join_words(text.strip())
    core = text.strip(_BREAK_OR_SPACE)
    if _BREAK not in core:  # one line between empty ones (a cell holding one paragraph): no joining
        return _join_words(core.strip())
    return join_wrapped(_join_words(part.strip()) for part in text.split(_BREAK)).replace("\t", " ")


def _grid_rows(table: etree._Element) -> list[str]:
    """`table_grid` joined by tabs, for a table whose cells hold `_BREAK` marks: attributes read only where
    the cell has any, only cells spanning more than one position recorded as occupying later ones, and the
    whitespace of all cells collapsed by one regex call."""
    placed: list[tuple[int, int]] = []
    raw: list[str] = []
    occupied: set[tuple[int, int]] = set()
    width = 0
    rows = _own_rows(table)
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr:
            tag = cell.tag
            if tag != "td" and tag != "th":
                continue
            keys = cell.keys()
            rowspan = colspan = 1
            if keys:
                if _hidden(cell):
                    continue
                if "rowspan" in keys:
                    rowspan = _span(cell.get("rowspan"))
                if "colspan" in keys:
                    colspan = _span(cell.get("colspan"))
            if occupied:
                while (r, c) in occupied:
                    c += 1
            if rowspan > 1 or colspan > 1:
                occupied.update((r + dr, c + dc) for dr in range(rowspan) for dc in range(colspan))
            placed.append((r, c))
            raw.append(cell.text or "" if not len(cell) else _text_content(cell))
            c += colspan
            if c > width:
                width = c
    grid = dict(zip(placed, map(_joined_cell_text, _SPACES.sub(" ", _CELL.join(raw)).split(_CELL)), strict=True))
    lines = []
    for r in range(len(rows)):
        row = [grid.get((r, c), "") for c in range(width)]
        if any(row):
            lines.append("\t".join(row))
    return lines


def _fast_lines(walk_root: etree._Element) -> list[str]:
    """`_Writer.walk(walk_root)`'s lines, computed by marking the tree (excluded elements emptied, a
    `_BREAK` where a line ends, each data table replaced by a place-holder) and reading its text once.
    Mutates the tree."""
    tables = [t for t in walk_root.iter("table") if next(t.iterdescendants("table"), None) is None]
    # a data table's sections, rows and cells are read by `table_grid`, never walked
    internal: set[etree._Element] = set()
    for table in tables:
        for child in table:
            if child.tag in ("thead", "tbody", "tfoot"):
                internal.add(child)
        for tr in _own_rows(table):
            internal.add(tr)
            internal.update(tr.iterchildren("td", "th"))
    # one pass: exclusion decided on the untouched tree (chrome checks look at whole subtrees), then applied
    excluded: list[etree._Element] = []
    blocks: list[etree._Element] = []
    breaks: list[etree._Element] = []
    for el in walk_root.iter(etree.Element):  # not comments or processing instructions: only their tails count
        tag = el.tag
        if tag in _BLOCK_TAGS:
            if el not in internal:
                blocks.append(el)
        elif tag == "br":
            breaks.append(el)
        if tag in _EXCLUDED_TAGS:
            if el not in internal and _excluded(el):
                excluded.append(el)
            continue
        keys = el.keys()
        if not keys:
            continue
        if len(keys) == 1 and keys[0] == "style":  # the common case: a styled paragraph or span
            if _HIDDEN_STYLE.search(el.get("style") or "") and el not in internal:
                excluded.append(el)
        elif not _CHECKED_ATTRIBUTES.isdisjoint(keys) and el not in internal and _excluded(el):
            excluded.append(el)
    if excluded and excluded[0] is walk_root:
        return []
    for el in excluded:
        el.clear(keep_tail=True)
        el.tag = _REMOVED
    for el in breaks:
        if el.tag != "br":
            continue  # emptied
        el.text = None
        for child in list(el):
            el.remove(child)
        el.tail = _BREAK + el.tail if el.tail else _BREAK
    for el in blocks:
        if el.tag == _REMOVED:
            continue
        el.text = _BREAK + el.text if el.text else _BREAK
        el.tail = _BREAK + el.tail if el.tail else _BREAK
    grids: list[list[str]] = []
    for table in tables:
        if table.tag != "table":
            continue  # emptied as hidden
        grids.append(_grid_rows(table))
    # a table inside an emptied element is gone from the tree: its place-holder never shows
    live = 0
    for table in tables:
        if table.tag != "table":
            continue
        tail = table.tail
        table.clear()
        table.tail = tail
        table.text = f"{_BREAK}{_TABLE}{live}{_BREAK}"
        live += 1
    lines: list[str] = []
    for part in _SPACES.sub(" ", _text_content(walk_root)).split(_BREAK):
        if part.startswith(_TABLE):
            lines.extend(grids[int(part[1:])])
            continue
        part = _join_words(part.strip())
        if part:
            lines.append(part)
    return lines


def extract(data: bytes) -> Extracted:
    text, encoding = decode_html(data)
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return Extracted(text="", encoding=encoding)
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, ValueError):
        return Extracted(text="", encoding=encoding)
    if root is None:  # what `lxml.html.document_fromstring` raises ParserError for
        return Extracted(text="", encoding=encoding)
    title = best_title(root)
    body = root.find("body")
    walk_root = body if body is not None else root
    all_text = _text_content(root)
    if _BREAK in all_text or _TABLE in all_text or _CELL in all_text:
        writer = _Writer()
        writer.walk(walk_root)
        writer.flush()
        lines = writer.lines
    else:
        lines = _fast_lines(walk_root)
    return Extracted(text="\n".join(lines) + "\n", encoding=encoding, title=title)
