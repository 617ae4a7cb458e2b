"""Synthetic annual reports with known truth, for tests and benchmarks.

    from pipelines.synth import generate_report, write_corpus, SyntheticReport

`generate_report(seed, template=, layout=, encoding=, break_rule=)` is deterministic for a seed. Layouts
are a registry (`LAYOUTS`, `register`): add a renderer there and every test and benchmark picks it up.
"""

from pipelines.synth import html_render  # noqa: F401  (registers the "html" layout)
from pipelines.synth.figures import BREAKABLE_RULES
from pipelines.synth.generate import ENCODINGS, SyntheticReport, corpus_seed, generate_report, write_corpus
from pipelines.synth.layouts import LAYOUTS, Layout, register

__all__ = [
    "BREAKABLE_RULES",
    "ENCODINGS",
    "LAYOUTS",
    "Layout",
    "SyntheticReport",
    "corpus_seed",
    "generate_report",
    "register",
    "write_corpus",
]
