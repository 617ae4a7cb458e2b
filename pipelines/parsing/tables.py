"""Tables 2, 3 and 4 from normalized report lines, in every layout the spec lists.

How a table is read, whatever the layout:

1. The table's lines become a stream of label text and runs of figures (`table_stream`).
2. Row labels are recognised by their text (`table_labels`), never by position. The labels that occur
   in the printed order of the template (the heaviest increasing subsequence, where a label followed by
   figures weighs more) are the *anchors*; a label printed out of order (pdftotext puts some
   merged-cell labels after their figures) or a column header that reads like a row label is left out.
3. The figures between one anchor and the next belong to the rows from that anchor up to the row
   before the next anchor: row by row when the anchor's label is followed by its own figures; when
   several labels come first and the figures after them (pdfminer), both the column-by-column and the
   row-by-row reading are possible.
4. Where a layout leaves a choice (column- or row-major, an extra trailing cell, the order of the
   appeal figures), the layout's own reading is kept when the rules (`rules.count_breaches`) hold under
   it; otherwise the other readings are built and one under which the rules hold (or clearly fewer
   equations break) is taken. What was ambiguous goes to `problems`. Figures are never altered to make
   a rule pass: a printed breach stays and is reported by the rules.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Final, cast

from pipelines.parsing.record import Cell, Number, Table3, Table4
from pipelines.parsing.rules import count_breaches, count_sum_breaches
from pipelines.parsing.table_cells import read_cell, read_cells, read_row
from pipelines.parsing.table_columns import align_short_rows
from pipelines.parsing.table_labels import (
    LabelMatcher,
    application_matcher,
    compact,
    proactive_matcher,
    proceeding_matcher,
)
from pipelines.parsing.table_stream import Piece, tokenize
from schemas.codes import (
    AMOUNT_METRICS,
    APPEAL_OUTCOME_CODES,
    APPLICANT_COLUMNS,
    APPLICATION_ROWS,
    COLUMN_CODES,
    LEGAL_PERSON_SUBTOTAL,
    PROCEEDING_CODES,
    TOTAL_PART_CODES,
)
from schemas.rules import SUM_RULES

_APPEAL_RULE: Final = next(r for r in SUM_RULES if r.id == "appeal_total")

# Section headings (compact text) that open and close the tables.
_T2_HEADINGS: Final = ("主动公开政府信息情况",)
_T3_HEADINGS: Final = ("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请")
_T4_HEADINGS: Final = ("政府信息公开行政复议行政诉讼情况", "行政复议行政诉讼情况", "行政复议行政诉讼")
_T5_HEADINGS: Final = ("存在的主要问题", "主要问题及改进情况", "其他需要报告的事项")


class Tables:
    """What `extract_tables` read (a plain class, not a dataclass: compiled, building one is a C call)."""

    __slots__ = ("appeals", "applications", "proactive", "problems")

    def __init__(self) -> None:
        self.proactive: dict[str, Cell] = {}
        self.applications: Table3 = {}
        self.appeals: Table4 = {}
        self.problems: list[str] = []


# ---------------------------------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------------------------------
#: (line index, compact text) of the lines that may be headings or boundary rows, in line order
_Heads = list[tuple[int, str]]


def _find_heading(heads: _Heads, headings: tuple[str, ...], start: int, max_len: int = 40) -> int | None:
    for i, c in heads:
        if i >= start and len(c) <= max_len:
            for h in headings:
                if h in c:
                    return i
    return None


#: words of the headings and boundary rows looked for (情 only where 情况 follows, maybe spaced out: see
#: `_QING_KUANG`); each is found by `str.find`, far cheaper than one regex alternation over the text
_REGION_WORDS: Final = ("情", "第二十条", "新收", "结转下年度", "行政复议", "主要问题", "需要报告")
_QING_KUANG: Final = re.compile(r"情\s*况")


#: heading line -> its compact text. Only texts without figures are kept (the national headings, which
#: recur in every report); bounded, because damaged input may vary without end.
_HEADING_TEXTS: Final[dict[str, str]] = {}
_MAX_HEADING_TEXTS: Final = 10_000


def _region_word_starts(text: str) -> list[int]:
    """Where the region words start in `text`, sorted (at least the first of each word on a line)."""
    starts: list[int] = []
    for word in _REGION_WORDS:
        at = text.find(word)
        while at >= 0:
            # (情况 as printed is found without the regex, which also allows spaces between them)
            if word != "情" or text.find("况", at + 1, at + 2) > 0 or _QING_KUANG.match(text, at):
                starts.append(at)
                at = text.find("\n", at)  # the word again on this line adds nothing: on to the next line
                if at < 0:
                    break
            at = text.find(word, at + 1)
    starts.sort()
    return starts


def _heading_texts(lines: list[str]) -> _Heads:
    """Compact text of the lines that may be headings or boundary rows (only those: the narrative between
    them is never looked at again)."""
    out: _Heads = []
    text = "\n".join(lines)
    known = _HEADING_TEXTS
    line_no, at, seen = 0, 0, -1
    for start in _region_word_starts(text):
        line_no += text.count("\n", at, start)  # few words: counting newlines beats an index
        at = start
        if line_no == seen:
            continue
        seen = line_no
        line = lines[line_no]
        if len(line) <= 80 or "结转下年度" in line or "行政复议" in line:
            c = known.get(line)
            if c is None:
                c = compact(line)
                if c.isalpha() and len(known) < _MAX_HEADING_TEXTS:
                    known[line] = c
            if c:
                out.append((line_no, c))
    return out


def _regions(lines: list[str], template: str) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Line ranges of tables 2, 3 and 4 (start, end); an empty range where a table is not found."""
    heads = _heading_texts(lines)
    n = len(lines)
    t2 = _find_heading(heads, _T2_HEADINGS, 0)
    if t2 is None:
        t2 = next((i for i, c in heads if "第二十条第" in c), None)
    t3 = _find_heading(heads, _T3_HEADINGS, t2 or 0)
    if t3 is None:
        t3 = next((i for i, c in heads if "本年新收" in c or "新收政府信息公开申请" in c), None)
    t4 = _find_heading(heads, _T4_HEADINGS, t3 if t3 is not None else (t2 or 0))
    if t4 is None and t3 is not None:
        # no heading: table 4 starts after the last table-3 row label
        last = next((i for i, c in reversed(heads) if i > t3 and "结转下年度" in c), None)
        if last is not None:
            t4 = next((i for i, c in heads if i > last and "行政复议" in c), None)
    t5 = _find_heading(heads, _T5_HEADINGS, (t4 if t4 is not None else (t3 if t3 is not None else (t2 or 0))))
    end = t5 if t5 is not None else n
    r2 = (t2, t3 if t3 is not None else (t4 if t4 is not None else end)) if t2 is not None else (0, 0)
    r3 = (t3, t4 if t4 is not None else end) if t3 is not None else (0, 0)
    r4 = (t4, end if t4 is not None and end > t4 else min(n, (t4 or 0) + 60)) if t4 is not None else (0, 0)
    return r2, r3, r4


