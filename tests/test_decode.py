"""The decoder's shortcuts equal the definitions they stand for: control characters counted in the bytes,
the early-exit plausibility test, the binary and UTF-16 sniffing pre-checks, the strong-UTF-8 line scan."""

from __future__ import annotations

import random

import pytest

from pipelines.parsing import decode

_CJK = "政府信息公开工作年度报告申请数量本年新收上年结转予以公开部分不予"
_PIECES = [
    "\n",
    "\t",
    " ",
    "12",
    "（一）",
    "，",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\r\n",
    "é",
    "Ж",
    "😀",
    "\ufffd",
    "abc",
]


def _text(rng: random.Random, n: int = 80) -> str:
    return "".join(rng.choice(_PIECES) if rng.random() < 0.3 else rng.choice(_CJK) for _ in range(n))


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_control_share_counted_in_bytes_equals_the_text_count(encoding: str) -> None:
    rng = random.Random(encoding)
    for _ in range(300):
        text = _text(rng).replace("😀", "") if encoding == "gb18030" else _text(rng)
        data = text.encode(encoding)
        assert decode._control_share_of_bytes(data, data.decode(encoding)) == decode._control_share(text)
    assert decode._control_share_of_bytes(b"", "") == decode._control_share("") == 0.0


def test_no_gb18030_multibyte_sequence_reads_as_a_control_character() -> None:
    """What `_control_share_of_bytes` relies on for GB18030: control characters are single bytes."""
    two_byte = (
        bytes([lead, trail]) for lead in range(0x81, 0xFF) for trail in [*range(0x40, 0x7F), *range(0x80, 0xFF)]
    )
    four_byte = (
        bytes([a, b, c, d])
        for a in range(0x81, 0x85)
        for b in range(0x30, 0x3A)
        for c in range(0x81, 0xFF)
        for d in range(0x30, 0x3A)
    )
    for sequence in (*two_byte, *four_byte):
        try:
            text = sequence.decode("gb18030")
        except UnicodeDecodeError:
            continue
        assert not decode._CONTROL.search(text), sequence


def test_allowance_is_the_largest_count_the_share_accepts() -> None:
    for n in range(1, 400):
        for share in (0.95, 0.9, 0.5, 0.0, 1.0):
            allowed = decode._allowed_implausible(n, share)
            assert allowed == max((k for k in range(n + 1) if 1 - k / n >= share), default=-1)


def test_head_verdict_never_contradicts_the_whole_text() -> None:
    """`_surely_implausible` says so only when the whole reading fails the share, and says so for GB18030."""
    rng = random.Random(1)
    gb = ("某某区人民政府2023年政府信息公开工作年度报告\n（一）予以公开\t12\n" * 30).encode("gb18030")
    for encoding in ("utf-16-le", "utf-16-be"):
        assert decode._surely_implausible(gb[: len(gb) // 2 * 2], encoding)
    alphabet = ["政", "a", "\u3105", "\uac00", "\u0400", "\ufffd", " ", "😀"]
    verdicts = set()
    for _ in range(1500):
        weights = [rng.random() for _ in alphabet]
        text = "".join(rng.choices(alphabet, weights, k=rng.randint(0, 400)))
        for encoding in ("utf-16-le", "utf-16-be"):
            data = text.encode(encoding)
            if rng.random() < 0.2 and data:  # damaged: a cut surrogate pair, a lone surrogate
                data = (
                    data[:-2]
                    if rng.random() < 0.5
                    else data[:2] + b"\x00\xdc"[:: 1 if encoding.endswith("le") else -1] + data[2:]
                )
            sure = decode._surely_implausible(data, encoding)
            verdicts.add(sure)
            if sure:
                assert decode._plausible_share(data.decode(encoding, "replace")) < decode._MIN_PLAUSIBLE_SHARE
    assert verdicts == {True, False}


def test_sniffing_pre_checks_change_nothing() -> None:
    for signature, what in decode.BINARY_SIGNATURES:
        assert decode._sniff_binary(signature + b"rest") == what
    assert decode._sniff_binary(b"plain text") is None
    assert decode._looks_utf16("年度报告 2023\n".encode("utf-16-le")) == "utf-16-le"
    assert decode._looks_utf16("年度报告 2023\n".encode("utf-16-be")) == "utf-16-be"
    assert decode._looks_utf16("年度报告 2023\n".encode()) is None
    assert decode._looks_utf16(b"ab\x00") is None


def _strong_by_lines(data: bytes) -> bool:
    return any(map(decode._strong_utf8, data.split(b"\n")))


def test_strong_utf8_scan_equals_line_by_line() -> None:
    rng = random.Random(2)
    lines_utf8 = ["政府信息公开工作年度报告", "本年新收申请数量 12", "abc", "", "（一）予以公开\t3", "Ж"]
    lines_gb = [line.encode("gb18030") for line in lines_utf8]
    seen = set()
    for _ in range(500):
        parts = [
            rng.choice([line.encode() for line in lines_utf8] + lines_gb + [b"\xff\xfe", b"\xe6\x94"])
            for _ in range(rng.randint(0, 8))
        ]
        data = b"\n".join(parts) + rng.choice([b"", b"\n"])
        expected = _strong_by_lines(data)
        seen.add(expected)
        assert decode._any_strong_utf8(data) == expected, data
    assert seen == {True, False}


def test_gb18030_and_utf16_reports_still_decode() -> None:
    text = "某某区人民政府2023年政府信息公开工作年度报告\n（一）予以公开\t12\n" * 20
    assert decode.decode_text(text.encode("gb18030")).encoding == "gb18030"
    assert decode.decode_text(text.encode("gb18030")).text == text
    assert decode.decode_text(text.encode("utf-16-le")).encoding == "utf-16-le"
    assert decode.decode_text(text.encode("utf-8")).text == text


def test_invalid_utf8_from_the_escaped_text_equals_the_direct_count() -> None:
    rng = random.Random(5)
    pieces = [
        b"abc",
        "政府".encode(),
        "政府".encode("gb18030"),
        b"\xe6\x94",
        b"\xff",
        b"\xc0\x80",
        b"\xed\xa0\x80",
        b"\n",
    ]
    for _ in range(2000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        escaped = data.decode("utf-8", "surrogateescape")
        assert (
            decode._invalid_utf8(data, escaped)
            == decode._invalid_utf8(data)
            == decode._with_replacement(data, "utf-8")[1]
        )
