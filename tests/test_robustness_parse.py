"""Bad input never crashes the parser: every file gives one record with a fitting status and a specific reason."""

from __future__ import annotations

import json
import os
import random
import socket
from pathlib import Path

import pytest

from pipelines.parsing import decode, tables
from pipelines.parsing.limits import ParseLimits
from pipelines.parsing.normalize import normalize
from pipelines.parsing.parse import (
    PARSER_ERROR,
    SIDECAR_SUFFIX,
    detect_format,
    name_suffix,
    parse_bytes,
    parse_file,
    read_sidecar,
    sidecar_names,
)
from pipelines.parsing.record import ReportRecord

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "000_4a563719454909a3.txt"  # 西工区民政局 2021, PDF extraction
HUAIAN = FIXTURES / "real" / "huaian_2024.pdftotext.txt"  # 淮安市人民政府 2024, large non-zero figures
STATUSES = ("ok", "invalid", "partial", "failed")


def _tables_landed() -> bool:
    try:
        tables.extract_tables([], "2021")
    except NotImplementedError:
        return False
    except Exception:
        return True
    return True


needs_tables = pytest.mark.skipif(not _tables_landed(), reason="table parser (tables.py, issue 2) not landed yet")


def problems(record: ReportRecord) -> str:
    return "; ".join(record.problems)


def check(record: ReportRecord) -> ReportRecord:
    """What every record must satisfy, whatever the input."""
    assert isinstance(record, ReportRecord)
    assert record.status in STATUSES
    json.dumps(record.to_json(), ensure_ascii=False).encode("utf-8")  # serializable, valid UTF-8
    if record.status in ("partial", "failed"):
        assert record.problems, f"{record.status} without a reason"
    return record


# --- empty, binary, not a report ---------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    record = check(parse_file(tmp_path / "empty.txt", tmp_path))
    assert (record.status, problems(record)) == ("failed", "empty file: 0 bytes")
    assert record.source.path == "empty.txt"
    assert record.source.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_whitespace_only() -> None:
    record = check(parse_bytes(b" \r\n\t\n  \n", "blank.txt"))
    assert record.status == "failed"
    assert problems(record) == "empty document: no text (8 bytes of whitespace)"


BINARIES = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "a PNG image"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)), "a JPEG image"),
    "zip": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "a ZIP archive"),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(range(256)), "a gzip archive"),
    "ole2": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(256), "an OLE2 office document"),
    "elf": (b"\x7fELF\x02\x01\x01" + bytes(256), "an ELF executable"),
}


@pytest.mark.parametrize("kind", sorted(BINARIES))
def test_binary_file_named_txt(kind: str) -> None:
    data, what = BINARIES[kind]
    record = check(parse_bytes(data, f"report_{kind}.txt"))
    assert record.status == "failed"
    assert problems(record).startswith(f"binary file: content is {what}")


def test_random_bytes() -> None:
    data = bytes((i * 7919 + 13) % 251 for i in range(20_000))
    record = check(parse_bytes(data, "noise.txt"))
    assert record.status == "failed"
    assert problems(record).startswith("undecodable bytes: not UTF-8, UTF-16 or GB18030 text")


def test_png_named_pdf_says_what_it_is() -> None:
    record = check(parse_bytes(BINARIES["png"][0], "report.pdf"))
    assert record.status == "failed"
    assert problems(record) == "file named .pdf is not a PDF: content is a PNG image"


def test_html_error_page_saved_as_pdf_is_read_as_html() -> None:
    page = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>404</body></html>"
    assert detect_format(page, "report.pdf") == "html"


