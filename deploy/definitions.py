"""Code location for a cluster: the same warehouse assets, plus publishing the result to object storage.

    dagster api grpc -f deploy/definitions.py     # what the Helm user deployment runs (values.yaml)
    dagster dev -f deploy/definitions.py          # the same thing on one machine

Nothing is read at import time. Every location is configuration, resolved when a run starts in its pod:

- `XXGK_RAW_DIR`  — raw reports: a POSIX path (a volume mounted in the run's pod);
- `XXGK_OUT_DIR`  — the warehouse: a POSIX path on a volume (year partitions are swapped in with
  `os.replace` and one writer is enforced with `flock`; object stores have neither);
- `XXGK_WORKERS`  — parser processes, = the CPUs the pod requests (read by `WarehouseResource`);
- `XXGK_PUBLISH_URI` — where readers find it: `s3://bucket/prefix` (or `gs://`, `hdfs://`, `file://`).
"""

import importlib.util
import sys
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    ConfigurableResource,
    DefaultScheduleStatus,
    Definitions,
    EnvVar,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    asset,
    define_asset_job,
    in_process_executor,
)

from assets.warehouse import GROUP, WAREHOUSE_ASSETS, duckdb_catalog
from pipelines.resources import WarehouseResource
from pipelines.schedules import NIGHTLY_CRON, NIGHTLY_TIMEZONE

# `deploy/` is not a package (the image runs this file with `-f`): load the sibling module by path.
_spec = importlib.util.spec_from_file_location("xxgk_deploy_publish", Path(__file__).with_name("publish.py"))
assert _spec is not None and _spec.loader is not None
publish_module = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(publish_module)

#: runs carrying this tag are queued one at a time (dagster.yaml: tag_concurrency_limits)
CONCURRENCY_TAG = "xxgk/warehouse"


class PublishTarget(ConfigurableResource):
    """Where the published copy of the warehouse goes (a pyarrow filesystem URI)."""

    uri: str


@asset(
    group_name="publish",
    deps=[duckdb_catalog],
    description="The Parquet partitions and a remote-reading catalog mirrored to object storage.",
)
def published_warehouse(
    context: AssetExecutionContext, warehouse: WarehouseResource, publish_target: PublishTarget
) -> MaterializeResult:
    result = publish_module.publish(warehouse.out_path(), publish_target.uri)
    context.log.info(f"published {len(result.uploaded)} files to {publish_target.uri}")
    return MaterializeResult(
        metadata={
            "catalog": MetadataValue.url(result.catalog_uri),
            "uploaded": len(result.uploaded),
            "unchanged": result.unchanged,
            "deleted": len(result.deleted),
        }
    )


build_and_publish = define_asset_job(
    "build_and_publish",
    selection=AssetSelection.groups(GROUP) | AssetSelection.assets(published_warehouse),
    # one pod per run: the parse step fans out over the pod's CPUs with its own process pool, so a pod per
    # step (k8s_job_executor) would only add start-up time and a shared-volume hand-off
    executor_def=in_process_executor,
    tags={
        CONCURRENCY_TAG: "build",
        # the run pod's size; XXGK_WORKERS in values.yaml matches the CPU request
        "dagster-k8s/config": {
            "container_config": {
                "resources": {"requests": {"cpu": "8", "memory": "6Gi"}, "limits": {"cpu": "8", "memory": "8Gi"}}
            }
        },
    },
    description="Incremental build of the warehouse on the cluster, then publish it to object storage.",
)

nightly_build_and_publish = ScheduleDefinition(
    name="nightly_build_and_publish",
    job=build_and_publish,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=NIGHTLY_TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
)

defs = Definitions(
    assets=[*WAREHOUSE_ASSETS, published_warehouse],
    jobs=[build_and_publish],
    schedules=[nightly_build_and_publish],
    resources={
        "warehouse": WarehouseResource(raw_dir=EnvVar("XXGK_RAW_DIR"), out_dir=EnvVar("XXGK_OUT_DIR")),
        "publish_target": PublishTarget(uri=EnvVar("XXGK_PUBLISH_URI")),
    },
)
