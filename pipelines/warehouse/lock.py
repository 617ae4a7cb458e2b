"""One writer at a time: an advisory lock on `<out>/.build.lock` (fcntl.flock).

The kernel drops a flock when its holder dies, so a crashed build never leaves a stale lock. The lock is
re-entrant within a process: `xxgk build` holds it for the whole run and the assets that commit data take
it again without waiting on themselves.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".build.lock"

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth)
_guard = threading.Lock()


class WarehouseBusy(RuntimeError):
    """Another build holds the lock of this warehouse."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
        return f"pid {info.get('pid')} since {info.get('since')}"
    except (OSError, ValueError):
        return "another process"


@contextmanager
def build_lock(out_dir: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the build lock of `out_dir`; wait up to `wait_seconds`, then raise `WarehouseBusy`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_FILE
    key = str(path.resolve())
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise WarehouseBusy(
                        f"another build is writing {out_dir} ({_holder(path)}); "
                        "wait for it to finish, or run again with a longer wait"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(
            fd, json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}).encode()
        )
        with _guard:
            _held[key] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
