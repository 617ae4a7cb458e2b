"""Compiles the parser's hot modules to C extensions with mypyc; all other settings are in pyproject.toml.

The compiled modules are the same source, type-checked and compiled: a report parses ~1.3x faster (see
README, Performance). `XXGK_PURE_PYTHON=1` skips compiling; without a C compiler the build goes on and the
pure-Python modules run (setuptools prints the failure). `pipelines.parsing.native` tells which is running
and refuses a compiled module older than its source in a checkout.
"""

import os

from setuptools import setup

#: the modules a report's parse spends its time in; parse.py (per-file orchestration) stays Python
COMPILED = [
    *(
        f"pipelines/parsing/{name}.py"
        for name in (
            "decode",
            "limits",
            "metadata",
            "normalize",
            "record",
            "rules",
            "table_cells",
            "table_columns",
            "table_labels",
            "table_stream",
            "tables",
        )
    ),
    "pipelines/parsing/formats/html.py",
]


def _extensions() -> list:
    if os.environ.get("XXGK_PURE_PYTHON") == "1":
        return []
    from mypyc.build import mypycify

    # lxml has no type stubs (its objects are typed Any, called dynamically); modules imported by the
    # compiled ones are analysed but not reported on
    extensions = mypycify(
        ["--ignore-missing-imports", "--follow-imports=silent", *COMPILED],
        group_name="pipelines.parsing.compiled",
    )
    for extension in extensions:
        extension.optional = True  # no C compiler: the pure-Python modules run
    return extensions


setup(ext_modules=_extensions())
