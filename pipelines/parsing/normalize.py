"""Text normalization: NFKC, CJK Radicals Supplement look-alikes, line ends, layout noise."""

from __future__ import annotations

import re
import unicodedata

# CJK Radicals Supplement (U+2E80–2EFF) code points that PDF extractors emit for ordinary characters.
# NFKC folds the Kangxi Radicals block (U+2F00–2FDF) but not this one, so the map is explicit; targets
# follow Unicode's EquivalentUnifiedIdeograph.txt.
RADICALS_SUPPLEMENT: dict[str, str] = {
    "\u2e80": "丶", "\u2e81": "厂", "\u2e82": "乛", "\u2e83": "乚", "\u2e84": "乙", "\u2e85": "亻",
    "\u2e86": "冂", "\u2e87": "几", "\u2e88": "刀", "\u2e89": "刂", "\u2e8a": "卜", "\u2e8b": "㔾",
    "\u2e8c": "小", "\u2e8d": "小", "\u2e8e": "兀", "\u2e8f": "尣", "\u2e90": "尢", "\u2e91": "尣",
    "\u2e92": "巳", "\u2e93": "幺", "\u2e94": "彑", "\u2e95": "彐", "\u2e96": "忄", "\u2e97": "㣺",
    "\u2e98": "扌", "\u2e99": "攵", "\u2e9b": "旡", "\u2e9c": "日", "\u2e9d": "月", "\u2e9e": "歺",
    "\u2e9f": "母", "\u2ea0": "民", "\u2ea1": "氵", "\u2ea2": "氺", "\u2ea3": "灬", "\u2ea4": "爫",
    "\u2ea5": "爫", "\u2ea6": "丬", "\u2ea7": "牛", "\u2ea8": "犭", "\u2ea9": "王", "\u2eaa": "疋",
    "\u2eab": "罒", "\u2eac": "示", "\u2ead": "礻", "\u2eae": "竹", "\u2eaf": "糹", "\u2eb0": "纟",
    "\u2eb1": "罒", "\u2eb2": "罒", "\u2eb3": "罒", "\u2eb4": "罒", "\u2eb5": "罒", "\u2eb6": "羊",
    "\u2eb7": "羊", "\u2eb8": "羊", "\u2eb9": "耂", "\u2eba": "肀", "\u2ebb": "聿", "\u2ebc": "月",
    "\u2ebd": "臼", "\u2ebe": "艹", "\u2ebf": "艹", "\u2ec0": "艹", "\u2ec1": "虎", "\u2ec2": "衤",
    "\u2ec3": "覀", "\u2ec4": "西", "\u2ec5": "见", "\u2ec6": "角", "\u2ec7": "角", "\u2ec8": "讠",
    "\u2ec9": "贝", "\u2eca": "足", "\u2ecb": "车", "\u2ecc": "辶", "\u2ecd": "辶", "\u2ece": "辶",
    "\u2ecf": "阝", "\u2ed0": "钅", "\u2ed1": "长", "\u2ed2": "長", "\u2ed3": "长", "\u2ed4": "门",
    "\u2ed5": "阜", "\u2ed6": "阝", "\u2ed7": "雨", "\u2ed8": "青", "\u2ed9": "韦", "\u2eda": "页",
    "\u2edb": "风", "\u2edc": "飞", "\u2edd": "食", "\u2ede": "飠", "\u2edf": "飠", "\u2ee0": "饣",
    "\u2ee1": "首", "\u2ee2": "马", "\u2ee3": "骨", "\u2ee4": "鬼", "\u2ee5": "鱼", "\u2ee6": "鸟",
    "\u2ee7": "卤", "\u2ee8": "麦", "\u2ee9": "黄", "\u2eea": "黾", "\u2eeb": "斉", "\u2eec": "齐",
    "\u2eed": "歯", "\u2eee": "齿", "\u2eef": "竜", "\u2ef0": "龙", "\u2ef1": "龜", "\u2ef2": "亀",
    "\u2ef3": "龟",
}  # fmt: skip
_EXTRA: dict[str, str] = {
    "\u00a0": " ",  # no-break space
    "\u3000": " ",  # ideographic space
    "\u200b": "",  # zero-width space
    "\ufeff": "",  # stray BOM inside text
}