# ---------------------------------------------------------------------------------------------------
# Anchors and blocks (shared by tables 2 and 3)
# ---------------------------------------------------------------------------------------------------
#: label events or anchors: the rows they label and their positions in the piece stream (parallel lists)
_Labels = tuple[list[int], list[int]]


def _label_events(pieces: list[Piece], matcher: LabelMatcher) -> _Labels:
    rows: list[int] = []
    positions: list[int] = []
    pending: str | None = None  # an unmatched text piece: the first half of a wrapped label
    after_label = False  # text right after a label (no figures between) may be its wrapped tail
    last = len(pieces) - 1
    for pos, p in enumerate(pieces):
        if not p.is_text:
            pending = None
            after_label = False
            continue
        text = p.text
        row = matcher.match(text)
        if row is None and pending is not None:
            row = matcher.match(pending + text)
        if row is None and not after_label and pos < last and not pieces[pos + 1].is_text:
            row = matcher.fuzzy(text)
        if row is None:
            pending = None if after_label else text
        else:
            pending = None
            after_label = True
            rows.append(row)
            positions.append(pos)
    return rows, positions


def _anchors(events: _Labels, pieces: list[Piece]) -> _Labels:
    """Heaviest subsequence of label events whose rows strictly increase (the printed order).

    A label followed by figures weighs more: a label printed out of place after the table's
    figures (pdftotext) or a column header that happens to read like a row label loses against the
    labels that carry figures.
    """
    rows, positions = events
    n = len(rows)
    if all(rows[k - 1] < rows[k] for k in range(1, n)):
        return events  # already in printed order (the common case): every label is an anchor
    # 3 when figures follow before the next label (a wrapped label's tail may come between), else 1
    weight = [1] * n
    for i in range(n):
        stop = positions[i + 1] if i + 1 < n else len(pieces)
        for p in pieces[positions[i] + 1 : stop]:
            if not p.is_text:
                weight[i] = 3
                break
    best = list(weight)
    parent = [-1] * n
    for i in range(1, n):
        ri = rows[i]
        top, arg = best[i], -1
        wi = weight[i]
        for j in range(i):
            if rows[j] < ri and best[j] + wi > top:
                top, arg = best[j] + wi, j
        best[i], parent[i] = top, arg
    i = max(range(n), key=best.__getitem__)
    chosen: list[int] = []
    while i >= 0:
        chosen.append(i)
        i = parent[i]
    chosen.reverse()
    return [rows[i] for i in chosen], [positions[i] for i in chosen]


