"""Shared test helpers: raw folders built from the fixtures, and an in-process build of the real assets."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEED_FILES = sorted(FIXTURES.glob("00?_*.txt"))
REAL_PDF = FIXTURES / "real" / "huaian_2024.pdf"


def copy_seeds(raw: Path) -> list[Path]:
    """The five seed reports and the real PDF, as the crawler leaves them."""
    raw.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(f, raw / f.name)) for f in (*SEED_FILES, REAL_PDF)]


def run_build(raw: Path, out: Path, *, full_refresh: bool = False, workers: int = 2, raise_on_error: bool = True):
    """Materialize the warehouse assets in this process (the same call as `xxgk build`)."""
    from dagster import DagsterInstance, RunConfig, materialize

    from assets.warehouse import WAREHOUSE_ASSETS, BuildConfig
    from pipelines.resources import WarehouseResource

    with DagsterInstance.ephemeral() as instance:
        return materialize(
            WAREHOUSE_ASSETS,
            instance=instance,
            resources={"warehouse": WarehouseResource(raw_dir=str(raw), out_dir=str(out), workers=workers)},
            run_config=RunConfig(
                ops={"raw_files": BuildConfig(full_refresh=full_refresh)},
                loggers={"console": {"config": {"log_level": "WARNING"}}},
            ),
            raise_on_error=raise_on_error,
        )


def metadata(result, node: str) -> dict:
    """Plain metadata values of an asset materialized in `result` (what `xxgk build` summarises)."""
    from pipelines.cli import materialization_metadata

    return materialization_metadata(result, node)


def query(out: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(out / "xxgk.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def seeds_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    copy_seeds(raw)
    return raw


@pytest.fixture
def build() -> Callable:
    return run_build
