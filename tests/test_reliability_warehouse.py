"""Reliability of `xxgk build`: bad input, crashes and concurrent readers or writers never lose data.

Each test runs the real console script in a subprocess (as the nightly job does) over a real raw folder and
reads the real DuckDB catalog and Parquet files it leaves.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.parsing.normalize import normalize

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "000_4a563719454909a3.txt"  # 西工区民政局 2021
HUAIAN = FIXTURES / "real" / "huaian_2024.pdftotext.txt"  # 淮安市人民政府 2024, large figures
XXGK = [sys.executable, "-m", "pipelines.cli"]
VIEWS = ("reports", "disclosure_counts", "outcomes", "appeals", "rule_violations")
CORE = ("reports", "proactive", "applications", "appeals", "violations")
BUILD_TIMEOUT = 300


def copy_warehouse(template: Path, out: Path) -> None:
    """A copy of a built warehouse, its catalog re-pointed at the copy (views read Parquet by absolute path)."""
    shutil.copytree(template, out, symlinks=True)
    result = subprocess.run([*XXGK, "catalog", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def xxgk_build(raw: Path, out: Path, *, timeout: float = BUILD_TIMEOUT, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "XXGK_WORKERS": os.environ.get("XXGK_WORKERS", "2")}
    return subprocess.run(
        [*XXGK, "build", "--raw", str(raw), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kw,
    )


def start_build(raw: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "XXGK_WORKERS": os.environ.get("XXGK_WORKERS", "2")}
    return subprocess.Popen(
        [*XXGK, "build", "--raw", str(raw), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: SIGKILL reaches the parser pool too
    )


def assert_built(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"


def rows(out: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(out: Path, *, integrity: bool = True) -> dict[str, object]:
    """Row counts of every core table and analytic view, and figures that must not double-count; with
    `integrity`, also that every table-3 row belongs to a loaded report."""
    con = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    try:
        counts: dict[str, object] = {}
        for t in CORE:
            counts[f"core.{t}"] = con.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0]
        for v in VIEWS:
            counts[f"main.{v}"] = con.execute(f"SELECT count(*) FROM main.{v}").fetchone()[0]
        counts["requests_new"] = con.execute("SELECT sum(requests_new) FROM main.disclosure_counts").fetchone()[0]
        counts["statuses"] = dict(con.execute("SELECT status, count(*) FROM core.reports GROUP BY 1").fetchall())
        # integrity: every figure row belongs to a loaded report, and report_ids of originals are unique
        orphans = con.execute(
            "SELECT count(*) FROM core.applications a WHERE NOT EXISTS "
            "(SELECT 1 FROM core.reports r WHERE r.report_id = a.report_id AND r.duplicate_of IS NULL)"
        ).fetchone()[0]
        if integrity:
            assert orphans == 0, f"{orphans} table-3 rows without their report"
        else:
            counts["orphans"] = orphans
        return counts
    finally:
        con.close()


def report_text(n: int, base: str) -> str:
    """A distinct report: the seed with its agency renamed (a different text, so not a duplicate)."""
    return normalize(base).replace("区民政局", f"区第{n}民政局")


def make_reports(raw: Path, start: int, count: int) -> None:
    base = SEED.read_text(encoding="utf-8")
    huaian = HUAIAN.read_text(encoding="utf-8")
    for n in range(start, start + count):
        sub = raw / f"batch{n % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        text = report_text(n, base) if n % 3 else huaian.replace("淮安市人民政府", f"淮安市第{n}人民政府")
        (sub / f"report_{n:04d}.txt").write_text(text, encoding="utf-8")


# --- every input file accounted for -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, tuple[str, str]]]:
    """A raw tree with every kind of bad input; returns (raw, out, expected {source_path: (status, reason)})."""
    base = tmp_path_factory.mktemp("bad")
    raw, out = base / "raw", base / "out"
    raw.mkdir()
    seed = SEED.read_bytes()
    seed_text = SEED.read_text(encoding="utf-8")
    huaian = HUAIAN.read_text(encoding="utf-8")
    expected: dict[str, tuple[str, str]] = {}

    def put(name: str, data: bytes, status: str, reason: str) -> Path:
        path = raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[name] = (status, reason)
        return path

    put("good/seed.txt", seed, "ok", "")
    put("good/copy of seed.txt", seed, "ok", "")  # byte-identical copy: a duplicate
    put("good/seed-crlf.txt", seed_text.replace("\n", "\r\n").encode(), "ok", "")  # same normalized text
    put("empty.txt", b"", "failed", "empty file: 0 bytes")
    put("blank.md", b"\n \n\t\n", "failed", "empty document: no text")
    put(
        "image.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "failed",
        "binary file: content is a PNG image",
    )
    put("archive.txt", b"PK\x03\x04\x14\x00" + bytes(range(256)) * 4, "failed", "binary file: content is a ZIP archive")
    put("scan.pdf", b"\x89PNG\r\n\x1a\n" + bytes(200), "failed", "file named .pdf is not a PDF: content is a PNG image")
    put("noise.txt", bytes((i * 7919 + 13) % 251 for i in range(20_000)), "failed", "undecodable bytes")
    put("recipe.txt", "番茄炒蛋\n\n材料：番茄两个，鸡蛋三个。\n".encode(), "failed", "not a disclosure report")
    put("README.md", b"# Project\n\nInstall with pip.\n", "failed", "not a disclosure report")
    cut = huaian.index("4.保护第三方合法权益")
    put("truncated.txt", huaian[:cut].encode(), "partial", "tables not found: table 4")
    put("longline.txt", seed + b"\n" + b"x" * 50_000 + b"\n", "partial", "1 line longer than 20000 characters cut")
    put("enc/gb18030.txt", report_text(9001, seed_text).encode("gb18030"), "ok", "")
    put("enc/utf16-bom.txt", report_text(9002, seed_text).encode("utf-16"), "ok", "")
    put("enc/utf16le-nobom.txt", report_text(9003, seed_text).encode("utf-16-le"), "ok", "")
    damaged = report_text(9004, seed_text).encode()
    damaged = damaged.replace("总体情况".encode(), "总体".encode() + b"\xff\xfe" + "情况".encode(), 1)
    put("enc/damaged-utf8.txt", damaged, "ok", "2 undecodable bytes replaced with U+FFFD")
    lines = report_text(9005, seed_text).split("\n")
    mixed = "\n".join(lines[:20]).encode() + b"\n" + "\n".join(lines[20:]).encode("gb18030")
    put("enc/mixed.txt", mixed, "ok", "mixed encodings: ")
    put("names/my report 'final' \"v2\".txt", report_text(9006, seed_text).encode(), "ok", "")
    put("names/淮安 2024 年度报告.txt", report_text(9007, seed_text).encode(), "ok", "")
    put("names/a;b$(rm -rf x)`y`.md", report_text(9008, seed_text).encode(), "ok", "")
    put("names/-dash.txt", report_text(9009, seed_text).encode(), "ok", "")
    # a sidecar that is not JSON, and one whose year is not a year: the report is still read from its text
    put("sidecars/bad-json.txt", report_text(9010, seed_text).encode(), "ok", "not valid JSON")
    (raw / "sidecars/bad-json.txt.meta.json").write_bytes(b'{"agency": "X", "year": 20')
    put("sidecars/bad-year.txt", report_text(9011, seed_text).encode(), "ok", "sidecar year ignored: 'MMXXI'")
    (raw / "sidecars/bad-year.txt.meta.json").write_text('{"year": "MMXXI"}', encoding="utf-8")
    # a 100 MB file (sparse: cheap to create)
    with (raw / "huge.txt").open("wb") as f:
        f.truncate(100 * 1024 * 1024)
    expected["huge.txt"] = ("failed", "file too large: 104857600 bytes > limit 52428800 bytes")
    # a directory named like a report holds a report: the report is read, the directory is no file
    put("folder.txt/inner.txt", report_text(9012, seed_text).encode(), "ok", "")
    # special files and links
    os.mkfifo(raw / "pipe.txt")
    expected["pipe.txt"] = ("failed", "unreadable file: not a regular file (a FIFO (named pipe))")
    (raw / "loop_a.txt").symlink_to(raw / "loop_b.txt")
    (raw / "loop_b.txt").symlink_to(raw / "loop_a.txt")
    expected["loop_a.txt"] = ("failed", "unreadable file: Too many levels of symbolic links")
    expected["loop_b.txt"] = ("failed", "unreadable file: Too many levels of symbolic links")
    (raw / "dangling.txt").symlink_to(raw / "nowhere.txt")
    expected["dangling.txt"] = ("failed", "unreadable file: No such file or directory")
    (base / "secret.txt").write_bytes(report_text(9013, seed_text).encode())
    (raw / "outside.txt").symlink_to(base / "secret.txt")
    expected["outside.txt"] = ("failed", "unreadable file: resolves outside the raw root")
    (raw / "loopdir").symlink_to(raw, target_is_directory=True)  # a directory loop: not followed
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(raw / "sock.txt"))
    expected["sock.txt"] = ("failed", "unreadable file: not a regular file (a socket)")
    # a file name that is not UTF-8 (GBK bytes of 报告)
    weird = os.path.join(os.fsencode(raw), b"gbk-\xb1\xa8\xb8\xe6.txt")
    with open(weird, "wb") as f:
        f.write(report_text(9014, seed_text).encode())
    expected["gbk-\\xb1\\xa8\\xb8\\xe6.txt"] = ("ok", "")
    try:
        result = xxgk_build(raw, out)
    finally:
        sock.close()
    assert_built(result)
    return raw, out, expected


def test_every_input_file_has_one_row_with_its_status_and_reason(bad_tree) -> None:
    _raw, out, expected = bad_tree
    found = {path: (status, problems or "") for path, status, problems in rows(
        out, "SELECT source_path, status, problems FROM core.reports")}  # fmt: skip
    assert sorted(found) == sorted(expected), "files missing from or extra in core.reports"
    (n,) = rows(out, "SELECT count(*) FROM core.reports")[0]
    assert n == len(expected)  # one row per file, none twice
    wrong = {
        path: (found[path], want)
        for path, want in expected.items()
        if found[path][0] != want[0] or want[1] not in found[path][1]
    }
    assert not wrong, json.dumps(wrong, ensure_ascii=False, indent=1)
    for path, (status, reason) in found.items():
        if status in ("failed", "partial"):
            assert reason, f"{path}: {status} without a reason"


def test_report_ids_are_sha256_of_the_raw_bytes(bad_tree) -> None:
    import hashlib

    raw, out, _ = bad_tree
    for path, report_id in rows(out, "SELECT source_path, report_id FROM core.reports WHERE status <> 'failed'"):
        if "\\x" in path:
            continue
        assert report_id == hashlib.sha256((raw / path).read_bytes()).hexdigest(), path


def test_duplicates_are_marked_and_not_counted_twice(bad_tree) -> None:
    _raw, out, _ = bad_tree
    dup = dict(rows(out, "SELECT source_path, duplicate_of FROM core.reports WHERE source_path LIKE 'good/%'"))
    originals = [p for p, d in dup.items() if d is None]
    assert len(originals) == 1, dup  # the seed, its byte copy and its CRLF copy: one original
    (orig_id,) = rows(out, "SELECT report_id FROM core.reports WHERE source_path = ?", [originals[0]])[0]
    assert all(d == orig_id for p, d in dup.items() if p != originals[0])
    # the analytic views see the report once
    good = "(SELECT report_id FROM core.reports WHERE source_path LIKE 'good/%')"
    assert rows(out, f"SELECT count(*) FROM main.reports WHERE report_id IN {good}") == [(1,)]
    assert rows(out, f"SELECT count(*) FROM main.disclosure_counts WHERE report_id IN {good}") == [(1,)]
    (n_rows,) = rows(out, "SELECT count(*) FROM core.applications WHERE report_id = ?", [orig_id])[0]
    assert n_rows == 25  # the 2021 format's table 3, loaded once: not once per copy
    assert rows(out, f"SELECT count(*) FROM core.applications WHERE report_id IN {good}") == [(n_rows,)]
    (n_outcomes,) = rows(out, f"SELECT count(*) FROM main.outcomes WHERE report_id IN {good}")[0]
    (n_outcome_rows,) = rows(
        out, "SELECT count(*) FROM core.applications WHERE report_id = ? AND category IS NOT NULL", [orig_id]
    )[0]
    assert n_outcomes == n_outcome_rows == 21  # its outcome rows, once
    # the request volume of this report is summed once in the warehouse total
    (total,) = rows(out, "SELECT sum(requests_new) FROM main.disclosure_counts")[0]
    (by_report,) = rows(
        out,
        "SELECT sum(total) FROM core.applications a JOIN core.reports r USING (report_id) "
        "WHERE a.row_code = 'new_received' AND r.duplicate_of IS NULL",
    )[0]
    assert total == by_report


def test_all_views_answer_on_the_bad_tree(bad_tree) -> None:
    _raw, out, _ = bad_tree
    counts = snapshot(out)
    assert counts["main.reports"] < counts["core.reports"]  # failed files and duplicates are left out of views
    assert counts["statuses"]["failed"] >= 15


def test_next_build_is_unchanged_and_keeps_every_row(bad_tree, tmp_path: Path) -> None:
    raw, out, _expected = bad_tree
    before = snapshot(out)
    sock = socket.socket(socket.AF_UNIX)  # the socket vanished with the fixture's: recreate it
    (raw / "sock.txt").unlink(missing_ok=True)
    sock.bind(str(raw / "sock.txt"))
    try:
        result = xxgk_build(raw, out)
    finally:
        sock.close()
    assert_built(result)
    assert "new 0" in result.stdout and "removed 0" in result.stdout, result.stdout
    assert snapshot(out) == before


# --- security ------------------------------------------------------------------------------------------------


def test_sidecar_values_are_data_and_cannot_redirect_writes(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    agency = "x'); DROP TABLE core.reports; --\"局;"
    (raw / "r.txt").write_bytes(SEED.read_bytes())
    (raw / "r.txt.meta.json").write_text(
        json.dumps({"agency": agency, "year": 2022, "region": "'; DROP VIEW main.reports; --", "url": "javascript:x"}),
        encoding="utf-8",
    )
    (raw / "evil.txt").write_bytes(report_text(7, SEED.read_text(encoding="utf-8")).encode())
    (raw / "evil.txt.meta.json").write_text(
        json.dumps(
            {
                "year": "../../../../evil",
                "agency": "../../evil",
                "out": str(tmp_path / "evil"),
                "source_path": "../../evil.txt",
                "report_id": "../../evil",
                "report_year": "../evil",
                "parquet": "/tmp/evil",
            }
        ),
        encoding="utf-8",
    )
    before = set(tmp_path.iterdir())
    assert_built(xxgk_build(raw, out))
    assert set(tmp_path.iterdir()) == before | {out}  # nothing written beside the warehouse
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written <= {
        "parquet",
        "xxgk.duckdb",
        "registry.parquet",
        "current",
        "snapshots",
        ".build.lock",
        ".staging",
        ".cache",
        "quality.html",
    }, written
    assert [p.name.startswith("report_identity-") for p in (out / ".cache").iterdir()] == [True]
    years = {p.name for p in (out / "parquet" / "reports").iterdir()}
    assert years <= {"report_year=2021", "report_year=2022"}, years
    assert rows(out, "SELECT agency, report_year FROM core.reports WHERE source_path = 'r.txt'") == [(agency, 2022)]
    evil = rows(out, "SELECT agency, report_year, problems FROM core.reports WHERE source_path = 'evil.txt'")[0]
    assert evil[0] == "../../evil" and evil[1] == 2021  # stored as text; the year from the report text
    assert "sidecar year ignored: '../../../../evil' is not a year" in evil[2]
    assert rows(out, "SELECT count(*) FROM main.reports") == [(2,)]  # the views are all still there
    snapshot(out)


# --- crashes: SIGKILL at any moment leaves the previous warehouse readable ----------------------------------


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def kill_setup(tmp_path_factory: pytest.TempPathFactory):
    """A warehouse built from 150 reports (the previous one), a raw folder with 150 more and 20 changed, and
    the counts a completed build of the new raw folder gives."""
    base = tmp_path_factory.mktemp("kill")
    raw_old, raw_new = base / "raw_old", base / "raw_new"
    make_reports(raw_old, 0, 150)
    shutil.copytree(raw_old, raw_new)
    make_reports(raw_new, 150, 150)
    for n in range(1, 60, 3):  # 20 files changed in place
        path = raw_new / f"batch{n % 7}" / f"report_{n:04d}.txt"
        path.write_text(report_text(n + 5000, SEED.read_text(encoding="utf-8")), encoding="utf-8")
    template = base / "out_old"
    assert_built(xxgk_build(raw_old, template))
    old = snapshot(template)
    fresh = base / "out_fresh"
    started = time.monotonic()
    assert_built(xxgk_build(raw_new, fresh))
    duration = time.monotonic() - started
    new = snapshot(fresh)
    assert old != new
    return base, raw_new, template, old, new, duration


#: when to kill: fractions of an uninterrupted build's duration, and phases seen on disk (staging folder
#: created, a parsed chunk staged, partition files staged for the swap, the new catalog being written).
#: XXGK_KILL_MOMENTS=all runs every one (slow); the default covers start-up, parsing, commit and catalog.
KILL_FRACTIONS = (0.3, 0.6, 0.9) if os.environ.get("XXGK_KILL_MOMENTS") == "all" else (0.5,)
KILL_PHASES = (
    ("staging", "parsed", "commit", "catalog")
    if os.environ.get("XXGK_KILL_MOMENTS") == "all"
    else (
        "parsed",
        "commit",
        "catalog",
    )
)


def _phase_reached(out: Path, phase: str) -> bool:
    staging = out / ".staging"
    if phase == "staging":
        return staging.exists() and any(staging.iterdir())
    if phase == "parsed":
        return any(staging.glob("*/parsed/reports/*.parquet"))
    if phase == "commit":
        # a snapshot being written beside the current one
        current = os.path.basename(os.readlink(out / "current"))
        return any(p.name != current and any(p.glob("parquet/*/*/*.parquet")) for p in (out / "snapshots").iterdir())
    return any(out.glob(".xxgk.duckdb.*.tmp"))


@pytest.mark.parametrize("moment", [*(f"t={f}" for f in KILL_FRACTIONS), *(f"phase={p}" for p in KILL_PHASES)])
def test_sigkill_leaves_the_previous_warehouse_readable_and_the_next_build_completes(kill_setup, moment: str) -> None:
    base, raw_new, template, old, new, duration = kill_setup
    out = base / f"out_{moment.replace('=', '_')}"
    copy_warehouse(template, out)
    assert snapshot(out) == old
    proc = start_build(raw_new, out)
    kind, value = moment.split("=")
    if kind == "t":
        time.sleep(duration * float(value))
        reached = proc.poll() is None
    else:
        reached = _wait_for(lambda: _phase_reached(out, value) or proc.poll() is not None, duration * 3)
        reached = reached and proc.poll() is None
    _kill_group(proc)
    # whatever the moment: the catalog opens, every view answers, and the counts are those of one state
    after = snapshot(out)
    assert after in (old, new), f"killed at {moment} (reached: {reached}): a mix of two states\n{after}"
    # and the next build completes and gives exactly what a build that was never interrupted gives
    result = xxgk_build(raw_new, out)
    assert_built(result)
    assert snapshot(out) == new
    assert not list((out / ".staging").glob("*")) or all(p.is_dir() for p in (out / ".staging").iterdir())
    assert not list(out.glob(".xxgk.duckdb.*.tmp")), "a leftover temporary catalog"


# --- concurrency -------------------------------------------------------------------------------------------


def test_build_while_a_reader_holds_the_catalog_open(kill_setup) -> None:
    base, raw_new, template, old, new, _ = kill_setup
    out = base / "out_reader"
    copy_warehouse(template, out)
    reader = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM main.reports").fetchone()[0] == old["main.reports"]
        proc = start_build(raw_new, out)
        answered = 0
        while proc.poll() is None:  # the reader keeps answering while the build runs
            reader.execute("SELECT count(*) FROM main.disclosure_counts").fetchone()
            answered += 1
            time.sleep(0.05)
        stdout, stderr = proc.communicate()
        assert proc.returncode == 0, f"{stdout}\n{stderr}"
        assert answered > 0
        reader.execute("SELECT count(*) FROM main.outcomes").fetchone()  # still usable after the swap
    finally:
        reader.close()
    assert snapshot(out) == new  # a new connection sees the new build


def test_two_builds_at_once_one_waits_or_refuses_clearly(kill_setup) -> None:
    base, raw_new, template, _old, new, _ = kill_setup
    out = base / "out_two"
    copy_warehouse(template, out)
    first, second = start_build(raw_new, out), start_build(raw_new, out)
    results = []
    for proc in (first, second):
        stdout, stderr = proc.communicate(timeout=BUILD_TIMEOUT)
        results.append((proc.returncode, stdout, stderr))
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, _, stderr in results:
        if code == 2:
            assert "another build is writing" in stderr, stderr
    assert snapshot(out) == new
    again = xxgk_build(raw_new, out)
    assert_built(again)
    assert "new 0, changed 0" in again.stdout, again.stdout


def parquet_state(out: Path) -> dict[str, int]:
    """Rows per table as a direct Parquet reader sees them (`<out>/parquet/<table>/**`), and registry rows."""
    con = duckdb.connect()
    try:
        state = {
            t: con.execute(
                f"SELECT count(*) FROM read_parquet('{out / 'parquet' / t}/**/*.parquet', union_by_name = true)"
            ).fetchone()[0]
            for t in CORE
        }
        registry = out / "registry.parquet"
        state["registry"] = con.execute(f"SELECT count(*) FROM read_parquet('{registry}')").fetchone()[0]
        return state
    finally:
        con.close()


def die_at(stage: str, raw: Path, out: Path, logs: Path) -> None:
    """Run `xxgk build`, which kills itself with SIGKILL when it reaches `stage` (XXGK_TEST_CRASH_AT)."""
    env = {**os.environ, "XXGK_WORKERS": "2", "XXGK_TEST_CRASH_AT": stage}
    with (logs / f"{stage}.out").open("w") as stdout, (logs / f"{stage}.err").open("w") as stderr:
        proc = subprocess.Popen(
            [*XXGK, "build", "--raw", str(raw), "--out", str(out)],
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=BUILD_TIMEOUT)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # what is left of its process group
    assert code == -signal.SIGKILL, f"the build did not die at {stage} ({code}): {(logs / f'{stage}.err').read_text()}"


def unfinished_snapshots(out: Path) -> set[str]:
    """Snapshot folders that were never committed: not in the chain current → previous → …"""
    chain, name = set(), os.path.basename(os.readlink(out / "current"))
    while name and name not in chain and (out / "snapshots" / name).is_dir():
        chain.add(name)
        name = json.loads((out / "snapshots" / name / "snapshot.json").read_text()).get("previous")
    return {p.name for p in (out / "snapshots").iterdir()} - chain


@pytest.mark.parametrize(
    ("stage", "committed"),
    [
        ("partition-written", False),  # the first rewritten partition file of the new snapshot is written
        ("snapshot-sealed", False),  # every file of the new snapshot written and fsynced: just before the flip
        ("flipped", True),  # `current` flipped: data and registry committed, the catalog not yet rewritten
        ("catalog-replaced", True),  # the new catalog renamed into place, old snapshots not yet removed
    ],
)
def test_death_at_any_stage_of_the_commit_leaves_one_consistent_state(kill_setup, tmp_path, stage, committed) -> None:
    """A build killed (SIGKILL) at each step of the commit: the catalog and the Parquet read directly show
    the previous warehouse or the new one, every table the same one, the registry describing exactly that
    data; and the next build completes."""
    base, raw_new, template, old, new, _ = kill_setup
    old_files, new_files = parquet_state(template), parquet_state(base / "out_fresh")
    out = base / f"out_stage_{stage}"
    copy_warehouse(template, out)
    die_at(stage, raw_new, out, tmp_path)
    # the catalog: the previous warehouse until the new catalog is in place (its views name one snapshot)
    assert snapshot(out) == (new if stage == "catalog-replaced" else old)
    # direct readers and the registry: all tables from one snapshot, the new one exactly after the flip
    assert parquet_state(out) == (new_files if committed else old_files)
    assert_built(xxgk_build(raw_new, out))
    assert snapshot(out) == new
    assert parquet_state(out) == new_files
    assert not unfinished_snapshots(out)  # the snapshot of the killed build, if unfinished, is gone


def test_old_snapshots_are_kept_for_a_while_and_unfinished_ones_removed(tmp_path: Path) -> None:
    """The current snapshot and the previous one are always kept, older committed ones while they were
    replaced less than the retention ago; a snapshot never committed (a killed build's) is removed."""
    from datetime import UTC, datetime, timedelta

    from pipelines.warehouse import snapshots

    now = datetime.now(UTC)
    chain = [("s1", None, now - timedelta(hours=50)), ("s2", "s1", now - timedelta(hours=30))]
    chain += [("s3", "s2", now - timedelta(hours=2)), ("s4", "s3", now - timedelta(hours=1))]
    chain += [("s5", "s4", now)]
    for name, previous, created in [*chain, ("unfinished", "s5", now)]:
        (tmp_path / "snapshots" / name / "parquet").mkdir(parents=True)
        manifest = {"id": name, "previous": previous, "created_at": created.isoformat()}
        (tmp_path / "snapshots" / name / "snapshot.json").write_text(json.dumps(manifest))
    (tmp_path / "current").symlink_to("snapshots/s5")
    removed = snapshots.collect_garbage(tmp_path, retain_seconds=3 * 3600)
    # s4 is the previous one; s3 was replaced (by s4) 1 h ago, s2 (by s3) 2 h ago: kept; s1 replaced 30 h ago
    assert sorted(removed) == ["s1", "unfinished"]
    assert sorted(snapshots.collect_garbage(tmp_path, retain_seconds=0)) == ["s2", "s3"]
    assert {p.name for p in (tmp_path / "snapshots").iterdir()} == {"s4", "s5"}


def to_legacy_layout(out: Path) -> None:
    """Turn a warehouse into the layout of builds before snapshots: a real `parquet/` folder and registry."""
    data, registry = out / "current" / "parquet", out / "current" / "registry.parquet"
    (out / "parquet").unlink()
    shutil.copytree(data, out / "parquet")
    (out / "registry.parquet").unlink()
    shutil.copy2(registry, out / "registry.parquet")
    (out / "current").unlink()
    shutil.rmtree(out / "snapshots")


@pytest.mark.parametrize("stage", [None, "migrate-sealed", "migrate-flipped", "migrate-registry", "migrate-parquet"])
def test_a_warehouse_without_snapshots_is_converted_safely_by_the_next_build(kill_setup, tmp_path, stage) -> None:
    base, raw_new, template, _old, new, _ = kill_setup
    old_files, new_files = parquet_state(template), parquet_state(base / "out_fresh")
    out = base / f"out_legacy_{stage}"
    copy_warehouse(template, out)
    to_legacy_layout(out)
    assert parquet_state(out) == old_files and (out / "parquet").is_dir() and not (out / "parquet").is_symlink()
    if stage is not None:
        die_at(stage, raw_new, out, tmp_path)
        assert parquet_state(out) == old_files  # converting never changes what readers see
    assert_built(xxgk_build(raw_new, out))
    assert (out / "parquet").is_symlink() and (out / "registry.parquet").is_symlink()
    assert not (out / ".parquet.legacy").exists() and not list(out.glob(".parquet.*.tmp"))
    assert snapshot(out) == new
    assert parquet_state(out) == new_files


def test_a_build_with_nothing_to_do_converts_the_layout_too(kill_setup, tmp_path) -> None:
    base, _raw_new, _template, old, _new, _ = kill_setup
    out = base / "out_legacy_unchanged"
    assert_built(xxgk_build(base / "raw_old", out))  # just before: the parser version is the same
    old_files = parquet_state(out)
    to_legacy_layout(out)
    result = xxgk_build(base / "raw_old", out)
    assert_built(result)
    assert "new 0, changed 0" in result.stdout, result.stdout
    assert (out / "parquet").is_symlink() and (out / "current").is_symlink()
    assert snapshot(out) == old
    assert parquet_state(out) == old_files


def test_a_file_unreadable_last_time_is_read_once_it_can_be(tmp_path: Path) -> None:
    """Fixing a file's permissions (or replacing a FIFO) does not change its size or mtime; the registry
    must not keep the stand-in id of an unreadable file as if the file had been hashed."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "seed.txt").write_bytes(SEED.read_bytes())
    os.mkfifo(raw / "late.txt")
    assert_built(xxgk_build(raw, out))
    first = rows(out, "SELECT status, problems FROM core.reports WHERE source_path = 'late.txt'")
    assert first == [("failed", "unreadable file: not a regular file (a FIFO (named pipe))")]
    st = os.stat(raw / "late.txt")
    (raw / "late.txt").unlink()
    (raw / "late.txt").write_bytes(b"")  # now a regular file: same size (0) and, below, the same mtime
    os.utime(raw / "late.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert_built(xxgk_build(raw, out))
    assert rows(out, "SELECT status, problems FROM core.reports WHERE source_path = 'late.txt'") == [
        ("failed", "empty file: 0 bytes")
    ]
