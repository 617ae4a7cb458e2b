"""The fast HTML readers against `_Writer`, the element-by-element walk that defines the lines: tricky pages
through `extract`, random span grids through the grid layout, and nested tables through the data-table
search."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from pipelines.parsing.formats import html


def _writer_lines(page: str) -> list[str]:
    root = etree.fromstring(page, etree.HTMLParser())
    writer = html._Writer()
    writer.walk(root.find("body"))
    writer.flush()
    return writer.lines


def _page(body: str) -> str:
    return f"<html><head><title>t</title></head><body>{body}</body></html>"


#: spans that overlap and run past the table, hidden cells (some spanning), nested layout tables, chrome
#: with and without a table, `<br>`s and blocks inside cells, entities, comments, empty and irregular tables
TRICKY_BODIES = [
    "<table><tr><td rowspan=3>a</td><td colspan=2 rowspan=2>b</td><td>c</td></tr><tr><td>d</td></tr>"
    "<tr><td>e</td><td rowspan=5 colspan=3>f</td></tr><tr><td>g</td></tr></table>",
    "<table><tr><td rowspan=2 hidden>h</td><td>1</td><td style='visibility: hidden' colspan=4>x</td><td>2</td>"
    "</tr><tr><td>3</td><td rowspan='2 '>4</td></tr><tr><td colspan=' 3'>5</td><td>6</td></tr></table>",
    "<table class=layout><tr><td><table><tr><td><table><tr><td>deep</td><td rowspan=2>r</td></tr>"
    "<tr><td>two</td></tr></table></td><td>mid<br>cell</td></tr></table></td><td>outer</td></tr></table>",
    "<div class='nav'><table><tr><td>kept: holds a table</td></tr></table></div><div class='footer'>gone</div>"
    "<div id='sidebar-1'><p>gone too</p></div><p>body</p>",
    "<table><tr><td>a<br>b<br/>c</td><td><p>one</p><p>two</p></td><td><div>x <b>y</b></div> z</td>"
    "<td>\u3000 spaced \u00a0 out </td><td>中 文</td><td>ab cd</td></tr></table>",
    "<p>&lt;tag&gt; &amp;amp; &#13;cr &quot;q&quot;</p><table><tr><td>&lt;td&gt;</td><td>a &amp; b</td></tr></table>",
    "<p>be<!-- a comment -->fore</p><table><!-- c --><tr><td>1<!-- x --></td><!-- y --><td>2</td></tr></table>",
    "<table></table><table><tr></tr><tr><td></td></tr></table><table><tbody></tbody></table><p>after</p>",
    "<table><caption>cap</caption><colgroup><col></colgroup><tr><td>1</td></tr></table>",
    "<table><tr><td>a</td>between<td>b</td></tr>rows<tr><td>c</td></tr></table>",
    "<table><thead><tr><th>h1</th><th>h2</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody>"
    "<tfoot><tr><td colspan=2>f</td></tr></tfoot></table>",
    "<div style='display:none'><table><tr><td>hidden table</td></tr></table></div><table hidden><tr><td>x</td>"
    "</tr></table><p>shown</p>",
    "<table><tr><td>\u2003edge\u2003</td><td>x\u200by</td><td>\u2028</td></tr></table>",
    # a block that is all of its cell, with whitespace, breaks or blocks inside or around it
    "<table><tr><td>\u2003<p>x y</p>\u2003</td><td> <div><p>a</p>b</div> </td><td><p>a<br>b</p></td>"
    "<td><p> </p></td><td><p>1</p><!-- c --></td><td><p>t</p>ail</td><td>h<p>ead</p></td></tr></table>",
    # data tables that are not regular (a caption, a row in a div, a cell in a cell, a comment between rows)
    "<table><caption>表一</caption><tr><td>a<br>b</td><td><p>x</p>tail</td></tr></table>",
    "<table><tbody><div><tr><td>in a div</td></tr></div><tr><td>1</td><td>2</td></tr></tbody></table>",
    "<table><tr><td>a<div><td>nested</td></div></td><td>b</td></tr></table>",
    "<table><tr><td rowspan=2>r</td><td>1</td></tr><!-- between --><tr><td>2</td></tr></table>",
    "<table><tr><td><span style='DISPLAY: NONE'>hid</span>shown</td><td hidden>h</td>"
    "<td>&lt;b&gt; &amp;\u3000 x\u00a0 y</td></tr></table>",
    "<p>before</p><table></table><table><tr></tr></table><p>after</p>",
    "<table><tr><td><table><tr><td>inner</td><td>cell</td></tr></table></td><td>layout<br>cell</td></tr></table>",
    "<table><tr><td colspan=3>wide</td></tr><tr><td>一</td><td>二 三</td></tr></table>",
    "<table><tr><td>a<p>x</p></td><td> <p>y z</p>\u2003</td><td><div><p>1</p><p>2</p></div></td>"
    "<td><p>p<br>q</p></td><td><p>one</p><!-- c --></td><td><p>t</p>ail</td></tr></table>",
]


@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_extract_gives_the_writers_lines(body: str) -> None:
    page = _page(body)
    assert html.extract(page.encode("utf-8")).text.splitlines() == _writer_lines(page)


def _random_table(rng: random.Random) -> str:
    rows = []
    for _ in range(rng.randint(1, 7)):
        cells = []
        for _ in range(rng.randint(0, 6)):
            attributes = ""
            if rng.random() < 0.3:
                attributes += f" rowspan={rng.randint(0, 4)}"
            if rng.random() < 0.3:
                attributes += f" colspan={rng.randint(0, 4)}"
            if rng.random() < 0.1:
                attributes += " hidden" if rng.random() < 0.5 else " style='display:none'"
            text = rng.choice(["", "x", "1", "甲", "a b", "<p>p</p>", "u<br>v", " <div>a<p>b</p></div> ", "<p>c</p>d"])
            cells.append(f"<td{attributes}>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{''.join(rows)}</table>"


@pytest.mark.parametrize("seed", range(40))
def test_random_span_grids_give_the_writers_lines(seed: int) -> None:
    rng = random.Random(seed)
    page = _page("".join(_random_table(rng) for _ in range(3)))
    assert html.extract(page.encode("utf-8")).text.splitlines() == _writer_lines(page)


def test_data_tables_are_the_tables_holding_no_table() -> None:
    page = _page(
        "<table id=a><tr><td><table id=b><tr><td>1</td></tr></table><table id=c><tr><td>"
        "<table id=d><tr><td>2</td></tr></table></td></tr></table></td></tr></table><table id=e></table>"
    )
    body = etree.fromstring(page, etree.HTMLParser()).find("body")
    expected = [t for t in body.iter("table") if next(t.iterdescendants("table"), None) is None]
    assert [t.get("id") for t in html._data_tables(body)] == [t.get("id") for t in expected] == ["b", "d", "e"]


#: sources whose tree could differ between the `str` and its UTF-8 bytes (`html._parse`): a charset declaration
#: the text contradicts, control characters and NUL, carriage returns, a BOM, characters beyond the BMP,
#: references to invalid characters, an opening XML declaration (refused as a `str`), a lone surrogate
PARSE_SOURCES = [
    '<html><head><meta charset="gbk"></head><body><p>中文\U0001f600 x</p></body></html>',
    '<meta http-equiv="Content-Type" content="text/html; charset=big5"><p>表格</p>',
    "<p>a\x00b\x01c\x0c\x1f</p>",
    "<p>a\r\nb\rc</p>",
    "\ufeff<p>bom\ufeff</p>",
    "<p>&#0;&#xD800;&#x110000;&#128;</p>",
    '<?xml version="1.0" encoding="gbk">\n<p>x</p>',
    "<p>\ud7ff\ue000\uffff\ufffe\x85\u2028</p>",
    "<p>lone \ud800 surrogate</p>",
    " ",
]


@pytest.mark.parametrize("source", PARSE_SOURCES)
def test_parse_from_utf8_gives_the_trees_of_the_str(source: str) -> None:
    def outcome(parse: object) -> object:
        try:
            root = parse(source)  # type: ignore[operator]
        except (etree.ParserError, ValueError) as error:
            return type(error).__name__
        return None if root is None else etree.tostring(root)

    def from_utf8(text: str) -> object:
        try:
            utf8 = text.encode("utf-8")
        except UnicodeEncodeError:
            return html._parse(text)
        return html._parse(text, utf8)

    assert outcome(from_utf8) == outcome(lambda text: etree.fromstring(text, etree.HTMLParser()))


@pytest.mark.parametrize(
    ("data", "strict_utf8"),
    [
        ("<p>中文</p>".encode(), True),
        ('<meta charset="utf-8"><p>中文</p>'.encode(), True),
        ("﻿<p>中文</p>".encode(), False),  # the BOM is not in the text
        ("<p>中文</p>".encode("gb18030"), False),
        ("<p>中文</p>\n<p>".encode() + "政府".encode("gb18030") + b"</p>", False),  # mixed: read line by line
    ],
)
def test_pages_read_as_strict_utf8_are_parsed_from_their_bytes(data: bytes, strict_utf8: bool) -> None:
    text, _, strict = html._decode_page(data)
    assert strict == strict_utf8
    if strict:
        assert data.decode("utf-8") == text


def test_chrome_named_block_holding_the_report_title_is_kept_whatever_its_whitespace() -> None:
    page = _page(
        "<div class='article-header' id='a'><h1>北京市海淀区人民政府2023年政府信息\n 公开工作年度\u3000报告</h1></div>"
        "<div class='header' id='b'><div class='title'>北京市海淀区人民政府 2023年政府信息公开\t工作年度报告</div>"
        "</div>"
        "<div class='nav' id='c'><h2>2022年度报告</h2><p>政府信息公开</p></div><div class='footer' id='d'>网站</div>"
    )
    body = etree.fromstring(page, etree.HTMLParser()).find("body")
    assert {el.get("id"): html._is_chrome(el) for el in body} == {"a": False, "b": False, "c": True, "d": True}
