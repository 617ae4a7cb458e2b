"""The benchmark harness works: it measures what it says, and the one-command benchmark runs end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import harness  # noqa: E402


def test_tree_memory_counts_grandchildren(tmp_path: Path) -> None:
    """A worker process two levels down holding 200 MiB shows in the peak of the tree."""
    code = textwrap.dedent(
        """
        import subprocess, sys
        inner = "import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.6)"
        subprocess.run([sys.executable, "-c", inner], check=True)
        """
    )
    m = harness.run_measured("alloc", [sys.executable, "-c", code], interval=0.05)
    assert m.returncode == 0
    assert m.memory.max_processes >= 2
    assert 200 <= m.memory.peak_pss_mib < 400
    assert m.memory.peak_rss_mib >= m.memory.peak_pss_mib * 0.9
    assert m.memory.max_process_hwm_mib >= 200


def test_cpu_pinning_is_inherited() -> None:
    m = harness.run_measured(
        "pin", [sys.executable, "-c", "import os, sys; sys.exit(len(os.sched_getaffinity(0)))"], cpus=[0]
    )
    assert m.returncode == 1 and m.cpus == [0]


def test_floor_reads_every_report_and_finds_its_numbers(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r1.txt").write_text("2021年 新收 12 件, 收费 0.5 万元, 增减 -3", encoding="utf-8")
    (tmp_path / "r2.md").write_bytes("二、上年结转 7".encode("gb18030"))
    (tmp_path / "r2.meta.json").write_text('{"year": 2021}')  # a sidecar is not a report
    (tmp_path / "r3.txt").write_bytes("\ufeff结转 4".encode("utf-16-le"))
    stats = harness.floor(tmp_path)
    assert stats["files"] == 3
    assert stats["numbers"] == 6  # 2021, 12, 0.5, -3, 7, 4


needs_build = pytest.mark.skipif(
    importlib.util.find_spec("pipelines.synth") is None
    or importlib.util.find_spec("pipelines.cli") is None
    or not Path(sys.executable).with_name("xxgk").exists(),
    reason="needs the synthetic generator and the xxgk build",
)


@needs_build
def test_benchmark_runs_end_to_end_at_tiny_n(tmp_path: Path) -> None:
    argv = [sys.executable, str(BENCH / "bench_build.py"), "--n", "50", "--quick", "--workers", "2"]
    proc = subprocess.run(
        [*argv, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "bench_build-latest.json").read_text())
    assert results["floor"]["files"] == 50
    assert results["full"]["warehouse"]["reports"] == 50
    assert results["incremental"]["warehouse"]["reports"] == 51  # 1 % of 50, at least one new report
    assert results["full"]["measured"]["memory"]["peak_pss_mib"] > 0
    assert {q["name"] for q in results["queries"]} >= {"totals_by_year", "top20_agencies_by_requests"}
    assert "| full build (2 CPU) | 50 |" in proc.stdout
