"""The Dagster code location: definitions load, the schedule and sensor behave, a schema failure blocks
everything downstream (nothing written), and dagster.yaml keeps one build at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import copy_seeds, run_build
from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

import pipelines.warehouse.ingest as ingest
from pipelines.definitions import defs
from pipelines.parsing.parse import parse_file
from pipelines.resources import WarehouseResource
from pipelines.sensors import raw_folder_sensor

ROOT = Path(__file__).resolve().parent.parent


def test_definitions_load_with_job_schedule_sensor_and_checks() -> None:
    job = defs.resolve_job_def("build_warehouse")
    assert job is not None
    schedule = defs.resolve_schedule_def("nightly_build")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert defs.resolve_sensor_def("raw_folder_sensor") is not None
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"raw_files", "parsed_reports", "validated_tables", "warehouse_parquet", "duckdb_catalog"}
    checks = {k.name for k in graph.asset_check_keys}
    assert {"schema", "rules", "parser_agreement", "views_answer", "comments"} <= checks


def test_importing_definitions_reads_no_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XXGK_RAW_DIR", str(tmp_path / "r"))
    monkeypatch.setenv("XXGK_OUT_DIR", str(tmp_path / "o"))
    resource = WarehouseResource()
    assert resource.raw_path() == tmp_path / "r"  # resolved when asked, at run time
    assert resource.out_path() == tmp_path / "o"


def test_sensor_requests_a_run_when_files_land(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    resource = WarehouseResource(raw_dir=str(raw), out_dir=str(tmp_path / "out"))
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance, resources={"warehouse": resource})
        first = raw_folder_sensor(ctx)
        assert isinstance(first, RunRequest)  # initial state: build once
        cursor = ctx.cursor
        assert isinstance(
            raw_folder_sensor(
                build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": resource})
            ),
            SkipReason,
        )
        copy_seeds(raw)
        again = build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": resource})
        request = raw_folder_sensor(again)
        assert isinstance(request, RunRequest) and request.run_key != first.run_key


def test_dagster_yaml_limits_runs_and_keeps_storage_in_the_project() -> None:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["run_queue"]["max_concurrent_runs"] == 1
    assert config["storage"]["sqlite"]["base_dir"].startswith("data/")


def test_schema_failure_blocks_the_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the parser returns a row code the schema does not know. The blocking check fails,
    and neither the Parquet nor the registry nor the catalog is written."""

    def parse_with_unknown_code(path: Path, raw_root: Path | None = None, **options: Any):
        record = parse_file(path, raw_root, **options)
        if "granted" in record.applications:
            record.applications["granted_typo"] = record.applications.pop("granted")
        return record

    monkeypatch.setattr(ingest, "parse_file", parse_with_unknown_code)
    raw, out = tmp_path / "raw", tmp_path / "out"
    copy_seeds(raw)
    result = run_build(raw, out, workers=1, raise_on_error=False)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["schema"].passed
    assert evaluations["schema"].metadata["failures"].value >= 1
    assert not result.asset_materializations_for_node("warehouse_parquet")
    assert not result.asset_materializations_for_node("duckdb_catalog")
    assert not (out / "parquet").exists() and not (out / "registry.parquet").exists()
    assert not (out / "xxgk.duckdb").exists()
