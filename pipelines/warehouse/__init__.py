"""Dagster-free warehouse I/O: file registry, parsing into staged batches, validation, Hive-partitioned
Parquet partitions and the DuckDB catalog. The Dagster assets in `assets/` are thin wrappers around it."""
