"""Parse raw files in a process pool and stream the records into staged Parquet chunks.

Each task is a chunk of files; the worker parses them, turns the records into polars frames (not record
objects), validates them (`validate.check_chunk`) and writes them itself to
`<staging>/parsed/<table>/chunk-NNNNNN.parquet`, returning only a few numbers. Nothing of the batch travels
back through a pipe or stays in the build process: memory is one chunk per worker whatever the batch size,
and the writes run in parallel with the parsing.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import multiprocessing.forkserver
import os
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pipelines.parsing.limits import resolve
from pipelines.parsing.parse import NO_SIDECAR, PARSER_VERSION, parse_file, read_sidecar
from pipelines.parsing.runtime import configure_worker_gc, worker_gc
from pipelines.warehouse.registry import unreadable_id
from pipelines.warehouse.rows import STAGED_TABLES, Batch, FileInfo, now_utc, staging_schema

PARSED_DIR = "parsed"
#: files per parse task (at most; `chunk_sizes` makes chunks smaller for small batches and at the end of a
#: large one). A chunk has a fixed cost: its staged writes (~5 ms) and above all its validation
#: (`validate.check_chunk`: pandera runs ~200 small queries per chunk, ~50 ms whatever the chunk's size).
#: check_chunk CPU per report, 4,096 staged corpus reports: 0.071 ms in chunks of 1,024, 0.048 in chunks of
#: 2,048, 0.044 in chunks of 4,096 (parse + validation, earlier: 14.8 CPU-s in chunks of 256, 11.1-11.8 s in
#: chunks of 1,024).
CHUNK_FILES = 2048
#: at least this many tasks per worker (the end of the build is balanced to within one small chunk)
MIN_TASKS_PER_WORKER = 4
#: the smallest chunk of a large batch's tail, as a fraction of the largest
TAIL_FRACTION = 8


@dataclass(frozen=True, slots=True)
class Job:
    raw_root: str
    source_path: str
    #: the registry scan's hash (None for a new file: the parser hashes what it reads)
    sha256: str | None
    #: the parent's parser version: a worker started after a code edit must not record another one
    parser_version: str
    #: the registry scan saw a sidecar beside the file (else region and URL are not looked for)
    has_sidecar: bool = True


@dataclass(frozen=True, slots=True)
class ChunkDone:
    """What a worker reports for one chunk (its rows are on disk)."""

    files: int
    #: CPU seconds the worker spent on the chunk (parse, frames, writes)
    cpu_s: float


@dataclass
class ParseSummary:
    files: int = 0
    chunks: int = 0
    workers: int = 1
    wall_s: float = 0.0
    #: CPU seconds of the parsing processes (the build process's own when it parsed in-process)
    worker_cpu_s: float = 0.0


def _sidecar_fields(sidecar: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The sidecar's region and URL, kept beside the record (`FileInfo`)."""
    if not sidecar:
        return None, None
    region, url = sidecar.get("region"), sidecar.get("url")
    return (region if isinstance(region, str) else None, url if isinstance(url, str) else None)


def parse_chunk(jobs: Sequence[Job]) -> dict[str, pl.DataFrame]:
    """Parse a chunk of files into staged frames. Never raises for a bad file: parse_file does not."""
    batch = Batch()
    # the limits are read from the environment once per chunk, not once per file; a malformed variable is
    # left to parse_file, which then says so in every record
    limits, limits_problem = resolve(None)
    limits_given = None if limits_problem else limits
    roots: dict[str, Path] = {}
    for job in jobs:
        root = roots.get(job.raw_root)
        if root is None:
            root = roots[job.raw_root] = Path(job.raw_root)
        path = root / job.source_path
        # the sidecar is read once, for the record and for its region and URL, and only looked for where the
        # scan's folder listing found one
        sidecar = (
            read_sidecar(path, max_bytes=limits.max_sidecar_bytes, raw_root=root) if job.has_sidecar else NO_SIDECAR
        )
        record = parse_file(path, root, limits=limits_given, sidecar=sidecar)
        region, url = _sidecar_fields(sidecar[0])
        # the record's own hash of the bytes it read is the report_id; a file it could not read has none
        # (the path's stand-in id is only computed then)
        sha256 = job.sha256 or record.source.sha256 or unreadable_id(job.source_path)
        batch.add(record, FileInfo(job.source_path, sha256, region, url), job.parser_version, now_utc())
    return batch.frames()