def _build_fold_table() -> dict[str, str]:
    """Every BMP/SIP character whose NFKC form differs, plus the radicals map: char → replacement.

    Built once at import (~50 ms). Folding char by char through a regex touches only the few characters
    that change (full-width punctuation, radicals), which is ~10× faster than NFKC over whole CJK text.
    """
    table: dict[str, str] = {}
    for cp in range(0x20, 0x30000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch:
            table[ch] = folded
    table.update(RADICALS_SUPPLEMENT)
    table.update(_EXTRA)
    return table


_FOLD = _build_fold_table()
_FOLD_TRANS = str.maketrans(_FOLD)
_LINE_ENDS = re.compile(r"\r\n?|\u2028|\u2029|\x0b|\x0c|\x85")
#: what `_LINE_ENDS` turns into LF (U+2028/2029 are safe and NFKC-stable, but a line end all the same)
_LINE_END_CHARS = frozenset("\r\u2028\u2029\x0b\x0c\x85")
#: Characters for which folding one by one equals NFKC of the whole string (no composition across
#: characters): ASCII/Latin-1, punctuation, CJK, radicals, full-width forms (less the half-width kana
#: voicing marks). Any other character sends the text through unicodedata's NFKC instead.
_SAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0A),
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xFF00, 0xFF9D),
    (0xFFA0, 0xFFEF),
)


def _char_class(ranges: list[tuple[int, int]]) -> str:
    """A regex character class body for code point ranges (every character escaped)."""
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges
    )


def _ranges(code_points: list[int]) -> list[tuple[int, int]]:
    """Sorted code points as (first, last) runs."""
    out: list[tuple[int, int]] = []
    for cp in code_points:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


_OUTSIDE_SAFE = re.compile(f"[^{_char_class(list(_SAFE_RANGES))}]")
#: Any character normalization may change: one outside the safe ranges, or one that folds. Everything
#: else (ASCII, CJK ideographs, the common CJK punctuation 、。“”《》—) is skipped by one regex scan.
_CHANGING = re.compile(
    "[^"
    + _char_class(
        _ranges(
            [
                cp
                for lo, hi in _SAFE_RANGES
                for cp in range(lo, hi + 1)
                if chr(cp) not in _FOLD and chr(cp) not in _LINE_END_CHARS
            ]
        )
    )
    + "]"
)
#: Safe characters whose folded form holds nothing `_CHANGING` matches: replacing each of them throughout
#: the text, one after another, is NFKC of the whole (folding them never creates another to fold).
_SIMPLE_FOLD: dict[str, str] = {
    ch: folded for ch, folded in _FOLD.items() if not _OUTSIDE_SAFE.match(ch) and not _CHANGING.search(folded)
}
#: Runs of characters outside the ranges NFKC never changes (printable ASCII, CJK Unified Ideographs).
_FOLD_RUN = re.compile("[^\\t\\n\\x20-\\x7e\\u4e00-\\u9fff]+")


#: characters whose folded form holds a character that folds again (none today: NFKC output is stable);
#: replacing characters one after another would fold those twice, so such a text is folded run by run
_CHAINING = frozenset(ch for ch, rep in _FOLD.items() if any(c in _FOLD for c in rep))


def normalize(text: str) -> str:
    """NFKC (full-width digits and punctuation, Kangxi radicals) + the radicals map + LF line ends.

    NFKC turns full-width （）：，  into ASCII ( ) : ,; label matching works on the normalized form.
    Equal to `unicodedata.normalize("NFKC", ...)` after the radicals map (a test checks it), but folds
    only the characters that can change: a regex search finds the first one, `str.replace` folds it
    throughout, and the search goes on after it. A report holds a handful of distinct such characters in
    hundreds of places, so this is one scan of the text and a handful of replaces, with no Python call
    per occurrence. A character that needs more than a one-by-one fold sends the text to `_fold_general`.
    The same scan finds line ends other than LF (CR, U+2028…), so the common text needs no separate look
    for them.
    """
    folded = text
    search = _CHANGING.search
    position = 0
    while (match := search(folded, position)) is not None:
        ch = match.group()
        replacement = _SIMPLE_FOLD.get(ch)
        if replacement is None:
            # a line end other than LF (`_CHANGING` matches them all) or a character that needs more than a
            # one-by-one fold: line ends are unified first, in the text as it came
            if any(map(text.__contains__, _LINE_END_CHARS)):
                return normalize(_LINE_ENDS.sub("\n", text))
            return _fold_general(text)
        # no earlier occurrence of `ch` is left (the search found the first), and the replacement holds
        # nothing to fold: the search goes on after it
        folded = folded.replace(ch, replacement)
        position = match.start() + len(replacement)
    return folded


def _fold_general(text: str) -> str:
    """Folding of a text with a character outside the safe ranges or one whose fold folds again."""
    runs = _FOLD_RUN.findall(text)
    if not runs:
        return text
    chars = set("".join(runs))
    if _OUTSIDE_SAFE.search("".join(chars)):
        return unicodedata.normalize("NFKC", text.translate(_FOLD_TRANS))
    if not chars.isdisjoint(_CHAINING):
        return _FOLD_RUN.sub(lambda match: match[0].translate(_FOLD_TRANS), text)
    for ch in chars:
        folded = _FOLD.get(ch)
        if folded is not None:
            text = text.replace(ch, folded)
    return text


def lines(text: str) -> list[str]:
    """Split normalized text into lines, right-stripped (tabs inside a line are kept: they are cells)."""
    return list(map(str.rstrip, text.split("\n")))
