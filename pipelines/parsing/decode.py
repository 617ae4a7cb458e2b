"""Bytes → text: BOMs, UTF-8, GB18030/GBK, UTF-16, with charset-normalizer as the fallback detector."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes


class UndecodableText(Exception):
    """The bytes are not text in any encoding we can identify (binary, or damaged beyond reading)."""


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: share of control characters (other than tab/newline/CR/form feed) above which text is binary
_MAX_CONTROL_SHARE = 0.02


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    n = sum(1 for ch in text if (ch < " " and ch not in "\t\n\r\f") or ch == "\x7f")
    return n / len(text)


def _looks_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM: CJK text has a NUL in every other byte only for ASCII, so test the ASCII runs."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Decode report bytes; returns (text, encoding name). Raises UndecodableText for binary input."""
    if not data.strip():
        return "", "utf-8"
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding.replace("-sig", "") + ("-bom" if "sig" in encoding else "")
            except UnicodeDecodeError:
                break
    candidates: list[str] = ["utf-8"]
    if utf16 := _looks_utf16(data):
        candidates.insert(0, utf16)
    candidates.append("gb18030")  # superset of GBK and GB2312: most non-UTF-8 Chinese text decodes here
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _control_share(text) <= _MAX_CONTROL_SHARE:
            return text, encoding
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        text = data.decode(best.encoding, errors="replace")
        if _control_share(text) <= _MAX_CONTROL_SHARE:
            return text, best.encoding
    raise UndecodableText(
        "undecodable bytes: not UTF-8, UTF-16 or GB18030 text, and no encoding could be detected (binary file?)"
    )