class _Block:
    """The rows from one anchor up to the row before the next, and the figures printed for them."""

    __slots__ = ("before", "groups", "labelled", "labels_first", "rows", "tail")

    def __init__(
        self,
        rows: list[int],
        groups: list[Piece],
        labels_first: bool,
        labelled: list[int],
        tail: tuple[int, int],
        before: list[int],
    ) -> None:
        #: row indices, in printed order, up to the row before the next anchor
        self.rows = rows
        #: VALUES pieces
        self.groups = groups
        #: several labels printed before any of their figures
        self.labels_first = labels_first
        # The fields below are read only for labels-first blocks (`_NO_ROWS`, (0, 0) in the others):
        #: the rows from the block's first to its last label (a labels-first block's own rows)
        self.labelled = labelled
        #: where the figures after the last label are in the piece stream (start, end): split into runs
        #: uninterrupted by text only where table 2 needs them (pdfminer prints a column header before
        #: each item's run), see `_proactive_runs`
        self.tail = tail
        #: rows without a recognised label just before the block (a label lost to a typo at a page start)
        self.before = before


#: the labels-first fields of the other blocks (shared: never modified, only replaced)
_NO_ROWS: Final[list[int]] = []


def _blocks(pieces: list[Piece], anchors: _Labels, n_rows: int) -> list[_Block]:
    rows, positions = anchors
    n = len(rows)
    ends = [*positions[1:], len(pieces)]
    blocks: list[_Block] = []
    k = 0
    while k < n:
        j = k
        while True:
            at = positions[j] + 1
            if ends[j] - at == 1 and not pieces[at].is_text:
                groups = [pieces[at]]  # the label's one run of figures (the common case)
            else:
                groups = [p for p in pieces[at : ends[j]] if not p.is_text] if ends[j] > at else []
            if groups or j + 1 >= n:
                break
            j += 1
        first = rows[k]
        next_row = rows[j + 1] if j + 1 < n else n_rows
        own = [first] if next_row == first + 1 else list(range(first, next_row))
        if j == k:  # the anchor's own figures follow it (the common case)
            blocks.append(_Block(own, groups, False, _NO_ROWS, (0, 0), _NO_ROWS))
        else:
            before = list(range(rows[k - 1] + 1 if k else 0, first))
            tail = (positions[j] + 1, ends[j])
            blocks.append(_Block(own, groups, True, list(range(first, rows[j] + 1)), tail, before))
        k = j + 1
    return blocks


def _fit_grid(values: list[str], width: int) -> list[str]:
    """A grid row's cells fitted to the expected width: surplus leading blanks are a shifted row (label
    padding), then surplus trailing blanks are padding after the row."""
    values = list(values)
    while len(values) > width and not values[0]:
        values.pop(0)
    while len(values) > width and not values[-1]:
        values.pop()
    return values


# ---------------------------------------------------------------------------------------------------
# Table 3
# ---------------------------------------------------------------------------------------------------
Reading = dict[int, list[str]]  # row index -> raw cells
#: when every reading breaks a rule, another reading replaces the layout's default only if it breaks
#: this many fewer equations (a single printed breach must not flip a whole block)
_CLEAR_MARGIN: Final = 3


def _table3_columns(texts: list[str]) -> tuple[str, ...]:
    """The columns, from the pieces' texts (empty for VALUES pieces)."""
    # the header may come after the labels (pdfminer) and be broken into pieces (小 / 计)
    text = "".join(texts)
    if any(alias in text for alias in LEGAL_PERSON_SUBTOTAL.aliases):
        return (*COLUMN_CODES[:6], LEGAL_PERSON_SUBTOTAL.code, COLUMN_CODES[6])
    return COLUMN_CODES


def _header_column(pieces: list[Piece], texts: list[str], label: str) -> int:
    """Grid index of the header cell `label` (自然人), or -1: where a grid row's first figure belongs.
    (`texts`: the pieces' texts.)"""
    for pos in range(len(texts)):
        if texts[pos] == label and pieces[pos].first_cell >= 0:  # a grid cell
            return pieces[pos].first_cell
    return -1


def _aligned(g: Piece, width: int, first_column: int) -> list[str] | None:
    """A grid row's cells read at the header's positions, when the row fits them exactly: blanks from
    its label to the first column, no figure beyond the last. (HTML tables keep every cell in place, so
    a blank 总计 at the end of a row, lost to line stripping, is not mistaken for a shifted row.)"""
    offset = first_column - g.first_cell
    if first_column < 0 or offset < 0:
        return None
    values = g.values
    stop = offset + width
    if (offset and any(values[:offset])) or (len(values) > stop and any(values[stop:])):
        return None
    row = values[offset:stop]
    if len(row) < width:
        row += [""] * (width - len(row))
    return row


