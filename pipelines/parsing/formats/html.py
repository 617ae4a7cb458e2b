"""HTML → report text, with every data-table row as one line of tab-separated cells.

- Encoding: a BOM wins, then the charset the page declares (`<meta charset>` or `http-equiv`), checked by
  decoding strictly; GB2312/GBK declarations are decoded as GB18030 (their superset: pages labelled
  GB2312 routinely hold GBK-only characters). A page whose bytes contradict its declaration falls back to
  the byte-level detector of `decode.py`.
- Parsing: lxml's HTML parser (libxml2), which repairs the tag soup of CMS-generated pages; a page read as
  strict UTF-8 is parsed from its own bytes (a `str` reaches libxml2 in a wide encoding it converts first).
- Tables: a table that holds another table is page layout — its cells are read as ordinary blocks; an
  innermost table is data and is rebuilt as a grid honouring rowspan/colspan. A merged cell's text sits at
  its first grid position, the positions it spans stay empty, so every row has the full width and a blank
  cell stays in its column (the layout of a table pasted from Word, which `tables.py` reads).
- Page chrome is ignored: scripts, styles, forms, `<nav>`/`<header>`/`<footer>`/`<aside>`, hidden elements,
  and blocks whose class or id names a menu, footer, breadcrumb or sidebar — unless they hold a table.
- Speed: `_Writer` (a recursive walk) defines the lines; `_fast_lines` gives the same lines with the
  per-element work in libxml2 — one pass decides what is left out, the tree is marked (left-out elements
  emptied, a private-use mark where a line ends, each data table replaced by a place-holder) and its text is
  read once. `_lean_lines` gives them again visiting only the elements that can change them (the page's
  serialized markup names the elements that may be left out; data tables' cells are read with one text
  serialization per table; blocks are found by lxml's tag filter): it is what `extract` uses, `_fast_lines`
  remains for a page whose markup cannot name them. A page that itself holds one of the marks is read by
  `_Writer`. Data tables are found by a short walk up from each table, a block that is all of its cell gets
  no marks (its cell's value would strip them), and a cell spanning rows is recorded only as the columns it
  takes in each later row. An element proxy or a regex match costs about a thousand machine instructions,
  libxml2's parse of a 20 KB page about three million; a synthetic report page (compiled) costs about
  0.7 M to decode, 3.4 M to parse, 1.7 M to serialize and scan for the elements that may be left out,
  0.2 M for the title and 4.9 M for the lines, whose rest is per cell (proxy, attributes, tail mark,
  layout: a few thousand each). Looking for the elements in a page's XPath (`//*[@class or ...]`) instead
  of its serialization cost several times more (libxml2's XPath tests each node's predicate slowly).
  Reading the lines from the serialized markup instead (text and tags cut apart, marks mapped per distinct
  tag, all in C string operations) was tried and cost more: every substring of a non-ASCII page is a new
  object of some hundred instructions, and each pass over the page's ~1,300 tags costs about as much as
  the proxies it replaces.
- Title: `<meta name="ArticleTitle">` (the Chinese government CMS convention), then headings and
  `*title*` elements, then `<title>` split at its site-name separators; the first that names an agency and
  a year (`metadata.agency_and_year`) wins; without one the text's own lines decide.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Final

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
_SPACE_RUN = re.compile(r"  +")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜|--|—|－| - )\s*")
_MAX_SPAN = 200

#: libxml2's HTML parser with lxml's plain element classes: `lxml.html`'s HtmlElement lookup costs a Python
#: call for every element proxy, and nothing here needs its methods
_PARSER = etree.HTMLParser()
#: the same parser for the page's text encoded as UTF-8: libxml2 takes UTF-8 as it is, while a `str` is handed
#: over in a wide encoding that libxml2 converts first (a tenth of the parse; encoding the text costs less)
_UTF8_PARSER = etree.HTMLParser(encoding="utf-8")


def _parse(text: str, utf8: bytes | None = None) -> etree._Element | None:
    """`etree.fromstring(text, _PARSER)`; from `utf8`, the text's UTF-8 bytes, when the caller has them: the same
    tree (an explicit encoding overrides a `<meta charset>` as a `str`'s does), for less work. (Encoding the
    text to get them costs about what it saves.)"""
    if utf8 is not None and not text.startswith("<?xml"):  # lxml refuses a `str` opening with a declaration
        return etree.fromstring(utf8, _UTF8_PARSER)
    return etree.fromstring(text, _PARSER)


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
    text, encoding, _ = _decode_page(data)
    return text, encoding


def _decode_page(data: bytes) -> tuple[str, str, bool]:
    """`decode_html`, and whether the text is the bytes read as strict UTF-8 (so `data` is its UTF-8)."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = decode.decode(data)
        return text, encoding, False
    m = _META_CHARSET.search(data[:8192])
    codec = _codec(m.group(1).decode("ascii", "replace")) if m else None
    if codec is not None and not codec.startswith("utf-16"):
        try:
            return data.decode(codec), "gb18030" if codec == "gb18030" else codec, codec == "utf-8"
        except UnicodeDecodeError:
            pass  # mislabelled page: the bytes decide
    decoded = decode.decode_text(data)
    # read as UTF-8 with nothing replaced: every line strict UTF-8, so the whole is (LF is never in a sequence)
    return decoded.text, decoded.encoding, decoded.encoding == "utf-8" and not decoded.problems


