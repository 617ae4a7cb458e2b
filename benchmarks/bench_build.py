"""Build benchmark: full build, incremental build and the floor, on a synthetic corpus; then the queries.

One command:

    python benchmarks/bench_build.py --n 10000

1. generates N synthetic reports with `pipelines.synth.write_corpus` (cached under `benchmarks/out/corpus/`);
2. times the FLOOR — one process that only reads every file, decodes it and finds every number in it;
3. times a FULL build (`xxgk build --raw … --out …` as a subprocess, pinned to `--workers` CPUs) and, for
   each other CPU count in `--workers`, the same full build on `--workers-n` reports (1 vs 2 cores);
4. times a NO-OP rebuild (nothing changed) and an INCREMENTAL build after adding `--increment-pct` % new
   reports;
5. times the usual queries through the analytic views (on this warehouse, or on a separate one of
   `--query-n` reports).

Wall time, reports/s, peak memory of the build's whole process tree (RSS and PSS sums, see `harness.py`),
and the ratios build/floor and incremental/full are printed as a markdown table and written to
`benchmarks/out/bench_build-<N>-<timestamp>.json` (and `bench_build-latest.json`).
All timings are with a warm OS page cache (the corpus was just written or read by the floor).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Measured, report_files, run_measured
from queries import time_queries, warehouse_summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: the packages a build runs (frozen for the whole benchmark, see `snapshot_code`)
CODE_PACKAGES = ("pipelines", "assets", "schemas")
DEFAULT_OUT = HERE / "out"
#: the increment corpus uses another seed so its reports differ from the base corpus
INCREMENT_SEED_OFFSET = 7919


def _xxgk() -> str:
    beside = Path(sys.executable).with_name("xxgk")
    if beside.exists():
        return str(beside)
    found = shutil.which("xxgk")
    if not found:
        sys.exit("xxgk console script not found: install the project (pip install -e .)")
    return found


def _build_help(xxgk: str) -> str:
    try:
        return subprocess.run([xxgk, "build", "--help"], capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


# ---------------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------------
def _generator_digest() -> str:
    """Hash of the generator's source: a cached corpus from an older generator is regenerated."""
    import hashlib

    import pipelines.synth

    h = hashlib.sha256()
    for f in sorted(Path(pipelines.synth.__file__).parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def corpus(cache: Path, n: int, seed: int) -> Path:
    """A directory of N synthetic reports (generated once, then reused: generation is not measured)."""
    dest = cache / f"seed{seed}-n{n}"
    marker = dest / ".complete"
    digest = _generator_digest()
    if marker.exists() and json.loads(marker.read_text()).get("generator") == digest:
        return dest
    from pipelines.synth import write_corpus  # the project's generator, with known truth

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    start = time.perf_counter()
    write_corpus(dest, n, seed=seed)
    elapsed = time.perf_counter() - start
    marker.write_text(json.dumps({"n": n, "seed": seed, "generator": digest, "generate_s": elapsed}))
    return dest


def snapshot_code(dest: Path) -> dict[str, str]:
    """Copy the project's packages to `dest`; builds run them through PYTHONPATH.

    The parser version is a hash of the parsing code, so an edit to it by anyone during a benchmark would
    turn the incremental build into a full re-parse. Frozen code makes every run of one benchmark measure
    the same program (and the commit it came from is recorded).
    """
    for package in CODE_PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return {"PYTHONPATH": str(dest)}


def parser_build(code_env: dict[str, str]) -> str:
    """Whether the frozen code's parser runs compiled (setup.py) or as pure Python."""
    probe = "from pipelines.parsing.native import running_compiled; print(running_compiled())"
    out = subprocess.run(
        [sys.executable, "-c", probe], env=os.environ | code_env, capture_output=True, text=True, check=True
    )
    return "compiled (mypyc)" if out.stdout.strip() == "True" else "pure Python"


def link_tree(src: Path, dst: Path) -> None:
    """Hard-link copy: a fresh raw folder in no time and no extra disk (the files are never written to)."""
    shutil.copytree(src, dst, copy_function=os.link, ignore=shutil.ignore_patterns(".complete", "truth.jsonl"))


# ---------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------
def run_floor(raw: Path, logs: Path, cpus: list[int]) -> tuple[Measured, dict]:
    argv = [sys.executable, str(HERE / "harness.py"), "--floor", str(raw)]
    log = logs / "floor.log"
    m = run_measured("floor", argv, cpus=cpus[:1], log=log)
    if m.returncode != 0:
        sys.exit(f"floor failed:\n{m.stdout_tail}")
    return m, json.loads(log.read_text().strip().splitlines()[-1])


class Builder:
    def __init__(self, xxgk: str, logs: Path, extra: list[str], timeout: float | None, env: dict[str, str]) -> None:
        self.xxgk = xxgk
        self.logs = logs
        self.extra = extra
        self.timeout = timeout
        self.env = env
        self.has_workers_option = "--workers" in _build_help(xxgk)

    def __call__(self, label: str, raw: Path, out: Path, cpus: list[int]) -> Measured:
        argv = [self.xxgk, "build", "--raw", str(raw), "--out", str(out), *self.extra]
        if self.has_workers_option:
            argv += ["--workers", str(len(cpus))]
        log = self.logs / f"{label}.log"
        m = run_measured(label, argv, cpus=cpus, log=log, timeout=self.timeout, env=self.env)
        if m.returncode != 0:
            sys.exit(f"{label}: xxgk build exited {m.returncode}:\n{m.stdout_tail}")
        return m


def _git_state() -> dict[str, str]:
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""

    dirty = [line[3:] for line in git("status", "--porcelain").splitlines() if line[3:].startswith(CODE_PACKAGES)]
    return {"commit": git("rev-parse", "HEAD").strip(), "uncommitted_code_files": ", ".join(dirty)}


def _catalog(out: Path) -> Path:
    db = out / "xxgk.duckdb"
    if not db.exists():
        sys.exit(f"the build wrote no catalog at {db}")
    return db


def _phases(m: Measured) -> dict[str, float]:
    """Seconds of the parse step and of the whole run, as the build's own summary prints them, and the
    wall seconds of each stage with the parser processes' CPU seconds (the `stages:` line)."""
    import re

    out: dict[str, float] = {}
    if found := re.search(r"parsed \d+ files in ([\d.]+)s", m.stdout_tail):
        out["parse_s"] = float(found.group(1))
    if found := re.search(r"done in ([\d.]+)s", m.stdout_tail):
        out["build_s"] = float(found.group(1))
    if found := re.search(r"^stages: (.*)$", m.stdout_tail, re.MULTILINE):
        line = found.group(1)
        for step, seconds in re.findall(r"([\w-]+) ([\d.]+)s", line.split(";")[0]):
            out[f"stage_{step}_s"] = float(seconds)
        if cpu := re.search(r"parser CPU ([\d.]+)s", line):
            out["parser_cpu_s"] = float(cpu.group(1))
        if cpu := re.search(r"build process CPU ([\d.]+)s", line):
            out["build_process_cpu_s"] = float(cpu.group(1))
    return out


def speedup(rows: list[dict]) -> list[dict]:
    """Full builds of the same corpus on different CPU counts, against the 1-CPU one: wall and CPU."""
    out: list[dict] = []
    full = [r for r in rows if r["run"].startswith("full build (")]
    for n in sorted({r["n_reports"] for r in full}):
        same = sorted((r for r in full if r["n_reports"] == n), key=lambda r: r["cpus"])
        if len(same) < 2:
            continue
        base = same[0]
        for r in same[1:]:
            out.append(
                {
                    "n_reports": n,
                    "cpus": f"{r['cpus']} vs {base['cpus']}",
                    "wall_s": f"{r['wall_s']} vs {base['wall_s']}",
                    "speedup_wall": round(base["wall_s"] / r["wall_s"], 2),
                    "parse_s": f"{r.get('parse_s')} vs {base.get('parse_s')}",
                    "speedup_parse": round(base["parse_s"] / r["parse_s"], 2)
                    if r.get("parse_s") and base.get("parse_s")
                    else None,
                    "cpu_s": f"{r['cpu_s']} vs {base['cpu_s']}",
                    "others_load": f"{r['others_load']} / {base['others_load']}",
                }
            )
    return out


def _row(
    label: str, n: int, m: Measured, floor: Measured | None, full_s: float | None = None, floor_n: int | None = None
) -> dict:
    """One line of the table. `x_floor` compares wall times (the target); `cpu_x_floor` compares CPU seconds
    per report, which other users' jobs on a shared machine disturb much less than wall time."""
    floor_s = floor.wall_s if floor else None
    cpu_ratio = None
    if floor and floor.cpu_s and n:
        cpu_ratio = round((m.cpu_s / n) / (floor.cpu_s / (floor_n or n)), 1)
    return {
        "run": label,
        "n_reports": n,
        "cpus": len(m.cpus),
        "wall_s": round(m.wall_s, 2),
        "reports_per_s": round(n / m.wall_s, 1) if m.wall_s else None,
        "cpu_s": round(m.cpu_s, 1),
        "cpu_utilisation": round(m.cpu_s / m.wall_s, 2) if m.wall_s else None,
        "peak_rss_mib": round(m.memory.peak_rss_mib),
        "peak_pss_mib": round(m.memory.peak_pss_mib),
        "max_process_hwm_mib": round(m.memory.max_process_hwm_mib),
        "x_floor": round((m.wall_s / n) / (floor_s / (floor_n or n)), 2) if floor_s and n else None,
        "cpu_x_floor": cpu_ratio,
        "pct_of_full": round(100 * m.wall_s / full_s, 1) if full_s else None,
        # CPU the rest of the machine used during the run, per second: > 0.2 means the timing is contaminated
        "others_load": round(m.others_cpu_s / m.wall_s, 2) if m.wall_s else None,
        **_phases(m),
    }


def markdown(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="reports in the benchmark corpus (default 10000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--increment-pct", type=float, default=1.0, help="new reports added for the incremental build")
    p.add_argument(
        "--workers",
        default="2,1",
        help="CPU counts to run the full build on, comma-separated; the first is the main run (default 2,1)",
    )
    p.add_argument("--workers-n", type=int, default=None, help="reports for other CPU counts (default min(n,10000))")
    p.add_argument("--query-n", type=int, default=None, help="time queries on a warehouse of this many reports")
    p.add_argument("--no-queries", action="store_true")
    p.add_argument("--quick", action="store_true", help="skip the no-op rebuild and the other CPU counts")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results, corpora, warehouses (gitignored)")
    p.add_argument("--keep", action="store_true", help="keep the built warehouses")
    p.add_argument("--build-arg", action="append", default=[], help="extra argument for xxgk build (repeatable)")
    p.add_argument("--timeout", type=float, default=None, help="seconds after which a build is killed")
    args = p.parse_args(argv)

    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    available = sorted(os.sched_getaffinity(0))
    if max(worker_counts) > len(available):
        sys.exit(f"--workers {args.workers}: only {len(available)} CPUs available")
    n_inc = max(1, round(args.n * args.increment_pct / 100))
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    out: Path = args.out.resolve()
    work = out / f"run-n{args.n}-{stamp}"
    logs = work / "logs"
    logs.mkdir(parents=True)
    xxgk = _xxgk()
    code_env = snapshot_code(work / "code")
    build = Builder(xxgk, logs, args.build_arg, args.timeout, code_env)
    results: dict = {
        "n": args.n,
        "seed": args.seed,
        "increment": n_inc,
        "machine": {"cpus": len(available), "python": platform.python_version(), "platform": platform.platform()},
        "started_utc": stamp,
        "build_has_workers_option": build.has_workers_option,
        "code": _git_state(),
        "parser": parser_build(code_env),
    }
    rows: list[dict] = []
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f"bench_build-n{args.n}-{stamp}.partial.json"

    def save() -> None:
        """Results so far (a long run cut short still leaves its measurements)."""
        partial.write_text(json.dumps(results | {"table": rows}, indent=1, ensure_ascii=False, default=str))

    print(f"parser: {results['parser']}", flush=True)
    print(f"corpus: {args.n} reports + {n_inc} increment (seed {args.seed}) …", flush=True)
    base = corpus(out / "corpus", args.n, args.seed)
    inc = corpus(out / "corpus", n_inc, args.seed + INCREMENT_SEED_OFFSET)
    raw = work / "raw"
    link_tree(base, raw / "base")
    n_files = sum(1 for _ in report_files(raw))
    results["report_files"] = n_files

    # the floor twice: the first run also warms the page cache for everything that follows
    print("floor …", flush=True)
    run_floor(raw, logs, available)
    floor_m, floor_stats = run_floor(raw, logs, available)
    results["floor"] = {**floor_stats, "measured": floor_m.to_json()}
    rows.append(_row("floor (1 process)", n_files, floor_m, floor_m))
    save()

    main_cpus = available[: worker_counts[0]]
    print(f"full build on {len(main_cpus)} CPU(s) …", flush=True)
    wh = work / "warehouse"
    full = build(f"full-{len(main_cpus)}cpu", raw, wh, main_cpus)
    results["full"] = {"measured": full.to_json(), "warehouse": warehouse_summary(_catalog(wh))}
    rows.append(_row(f"full build ({len(main_cpus)} CPU)", n_files, full, floor_m))
    save()
    loaded = results["full"]["warehouse"]["reports"]
    if loaded != n_files:
        print(f"WARNING: {n_files} report files but {loaded} rows in core.reports", flush=True)

    if not args.quick:
        print("no-op rebuild …", flush=True)
        noop = build("noop", raw, wh, main_cpus)
        results["noop"] = noop.to_json()
        rows.append(_row("no-op rebuild", 0, noop, None, full.wall_s) | {"reports_per_s": None})
        save()

    print(f"incremental build (+{n_inc}) …", flush=True)
    link_tree(inc, raw / "increment")
    incr = build("incremental", raw, wh, main_cpus)
    results["incremental"] = {"measured": incr.to_json(), "warehouse": warehouse_summary(_catalog(wh))}
    rows.append(_row(f"incremental +{n_inc}", n_inc, incr, None, full.wall_s))
    save()
    if results["incremental"]["warehouse"]["reports"] != n_files + n_inc:
        print("WARNING: incremental build did not load exactly the new files", flush=True)

    results["cores"] = []
    if not args.quick:
        n_cmp = min(args.n, args.workers_n or 10_000)
        counts = worker_counts
        if n_cmp == args.n:  # the main full build is already one of the points
            results["cores"].append(full.to_json())
            counts = worker_counts[1:]
        cmp_raw = work / "raw-cores"
        if counts:
            link_tree(corpus(out / "corpus", n_cmp, args.seed), cmp_raw / "base")
        for count in counts:
            cpus = available[:count]
            print(f"full build of {n_cmp} on {count} CPU(s) …", flush=True)
            cmp_wh = work / f"warehouse-{count}cpu"
            m = build(f"full-{count}cpu-n{n_cmp}", cmp_raw, cmp_wh, cpus)
            results["cores"].append(m.to_json())
            rows.append(_row(f"full build ({count} CPU)", n_cmp, m, floor_m, floor_n=n_files))
            if not args.keep:
                shutil.rmtree(cmp_wh, ignore_errors=True)

    if not args.no_queries:
        qdb = _catalog(wh)
        if args.query_n and args.query_n != args.n:
            qraw = out / f"query-raw-n{args.query_n}"
            qwh = out / f"query-warehouse-n{args.query_n}"
            if not (qwh / "xxgk.duckdb").exists():
                if not qraw.exists():
                    link_tree(corpus(out / "corpus", args.query_n, args.seed), qraw / "base")
                print(f"building the query warehouse ({args.query_n}) …", flush=True)
                qm = build(f"full-query-n{args.query_n}", qraw, qwh, main_cpus)
                results["query_build"] = qm.to_json()
                rows.append(_row(f"full build ({len(main_cpus)} CPU)", args.query_n, qm, floor_m, floor_n=n_files))
            qdb = _catalog(qwh)
        print(f"queries on {qdb} …", flush=True)
        results["query_warehouse"] = warehouse_summary(qdb)
        results["queries"] = [asdict(t) for t in time_queries(qdb)]

    results["table"] = rows
    columns = ["run", "n_reports", "cpus", "wall_s", "reports_per_s", "cpu_utilisation", "peak_rss_mib",
               "peak_pss_mib", "x_floor", "cpu_x_floor", "pct_of_full", "others_load"]  # fmt: skip
    print()
    print(markdown(rows, columns))
    results["speedup"] = speedup(rows)
    if results["speedup"]:
        print("\nmore CPUs, same corpus (wall and CPU seconds; others_load > 0.2: the neighbours took CPU meanwhile):")
        print(markdown(results["speedup"], list(results["speedup"][0])))
    stage_rows = [{"run": r["run"], **{k: v for k, v in r.items() if k.startswith(("stage_", "parser_cpu", "build_p"))}}
                  for r in rows if any(k.startswith("stage_") for k in r)]  # fmt: skip
    if stage_rows:
        print("\nwhere the time went (wall s per stage; CPU s of the parser processes and of the build process):")
        names = list(dict.fromkeys(k for r in stage_rows for k in r))
        print(markdown(stage_rows, names))
    if results.get("queries"):
        print()
        qn = results["query_warehouse"]["reports"]
        qrows = [{"query": q["name"], "reports": qn, "rows": q["rows"], "cold_s": round(q["cold_s"], 3),
                  "warm_s": round(q["warm_s"], 3)} for q in results["queries"]]  # fmt: skip
        print(markdown(qrows, ["query", "reports", "rows", "cold_s", "warm_s"]))

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench_build-n{args.n}-{stamp}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    shutil.copyfile(path, out / "bench_build-latest.json")
    partial.unlink(missing_ok=True)
    print(f"\nresults: {path}")
    if not args.keep:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