def chunk_file(staging: Path, table: str, n: int) -> Path:
    return staging / PARSED_DIR / table / f"chunk-{n:06d}.parquet"


def stage_chunk(jobs: Sequence[Job], staging: str, n: int) -> ChunkDone:
    """Parse chunk `n`, validate it (`validate.check_chunk`: the per-report checks, in parallel across
    workers) and write its staged Parquet files (in a worker process). Every table gets a file, empty or
    not, so a chunk's files line up across tables."""
    from pipelines.warehouse.validate import check_chunk  # (validate reads what this module stages)

    started = time.process_time()
    for table, frame in check_chunk(parse_chunk(jobs)).items():
        # staged files are read once, whole, by the same build: fast compression, no statistics
        frame.write_parquet(chunk_file(Path(staging), table, n), compression="lz4", statistics=False)
    return ChunkDone(len(jobs), time.process_time() - started)


def staged_chunks(staging: Path) -> list[str]:
    """Names of the staged chunks (`chunk-NNNNNN.parquet`), in order."""
    return sorted(p.name for p in (staging / PARSED_DIR / "reports").glob("chunk-*.parquet"))


def staged_rows(staging: Path, table: str, chunk: str) -> int:
    """Rows of `table` in one staged chunk, from its Parquet footer (nothing else is read)."""
    return pq.read_metadata(staging / PARSED_DIR / table / chunk).num_rows


def read_staged(
    staging: Path, table: str, chunks: Sequence[str] | None = None, columns: list[str] | None = None
) -> pl.DataFrame:
    """Staged rows of `table`: of the given chunks (default: all), optionally only some columns."""
    names = staged_chunks(staging) if chunks is None else chunks
    files = [f for f in (staging / PARSED_DIR / table / name for name in names) if f.exists()]
    schema = staging_schema(table)
    if columns is not None:
        schema = pl.Schema({c: schema[c] for c in columns})
    if not files:
        return pl.DataFrame(schema=schema)
    frames = [pl.read_parquet(f, columns=columns) for f in files]
    return pl.concat(frames, how="vertical_relaxed", rechunk=True).cast(schema)  # type: ignore[arg-type]


