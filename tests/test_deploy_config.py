"""The cluster configuration in deploy/ is valid, and the cluster code location really builds and publishes.

No Kubernetes here: the instance file is validated against dagster's own schema (and dagster-k8s's launcher
schema when it is installed), and the code location runs in process with its storage locations pointing at
local folders and a `file://` publish target — the same code path an `s3://` URI takes through pyarrow.fs.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import DagsterInstance
from dagster._core.instance.config import dagster_instance_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
FIXTURES = ROOT / "tests" / "fixtures"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_instance_yaml_is_valid_dagster_config() -> None:
    config, custom_class = dagster_instance_config(str(DEPLOY), "dagster.yaml")
    assert custom_class is None
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    limits = config["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert {"key": "xxgk/warehouse", "limit": 1} in limits


def test_run_launcher_config_matches_dagster_k8s_schema() -> None:
    dagster_k8s = pytest.importorskip("dagster_k8s")
    from dagster._config import process_config

    launcher = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["run_launcher"]
    result = process_config(dagster_k8s.K8sRunLauncher.config_type(), launcher["config"])
    assert result.success, result.errors


def test_helm_values_agree_with_instance_yaml_and_code_location() -> None:
    values = yaml.safe_load((DEPLOY / "values.yaml").read_text())
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    launcher = instance["run_launcher"]["config"]
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["envVars"] == launcher["env_vars"]
    deployment = values["dagster-user-deployments"]["deployments"][0]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert [f"{k}={v}" for k, v in env.items()] == launcher["env_vars"]
    assert deployment["dagsterApiGrpcArgs"][:2] == ["--python-file", "deploy/definitions.py"]
    coordinator = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert coordinator["tagConcurrencyLimits"] == instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # integration libraries 0.29.x go with dagster 1.13.x
    assert any(d.startswith("dagster>=1.13") for d in project["dependencies"])
    assert any(d.startswith("dagster-k8s==0.29.") for d in project["optional-dependencies"]["deploy"])


def test_cluster_code_location_builds_and_publishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, out, bucket = tmp_path / "raw", tmp_path / "warehouse", tmp_path / "bucket"
    raw.mkdir()
    for seed in sorted(FIXTURES.glob("00*.txt")):
        shutil.copyfile(seed, raw / seed.name)
    # the locations come from the environment of the run, exactly as in the run pod (EnvVar)
    monkeypatch.setenv("XXGK_RAW_DIR", str(raw))
    monkeypatch.setenv("XXGK_OUT_DIR", str(out))
    monkeypatch.setenv("XXGK_WORKERS", "1")
    monkeypatch.setenv("XXGK_PUBLISH_URI", bucket.as_uri())
    location = _load("xxgk_deploy_definitions", DEPLOY / "definitions.py")
    job = location.defs.resolve_job_def("build_and_publish")
    assert job.tags["xxgk/warehouse"] == "build"
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance)
    assert result.success
    n_files = len(list(raw.glob("*.txt")))
    # the local warehouse is moved away: the published catalog must read the bucket, from any directory
    shutil.move(out, tmp_path / "moved-away")
    monkeypatch.chdir(tmp_path)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{(bucket / 'xxgk.duckdb').as_uri()}' AS xxgk (READ_ONLY)")
        assert con.execute("SELECT count(*) FROM xxgk.core.reports").fetchone() == (n_files,)
        assert con.execute("SELECT count(*) FROM xxgk.main.disclosure_counts").fetchone()[0] > 0
        comment = con.execute(
            "SELECT comment FROM duckdb_views() WHERE database_name = 'xxgk' AND schema_name = 'core' "
            "AND view_name = 'reports'"
        ).fetchone()
        assert comment and comment[0]


def test_publish_uploads_only_what_changed_and_deletes_what_went(tmp_path: Path) -> None:
    """Parts are uploaded once; a part gone locally (replaced, or its year removed) is deleted after the new
    catalog is up, and that catalog's views list exactly the published parts, never a glob a replaced part
    still matches."""
    publish = _load("xxgk_deploy_publish_t", DEPLOY / "publish.py")
    out, bucket = tmp_path / "wh", tmp_path / "bucket"
    year = out / "parquet" / "reports" / "report_year=2021"
    gone = bucket / "parquet" / "reports" / "report_year=1999" / "part-a.parquet"
    year.mkdir(parents=True)
    gone.parent.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 'r1' AS report_id) TO '{year / 'part-a.parquet'}'")
        con.execute(f"COPY (SELECT 'r0' AS report_id) TO '{gone}'")  # a year no longer in the warehouse
    with duckdb.connect(str(out / "xxgk.duckdb")) as con:
        con.execute("CREATE SCHEMA core")
        con.execute(
            f"CREATE VIEW core.reports AS SELECT * FROM read_parquet('{out.resolve()}/parquet/reports/*/*.parquet', "
            "hive_partitioning = true)"
        )
        con.execute("COMMENT ON VIEW core.reports IS 'reports — one row per file'")

    def published_ids() -> list[tuple]:
        with duckdb.connect() as con:
            con.execute(f"ATTACH '{(bucket / 'xxgk.duckdb').as_uri()}' AS xxgk (READ_ONLY)")
            return con.execute("SELECT report_id, report_year FROM xxgk.core.reports ORDER BY ALL").fetchall()

    first = publish.publish(out, str(bucket))
    assert first.uploaded == ["parquet/reports/report_year=2021/part-a.parquet"]
    assert first.deleted == ["parquet/reports/report_year=1999/part-a.parquet"]
    assert published_ids() == [("r1", 2021)]
    second = publish.publish(out, str(bucket))
    assert second.uploaded == [] and second.unchanged == 1

    # an incremental build: one part added (only it is uploaded) ...
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 'r2' AS report_id) TO '{year / 'part-b.parquet'}'")
    third = publish.publish(out, str(bucket))
    assert third.uploaded == ["parquet/reports/report_year=2021/part-b.parquet"] and third.unchanged == 1
    assert published_ids() == [("r1", 2021), ("r2", 2021)]
    # ... then both replaced by one compacted part: the old ones are still published when the catalog is
    # uploaded, and a glob would read them twice; the listed views read the new part only
    (year / "part-a.parquet").unlink()
    (year / "part-b.parquet").unlink()
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * FROM (VALUES ('r1'), ('r2')) t(report_id)) TO '{year / 'part-c.parquet'}'")
    uploaded_catalog: list[list[tuple]] = []
    real_upload = publish._upload

    def upload(local: Path, fs, path: str) -> None:
        real_upload(local, fs, path)
        if path.endswith(publish.CATALOG_FILE):  # what a reader of the new catalog sees before the deletes
            assert (bucket / "parquet" / "reports" / "report_year=2021" / "part-a.parquet").exists()
            uploaded_catalog.append(published_ids())

    publish._upload = upload
    fourth = publish.publish(out, str(bucket))
    assert fourth.uploaded == ["parquet/reports/report_year=2021/part-c.parquet"]
    assert fourth.deleted == [f"parquet/reports/report_year=2021/part-{x}.parquet" for x in "ab"]
    assert uploaded_catalog == [[("r1", 2021), ("r2", 2021)]]
    assert published_ids() == [("r1", 2021), ("r2", 2021)]
