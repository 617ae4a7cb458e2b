"""Parse one raw report file into a `ReportRecord`. Never raises: bad input becomes a `failed` record.

Every input — empty, binary, huge, truncated, damaged, not a report at all, unreadable — yields exactly one
record whose `problems` say specifically what was wrong; resource use is bounded by `ParseLimits`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
import traceback
from pathlib import Path
from typing import Any

from pipelines.parsing import decode, metadata, normalize, rules, tables
from pipelines.parsing.formats import Extracted, UnreadableDocument
from pipelines.parsing.limits import ParseLimits, resolve
from pipelines.parsing.record import ReportRecord, Source


def _source_digest() -> str:
    """Hash of the parser's own source: any change to parsing code invalidates cached parses.

    Of `schemas/` only the declarations the parser reads (codes, rules) count: editing a warehouse
    schema or check must not force every file to be parsed again.
    """
    root = Path(__file__).resolve().parent
    schemas = root.parent.parent / "schemas"
    h = hashlib.sha256()
    files = sorted(root.rglob("*.py")) + [schemas / "codes.py", schemas / "rules.py"]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


PARSER_VERSION = f"1.0+{_source_digest()}"

#: suffix -> source_format; a `.txt` holding HTML is sniffed as html
FORMAT_BY_SUFFIX: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
REPORT_SUFFIXES: frozenset[str] = frozenset(FORMAT_BY_SUFFIX)
SIDECAR_SUFFIX = ".meta.json"
#: the catch-all problem text: a crash caught here is still a parser bug (tests assert it never appears)
PARSER_ERROR = "parser error on this input"

#: a report heading: 政府信息公开(工作)(年度)报告, spaces removed
_REPORT_HEADING = re.compile(r"政府信息公开.{0,8}报告")
_YEAR_TEXT = re.compile(r"\d{4}", re.ASCII)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_MAX_AGENCY_CHARS = 200
#: file types by `st_mode`, for "not a regular file"
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def name_suffix(name: str) -> str:
    """`Path(name).suffix`, without building a `Path` for the common name (its last part neither empty nor
    `.`: then that part is `Path(name).name`, on POSIX)."""
    base = name.rpartition("/")[2]
    if os.name != "posix" or base in ("", "."):
        return Path(name).suffix
    dot = base.rfind(".")
    return base[dot:] if 0 < dot < len(base) - 1 else ""


def sidecar_names(name: str) -> tuple[str, str]:
    """The sidecar names of the report file `name`: `report.txt.meta.json` and `report.meta.json` (its stem's);
    both are accepted, the first wins."""
    return name + SIDECAR_SUFFIX, name[: len(name) - len(name_suffix(name))] + SIDECAR_SUFFIX


def sidecar_paths(path: Path) -> tuple[Path, Path]:
    """`sidecar_names` of the file at `path`, beside it."""
    first, second = sidecar_names(path.name)
    return path.with_name(first), path.with_name(second)


def detect_format(data: bytes, name: str) -> str:
    """`text`/`markdown`/`html`/`pdf`/`docx` from the suffix, corrected by the content where it says otherwise
    (a `.txt` holding HTML, a `.pdf` that is really the HTML error page a crawler saved)."""
    fmt = FORMAT_BY_SUFFIX.get(name_suffix(str(name)).lower(), "text")
    if data.find(b"<", 0, 65536) < 0:  # no tag can start within the bytes looked at (the common text report)
        looks_html = False
    else:
        head = data[:2048].lstrip().lower().removeprefix(b"\xef\xbb\xbf").lstrip()
        looks_html = head.startswith((b"<!doctype html", b"<html"))
        if not looks_html:  # lower-cased only when needed: a page's first 64 KiB copied for nothing otherwise
            body = data[:65536].lower()
            # a table needs its rows: a text report that merely mentions "<table" (or is damaged into it) stays text
            looks_html = b"<table" in body and (b"<tr" in body or b"<td" in body)
    if fmt in ("text", "markdown"):
        if data[:5] == b"%PDF-":
            return "pdf"
        if looks_html:
            return "html"
    elif fmt == "pdf" and b"%PDF-" not in data[:1024] and looks_html:
        return "html"
    return fmt


def _format_mismatch(data: bytes, fmt: str) -> str | None:
    """Why bytes cannot be the binary format their name claims (checked before a reader sees them)."""
    if fmt == "pdf" and b"%PDF-" not in data[:1024]:
        what = decode._sniff_binary(data) or ("empty" if not data.strip() else "not a PDF (no %PDF- header)")
        return f"file named .pdf is not a PDF: content is {what}"
    if fmt == "docx" and not data.startswith(b"PK\x03\x04"):
        what = decode._sniff_binary(data) or ("empty" if not data.strip() else "not a ZIP container")
        return f"file named .docx is not a Word document: content is {what}"
    return None


def _extract(data: bytes, fmt: str) -> tuple[Extracted, list[str]]:
    if fmt == "html":
        from pipelines.parsing.formats import html

        return html.extract(data), []
    if fmt == "pdf":
        from pipelines.parsing.formats import pdf

        return pdf.extract(data), []
    if fmt == "docx":
        from pipelines.parsing.formats import docx

        return docx.extract(data), []
    decoded = decode.decode_text(data)
    return Extracted(text=decoded.text, encoding=decoded.encoding), decoded.problems


def _too_large(size: int, limits: ParseLimits) -> str:
    return f"file too large: {size} bytes > limit {limits.max_file_bytes} bytes (XXGK_MAX_FILE_BYTES)"


def _cut_long_lines(lines: list[str], limit: int) -> tuple[list[str], str | None]:
    """Lines over the limit, cut to it (so no later step works on megabyte lines); the problem says where."""
    if max(map(len, lines), default=0) <= limit:  # the common case, without building the list
        return lines, None
    long = [(number, len(line)) for number, line in enumerate(lines, start=1) if len(line) > limit]
    if not long:
        return lines, None
    number, length = max(long, key=lambda item: item[1])
    return [line[:limit] for line in lines], (
        f"{len(long)} line{'s' if len(long) != 1 else ''} longer than {limit} characters cut to that length "
        f"before parsing (longest: line {number}, {length} characters; XXGK_MAX_LINE_CHARS)"
    )


def _crash(exc: BaseException) -> str:
    """The catch-all problem text, with where the parser failed (so the bug can be found from the record)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{PARSER_ERROR}: {type(exc).__name__}: {exc}"[:500] + where


def display_name(name: object) -> str:
    """A file name as text that survives UTF-8 (Parquet, JSON): bytes of a name that is not UTF-8 (a GBK
    name from an unzipped archive) become \\xNN escapes. `parse_file` finds the file again from it."""
    text = os.fspath(name) if isinstance(name, os.PathLike) else str(name)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def parse_bytes(
    data: bytes, name: str, sidecar: dict[str, Any] | None = None, *, limits: ParseLimits | None = None
) -> ReportRecord:
    """Parse the bytes of one report file named `name` (used for its suffix and provenance). Never raises."""
    record = ReportRecord(source=Source(path=display_name(name)))
    try:
        data = bytes(data)
        record.source.sha256 = hashlib.sha256(data).hexdigest()
        record.source.size = len(data)
        limits, limits_problem = resolve(limits)
        if limits_problem:
            record.problems.append(limits_problem)
        _parse_into(record, data, limits)
    except (decode.UndecodableText, UnreadableDocument) as exc:
        record.problems.append(str(exc))
        record.status = "failed"
    except Exception as exc:
        record.problems.append(_crash(exc))
        record.status = "failed"
    return _apply_sidecar(record, sidecar)


def _parse_into(record: ReportRecord, data: bytes, limits: ParseLimits) -> None:
    """Fill `record` from the bytes; leaves `status` = failed where the input is not a readable report."""
    source = record.source
    record.status = "failed"
    if len(data) > limits.max_file_bytes:
        record.problems.append(_too_large(len(data), limits))
        return
    if not data:
        record.problems.append("empty file: 0 bytes")
        return
    source.format = detect_format(data, source.path)
    if mismatch := _format_mismatch(data, source.format):
        record.problems.append(mismatch)
        return
    extracted, decode_problems = _extract(data, source.format)
    source.encoding = extracted.encoding
    record.problems.extend(decode_problems)
    if len(extracted.text) > limits.max_text_chars:
        record.problems.append(
            f"text too large: {len(extracted.text)} characters > limit {limits.max_text_chars} (XXGK_MAX_TEXT_CHARS)"
        )
        return
    text = normalize.normalize(extracted.text)
    record.text_sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    lines = normalize.lines(text)
    if not any(line.strip() for line in lines):
        what = f"{len(data)} bytes of whitespace" if source.format in ("text", "markdown") else "no text extracted"
        record.problems.append(f"empty document: no text ({what})")
        return
    if len(lines) > limits.max_lines:
        record.problems.append(f"too many lines: {len(lines)} > limit {limits.max_lines} (XXGK_MAX_LINES)")
        return
    # no line is longer than the text: the common case needs no look at the lines
    lines, cut = _cut_long_lines(lines, limits.max_line_chars) if len(text) > limits.max_line_chars else (lines, None)
    if cut:
        record.problems.append(cut)
    record.agency, record.year = metadata.agency_and_year(lines, extracted.title)
    if record.agency and _CONTROL_CHARS.search(record.agency):  # NUL/BEL from a bad extraction break BI tools
        record.agency = _CONTROL_CHARS.sub("", record.agency) or None
        record.problems.append("control characters removed from the agency name")
    _check_year(record)
    record.template = metadata.detect_template(text, record.year)
    if record.template == "unknown":
        if not metadata.looks_like_report(text):
            record.problems.append("not a disclosure report: no report title and no national table headers found")
            return
        if not _REPORT_HEADING.search(re.sub(r"\s+", "", text)):
            record.problems.append(
                "not a disclosure report: mentions 政府信息公开 but has no report title "
                "(…政府信息公开…报告) and no national table headers"
            )
            return
    if record.template in ("2019", "2021"):
        found = tables.extract_tables(lines, record.template)
        record.proactive, record.applications, record.appeals = found.proactive, found.applications, found.appeals
        record.problems.extend(found.problems)
    rules.finalize(record)
    if cut and record.status == "ok":
        record.status = "partial"  # what was cut may have held figures: the record cannot vouch for them


def _sidecar_year(year: Any) -> int | None:
    """A sidecar year as an int in the warehouse's year range, or None when the value is not a year."""
    if isinstance(year, bool):
        return None
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    if isinstance(year, str):
        text = normalize.normalize(year).strip().removesuffix("年").strip()
        year = int(text) if _YEAR_TEXT.fullmatch(text) else None
    low, high = _year_range()
    if isinstance(year, int) and low <= year <= high:
        return year
    return None


@functools.cache
def _year_range() -> tuple[int, int]:
    """The report years the warehouse schema accepts (imported on first use: it pulls in polars/pyarrow)."""
    from schemas.tables import MAX_YEAR, MIN_YEAR

    return MIN_YEAR, MAX_YEAR


def _check_year(record: ReportRecord) -> None:
    """A year read from the text outside the schema's range (a typo, a pre-1990 document) would fail the
    blocking schema check and stop the whole load: it is kept out of `year` and said instead."""
    low, high = _year_range()
    if record.year is not None and not low <= record.year <= high:
        record.problems.append(f"report year {record.year} read from the text is outside {low}–{high}: year unknown")
        record.year = None


def _apply_sidecar(record: ReportRecord, sidecar: dict[str, Any] | None) -> ReportRecord:
    """The sidecar wins over the text for agency and year (warehouse.md); unusable values are named."""
    if sidecar is None:
        return record
    try:
        if not isinstance(sidecar, dict):
            record.problems.append(f"sidecar ignored: not a JSON object but {type(sidecar).__name__}")
            return record
        agency = sidecar.get("agency")
        if isinstance(agency, str) and agency.strip():
            cleaned = _CONTROL_CHARS.sub("", normalize.normalize(agency)).strip()
            if len(cleaned) > _MAX_AGENCY_CHARS:
                record.problems.append(f"sidecar agency ignored: {len(cleaned)} characters > {_MAX_AGENCY_CHARS}")
            elif cleaned:
                record.agency = cleaned
        elif agency is not None and not isinstance(agency, str):
            record.problems.append(f"sidecar agency ignored: {_short(agency)} is not text")
        year = sidecar.get("year")
        if year is not None:
            if (value := _sidecar_year(year)) is not None:
                record.year = value
            else:
                low, high = _year_range()
                record.problems.append(f"sidecar year ignored: {_short(year)} is not a year ({low}–{high})")
    except Exception as exc:
        record.problems.append(f"sidecar ignored: {type(exc).__name__}: {exc}"[:300])
    return record


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_sidecar(
    path: Path, *, max_bytes: int | None = None, raw_root: Path | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """The sidecar of a report file, and a problem text if one exists but cannot be used. Never raises.

    With `raw_root`, a sidecar that resolves outside it (a symlink) is not read."""
    limit = max_bytes if max_bytes is not None else resolve(None)[0].max_sidecar_bytes
    for candidate in sidecar_paths(Path(path)):
        try:
            if not candidate.is_file():
                continue
            if raw_root is not None and not _inside(candidate, raw_root):
                return None, f"sidecar {candidate.name} ignored: resolves outside the raw root (a symlink?)"
            size = candidate.stat().st_size
            if size > limit:
                return None, f"sidecar {candidate.name} ignored: {size} bytes > limit {limit} (XXGK_MAX_SIDECAR_BYTES)"
            value = json.loads(candidate.read_bytes().decode("utf-8-sig"))
        except OSError as exc:
            return None, f"sidecar {candidate.name} ignored: unreadable ({exc.strerror or exc})"
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            return None, f"sidecar {candidate.name} ignored: not valid JSON ({_short_error(exc)})"
        if not isinstance(value, dict):
            return None, f"sidecar {candidate.name} ignored: not a JSON object but {type(value).__name__}"
        return value, None
    return None, None


def _short_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _relative_name(path: Path, raw_root: Path | None) -> str:
    if raw_root is None:
        return display_name(path.as_posix())
    try:
        return display_name(path.relative_to(raw_root).as_posix())
    except ValueError:
        return display_name(Path(os.path.relpath(path, raw_root)).as_posix())


def _read_limited(path: Path, limits: ParseLimits) -> tuple[bytes | None, ReportRecord | None]:
    """(bytes, None) for a regular file within the size limit, else (None, a `failed` "too large" record).

    The file type is checked before opening (opening a FIFO would block the build forever), and the file is
    opened non-blocking and read only up to the limit (it may grow between stat and read)."""
    st = os.stat(path)  # follows symlinks: a loop or a dangling link fails here with the OS's reason
    for is_kind, kind in _FILE_KINDS:
        if is_kind(st.st_mode):
            raise _NotRegular(f"unreadable file: not a regular file ({kind})")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        # a read is sized by the file, not by the limit: `read(limit + 1)` allocates the whole limit (50 MB)
        # for every file and then shrinks it; a file that grew since `stat` is read on, up to the limit
        want = min(st.st_size, limits.max_file_bytes) + 1
        data = f.read(want)
        if len(data) == want and want <= limits.max_file_bytes:
            data += f.read(limits.max_file_bytes + 1 - want)
        if len(data) <= limits.max_file_bytes:
            return data, None
        # too large: hash the whole file in chunks so the record still carries the file's identity
        h = hashlib.sha256(data)
        size = len(data)
        del data
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    record = ReportRecord(source=Source(path="", sha256=h.hexdigest(), size=size))
    record.problems.append(_too_large(size, limits))
    return None, record


class _NotRegular(OSError):
    pass


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, symlinks resolved, lies under `root`: a link must not pull in files from elsewhere."""
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _locate(path: Path, raw_root: Path | None) -> Path:
    """The file a `display_name` path stands for, when its real name is not UTF-8 (else `path` itself)."""
    if os.path.lexists(path) or "\\x" not in str(path):
        return path
    base = raw_root if raw_root is not None and path.is_relative_to(raw_root) else path.parent
    current = Path(base)
    for part in path.relative_to(base).parts:
        candidate = current / part
        if not os.path.lexists(candidate):
            try:
                candidate = next(current / e for e in os.listdir(current) if display_name(e) == part)
            except (OSError, StopIteration):
                return path
        current = candidate
    return current


#: a sidecar as `read_sidecar` gives it: its fields, and the problem text of one that cannot be used
Sidecar = tuple[dict[str, Any] | None, str | None]
NO_SIDECAR: Sidecar = (None, None)


def parse_file(
    path: Path, raw_root: Path | None = None, *, limits: ParseLimits | None = None, sidecar: Sidecar | None = None
) -> ReportRecord:
    """Parse a report file; `source.path` is relative to `raw_root` when given. Never raises.

    `sidecar`: what `read_sidecar` gave for this file when the caller has read it already (the build, which
    also keeps its region and URL, and knows from its folder listing which files have none); else it is read
    here."""
    path = _locate(Path(path), raw_root)
    name = _relative_name(path, raw_root)
    resolved, limits_problem = resolve(limits)
    try:
        if raw_root is not None and not _inside(path, raw_root):
            os.stat(path)  # a loop or a dangling link: say so rather than "outside"
            raise _NotRegular("unreadable file: resolves outside the raw root (a symlink?); not read")
        data, refused = _read_limited(path, resolved)
    except _NotRegular as exc:
        record = ReportRecord(source=Source(path=name))
        record.problems.append(str(exc))
        return record
    except OSError as exc:
        record = ReportRecord(source=Source(path=name))
        record.problems.append(f"unreadable file: {exc.strerror or exc}")
        return record
    except Exception as exc:
        record = ReportRecord(source=Source(path=name))
        record.problems.append(_crash(exc))
        return record
    if sidecar is None:
        sidecar = read_sidecar(path, max_bytes=resolved.max_sidecar_bytes, raw_root=raw_root)
    sidecar_fields, sidecar_problem = sidecar
    if refused is not None:
        refused.source.path = name
        refused.source.format = FORMAT_BY_SUFFIX.get(path.suffix.lower(), "text")
        record = _apply_sidecar(refused, sidecar_fields)
    else:
        assert data is not None
        record = parse_bytes(data, name, sidecar_fields, limits=resolved)
    if limits_problem:
        record.problems.insert(0, limits_problem)
    if sidecar_problem:
        record.problems.append(sidecar_problem)
    return record
