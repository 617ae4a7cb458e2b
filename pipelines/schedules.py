"""The nightly build: 02:00 Asia/Shanghai, after agencies' sites have settled for the day."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from assets.warehouse import GROUP

#: When the nightly build runs (every deployment: local daemon or cluster).
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Asia/Shanghai"

#: The whole pipeline as one job. In-process executor: the steps hand over through the staging folder and
#: parsing has its own process pool, so a subprocess per step would only add start-up time.
build_warehouse_job = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.groups(GROUP),
    executor_def=in_process_executor,
    description="Scan the raw folder, parse what changed, validate, rewrite year partitions, rebuild the catalog.",
)

nightly_build = ScheduleDefinition(
    name="nightly_build",
    job=build_warehouse_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=NIGHTLY_TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Incremental build every night at 02:00 China time.",
)