def _block_values(block: _Block, width: int, first_column: int = -1) -> list[str]:
    """The block's figures in printed order (grid rows fitted to `width`). The list may be a piece's own
    value list: never mutated."""
    groups = block.groups
    if len(groups) == 1 and not groups[0].grid:
        return groups[0].values
    out: list[str] = []
    for g in groups:
        if g.grid:
            fitted = _aligned(g, width, first_column) if len(block.groups) == len(block.rows) else None
            if fitted is None:
                fitted = _fit_grid(g.values, width)
                if len(fitted) < width and len(block.groups) == len(block.rows):
                    fitted = fitted + [""] * (width - len(fitted))  # trailing blank cells of a grid row
            out.extend(fitted)
        else:
            out.extend(g.values)
    return out


def _row_major(rows: list[int], values: list[str], width: int) -> Reading:
    if len(rows) == 1:  # most blocks: one labelled row
        return {rows[0]: values[:width]} if values else {}
    return {r: values[i * width : (i + 1) * width] for i, r in enumerate(rows) if i * width < len(values)}


def _column_major(rows: list[int], values: list[str], width: int) -> Reading:
    n = len(rows)  # (len(values) == n * width: row i is every n-th figure from the i-th)
    return {r: values[i::n] for i, r in enumerate(rows)}


_SHORT_ROW: Final = "one figure short: blank cell assumed in column"


def _block_readings(
    block: _Block, width: int, codes: list[str], first_column: int = -1
) -> tuple[list[tuple[str, Reading]], list[str]]:
    """Candidate readings of a block (best guess first) and problems that hold for all of them."""
    values = _block_values(block, width, first_column)
    if not block.labels_first and len(block.rows) == 1 and len(values) == width:
        return [("row by row", {block.rows[0]: values[:]})], []  # one row, its figures complete: most blocks
    if block.labels_first and len(values) == len(block.labelled) * width:
        block.rows = block.labelled
    elif block.labels_first and block.before and len(values) == (len(block.before) + len(block.labelled)) * width:
        block.rows = block.before + block.labelled
    n = len(block.rows)
    problems: list[str] = []
    if len(values) == n * width:
        readings = [("row by row", _row_major(block.rows, values, width))]
        if block.labels_first and n > 1:
            readings.insert(0, ("column by column", _column_major(block.rows, values, width)))
        return readings, problems
    if len(values) == n * (width + 1):
        chunks = [values[i * (width + 1) : (i + 1) * (width + 1)] for i in range(n)]
        drop_last = {r: c[:width] for r, c in zip(block.rows, chunks, strict=True)}
        drop_first = {r: c[1:] for r, c in zip(block.rows, chunks, strict=True)}
        return [("extra trailing cell ignored", drop_last), ("extra leading cell ignored", drop_first)], problems
    # Rows per line: a block whose lines each carry one row's figures.
    if block.groups and len(block.groups) <= n and all(len(g.values) == width + 1 for g in block.groups):
        reading = {r: g.values[:width] for r, g in zip(block.rows, block.groups, strict=False)}
        return [("extra trailing cell ignored", reading)], problems
    if n == 1 and len(values) == width - 1 and not any(g.grid for g in block.groups):
        # free text cannot print a blank cell: one figure short, the blank may be in any column; the
        # rules place it (the layout's guess, the last column, first)
        r = block.rows[0]
        return [
            (f"{_SHORT_ROW} {c + 1}", {r: [*values[:c], "", *values[c:]]}) for c in (width - 1, *range(width - 1))
        ], problems
    reading = _row_major(block.rows, values, width)
    if len(values) > n * width:
        problems.append(
            f"table 3: {len(values) - n * width} surplus figures after row {codes[block.rows[-1]]} ignored "
            f"({len(values)} figures for {n} rows of {width})"
        )
    elif len(values) % width:
        problems.append(
            f"table 3: {len(values)} figures for {n} row(s) of {width} columns from row {codes[block.rows[0]]}; "
            "incomplete rows left blank"
        )
    return [("row by row", reading)], problems


def _rows_add_up(reading: Reading, columns: tuple[str, ...]) -> bool:
    """Cheap pre-check of the row_total rule on a reading's rows (before building the whole table)."""
    total_at = columns.index("total")
    parts_at = [columns.index(c) for c in TOTAL_PART_CODES]
    for cells in reading.values():
        if len(cells) != len(columns):
            return False
        values = [read_cell(cells[k]).value for k in (*parts_at, total_at)]
        if None not in values and sum(cast(list[Number], values[:-1])) != values[-1]:
            return False
    return True


