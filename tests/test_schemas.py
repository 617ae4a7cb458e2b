"""The table declarations: every pandera schema runs, schema failures are told apart from rule breaches,
and the vectorized rule checks find exactly the breaches the parser's per-record evaluator finds."""

from __future__ import annotations

import random
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest

from pipelines.parsing import rules as record_rules
from pipelines.parsing.parse import parse_file
from pipelines.parsing.record import Cell, ReportRecord, Source
from pipelines.warehouse.rows import PARSER_VIOLATIONS, Batch, FileInfo, now_utc
from pipelines.warehouse.validate import _schema_failures
from schemas import checks
from schemas.codes import (
    APPEAL_OUTCOME_CODES,
    APPLICATION_ROWS,
    COLUMN_CODES,
    ORG_COLUMN_CODES,
    PROCEEDING_CODES,
    proactive_keys,
)
from schemas.rules import RULE_IDS, SUM_RULES
from schemas.tables import TABLES, arrow_schema, empty_frame, pandera_schema

BREACH_KEY = ["source_path", "rule", "location", "expected", "actual"]


def frames_of(records: list[ReportRecord]) -> dict[str, pl.DataFrame]:
    batch = Batch()
    for i, record in enumerate(records):
        batch.add(record, FileInfo(record.source.path, f"{i:064x}"), "test", now_utc())
    return batch.frames()


