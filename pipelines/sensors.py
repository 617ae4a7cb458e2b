"""Start a build when report files land in (or leave) the raw folder."""

import hashlib

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from pipelines.parsing.parse import sidecar_paths
from pipelines.resources import WarehouseResource
from pipelines.schedules import build_warehouse_job
from pipelines.warehouse.registry import list_raw_files


def raw_folder_fingerprint(warehouse: WarehouseResource) -> tuple[str, int]:
    """A digest of (path, size, mtime) of every report file: changes when a file is added, edited or removed.
    Sidecars count too: a new sidecar changes what a report says."""
    raw = warehouse.raw_path()
    h = hashlib.sha256()
    files = list_raw_files(raw) if raw.is_dir() else []
    for path in files:
        for candidate in (path, *sidecar_paths(path)):
            try:
                st = candidate.stat()
            except OSError:
                continue
            h.update(f"{candidate.relative_to(raw).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest(), len(files)


@sensor(
    job=build_warehouse_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests a build when the raw folder's files change (new, edited or removed reports).",
)
def raw_folder_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    digest, n = raw_folder_fingerprint(warehouse)
    if context.cursor == digest:
        return SkipReason(f"no change in {warehouse.raw_path()} ({n} report files)")
    context.update_cursor(digest)
    # run_key: the same folder state never triggers two runs
    return RunRequest(run_key=digest[:16], tags={"xxgk/trigger": "raw_folder", "xxgk/files": str(n)})