def _to_table3(readings: list[Reading], codes: list[str], columns: tuple[str, ...]) -> Table3:
    table: Table3 = {}
    width = len(columns)
    for reading in readings:
        for r, cells in reading.items():
            if not cells:
                continue
            if len(cells) < width:
                cells = list(cells) + [""] * (width - len(cells))
            table[codes[r]] = read_row(columns, cells)
    return {code: table[code] for code in codes if code in table}


def _row_figures(pieces: list[Piece], start: int, end: int, width: int, first_column: int) -> list[str] | None:
    """The figures of pieces[start:end] as one complete table-3 row (what `_block_values` and
    `_block_readings` make of a one-row block whose figures are complete), or None when they are not one
    complete row (then the general reader decides)."""
    if start >= end:
        return None
    g = pieces[start]
    if g.is_text or not (end - start == 1 or (end - start == 2 and pieces[start + 1].is_text)):
        # not the common shapes (figures, or figures then a heading): look at every piece
        groups = [p for p in pieces[start:end] if not p.is_text]
        if len(groups) != 1:
            values = []  # one cell per line, or a wrapped row: free text only
            for p in groups:
                if p.grid:
                    return None
                values += p.values
            return values if len(values) == width else None
        g = groups[0]
    values = g.values
    if g.grid:
        fitted = _aligned(g, width, first_column)
        if fitted is None:
            fitted = _fit_grid(values, width)
            if len(fitted) < width:
                fitted += [""] * (width - len(fitted))  # trailing blank cells of a grid row
        values = fitted
    return values if len(values) == width else None


def _read_rows_directly(
    pieces: list[Piece], anchors: _Labels, codes: list[str], columns: tuple[str, ...], first_column: int
) -> Table3 | None:
    """Table 3 in one pass when it is well formed (the common case): every row from the first anchor to
    the last row labelled in printed order, each label followed by exactly one complete row of figures.
    Such a table leaves the general reader no choice and no problem to report, so the result is the one
    it would build. None when the table is not of that shape."""
    rows, positions = anchors
    n = len(rows)
    if rows[-1] != len(codes) - 1 or rows[-1] - rows[0] != n - 1:
        return None  # a row without its label (or a labels-first block): the general reader
    width = len(columns)
    table: Table3 = {}
    ends = [*positions[1:], len(pieces)]
    for row, pos, end in zip(rows, positions, ends, strict=True):
        values = _row_figures(pieces, pos + 1, end, width, first_column)
        if values is None:
            return None
        table[codes[row]] = read_row(columns, values)
    return table


@cache
def _application_codes(template: str) -> list[str]:
    return [r.code for r in APPLICATION_ROWS[template]]


