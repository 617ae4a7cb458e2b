"""The `xxgk` command line.

- `xxgk build [--raw DIR] [--out DIR] [--full-refresh]`: the same Dagster assets as the nightly schedule,
  materialized in this process; progress bar while parsing; a summary at the end. Exit 0 when the run
  completed (reports breaking rules are data, not errors); 1 when it did not (a schema failure, an I/O
  error); 2 when another build holds the warehouse.
- `xxgk parse FILE… [--json]`: parse without writing anything.
- `xxgk catalog [--out DIR]`: rewrite the DuckDB catalog only (e.g. after moving the warehouse folder).
- `xxgk report [--warehouse DIR] [--out FILE]`: the HTML quality page (pipelines.analytics).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: when this process started its work (the console script imports this module first): stage timings count
#: the start-up (Python, Dagster imports, the run's set-up) from here
_STARTED_AT = time.time()


def materialization_metadata(result: Any, node: str) -> dict[str, Any]:
    """Plain values of the metadata of an asset materialized in `result` ({} when it did not run)."""
    events = result.asset_materializations_for_node(node)
    if not events:
        return {}
    return {k: getattr(v, "value", v) for k, v in events[-1].metadata.items()}


def _check_failures(result: Any) -> list[str]:
    """Blocking (ERROR) asset checks that failed, with their metadata."""
    return [
        f"check {e.check_name} failed: { {k: getattr(v, 'value', v) for k, v in e.metadata.items()} }"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "ERROR"
    ]


def build(raw: Path, out: Path, *, full_refresh: bool, workers: int, quiet: bool = False) -> int:
    try:
        return _build(raw, out, full_refresh=full_refresh, workers=workers, quiet=quiet)
    finally:
        gc.unfreeze()  # what `_build` froze (a caller's objects too, e.g. a test's) can be collected again


def _build(raw: Path, out: Path, *, full_refresh: bool, workers: int, quiet: bool) -> int:
    # The imports below (and the instance's storage, which Dagster imports when it is created) make ~220,000
    # objects the collector tracks and almost no garbage: with the collector on, CPython runs ~500 collections
    # over them as they pile up (~1,300 objects freed; 0.13-0.25 s of CPU of the start-up). Once made they are
    # frozen (never garbage, out of the collector's sight), so the run's own collections stay short too.
    gc.disable()
    try:
        from pipelines.warehouse import ingest

        # the parser processes' own imports (~1.4 s of a CPU) overlap Dagster's below and the registry scan
        ingest.start_parser_processes(ingest.worker_count(workers))
        # Imported here: `xxgk parse` should not pay for importing Dagster.
        from dagster import DagsterInstance, RunConfig, materialize

        from assets.warehouse import WAREHOUSE_ASSETS, BuildConfig
        from pipelines.resources import WarehouseResource
        from pipelines.warehouse.lock import WarehouseBusy, build_lock

        started = time.perf_counter()
        if not raw.is_dir():
            print(f"xxgk build: raw folder {raw} does not exist", file=sys.stderr)
            return 1
        instance = DagsterInstance.ephemeral()
    finally:
        gc.freeze()
        gc.enable()
    resource = WarehouseResource(
        raw_dir=str(raw.resolve()),
        out_dir=str(out.resolve()),
        workers=workers,
        show_progress=not quiet and sys.stderr.isatty(),
        lock_wait_seconds=0,
    )
    try:
        with instance, build_lock(out.resolve()):
            result = materialize(
                WAREHOUSE_ASSETS,
                instance=instance,
                resources={"warehouse": resource},
                run_config=RunConfig(
                    ops={"raw_files": BuildConfig(full_refresh=full_refresh)},
                    loggers={"console": {"config": {"log_level": "WARNING"}}},
                ),
                raise_on_error=False,
            )
            stages = _step_seconds(instance, result.run_id)
    except WarehouseBusy as exc:
        print(f"xxgk build: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    scan, parsed, validated, final = (
        materialization_metadata(result, node)
        for node in ("raw_files", "parsed_reports", "validated_tables", "duckdb_catalog")
    )
    if not quiet:
        _print_summary(scan, parsed, validated, final, elapsed)
        print(_stages_line(stages, parsed))
    if not result.success or not final:
        for failure in _check_failures(result):
            print(f"xxgk build: {failure}", file=sys.stderr)
        for event in result.all_events:
            if event.is_step_failure:
                error = event.event_specific_data.error
                print(f"xxgk build: step {event.step_key} failed: {error.message.strip()}", file=sys.stderr)
        print("xxgk build: the run did not complete; the warehouse was left as it was", file=sys.stderr)
        return 1
    return 0


def _step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Wall seconds of each step of the run (from its event log), plus `start-up`: from this process's start
    to the first step (Python and Dagster imports, the run's set-up)."""
    starts: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            seconds[event.step_key] = entry.timestamp - starts[event.step_key]
    if starts:
        seconds = {"start-up": min(starts.values()) - _STARTED_AT, **seconds}
    return seconds


def _stages_line(stages: dict[str, float], parsed: dict) -> str:
    """Where the build's time went: wall seconds per step, the parser processes' CPU, this process's CPU."""
    parts = []
    for step, seconds in stages.items():
        part = f"{step} {seconds:.1f}s"
        if step == "parsed_reports" and parsed.get("parse_cpu_seconds") is not None:
            part += f" (parser CPU {parsed['parse_cpu_seconds']}s, {parsed.get('parse_workers')} workers)"
        parts.append(part)
    return f"stages: {', '.join(parts)}; build process CPU {time.process_time():.1f}s"


