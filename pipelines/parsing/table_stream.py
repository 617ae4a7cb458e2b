"""Table text as a stream of pieces: label text and runs of printed figures, in reading order.

Every layout the parser meets (tab-separated grids from Word/HTML/PDF readers, Markdown pipe tables,
`pdftotext` with or without `-layout`, pypdf, pdfminer, one cell per line) reduces to the same stream:
TEXT pieces (what a label may be made of) and VALUES pieces (consecutive cells). Grid lines keep their
blank cells as empty strings, because a blank cell is data (value None); free text cannot print one.
Page numbers (`-4-`, `- 4 -`, `第4页`) are dropped here, so they are never read as figures.
"""

from __future__ import annotations

import re
from typing import Final

from pipelines.parsing.table_cells import is_number

_PAGE_NUMBER: Final = re.compile(r"^[-—–]\s*\d{1,3}\s*[-—–]$|^第\s*\d{1,3}\s*页(?:\s*共\s*\d{1,3}\s*页)?$")
#: fixed-width layouts (`pdftotext -layout`) separate cells by runs of spaces
_WIDE_GAP: Final = "  "
_MD_SEPARATOR: Final = re.compile(r"^:?-{2,}:?$")
#: what a separator row is made of (most rows are not: they are told apart without looking at each cell)
_MD_SEPARATOR_CHARS: Final = re.compile(r"[-:|\s]*")
_DIGIT: Final = re.compile(r"\d")
_CJK: Final = re.compile(r"[\u4e00-\u9fff]")


class Piece:
    """TEXT (`values` empty) or VALUES (`text` empty) taken from one line.

    A piece does not know its line number: the pieces of a line are shared by every line with the same
    text (see `_LINE_SPECS`), so they are never modified (build a new one instead) and `tokenize` keeps the
    line numbers beside them. A plain class with its own `__init__`, not a dataclass: compiled, building
    one is then a C call (a dataclass's generated `__init__` stays interpreted).
    """

    __slots__ = ("first_cell", "fixed_width", "grid", "is_text", "text", "values")

    def __init__(
        self,
        text: str,
        values: list[str],
        grid: bool = False,
        is_text: bool = True,
        first_cell: int = -1,
        fixed_width: bool = False,
    ) -> None:
        self.text = text
        #: never mutated in place (shared): build a new piece to change them
        self.values = values
        #: the values come from a grid row (tabs or pipes): empty strings are blank cells
        self.grid = grid
        #: False for VALUES pieces (set by whoever builds one)
        self.is_text = is_text
        #: grid rows: index of the first value cell among the row's cells (for aligning with the header)
        self.first_cell = first_cell
        #: free-text figures from a line with runs of spaces (fixed width): their columns show in the line
        self.fixed_width = fixed_width


#: the values of every TEXT piece (shared: a piece's values are never mutated)
_NO_VALUES: Final[list[str]] = []


def _is_vertical_char(line: str) -> bool:
    s = line.strip()
    return len(s) == 1 and s != "无" and _CJK.match(s) is not None


#: a text cell this short after the row's first figure stands where a figure belongs ("见附件")
_TEXT_IN_VALUE_CELL: Final = 6


#: cell text -> kind (0 blank, 1 figure, 2 text); the same few cell texts recur in every table
_CELL_KINDS: Final[dict[str, int]] = {}


def _cell_kind(c: str) -> int:
    kind = (1 if c.isdigit() or is_number(c.replace(" ", "") if " " in c else c) else 2) if c else 0
    if len(_CELL_KINDS) < _MAX_LINE_SPECS and len(c) <= _MAX_MEMO_CHARS:
        _CELL_KINDS[c] = kind
    return kind


#: the characters of a grid row's plain cells (ASCII digits or blank), with the row's cell separator
_PLAIN_CELLS: Final = {"\t": "0123456789 \t", "|": "0123456789 |"}


def _grid_pieces(row: str, sep: str, out: list[Piece], keep_trailing: bool = False) -> None:
    """Label cells, then the row's value cells (`row`: cells separated by `sep`). `keep_trailing`: the
    row's trailing blank cells are cells (a Markdown row is closed by its last pipe); elsewhere a trailing
    blank may be padding."""
    # Most rows end in a run of plain cells (ASCII digits or blank): one `rstrip` finds it and its cells
    # are split and cleaned in C. They can be neither a label nor text in a figure's cell, so only the
    # cells before them are looked at one by one.
    head_end = len(row.rstrip(_PLAIN_CELLS[sep]))
    if head_end == 0:
        cells: list[str] = []
        plain = row.replace(" ", "").split(sep)
    else:
        plain_at = row.find(sep, head_end)  # the end of the cell holding the last other character
        if plain_at < 0:
            cells, plain = row.split(sep), []
        else:
            cells, plain = row[:plain_at].split(sep), row[plain_at + 1 :].replace(" ", "").split(sep)
    last_text = -1
    cells = [c.strip() for c in cells]
    # kind of each cell: 0 blank, 1 figure, 2 text
    kinds: list[int] = []
    has_text = False
    for c in cells:
        kind = _CELL_KINDS.get(c, -1)
        if kind < 0:
            kind = _cell_kind(c)
        has_text = has_text or kind == 2
        kinds.append(kind)
    if has_text:
        n = len(cells)
        first_value = -1
        for i, k in enumerate(kinds):
            if k == 2:
                if first_value >= 0 and len(cells[i]) <= _TEXT_IN_VALUE_CELL:
                    continue  # text in a figure's cell: kept as a value (read as None, raw text kept)
                last_text = i
                first_value = -1
            elif k == 1 and first_value < 0 and not (i + 1 < n and kinds[i + 1] == 2 and len(cells[i + 1]) > 3):
                # (a figure followed by a label cell is the label's numbering: "1" | "属于国家秘密")
                first_value = i
        for k, c in enumerate(cells[: last_text + 1]):
            if c:
                out.append(Piece(c.replace(" ", "") if " " in c else c, _NO_VALUES, False, True, k))
    values = [c.replace(" ", "") if " " in c else c for c in cells[last_text + 1 :]]
    values += plain
    if not keep_trailing or not any(values):
        while values and not values[-1]:
            values.pop()
    if values:
        out.append(Piece("", values, True, False, last_text + 1))


