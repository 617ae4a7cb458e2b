"""Whether the parser runs compiled (mypyc, see setup.py), and the guard against a stale compiled module.

A compiled module shadows its `.py`: in a checkout, editing or checking out a newer source without
recompiling would silently run the old code, so importing the parser refuses that (`stale_modules`).
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
#: a source checkout (editable install), where sources can change after compiling; an installed wheel's
#: files all carry its install time
_CHECKOUT = (PACKAGE.parent.parent / "setup.py").is_file()


def compiled_pairs(package: Path = PACKAGE) -> list[tuple[Path, Path]]:
    """(source, its compiled extension module) for every compiled module under `package`."""
    pairs = []
    for suffix in EXTENSION_SUFFIXES:
        for extension in sorted(package.rglob(f"*{suffix}")):
            source = extension.with_name(extension.name[: -len(suffix)] + ".py")
            if source.is_file():
                pairs.append((source, extension))
    return pairs


def stale_modules(package: Path = PACKAGE) -> list[Path]:
    """Sources modified after their compiled module was built."""
    pairs = compiled_pairs(package)
    return [source for source, extension in pairs if source.stat().st_mtime_ns > extension.stat().st_mtime_ns]


def check_current(package: Path = PACKAGE) -> None:
    """Raise ImportError when a compiled module is older than its source (in a checkout only)."""
    stale = stale_modules(package)
    if stale:
        names = ", ".join(str(source.relative_to(package.parent.parent)) for source in stale)
        raise ImportError(
            f"{names} changed after the parser was compiled: the compiled modules would run the old code. "
            "Recompile with `pip install -e .` (README, Set-up), or delete the compiled modules "
            "(`find pipelines -name '*.so' -delete`) to run the pure-Python parser."
        )


def running_compiled() -> bool:
    """Whether the parser's modules are the compiled ones (checked on the table reader, the hottest)."""
    from pipelines.parsing import tables

    return not tables.__file__.endswith(".py")


if _CHECKOUT:
    check_current()