# --------------------------------------------------------------------------------------------
# tree → lines
# --------------------------------------------------------------------------------------------
def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _hidden(el: etree._Element) -> bool:
    return el.get("hidden") is not None or bool(_HIDDEN_STYLE.search(el.get("style") or ""))


#: compiled once: `el.xpath(...)` compiles its expression at every call
_TITLE_CLASS = etree.XPath(".//*[contains(@class, 'title')]")


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
    # a sidebar headed 年度报告 that lists other years' reports is not. A title's words are in the block's
    # text, whitespace aside (`_clean` only drops or collapses it): without them no heading need be read.
    words = _collapse(_text_content(el)).replace(" ", "")
    if "政府信息公开" not in words or "报告" not in words:
        return True
    titles = [*el.iter("h1", "h2", "h3", "h4"), *_TITLE_CLASS(el)]
    return not any(_is_report_title(_clean(_text_content(h))) for h in titles)


def _is_report_title(text: str) -> bool:
    return "政府信息公开" in text and "报告" in text and metadata.agency_and_year([text])[1] is not None


def _cell_spans(cell: etree._Element, keys: list[str]) -> tuple[int, int] | None:
    """(rowspan, colspan) of a table cell that has attributes (`keys`), None for a hidden cell (left out of
    the grid)."""
    if _hidden(cell):
        return None
    rowspan = _span(cell.get("rowspan")) if "rowspan" in keys else 1
    colspan = _span(cell.get("colspan")) if "colspan" in keys else 1
    return rowspan, colspan


def _layout(rows: list[list[etree._Element]]) -> tuple[list[tuple[int, int, int]], int]:
    """(row, column, index) of every shown cell of `rows` on the full-width grid, rowspan/colspan honoured
    (`index`: the cell's position among all the cells, hidden ones included), and the grid's width.
    Attributes are read only where a cell has any (most have none); a cell spanning rows is recorded, for
    each later row, as taking its columns there (its own row's columns are passed by the next cell anyway)."""
    placed: list[tuple[int, int, int]] = []
    below: dict[int, set[int]] = {}
    width = index = 0
    for r, row in enumerate(rows):
        column = 0
        taken = below.pop(r, None)
        for cell in row:
            index += 1
            keys = cell.keys()
            if keys:
                spans = _cell_spans(cell, keys)
                if spans is None:
                    continue
                rowspan, colspan = spans
            else:
                rowspan = colspan = 1
            if taken:
                while column in taken:
                    column += 1
            if rowspan > 1:
                columns = range(column, column + colspan)
                for later in range(r + 1, r + rowspan):
                    below.setdefault(later, set()).update(columns)
            placed.append((r, column, index - 1))
            column += colspan
            if column > width:
                width = column
    return placed, width