def _print_summary(scan: dict, parsed: dict, validated: dict, final: dict, elapsed: float) -> None:
    from schemas.codes import STATUSES

    def g(d: dict, k: str) -> int:
        return int(d.get(k) or 0)

    lines = [
        f"files seen {g(scan, 'files_seen')}: new {g(scan, 'files_new')}, changed {g(scan, 'files_changed')}, "
        f"unchanged {g(scan, 'files_unchanged')}, re-read {g(scan, 'files_reparse')}, "
        f"removed {g(scan, 'files_removed')}",
    ]
    n = g(parsed, "files_parsed")
    if n:
        by_status = ", ".join(f"{s} {g(parsed, f'parsed_{s}')}" for s in STATUSES)
        lines.append(f"parsed {n} files in {parsed.get('parse_seconds', 0)}s: {by_status}")
        if g(validated, "duplicates"):
            lines.append(f"duplicates of reports already loaded: {g(validated, 'duplicates')}")
    else:
        lines.append("parsed 0 files: nothing new or changed")
    if final:
        total = g(final, "reports_total")
        by_status = ", ".join(f"{s} {g(final, f'reports_{s}')}" for s in STATUSES)
        lines.append(f"warehouse: {total} reports: {by_status}; duplicates {g(final, 'duplicates')}")
        breaches = {k.removeprefix("breaches_"): v for k, v in final.items() if k.startswith("breaches_")}
        shown = ", ".join(f"{r} {n}" for r, n in sorted(breaches.items())) or "none"
        lines.append(f"breaches by rule: {shown}")
        lines.append(f"catalog: {final.get('path')}")
    lines.append(f"done in {elapsed:.1f}s")
    print("\n".join(lines))


def _describe(record: Any) -> str:
    data = record.to_json()
    lines = [
        f"{data['source']['path']}",
        f"  agency   {data['agency'] or '(unknown)'}",
        f"  year     {data['year'] if data['year'] is not None else '(unknown)'}",
        f"  template {data['template']}   status {data['status']}   format {data['source']['format']}"
        f"   encoding {data['source']['encoding']}",
        f"  tables   table2 {len(data['proactive'])} cells, table3 {len(data['applications'])} rows, "
        f"table4 {len(data['appeals'])} proceedings",
    ]
    if data["problems"]:
        lines.append(f"  problems {data['problems']}")
    for v in data["violations"]:
        lines.append(f"  breach   {v['rule']} at {v['location']}: expected {v['expected']}, found {v['actual']}")
    return "\n".join(lines)


def parse(files: Sequence[Path], *, as_json: bool) -> int:
    from pipelines.parsing.parse import parse_file

    for path in files:
        record = parse_file(path)
        if as_json:
            print(json.dumps(record.to_json(), ensure_ascii=False))
        else:
            print(_describe(record))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # Not `pipelines.resources`, which imports Dagster: a build starts its parser processes before that
    # (see `build`), and `xxgk parse` never needs it.
    from pipelines.defaults import DEFAULT_OUT_DIR, DEFAULT_RAW_DIR

    parser = argparse.ArgumentParser(prog="xxgk", description="Government information-disclosure annual reports")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build or update the warehouse (the Dagster assets, in this process)")
    b.add_argument("--raw", type=Path, default=Path(DEFAULT_RAW_DIR), help=f"raw reports (default {DEFAULT_RAW_DIR})")
    b.add_argument("--out", type=Path, default=Path(DEFAULT_OUT_DIR), help=f"warehouse (default {DEFAULT_OUT_DIR})")
    b.add_argument("--full-refresh", action="store_true", help="hash and parse every file again")
    b.add_argument("--workers", type=int, default=0, help="parser processes (default: one per CPU, max 16)")
    b.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p = sub.add_parser("parse", help="parse report files without writing the warehouse")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per file (ReportRecord.to_json())")
    c = sub.add_parser("catalog", help="rewrite the DuckDB catalog (e.g. after moving the warehouse folder)")
    c.add_argument("--out", type=Path, default=Path(DEFAULT_OUT_DIR))
    r = sub.add_parser("report", help="write the HTML quality page of a built warehouse")
    r.add_argument("--warehouse", type=Path, default=Path(DEFAULT_OUT_DIR))
    r.add_argument("--out", type=Path, default=None, help="default <warehouse>/quality.html")
    args = parser.parse_args(argv)
    if args.command == "build":
        code = build(args.raw, args.out, full_refresh=args.full_refresh, workers=args.workers, quiet=args.quiet)
        if argv is None:
            # The console command: every file is closed, the lock released and the output flushed here.
            # Skip the interpreter's teardown of Dagster/polars/DuckDB modules (1–2 s on every run).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        return code
    if args.command == "parse":
        return parse(args.files, as_json=args.json)
    if args.command == "catalog":
        from pipelines.parsing.parse import PARSER_VERSION
        from pipelines.warehouse.catalog import build_catalog
        from pipelines.warehouse.lock import build_lock
        from pipelines.warehouse.registry import registry_token

        out = args.out.resolve()
        with build_lock(out):
            print(build_catalog(out, PARSER_VERSION, registry_token(out)))
        return 0
    from pipelines.analytics.quality_report import write_quality_report

    print(write_quality_report(args.warehouse, args.out or args.warehouse / "quality.html"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