def _text_pieces(parts: list[str], fixed_width: bool, out: list[Piece]) -> None:
    if len(parts) > 2 and not parts[0].isdigit():
        rest = parts[1:]
        joined = "".join(rest)
        if joined.isdigit() and joined.isascii() and not is_number(parts[0]):
            # the common row "label 0 12 3 …": one label, then plain figures
            out.append(Piece(parts[0], _NO_VALUES))
            out.append(Piece("", rest, False, False, -1, fixed_width))
            return
    # the plain figures (ASCII digits) the line ends in are figures whatever comes before them: only the
    # words before them are looked at one by one
    head = len(parts)
    while head and parts[head - 1].isdigit() and parts[head - 1].isascii():
        head -= 1
    text: list[str] = []
    values: list[str] = []
    for i, p in enumerate(parts[:head]):
        numeric = is_number(p)
        if numeric and i == 0 and len(parts) > 1 and not is_number(parts[1]) and p.isdigit() and len(p) <= 2:
            numeric = False  # "1 属于国家秘密": the label's numbering
        if numeric:
            if text:
                out.append(Piece("".join(text), _NO_VALUES))
                text = []
            values.append(p)
        else:
            if values:
                out.append(Piece("", values, False, False, -1, fixed_width))
                values = []
            text.append(p)
    if text:
        out.append(Piece("".join(text), _NO_VALUES))
    if head < len(parts):
        values += parts[head:]
    if values:
        out.append(Piece("", values, False, False, -1, fixed_width))


#: line text -> its pieces. Table rows and labels recur from report to report, so a line is split once;
#: bounded, because damaged input may vary without end. The pieces are immutable and shared.
_LINE_SPECS: Final[dict[str, tuple[Piece, ...]]] = {}
_MAX_LINE_SPECS: Final = 100_000
#: longer lines (narrative) are not memoised: the memo's size stays bounded in bytes too
_MAX_MEMO_CHARS: Final = 200


def _line_pieces(lines: list[str], i: int, end: int) -> tuple[Piece, ...]:
    """The pieces of lines[i] (end: the region's end, for looking ahead)."""
    stripped = lines[i].strip()
    if not stripped:
        return ()
    if stripped.isdigit() and stripped.isascii():  # one cell per line: the common case first
        return (Piece("", [stripped], False, False),)
    if stripped[0] in "-—–第" and _PAGE_NUMBER.match(stripped):
        return ()
    out: list[Piece] = []
    if stripped.startswith("|"):
        row = stripped.strip("|")
        if _MD_SEPARATOR_CHARS.fullmatch(row) and all(
            _MD_SEPARATOR.match(c.strip()) or not c.strip() for c in row.split("|")
        ):
            return ()
        _grid_pieces(row, "|", out, keep_trailing=stripped.endswith("|"))
    elif "\t" in stripped:
        _grid_pieces(lines[i], "\t", out)  # leading blank cells keep the columns in place
    elif " " not in stripped and not is_number(stripped):
        out.append(Piece(stripped, _NO_VALUES))  # a label or a label fragment
    elif stripped == "无":
        return _lone_wu(lines, i, end)
    else:
        _text_pieces(stripped.split(), _WIDE_GAP in stripped, out)
    return tuple(out)


#: the two readings of 无 alone on a line (shared, like every line's pieces)
_LONE_ZERO: Final = (Piece("", ["无"], False, False),)
_LONE_CHARACTER: Final = (Piece("无", _NO_VALUES),)


def _lone_wu(lines: list[str], i: int, end: int) -> tuple[Piece, ...]:
    """无 alone on lines[i]: a zero cell, unless it starts a label printed one character per line
    (无/法/提/供); the tail of a wrapped label before it (…申 / 请 / 无) does not count."""
    nxt = next((lines[j] for j in range(i + 1, min(end, i + 3)) if lines[j].strip()), "")
    return _LONE_CHARACTER if _is_vertical_char(nxt) else _LONE_ZERO


def tokenize(lines: list[str], start: int, end: int) -> tuple[list[Piece], list[int]]:
    """The pieces of lines[start:end], in reading order, and the line index of each piece."""
    pieces: list[Piece] = []
    line_of: list[int] = []
    specs = _LINE_SPECS
    for i in range(start, min(end, len(lines))):
        line = lines[i]
        if not line:  # lines are right-stripped: most blank lines are empty
            continue
        spec = specs.get(line)
        if spec is None:
            if line.strip() == "无":  # depends on the lines after it: not memoised
                spec = _lone_wu(lines, i, end)
            else:
                spec = _line_pieces(lines, i, end)
                if len(specs) < _MAX_LINE_SPECS and len(line) <= _MAX_MEMO_CHARS:
                    specs[line] = spec
        if len(spec) == 1:  # most lines: one label, one run of figures or one cell
            pieces.append(spec[0])
            line_of.append(i)
        elif spec:
            for piece in spec:
                pieces.append(piece)
                line_of.append(i)
    return pieces, line_of