def _grid_lines(n_rows: int, width: int, placed: list[tuple[int, int, int]], texts: list[str]) -> list[str]:
    """The rows of a grid (`_layout`'s positions filled with `texts`) joined by tabs, empty rows left out."""
    if len(placed) != len(texts):
        raise ValueError(f"{len(texts)} cell texts for {len(placed)} grid positions")
    grid = [[""] * width for _ in range(n_rows)]
    for k in range(len(placed)):
        r, column, _ = placed[k]
        grid[r][column] = texts[k]
    lines: list[str] = []
    for line in grid:
        for text in line:
            if text:
                lines.append("\t".join(line))
                break
    return lines


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
#: tags whose elements can name the title; a heading always, any other only by its class or id
_TITLE_TAGS = ("h1", "h2", "h3", "h4", "p", "div", "td", "span", "strong")


def _title_tags(titled: set[str] | None) -> tuple[str, ...]:
    """The tags `_title_candidates` must visit: all of `_TITLE_TAGS`, or, given the names of the page's elements
    with a title-naming class or id (`_checked_names`), the headings and those names (the rest of a page's
    paragraphs and cells are never looked at). Headings the page lacks cost nothing to ask for: the tag filter
    matches no element (looking for them in the page's markup cost more)."""
    if titled is None:
        return _TITLE_TAGS
    return tuple(tag for tag in _TITLE_TAGS if tag[0] == "h" or tag in titled)


def _title_candidates(root: etree._Element, titled: set[str] | None = None) -> Iterator[str]:
    """Title candidates in the order they are tried; `titled` (see `_title_tags`) only narrows the elements
    visited."""
    found: list[str] = []
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() in ("articletitle", "title") and meta.get("content"):
            found.append(meta.get("content") or "")
    yield from (_clean(t) for t in found if "报告" in t or "年报" in t)
    tags = _title_tags(titled)
    for el in root.iter(*tags) if tags else ():
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
        if 0 < len(text) <= 80 and ("报告" in text or "年报" in text):
            yield _clean(text)
    title_el = root.find(".//title")
    if title_el is not None:
        text = _clean(_text_content(title_el))
        found = [p for p in _TITLE_SEPARATORS.split(text) if p]
        found.append(text)
        yield from (_clean(t) for t in found if "报告" in t or "年报" in t)


def best_title(root: etree._Element, titled: set[str] | None = None) -> str | None:
    """The first candidate naming both agency and year, else None.

    A title naming only the year ("2024年政府信息公开工作年度报告" under an agency line) is not returned:
    `metadata.agency_and_year` tries the title first and would then miss the agency printed above it.
    `titled` (`_checked_names`), when the caller has it, lets the search skip elements that cannot be
    candidates.
    """
    for text in _title_candidates(root, titled):
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
_BREAK: Final = "\ue000"
_TABLE: Final = "\ue001"
_CELL: Final = "\ue002"
_BREAK_OR_SPACE: Final = _BREAK + " "
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
    rows = _own_rows(table)
    cells = [[cell for cell in tr if cell.tag == "td" or cell.tag == "th"] for tr in rows]
    placed, width = _layout(cells)
    if not placed:  # a table without cells (`<table></table>`): joining no texts would still split into one
        return []
    flat = [cell for row in cells for cell in row]
    raw = [flat[i].text or "" if not len(flat[i]) else _text_content(flat[i]) for _, _, i in placed]
    texts = [_joined_cell_text(text) for text in _SPACES.sub(" ", _CELL.join(raw)).split(_CELL)]
    return _grid_lines(len(rows), width, placed, texts)


def _data_tables(walk_root: etree._Element) -> list[etree._Element]:
    """The tables under `walk_root` that hold no table (data tables), in document order: the tables that are
    no table's ancestor, found by a short walk up from each table rather than a search through each table's
    content (all its cells)."""
    tables = list(walk_root.iter("table"))
    layout: set[etree._Element] = set()
    if len(tables) > 1:
        for table in tables:
            for ancestor in table.iterancestors("table"):
                if ancestor in layout:
                    break  # and so are its ancestors
                layout.add(ancestor)
    return [table for table in tables if table not in layout]


