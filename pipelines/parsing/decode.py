"""Bytes → text: BOMs, UTF-8, GB18030/GBK, UTF-16, damaged and mixed encodings; charset-normalizer last.

Reports arrive in whatever encoding the crawler found, sometimes damaged (a truncated download cuts a
multibyte sequence, a bad copy flips bytes) or mixed (a GB18030 paragraph pasted into a UTF-8 file).
`decode_text` reads what can be read and says what it could not: every byte it had to replace and every
line it read in another encoding is named in `Decoded.problems`. Binary files (images, archives, office
files) are recognised by their signature and refused with a message that names what they are.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from charset_normalizer import from_bytes


class UndecodableText(Exception):
    """The bytes are not text in any encoding we can identify (binary, or damaged beyond reading)."""


@dataclass(slots=True)
class Decoded:
    text: str
    encoding: str
    #: what had to be done to read the bytes (replaced bytes, lines in another encoding); empty if clean
    problems: list[str] = field(default_factory=list)


_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-bom"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)

#: leading bytes of binary formats that are not report text -> what they are
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a RIFF container (WebP/WAV/AVI)"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 office document (legacy .doc/.xls/.wps)"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an ELF executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"{\\rtf", "an RTF document (not a supported report format)"),
)
_SIGNATURES = tuple(signature for signature, _ in BINARY_SIGNATURES)

#: share of control characters (other than tab/newline/CR/form feed) above which text is binary
_MAX_CONTROL_SHARE = 0.02
#: a line whose non-ASCII bytes are more than this share invalid as UTF-8 is not damaged UTF-8
_NOT_UTF8_SHARE = 0.5
#: at most this share of a file's non-ASCII bytes may be replaced before we call it undecodable
_MAX_REPLACED_SHARE = 0.10
#: share of characters in the scripts a report uses, for accepting a BOM-less UTF-16 reading
_MIN_PLAUSIBLE_SHARE = 0.95
_ESCAPED = re.compile(r"[\udc80-\udcff]")
_SHOWN = 8  # line numbers listed in a problem text before "…"


_CJK = re.compile("[\u4e00-\u9fff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
#: the bytes of `_CONTROL`'s characters: in UTF-8 and GB18030 they never occur inside a multibyte sequence
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_IMPLAUSIBLE = re.compile(
    "[^\t\n\r\f\x20-\x7e\xa0-\xff"
    "\u4e00-\u9fff\u3400-\u4dbf"  # CJK ideographs
    "\u3000-\u303f\uff00-\uffef\u2000-\u206f"  # CJK and general punctuation, full-width forms
    "\u2e80-\u2fdf\u2460-\u257f\ufffd]"  # radicals, circled numbers, box drawing
)
_IMPLAUSIBLE_RUN = re.compile(_IMPLAUSIBLE.pattern + "+")


def _control_share(text: str) -> float:
    """Share of control characters other than tab, newline, CR and form feed."""
    return len(_CONTROL.findall(text)) / len(text) if text else 0.0


def _control_share_of_bytes(data: bytes, text: str) -> float:
    """`_control_share(text)` for `text` strictly decoded from `data` as UTF-8 or GB18030: both encode the
    control characters as single bytes that no multibyte sequence contains, so the bytes are counted (a
    C-level `bytes.translate`, several times faster than a regex over the text)."""
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(text) if text else 0.0


def _plausible_share(text: str) -> float:
    """Share of characters a Chinese report uses (ASCII, CJK, its punctuation and forms), on a sample."""
    sample = text[:100_000]
    return 1 - len(_IMPLAUSIBLE.findall(sample)) / len(sample) if sample else 0.0


def _allowed_implausible(n: int, share: float) -> int:
    """The most implausible characters among `n` that `_plausible_share(...) >= share` allows (-1: none),
    by the same float comparison."""
    allowed = min(n, int((1 - share) * n) + 2)
    while allowed >= 0 and not 1 - allowed / n >= share:
        allowed -= 1
    return allowed


def _surely_implausible(data: bytes, encoding: str) -> bool:
    """Whether `data` (of even length) read as UTF-16 (`_utf16`'s text) is certainly below
    `_MIN_PLAUSIBLE_SHARE`, from its head alone: a GB18030 file tried as UTF-16 reads as Hangul and private
    use characters from its first line on, so a few hundred bytes settle what the whole text would.

    Exact: the text has at most len(data) / 2 characters, and the allowance grows with the length, so more
    implausible characters in the head than the longest text allows fails the share whatever the rest."""
    longest = min(len(data) // 2, 100_000)
    if not longest:
        return False
    allowed = _allowed_implausible(longest, _MIN_PLAUSIBLE_SHARE)
    # the head's characters are the text's first ones but for the last (maybe half a surrogate pair)
    head = data[: 2 * (4 * allowed + 20)].decode(encoding, "replace")[:-1]
    return sum(map(len, _IMPLAUSIBLE_RUN.findall(head))) > allowed


def _sniff_binary(data: bytes) -> str | None:
    """What a binary file is, by its signature; None when it does not start like a known binary format."""
    if not data.startswith(_SIGNATURES):  # one C-level test for the common case
        return None
    for signature, what in BINARY_SIGNATURES:
        if data.startswith(signature):
            return what
    return None


def _looks_utf16(data: bytes) -> str | None:
    """UTF-16 without BOM by its NUL bytes: every ASCII character (digits, newlines) has one."""
    if len(data) < 4 or data.find(b"\x00", 0, 4096) < 0:  # no NUL byte: neither count below can pass
        return None
    sample = data[:4096]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) / 2
    if odd_nuls > 0.3 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.3 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _replaced(text: str) -> tuple[str, int]:
    """Surrogate-escaped bytes -> U+FFFD, and how many there were (one pass: a GB18030 file read as UTF-8
    has thousands)."""
    return _ESCAPED.subn("\ufffd", text)


def _with_replacement(data: bytes, encoding: str) -> tuple[str, int]:
    return _replaced(data.decode(encoding, "surrogateescape"))


def _invalid_utf8(data: bytes, escaped: str | None = None) -> int:
    """`_with_replacement(data, "utf-8")[1]`: the bytes the decoder drops. With `escaped` (`data` decoded as
    UTF-8 with `surrogateescape`), from it: every invalid byte is one lone surrogate there, which the encoder
    drops as the decoder drops the byte (valid UTF-8 holds no surrogate)."""
    if escaped is not None:
        return len(data) - len(escaped.encode("utf-8", "ignore"))
    return len(data) - len(data.decode("utf-8", "ignore").encode("utf-8"))


_HIGH_BYTES = bytes(range(0x80, 0x100))


def _non_ascii(data: bytes) -> int:
    return len(data) - len(data.translate(None, _HIGH_BYTES))


def _ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> "3–5, 9" (at most _SHOWN items, then "…")."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts[:_SHOWN]) + (" …" if len(parts) > _SHOWN else "")


def _cut_utf8(line: bytes) -> bool:
    """Valid UTF-8 but for a multibyte sequence cut off at its end (a truncated download or a split line)."""
    for k in (1, 2, 3):
        head, tail = line[:-k], line[-k:]
        if len(tail) == k and 0xC2 <= tail[0] <= 0xF4 and all(0x80 <= b <= 0xBF for b in tail[1:]):
            try:
                head.decode("utf-8")
                return True
            except UnicodeDecodeError:
                return False
    return False


def _strong_utf8(line: bytes) -> bool:
    """A line that is certainly UTF-8: several valid multibyte characters reading as Chinese text.

    GB18030 bytes are rarely valid UTF-8 and, when they are, read as Latin/Cyrillic/Arabic letters, not CJK."""
    if _non_ascii(line) < 6:
        return False
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CJK.search(text) is not None and _plausible_share(text) >= 0.9


#: a whole line (after its LF) with a non-ASCII character and no surrogate escape, in bytes decoded as
#: UTF-8 with `surrogateescape`: exactly the lines whose bytes are valid UTF-8 and not all ASCII (an invalid
#: byte never takes the LF after it into its escape). Linear: the first run is ASCII, so the first non-ASCII
#: character is the only place the middle can match; the leading LF lets the regex engine skip from line
#: start to line start instead of trying every position.
_UNESCAPED_LINE = re.compile(r"\n([\x00-\x09\x0b-\x7f]*[^\x00-\x7f\udc80-\udcff][^\n\udc80-\udcff]*)(?=\n|\Z)")


def _any_strong_utf8(data: bytes, escaped: str | None = None) -> bool:
    """`any(map(_strong_utf8, data.split(b"\n")))`, with only the lines that are valid UTF-8 and not ASCII
    looked at (a GB18030 file holds few; all its lines were each tried as UTF-8 before). `escaped`: `data`
    decoded as UTF-8 with `surrogateescape`, when the caller has it."""
    text = "\n" + (data.decode("utf-8", "surrogateescape") if escaped is None else escaped)
    return any(_strong_utf8(m.group(1).encode("utf-8")) for m in _UNESCAPED_LINE.finditer(text))


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def _blocks(blocks: list[list[int]]) -> str:
    """[[3, 5], [9, 9]] -> "3–5, 9" (at most _SHOWN items, then "…")."""
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in blocks]
    return ", ".join(parts[:_SHOWN]) + (" …" if len(parts) > _SHOWN else "")


def _utf16(data: bytes, encoding: str, label: str) -> Decoded | None:
    """Decode as UTF-16/32; tolerate a few damaged units (a truncated last character), name them."""
    try:
        return Decoded(data.decode(encoding), label)
    except UnicodeDecodeError:
        pass
    text = data.decode(encoding, "replace")
    n = text.count("\ufffd") - data.decode(encoding, "ignore").count("\ufffd")
    if n > max(2, len(text) // 100) or _control_share(text) > _MAX_CONTROL_SHARE:
        return None
    return Decoded(text, label, [f"damaged {label.upper()} text: {n} undecodable code units replaced with U+FFFD"])


def _strict(line: bytes, encoding: str) -> str | None:
    try:
        return line.decode(encoding)
    except UnicodeDecodeError:
        return None


def _decode_lines(data: bytes, dominant: str) -> Decoded | None:
    """Line-by-line reading of UTF-8/GB18030 bytes that are damaged or mixed (0x0A is never inside a
    multibyte sequence of either).

    A line valid in only one encoding is read in it — unless it is damaged UTF-8 (few invalid bytes, or a
    sequence cut at its end); a line valid in both takes the encoding of the line before it (mixed files come
    in blocks), unless it is certainly UTF-8; a damaged line is read in the encoding it is least invalid in,
    its invalid bytes replaced with U+FFFD and counted."""
    texts: list[str] = []
    read_as: dict[str, list[int]] = {"utf-8": [], "gb18030": []}
    replaced_lines: list[int] = []
    replaced = 0
    blocks: dict[str, list[list[int]]] = {"utf-8": [], "gb18030": []}
    current, last_number = dominant, 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        non_ascii = _non_ascii(line)
        if not non_ascii:
            texts.append(line.decode("ascii"))
            continue
        as_utf8, as_gb = _strict(line, "utf-8"), _strict(line, "gb18030")
        utf8_bad = 0 if as_utf8 is not None else _with_replacement(line, "utf-8")[1]
        damaged_utf8 = utf8_bad <= 0.25 * non_ascii or _cut_utf8(line)
        bad = 0
        if as_utf8 is not None and (as_gb is None or current == "utf-8" or _strong_utf8(line)):
            encoding, text = "utf-8", as_utf8
        elif as_gb is not None and (current == "gb18030" or not damaged_utf8):
            encoding, text = "gb18030", as_gb
        else:
            encoding = "utf-8" if damaged_utf8 else "gb18030"
            text, bad = _with_replacement(line, encoding)
            replaced += bad
            replaced_lines.append(number)
        read_as[encoding].append(number)
        if encoding == current and blocks[encoding] and blocks[encoding][-1][1] == last_number:
            blocks[encoding][-1][1] = number  # ASCII-only lines in between do not break a block
        else:
            blocks[encoding].append([number, number])
        texts.append(text)
        current, last_number = encoding, number
    text = "\n".join(texts)
    if replaced > _MAX_REPLACED_SHARE * max(_non_ascii(data), 1) or _control_share(text) > _MAX_CONTROL_SHARE:
        return None
    if len(read_as["utf-8"]) != len(read_as["gb18030"]):
        dominant = max(read_as, key=lambda e: len(read_as[e]))
    other = "gb18030" if dominant == "utf-8" else "utf-8"
    names = {"utf-8": "UTF-8", "gb18030": "GB18030"}
    problems: list[str] = []
    if read_as[other]:
        problems.append(
            f"mixed encodings: {_lines(len(read_as[other]))} read as {names[other]} (lines {_blocks(blocks[other])}),"
            f" the rest as {names[dominant]}"
        )
    if replaced:
        problems.append(
            f"{replaced} undecodable byte{'s' if replaced != 1 else ''} replaced with U+FFFD "
            f"(lines {_ranges(replaced_lines)}); text read as {names[dominant]}"
        )
    return Decoded(text, dominant, problems)


def decode_text(data: bytes) -> Decoded:
    """Decode report bytes. Raises UndecodableText (with a specific reason) for binary or unreadable input."""
    if not data or data.isspace():  # `not data.strip()` without copying the bytes
        return Decoded("", "utf-8")
    if what := _sniff_binary(data):
        head = " ".join(f"{b:02x}" for b in data[:4])
        raise UndecodableText(f"binary file: content is {what} (starts with bytes {head}), not report text")
    for bom, encoding, label in _BOMS:
        if not data.startswith(bom):
            continue
        if encoding == "utf-8-sig":
            try:
                return Decoded(data.decode(encoding), label)
            except UnicodeDecodeError:
                data = data[len(bom) :]  # damaged UTF-8 after its BOM: read line by line below
                break
        decoded = _utf16(data, encoding, label)
        if decoded is not None:
            return decoded
    if utf16 := _looks_utf16(data):
        decoded = _utf16(data, utf16, utf16)
        if decoded is not None:
            return decoded
    try:
        text = data.decode("utf-8")
        if _control_share_of_bytes(data, text) <= _MAX_CONTROL_SHARE:
            return Decoded(text, "utf-8")
    except UnicodeDecodeError:
        pass
    non_ascii = _non_ascii(data)
    # decoded once with escapes: the invalid bytes are counted from it, and a GB18030 file's UTF-8 lines
    # looked for in it
    escaped = data.decode("utf-8", "surrogateescape")
    utf8_bad = _invalid_utf8(data, escaped)
    looks_utf8 = utf8_bad <= _NOT_UTF8_SHARE * max(non_ascii, 1)
    if not looks_utf8:
        # BOM-less UTF-16 of CJK-heavy text has few NULs; accept it only when it reads as Chinese
        even = data[: len(data) - len(data) % 2]
        for encoding in ("utf-16-le", "utf-16-be"):
            if _surely_implausible(even, encoding):  # a GB18030 file: settled by its head
                continue
            candidate = _utf16(even, encoding, encoding)
            if candidate is not None and _plausible_share(candidate.text) >= _MIN_PLAUSIBLE_SHARE:
                return candidate
        try:
            text = data.decode("gb18030")  # superset of GBK and GB2312
            # a UTF-8 paragraph in a GB18030 file also decodes, as mojibake: then read line by line
            if _control_share_of_bytes(data, text) <= _MAX_CONTROL_SHARE and not _any_strong_utf8(data, escaped):
                return Decoded(text, "gb18030")
        except UnicodeDecodeError:
            pass
    decoded = _decode_lines(data, "utf-8" if looks_utf8 else "gb18030")
    if decoded is not None:
        return decoded
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        text = data.decode(best.encoding, errors="replace")
        if _control_share(text) <= _MAX_CONTROL_SHARE and _plausible_share(text) >= _MIN_PLAUSIBLE_SHARE:
            return Decoded(text, best.encoding, [f"encoding guessed by charset-normalizer: {best.encoding}"])
    invalid = utf8_bad / max(len(data), 1)
    control = len(_CONTROL.findall(data.decode("latin-1"))) / max(len(data), 1)
    raise UndecodableText(
        f"undecodable bytes: not UTF-8, UTF-16 or GB18030 text ({invalid:.0%} of bytes invalid as UTF-8, "
        f"{control:.0%} NUL or other control bytes) and no other encoding reads it as text (binary file?)"
    )


def decode(data: bytes) -> tuple[str, str]:
    """Decode report bytes; returns (text, encoding name). Raises UndecodableText for binary input.

    Kept for readers that need only the text; `decode_text` also says what had to be replaced.
    """
    decoded = decode_text(data)
    return decoded.text, decoded.encoding