def _read_applications(
    pieces: list[Piece], line_of: list[int], template: str, problems: list[str], lines: list[str]
) -> Table3:
    matcher = application_matcher(template)
    codes = _application_codes(template)
    anchors = _anchors(_label_events(pieces, matcher), pieces)
    if not anchors[0]:
        problems.append("table 3: no row label of the national format found")
        return {}
    texts = [p.text for p in pieces]
    columns = _table3_columns(texts)
    width = len(columns)
    problems.extend(f"table 3 {note}" for note in align_short_rows(pieces, line_of, lines, width))
    first_column = _header_column(pieces, texts, APPLICANT_COLUMNS[0].label)
    table = _read_rows_directly(pieces, anchors, codes, columns, first_column)
    if table is not None:
        return table
    blocks = _blocks(pieces, anchors, len(codes))
    options: list[list[tuple[str, Reading]]] = []
    for block in blocks:
        readings, block_problems = _block_readings(block, width, codes, first_column)
        problems.extend(block_problems)
        options.append(readings)
    ambiguous = [i for i, o in enumerate(options) if len(o) > 1]
    choice = [0] * len(options)

    def build(ch: list[int]) -> Table3:
        return _to_table3([options[i][c][1] for i, c in enumerate(ch)], codes, columns)

    if not ambiguous:
        return build(choice)
    default = best = build(choice)
    default_score = best_score = count_breaches(best, template)
    tied = False
    if best_score == 0:
        # the layout's reading satisfies the rules; another reading of a block that prints different
        # figures and satisfies them too is an ambiguity to report
        for i in ambiguous:
            if options[i][0][0].startswith("extra"):
                continue
            for alt in range(1, len(options[i])):
                reading = options[i][alt][1]
                if reading != options[i][0][1] and _rows_add_up(reading, columns):
                    ch = list(choice)
                    ch[i] = alt
                    tied = tied or count_breaches(build(ch), template) == 0
    elif len(ambiguous) <= 3:
        for combo in itertools.product(*(range(len(options[i])) for i in ambiguous)):
            ch = list(choice)
            for i, c in zip(ambiguous, combo, strict=True):
                ch[i] = c
            if ch == choice:
                continue
            table = build(ch)
            score = count_breaches(table, template)
            if score < best_score:
                best, best_score, best_choice = table, score, ch
            elif score == best_score == 0 and table != best:
                tied = True
        if best_score > 0 and default_score - best_score < _CLEAR_MARGIN:
            # no reading satisfies the rules (a breach was printed): keep the reading the layout
            # suggests unless the rules clearly prefer another
            best = default
        elif best is not default:
            choice = best_choice
    else:
        # many ambiguous blocks (an extra cell on every row): settle them one at a time
        for i in ambiguous:
            for alt in range(1, len(options[i])):
                ch = list(choice)
                ch[i] = alt
                table = build(ch)
                score = count_breaches(table, template)
                if score < best_score:
                    best, best_score, choice = table, score, ch
    extra = [i for i in ambiguous if options[i][choice[i]][0].startswith("extra")]
    if extra:
        n_rows = sum(len(blocks[i].rows) for i in extra)
        hows = sorted({options[i][choice[i]][0] for i in extra})
        problems.append(f"table 3: {n_rows} row(s) print one cell more than the header has columns ({'; '.join(hows)})")
    for i in ambiguous:
        how = options[i][choice[i]][0]
        if how.startswith(_SHORT_ROW):
            problems.append(f"table 3 row {codes[blocks[i].rows[0]]}: {how} (chosen by the rules)")
    if tied:
        for i in ambiguous:
            how = options[i][choice[i]][0]
            if how.startswith(("extra", _SHORT_ROW)):
                continue
            rows = blocks[i].rows
            problems.append(
                f"table 3 rows {codes[rows[0]]}…{codes[rows[-1]]}: figures printed after the labels, read {how}; "
                "the rules do not tell the readings apart"
            )
    return best