def _stand_in(table: etree._Element, index: int) -> None:
    """Replace a data table's content by a place-holder line naming its grid (its tail text stays)."""
    table.clear(keep_tail=True)
    table.text = f"{_BREAK}{_TABLE}{index}{_BREAK}"


def _marked_lines(walk_root: etree._Element, grids: list[list[str]]) -> list[str]:
    """The lines of a marked tree: its text split at the `_BREAK` marks, each place-holder replaced by its
    table's grid lines."""
    lines: list[str] = []
    for part in _collapse(_text_content(walk_root)).split(_BREAK):
        if part.startswith(_TABLE):
            lines.extend(grids[int(part[1:])])
            continue
        part = _join_words(part.strip())
        if part:
            lines.append(part)
    return lines


def _fast_lines(walk_root: etree._Element) -> list[str]:
    """`_Writer.walk(walk_root)`'s lines, computed by marking the tree (excluded elements emptied, a
    `_BREAK` where a line ends, each data table replaced by a place-holder) and reading its text once.
    Mutates the tree."""
    tables = _data_tables(walk_root)
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
        _stand_in(table, live)
        live += 1
    return _marked_lines(walk_root, grids)


# --------------------------------------------------------------------------------------------
# tree → lines, visiting only the elements that matter
# --------------------------------------------------------------------------------------------
# `_fast_lines` looks at every element of the page. `_lean_lines` gives the same lines looking only at the
# elements that can change them: those that may be left out (found by their names, which the page's
# serialized markup lists), data tables' rows and cells, and blocks and `<br>`s (found by lxml's tag filter).
# `etree.tostring` writes the tree as XML, in C: each attribute after one space and in double quotes, no
# raw `<` or `"` inside a value; so an attribute's name and its element's name can be read from the markup.

#: attributes `_excluded` reads, as serialized (a style is looked at only if it could hide)
_CHECKED_ATTRIBUTE = re.compile(r' (?:class|id|role|hidden)="')
_STYLE_VALUE = re.compile(r' style="([^"]*)"')
_TAG_NAME = re.compile(r"[^\s/>]*")
_PLAIN_NAME = re.compile(r"[a-z][a-z0-9]*")
#: the table structure tags: in a regular data table, only its sections, rows and cells
_STRUCTURE_TAGS = ("thead", "tbody", "tfoot", "tr", "td", "th")
_STRUCTURE_TAG_SET: Final = frozenset(_STRUCTURE_TAGS)
#: what `_fast_lines` marks inside a regular data table's cells, and in the rest of the page
_CELL_LINE_TAGS = tuple(sorted(_BLOCK_TAGS - {"table", *_STRUCTURE_TAGS})) + ("br",)
_LINE_TAGS = tuple(sorted(_BLOCK_TAGS)) + ("br",)


def _could_hide(styles: str) -> bool:
    """Whether `_HIDDEN_STYLE` may match in these style values: they hold "none" or "dden" in any case (an
    ASCII word: dropping other characters only adds matches)."""
    ascii_lower = styles.encode("ascii", "ignore").lower()
    return b"none" in ascii_lower or b"dden" in ascii_lower


def _checked_names(markup: str) -> tuple[set[str], set[str]] | None:
    """From the page's serialized markup: the names of the elements that may be left out (with a class, id,
    role, hidden, or a style that could hide) and of those whose class or id names a title — supersets, as
    text that reads like such an attribute counts too. None for a name lxml's tag filter cannot take."""
    checked: set[str] = set()
    titled: set[str] = set()
    hits = [(m.start(), m.end()) for m in _CHECKED_ATTRIBUTE.finditer(markup)]
    if _could_hide("\n".join(_STYLE_VALUE.findall(markup))):
        hits += [(m.start(), -1) for m in _STYLE_VALUE.finditer(markup) if _could_hide(m.group(1))]
    for start, value_start in hits:
        name = _TAG_NAME.match(markup, markup.rfind("<", 0, start) + 1).group()  # type: ignore[union-attr]
        if not name or name[0] == "!":
            continue  # an end tag or a comment: text that reads like an attribute
        if _PLAIN_NAME.fullmatch(name) is None:
            return None
        checked.add(name)
        if value_start > 0 and markup[start + 1] in "ci":  # class or id
            value = markup[value_start : markup.find('"', value_start)].lower()
            if "title" in value or "biaoti" in value:
                titled.add(name)
    return checked, titled


