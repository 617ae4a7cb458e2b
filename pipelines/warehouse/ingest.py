"""Parse raw files in a process pool and stream the records into staged Parquet batches.

Workers parse a chunk of files each and return polars frames (not record objects); the parent appends
each chunk to `<staging>/parsed/<table>/chunk-NNNNN.parquet`. No process ever holds more than a chunk of
records as Python objects.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.parsing.parse import PARSER_VERSION, parse_file, read_sidecar
from pipelines.warehouse.rows import STAGED_TABLES, Batch, FileInfo, now_utc, staging_schema

PARSED_DIR = "parsed"


@dataclass(frozen=True, slots=True)
class Job:
    raw_root: str
    source_path: str
    sha256: str
    #: the parent's parser version: a worker started after a code edit must not record another one
    parser_version: str


def _sidecar_fields(path: Path) -> tuple[str | None, str | None]:
    sidecar, _ = read_sidecar(path)
    if not sidecar:
        return None, None
    region, url = sidecar.get("region"), sidecar.get("url")
    return (region if isinstance(region, str) else None, url if isinstance(url, str) else None)


def parse_chunk(jobs: Sequence[Job]) -> dict[str, pl.DataFrame]:
    """Parse a chunk of files (in a worker process). Never raises for a bad file: parse_file does not."""
    batch = Batch()
    for job in jobs:
        root = Path(job.raw_root)
        path = root / job.source_path
        record = parse_file(path, root)
        region, url = _sidecar_fields(path)
        batch.add(record, FileInfo(job.source_path, job.sha256, region, url), job.parser_version, now_utc())
    return batch.frames()


def read_staged(staging: Path, table: str) -> pl.DataFrame:
    files = sorted((staging / PARSED_DIR / table).glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=staging_schema(table))
    frames = [pl.read_parquet(f) for f in files]
    return pl.concat(frames, how="vertical_relaxed", rechunk=True).cast(staging_schema(table))  # type: ignore[arg-type]


def _pool_context() -> multiprocessing.context.BaseContext:
    """forkserver, not fork: the parent (a Dagster run, polars) is multi-threaded and fork could deadlock.
    Not spawn either: a spawned worker imports this module (polars, pandera, pandas: seconds of CPU) before
    its first file. The fork server is a fresh single-threaded process that imports it once; workers are
    forked from it ready to parse (measured: 200 files on 2 workers, 18-24 s with spawn, 7 s here)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def parse_to_staging(
    raw_root: Path,
    files: Sequence[tuple[str, str]],
    staging: Path,
    *,
    workers: int | None = None,
    chunk_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Parse `files` ((source_path, sha256) pairs) into staged Parquet under `staging`; returns chunks written.

    With one worker (or few files) parsing runs in this process: a pool costs more than it saves there.
    """
    for table in STAGED_TABLES:
        (staging / PARSED_DIR / table).mkdir(parents=True, exist_ok=True)
    jobs = [Job(str(raw_root), p, s, PARSER_VERSION) for p, s in files]
    chunks = [jobs[i : i + chunk_size] for i in range(0, len(jobs), chunk_size)]
    workers = workers or min(os.cpu_count() or 1, 16)

    def write(n: int, frames: dict[str, pl.DataFrame], size: int) -> None:
        for table, frame in frames.items():
            frame.write_parquet(staging / PARSED_DIR / table / f"chunk-{n:06d}.parquet")
        if progress:
            progress(size)

    if workers <= 1 or len(chunks) <= 1:
        for n, chunk in enumerate(chunks):
            write(n, parse_chunk(chunk), len(chunk))
        return len(chunks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        futures = {pool.submit(parse_chunk, chunk): (n, len(chunk)) for n, chunk in enumerate(chunks)}
        for fut in as_completed(futures):
            n, size = futures[fut]
            write(n, fut.result(), size)
    return len(chunks)