def _pool_context() -> multiprocessing.context.BaseContext:
    """forkserver, not fork: the parent (a Dagster run, polars) is multi-threaded and fork could deadlock.
    Not spawn either: a spawned worker imports this module (polars, pandera, pandas: seconds of CPU) before
    its first file. The fork server is a fresh single-threaded process that imports it once (and pandera, which
    validates each chunk); workers are forked from it ready to parse (measured: 200 files on 2 workers,
    18-24 s with spawn, 7 s here).

    pandera imports its polars backend (its built-in checks, which import hypothesis) only at the first
    `validate`: preloaded too, or every worker paid it in its first chunk (~70-100 ms of CPU per worker).
    A module the installed pandera lacks is skipped by the fork server (an ImportError there is ignored)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__, "pipelines.warehouse.validate", "pandera.polars", *_PANDERA_POLARS_BACKEND])
    return ctx


#: what `pandera.backends.polars.register` imports at the first validation (nothing of it runs polars
#: queries, so the fork server stays single-threaded)
_PANDERA_POLARS_BACKEND = (
    "pandera.backends.polars.builtin_checks",
    "pandera.backends.polars.checks",
    "pandera.backends.polars.components",
    "pandera.backends.polars.container",
)


def worker_count(configured: int = 0) -> int:
    """Parser processes: `configured`, else `XXGK_WORKERS`, else one per CPU (at most 16)."""
    return configured or int(os.environ.get("XXGK_WORKERS") or 0) or min(os.cpu_count() or 1, 16)


def start_parser_processes(workers: int) -> None:
    """Start the fork server of the parser processes now, without waiting for it: it imports the parser,
    polars and pandera (~1.4 s of one CPU) while the caller does other work, such as the registry scan, and
    `parse_to_staging` then forks its workers from it at once. Nothing to start for one worker (parsing runs
    in this process). Safe to call more than once."""
    if workers > 1:
        _pool_context()
        multiprocessing.forkserver.ensure_running()


def chunk_size_for(files: int, workers: int, largest: int = CHUNK_FILES) -> int:
    """Files per task: `largest`, or fewer so that every worker gets MIN_TASKS_PER_WORKER tasks."""
    return max(1, min(largest, math.ceil(files / (workers * MIN_TASKS_PER_WORKER))))


def chunk_sizes(files: int, workers: int, largest: int = CHUNK_FILES) -> list[int]:
    """Files of each task, in order of submission.

    A small batch (fewer than MIN_TASKS_PER_WORKER chunks of `largest` per worker) is cut in equal chunks
    (`chunk_size_for`). A large one gets chunks of `largest` until its tail, where each chunk is a quarter
    of what remains per worker, down to `largest / TAIL_FRACTION` ("guided" scheduling): large chunks pay
    the per-chunk validation cost rarely, and the last tasks are small, so no worker parses a whole large
    chunk alone while the others wait at the end (50,000 files on 2 workers: 21 chunks of 2,048, then 11
    from 1,748 down to 256 and a last one of 164, instead of 49 of 1,024). One worker has no one to wait
    for: equal chunks."""
    size = chunk_size_for(files, workers, largest)
    if size < largest or workers <= 1:
        return [size] * (files // size) + ([files % size] if files % size else [])
    smallest = max(1, largest // TAIL_FRACTION)
    sizes: list[int] = []
    remaining = files
    while remaining > 0:
        size = min(remaining, largest, max(smallest, math.ceil(remaining / (2 * workers))))
        sizes.append(size)
        remaining -= size
    return sizes


def parse_to_staging(
    raw_root: Path,
    files: Sequence[tuple[str, str | None]],
    staging: Path,
    *,
    workers: int | None = None,
    chunk_size: int = CHUNK_FILES,
    with_sidecar: Collection[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ParseSummary:
    """Parse `files` ((source_path, sha256 or None when the scan did not hash it) pairs) into staged Parquet
    under `staging`.

    `with_sidecar`: the source paths the registry scan found a sidecar for (None: look beside every file).
    With one worker (or few files) parsing runs in this process: a pool costs more than it saves there.
    """
    started = time.perf_counter()
    from pipelines.warehouse.validate import CHECKED_TABLES

    for table in (*STAGED_TABLES, *CHECKED_TABLES):
        (staging / PARSED_DIR / table).mkdir(parents=True, exist_ok=True)
    workers = workers or worker_count()
    sidecars = None if with_sidecar is None else set(with_sidecar)
    jobs = [Job(str(raw_root), p, s, PARSER_VERSION, sidecars is None or p in sidecars) for p, s in files]
    starts = list(itertools.accumulate(chunk_sizes(len(jobs), workers, chunk_size), initial=0))
    chunks = [jobs[a:b] for a, b in itertools.pairwise(starts)]
    summary = ParseSummary(files=len(jobs), chunks=len(chunks), workers=workers)

    def done(result: ChunkDone) -> None:
        summary.worker_cpu_s += result.cpu_s
        if progress:
            progress(result.files)

    if workers <= 1 or len(chunks) <= 1:
        summary.workers = 1
        if chunks:  # (nothing to parse, e.g. a no-op build: no regime to set up, which costs a full collection)
            with worker_gc():  # the parser processes' regime, in this process for the stretch of parsing
                for n, chunk in enumerate(chunks):
                    done(stage_chunk(chunk, str(staging), n))
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(), initializer=configure_worker_gc)
        try:
            # a bounded window of tasks in flight: finished futures are dropped, not kept to the end
            todo = iter(enumerate(chunks))
            running: set[Future[ChunkDone]] = set()
            for n, chunk in todo:
                running.add(pool.submit(stage_chunk, chunk, str(staging), n))
                if len(running) >= 2 * workers:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        done(fut.result())
            for fut in running:
                done(fut.result())
        except BaseException:
            pool.shutdown(wait=True)  # a chunk failed: the others still running finish before the error goes up
            raise
        # every chunk is written: the idle workers exit on their own while the build goes on (waiting for them
        # cost ~0.1 s of every build that parses)
        pool.shutdown(wait=False)
    summary.wall_s = time.perf_counter() - started
    return summary
