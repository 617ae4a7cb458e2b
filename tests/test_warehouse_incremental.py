"""Incremental builds: unchanged files are not parsed again, changed files replace their rows, removed
files leave no rows, copies take over when their original goes, and only one build writes at a time."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import copy_seeds, metadata, query, run_build

from pipelines.cli import main
from pipelines.warehouse import partitions
from pipelines.warehouse.registry import read_registry

synth = pytest.importorskip("pipelines.synth")
TABLES_WITH_REPORT_ID = ("core.proactive", "core.applications", "core.appeals", "core.violations")


def _rows_of(out: Path, report_id: str) -> dict[str, int]:
    return {
        t: query(out, f"SELECT count(*) FROM {t} WHERE report_id = ?", [report_id])[0][0] for t in TABLES_WITH_REPORT_ID
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def warehouse(tmp_path: Path) -> tuple[Path, Path, list]:
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_seeds(raw)
    reports = synth.write_corpus(raw / "synth", 30, seed=5, break_rule=False, truncated=False)
    assert run_build(raw, out).success
    return raw, out, reports


def test_changed_and_removed_files_are_reflected(warehouse: tuple[Path, Path, list]) -> None:
    raw, out, reports = warehouse
    changed, removed = raw / "synth" / reports[0].name, raw / "synth" / reports[1].name
    old_changed, old_removed = _sha(changed), _sha(removed)
    loaded = _rows_of(out, old_changed)
    assert loaded["core.applications"] > 0 and loaded["core.proactive"] > 0 and loaded["core.appeals"] > 0
    replacement = synth.generate_report(987654, break_rule="row_total")
    changed.write_bytes(replacement.data)
    removed.unlink()
    (raw / "synth" / (reports[1].name + ".meta.json")).unlink(missing_ok=True)

    result = run_build(raw, out)
    assert result.success
    scan = metadata(result, "raw_files")
    assert (scan["files_changed"], scan["files_removed"], scan["files_new"]) == (1, 1, 0)
    assert metadata(result, "parsed_reports")["files_parsed"] == 1

    new_id = _sha(changed)
    assert _rows_of(out, old_changed) == dict.fromkeys(TABLES_WITH_REPORT_ID, 0)
    assert _rows_of(out, old_removed) == dict.fromkeys(TABLES_WITH_REPORT_ID, 0)
    assert query(out, "SELECT count(*) FROM core.reports WHERE report_id IN (?, ?)", [old_changed, old_removed]) == [
        (0,)
    ]
    rows = query(
        out,
        "SELECT report_id, report_year, agency FROM core.reports WHERE source_path = ?",
        [f"synth/{reports[0].name}"],
    )
    assert rows == [(new_id, replacement.truth["year"], replacement.truth["agency"])]
    planted = {(v["rule"], v["location"]) for v in replacement.truth["violations"]}
    assert set(query(out, "SELECT rule, location FROM core.violations WHERE report_id = ?", [new_id])) == planted
    assert "row_total" in {rule for rule, _ in planted}
    n_files = sum(1 for _ in raw.rglob("*") if _.is_file() and not _.name.endswith((".json", ".jsonl")))
    assert query(out, "SELECT count(*) FROM core.reports") == [(n_files,)]
    assert len(read_registry(out)) == n_files
    assert not any((out / ".staging").iterdir())


def test_sidecar_change_reparses_the_report(warehouse: tuple[Path, Path, list]) -> None:
    raw, out, reports = warehouse
    target = next(r for r in reports if r.sidecar is None)
    (raw / "synth" / (target.name + ".meta.json")).write_text(
        json.dumps({"agency": "改名后的机关", "year": 2019, "region": "河南省"}), encoding="utf-8"
    )
    result = run_build(raw, out)
    assert metadata(result, "raw_files")["files_changed"] == 1
    assert query(
        out, "SELECT agency, report_year, region FROM core.reports WHERE source_path = ?", [f"synth/{target.name}"]
    ) == [("改名后的机关", 2019, "河南省")]


def test_copy_takes_over_when_its_original_is_removed(warehouse: tuple[Path, Path, list]) -> None:
    raw, out, reports = warehouse
    original = raw / "synth" / reports[2].name
    copy = raw / "zz_copy.txt"
    shutil.copy2(original, copy)
    rid = _sha(original)
    run_build(raw, out)
    assert query(out, "SELECT duplicate_of FROM core.reports WHERE source_path = 'zz_copy.txt'") == [(rid,)]
    figures = _rows_of(out, rid)

    original.unlink()
    (raw / "synth" / (reports[2].name + ".meta.json")).unlink(missing_ok=True)
    result = run_build(raw, out)
    scan = metadata(result, "raw_files")
    assert (scan["files_removed"], scan["files_reparse"]) == (1, 1)
    assert query(out, "SELECT source_path, duplicate_of FROM core.reports WHERE report_id = ?", [rid]) == [
        ("zz_copy.txt", None)
    ]
    assert _rows_of(out, rid) == figures
    assert query(out, "SELECT count(*) FROM reports WHERE report_id = ?", [rid]) == [(1,)]


def test_emptied_year_partition_is_removed(warehouse: tuple[Path, Path, list]) -> None:
    raw, out, _ = warehouse
    (raw / "not_a_report.txt").write_text("hello", encoding="utf-8")
    run_build(raw, out)
    unknown = out / "parquet" / "reports" / "report_year=0"
    assert unknown.exists()
    (raw / "not_a_report.txt").unlink()
    result = run_build(raw, out)
    assert metadata(result, "warehouse_parquet")["years_removed"] == [0]
    assert not unknown.exists()
    assert query(out, "SELECT count(*) FROM core.reports WHERE source_path = 'not_a_report.txt'") == [(0,)]


def test_full_refresh_parses_everything_and_gives_the_same_warehouse(warehouse: tuple[Path, Path, list]) -> None:
    raw, out, _ = warehouse
    before = query(out, "SELECT source_path, report_id, status, n_violations FROM core.reports ORDER BY 1")
    figures = query(out, "SELECT count(*), sum(total) FROM core.applications")
    result = run_build(raw, out, full_refresh=True)
    assert metadata(result, "parsed_reports")["files_parsed"] == len(before)
    assert query(out, "SELECT source_path, report_id, status, n_violations FROM core.reports ORDER BY 1") == before
    assert query(out, "SELECT count(*), sum(total) FROM core.applications") == figures


def test_a_second_build_refuses_while_one_is_writing(
    warehouse: tuple[Path, Path, list], capsys: pytest.CaptureFixture[str]
) -> None:
    raw, out, _ = warehouse
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from pipelines.warehouse.lock import build_lock
                with build_lock(Path({str(out)!r})):
                    print("locked", flush=True)
                    time.sleep(30)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        assert main(["build", "--raw", str(raw), "--out", str(out), "--quiet"]) == 2
        assert time.perf_counter() - started < 20
        err = capsys.readouterr().err
        assert "another build is writing" in err and f"pid {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
    assert main(["build", "--raw", str(raw), "--out", str(out), "--quiet"]) == 0


def test_open_reader_never_blocks_a_build(warehouse: tuple[Path, Path, list]) -> None:
    """A BI tool holding the catalog open read-only: the build still commits, the open connection keeps
    answering from the catalog it opened, a new connection sees the new data."""
    raw, out, reports = warehouse
    reader = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    try:
        (before,) = reader.execute("SELECT count(*) FROM core.reports").fetchone()
        (raw / "synth" / reports[3].name).unlink()
        assert run_build(raw, out).success
        assert reader.execute("SELECT count(*) FROM reports").fetchone() is not None
    finally:
        reader.close()
    assert query(out, "SELECT count(*) FROM core.reports") == [(before - 1,)]


def test_moved_warehouse_answers_after_catalog_rewrite(warehouse: tuple[Path, Path, list], tmp_path: Path) -> None:
    _, out, _ = warehouse
    (n,) = query(out, "SELECT count(*) FROM disclosure_counts")[0]
    moved = tmp_path / "elsewhere"
    shutil.move(out, moved)
    assert main(["catalog", "--out", str(moved)]) == 0
    assert query(moved, "SELECT count(*) FROM disclosure_counts") == [(n,)]
    assert query(moved, "SELECT count(*) FROM core.files") == [(len(read_registry(moved)),)]


def test_a_partition_merge_equals_sorting_the_concatenation() -> None:
    """The commit merges a sorted partition with the batch's rows instead of sorting it again: the same
    rows in the same order as the stable sort of old + new (ties: old first), for sorted and unsorted
    partitions alike."""
    rng = random.Random(7)
    schema = {"report_id": pl.String, "value": pl.Int64}
    for case in range(200):
        ids = sorted(rng.choice("abcdefg") for _ in range(rng.randint(0, 30)))
        old = pl.DataFrame({"report_id": ids, "value": range(len(ids))}, schema=schema)
        if case % 2:
            old = old.sample(fraction=1.0, shuffle=True, seed=case)
        new = [rng.choice("abcdefgh") for _ in range(rng.randint(0, 10))]
        added = pl.DataFrame({"report_id": new, "value": range(100, 100 + len(new))}, schema=schema)
        expected = pl.concat([old, added]).sort("report_id", maintain_order=True)
        assert partitions.merge_parts([old, added], "report_id").equals(expected), case
