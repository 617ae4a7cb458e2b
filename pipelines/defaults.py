"""Default folders of the warehouse, Dagster-free: `xxgk` reads them before it imports anything heavy (its
build starts the parser processes before it imports Dagster). `pipelines.resources` uses the same."""

DEFAULT_RAW_DIR = "data/raw"
DEFAULT_OUT_DIR = "data/warehouse"