# ---------------------------------------------------------------------------------------------------
# Table 2
# ---------------------------------------------------------------------------------------------------
def _proactive_runs(
    pieces: list[Piece],
    block: _Block,
    rows: list[tuple[str, str, tuple[str, ...]]],
    raw: dict[int, list[str]],
    problems: list[str],
) -> bool:
    """Labels first, then one run of figures per item, column by column (pdfminer). False if the runs do
    not fit the items. A run may hold more rows than the item's national subjects: a local row printed
    after them (其他主动公开文件), ignored and noted."""
    items = [list(g) for _, g in itertools.groupby(block.rows, key=lambda r: rows[r][0])]
    runs = _figure_runs(pieces[block.tail[0] : block.tail[1]])
    if len(runs) != len(items):
        return False
    shapes = []
    for item_rows, run in zip(items, runs, strict=True):
        w = len(rows[item_rows[0]][2])
        if len(run) % w or len(run) // w < len(item_rows):
            return False
        shapes.append(len(run) // w)
    for item_rows, run, m in zip(items, runs, shapes, strict=True):
        w = len(rows[item_rows[0]][2])
        for k, r in enumerate(item_rows):
            raw[r] = [run[j * m + k] for j in range(w)]
        if m > len(item_rows):
            problems.append(f"table 2 item {rows[item_rows[0]][0]}: {m - len(item_rows)} local row(s) ignored")
    return True


@cache
def _proactive_keys(template: str) -> list[list[tuple[str, bool]]]:
    """Per table-2 row (as `proactive_matcher` numbers them): the record key of each metric cell, and
    whether the cell is an amount."""
    return [
        [(f"{item}|{subject}|{metric}", metric in AMOUNT_METRICS) for metric in metrics]
        for item, subject, metrics in proactive_matcher(template)[1]
    ]


def _read_proactive(pieces: list[Piece], template: str, problems: list[str]) -> dict[str, Cell]:
    matcher, rows = proactive_matcher(template)
    anchors = _anchors(_label_events(pieces, matcher), pieces)
    if not anchors[0]:
        problems.append("table 2: no subject label of the national format found")
        return {}
    raw: dict[int, list[str]] = {}
    for block in _blocks(pieces, anchors, len(rows)):
        if block.labels_first:
            block.rows = block.labelled
        widths = [len(rows[r][2]) for r in block.rows]
        if len(block.groups) == len(block.rows) and all(g.grid for g in block.groups):
            # one grid row per subject: positional, blank cells kept
            for r, g, w in zip(block.rows, block.groups, widths, strict=True):
                raw[r] = _fit_grid(g.values, w)[:w]
            continue
        values: list[str] = []
        for g in block.groups:
            values.extend(
                _fit_grid(g.values, widths[0] if len(block.groups) == 1 else max(widths)) if g.grid else g.values
            )
        if block.labels_first and _proactive_runs(pieces, block, rows, raw, problems):
            continue
        if block.labels_first and len(values) == sum(widths):
            # column by column within each item (pdfminer): all subjects' first metric, then the second…
            i = 0
            for _, item_group in itertools.groupby(block.rows, key=lambda r: rows[r][0]):
                item_rows = list(item_group)
                w = len(rows[item_rows[0]][2])
                chunk = values[i : i + w * len(item_rows)]
                i += w * len(item_rows)
                for k, r in enumerate(item_rows):
                    raw[r] = [chunk[m * len(item_rows) + k] for m in range(w)]
            continue
        i = 0
        for r, w in zip(block.rows, widths, strict=True):
            if i >= len(values):
                break
            raw[r] = values[i : i + w]
            i += w
        if i < len(values):
            problems.append(f"table 2: {len(values) - i} surplus figures after {rows[block.rows[-1]][1]} ignored")
    out: dict[str, Cell] = {}
    for r, keys in enumerate(_proactive_keys(template)):
        texts = raw.get(r)
        if texts is None:
            continue
        for (key, amount), text in zip(keys, texts, strict=False):
            out[key] = read_cell(text, amount)
        for key, amount in keys[len(texts) :]:  # figures missing at the row's end: blank cells
            out[key] = read_cell("", amount)
    missing = [rows[r][1] for r in range(len(rows)) if r not in raw]
    if missing:
        problems.append("table 2: no figures found for " + ", ".join(missing))
    return out


# ---------------------------------------------------------------------------------------------------
# Table 4
# ---------------------------------------------------------------------------------------------------
#: where each proceeding's outcome cells are among the printed figures: row by row, column by column
_Layout = tuple[tuple[int, ...], ...]
_N_PROCEEDINGS, _N_OUTCOMES = len(PROCEEDING_CODES), len(APPEAL_OUTCOME_CODES)
_BY_ROW: Final[_Layout] = tuple(tuple(i * _N_OUTCOMES + j for j in range(_N_OUTCOMES)) for i in range(_N_PROCEEDINGS))
_BY_COLUMN: Final[_Layout] = tuple(
    tuple(j * _N_PROCEEDINGS + i for j in range(_N_OUTCOMES)) for i in range(_N_PROCEEDINGS)
)


def _appeals_from(values: list[str], layout: _Layout) -> Table4:
    return {
        p: dict(zip(APPEAL_OUTCOME_CODES, read_cells([values[k] for k in at]), strict=True))
        for p, at in zip(PROCEEDING_CODES, layout, strict=True)
    }


def _appeal_breaches(table: Table4) -> int:
    return count_sum_breaches(_APPEAL_RULE, table, "2021")


def _figure_runs(pieces: list[Piece]) -> list[list[str]]:
    """The figures of consecutive figure pieces, one list per run between text pieces."""
    runs: list[list[str]] = []
    in_run = False
    for p in pieces:
        if p.is_text:
            in_run = False
        elif in_run:
            runs[-1].extend(p.values)
        else:
            runs.append(list(p.values))
            in_run = True
    return runs


def _appeals_by_sums(pieces: list[Piece]) -> Table4 | None:
    """Scattered layout (pdftotext): runs of four figures and lone totals, paired by their sums."""
    runs = _figure_runs(pieces)
    parts = [(i, r) for i, r in enumerate(runs) if len(r) == 4]
    totals = [(i, r[0]) for i, r in enumerate(runs) if len(r) == 1]
    complete = [(i, r) for i, r in enumerate(runs) if len(r) == 5]
    found: list[tuple[int, list[str]]] = []  # (position of the total, five cells)
    for i, r in complete:
        found.append((i, r))
    used: set[int] = set()
    for _, r in parts:
        cells = [read_cell(x).value for x in r]
        if any(v is None for v in cells):
            return None
        total = sum(cast(list[Number], cells))
        match = next((t for t in totals if t[0] not in used and read_cell(t[1]).value == total), None)
        if match is None:
            return None
        used.add(match[0])
        found.append((match[0], [*r, match[1]]))
    if len(found) != 3:
        return None
    found.sort(key=lambda f: f[0])
    return {
        p: {o: read_cell(v) for o, v in zip(APPEAL_OUTCOME_CODES, f[1], strict=True)}
        for p, f in zip(PROCEEDING_CODES, found, strict=True)
    }


def _read_appeals(pieces: list[Piece], line_of: list[int], problems: list[str]) -> Table4:
    n_out = len(APPEAL_OUTCOME_CODES)
    n = len(PROCEEDING_CODES) * n_out
    # one labelled row per proceeding ("行政复议 | 0 | 0 | …")
    matcher = proceeding_matcher()
    labelled: dict[int, list[str]] = {}
    for pos, p in enumerate(pieces[:-1]):
        nxt = pieces[pos + 1]
        if p.is_text and not nxt.is_text and line_of[pos + 1] == line_of[pos] and len(nxt.values) >= n_out:
            row = matcher.match(p.text)
            if row is not None and row not in labelled:
                labelled[row] = _fit_grid(nxt.values, n_out)[:n_out] if nxt.grid else nxt.values[:n_out]
    if len(labelled) == len(PROCEEDING_CODES):
        return {
            p: {o: read_cell(v) for o, v in zip(APPEAL_OUTCOME_CODES, labelled[i], strict=True)}
            for i, p in enumerate(PROCEEDING_CODES)
        }
    groups = [p for p in pieces if not p.is_text]
    values: list[str] = []
    for g in groups:
        values.extend(_fit_grid(g.values, n) if g.grid else g.values)
    if not values:
        problems.append("table 4: no figures found")
        return {}
    if len(values) == n - 1 and not any(g.grid for g in groups):
        # free text cannot print a blank cell: place it where the totals add up (the last cell if none)
        candidates = [[*values[:k], "", *values[k:]] for k in (n - 1, *range(n - 1))]
        scored = [(_appeal_breaches(_appeals_from(c, _BY_ROW)), c) for c in candidates]
        best = min(scored, key=lambda sc: sc[0])
        values = best[1] if best[0] < scored[0][0] else candidates[0]
        k = values.index("")
        problems.append(
            f"table 4: {n - 1} of {n} figures; the blank cell assumed at "
            f"{PROCEEDING_CODES[k // n_out]}/{APPEAL_OUTCOME_CODES[k % n_out]}"
        )
    elif len(values) < n:
        problems.append(f"table 4: only {len(values)} of {n} figures found")
        values = values + [""] * (n - len(values))
    elif len(values) > n:
        problems.append(f"table 4: {len(values) - n} surplus figures ignored")
        values = values[:n]
    row_major = _appeals_from(values, _BY_ROW)
    if _appeal_breaches(row_major) == 0:
        return row_major
    column_major = _appeals_from(values, _BY_COLUMN)
    if _appeal_breaches(column_major) == 0:
        problems.append("table 4 read column by column (the row-by-row reading breaks 总计)")
        return column_major
    by_sums = _appeals_by_sums(pieces) if len(values) == n else None
    if by_sums is not None and _appeal_breaches(by_sums) == 0:
        problems.append(
            "table 4 figures scattered by the extraction: paired by their totals, in the order of the totals"
        )
        return by_sums
    return row_major


# ---------------------------------------------------------------------------------------------------
def _has_blank(cells: dict[str, Cell]) -> bool:
    """Whether a row holds a blank cell (value None)."""
    return any(cell.value is None for cell in cells.values())


def extract_tables(lines: list[str], template: str) -> Tables:
    """Read tables 2, 3 and 4 of a report whose format (`2019`/`2021`) is already known."""
    out = Tables()
    r2, r3, r4 = _regions(lines, template)
    # (the pieces are unpacked by name, not passed with `*`: compiled, a star call is a generic call)
    if r2[1] > r2[0]:
        pieces, _ = tokenize(lines, r2[0], r2[1])
        out.proactive = _read_proactive(pieces, template, out.problems)
    else:
        out.problems.append("table 2 (主动公开政府信息情况) not found")
    if r3[1] > r3[0]:
        pieces, line_of = tokenize(lines, r3[0], r3[1])
        out.applications = _read_applications(pieces, line_of, template, out.problems, lines)
    else:
        out.problems.append("table 3 (收到和处理政府信息公开申请情况) not found")
    if r4[1] > r4[0]:
        pieces, line_of = tokenize(lines, r4[0], r4[1])
        out.appeals = _read_appeals(pieces, line_of, out.problems)
    else:
        out.problems.append("table 4 (行政复议、行政诉讼情况) not found")
    texts = [f"table 2 {k}: {c.raw!r}" for k, c in out.proactive.items() if c.value is None and c.raw]
    for name, grid in (("table 3", out.applications), ("table 4", out.appeals)):
        for outer, cells in grid.items():
            if _has_blank(cells):  # (most rows have none)
                texts += [f"{name} {outer}/{k}: {c.raw!r}" for k, c in cells.items() if c.value is None and c.raw]
    if texts:
        out.problems.append("text where a figure belongs (read as blank): " + "; ".join(texts))
    return out