def _internal(el: etree._Element, tables: set[etree._Element]) -> bool:
    """A section, own row or cell of one of the data `tables` (what `_grid_rows` reads, never walked)."""
    tag = el.tag
    if tag == "td" or tag == "th":
        el = el.getparent()
        if el is None or el.tag != "tr":
            return False
        tag = "tr"
    parent = el.getparent()
    if parent is None:
        return False
    if tag == "tr" and parent.tag in ("thead", "tbody", "tfoot"):
        tag, parent = "thead", parent.getparent()
        if parent is None:
            return False
    return tag in _STRUCTURE_TAGS and parent in tables


def _mark(el: etree._Element) -> None:
    """A `_BREAK` where `_Writer` ends a line: around a block's content, in place of a `<br>`."""
    if el.tag == "br":
        el.text = None
        for child in list(el):
            el.remove(child)
    else:
        text = el.text
        el.text = _BREAK + text if text else _BREAK
    tail = el.tail
    el.tail = _BREAK + tail if tail else _BREAK


def _mark_table(table: etree._Element) -> None:
    """The marks `_fast_lines` writes inside a data table (around its cells' blocks, at each `<br>`)."""
    rows = _own_rows(table)
    internal = {table, *rows, *(child for child in table if child.tag in ("thead", "tbody", "tfoot"))}
    for tr in rows:
        internal.update(tr.iterchildren("td", "th"))
    for el in list(table.iter(*_LINE_TAGS)):
        if el not in internal:
            _mark(el)


def _sole_block(el: etree._Element) -> bool:
    """Whether `el` is a block that is all of its cell (the cell's only child, no text around it but
    whitespace): its marks would stand at the cell's ends, which `_joined_cell_text` strips, so it needs none.
    Reading this costs less than writing the marks (a `<p>` wrapping a cell's figure is common)."""
    if el.tag == "br" or (el.tail and not el.tail.isspace()):
        return False
    cell = el.getparent()
    if cell is None or (cell.tag != "td" and cell.tag != "th") or len(cell) != 1:
        return False
    return not cell.text or cell.text.isspace()


def _table_lines(table: etree._Element) -> list[str]:
    """`_grid_rows` of a data table after `_fast_lines`' marks, read with one text serialization: each cell's
    tail becomes a `_CELL` mark, the text around rows and sections is dropped. A table holding anything but
    sections, rows and cells where they belong (a caption, a row inside a cell, a comment) is read by
    `_grid_rows`. Mutates the table.

    Its sections, rows and cells are collected by one loop over the children (any other child makes the table
    irregular), and the structure tags nested deeper are counted by the same tag-filtered pass that finds the
    blocks and `<br>`s to mark (building lxml's tag filter costs about as much as visiting a table's cells)."""
    sections: list[etree._Element] = []
    rows: list[etree._Element] = []
    regular = True
    for child in table:
        tag = child.tag  # a comment's tag is not a str: the table is irregular
        if tag == "tr":
            rows.append(child)
        elif tag == "thead" or tag == "tbody" or tag == "tfoot":
            sections.append(child)
            for tr in child:
                if tr.tag != "tr":
                    regular = False
                    break
                rows.append(tr)
        else:
            regular = False
        if not regular:
            break
    cells: list[list[etree._Element]] = []
    count = len(sections) + len(rows)
    if regular:
        for tr in rows:
            row: list[etree._Element] = []
            for cell in tr:
                tag = cell.tag
                if tag != "td" and tag != "th":
                    regular = False
                    break
                row.append(cell)
            if not regular:
                break
            cells.append(row)
            count += len(row)
    inside: list[etree._Element] = []
    if regular:
        # every structure tag must be one of those sections, rows and cells (none inside a cell)
        for el in table.iter(*_LINE_TAGS):
            tag = el.tag
            if tag in _STRUCTURE_TAG_SET:
                count -= 1
            elif tag != "table":  # the table itself (a data table holds no other)
                inside.append(el)
        regular = count == 0
    if not regular:
        _mark_table(table)
        return _grid_rows(table)
    for el in inside:
        if not _sole_block(el):
            _mark(el)
    table.text = None
    for section in sections:
        section.text = section.tail = None
    for tr, row in zip(rows, cells, strict=True):
        tr.text = tr.tail = None
        for cell in row:
            cell.tail = _CELL
    texts = _collapse(_text_content(table)).split(_CELL)
    placed, width = _layout(cells)
    # `_joined_cell_text`, its first case inline down to `_join_words`' own first test: most cells hold one
    # line without spaces
    shown = [texts[i] for _, _, i in placed]
    joined = [
        _joined_cell_text(text) if _BREAK in text else one if " " not in (one := text.strip()) else _join_words(one)
        for text in shown
    ]
    return _grid_lines(len(rows), width, placed, joined)


