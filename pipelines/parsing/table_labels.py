"""Recognising printed row labels of tables 2, 3 and 4, tolerant of numbering, wraps, spacing and typos.

A label is identified by a distinctive phrase of its text (never by its numbering: `1.属于国家秘密` and
`1.本机关不掌握相关政府信息` share the `1.`). The phrases are checked with `in` on the compact text of a
fragment, which is cheap; only when none hits and the fragment carries figures is a character-bigram
overlap against the (small) label set tried, for typos.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from schemas.codes import APPLICATION_ROWS, PROACTIVE_ITEMS, PROCEEDINGS

_NUMBERING: Final = re.compile(
    r"^(?:[一二三四五六七八九十]{1,2}[、.]|\(\s*[一二三四五六七八九十]{1,2}\s*\)|\d{1,2}\s*[.、]?)+"
)
_PUNCT: Final = re.compile(r"[\s()（）“”\"'‘’,，、.。:：;；*#|<>《》_]")

#: Distinctive phrases of the table-3 row labels (one of them in a fragment identifies the row). Derived
#: phrases must be substrings of the canonical label in `schemas.codes` (checked at import).
_ROW_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "new_received": ("本年新收", "新收政府信息公开申请"),
    "carried_over": ("上年结转",),
    "granted": ("予以公开",),
    "partially_granted": ("部分公开",),
    "withheld_state_secret": ("国家秘密",),
    "withheld_prohibited_by_law": ("行政法规禁止", "禁止公开"),
    "withheld_three_safeties": ("三安全一稳定", "危及"),
    "withheld_third_party_rights": ("第三方合法权益", "保护第三方"),
    "withheld_internal_affairs": ("内部事务",),
    "withheld_process_info": ("过程性信息",),
    "withheld_enforcement_files": ("执法案卷",),
    "withheld_admin_query": ("行政查询",),
    "unable_not_held": ("不掌握",),
    "unable_needs_creation": ("另行制作", "没有现成"),
    "unable_unclear": ("仍不明确", "补正后申请"),
    "not_processed_complaint": ("信访举报", "投诉类"),
    "not_processed_duplicate": ("重复申请",),
    "not_processed_publication": ("出版物",),
    "not_processed_excessive": ("大量反复",),
    "not_processed_confirmation": ("重新出具", "确认或重新"),
    "other_no_correction": ("逾期不补正", "无正当理由逾期"),
    "other_fee_unpaid": ("收费通知", "缴纳费用"),
    "other_processing": ("其他处理",),
    "carried_forward": ("结转下年度", "下年度继续办理"),
}
#: Rows whose label is a bare common word: the fragment must be exactly that word after its numbering
#: (without numbering 其他 and 总计 are the column headers).
_ROW_EXACT: Final[dict[str, str]] = {"other_other": "其他", "outcome_total": "总计"}

#: Table-2 subjects: distinctive phrases of the printed subject labels.
_SUBJECT_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "regulations": ("规章",),
    "normative_documents": ("规范性文件",),
    "administrative_licensing": ("行政许可",),
    "other_external_services": ("对外管理服务", "其他对外管理"),
    "administrative_penalty": ("行政处罚",),
    "administrative_coercion": ("行政强制",),
    "administrative_fees": ("事业性收费",),
    "government_procurement": ("集中采购", "政府采购"),
}

_PROCEEDING_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "admin_review": ("行政复议",),
    "litigation_direct": ("直接起诉",),
    "litigation_after_review": ("复议后起诉",),
}


def compact(text: str) -> str:
    """The text without spaces or punctuation (labels are compared in this form)."""
    return _PUNCT.sub("", text)


def strip_numbering(text: str) -> str:
    return _NUMBERING.sub("", text.replace(" ", ""))


#: texts memoised per matcher (bounded: label fragments are few, but damaged input may vary without end)
_MEMO_SIZE: Final = 20_000
_MEMO_CHARS: Final = 200
#: a text not in a memo (no row is negative)
_UNSEEN: Final = -1


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


class LabelMatcher:
    """Maps a text fragment to the index of the row it labels in `codes` (or None)."""

    def __init__(self, codes: list[str], phrases: dict[str, tuple[str, ...]], exact: dict[str, str], labels: list[str]):
        self.codes = codes
        by_phrase = {p: i for i, c in enumerate(codes) for p in phrases.get(c, ())}
        self._row_of = by_phrase
        # one alternation instead of a loop over phrases: a single scan of each fragment
        self._pattern = re.compile("|".join(map(re.escape, sorted(by_phrase, key=len, reverse=True))))
        self._exact = {w: i for i, c in enumerate(codes) if (w := exact.get(c))}
        self._grams = [(_bigrams(compact(strip_numbering(label))), i) for i, label in enumerate(labels)]
        # the same fragments (the national labels, column headers) recur in every report: memoised per text
        #: text -> row of the texts matched so far (callers in a hot loop look here before calling `match`)
        self.known: dict[str, int | None] = {}
        self._fuzzed: dict[str, int | None] = {}

    def match(self, text: str) -> int | None:
        row = self.known.get(text, _UNSEEN)
        if row is None or row != _UNSEEN:  # (None first: then the ints are compared as ints)
            return row
        row = self._match(text)
        if len(self.known) < _MEMO_SIZE and len(text) <= _MEMO_CHARS:
            self.known[text] = row
        return row

    def _match(self, text: str) -> int | None:
        m = self._pattern.search(text)
        if m is not None:
            return self._row_of[m.group()]
        if not self._exact or len(text) > 12:
            return None
        stripped = strip_numbering(text)
        if stripped == text.replace(" ", ""):
            return None  # 其他 / 总计 without numbering: a column header, not the row (3.其他, (七)总计)
        return self._exact.get(compact(stripped))

    def fuzzy(self, text: str) -> int | None:
        """Best label by bigram overlap (Dice), for typo'd labels that carry figures."""
        row = self._fuzzed.get(text, _UNSEEN)
        if row is None or row != _UNSEEN:
            return row
        row = self._fuzzy(text)
        if len(self._fuzzed) < _MEMO_SIZE and len(text) <= _MEMO_CHARS:
            self._fuzzed[text] = row
        return row

    def _fuzzy(self, text: str, threshold: float = 0.6) -> int | None:
        grams = _bigrams(compact(strip_numbering(text)))
        if len(grams) < 3:
            return None
        best, best_score = None, threshold
        for label_grams, i in self._grams:
            if not label_grams:
                continue
            score = 2 * len(grams & label_grams) / (len(grams) + len(label_grams))
            if score > best_score:
                best, best_score = i, score
        return best


