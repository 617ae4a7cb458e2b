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


def _library_built_ns(package: Path) -> int:
    """When mypyc's shared library (`<group>__mypyc`), which holds every compiled module's code, was built (0:
    none). A module's own extension is a shim into it, which setuptools leaves as it was when a source
    changes (the shim's C does not), so the library's time is the one that tells."""
    libraries = [path for suffix in EXTENSION_SUFFIXES for path in package.rglob(f"*__mypyc{suffix}")]
    return max((path.stat().st_mtime_ns for path in libraries), default=0)


def stale_modules(package: Path = PACKAGE) -> list[Path]:
    """Sources modified after their compiled module was built."""
    library_ns = _library_built_ns(package)
    return [
        source
        for source, extension in compiled_pairs(package)
        if source.stat().st_mtime_ns > max(extension.stat().st_mtime_ns, library_ns)
    ]


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
