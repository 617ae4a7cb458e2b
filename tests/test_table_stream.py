"""How one table line becomes pieces: label cells, then the row's figures (grid rows and free text)."""

from __future__ import annotations

import pytest

from pipelines.parsing.table_stream import _line_pieces

# (line, pieces as (text, values, grid, is_text, first_cell)); the plain figures a row ends in are read
# in one step, the cells before them one by one: both must give what reading every cell gives
CASES = [
    ("规范性文件\t0\t0\t7", [("规范性文件", [], False, True, 0), ("", ["0", "0", "7"], True, False, 1)]),
    (
        "三、本年度办理结果\t(一)予以公开\t1\t0\t2",
        [
            ("三、本年度办理结果", [], False, True, 0),
            ("(一)予以公开", [], False, True, 1),
            ("", ["1", "0", "2"], True, False, 2),
        ],
    ),
    ("\t\t1\t0", [("", ["", "", "1", "0"], True, False, 0)]),
    ("项目\t1\t见附件\t3", [("项目", [], False, True, 0), ("", ["1", "见附件", "3"], True, False, 1)]),
    ("合计\t1,234\t5 6\t7", [("合计", [], False, True, 0), ("", ["1,234", "56", "7"], True, False, 1)]),
    ("| 规章 | 0 | 0 | |", [("规章", [], False, True, 0), ("", ["0", "0", ""], True, False, 1)]),
    ("| --- | :--: |", []),
    (
        "三、 1.属于国家秘密 0 0 3",
        [("三、1.属于国家秘密", [], False, True, -1), ("", ["0", "0", "3"], False, False, -1)],
    ),
    ("1 属于国家秘密 0 0", [("1属于国家秘密", [], False, True, -1), ("", ["0", "0"], False, False, -1)]),
    ("规章 0 12 3", [("规章", [], False, True, -1), ("", ["0", "12", "3"], False, False, -1)]),
    ("0 0 7", [("", ["0", "0", "7"], False, False, -1)]),
    (
        "信息内容 本年新制作数量 0.5 3",
        [("信息内容本年新制作数量", [], False, True, -1), ("", ["0.5", "3"], False, False, -1)],
    ),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_line_pieces(line: str, expected: list[tuple[str, list[str], bool, bool, int]]) -> None:
    got = [(p.text, p.values, p.grid, p.is_text, p.first_cell) for p in _line_pieces([line], 0, 1)]
    assert got == expected
