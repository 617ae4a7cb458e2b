"""Reading one printed table cell: blanks, zero marks, thousands separators, units, stray signs.

A cell is read as it was printed: `-`, `—`, `/` and `无` mean zero (the raw text is kept), `1,234` is
1234, `+3` is 3, `251000元` in an amount cell is 25.1 (万元), `103.3879万元` is 103.3879. Nothing is
rounded or corrected; a fractional count stays fractional so that the rules can report it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from pipelines.parsing.record import Cell

#: printed marks that stand for zero
ZERO_MARKS: Final[frozenset[str]] = frozenset({"-", "—", "——", "–", "/", "无", "－", "一一", "─"})
# one anchored pattern, no nested quantifiers: cheap on every piece
_NUMBER: Final = re.compile(r"^([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(万元|元|件|个|项|人次|次|条)?$")


def is_number(piece: str) -> bool:
    """Whether a whitespace-free piece of text is a printed figure (or a zero mark)."""
    if (piece.isascii() and piece.isdigit()) or piece in ZERO_MARKS:
        return True
    # a figure starts with a sign or a digit (`\d`: a decimal digit): a label is told apart without the regex
    first = piece[:1]
    return (first in _SIGNS or first.isdecimal()) and _NUMBER.match(piece) is not None


#: the signs `_NUMBER` allows before a figure
_SIGNS: Final = frozenset("+-−")


#: printed text -> its cell, for count cells and for amount cells (the same few texts fill most cells). The
#: cells are shared between rows and reports with the same printed text: a cell is never modified once read.
_COUNT_CELLS: Final[dict[str, Cell]] = {}
_AMOUNT_CELLS: Final[dict[str, Cell]] = {}
_CACHE_SIZE: Final = 50_000
#: longer texts (not figures) are not memoised: the caches stay bounded in bytes too
_MAX_KEY_CHARS: Final = 64


def read_cell(raw: str, amount: bool = False) -> Cell:
    """As `read_value`, memoised on the printed text."""
    cells = _AMOUNT_CELLS if amount else _COUNT_CELLS
    cell = cells.get(raw)
    if cell is None:
        cell = read_value(raw, amount)
        if len(cells) < _CACHE_SIZE and len(raw) <= _MAX_KEY_CHARS:
            cells[raw] = cell
    return cell


def read_cells(raws: list[str]) -> list[Cell]:
    """`read_cell` of each count cell of a row."""
    cells: list[Cell] = []
    for raw in raws:
        cells.append(read_cell(raw))
    return cells


def read_row(columns: tuple[str, ...], raws: list[str]) -> dict[str, Cell]:
    """Column code -> `read_cell` of the count cell printed under it (cells beyond the columns are left)."""
    row: dict[str, Cell] = {}
    for j in range(min(len(columns), len(raws))):
        row[columns[j]] = read_cell(raws[j])
    return row


def read_value(raw: str, amount: bool = False) -> Cell:
    """The cell value of a printed figure; `amount` cells are 万元 floats, the others integer counts.

    A blank cell is `Cell(None, "")`. Text that is not a figure gives `Cell(None, raw)` (the caller
    reports it).
    """
    text = raw.strip()
    if not text:
        return Cell(None, raw)
    if text in ZERO_MARKS:
        return Cell(0.0 if amount else 0, raw)
    m = _NUMBER.match(text.replace(" ", ""))
    if m is None:
        return Cell(None, raw)
    sign, digits, fraction, unit = m.groups()
    number_text = digits.replace(",", "") + (fraction or "")
    negative = sign in ("-", "−")
    if amount:
        # Decimal: 1234567元 is exactly 123.4567 万元, not 123.45670000000001
        value = float(Decimal(number_text) / 10000) if unit == "元" else float(number_text)
        return Cell(-value if negative else value, raw)
    if fraction and fraction.strip(".0"):
        count: int | float = float(number_text)
    else:
        count = int(digits.replace(",", ""))
    return Cell(-count if negative else count, raw)
