"""How the build cuts a batch into parse tasks, and what the registry scan reads: every file in exactly one
chunk, in order; small batches in equal chunks, large ones with small end tasks; a new file is hashed once
(by the parser), a known file whose size or mtime changed by the scan."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from pipelines.warehouse import ingest
from pipelines.warehouse.registry import NEW, REGISTRY_SCHEMA, UNCHANGED, plan, read_registry, scan

pl = pytest.importorskip("polars")


@pytest.mark.parametrize(
    ("files", "workers"), [(0, 2), (1, 2), (500, 2), (2_000, 2), (10_000, 2), (16_385, 2), (50_000, 2), (50_000, 8)]
)
def test_chunks_cover_the_batch_once_in_order(files: int, workers: int) -> None:
    sizes = ingest.chunk_sizes(files, workers)
    assert sum(sizes) == files and all(0 < s <= ingest.CHUNK_FILES for s in sizes)
    if files:
        assert len(sizes) >= min(files, workers * ingest.MIN_TASKS_PER_WORKER), "every worker gets several tasks"


def test_a_small_batch_gets_equal_chunks() -> None:
    sizes = ingest.chunk_sizes(2_000, 2)
    assert sizes == [250] * 8


def test_a_large_batch_ends_with_small_chunks() -> None:
    """Large chunks pay the per-chunk validation cost rarely; the tail shrinks so no worker is left with a
    whole large chunk while the others are done."""
    sizes = ingest.chunk_sizes(50_000, 2)
    smallest = ingest.CHUNK_FILES // ingest.TAIL_FRACTION
    assert sizes[0] == ingest.CHUNK_FILES and sizes.count(ingest.CHUNK_FILES) >= 20
    tail = sizes[sizes.index(max(s for s in sizes if s < ingest.CHUNK_FILES)) :]
    assert tail == sorted(tail, reverse=True), "the tail only shrinks"
    assert all(s <= smallest for s in sizes[-3:])
    assert ingest.chunk_sizes(50_000, 1) == [ingest.CHUNK_FILES] * 24 + [50_000 - 24 * ingest.CHUNK_FILES]


def test_the_scan_hashes_only_what_the_plan_compares(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    kept, edited, new = (raw / f"{name}.txt" for name in ("kept", "edited", "new"))
    for path in (kept, edited, new):
        path.write_text(f"report {path.stem}", encoding="utf-8")

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    st_kept, st_edited = kept.stat(), edited.stat()
    registry = pl.DataFrame(
        [
            ("kept.txt", sha(kept), st_kept.st_size, st_kept.st_mtime_ns),
            ("edited.txt", sha(edited), st_edited.st_size, st_edited.st_mtime_ns),
        ],
        schema=["source_path", "sha256", "size", "mtime_ns"],
        orient="row",
    ).with_columns(
        pl.lit(None, pl.Utf8).alias("sidecar_sha256"),
        pl.lit("v1").alias("parser_version"),
        pl.lit(2023, pl.Int32).alias("partition_year"),
        *(pl.lit(None, pl.Utf8).alias(c) for c in ("text_sha256", "duplicate_of")),
        pl.lit("ok").alias("status"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("ingested_at"),
    )
    registry = registry.select(REGISTRY_SCHEMA.names()).cast(REGISTRY_SCHEMA)  # type: ignore[arg-type]
    edited.write_text("report edited, new figures", encoding="utf-8")
    os.utime(edited, ns=(st_edited.st_atime_ns, st_edited.st_mtime_ns + 1_000_000_000))

    scanned = {row["source_path"]: row["sha256"] for row in scan(raw, registry, rehash=False).iter_rows(named=True)}
    assert scanned["kept.txt"] == sha(kept), "unchanged size and mtime: the recorded hash"
    assert scanned["edited.txt"] == sha(edited), "changed: hashed again, to tell a real edit from a touch"
    assert scanned["new.txt"] is None, "new: parsed whatever its bytes, hashed by the parser"
    actions = dict(
        plan(scan(raw, registry, rehash=False), registry, "v1", full_refresh=False)
        .select("source_path", "action")
        .iter_rows()
    )
    assert actions["new.txt"] == NEW and actions["kept.txt"] == UNCHANGED
    assert scan(raw, read_registry(tmp_path / "none"), rehash=True)["sha256"].null_count() == 0, "--full-refresh"


def test_scan_names_paths_and_sidecars_per_folder(tmp_path: Path) -> None:
    """The scan works out a folder's relative path and whether it has sidecars once per folder: paths (also
    with bytes that are not UTF-8, in the folder's name or the file's), order, and which sidecar counts
    (`report.txt.meta.json` before `report.meta.json`; one that is a folder is not a sidecar) must be those
    of looking at each file on its own."""
    from pipelines.parsing.parse import display_name

    raw = tmp_path / "raw"
    odd = os.fsdecode(b"\xb1\xa8\xb8\xe6")  # GBK bytes: not UTF-8
    for folder in ("", "b", "a", f"a/{odd}", ".hidden"):
        (raw / folder).mkdir(parents=True, exist_ok=True)
    files = ["z.txt", "a.TXT", "notes.csv", "b/both.txt", "b/stem.md", "b/dir.txt", "a/x.html", f"a/{odd}/{odd}.txt"]
    for name in [*files, ".hidden/h.txt", "b/.dot.txt"]:
        (raw / name).write_text("报告", encoding="utf-8")
    sidecars = {"b/both.txt.meta.json": '{"agency": "一"}', "b/both.meta.json": '{"agency": "二"}'}
    sidecars |= {"b/stem.meta.json": '{"agency": "三"}', f"a/{odd}/{odd}.meta.json": '{"agency": "四"}'}
    for name, text in sidecars.items():
        (raw / name).write_text(text, encoding="utf-8")
    (raw / "b/dir.txt.meta.json").mkdir()
    scanned = scan(raw, read_registry(tmp_path / "none"), rehash=True)

    def sha(rel: str) -> str:
        return hashlib.sha256((raw / rel).read_bytes()).hexdigest()

    expected = {f: f for f in files if f != "notes.csv"}
    expected[f"a/{odd}/{odd}.txt"] = display_name(f"a/{odd}/{odd}.txt")
    assert scanned["source_path"].to_list() == [
        expected[f]
        for f in ("a.TXT", "z.txt", "a/x.html", f"a/{odd}/{odd}.txt", "b/both.txt", "b/dir.txt", "b/stem.md")
    ], "folders in order, each one's files sorted before its subfolders; hidden names skipped"
    assert "\\xb1" in expected[f"a/{odd}/{odd}.txt"]
    side = dict(scanned.select("source_path", "sidecar_sha256").iter_rows())
    assert side[expected[f"a/{odd}/{odd}.txt"]] == sha(f"a/{odd}/{odd}.meta.json")
    assert side["b/both.txt"] == sha("b/both.txt.meta.json"), "the full name's sidecar wins"
    assert side["b/stem.md"] == sha("b/stem.meta.json")
    assert side["b/dir.txt"] is None and side["z.txt"] is None and side["a/x.html"] is None
    assert dict(scanned.select("source_path", "sha256").iter_rows())["b/both.txt"] == sha("b/both.txt")


def test_a_new_file_gets_the_parser_hash_as_report_id(tmp_path: Path) -> None:
    raw, staging = tmp_path / "raw", tmp_path / "staging"
    raw.mkdir()
    (raw / "a.txt").write_text("某某局2023年政府信息公开工作年度报告", encoding="utf-8")
    ingest.parse_to_staging(raw, [("a.txt", None), ("gone.txt", None)], staging, workers=1)
    reports = ingest.read_staged(staging, "reports").sort("source_path")
    assert reports["report_id"].to_list() == [
        hashlib.sha256((raw / "a.txt").read_bytes()).hexdigest(),
        hashlib.sha256(b"unreadable:gone.txt").hexdigest(),
    ]
    assert reports.filter(pl.col("source_path") == "gone.txt")["status"].to_list() == ["failed"]


def test_parser_processes_started_early_parse_the_batch(tmp_path: Path) -> None:
    """The build starts the parser processes' fork server before its registry scan; the pool then forks from
    that server, and the batch is parsed exactly as without it."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(4):
        (raw / f"r{i}.txt").write_text(f"某某局{2020 + i}年政府信息公开工作年度报告", encoding="utf-8")
    ingest.start_parser_processes(2)
    ingest.start_parser_processes(2)  # a second call starts nothing more
    summary = ingest.parse_to_staging(raw, [(f"r{i}.txt", None) for i in range(4)], tmp_path / "staging", workers=2)
    assert (summary.workers, summary.chunks, summary.files) == (2, 4, 4)
    years = ingest.read_staged(tmp_path / "staging", "reports").sort("source_path")["report_year"].to_list()
    assert years == [2020, 2021, 2022, 2023]


