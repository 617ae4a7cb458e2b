"""normalize() must equal NFKC after the radicals map, however it gets there."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.parsing.normalize import RADICALS_SUPPLEMENT, lines, normalize

FIXTURES = Path(__file__).parent / "fixtures"
_RADICALS = str.maketrans(RADICALS_SUPPLEMENT | {"\u00a0": " ", "\u3000": " ", "\u200b": "", "\ufeff": ""})


def reference(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for sep in ("\x0b", "\x0c", "\x85", "\u2028", "\u2029"):
        text = text.replace(sep, "\n")
    return unicodedata.normalize("NFKC", text.translate(_RADICALS))


def test_radicals_supplement_and_full_width_fold() -> None:
    assert normalize("西⼯区⺠政局") == "西工区民政局"
    assert normalize("⻓效 ⻬全") == "长效 齐全"
    assert normalize("（七）总计　２６，１２３") == "(七)总计 26,123"
    assert normalize("a\r\nb\rc") == "a\nb\nc"


def test_fixtures_equal_nfkc() -> None:
    for path in sorted(FIXTURES.rglob("*.txt")):
        text = path.read_text("utf-8")
        assert normalize(text) == reference(text), path.name


_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x33FF),
    st.characters(min_codepoint=0xF900, max_codepoint=0xFFEF),
    st.sampled_from(list("（）：，２６⺠⻓⼀ｶﾞ\r\n\t") + ["\u0301", "\u3099"]),
)


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_any_text_equals_nfkc(text: str) -> None:
    assert normalize(text) == reference(text)


def test_lines_keep_tabs_and_strip_right() -> None:
    assert lines("a\tb  \n\tc\t\n") == ["a\tb", "\tc", ""]


def test_every_simple_fold_equals_nfkc_alone_and_together() -> None:
    """The scan-and-replace path folds each of these characters throughout the text, one after another."""
    from pipelines.parsing.normalize import _SIMPLE_FOLD

    assert len(_SIMPLE_FOLD) > 400  # full-width forms, Kangxi radicals, the radicals supplement, …
    for ch in _SIMPLE_FOLD:
        text = f"政府{ch}信息{ch}{ch}公开、。{ch}"
        assert normalize(text) == reference(text), repr(ch)
    together = "西工区".join(_SIMPLE_FOLD) + "\u0301"  # and one that needs NFKC of the whole text
    assert normalize("".join(_SIMPLE_FOLD)) == reference("".join(_SIMPLE_FOLD))
    assert normalize(together) == reference(together)
