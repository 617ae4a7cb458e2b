"""Synthetic annual reports with known truth, for tests and benchmarks.

    from pipelines.synth import generate_report, write_corpus, SyntheticReport

    r = generate_report(123, template="2021", layout="pdf_text", encoding="gb18030", break_rule="balance")
    r.name, r.data, r.sidecar      # synth_000123.txt, the file's bytes, the <name>.meta.json content or None
    r.truth                        # ReportRecord.to_json() shape: agency, year, template, proactive,
                                   # applications, appeals, violations [{rule, location, expected, actual}]
    write_corpus(out_dir, 1000, seed=0)   # files + sidecars + truth.jsonl

Deterministic for a seed (and the options). How it is built:

- `figures`: consistent tables 2–4 per agency size (mostly zeros, a few very large agencies), the optional
  8th column 法人或其他组织小计, planted breaks; the expected breaches are computed by the parser's own rule
  evaluator on the truth figures.
- `text`: agencies named by true region chains, titles in every printed style (spaces, 年度, 二〇二一年, split,
  after the first heading, missing → sidecar), narrative mentioning other years, PDF look-alike radicals.
- `cells`: how a figure is printed (zero as - — / 无, full-width digits, 1,234, 251000元, +3).
- `document`: the layout-independent content, labels from `schemas.codes` with their printed variants.
- `layouts`: a registry of renderers (`LAYOUTS`, `register`), one per family of real texts: `tsv` (Word/HTML
  paste), `pdf_text` (pdftotext/pypdf), `cell_per_line`, `markdown`, `pdftotext_layout`, `pdfminer_columns`
  (column by column), and `html` (`html_render`). A renderer added there is used by every test and benchmark.
- `generate`: `generate_report`, `write_corpus`; encodings UTF-8, UTF-8 with BOM, GB18030, UTF-16, CRLF.
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