def test_text_report_mentioning_a_table_tag_stays_text() -> None:
    """Found by the fuzz test: `<table ` inserted into a text report routed it to the HTML reader (no text)."""
    data = b"<table " + SEED.read_bytes()
    assert detect_format(data, "seed.txt") == "text"
    assert detect_format(b"<p>x</p><table><tr><td>1</td></tr></table>", "page.txt") == "html"
    record = check(parse_bytes(data, "seed.txt"))
    assert record.agency == "西工区民政局" and record.status != "failed"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("recipe.txt", "番茄炒蛋\n\n材料：番茄两个，鸡蛋三个，盐少许。\n\n1. 鸡蛋打散。\n2. 番茄切块，下锅翻炒。\n"),
        ("README.md", "# xxgk-warehouse\n\nInstall with `pip install -e .` and run `xxgk build`.\n"),
        ("说明.md", "# 项目说明\n\n本项目把政府信息公开年报转换为可以查询的数据仓库。\n"),
    ],
)
def test_not_a_report(name: str, text: str) -> None:
    record = check(parse_bytes(text.encode(), name))
    assert record.status == "failed"
    assert problems(record).startswith("not a disclosure report:")
    assert not record.proactive and not record.applications and not record.appeals


# --- truncated -----------------------------------------------------------------------------------------------


@needs_tables
def test_truncated_mid_table_3_is_partial_and_names_what_is_missing() -> None:
    text = HUAIAN.read_text(encoding="utf-8")
    cut = text.index("4.保护第三方合法权益")
    record = check(parse_bytes(text[:cut].encode(), "huaian_truncated.txt"))
    assert record.status == "partial"
    assert "table 4" in problems(record)
    assert "table 3 rows not found" in problems(record) and "withheld_third_party_rights" in problems(record)
    assert record.agency == "淮安市人民政府" and record.year == 2024
    # what was read before the cut is kept as published
    assert record.applications["new_received"]["total"].value == 3119


@needs_tables
def test_truncated_before_table_3_is_partial() -> None:
    text = HUAIAN.read_text(encoding="utf-8")
    record = check(parse_bytes(text[: text.index("三、收到和处理")].encode(), "huaian_t2_only.txt"))
    assert record.status == "partial"
    assert "tables not found: table 3, table 4" in problems(record)


# --- size limits ---------------------------------------------------------------------------------------------


