"""Measurement helpers for the benchmarks: process-tree memory sampling, timed subprocesses, the floor.

Dagster-free and warehouse-free on purpose: the harness must measure whatever `xxgk build` does without
knowing how it does it. Memory is read from `/proc` (Linux), so no extra dependency is needed:

- `rss` — sum of the resident set sizes of every process in the tree at one instant (over-counts pages
  that forked workers share with their parent: an upper bound);
- `pss` — sum of the proportional set sizes (`/proc/<pid>/smaps_rollup`): shared pages are divided
  among the processes that map them, so the sum is what the tree really costs the machine.

The peak of each sum over the run is reported; the sampler polls every `interval` seconds, so a spike
shorter than that can be missed (the kernel's own per-process high-water mark, `VmHWM`, is kept as a
cross-check for the largest single process).
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:  # the process ended between listing and reading
        return None


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            out.extend(int(c) for c in text.split())
    return out


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive now."""
    seen: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        seen.append(pid)
        stack.extend(_children(pid))
    return seen


def _rss_bytes(pid: int) -> int:
    text = _read(f"/proc/{pid}/statm")
    return int(text.split()[1]) * PAGE_SIZE if text else 0


_PSS = re.compile(r"^Pss:\s+(\d+) kB", re.MULTILINE)
_HWM = re.compile(r"^VmHWM:\s+(\d+) kB", re.MULTILINE)


def _pss_bytes(pid: int) -> int:
    text = _read(f"/proc/{pid}/smaps_rollup")
    m = _PSS.search(text) if text else None
    return int(m.group(1)) * 1024 if m else 0


def _hwm_bytes(pid: int) -> int:
    text = _read(f"/proc/{pid}/status")
    m = _HWM.search(text) if text else None
    return int(m.group(1)) * 1024 if m else 0


def _cpu_ticks(pid: int) -> tuple[tuple[int, int], int] | None:
    """((pid, start time), utime + stime in clock ticks) of a live process."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (pid, int(fields[19])), int(fields[11]) + int(fields[12])


@dataclass
class TreeMemory:
    peak_rss_mib: float = 0.0
    peak_pss_mib: float = 0.0
    #: largest VmHWM (kernel high-water mark) seen for any one process of the tree
    max_process_hwm_mib: float = 0.0
    max_processes: int = 0
    samples: int = 0
    #: seconds after the start when the PSS peak was seen (which phase of the run holds the memory)
    peak_pss_at_s: float = 0.0


class TreeSampler(threading.Thread):
    """Polls the memory of a process tree until `stop()`; the peaks are in `.memory`."""

    def __init__(self, root_pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.interval = interval
        self.memory = TreeMemory()
        #: last CPU ticks seen per process of the tree (workers of a fork server are not our waited
        #: children, so getrusage(RUSAGE_CHILDREN) may miss them; sampling does not)
        self.cpu_ticks: dict[tuple[int, int], int] = {}
        self.started = time.perf_counter()
        self._stop_event = threading.Event()

    def sample(self) -> None:
        pids = process_tree(self.root_pid)
        m = self.memory
        m.samples += 1
        m.max_processes = max(m.max_processes, len(pids))
        m.peak_rss_mib = max(m.peak_rss_mib, sum(_rss_bytes(p) for p in pids) / MIB)
        pss = sum(_pss_bytes(p) for p in pids) / MIB
        if pss > m.peak_pss_mib:
            m.peak_pss_mib, m.peak_pss_at_s = pss, time.perf_counter() - self.started
        m.max_process_hwm_mib = max(m.max_process_hwm_mib, max((_hwm_bytes(p) for p in pids), default=0) / MIB)
        for pid in pids:
            got = _cpu_ticks(pid)
            if got:
                self.cpu_ticks[got[0]] = got[1]

    def sampled_cpu_s(self) -> float:
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> TreeMemory:
        self._stop_event.set()
        self.join()
        return self.memory


def _system_busy_s() -> float:
    """CPU seconds spent busy by the whole machine since boot (all CPUs), from /proc/stat."""
    text = _read("/proc/stat") or ""
    fields = text.split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """One timed run of a command (and every process it started)."""

    label: str
    argv: list[str]
    wall_s: float
    #: user + system CPU seconds of the whole tree (children that were waited for)
    cpu_s: float
    returncode: int
    memory: TreeMemory
    cpus: list[int] = field(default_factory=list)
    stdout_tail: str = ""
    #: CPU seconds the rest of the machine used meanwhile (other users' jobs): contamination of the timing
    others_cpu_s: float = 0.0
    load_avg_1min_after: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_measured(
    label: str,
    argv: Sequence[str],
    *,
    cpus: Sequence[int] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    interval: float = 0.1,
    timeout: float | None = None,
) -> Measured:
    """Run `argv` to completion, pinned to `cpus` (inherited by every child), sampling its memory.

    CPU pinning is how "1 core vs 2 cores" is measured without relying on a build option: a process
    pool started inside a one-CPU affinity mask runs on that one CPU whatever its worker count.
    """
    affinity = sorted(cpus) if cpus else sorted(os.sched_getaffinity(0))
    out_path = log or Path(os.devnull)
    cpu_before = _children_cpu()
    busy_before = _system_busy_s()
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            preexec_fn=lambda: os.sched_setaffinity(0, affinity),
        )
        sampler = TreeSampler(proc.pid, interval)
        sampler.sample()
        sampler.start()
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        memory = sampler.stop()
    wall = time.perf_counter() - start
    # the kernel's account of waited children, or the sampled one when that saw more (fork-server workers)
    cpu = max(_children_cpu() - cpu_before, sampler.sampled_cpu_s())
    others = max(0.0, _system_busy_s() - busy_before - cpu)
    tail = ""
    if log is not None and log.exists():
        tail = log.read_bytes()[-4000:].decode("utf-8", errors="replace")
    return Measured(label, list(argv), wall, cpu, rc, memory, affinity, tail, others, os.getloadavg()[0])


# ---------------------------------------------------------------------------------------------------
# The floor: the least work any build must do — read every file, decode it, find every number in it.
# ---------------------------------------------------------------------------------------------------
#: every number as printed in a report: integers, decimals (万元 amounts), signed changes
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
#: what the build treats as reports (warehouse.md); sidecars (`.meta.json`) are not reports
REPORT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


def report_files(raw: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(raw):
        for name in files:
            if name.lower().endswith(REPORT_SUFFIXES) and not name.endswith(".meta.json"):
                yield Path(dirpath) / name


def _decode(data: bytes) -> str:
    """What every decoder must do at least: a UTF-16 BOM, else UTF-8 (with or without BOM), else GB18030."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def floor(raw: Path) -> dict:
    """Read, decode and find every number of every report file under `raw`, in this one process."""
    start = time.perf_counter()
    files = numbers = size = 0
    by_suffix: dict[str, int] = {}
    for path in report_files(raw):
        data = path.read_bytes()
        numbers += len(NUMBER.findall(_decode(data)))
        files += 1
        size += len(data)
        suffix = path.suffix.lower()
        by_suffix[suffix] = by_suffix.get(suffix, 0) + 1
    wall = time.perf_counter() - start
    return {"files": files, "bytes": size, "numbers": numbers, "wall_s": wall, "by_suffix": by_suffix}


def main_floor(raw: str) -> None:
    """Entry point of the floor subprocess: prints one JSON object."""
    print(json.dumps(floor(Path(raw))))


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--floor":
    main_floor(sys.argv[2])
