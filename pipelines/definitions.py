"""The Dagster code location (`dagster dev`, `dg`): assets, checks, job, schedule, sensor, resources.

Nothing here reads the environment: the warehouse resource resolves its folders when a run starts.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from assets.warehouse import WAREHOUSE_ASSETS
from pipelines.resources import WarehouseResource
from pipelines.schedules import build_warehouse_job, nightly_build
from pipelines.sensors import raw_folder_sensor

defs = Definitions(
    assets=WAREHOUSE_ASSETS,
    jobs=[build_warehouse_job],
    schedules=[nightly_build],
    sensors=[raw_folder_sensor],
    resources={"warehouse": WarehouseResource()},
    # Steps hand over through the staging folder and parsing has its own process pool: a subprocess per
    # step (the default) would only add start-up time, also for materializations launched from the UI.
    executor=in_process_executor,
)
