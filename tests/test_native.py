"""The compiled parser (mypyc, setup.py): the stale-module guard, and that CI runs the compiled modules."""

from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from pipelines.parsing import native

SUFFIX = EXTENSION_SUFFIXES[0]


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pipelines" / "parsing"
    (package / "formats").mkdir(parents=True)
    for name in ("tables", "formats/html", "parse"):
        (package / f"{name}.py").write_text("")
    for name in ("tables", "formats/html", "orphan"):  # orphan: an extension module with no source
        (package / f"{name}{SUFFIX}").write_bytes(b"")
    return package


def _touch(path: Path, seconds: int) -> None:
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_compiled_pairs_are_the_extensions_with_a_source(tmp_path: Path) -> None:
    package = _package(tmp_path)
    pairs = {source.relative_to(package).as_posix() for source, _ in native.compiled_pairs(package)}
    assert pairs == {"tables.py", "formats/html.py"}


def test_a_source_newer_than_its_extension_is_stale(tmp_path: Path) -> None:
    package = _package(tmp_path)
    for source, extension in native.compiled_pairs(package):
        _touch(source, 1_000)
        _touch(extension, 2_000)
    assert native.stale_modules(package) == []
    native.check_current(package)  # no error

    _touch(package / "formats" / "html.py", 3_000)  # edited (or checked out) after compiling
    assert native.stale_modules(package) == [package / "formats" / "html.py"]
    with pytest.raises(ImportError, match=r"pipelines/parsing/formats/html\.py changed after the parser was compiled"):
        native.check_current(package)


def test_a_rebuilt_shared_library_makes_its_unchanged_shims_current(tmp_path: Path) -> None:
    # mypyc's per-module extensions are shims into the group's shared library; recompiling after an edit
    # rebuilds only the library (the shims' C is unchanged, setuptools keeps the old files)
    package = _package(tmp_path)
    library = package / f"compiled__mypyc{SUFFIX}"
    library.write_bytes(b"")
    for source, extension in native.compiled_pairs(package):
        _touch(extension, 1_000)
        _touch(source, 2_000)  # edited after the first build
    _touch(library, 1_000)
    assert len(native.stale_modules(package)) == 2
    _touch(library, 3_000)  # recompiled
    assert native.stale_modules(package) == []


@pytest.mark.skipif(os.environ.get("XXGK_REQUIRE_COMPILED") != "1", reason="only where the install compiles")
def test_the_parser_runs_compiled() -> None:
    # CI sets XXGK_REQUIRE_COMPILED=1: a build that silently fell back to pure Python fails here
    assert native.running_compiled()
    assert native.compiled_pairs(), "no compiled module found beside its source"
