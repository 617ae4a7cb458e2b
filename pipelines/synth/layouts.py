"""Renderers: a `Document` printed the way one family of real texts prints it (report-template.md).

A registry, so other layouts (HTML, Word) can be added without touching the generator:

    @register("html", suffix=".html")
    def render_html(doc: Document, rng: random.Random) -> str | bytes: ...

A renderer returns text (then encoded by the generator in the chosen encoding) or the file's bytes.
Every variation drawn here comes from a real text in the corpus (seeds 000–004, the four extractions of
huaian_2024) or from the spec's list of deviations; none makes a figure ambiguous.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.synth.document import (
    APPLICANT_HEADER,
    BALANCE_NOTE,
    CONTENT_HEADER,
    LEGAL_PERSON_HEADER,
    LITIGATION_HEADER,
    ApplicationRow,
    Document,
)
from pipelines.synth.text import radical_table, wrap

Renderer = Callable[[Document, random.Random], "str | bytes"]


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    render: Renderer
    suffix: str = ".txt"
    #: PDF extractions: full-width brackets in labels, look-alike radicals possible
    pdf_like: bool = False


LAYOUTS: dict[str, Layout] = {}


def register(name: str, *, suffix: str = ".txt", pdf_like: bool = False) -> Callable[[Renderer], Renderer]:
    """Add a renderer to the registry under `name` (the file gets `suffix`)."""

    def deco(fn: Renderer) -> Renderer:
        LAYOUTS[name] = Layout(name, fn, suffix, pdf_like)
        return fn

    return deco


# ------------------------------------------------------------------------------------------------
# Shared pieces
# ------------------------------------------------------------------------------------------------
def frame(
    doc: Document,
    table2: list[str],
    table3: list[str],
    table4: list[str],
    *,
    heading: Callable[[str], str] = lambda h: h,
    title: Callable[[str], str] = lambda t: t,
    para: Callable[[str], list[str]] = lambda p: [p],
) -> list[str]:
    """The whole report as lines: title, preface, six sections with the three tables in place."""
    out: list[str] = []
    title_lines = [title(t) for t in doc.title]
    if not doc.title_after_heading:
        out += title_lines
    for p in doc.preface:
        out += para(p)
    tables = {1: table2, 2: table3, 3: table4}
    for i, h in enumerate(doc.headings[: doc.sections]):
        out.append(heading(h))
        if i == 0 and doc.title_after_heading:
            out += title_lines
        for p in doc.narrative.get(i, ()):
            out += para(p)
        out += tables.get(i, [])
    return out


def _sections(rows: list[ApplicationRow]) -> list[tuple[bool, bool]]:
    """(first row of its section, first row of its group) for each row of table 3."""
    out = []
    prev_section = prev_group = None
    for r in rows:
        first_section = r.section is not None and r.section != prev_section
        first_group = r.group is not None and r.group != prev_group
        out.append((first_section, first_group))
        prev_section, prev_group = r.section, r.group
    return out


def _split(label: str, width: int) -> list[str]:
    """A label wrapped in a table cell of `width` characters."""
    return wrap(label, width)


def _page_number(rng: random.Random, page: int) -> str:
    return rng.choice((f"- {page} -", f"-{page}-"))


def _narrow(label: str, rng: random.Random, spaced: bool) -> list[str]:
    """A header label in a narrow PDF table cell: broken after 2–3 characters, the characters of the first
    line sometimes spaced out by justified alignment (huaian pypdf: "结 果" / "维持", "社 会 公 益" / "组织")."""
    if len(label) <= 2:
        return [label]
    cut = rng.choice((2, 3)) if len(label) <= 4 else 4
    head, rest = label[:cut], label[cut:]
    if spaced:
        head = " ".join(head)
    return [head, rest] if rest else [head]


def _outcome_label(label: str, spaced: bool) -> str:
    # Word tables print 结果维持 in a narrow cell: "结果 维持" (seed 001)
    return label[:2] + " " + label[2:] if spaced else label


# ------------------------------------------------------------------------------------------------
# 1. Tab-separated: a Word/HTML table pasted as text (seeds 001, 002, 003)
# ------------------------------------------------------------------------------------------------
@register("tsv")
def render_tsv(doc: Document, rng: random.Random) -> str:
    pad_t2 = rng.random() < 0.6
    t2: list[str] = []
    for b in doc.proactive:
        width = 1 + len(b.metrics)
        pad = [""] * ((4 if pad_t2 else width) - width)
        t2.append(b.caption + "\t" * (len(pad) + width - 1))
        t2.append("\t".join([CONTENT_HEADER, *b.metrics, *pad]))
        t2 += ["\t".join([label, *cs, *pad]) for label, cs in b.rows]

    cols = doc.column_labels
    n = len(cols)
    label_cols = rng.choice((2, 2, 3))
    head_cols = rng.choice((1, label_cols))
    # with blank cells in the table, an added empty cell would change the figures: none is added
    trailing = rng.random() < 0.5 and not doc.has_blanks
    tail = [""] if trailing else []
    lead = [""] * (head_cols - 1)
    t3 = [
        "\t".join([BALANCE_NOTE, *lead, APPLICANT_HEADER, *[""] * (n - 2), cols[-1], *tail]),
        "\t".join(["", *lead, cols[0], LEGAL_PERSON_HEADER, *[""] * (n - 2), *tail]),
        "\t".join(["", *lead, "", *cols[1:-1], "", *tail]),
    ]
    drift = rng.choice((0.0, 0.1, 0.3))
    shifted: set[int] = set()
    if rng.random() < 0.2 and not doc.has_blanks:  # a run of rows with extra empty cells (seed 003)
        start = rng.randrange(len(doc.applications))
        shifted = set(range(start, min(len(doc.applications), start + rng.randint(1, 25))))
    shift = rng.randint(1, 3)
    for i, (row, (first_section, first_group)) in enumerate(
        zip(doc.applications, _sections(doc.applications), strict=True)
    ):
        if row.section is None:
            parts = [row.label]
        elif row.group is None:
            parts = [row.section if first_section else "", row.label]
        else:
            parts = [row.section if first_section else "", row.group if first_group else "", row.label]
        if rng.random() < drift:
            while parts and parts[0] == "":
                parts.pop(0)
        parts += [""] * (label_cols - len(parts))
        if i in shifted:
            parts += [""] * shift
        cells = row.cells + ([""] if trailing and rng.random() < 0.7 else [])
        t3.append("\t".join(parts + cells))

    outcomes = [_outcome_label(o, rng.random() < 0.3) for o in doc.outcome_labels]
    p = doc.proceeding_labels
    t4 = [
        "\t".join([p[0], "", "", "", "", LITIGATION_HEADER, *[""] * 9]),
        "\t".join([*outcomes, p[1], "", "", "", "", p[2], "", "", "", ""]),
        "\t".join(["", "", "", "", "", *outcomes, *outcomes]),
        "\t".join(doc.appeals),
    ]
    blank = rng.random() < 0.5
    return "\n".join(frame(doc, t2, t3, t4, para=lambda x: [x, ""] if blank else [x]))


# ------------------------------------------------------------------------------------------------
# 2. PDF text, row by row (pdftotext/pypdf without -layout; seeds 000, 004; huaian pypdf)
# ------------------------------------------------------------------------------------------------
def _pdf_table3_header(doc: Document, rng: random.Random) -> list[str]:
    out = [BALANCE_NOTE] if rng.random() < 0.5 else _split(BALANCE_NOTE, rng.randint(18, 26))
    out += [APPLICANT_HEADER, doc.natural_label, LEGAL_PERSON_HEADER, doc.total_label]
    orgs = [*doc.org_labels, *([doc.subtotal_label] if doc.subtotal_label else [])]
    spaced = rng.random() < 0.4
    line: list[str] = []
    for label in orgs:
        if len(label) > 3 and rng.random() < 0.6:  # 社会公益 / 组织 in a narrow header cell
            if line:
                out.append(" ".join(line))
                line = []
            out += _narrow(label, rng, spaced)
        else:
            line.append(label)
    if line:
        out.append(" ".join(line))
    return out


@register("pdf_text", pdf_like=True)
def render_pdf_text(doc: Document, rng: random.Random) -> str:
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    t2: list[str] = []
    for b in doc.proactive:
        t2.append(b.caption)
        t2.append(" ".join([CONTENT_HEADER, *b.metrics]))
        t2 += [" ".join([label, *cs]) for label, cs in b.rows]

    t3 = _pdf_table3_header(doc, rng)
    width = rng.randint(22, 34)
    section_style = rng.choice(("wrap", "chars", "line"))
    numbers_below = rng.random() < 0.5
    merge_groups = rng.random() < 0.3
    pending: list[str] = []
    page_at = rng.randrange(4, len(doc.applications) - 2) if rng.random() < 0.6 else -1
    page = rng.randint(2, 6)
    for i, (row, (first_section, first_group)) in enumerate(
        zip(doc.applications, _sections(doc.applications), strict=True)
    ):
        if first_section and row.section:
            if section_style == "wrap":
                t3 += _split(row.section, rng.randint(4, 7))
            elif section_style == "chars":
                t3 += [row.section[:2], *row.section[2:]]
            else:
                t3.append(row.section)
        if first_group and row.group:
            pieces = _split(row.group, rng.choice((4, 5, 5, 20)))
            if merge_groups and rng.random() < 0.6:
                # the merged group cell's lines end up at the start of the group's row lines
                pending = pieces
            else:
                t3 += pieces
        frags = _split(row.label, width)
        numbers = " ".join(row.cells)
        below = len(frags) > 1 and numbers_below  # seed 000: the numbers on a line of their own
        row_lines = [*frags, numbers] if below else [*frags[:-1], frags[-1] + " " + numbers]
        if pending and row.group:
            row_lines[0] = pending.pop(0) + " " + row_lines[0]
        elif pending:
            t3 += pending
            pending = []
        t3 += row_lines
        if rng.random() < 0.03:
            t3[-1] = " " + t3[-1]  # a stray leading space (seed 000)
        if i == page_at:
            t3.append(_page_number(rng, page))

    p, o = doc.proceeding_labels, doc.outcome_labels
    if rng.random() < 0.5:  # seed 000
        t4 = [
            f"{p[0]} {LITIGATION_HEADER}",
            " ".join(o),
            f"{p[1]} {p[2]}",
            " ".join(o + o),
        ]
    else:  # huaian pypdf: narrow header cells broken into lines
        t4 = [f"{p[0]} {LITIGATION_HEADER}"]
        spaced = rng.random() < 0.5
        for i in range(3):
            if i == 1:
                t4.append(f"{p[1]} {p[2]}")
            for label in o:
                t4 += _narrow(label, rng, spaced)
    t4.append(" ".join(doc.appeals))
    para_width = rng.randint(34, 48)
    lines = frame(doc, t2, t3, t4, para=lambda x: wrap(x, para_width))
    text = sep.join(lines)
    if rng.random() < 0.6:
        text = text.translate(radical_table(rng))
    return text


# ------------------------------------------------------------------------------------------------
# 3. One cell per line (pdftotext without -layout on simple tables; some HTML-to-text tools)
# ------------------------------------------------------------------------------------------------
def _detached_labels(rows: list[ApplicationRow], rng: random.Random) -> list[str]:
    """Table 3 as plain `pdftotext` reads some PDFs (huaian_2024.pdftotext.txt): a row whose label is a
    multi-line text block — wrapped, or the （一）/（二） labels beside the merged 三、本年度办理结果
    cell — prints only its numbers; those labels come after the page's rows in one block, in row order,
    with the merged section (one character per line) and group cells among them."""
    width = rng.choice((14, 15))  # the label column of the numbered rows (一、二、四、 rows span it all)
    split = rng.randrange(10, len(rows) - 6) if rng.random() < 0.7 else len(rows)
    out: list[str] = []
    flags = _sections(rows)
    for lo, hi in ((0, split), (split, len(rows))):
        block: list[str] = []
        for i in range(lo, hi):
            row = rows[i]
            first_section, first_group = flags[i]
            if first_section and row.section:
                block += [row.section[:2], *row.section[2:]]
            if first_group and row.group:
                block += _split(row.group, 4)
            frags = _split(row.label, width) if row.section else [row.label]
            beside_merged = row.section is not None and row.group is None and row.code != "outcome_total"
            if len(frags) > 1 or beside_merged:
                block += frags
                out += row.cells
            else:
                out += [*frags, *row.cells]
        out += block
        if lo == 0 and split < len(rows):
            out.append(_page_number(rng, rng.randint(2, 6)))
    return out


@register("cell_per_line", pdf_like=True)
def render_cell_per_line(doc: Document, rng: random.Random) -> str:
    sep = "\n\n" if rng.random() < 0.5 else "\n"
    t2: list[str] = []
    for b in doc.proactive:
        t2 += [b.caption, CONTENT_HEADER, *b.metrics]
        for label, cs in b.rows:
            t2 += [label, *cs]
    t3 = [BALANCE_NOTE, APPLICANT_HEADER, doc.natural_label, LEGAL_PERSON_HEADER, *doc.column_labels[1:]]
    rows = doc.applications
    if rng.random() < 0.2:
        t3 += _detached_labels(rows, rng)
    else:
        width = rng.randint(16, 40)
        for row, (first_section, first_group) in zip(rows, _sections(rows), strict=True):
            if first_section and row.section:
                t3.append(row.section)
            if first_group and row.group:
                t3.append(row.group)
            t3 += _split(row.label, width)
            t3 += row.cells
    p = doc.proceeding_labels
    t4 = [p[0], LITIGATION_HEADER, p[1], p[2], *doc.outcome_labels * 3, *doc.appeals]
    text = sep.join(frame(doc, t2, t3, t4))
    if rng.random() < 0.3:
        text = text.translate(radical_table(rng))
    return text


# ------------------------------------------------------------------------------------------------
# 4. Markdown pipe tables (HTML/Word converters), optionally one table per row group (数据1…)
# ------------------------------------------------------------------------------------------------
def _md_table(rows: list[list[str]], header: list[str] | None = None) -> list[str]:
    width = max(len(r) for r in rows + ([header] if header else []))
    head = header if header is not None else [f"数据{i + 1}" for i in range(width)]
    head = head + [""] * (width - len(head))
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * width]
    out += ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    return out


@register("markdown", suffix=".md")
def render_markdown(doc: Document, rng: random.Random) -> str:
    invented = rng.random() < 0.4
    t2: list[str] = []
    for b in doc.proactive:
        t2 += [rng.choice((b.caption, f"**{b.caption}**")), ""]
        rows = [[label, *cs] for label, cs in b.rows]
        if invented:
            t2 += _md_table([[CONTENT_HEADER, *b.metrics], *rows])
        else:
            t2 += _md_table(rows, [CONTENT_HEADER, *b.metrics])
        t2.append("")

    cols = doc.column_labels
    n = len(cols)
    header_rows = [
        [BALANCE_NOTE, "", "", APPLICANT_HEADER, *[""] * (n - 2), cols[-1]],
        ["", "", "", cols[0], LEGAL_PERSON_HEADER, *[""] * (n - 2)],
        ["", "", "", "", *cols[1:-1], ""],
    ]
    body: list[tuple[str, list[str]]] = []  # (group key, cells)
    for row, (first_section, first_group) in zip(doc.applications, _sections(doc.applications), strict=True):
        if row.section is None:
            label_cells = [row.label, "", ""]
        elif row.group is None:
            label_cells = [row.section if first_section else "", row.label, ""]
        else:
            label_cells = [row.section if first_section else "", row.group if first_group else "", row.label]
        body.append((row.group or ("outcome" if row.section else "volume"), label_cells + row.cells))
    t3: list[str] = []
    if invented:  # one table per row group, headers invented by the converter
        t3 += _md_table(header_rows)
        groups: list[list[list[str]]] = []
        last = None
        for key, cells in body:
            if key != last or not groups:
                groups.append([])
            groups[-1].append(cells)
            last = key
        for g in groups:
            t3 += ["", *_md_table(g)]
    else:
        t3 += _md_table(header_rows[1:] + [c for _, c in body], header_rows[0])
    p = doc.proceeding_labels
    o = doc.outcome_labels
    t4 = _md_table(
        [[*o, p[1], "", "", "", "", p[2], "", "", "", ""], ["", "", "", "", "", *o, *o], list(doc.appeals)],
        [p[0], "", "", "", "", LITIGATION_HEADER, *[""] * 9],
    )
    heading_style = rng.choice(("## {}", "### {}", "**{}**", "{}"))
    return "\n".join(
        frame(
            doc,
            t2,
            t3,
            t4,
            heading=lambda h: "\n" + heading_style.format(h) + "\n",
            title=lambda t: "# " + t if rng.random() < 0.7 else t,
            para=lambda x: [x, ""],
        )
    )


# ------------------------------------------------------------------------------------------------
# 5. Fixed-width columns: `pdftotext -layout` (huaian_2024.pdftotext-layout.txt)
# ------------------------------------------------------------------------------------------------
def _w(text: str) -> int:
    """Display width: CJK and full-width forms take two columns, ASCII one.

    Computed from the UTF-8 length (1 byte narrow, 3 bytes wide) in C: this runs for every cell.
    """
    return (len(text.encode()) + len(text)) // 2


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _w(text))


def _place(line: str, col: int, text: str) -> str:
    """Write `text` at display column `col` of `line` (after what is there, at least one space)."""
    return _pad(line, col) + text if line else " " * col + text


@register("pdftotext_layout", pdf_like=True)
def render_pdftotext_layout(doc: Document, rng: random.Random) -> str:
    double = rng.random() < 0.7  # blank line between table rows, as pdftotext prints them
    cw = rng.randint(8, 12)
    right = rng.random() < 0.4

    def nums(cells: list[str], width: int) -> str:
        return "".join((" " * max(1, width - _w(c)) + c) if right else _pad(c, width) for c in cells)

    t2: list[str] = []
    lw2 = rng.randint(16, 32)
    cw2 = rng.randint(12, 16)
    for b in doc.proactive:
        t2 += [b.caption, ""]
        t2.append(_pad(CONTENT_HEADER, lw2) + "".join(_pad(m, cw2) for m in b.metrics).rstrip())
        for label, cs in b.rows:
            t2 += [""] if double else []
            t2.append((_pad(label, lw2) + nums(cs, cw2)).rstrip())
        t2.append("")

    m0, m1 = 6, rng.randint(8, 12)
    lw = rng.randint(30, 40)
    start = m0 + m1 + lw
    # table 3 header, scattered over lines as pdftotext places the words of merged cells
    cols = doc.column_labels
    colx = [start + i * cw for i in range(len(cols))]
    note = _split(BALANCE_NOTE, rng.randint(18, 24))
    t3 = [_place("", colx[1], APPLICANT_HEADER)]
    t3.append(_place(note[0], colx[2], LEGAL_PERSON_HEADER))
    t3 += note[1:]
    t3.append(_place(_place("", colx[0], cols[0]), colx[-1], cols[-1]))
    top, bottom = "", ""
    for x, label in zip(colx[1:-1], cols[1:-1], strict=True):
        half = (len(label) + 1) // 2 if len(label) > 3 else len(label)
        top = _place(top, x, label[:half])
        if label[half:]:
            bottom = _place(bottom, x, label[half:])
    t3 += [top, bottom, ""]

    # rows: [margin0 token, margin1 token, body, display column of the body]
    lines: list[list] = []
    spans: dict[str, list[int]] = {}  # section/group label -> line indices of its rows
    sections = {r.section for r in doc.applications if r.section}
    boundaries: list[int] = []
    for row in doc.applications:
        if row.section is None:
            indent = 0
        elif row.group is None:
            indent = m0
        else:
            indent = m0 + m1
        width = start - indent
        frags = _split(row.label, max(6, (width - 2) // 2))
        numbers = nums(row.cells, cw)
        if len(frags) == 1:
            body = [_pad(frags[0], width) + numbers]
        elif len(frags) == 2:  # pdftotext centres the numbers between the two label lines
            body = [frags[0], " " * width + numbers, frags[1]]
        else:
            body = [frags[0], _pad(frags[1], width) + numbers, *frags[2:]]
        first = len(lines)
        lines += [["", "", b, indent] for b in body]
        if double:
            lines.append(["", "", "", 0])
        for key in (row.section, row.group):
            if key:
                spans.setdefault(key, []).extend(range(first, len(lines)))
        boundaries.append(len(lines))
    for key, idx in spans.items():
        is_section = key in sections
        # merged cells: the section printed one character per line, a group wrapped in a narrow cell
        tokens = [key[:2], *key[2:]] if is_section else _split(key, 4)
        lo, hi = idx[0], idx[-1]
        step = max(1, (hi - lo + 1) // (len(tokens) + 1))
        at = lo + max(0, (hi - lo + 1 - step * len(tokens)) // 2)
        for k, tok in enumerate(tokens):
            lines[min(hi, at + k * step)][0 if is_section else 1] = tok
    rendered: list[str] = []
    page_at = rng.choice(boundaries[4:-3]) if rng.random() < 0.6 else -1
    for i, (a, b, body, indent) in enumerate(lines):
        if i == page_at:
            rendered += ["", " " * rng.randint(0, 40) + _page_number(rng, rng.randint(2, 6))]
        text = a
        if b:
            text = _place(text, m0, b)
        if body:
            text = _place(text, indent, body)
        rendered.append(text.rstrip())
    t3 += rendered

    c4 = rng.randint(5, 8)
    x4 = [i * c4 for i in range(15)]
    p, o = doc.proceeding_labels, doc.outcome_labels
    t4 = [_place(p[0], x4[5], LITIGATION_HEADER), "", _place(_place("", x4[5], p[1]), x4[10], p[2]), ""]
    up, down = "", ""
    for x, label in zip(x4, o * 3, strict=True):
        up = _place(up, x, label[:2])
        if label[2:]:
            down = _place(down, x, label[2:])
    t4 += [up, down, "", "".join(_pad(c, c4) for c in doc.appeals).rstrip()]

    lines_out = frame(doc, t2, t3, t4, para=lambda x: wrap(x, 30))
    text = "\n".join(lines_out)
    if rng.random() < 0.2:
        text = text.translate(radical_table(rng))
    return text


# ------------------------------------------------------------------------------------------------
# 6. Column by column: pdfminer on some PDFs (huaian_2024.pdfminer.txt)
# ------------------------------------------------------------------------------------------------
@register("pdfminer_columns", pdf_like=True)
def render_pdfminer_columns(doc: Document, rng: random.Random) -> str:
    t2: list[str] = []
    # pdfminer emits a page's text boxes: the labels of one or two items, then each item's header and
    # its numbers column by column (huaian: 20.1 and 20.5 labels, the 20.6 caption, then the figures)
    per_page = rng.choice((1, 2, 2))
    blocks = doc.proactive
    for k in range(0, len(blocks), per_page):
        page = blocks[k : k + per_page]
        for b in page:
            t2 += [b.caption, CONTENT_HEADER, *[label for label, _ in b.rows]]
        for b in page:
            t2 += b.metrics
            for j in range(len(b.metrics)):  # each column's numbers, top to bottom
                t2 += [cs[j] for _, cs in b.rows]

    rows = doc.applications
    split = rng.randrange(8, len(rows) - 4) if rng.random() < 0.6 else len(rows)
    chunks = [(0, split)] + ([(split, len(rows))] if split < len(rows) else [])
    flags = _sections(rows)
    header = [APPLICANT_HEADER, BALANCE_NOTE, LEGAL_PERSON_HEADER]
    col_headers: list[str] = [doc.natural_label]
    spaced = rng.random() < 0.5
    for label in doc.column_labels[1:]:
        col_headers += _narrow(label, rng, spaced) if len(label) > 3 and rng.random() < 0.6 else [label]
    t3 = list(header)
    section_late = rng.random() < 0.4
    carried: list[str] = []  # the rest of a merged group cell cut by the page break
    for n, (lo, hi) in enumerate(chunks):
        late: list[str] = []
        t3 += carried
        for i in range(lo, hi):
            row = rows[i]
            first_section, first_group = flags[i]
            if first_section and row.section:
                chars = [row.section[:2], *row.section[2:]]
                if section_late:
                    late = chars
                else:
                    t3 += chars
            if first_group and row.group:
                pieces = _split(row.group, 4)
                if hi < len(rows) and rows[hi].group == row.group:  # huaian: （四）无 | -4- | 法提供
                    pieces, carried = pieces[:1], pieces[1:]
                t3 += pieces
            t3 += _split(row.label, rng.choice((14, 30)))
        t3 += late
        if n == 0:
            if len(chunks) > 1:
                t3.append(_page_number(rng, rng.randint(2, 6)))
            t3 += col_headers
        ncols = len(rows[0].cells)
        for j in range(ncols):
            t3 += [rows[i].cells[j] for i in range(lo, hi)]
    p, o = doc.proceeding_labels, doc.outcome_labels
    t4 = [p[0], LITIGATION_HEADER, p[1], p[2]]
    for label in o * 3:
        t4 += _narrow(label, rng, spaced)
    t4 += doc.appeals
    text = "\n\n".join(frame(doc, t2, t3, t4, para=lambda x: wrap(x, 30)))
    if rng.random() < 0.3:
        text = text.translate(radical_table(rng))
    return text
