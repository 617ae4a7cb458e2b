"""Blank cells in fixed-width text (`pdftotext -layout`): place a short row's figures by their columns.

Free text cannot print a blank cell, but fixed-width text keeps the figures' horizontal positions. A row
with fewer figures than the table has columns is aligned against the nearest complete row: each figure
goes to the column whose position is closest (in characters, as pdftotext counts, or in display width,
CJK counting double, whichever fits better), and the columns left over are the blanks.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

from pipelines.parsing.table_stream import Piece

_TOKEN: Final = re.compile(r"\S+")
#: a reference row further than this many lines away is on another page or another table
_MAX_DISTANCE: Final = 30
#: more blanks than this in one row are not guessed
_MAX_BLANKS: Final = 2


#: ASCII punctuation that NFKC made of full-width forms in Chinese text: it was printed two columns wide
_WAS_FULL_WIDTH: Final = frozenset("(),:;")


def _display_offsets(line: str) -> list[int]:
    out = [0]
    for ch in line:
        out.append(out[-1] + (2 if ord(ch) > 0x2E7F or ch in _WAS_FULL_WIDTH else 1))
    return out


def _spans(line: str, values: list[str]) -> list[tuple[int, int]] | None:
    """(start, end) character offsets of the piece's figures: the last run of tokens equal to them."""
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
    k = len(values)
    for i in range(len(tokens) - k, -1, -1):
        if all(tokens[i + j][2] == values[j] for j in range(k)):
            return [(s, e) for s, e, _ in tokens[i : i + k]]
    return None


def _measures(line: str, spans: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    offsets = _display_offsets(line)
    return spans, [(offsets[s], offsets[e]) for s, e in spans]


def _edge(span: tuple[int, int], edge: int) -> float:
    return span[edge] if edge < 2 else (span[0] + span[1]) / 2


def _best_columns(short: list[tuple[int, int]], full: list[tuple[int, int]]) -> tuple[float, tuple[int, ...]]:
    """The columns (in order) for the short row's figures that fit the full row's best.

    Positions can be off by a little (pdftotext spaces cells unevenly; a bracket before the figures may
    have been narrow), so a fit is judged by how constant the shift is across the figures (left or right
    edges, or centres, whichever fits best) plus how large it is: a figure in the wrong column is off by
    a whole column.
    """
    best: tuple[float, tuple[int, ...]] = (float("inf"), ())
    for cols in itertools.combinations(range(len(full)), len(short)):
        cost = float("inf")
        for edge in (0, 1, 2):  # left edges, right edges, centres (left-, right-aligned, centred cells)
            shifts = [_edge(pos, edge) - _edge(full[c], edge) for pos, c in zip(short, cols, strict=True)]
            spread = max(shifts) - min(shifts)
            cost = min(cost, spread + abs(sum(shifts)) / len(shifts))
        if cost < best[0]:
            best = (cost, cols)
    return best


def align_short_rows(pieces: list[Piece], line_of: list[int], lines: list[str], width: int) -> list[str]:
    """Pad short free-text rows of a fixed-width table with blank cells where their columns are empty.

    Replaces the short VALUES pieces in `pieces` (line_of: each piece's line index); returns a description
    of each row padded (for `problems`).
    """
    if not any([p.fixed_width for p in pieces]):
        return []  # not a fixed-width layout (one C-level pass)
    short: list[int] = []  # positions of the short rows
    full: list[int] = []  # positions of the complete rows
    for k, p in enumerate(pieces):
        if p.fixed_width:
            n = len(p.values)
            if n == width:
                full.append(k)
            elif width - _MAX_BLANKS <= n < width:
                short.append(k)
    if not short or not full:
        return []
    measured = []  # (line index, char spans, display spans) of the complete rows
    for k in full:
        line_no = line_of[k]
        spans = _spans(lines[line_no], pieces[k].values)
        if spans is not None:
            measured.append((line_no, *_measures(lines[line_no], spans)))
    if not measured:
        return []
    # the measure in which complete rows line up: characters (pdftotext) or display width
    use_display = _spread([m[2] for m in measured]) < _spread([m[1] for m in measured])
    notes: list[str] = []
    for k in short:
        p = pieces[k]
        line_no = line_of[k]
        line = lines[line_no]
        _, ref_chars, ref_display = min(measured, key=lambda m: abs(m[0] - line_no))
        spans = _spans(line, p.values)
        if spans is None:
            continue
        chars, display = _measures(line, spans)
        _cost, cols = _best_columns(display, ref_display) if use_display else _best_columns(chars, ref_chars)
        placed = [""] * width
        for v, c in zip(p.values, cols, strict=True):
            placed[c] = v
        pieces[k] = Piece(p.text, placed, p.grid, p.is_text, p.first_cell, p.fixed_width)
        blanks = [str(c + 1) for c in range(width) if c not in cols]
        notes.append(f"line {line_no + 1}: blank cell(s) in column {', '.join(blanks)} placed by position")
    return notes


def _spread(rows: list[list[tuple[int, int]]]) -> int:
    """How far the complete rows' first and last figures wander (max - min of their edges)."""
    starts = [r[0][0] for r in rows]
    ends = [r[-1][1] for r in rows]
    return max(starts) - min(starts) + max(ends) - min(ends)