def test_100_mb_file_is_refused_without_reading_it_into_memory(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: cheap to create
    record = check(parse_file(big, tmp_path))
    assert record.status == "failed"
    assert problems(record) == "file too large: 104857600 bytes > limit 52428800 bytes (XXGK_MAX_FILE_BYTES)"
    assert record.source.size == 104857600 and len(record.source.sha256) == 64  # still identified


def test_size_limit_is_configuration_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    data = SEED.read_bytes()
    small = ParseLimits(max_file_bytes=1000)
    assert f"file too large: {len(data)} bytes > limit 1000 bytes" in problems(parse_bytes(data, "a.txt", limits=small))
    monkeypatch.setenv("XXGK_MAX_FILE_BYTES", "2000")
    assert "> limit 2000 bytes" in problems(check(parse_bytes(data, "a.txt")))
    monkeypatch.setenv("XXGK_MAX_FILE_BYTES", "lots")
    record = check(parse_bytes(data, "a.txt"))
    assert "parse limits from the environment ignored, defaults used: XXGK_MAX_FILE_BYTES='lots'" in problems(record)
    assert "file too large" not in problems(record)


def test_a_file_that_grows_after_stat_is_read_up_to_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read is sized by `stat`; a file that grew since is read on, up to the limit, never cut short."""
    data = SEED.read_bytes()
    path = tmp_path / SEED.name
    path.write_bytes(data)
    real_stat = os.stat

    def stale_stat(p: object, *args: object, **kwargs: object) -> os.stat_result:
        st = real_stat(p, *args, **kwargs)  # type: ignore[arg-type]
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))  # as it was when 10 bytes long

    monkeypatch.setattr(os, "stat", stale_stat)
    whole = check(parse_file(path, tmp_path))
    assert whole.source.size == len(data) and whole.status != "failed"
    monkeypatch.setenv("XXGK_MAX_FILE_BYTES", str(len(data) - 1))
    cut = check(parse_file(path, tmp_path))
    assert problems(cut) == f"file too large: {len(data)} bytes > limit {len(data) - 1} bytes (XXGK_MAX_FILE_BYTES)"


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_line_chars must be a positive integer"):
        ParseLimits(max_line_chars=0)
    with pytest.raises(ValueError, match="XXGK_MAX_LINES='-5' must be positive"):
        ParseLimits.from_env({"XXGK_MAX_LINES": "-5"})
    assert ParseLimits.from_env({"XXGK_MAX_LINES": "1_000"}).max_lines == 1000


def test_very_long_line_is_cut_and_said() -> None:
    data = SEED.read_bytes() + b"\n" + "很长的一行".encode() * 30_000 + b"\n"
    record = check(parse_bytes(data, "long.txt"))
    assert "1 line longer than 20000 characters cut to that length before parsing" in problems(record)
    assert "characters; XXGK_MAX_LINE_CHARS" in problems(record)
    assert record.status != "ok"
    assert record.agency == "西工区民政局"  # the rest of the file is still read


def test_long_line_limit_configurable() -> None:
    record = check(parse_bytes(SEED.read_bytes(), "seed.txt", limits=ParseLimits(max_line_chars=50)))
    assert "longer than 50 characters cut" in problems(record)


def test_too_many_lines() -> None:
    record = check(parse_bytes(b"x\n" * 5000, "lines.txt", limits=ParseLimits(max_lines=1000)))
    assert (record.status, problems(record)) == ("failed", "too many lines: 5001 > limit 1000 (XXGK_MAX_LINES)")


def test_text_limit() -> None:
    record = check(parse_bytes(SEED.read_bytes(), "seed.txt", limits=ParseLimits(max_text_chars=100)))
    assert record.status == "failed"
    assert problems(record).startswith("text too large: ")


# --- encodings -----------------------------------------------------------------------------------------------

SEED_TEXT = SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda t: t.encode("gb18030"), "gb18030"),
        (lambda t: normalize(t).encode("gbk"), "gb18030"),
        (lambda t: t.encode("utf-8-sig"), "utf-8-bom"),
        (lambda t: t.encode("utf-16"), "utf-16"),
        (lambda t: t.encode("utf-16-le"), "utf-16-le"),
        (lambda t: t.encode("utf-16-be"), "utf-16-be"),
        (lambda t: t.replace("\n", "\r\n").encode("gb18030"), "gb18030"),
    ],
    ids=["gb18030", "gbk", "utf8-bom", "utf16-bom", "utf16le-nobom", "utf16be-nobom", "gb18030-crlf"],
)
def test_other_encodings_read_like_utf8(encode, encoding: str) -> None:
    plain = parse_bytes(SEED_TEXT.encode(), "seed.txt")
    record = check(parse_bytes(encode(SEED_TEXT), "seed.txt"))
    assert record.source.encoding == encoding
    assert (record.agency, record.year, record.template) == (plain.agency, plain.year, plain.template)
    assert not any("undecodable" in p or "mixed" in p for p in record.problems)


def test_utf16_without_bom_and_almost_no_ascii() -> None:
    text = "西工区民政局政府信息公开工作年度报告，区民政局认真执行信息审核发布制度和主动公开及依申请公开办事程序。" * 20
    for encoding in ("utf-16-le", "utf-16-be"):
        decoded = decode.decode_text(text.encode(encoding))
        assert (decoded.text, decoded.encoding, decoded.problems) == (text, encoding, [])


def test_utf8_with_a_few_invalid_bytes_is_read_with_replacement_and_says_so() -> None:
    lines = SEED_TEXT.split("\n")
    lines[2] = lines[2] + "\udcff"  # one stray 0xFF byte at the end of the title line
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    record = check(parse_bytes(data, "damaged.txt"))
    assert record.source.encoding == "utf-8"
    assert "1 undecodable byte replaced with U+FFFD (lines 3); text read as UTF-8" in problems(record)
    assert record.agency == "西工区民政局" and record.year == 2021


def test_multibyte_sequence_cut_at_the_end() -> None:
    data = SEED_TEXT.encode() + "年".encode()[:2]
    decoded = decode.decode_text(data)
    assert decoded.encoding == "utf-8"
    assert decoded.text.endswith("\ufffd\ufffd")
    assert decoded.problems == [f"2 undecodable bytes replaced with U+FFFD (lines {SEED_TEXT.count(chr(10)) + 1}); "
                                "text read as UTF-8"]  # fmt: skip


def test_mixed_utf8_and_gb18030_lines() -> None:
    lines = SEED_TEXT.split("\n")
    data = "\n".join(lines[:20]).encode() + b"\n" + "\n".join(lines[20:]).encode("gb18030")
    decoded = decode.decode_text(data)
    assert decoded.text == SEED_TEXT
    assert decoded.encoding == "gb18030"  # most lines
    assert len(decoded.problems) == 1 and decoded.problems[0].startswith("mixed encodings: ")
    assert "read as UTF-8 (lines 1–19), the rest as GB18030" in decoded.problems[0]
    record = check(parse_bytes(data, "mixed.txt"))
    assert record.agency == "西工区民政局"


def test_utf16_with_odd_length_is_read_and_says_so() -> None:
    data = SEED_TEXT.encode("utf-16")[:-1]
    decoded = decode.decode_text(data)
    assert decoded.encoding == "utf-16"
    assert decoded.problems == ["damaged UTF-16 text: 1 undecodable code units replaced with U+FFFD"]


# --- odd names, unreadable files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["my report (final).txt", 'it\'s "quoted".txt', "淮安 2024 年度报告.txt", "a;b$(rm -rf x)`y`.md", "-dash.txt"],
)
def test_odd_file_names(tmp_path: Path, name: str) -> None:
    sub = tmp_path / "子 目录"
    sub.mkdir()
    (sub / name).write_bytes(SEED.read_bytes())
    record = check(parse_file(sub / name, tmp_path))
    assert record.source.path == f"子 目录/{name}"
    assert record.agency == "西工区民政局"


def test_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    raw_name = b"report-\xb1\xa8\xb8\xe6.txt"  # 报告 in GBK bytes
    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), raw_name)))
    path.write_bytes(SEED.read_bytes())
    record = check(parse_file(path, tmp_path))
    assert record.source.path == "report-\\xb1\\xa8\\xb8\\xe6.txt"
    assert record.agency == "西工区民政局"
    # the warehouse registry keeps the display name; parse_file finds the file from it
    again = check(parse_file(tmp_path / record.source.path, tmp_path))
    assert (again.source.path, again.source.sha256, again.agency) == (
        record.source.path,
        record.source.sha256,
        "西工区民政局",
    )


def test_directory_named_like_a_report(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    record = check(parse_file(tmp_path / "folder.txt", tmp_path))
    assert (record.status, problems(record)) == ("failed", "unreadable file: not a regular file (a directory)")


def test_fifo_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    record = check(parse_file(tmp_path / "pipe.txt", tmp_path))
    assert (record.status, problems(record)) == ("failed", "unreadable file: not a regular file (a FIFO (named pipe))")


def test_socket_is_not_read(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "s.txt"))
        record = check(parse_file(tmp_path / "s.txt", tmp_path))
        assert problems(record) == "unreadable file: not a regular file (a socket)"
    finally:
        sock.close()


def test_missing_and_broken_symlink_and_loop(tmp_path: Path) -> None:
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "loop_a.txt").symlink_to(tmp_path / "loop_b.txt")
    (tmp_path / "loop_b.txt").symlink_to(tmp_path / "loop_a.txt")
    assert problems(check(parse_file(tmp_path / "gone.txt", tmp_path))) == "unreadable file: No such file or directory"
    assert (
        problems(check(parse_file(tmp_path / "dangling.txt", tmp_path))) == "unreadable file: No such file or directory"
    )
    record = check(parse_file(tmp_path / "loop_a.txt", tmp_path))
    assert (record.status, problems(record)) == ("failed", "unreadable file: Too many levels of symbolic links")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode (CAP_DAC_OVERRIDE)")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(SEED.read_bytes())
    path.chmod(0)
    try:
        record = check(parse_file(path, tmp_path))
        assert (record.status, problems(record)) == ("failed", "unreadable file: Permission denied")
    finally:
        path.chmod(0o644)


def test_symlink_out_of_the_raw_root_is_not_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (tmp_path / "secret.txt").write_bytes(SEED.read_bytes())
    (raw / "link.txt").symlink_to(tmp_path / "secret.txt")
    (raw / "inside.txt").write_bytes(SEED.read_bytes())
    (raw / "link_inside.txt").symlink_to(raw / "inside.txt")
    record = check(parse_file(raw / "link.txt", raw))
    assert (record.status, record.source.path) == ("failed", "link.txt")
    assert problems(record) == "unreadable file: resolves outside the raw root (a symlink?); not read"
    assert record.agency is None and not record.source.sha256  # nothing of the outside file was read
    assert check(parse_file(raw / "link_inside.txt", raw)).agency == "西工区民政局"
    record = check(parse_file(tmp_path / "secret.txt", raw))  # called with a path outside the root
    assert (record.source.path, record.status) == ("../secret.txt", "failed")


# --- sidecars ------------------------------------------------------------------------------------------------


def _with_sidecar(tmp_path: Path, sidecar: bytes, name: str = "r.txt") -> ReportRecord:
    (tmp_path / name).write_bytes(SEED.read_bytes())
    (tmp_path / (name + ".meta.json")).write_bytes(sidecar)
    return check(parse_file(tmp_path / name, tmp_path))


def test_sidecar_not_json_record_still_parsed(tmp_path: Path) -> None:
    record = _with_sidecar(tmp_path, b'{"agency": "X", "year": 20')
    assert "sidecar r.txt.meta.json ignored: not valid JSON (" in problems(record)
    assert record.agency == "西工区民政局" and record.year == 2021  # from the text


def test_sidecar_not_an_object(tmp_path: Path) -> None:
    record = _with_sidecar(tmp_path, b'["agency", 2021]')
    assert "sidecar r.txt.meta.json ignored: not a JSON object but list" in problems(record)


def test_sidecar_binary(tmp_path: Path) -> None:
    record = _with_sidecar(tmp_path, BINARIES["png"][0])
    assert "sidecar r.txt.meta.json ignored: not valid JSON" in problems(record)


def test_sidecar_too_large(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "r.txt.meta.json").write_bytes(b'{"agency": "' + b"x" * 5000 + b'"}')
    sidecar, problem = read_sidecar(tmp_path / "r.txt", max_bytes=1000)
    assert (
        sidecar is None
        and problem == "sidecar r.txt.meta.json ignored: 5014 bytes > limit 1000 (XXGK_MAX_SIDECAR_BYTES)"
    )


@pytest.mark.parametrize(
    ("year", "shown"),
    [("abc", "'abc'"), (20211, "20211"), ("MMXXI", "'MMXXI'"), (True, "True"), (2021.5, "2021.5"), ([2021], "[2021]"),
     ({"y": 1}, "{'y': 1}"), ("1900", "'1900'")],
)  # fmt: skip
def test_sidecar_year_that_is_not_a_year(tmp_path: Path, year: object, shown: str) -> None:
    record = _with_sidecar(tmp_path, json.dumps({"year": year}).encode())
    assert f"sidecar year ignored: {shown} is not a year (1990–2100)" in problems(record)
    assert record.year == 2021  # the text's year stands


def test_control_characters_in_the_title_are_not_kept_in_the_agency() -> None:
    text = normalize(SEED_TEXT).replace("西工区民政局2021", "西工\x00区\x07民政局2021", 1)
    record = check(parse_bytes(text.encode(), "nul.txt"))
    assert record.agency == "西工区民政局"
    assert "control characters removed from the agency name" in problems(record)


def test_year_in_the_title_outside_the_warehouse_range_is_not_kept() -> None:
    """A pre-1990 (or mistyped) title year would fail the blocking schema check and stop the whole load."""
    text = normalize(SEED_TEXT).replace("2021年政府信息公开", "1989年政府信息公开")
    record = check(parse_bytes(text.encode(), "old.txt"))
    assert record.year is None
    assert "report year 1989 read from the text is outside 1990–2100: year unknown" in problems(record)
    assert record.agency == "西工区民政局" and record.applications  # the rest is still read


@pytest.mark.parametrize(
    ("year", "value"), [(2022, 2022), ("2022", 2022), (" 2022年 ", 2022), ("２０２２", 2022), (2022.0, 2022)]
)
def test_sidecar_year_forms(tmp_path: Path, year: object, value: int) -> None:
    record = _with_sidecar(tmp_path, json.dumps({"year": year}).encode())
    assert record.year == value and "sidecar" not in problems(record)


def test_sidecar_agency_with_quotes_and_semicolons_is_data(tmp_path: Path) -> None:
    agency = "x'); DROP TABLE core.reports; --\"局"
    record = _with_sidecar(tmp_path, json.dumps({"agency": agency, "year": 2022}).encode())
    assert (record.agency, record.year) == (agency, 2022)


def test_sidecar_agency_not_text(tmp_path: Path) -> None:
    record = _with_sidecar(tmp_path, b'{"agency": 42}')
    assert "sidecar agency ignored: 42 is not text" in problems(record)
    assert record.agency == "西工区民政局"


def test_sidecar_linked_from_outside_the_raw_root_is_not_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (tmp_path / "other.json").write_text('{"agency": "外部", "year": 2000}', encoding="utf-8")
    (raw / "r.txt").write_bytes(SEED.read_bytes())
    (raw / "r.txt.meta.json").symlink_to(tmp_path / "other.json")
    record = check(parse_file(raw / "r.txt", raw))
    assert "sidecar r.txt.meta.json ignored: resolves outside the raw root (a symlink?)" in problems(record)
    assert (record.agency, record.year) == ("西工区民政局", 2021)


def test_sidecar_with_bom_and_short_name(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(SEED.read_bytes())
    (tmp_path / "r.meta.json").write_bytes('{"agency": "某某局"}'.encode("utf-8-sig"))
    assert check(parse_file(tmp_path / "r.txt", tmp_path)).agency == "某某局"


def test_sidecar_applies_to_failed_records_too(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(BINARIES["png"][0])
    (tmp_path / "r.txt.meta.json").write_text('{"agency": "某某局", "year": 2020}', encoding="utf-8")
    record = check(parse_file(tmp_path / "r.txt", tmp_path))
    assert (record.status, record.agency, record.year) == ("failed", "某某局", 2020)


# --- the API itself never raises -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "sidecar"),
    [
        (bytearray(b"abc"), "x.txt", None),
        (memoryview(SEED.read_bytes()), Path("dir/seed.txt"), None),
        (SEED.read_bytes(), "seed.txt", ["not", "a", "dict"]),
        (SEED.read_bytes(), "", {"year": None, "agency": None}),
        (b"%PDF-1.4\n garbage", "x.pdf", None),
    ],
)
def test_parse_bytes_never_raises(data: object, name: object, sidecar: object) -> None:
    record = check(parse_bytes(data, name, sidecar))  # type: ignore[arg-type]
    assert isinstance(record.source.path, str)


def test_crash_is_caught_with_its_location(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(lines: list[str], template: str) -> None:
        raise KeyError("simulated")

    monkeypatch.setattr(tables, "extract_tables", boom)
    record = check(parse_bytes(SEED.read_bytes(), "seed.txt"))
    assert record.status == "failed"
    assert problems(record).startswith(f"{PARSER_ERROR}: KeyError: 'simulated' (at test_robustness_parse.py:")


def test_suffix_equals_pathlib() -> None:
    """The Path-free suffix of `detect_format` is `Path(name).suffix` on any name, odd ones included."""
    names = ["a.txt", "a/b.TXT", "a/.txt", "a/b.", "..", ".", "a/", "a/.", "/x/y.tar.gz", "a.b/c", "a/b.txt/."]
    rng = random.Random(3)
    names += ["".join(rng.choice("ab./") for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    for name in names:
        assert name_suffix(name) == Path(name).suffix, name
        if "/" not in name and name not in ("", ".", ".."):  # a file's own name: its sidecars by its stem
            assert sidecar_names(name) == (name + SIDECAR_SUFFIX, Path(name).stem + SIDECAR_SUFFIX), name
