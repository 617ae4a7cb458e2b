-- Read the published warehouse from anywhere DuckDB runs (a laptop, a BI server), straight from object
-- storage. `deploy/publish.py` (the `published_warehouse` asset) uploads the Parquet partitions and a copy
-- of the catalog whose core views point at the bucket, so every analytic view and comment works remotely.
-- Run with: duckdb -c ".read deploy/duckdb-remote.sql"   (needs the httpfs extension and S3 credentials)

INSTALL httpfs;
LOAD httpfs;

-- credentials from the usual AWS chain (env vars, ~/.aws, instance role); for MinIO/OSS/COS add
-- ENDPOINT 'minio.example.org:9000', URL_STYLE 'path' — or use PROVIDER config with KEY_ID/SECRET
CREATE OR REPLACE SECRET xxgk_s3 (TYPE s3, PROVIDER credential_chain);

-- the catalog is a small file; DuckDB reads it (read-only) over HTTP range requests
ATTACH 's3://xxgk-warehouse/current/xxgk.duckdb' AS xxgk (READ_ONLY);
USE xxgk;

-- the usual questions (benchmarks/queries.py times these on a local warehouse)
SELECT report_year, count(*) AS reports, sum(requests_new) AS requests_new
FROM disclosure_counts GROUP BY ALL ORDER BY report_year;

-- or, without the catalog, straight from the Hive-partitioned Parquet (partition pruning on report_year)
SELECT report_year, status, count(*)
FROM read_parquet('s3://xxgk-warehouse/current/parquet/reports/*/*.parquet', hive_partitioning = true)
WHERE report_year = 2024
GROUP BY ALL;
