"""The whole warehouse, built by materializing the real Dagster assets in-process (real parser, real
pandera, real Parquet, real DuckDB) over the seed reports plus a synthetic corpus with known truth."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import copy_seeds, metadata, query, run_build

from pipelines.warehouse.catalog import ANALYTIC_VIEWS
from pipelines.warehouse.registry import read_registry
from schemas.codes import APPEAL_OUTCOME_CODES, COLUMN_CODES
from schemas.tables import TABLES

synth = pytest.importorskip("pipelines.synth")

N_SYNTH = 300
EVIL_AGENCY = '某某局\'; DROP VIEW reports; --"引号"'


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("warehouse")
    raw, out = base / "raw", base / "out"
    copy_seeds(raw)
    reports = synth.write_corpus(raw / "synth", N_SYNTH, seed=11)
    # a copy of a synthetic report under another name: one report, two files
    original = next(r for r in reports if r.break_rule is None and not r.truncated)
    (raw / "synth_copies").mkdir()  # sorts after synth/: the copy comes second in path order
    shutil.copy2(raw / "synth" / original.name, raw / "synth_copies" / original.name)
    # an agency name with quotes and semicolons, from a sidecar
    evil = synth.generate_report(424242, break_rule=False, truncated=False)
    (raw / "evil.txt").write_bytes(evil.data)
    (raw / "evil.txt.meta.json").write_text(json.dumps({"agency": EVIL_AGENCY, "year": 2022}), encoding="utf-8")
    # files that are not reports
    (raw / "empty.txt").write_bytes(b"")
    (raw / "garbage.html").write_bytes(bytes(range(256)) * 4)
    result = run_build(raw, out)
    return {"raw": raw, "out": out, "reports": reports, "original": original, "result": result}


def _files(raw: Path) -> list[Path]:
    from pipelines.warehouse.registry import list_raw_files

    return list_raw_files(raw)


def test_build_succeeds_and_every_check_passes(corpus: dict) -> None:
    result = corpus["result"]
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["schema"].passed
    assert evaluations["parser_agreement"].passed
    assert evaluations["views_answer"].passed
    assert evaluations["comments"].passed
    assert not evaluations["rules"].passed  # breaches were planted: recorded, not blocking


def test_one_reports_row_per_input_file(corpus: dict) -> None:
    files = _files(corpus["raw"])
    rows = query(corpus["out"], "SELECT source_path, status, problems FROM core.reports ORDER BY source_path")
    assert [r[0] for r in rows] == sorted(f.relative_to(corpus["raw"]).as_posix() for f in files)
    by_path = {r[0]: r for r in rows}
    assert by_path["empty.txt"][1] == "failed" and by_path["empty.txt"][2]
    assert by_path["garbage.html"][1] == "failed" and by_path["garbage.html"][2]


def test_figures_equal_the_generators_truth(corpus: dict) -> None:
    out = corpus["out"]
    con = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    apps = {}
    for rid, row, *values in con.execute(
        f"SELECT report_id, row_code, {', '.join(COLUMN_CODES)}, legal_person_subtotal FROM core.applications"
    ).fetchall():
        cells = dict(zip((*COLUMN_CODES, "legal_person_subtotal"), values, strict=True))
        if cells["legal_person_subtotal"] is None:
            del cells["legal_person_subtotal"]
        apps.setdefault(rid, {})[row] = cells
    proactive: dict[str, dict] = {}
    for rid, key, value in con.execute(
        "SELECT report_id, item || '|' || subject || '|' || metric, value FROM core.proactive"
    ).fetchall():
        proactive.setdefault(rid, {})[key] = value
    appeals: dict[str, dict] = {}
    for rid, proceeding, *values in con.execute(
        f"SELECT report_id, proceeding, {', '.join(APPEAL_OUTCOME_CODES)} FROM core.appeals"
    ).fetchall():
        appeals.setdefault(rid, {})[proceeding] = dict(zip(APPEAL_OUTCOME_CODES, values, strict=True))
    meta = {
        r[0]: r[1:]
        for r in con.execute("SELECT source_path, agency, report_year, template FROM core.reports").fetchall()
    }
    con.close()
    compared = 0
    for report in corpus["reports"]:
        rid = hashlib.sha256(report.data).hexdigest()
        truth = report.truth
        assert meta[f"synth/{report.name}"] == (truth["agency"], truth["year"], truth["template"]), report.name
        assert apps.get(rid, {}) == truth["applications"], report.name
        assert proactive.get(rid, {}) == pytest.approx(truth["proactive"]), report.name
        assert appeals.get(rid, {}) == truth["appeals"], report.name
        compared += 1
    assert compared == N_SYNTH


def test_planted_breaches_are_in_core_violations(corpus: dict) -> None:
    out = corpus["out"]
    found = {(rid, rule) for rid, rule in query(out, "SELECT report_id, rule FROM core.violations")}
    planted = [r for r in corpus["reports"] if r.break_rule]
    assert len(planted) >= 20
    for report in planted:
        assert (hashlib.sha256(report.data).hexdigest(), report.break_rule) in found, report.name
        expected = {(v["rule"], v["location"]) for v in report.truth["violations"]}
        rid = hashlib.sha256(report.data).hexdigest()
        got = set(query(out, "SELECT rule, location FROM core.violations WHERE report_id = ?", [rid]))
        assert got == expected, report.name
    statuses = dict(query(out, "SELECT report_id, status FROM core.reports WHERE n_violations > 0"))
    assert set(statuses.values()) == {"invalid"}
    # the views carry them with agency and year
    (n,) = query(out, "SELECT count(*) FROM rule_violations WHERE rule <> 'carryover_continuity'")[0]
    (m,) = query(out, "SELECT count(*) FROM core.violations")[0]
    assert n == m


def test_duplicate_is_recorded_and_not_counted_twice(corpus: dict) -> None:
    out, original = corpus["out"], corpus["original"]
    rid = hashlib.sha256(original.data).hexdigest()
    rows = query(
        out,
        "SELECT source_path, duplicate_of FROM core.reports WHERE report_id = ? ORDER BY source_path",
        [rid],
    )
    assert rows == [(f"synth/{original.name}", None), (f"synth_copies/{original.name}", rid)]
    assert query(out, "SELECT count(*) FROM reports WHERE report_id = ?", [rid]) == [(1,)]
    assert query(out, "SELECT count(*) FROM disclosure_counts WHERE report_id = ?", [rid]) == [(1,)]
    n_rows = len(original.truth["applications"])
    assert query(out, "SELECT count(*) FROM core.applications WHERE report_id = ?", [rid]) == [(n_rows,)]


def test_agency_names_with_quotes_are_data(corpus: dict) -> None:
    assert query(corpus["out"], "SELECT agency FROM core.reports WHERE source_path = 'evil.txt'") == [(EVIL_AGENCY,)]
    assert query(corpus["out"], "SELECT count(*) FROM reports WHERE agency = ?", [EVIL_AGENCY]) == [(1,)]


def test_every_analytic_view_answers_and_has_comments(corpus: dict) -> None:
    out = corpus["out"]
    for view in ANALYTIC_VIEWS:
        (n,) = query(out, f"SELECT count(*) FROM main.{view}")[0]
        assert n > 0, view
    missing = query(
        out,
        "SELECT v.schema_name, v.view_name, c.column_name FROM duckdb_views() v "
        "JOIN duckdb_columns() c ON c.schema_name = v.schema_name AND c.table_name = v.view_name "
        "WHERE NOT v.internal AND (coalesce(c.comment, '') = '' OR coalesce(v.comment, '') = '')",
    )
    assert missing == []
    # the catalog's own small tables too (report identity, continuity breaches, rules, build info)
    uncommented = query(
        out,
        "SELECT t.schema_name, t.table_name, c.column_name FROM duckdb_tables() t "
        "JOIN duckdb_columns() c ON c.schema_name = t.schema_name AND c.table_name = t.table_name "
        "WHERE NOT t.internal AND (coalesce(c.comment, '') = '' OR coalesce(t.comment, '') = '')",
    )
    assert uncommented == []
    comment = query(
        out, "SELECT comment FROM duckdb_columns() WHERE table_name = 'outcomes' AND column_name = 'natural_person'"
    )
    assert comment == [("自然人 — natural persons",)]
    # core views expose exactly the declared columns
    for name, table in TABLES.items():
        cols = [r[0] for r in query(out, f"SELECT column_name FROM (DESCRIBE core.{name})")]
        assert cols == list(table.column_names)


def test_view_figures_match_the_base_tables(corpus: dict) -> None:
    out = corpus["out"]
    rows = query(
        out,
        "SELECT d.requests_new, a.total FROM disclosure_counts d "
        "JOIN core.applications a ON a.report_id = d.report_id AND a.row_code = 'new_received'",
    )
    assert rows and all(x == y for x, y in rows)
    (bad,) = query(
        out,
        "SELECT count(*) FROM appeals WHERE total - pending > 0 "
        "AND abs(correction_rate - corrected / (total - pending)) > 1e-12",
    )[0]
    assert bad == 0
    # in a report whose rules hold, the outcome shares add up to 1
    (share,) = query(
        out,
        "SELECT max(abs(s - 1)) FROM (SELECT o.report_id, sum(o.share_of_handled) AS s FROM outcomes o "
        "JOIN reports r USING (report_id) WHERE r.status = 'ok' GROUP BY ALL HAVING s IS NOT NULL)",
    )[0]
    assert share is not None and share < 1e-9


def test_parquet_layout_is_hive_by_year(corpus: dict) -> None:
    """A first build writes one part per table and year, named after its build (snapshot id)."""
    out = corpus["out"]
    part = f"part-{os.path.basename(os.readlink(out / 'current'))}.parquet"
    for table in TABLES:
        folders = sorted(p.name for p in (out / "parquet" / table).iterdir())
        assert folders and all(f.startswith("report_year=") for f in folders)
        for folder in folders:
            files = list((out / "parquet" / table / folder).glob("*.parquet"))
            assert [f.name for f in files] == [part]
            assert "report_year" not in pq.read_schema(files[0]).names
    years = {r[0] for r in query(out, "SELECT DISTINCT report_year FROM core.reports")}
    assert None in years  # empty/garbage files: unknown year
    assert (out / "parquet" / "reports" / "report_year=0" / part).exists()
    assert len(read_registry(out)) == len(_files(corpus["raw"]))


def test_catalog_opens_read_only_from_another_directory(corpus: dict, tmp_path: Path) -> None:
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('SELECT count(*) FROM reports').fetchone()[0]); "
        "print(c.execute(\"SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = 'xxgk'\").fetchone()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(corpus["out"] / "xxgk.duckdb")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    count, version = done.stdout.split()
    assert int(count) > N_SYNTH // 2
    assert version.startswith("v1."), f"written in storage format {version}, not one DuckDB 1.x reads"


def test_second_build_parses_nothing_and_rewrites_nothing(corpus: dict) -> None:
    # What makes a no-op build cheap, asserted exactly; its time against a full build is a benchmark
    # figure (benchmarks/bench_build.py: "no-op rebuild", % of full), not a timed unit test.
    second = run_build(corpus["raw"], corpus["out"])
    assert second.success
    scan = metadata(second, "raw_files")
    assert scan["files_unchanged"] == scan["files_seen"] == len(_files(corpus["raw"]))
    assert metadata(second, "parsed_reports")["files_parsed"] == 0
    assert metadata(second, "warehouse_parquet")["changed"] is False
    assert metadata(second, "duckdb_catalog")["rebuilt"] is False


def test_validating_in_many_small_groups_gives_the_same_warehouse(
    corpus: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation and commit stream the batch (groups of staged chunks, one year partition at a time): with
    groups of ~40 reports (the byte-identical copy, last in path order, lands in another group than its
    original unless that is among the last ~40 files) every partition file and the registry hold exactly the
    rows of the build above."""
    import polars as pl

    from pipelines.warehouse import validate

    monkeypatch.setattr(validate, "GROUP_REPORTS", 40)
    out = tmp_path / "out"
    assert run_build(corpus["raw"], out).success

    def rows(path: Path) -> pl.DataFrame:
        frame = pl.read_parquet(path)
        return frame.drop(c for c in ("ingested_at",) if c in frame.columns)

    def partitions(root: Path) -> dict[Path, Path]:  # a first build: one part per partition, named by build
        files = sorted((root / "parquet").rglob("*.parquet"))
        assert len({f.parent for f in files}) == len(files)
        return {f.parent.relative_to(root / "parquet"): f for f in files}

    ours, theirs = partitions(out), partitions(corpus["out"])
    assert ours.keys() == theirs.keys() and len(ours) > len(TABLES)
    for folder, part in ours.items():
        assert rows(part).equals(rows(theirs[folder])), folder
    assert rows(out / "registry.parquet").equals(rows(corpus["out"] / "registry.parquet"))
