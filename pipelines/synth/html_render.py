"""Synthetic renderer: the report as a government web page (`.html`), tables with rowspan/colspan.

Registered as layout `html`. The page is what the crawler saves: navigation, breadcrumb, a sidebar
listing other years' reports, scripts, styles and a footer around the article; old-style sites wrap it
all in a layout table. Tables follow the national format's merged cells (the 三、本年度办理结果 cell
spanning the outcome rows, group cells spanning their numbered rows, multi-row headers). No `<meta
charset>` is written: the generator chooses the encoding after rendering, and a page without a declaration
is decoded from its bytes (the reader's fallback path).
"""

from __future__ import annotations

import random
from html import escape

from pipelines.synth.document import (
    APPLICANT_HEADER,
    BALANCE_NOTE,
    CONTENT_HEADER,
    LEGAL_PERSON_HEADER,
    LITIGATION_HEADER,
    OUTCOME_SECTION,
    Document,
)
from pipelines.synth.layouts import frame, register

# (text, rowspan, colspan)
_Cell = tuple[str, int, int]


def _td(cell: _Cell, rng: random.Random, th: bool = False) -> str:
    text, rowspan, colspan = cell
    tag = "th" if th else "td"
    attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (f' colspan="{colspan}"' if colspan > 1 else "")
    body = escape(text) if text else "&nbsp;"
    if rng.random() < 0.5:  # Word-exported pages wrap every cell's text in <p><span>
        body = f'<p style="text-align:center"><span style="font-size:14px">{body}</span></p>'
    return f"<{tag}{attrs}>{body}</{tag}>"


def _table(rows: list[list[_Cell]], rng: random.Random, header_rows: int = 0) -> str:
    out = ['<table border="1" cellspacing="0" cellpadding="0" width="100%">']
    if header_rows and rng.random() < 0.5:
        out.append("<thead>")
        out += ["<tr>" + "".join(_td(c, rng, th=True) for c in r) + "</tr>" for r in rows[:header_rows]]
        out.append("</thead><tbody>")
        rows = rows[header_rows:]
    else:
        out.append("<tbody>")
    out += ["<tr>" + "".join(_td(c, rng) for c in r) + "</tr>" for r in rows]
    out.append("</tbody></table>")
    return "\n".join(out)


def _table2(doc: Document, rng: random.Random) -> list[str]:
    width = 1 + max(len(b.metrics) for b in doc.proactive)
    one_table = rng.random() < 0.6
    tables: list[list[_Cell]] = []
    rows: list[list[_Cell]] = []
    for b in doc.proactive:
        span = width - len(b.metrics)  # the last column of a narrow item spans the rest of the width
        block = [[(b.caption, 1, width)]]
        block.append([(CONTENT_HEADER, 1, 1)] + [(m, 1, span if k == len(b.metrics) - 1 else 1)
                                                  for k, m in enumerate(b.metrics)])  # fmt: skip
        for label, printed in b.rows:
            block.append([(label, 1, 1)] + [(c, 1, span if k == len(printed) - 1 else 1)
                                             for k, c in enumerate(printed)])  # fmt: skip
        if one_table:
            rows += block
        else:
            tables.append(block)
    if one_table:
        tables = [rows]
    return [_table(t, rng) for t in tables]


def _table3(doc: Document, rng: random.Random) -> str:
    cols = doc.column_labels
    n = len(cols)
    rows: list[list[_Cell]] = [
        [(BALANCE_NOTE, 3, 3), (APPLICANT_HEADER, 1, n)],
        [(cols[0], 2, 1), (LEGAL_PERSON_HEADER, 1, n - 2), (cols[-1], 2, 1)],
        [(label, 1, 1) for label in cols[1:-1]],
    ]
    section_rows = sum(1 for r in doc.applications if r.section == OUTCOME_SECTION)
    group_rows: dict[str, int] = {}
    for r in doc.applications:
        if r.group:
            group_rows[r.group] = group_rows.get(r.group, 0) + 1
    seen_section = False
    seen_groups: set[str] = set()
    for r in doc.applications:
        values: list[_Cell] = [(c, 1, 1) for c in r.cells]
        if r.section is None:
            rows.append([(r.label, 1, 3), *values])
            continue
        row: list[_Cell] = []
        if not seen_section:
            seen_section = True
            row.append((r.section, section_rows, 1))
        if r.group is None:
            row.append((r.label, 1, 2))
        else:
            if r.group not in seen_groups:
                seen_groups.add(r.group)
                row.append((r.group, group_rows[r.group], 1))
            row.append((r.label, 1, 1))
        rows.append(row + values)
    return _table(rows, rng, header_rows=3)


def _table4(doc: Document, rng: random.Random) -> str:
    p, o = doc.proceeding_labels, doc.outcome_labels
    rows: list[list[_Cell]] = [
        [(p[0], 1, 5), (LITIGATION_HEADER, 1, 10)],
        [*((label, 2, 1) for label in o), (p[1], 1, 5), (p[2], 1, 5)],
        [(label, 1, 1) for label in o * 2],
        [(c, 1, 1) for c in doc.appeals],
    ]
    return _table(rows, rng, header_rows=3)


def _chrome(doc: Document, rng: random.Random, article: str) -> str:
    site = (doc.agency or "政府") + "门户网站"
    other_year = doc.year - rng.randint(1, 3)
    nav = '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/xxgk/">政府信息公开</a></li>' + (
        '<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul>'
    )
    sidebar = (
        f'<div class="side-list"><h4>年度报告</h4><ul><li><a href="{other_year}.html">'
        f"{escape(doc.agency or '')}{other_year}年政府信息公开工作年度报告</a></li></ul></div>"
    )
    script = f'<script>var siteName = "{escape(site)}"; document.write("{other_year}年度报告");</script>'
    site_code = rng.randint(10**9, 10**10 - 1)
    footer = f'<div id="footer"><p>主办：{escape(doc.agency or "")} 网站标识码：{site_code}</p></div>'
    crumb = '<div class="position">当前位置：<a href="/">首页</a> &gt; 政府信息公开 &gt; 年度报告</div>'
    head_title = escape("".join(doc.title)) + "_" + escape(site) if doc.title else escape(site)
    body = f'<div class="article"><div class="content" id="zoom">\n{article}\n</div></div>'
    if rng.random() < 0.3:  # an old-style site: everything inside a layout table
        body = f'<table width="1000" class="main"><tr><td>{crumb}</td></tr><tr><td>{body}</td></tr></table>'
        crumb = ""
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f"<title>{head_title}</title>\n<style>.nav li {{ float: left; }}</style>\n{script}\n</head>\n<body>\n"
        f'<div class="header">{escape(site)}</div>\n{nav}\n{crumb}\n{sidebar}\n{body}\n{footer}\n'
        '<script src="/js/stat.js"></script>\n</body>\n</html>\n'
    )


@register("html", suffix=".html")
def render_html(doc: Document, rng: random.Random) -> str:
    t2 = _table2(doc, rng)
    t3 = [_table3(doc, rng)]
    t4 = [_table4(doc, rng)]
    heading_tag = rng.choice(("h3", "p", "strong"))
    article = "\n".join(
        frame(
            doc,
            t2,
            t3,
            t4,
            heading=lambda h: f"<{heading_tag}>{escape(h)}</{heading_tag}>",
            title=lambda t: f'<div class="title">{escape(t)}</div>',
            para=lambda x: [f"<p>{escape(x)}</p>"],
        )
    )
    return _chrome(doc, rng, article)
