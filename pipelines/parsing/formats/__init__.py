"""Readers for published formats (HTML, PDF, Word) that turn a file into report text.

OWNED BY THE FORMATS WORK (issue 4). Each reader returns `Extracted`: the report as text whose tables
are rows of tab-separated cells (one grid row per line), which the text parser reads like a table
pasted from Word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


class UnreadableDocument(Exception):
    """The file is of a known format but holds no readable report text (e.g. a scanned PDF)."""


@dataclass(slots=True)
class Extracted:
    text: str
    encoding: str | None
    #: a title found outside the text body (HTML <title>, PDF metadata); may be None
    title: str | None = None


def is_wide(ch: str) -> bool:
    """CJK ideographs and full-width punctuation: no space is written between them."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def join_wrapped(parts: Iterable[str]) -> str:
    """Lines of one wrapped cell or paragraph as one line: a space only between non-CJK ends."""
    text = ""
    for part in parts:
        if not part:
            continue
        if text and not (is_wide(text[-1]) or is_wide(part[0])):
            text += " "
        text += part
    return text
