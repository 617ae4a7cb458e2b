"""Property-based fuzzing of the parser with mutated REAL reports.

Every mutated report — lines deleted, duplicated, swapped; random bytes inserted or overwritten; truncated;
parts re-encoded in GB18030 or UTF-16; multibyte sequences cut — must give a `ReportRecord` with a valid
status whose JSON serializes, and must not reach the parser's catch-all (a crash caught is still a bug).

Examples per run: `XXGK_FUZZ_EXAMPLES` (default 3000); seed: `XXGK_FUZZ_SEED`.
The count and duration are printed (`pytest -s`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from pipelines.parsing.parse import PARSER_ERROR, parse_bytes
from pipelines.parsing.record import ReportRecord

FIXTURES = Path(__file__).parent / "fixtures"
REAL_REPORTS: list[tuple[str, bytes]] = [
    (p.name, p.read_bytes()) for p in sorted(FIXTURES.glob("*.txt")) + sorted((FIXTURES / "real").glob("*.txt"))
]
STATUSES = ("ok", "invalid", "partial", "failed")
EXAMPLES = int(os.environ.get("XXGK_FUZZ_EXAMPLES", "3000"))
SEED = int(os.environ.get("XXGK_FUZZ_SEED", "20261122"))

# --- mutations: each takes the report as a list of byte lines and returns a new list ------------------------


def _index(draw, lines: list[bytes]) -> int:
    return draw(st.integers(0, max(len(lines) - 1, 0)))


@st.composite
def delete_lines(draw, lines: list[bytes]) -> list[bytes]:
    i = _index(draw, lines)
    n = draw(st.integers(1, 8))
    return lines[:i] + lines[i + n :]


@st.composite
def duplicate_lines(draw, lines: list[bytes]) -> list[bytes]:
    i = _index(draw, lines)
    n = draw(st.integers(1, 8))
    return lines[: i + n] + lines[i : i + n] + lines[i + n :]


@st.composite
def swap_lines(draw, lines: list[bytes]) -> list[bytes]:
    i, j = _index(draw, lines), _index(draw, lines)
    out = list(lines)
    if out:
        out[i], out[j] = out[j], out[i]
    return out


@st.composite
def move_block(draw, lines: list[bytes]) -> list[bytes]:
    """A block of lines moved elsewhere (a table pasted in the wrong place, pages out of order)."""
    i = _index(draw, lines)
    n = draw(st.integers(1, 40))
    block, rest = lines[i : i + n], lines[:i] + lines[i + n :]
    j = draw(st.integers(0, len(rest)))
    return rest[:j] + block + rest[j:]


def _flat(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def insert_bytes(draw, lines: list[bytes]) -> list[bytes]:
    data = _flat(lines)
    at = draw(st.integers(0, len(data)))
    junk = draw(st.binary(min_size=1, max_size=16))
    return _lines(data[:at] + junk + data[at:])


@st.composite
def overwrite_bytes(draw, lines: list[bytes]) -> list[bytes]:
    data = bytearray(_flat(lines))
    for _ in range(draw(st.integers(1, 12))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return _lines(bytes(data))


@st.composite
def truncate(draw, lines: list[bytes]) -> list[bytes]:
    """Cut anywhere: mid-table, mid-line, or in the middle of a multibyte character."""
    data = _flat(lines)
    return _lines(data[: draw(st.integers(0, len(data)))])


@st.composite
def cut_multibyte(draw, lines: list[bytes]) -> list[bytes]:
    """Drop one byte of a multibyte UTF-8 sequence (a damaged copy)."""
    data = _flat(lines)
    positions = [k for k, b in enumerate(data[:20_000]) if b >= 0x80]
    if not positions:
        return lines
    k = draw(st.sampled_from(positions))
    return _lines(data[:k] + data[k + 1 :])


@st.composite
def reencode_part(draw, lines: list[bytes]) -> list[bytes]:
    """A run of lines re-encoded (GB18030, GBK, UTF-16 with or without BOM): mixed-encoding files."""
    i = _index(draw, lines)
    n = draw(st.integers(1, 60))
    encoding = draw(st.sampled_from(["gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "big5"]))
    part = b"\n".join(lines[i : i + n]).decode("utf-8", "replace")
    encoded = part.encode(encoding, "replace")
    return lines[:i] + _lines(encoded) + lines[i + n :]


@st.composite
def reencode_whole(draw, lines: list[bytes]) -> list[bytes]:
    encoding = draw(st.sampled_from(["gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"]))
    text = _flat(lines).decode("utf-8", "replace")
    return _lines(text.encode(encoding, "replace"))


@st.composite
def change_line_ends(draw, lines: list[bytes]) -> list[bytes]:
    sep = draw(st.sampled_from([b"\r\n", b"\r", b"\n\n", b"\t", b" "]))
    return [sep.join(lines)]


@st.composite
def edit_numbers(draw, lines: list[bytes]) -> list[bytes]:
    """Digits replaced by other cell forms the spec lists (blank, -, 无, full-width, 1,234, 251000元, text)."""
    out = list(lines)
    for _ in range(draw(st.integers(1, 10))):
        i = _index(draw, out)
        if not out:
            break
        form = draw(
            st.sampled_from(["", "-", "—", "/", "无", "２６", "1,234", "251000元", "+3", "-7", "一些", "9" * 30, "0.5"])
        )
        line = out[i].decode("utf-8", "surrogateescape")
        digits = [k for k, ch in enumerate(line) if ch.isdigit()]
        if digits:
            k = draw(st.sampled_from(digits))
            line = line[:k] + form + line[k + 1 :]
            out[i] = line.encode("utf-8", "surrogateescape")
    return out


@st.composite
def splice_reports(draw, lines: list[bytes]) -> list[bytes]:
    """Part of another real report spliced in (two reports concatenated, or pages of another agency)."""
    _, other = draw(st.sampled_from(REAL_REPORTS))
    other_lines = _lines(other)
    i = _index(draw, other_lines)
    n = draw(st.integers(1, 80))
    j = draw(st.integers(0, len(lines)))
    return lines[:j] + other_lines[i : i + n] + lines[j:]


MUTATIONS = [
    delete_lines,
    duplicate_lines,
    swap_lines,
    move_block,
    insert_bytes,
    overwrite_bytes,
    truncate,
    cut_multibyte,
    reencode_part,
    reencode_whole,
    change_line_ends,
    edit_numbers,
    splice_reports,
]


@st.composite
def mutated_reports(draw) -> tuple[str, bytes, list[str]]:
    name, data = draw(st.sampled_from(REAL_REPORTS))
    lines = _lines(data)
    applied: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        mutation = draw(st.sampled_from(MUTATIONS))
        lines = draw(mutation(lines))
        applied.append(mutation.__name__)
    suffix = draw(st.sampled_from([".txt", ".txt", ".txt", ".md"]))
    return Path(name).stem + suffix, _flat(lines), applied


class _Tally:
    cases = 0
    statuses: dict[str, int] = {}  # noqa: RUF012 - a counter shared by the examples of one run
    records: list[ReportRecord] = []  # noqa: RUF012


def _schema_failures(records: list[ReportRecord]) -> list[dict]:
    """Failures of the warehouse's blocking schema checks (types, codes, ranges — not the arithmetic rules)
    on the rows these records become: one such row would stop the whole nightly load."""
    import pandera.errors

    from pipelines.warehouse.rows import PARSER_VIOLATIONS, Batch, FileInfo, now_utc
    from schemas.rules import RULE_IDS
    from schemas.tables import pandera_schema

    batch = Batch()
    for n, record in enumerate(records):
        batch.add(record, FileInfo(f"fuzz/{n}/{record.source.path}", record.source.sha256), "fuzz", now_utc())
    failures: list[dict] = []
    for table, frame in batch.frames().items():
        if table == PARSER_VIOLATIONS:
            continue
        try:
            pandera_schema(table).validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases.filter(~exc.failure_cases["check"].is_in(list(RULE_IDS)))
            failures += [{"table": table, **row} for row in cases.head(5).to_dicts()]
    return failures


def _check(record: ReportRecord) -> None:
    assert isinstance(record, ReportRecord)
    assert record.status in STATUSES
    text = json.dumps(record.to_json(), ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogates: the warehouse writes UTF-8
    json.loads(text)
    if record.status in ("partial", "failed"):
        assert record.problems, f"{record.status} without a reason"
    crashes = [p for p in record.problems if p.startswith(PARSER_ERROR)]
    assert not crashes, f"the parser crashed on this input (caught by the catch-all): {crashes}"


@seed(SEED)  # reproducible in CI; set XXGK_FUZZ_SEED (and XXGK_FUZZ_EXAMPLES) to explore further
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    database=None,
)
@given(mutated_reports())
def _fuzz(case: tuple[str, bytes, list[str]]) -> None:
    name, data, _applied = case
    _Tally.cases += 1
    record = parse_bytes(data, name)
    _Tally.statuses[record.status] = _Tally.statuses.get(record.status, 0) + 1
    _Tally.records.append(record)
    _check(record)


def test_fuzz_mutated_real_reports_never_crash() -> None:
    _Tally.cases, _Tally.statuses, _Tally.records = 0, {}, []
    started = time.perf_counter()
    try:
        _fuzz()
    finally:
        elapsed = time.perf_counter() - started
        print(
            f"\nfuzz: {_Tally.cases} mutated reports from {len(REAL_REPORTS)} real ones in {elapsed:.1f} s "
            f"({_Tally.cases / max(elapsed, 1e-9):.0f}/s); statuses {dict(sorted(_Tally.statuses.items()))}"
        )
    assert _Tally.cases >= min(EXAMPLES, 1000) * 0.9  # hypothesis really ran (about) the examples asked for
    # and no mutated report yields a row that the blocking schema check would refuse
    assert not _schema_failures(_Tally.records), _schema_failures(_Tally.records)


@pytest.mark.parametrize(("name", "data"), REAL_REPORTS, ids=[n for n, _ in REAL_REPORTS])
def test_unmutated_real_reports_parse_cleanly(name: str, data: bytes) -> None:
    """The seeds themselves: the fuzz starts from reports the parser reads."""
    record = parse_bytes(data, name)
    _check(record)
    assert record.status in ("ok", "invalid")
