"""How a process that parses many reports in a row should run: the garbage collector's regime.

Parsing allocates millions of short-lived objects (lines, cells, matches) and keeps almost none of them,
while the process also holds a large, permanent heap of imported modules (polars, the parser's compiled
patterns and code tables). CPython's default collector (a young-generation pass every 700 net allocations,
a full pass every 100 of those) then spends its time re-scanning that permanent heap: measured on 2,000
corpus reports, 0.30 s of 3.4 s in collections, three quarters of it in full passes.

`configure_worker_gc` moves everything alive at that point (the imports) out of the collector's sight with
`gc.freeze()` and makes young collections rarer; reference counting still frees almost every object at
once, the collector only breaks cycles. Measured the same way: 0.04 s in collections. The build's parser
processes call it once at start-up (`pipelines.warehouse.ingest`), and `benchmarks/bench_parse.py` calls it
so that the per-core parse figure is measured under the regime the build runs.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: net allocations between young-generation collections (CPython's default: 700)
GEN0_THRESHOLD = 10_000
#: young collections per middle one, middle ones per full one (defaults: 10, 10)
GEN1_THRESHOLD = 50
GEN2_THRESHOLD = 100


def configure_worker_gc() -> None:
    """Freeze the objects alive now (imports: never garbage) and collect young objects less often.

    Call once in a process that is about to parse many reports, after its imports. Idempotent."""
    gc.collect()  # what is garbage already goes now, not frozen for the process's lifetime
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


@contextmanager
def worker_gc() -> Iterator[None]:
    """The parser processes' regime for a stretch of parsing in a process that does other work too (a
    build that parses in-process with one worker); the previous thresholds are restored after it."""
    thresholds = gc.get_threshold()
    configure_worker_gc()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
