"""Parse one raw report file into a `ReportRecord`. Never raises: bad input becomes a `failed` record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipelines.parsing import decode, metadata, normalize, rules, tables
from pipelines.parsing.formats import Extracted, UnreadableDocument
from pipelines.parsing.record import ReportRecord, Source


def _source_digest() -> str:
    """Hash of the parser's own source: any change to parsing code invalidates cached parses."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    files = sorted(root.rglob("*.py")) + sorted((root.parent.parent / "schemas").glob("*.py"))
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


def sidecar_paths(path: Path) -> tuple[Path, Path]:
    """`report.txt.meta.json` and `report.meta.json`: both are accepted, the first wins."""
    return path.with_name(path.name + SIDECAR_SUFFIX), path.with_name(path.stem + SIDECAR_SUFFIX)


def detect_format(data: bytes, name: str) -> str:
    suffix = Path(name).suffix.lower()
    fmt = FORMAT_BY_SUFFIX.get(suffix, "text")
    if fmt in ("text", "markdown"):
        head = data[:2048].lstrip().lower()
        for bom in (b"\xef\xbb\xbf",):
            head = head.removeprefix(bom)
        if head.startswith((b"<!doctype html", b"<html")) or b"<table" in data[:65536].lower():
            return "html"
        if data[:5] == b"%PDF-":
            return "pdf"
    return fmt


def _extract(data: bytes, fmt: str) -> Extracted:
    if fmt == "html":
        from pipelines.parsing.formats import html

        return html.extract(data)
    if fmt == "pdf":
        from pipelines.parsing.formats import pdf

        return pdf.extract(data)
    if fmt == "docx":
        from pipelines.parsing.formats import docx

        return docx.extract(data)
    text, encoding = decode.decode(data)
    return Extracted(text=text, encoding=encoding)


def parse_bytes(data: bytes, name: str, sidecar: dict[str, Any] | None = None) -> ReportRecord:
    """Parse the bytes of one report file named `name` (used for its suffix and provenance)."""
    source = Source(path=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    record = ReportRecord(source=source)
    try:
        source.format = detect_format(data, name)
        extracted = _extract(data, source.format)
        source.encoding = extracted.encoding
        text = normalize.normalize(extracted.text)
        record.text_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        lines = normalize.lines(text)
        if not any(lines):
            record.problems.append("empty document: no text")
            return record
        record.agency, record.year = metadata.agency_and_year(lines, extracted.title)
        record.template = metadata.detect_template(text, record.year)
        if record.template == "unknown" and not metadata.looks_like_report(text):
            record.problems.append("not a disclosure report: no report title and no national table headers found")
            return _apply_sidecar(record, sidecar)
        if record.template in ("2019", "2021"):
            found = tables.extract_tables(lines, record.template)
            record.proactive, record.applications, record.appeals = found.proactive, found.applications, found.appeals
            record.problems.extend(found.problems)
        return rules.finalize(_apply_sidecar(record, sidecar))
    except (decode.UndecodableText, UnreadableDocument) as exc:
        record.problems.append(str(exc))
    except Exception as exc:
        record.problems.append(f"parser error on this input: {type(exc).__name__}: {exc}")
    record.status = "failed"
    return _apply_sidecar(record, sidecar)


def _apply_sidecar(record: ReportRecord, sidecar: dict[str, Any] | None) -> ReportRecord:
    """The sidecar wins over the text for agency and year (warehouse.md)."""
    if not sidecar:
        return record
    agency = sidecar.get("agency")
    if isinstance(agency, str) and agency.strip():
        record.agency = normalize.normalize(agency).strip()
    year = sidecar.get("year")
    if isinstance(year, int) and not isinstance(year, bool) and 1990 <= year <= 2100:
        record.year = year
    elif isinstance(year, str) and year.strip().isdigit() and 1990 <= int(year) <= 2100:
        record.year = int(year)
    elif year is not None:
        record.problems.append(f"sidecar year ignored: {year!r} is not a year")
    return record


def read_sidecar(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The sidecar of a report file, and a problem text if one exists but cannot be used."""
    for candidate in sidecar_paths(path):
        if not candidate.is_file():
            continue
        try:
            value = json.loads(candidate.read_bytes().decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"sidecar {candidate.name} ignored: not valid JSON ({exc})"
        if not isinstance(value, dict):
            return None, f"sidecar {candidate.name} ignored: not a JSON object"
        return value, None
    return None, None


def parse_file(path: Path, raw_root: Path | None = None) -> ReportRecord:
    """Parse a report file; `source.path` is relative to `raw_root` when given. Never raises."""
    name = path.relative_to(raw_root).as_posix() if raw_root is not None else path.as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        record = ReportRecord(source=Source(path=name))
        record.problems.append(f"unreadable file: {exc.strerror or exc}")
        return record
    sidecar, sidecar_problem = read_sidecar(path)
    record = parse_bytes(data, name, sidecar)
    if sidecar_problem:
        record.problems.append(sidecar_problem)
    return record
