"""Dagster resources. Configuration is read when a run starts, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from pipelines.defaults import DEFAULT_OUT_DIR, DEFAULT_RAW_DIR
from pipelines.warehouse.ingest import CHUNK_FILES, worker_count

__all__ = ["DEFAULT_OUT_DIR", "DEFAULT_RAW_DIR", "STAGING_DIR", "WarehouseResource"]

STAGING_DIR = ".staging"


class WarehouseResource(ConfigurableResource):
    """Where the raw reports are and where the warehouse goes.

    Unset fields fall back, at run time, to the environment (`XXGK_RAW_DIR`, `XXGK_OUT_DIR`,
    `XXGK_WORKERS`) and then to `data/raw` and `data/warehouse` under the working directory.
    """

    raw_dir: str | None = None
    out_dir: str | None = None
    #: parser processes; 0 = one per CPU (at most 16)
    workers: int = 0
    #: files per parse task (at most): a chunk has a fixed cost (its validation and staged writes; see
    #: `pipelines.warehouse.ingest.CHUNK_FILES`, the same default)
    chunk_size: int = CHUNK_FILES
    #: show a progress bar while parsing (the CLI turns it on)
    show_progress: bool = False
    #: how long a build waits for another build's lock before giving up
    lock_wait_seconds: float = 600.0

    def raw_path(self) -> Path:
        return Path(self.raw_dir or os.environ.get("XXGK_RAW_DIR") or DEFAULT_RAW_DIR).resolve()

    def out_path(self) -> Path:
        return Path(self.out_dir or os.environ.get("XXGK_OUT_DIR") or DEFAULT_OUT_DIR).resolve()

    def worker_count(self) -> int:
        return worker_count(self.workers)

    def staging_path(self, run_id: str) -> Path:
        """The run's private working folder (same filesystem as the warehouse, for atomic renames)."""
        return self.out_path() / STAGING_DIR / run_id