def test_parse_limits_from_the_environment_apply_to_every_file_of_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk reads the limits once: a valid setting applies to each of its files, and a malformed one is
    still named in every record (not read once and lost)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(3):
        (raw / f"r{i}.txt").write_text(f"某某局{2020 + i}年政府信息公开工作年度报告", encoding="utf-8")
    files = [(f"r{i}.txt", None) for i in range(3)]
    monkeypatch.setenv("XXGK_MAX_FILE_BYTES", "10")
    ingest.parse_to_staging(raw, files, tmp_path / "small", workers=1)
    problems = ingest.read_staged(tmp_path / "small", "reports")["problems"].to_list()
    assert len(problems) == 3 and all(p.startswith("file too large") and "limit 10 bytes" in p for p in problems)
    monkeypatch.setenv("XXGK_MAX_FILE_BYTES", "lots")
    ingest.parse_to_staging(raw, files, tmp_path / "malformed", workers=1)
    reports = ingest.read_staged(tmp_path / "malformed", "reports")
    assert reports["report_year"].sort().to_list() == [2020, 2021, 2022]
    assert all("XXGK_MAX_FILE_BYTES='lots' is not an integer" in p for p in reports["problems"].to_list())


def test_a_sidecar_is_read_once_for_the_record_and_its_region(tmp_path: Path) -> None:
    """The chunk reads a sidecar once: its agency/year reach the record, its region and URL the reports row.
    A sidecar that resolves outside the raw root gives neither, and the record says why; a file the scan saw
    without a sidecar is parsed without one."""
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    raw.mkdir()
    outside.mkdir()
    fields = {"agency": "旁注局", "year": 2021, "region": "河南省洛阳市", "url": "https://example.org/r"}
    for name in ("kept.txt", "escaped.txt", "unlisted.txt"):
        (raw / name).write_text("某某局2023年政府信息公开工作年度报告", encoding="utf-8")
    (raw / "kept.txt.meta.json").write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
    (outside / "x.meta.json").write_text(json.dumps(fields, ensure_ascii=False), encoding="utf-8")
    (raw / "escaped.txt.meta.json").symlink_to(outside / "x.meta.json")
    files = [(name, None) for name in ("kept.txt", "escaped.txt", "unlisted.txt")]
    ingest.parse_to_staging(raw, files, tmp_path / "staging", workers=1, with_sidecar={"kept.txt", "escaped.txt"})
    rows = ingest.read_staged(tmp_path / "staging", "reports").sort("source_path")
    got = rows.select("source_path", "agency", "report_year", "region", "source_url").rows()
    assert got == [
        ("escaped.txt", "某某局", 2023, None, None),
        ("kept.txt", "旁注局", 2021, "河南省洛阳市", "https://example.org/r"),
        ("unlisted.txt", "某某局", 2023, None, None),
    ]
    escaped = rows.filter(pl.col("source_path") == "escaped.txt")["problems"].item()
    assert "sidecar escaped.txt.meta.json ignored: resolves outside the raw root" in escaped