def _check_phrases() -> None:
    labels = {r.code: compact(r.label) for rows in APPLICATION_ROWS.values() for r in rows}
    for code, phrases in _ROW_PHRASES.items():
        for p in phrases:
            assert p in labels[code], (code, p)


_check_phrases()


@cache
def application_matcher(template: str) -> LabelMatcher:
    rows = APPLICATION_ROWS[template]
    return LabelMatcher([r.code for r in rows], _ROW_PHRASES, _ROW_EXACT, [r.label for r in rows])


@cache
def proactive_matcher(template: str) -> tuple[LabelMatcher, list[tuple[str, str, tuple[str, ...]]]]:
    """Matcher over the (item, subject) rows of table 2, and those rows with their metric codes."""
    rows = [
        (it.item, s.code, tuple(m.code for m in it.metrics)) for it in PROACTIVE_ITEMS[template] for s in it.subjects
    ]
    labels = [s.label for it in PROACTIVE_ITEMS[template] for s in it.subjects]
    return LabelMatcher([r[1] for r in rows], _SUBJECT_PHRASES, {}, labels), rows


@cache
def proceeding_matcher() -> LabelMatcher:
    return LabelMatcher([p.code for p in PROCEEDINGS], _PROCEEDING_PHRASES, {}, [p.label for p in PROCEEDINGS])
