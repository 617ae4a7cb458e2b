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
#: Runs of characters outside the ranges NFKC never changes (printable ASCII, CJK Unified Ideographs):
#: the only places folding can apply. A short negated class keeps the regex scan fast.
_FOLD_RUN = re.compile("[^\\t\\n\\x20-\\x7e\\u4e00-\\u9fff]+")
_FOLD_TRANS = str.maketrans(_FOLD)
#: Characters for which folding one by one equals NFKC of the whole string (no composition across
#: characters): ASCII/Latin-1, punctuation, CJK, radicals, full-width forms (less the half-width kana
#: voicing marks). Any other character sends the text through unicodedata's NFKC instead.
_OUTSIDE_SAFE = re.compile(
    "[^\t\n\x20-\x7e\u00a0-\u00ff\u2000-\u206f\u2e80-\u2fdf\u3000-\u303f"
    "\u3400-\u4dbf\u4e00-\u9fff\uff00-\uff9d\uffa0-\uffef]"
)
_LINE_ENDS = re.compile(r"\r\n?|\u2028|\u2029|\x0b|\x0c|\x85")


#: characters whose folded form holds a character that folds again (none today: NFKC output is stable);
#: replacing characters one after another would fold those twice, so such a text is folded run by run
_CHAINING = frozenset(ch for ch, rep in _FOLD.items() if any(c in _FOLD for c in rep))


def normalize(text: str) -> str:
    """NFKC (full-width digits and punctuation, Kangxi radicals) + the radicals map + LF line ends.

    NFKC turns full-width （）：，  into ASCII ( ) : ,; label matching works on the normalized form.
    Equal to `unicodedata.normalize("NFKC", ...)` after the radicals map (a test checks it), but folds
    only the characters that can change: one regex pass finds the runs that may, then each distinct
    character found is replaced throughout with `str.replace` (a report holds a handful of them, in
    hundreds of places: no Python call per run).
    """
    if "\r" in text or "\x0b" in text or "\x0c" in text or "\x85" in text or "\u2028" in text or "\u2029" in text:
        text = _LINE_ENDS.sub("\n", text)
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
    return [line.rstrip() for line in text.split("\n")]
