"""The `xxgk` command line: parse (readable and --json) and build (summary, exit status, incremental)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_FILES, copy_seeds

from pipelines.cli import main
from pipelines.parsing.parse import parse_file


def test_parse_json_prints_one_record_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", *map(str, SEED_FILES)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SEED_FILES)
    for line, path in zip(lines, SEED_FILES, strict=True):
        assert json.loads(line) == json.loads(json.dumps(parse_file(path).to_json(), ensure_ascii=False))


def test_parse_prints_a_readable_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"")
    assert main(["parse", str(SEED_FILES[0]), str(junk)]) == 0
    out = capsys.readouterr().out
    record = parse_file(SEED_FILES[0])
    assert record.agency and record.agency in out
    assert f"status {record.status}" in out
    assert "junk.txt" in out and "status failed" in out and "problems" in out


def test_build_summarises_and_second_build_parses_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_seeds(raw)
    (raw / "broken.txt").write_text("这不是年度报告", encoding="utf-8")
    args = ["build", "--raw", str(raw), "--out", str(out)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "files seen 7: new 7" in first
    assert "failed 1" in first and "breaches by rule:" in first
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "unchanged 7" in second and "parsed 0 files" in second
    assert (out / "xxgk.duckdb").exists()


def test_console_script_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "parse", "--json", str(SEED_FILES[1])],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout)["source"]["path"].endswith(SEED_FILES[1].name)


def test_build_with_missing_raw_folder_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_build_starts_its_parser_processes_before_importing_dagster(tmp_path: Path) -> None:
    """The fork server of the parser processes is started before Dagster is imported (its imports overlap
    Dagster's), and a build called from Python leaves the collector as it found it (nothing stays frozen)."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_seeds(raw)
    script = f"""
import gc, sys
from pipelines.warehouse import ingest
first = []
start = ingest.start_parser_processes
def spy(workers):
    first.append("dagster" in sys.modules)
    start(workers)
ingest.start_parser_processes = spy
from pipelines.cli import main
code = main(["build", "--raw", {str(raw)!r}, "--out", {str(out)!r}, "--workers", "2", "--quiet"])
print(code, first[0], "dagster" in sys.modules, gc.get_freeze_count(), gc.isenabled())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["0", "False", "True", "0", "True"], done.stderr[-2000:]
