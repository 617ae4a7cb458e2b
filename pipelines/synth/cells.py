"""How a figure is printed in a cell: the cell styles real reports use (all in report-template.md).

Zero as `-`, `—`, `/` or `无`; full-width digits (２６); thousands separators (1,234); amounts with
their unit in the cell (`251000元` is 25.1 万元, `103.3879万元`); a stray plus sign (`+3`). The truth
value of every style is the figure itself (0 for the zero tokens).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

ZERO_TOKENS: tuple[str, ...] = ("-", "—", "/", "无")
_FULLWIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


@dataclass(slots=True)
class CellStyle:
    """One document's printing habits (a document is typed by one person, with one convention)."""

    #: zero printed as this token instead of 0 (None: always 0)
    zero_token: str | None = None
    #: share of zeros printed with the token (the rest stay 0)
    zero_rate: float = 1.0
    #: share of cells with full-width digits
    fullwidth_rate: float = 0.0
    #: 1,234 for figures >= 1000
    thousands: bool = False
    #: share of positive figures printed with a stray plus sign
    plus_rate: float = 0.0
    #: positive 本年增/减 printed as +3
    signed_change: bool = False
    #: amounts: "plain" (25.1), "fixed4" (25.1000), "wan" (25.1万元), "yuan" (251000元)
    amount_style: str = "plain"
    #: counts print as plain str(value) (set by draw_style; the fast path for ~200 cells per report)
    plain_counts: bool = False

    @property
    def name(self) -> str:
        """Short description for per-style accuracy reports."""
        parts = []
        if self.zero_token:
            parts.append(f"zero={self.zero_token}")
        if self.fullwidth_rate:
            parts.append("fullwidth")
        if self.thousands:
            parts.append("thousands")
        if self.plus_rate or self.signed_change:
            parts.append("plus")
        if self.amount_style != "plain":
            parts.append(f"amount={self.amount_style}")
        return ",".join(parts) or "plain"


def draw_style(rng: random.Random) -> CellStyle:
    style = CellStyle()
    if rng.random() < 0.25:
        style.zero_token = rng.choice(ZERO_TOKENS)
        style.zero_rate = 1.0 if rng.random() < 0.6 else 0.5
    if rng.random() < 0.08:
        style.fullwidth_rate = 1.0 if rng.random() < 0.5 else 0.3
    style.thousands = rng.random() < 0.2
    if rng.random() < 0.05:
        style.plus_rate = 0.05
    style.signed_change = rng.random() < 0.4
    style.amount_style = rng.choice(("plain", "plain", "plain", "fixed4", "wan", "yuan"))
    style.plain_counts = not (style.zero_token or style.fullwidth_rate or style.thousands or style.plus_rate)
    return style


def _digits(text: str, style: CellStyle, rng: random.Random) -> str:
    if style.fullwidth_rate and rng.random() < style.fullwidth_rate:
        return text.translate(_FULLWIDTH)
    return text


def count(value: int | None, style: CellStyle, rng: random.Random, *, signed: bool = False) -> str:
    """A count as printed. `signed`: a 本年增/减 figure (a plus sign there is normal). None: a blank cell."""
    if value is None:
        return ""
    if style.plain_counts and not (signed and style.signed_change):
        return str(value)
    if value == 0:
        if style.zero_token and rng.random() < style.zero_rate:
            return style.zero_token
        return _digits("0", style, rng)
    text = f"{abs(value):,}" if style.thousands and abs(value) >= 1000 else str(abs(value))
    text = _digits(text, style, rng)
    if value < 0:
        return "-" + text
    if (signed and style.signed_change) or (style.plus_rate and rng.random() < style.plus_rate):
        return "+" + text
    return text


def amount(yuan: int, style: CellStyle, rng: random.Random) -> str:
    """An amount (exact whole yuan) as printed in a 万元 column."""
    if yuan < 0:  # only in a planted non_negative break
        return "-" + amount(-yuan, style, rng)
    if yuan == 0:
        if style.zero_token and rng.random() < style.zero_rate:
            return style.zero_token
        return rng.choice(("0", "0", "0.00", "0.0000"))
    if style.amount_style == "yuan":
        text = (f"{yuan:,}" if style.thousands else str(yuan)) + "元"
        return _digits(text, style, rng)
    whole, frac = divmod(yuan, 10000)
    whole_text = f"{whole:,}" if style.thousands and whole >= 1000 else str(whole)
    frac_text = f"{frac:04d}"
    if style.amount_style != "fixed4":
        frac_text = frac_text.rstrip("0")
    text = whole_text + ("." + frac_text if frac_text else "")
    if style.amount_style == "wan":
        text += "万元"
    return _digits(text, style, rng)