def _collapse(text: str) -> str:
    """`_SPACES.sub(" ", text)` by C string functions (the regex tests every character against its class)."""
    for space in "\t\n\r\f\v\u00a0\u3000":
        if space in text:
            text = text.replace(space, " ")
    return _SPACE_RUN.sub(" ", text) if "  " in text else text


def _lean_lines(walk_root: etree._Element, checked: set[str]) -> list[str]:
    """`_fast_lines(walk_root)`, visiting only the elements named in `checked` or `_EXCLUDED_TAGS` (for
    exclusion), data tables' rows and cells, and blocks and `<br>`s. Mutates the tree."""
    tables = _data_tables(walk_root)
    table_set = set(tables)
    # exclusion decided on the untouched tree (chrome checks look at whole subtrees), then applied
    excluded = [
        el
        for el in walk_root.iter(*(_EXCLUDED_TAGS | checked))
        if not (el.tag in _STRUCTURE_TAGS and _internal(el, table_set)) and _excluded(el)
    ]
    if excluded and excluded[0] is walk_root:
        return []
    for el in excluded:
        el.clear(keep_tail=True)
        el.tag = _REMOVED
    grids: list[list[str]] = []
    for table in tables:
        if table.tag != "table":
            continue  # emptied as hidden
        grids.append(_table_lines(table))
        _stand_in(table, len(grids) - 1)
    # no data table's rows or cells are left in the tree: every block and `<br>` is marked
    for el in list(walk_root.iter(*_LINE_TAGS)):
        _mark(el)
    return _marked_lines(walk_root, grids)


def extract(data: bytes) -> Extracted:
    text, encoding, strict_utf8 = _decode_page(data)
    if _XML_DECLARATION.match(text) is not None:
        text = _XML_DECLARATION.sub("", text, count=1)
        strict_utf8 = False
    if not text.strip():
        return Extracted(text="", encoding=encoding)
    try:
        root = _parse(text, data if strict_utf8 else None)
    except (etree.ParserError, ValueError):
        return Extracted(text="", encoding=encoding)
    if root is None:  # what `lxml.html.document_fromstring` raises ParserError for
        return Extracted(text="", encoding=encoding)
    markup = etree.tostring(root, encoding="unicode")
    names = _checked_names(markup)
    title = best_title(root, None if names is None else names[1])
    body = root.find("body")
    walk_root = body if body is not None else root
    if _BREAK in markup or _TABLE in markup or _CELL in markup:
        all_text = _text_content(root)
        if _BREAK in all_text or _TABLE in all_text or _CELL in all_text:
            writer = _Writer()
            writer.walk(walk_root)
            writer.flush()
            lines = writer.lines
        else:
            lines = _fast_lines(walk_root)
    else:
        lines = _fast_lines(walk_root) if names is None else _lean_lines(walk_root, names[0])
    return Extracted(text="\n".join(lines) + "\n", encoding=encoding, title=title)
