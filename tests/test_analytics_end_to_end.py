"""Acceptance on parsed files: consecutive-year pairs with planted continuity breaks, provinces by name.

Files are written by the synthetic generator's machinery (tests/analytics_corpus.py) and read by the
real parser; the `core` tables are built from the parsed records with the columns of warehouse.md.
(The same corpus through `xxgk build` is in test_analytics_warehouse.py.)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from analytics_corpus import ContinuityCorpus, write_continuity_corpus
from analytics_support import build_catalog

from pipelines.parsing.parse import parse_file, read_sidecar
from schemas.codes import COLUMN_CODES, ROW_BY_CODE


def core_frames(raw: Path, files: list[str]) -> dict[str, pl.DataFrame]:
    reports, applications = [], []
    for name in files:
        record = parse_file(raw / name, raw).to_json()
        rid = record["source"]["sha256"]
        sidecar, _ = read_sidecar(raw / name)
        reports.append(
            {"report_id": rid, "source_path": name, "agency": record["agency"], "report_year": record["year"],
             "status": record["status"], "n_violations": len(record["violations"]), "duplicate_of": None,
             "region": (sidecar or {}).get("region")}
        )  # fmt: skip
        for order, (row, cells) in enumerate(record["applications"].items(), start=1):
            applications.append(
                {"report_id": rid, "report_year": record["year"], "row_code": row, "row_order": order,
                 "category": ROW_BY_CODE[row].category, **{c: cells.get(c) for c in COLUMN_CODES}}
            )  # fmt: skip
    empty_appeals = pl.DataFrame(
        schema={"report_id": pl.String, "report_year": pl.Int32, "proceeding": pl.String, "upheld": pl.Int64,
                "corrected": pl.Int64, "other": pl.Int64, "pending": pl.Int64, "total": pl.Int64}
    )  # fmt: skip
    return {
        "reports": pl.DataFrame(reports, infer_schema_length=None),
        "applications": pl.DataFrame(applications, infer_schema_length=None),
        "appeals": empty_appeals,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ContinuityCorpus]:
    raw = tmp_path_factory.mktemp("raw")
    return raw, write_continuity_corpus(raw, n_agencies=30, seed=2)


@pytest.fixture(scope="module")
def catalog(corpus: tuple[Path, ContinuityCorpus], tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw, written = corpus
    return build_catalog(tmp_path_factory.mktemp("wh") / "xxgk.duckdb", core_frames(raw, written.files))


def test_every_planted_continuity_break_found_none_invented(
    corpus: tuple[Path, ContinuityCorpus], catalog: Path
) -> None:
    _, written = corpus
    con = duckdb.connect(str(catalog), read_only=True)
    found = con.execute(
        "SELECT r.source_path, v.report_year, replace(v.location, 'column=', '') FROM core.continuity_violations v "
        "JOIN core.reports r USING (report_id)"
    ).fetchall()
    con.close()
    assert len(written.planted) > 10
    assert set(found) == written.planted
    assert len(found) == len(set(found))


def test_province_right_for_every_agency_whose_name_determines_one(
    corpus: tuple[Path, ContinuityCorpus], catalog: Path
) -> None:
    _, written = corpus
    con = duckdb.connect(str(catalog), read_only=True)
    got = dict(
        con.execute(
            "SELECT r.source_path, i.province FROM core.report_identity i JOIN core.reports r USING (report_id)"
        ).fetchall()
    )
    con.close()
    determined = {f: p for f, p in written.provinces.items() if p is not None}
    assert len(determined) < len(written.provinces), "the corpus has ambiguous names too"
    assert determined and all(got[f] == p for f, p in determined.items())
    # names that do not determine a province are left NULL, not guessed
    assert all(got[f] is None for f, p in written.provinces.items() if p is None)