def vectorized_breaches(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    found = [checks.breaches(t, frames[t]) for t in ("proactive", "applications", "appeals")]
    return pl.concat(found, how="vertical_relaxed").select(BREACH_KEY).sort(BREACH_KEY)


def parser_breaches(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return frames[PARSER_VIOLATIONS].select(BREACH_KEY).sort(BREACH_KEY)


def _record(name: str, template: str, rng: random.Random) -> ReportRecord:
    """A consistent report (every rule holds), figures drawn at random."""
    record = ReportRecord(Source(path=name, sha256=""), agency="测试局", year=2022, template=template)
    record.proactive = {k: Cell(rng.randint(0, 9), "x") for k in proactive_keys(template)}
    rows = APPLICATION_ROWS[template]
    outcome = [r.code for r in rows if r.category is not None]
    table: dict[str, dict[str, int]] = {}
    for code in outcome:
        table[code] = {c: rng.randint(0, 5) for c in COLUMN_CODES[:6]}
    table["outcome_total"] = {c: sum(table[o][c] for o in outcome) for c in COLUMN_CODES[:6]}
    table["carried_forward"] = {c: rng.randint(0, 3) for c in COLUMN_CODES[:6]}
    table["carried_over"] = {
        c: rng.randint(0, table["outcome_total"][c] + table["carried_forward"][c]) for c in COLUMN_CODES[:6]
    }
    table["new_received"] = {
        c: table["outcome_total"][c] + table["carried_forward"][c] - table["carried_over"][c] for c in COLUMN_CODES[:6]
    }
    for cells in table.values():
        cells["total"] = sum(cells[c] for c in COLUMN_CODES[:6])
    record.applications = {
        r.code: {c: Cell(v, str(v)) for c, v in table[r.code].items()} for r in rows
    }  # printed order
    record.appeals = {}
    for p in PROCEEDING_CODES:
        vals = {o: rng.randint(0, 4) for o in APPEAL_OUTCOME_CODES[:4]}
        vals["total"] = sum(vals.values())
        record.appeals[p] = {o: Cell(v, str(v)) for o, v in vals.items()}
    return record


def _edge_cases() -> list[ReportRecord]:
    """Records that exercise every branch of the rules: planted breaches, blank cells, missing rows,
    the subtotal column, negative figures, both formats."""
    rng = random.Random(7)
    out: list[ReportRecord] = []
    for i, template in enumerate(("2021", "2019") * 6):
        out.append(_record(f"case_{i:02d}.txt", template, rng))
    out[0].applications["granted"]["natural_person"] = Cell(
        out[0].applications["granted"]["natural_person"].value + 1, ""
    )
    out[1].applications["carried_forward"]["total"] = Cell(999, "999")
    out[2].applications["new_received"]["other_org"] = Cell(None, "")  # blank: not evaluable
    del out[3].applications["carried_over"]  # missing row: balance not applicable
    for cells in out[4].applications.values():  # the local subtotal column, one row wrong
        cells["legal_person_subtotal"] = Cell(sum(cells[c].value or 0 for c in ORG_COLUMN_CODES), "")
    out[4].applications["granted"]["legal_person_subtotal"] = Cell(12345, "12345")
    out[5].appeals["admin_review"]["total"] = Cell(77, "77")
    out[6].appeals["litigation_direct"]["pending"] = Cell(-2, "-2")
    key = next(k for k in out[7].proactive if k.endswith("|issued") or k.endswith("|produced"))
    out[7].proactive[key] = Cell(-1, "-1")
    if "20.5|administrative_licensing|items_change" in out[9].proactive:  # 2019: may be negative
        out[9].proactive["20.5|administrative_licensing|items_change"] = Cell(-3, "-3")
    out[10].applications["outcome_total"]["total"] = Cell(None, "")  # blank total
    del out[11].applications["other_processing"]  # 2019 outcome row missing
    for record in out:
        record_rules.finalize(record)
    return out


def test_every_schema_accepts_an_empty_table() -> None:
    for table in TABLES:
        pandera_schema(table).validate(empty_frame(table), lazy=True)


def test_arrow_schema_and_comments_come_from_the_declarations() -> None:
    for name, table in TABLES.items():
        schema = arrow_schema(name, with_partition=True)
        assert schema.names == list(table.column_names)
        assert all(f.metadata and f.metadata[b"comment"] for f in schema)
        assert all(" — " in c.comment for c in table.columns)


def test_rule_checks_are_declared_once_per_sum_rule() -> None:
    names = {c.name for t in TABLES for c in checks.rule_checks(t)}
    assert {r.id for r in SUM_RULES} <= names
    assert names <= set(RULE_IDS)


def test_unknown_code_and_wrong_type_are_schema_failures_not_breaches() -> None:
    frames = frames_of([_record("a.txt", "2021", random.Random(1))])
    apps = frames["applications"].with_columns(
        pl.when(pl.col("row_code") == "granted")
        .then(pl.lit("granted_typo"))
        .otherwise(pl.col("row_code"))
        .alias("row_code")
    )
    failed, _ = _schema_failures("applications", apps)
    assert failed.filter(pl.col("column") == "row_code").height == 1
    assert failed["source_path"].to_list() == ["a.txt"]
    wrong_type = frames["appeals"].with_columns(pl.col("total").cast(pl.Utf8))
    failed, _ = _schema_failures("appeals", wrong_type)
    assert not failed.filter(pl.col("column") == "total").is_empty()
    with pytest.raises(pa.errors.SchemaErrors):
        pandera_schema("reports").validate(frames["reports"].with_columns(pl.lit("bogus").alias("status")), lazy=True)


def test_a_breach_fails_only_its_rule_check() -> None:
    records = _edge_cases()
    failed, rules = _schema_failures("applications", frames_of(records)["applications"])
    assert failed.is_empty()
    assert {"balance", "row_total", "outcome_total", "legal_person_subtotal"} <= set(rules)


def test_vectorized_checks_equal_parser_on_edge_cases() -> None:
    records = _edge_cases()
    frames = frames_of(records)
    vectorized, parser = vectorized_breaches(frames), parser_breaches(frames)
    assert parser.height >= 8, "the edge cases must plant breaches"
    assert vectorized.to_dicts() == parser.to_dicts()


def test_vectorized_checks_equal_parser_on_synthetic_reports(tmp_path: Path) -> None:
    synth = pytest.importorskip("pipelines.synth")
    reports = synth.write_corpus(tmp_path, 120, seed=3, break_rule=True)
    records = [parse_file(tmp_path / r.name, tmp_path) for r in reports]
    frames = frames_of(records)
    parser = parser_breaches(frames)
    assert parser["rule"].n_unique() >= 4, "planted breaks of several rules"
    assert vectorized_breaches(frames).to_dicts() == parser.to_dicts()


def test_vectorized_checks_are_vectorized_over_many_reports() -> None:
    """Checks scale as expressions: 2,000 reports validate in well under the parse time of one batch."""
    rng = random.Random(11)
    records = [_record(f"r{i:05d}.txt", rng.choice(("2019", "2021")), rng) for i in range(2000)]
    frames = frames_of(records)
    assert checks.breaches("applications", frames["applications"]).is_empty()
    failed, rules = _schema_failures("applications", frames["applications"])
    assert failed.is_empty() and not rules


def test_one_evaluation_gives_pandera_the_same_outcome_as_evaluating_again(tmp_path: Path) -> None:
    """`checks.evaluate` evaluates each rule once; pandera's rule checks then read its per-row outcome.
    They must fail exactly the rows the checks fail when they evaluate the rules themselves."""
    synth = pytest.importorskip("pipelines.synth")
    reports = synth.write_corpus(tmp_path, 120, seed=5, break_rule=True)
    frames = frames_of([parse_file(tmp_path / r.name, tmp_path) for r in reports] + _edge_cases())
    for table in checks.RULE_CHECKED_TABLES:
        evaluation = checks.evaluate(table, frames[table])
        assert evaluation.checked.drop(pl.selectors.starts_with(checks.OUTCOME_PREFIX)).equals(frames[table])
        once, again = _schema_failures(table, evaluation.checked), _schema_failures(table, frames[table])
        assert once[0].is_empty() and again[0].is_empty()
        assert once[1] == again[1]
    assert sum(_schema_failures("applications", frames["applications"])[1].values()) > 0, "planted breaks"
