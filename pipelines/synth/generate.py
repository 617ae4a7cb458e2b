"""generate_report / write_corpus: synthetic report files with their known truth."""

from __future__ import annotations

import codecs
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.synth import document, figures, layouts, text
from pipelines.synth.figures import BREAKABLE_RULES
from schemas.codes import TABLED_TEMPLATES

#: encoding name -> (Python codec, byte prefix)
ENCODINGS: dict[str, tuple[str, bytes]] = {
    "utf-8": ("utf-8", b""),
    "utf-8-bom": ("utf-8", codecs.BOM_UTF8),
    "gb18030": ("gb18030", b""),
    "utf-16": ("utf-16-le", codecs.BOM_UTF16_LE),
}
_ENCODING_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("utf-8", 0.7),
    ("utf-8-bom", 0.1),
    ("gb18030", 0.14),
    ("utf-16", 0.06),
)
#: chance that a report breaks a rule when the caller leaves it to chance
BREAK_RATE = 0.15
#: chance that the 8th (legal_person_subtotal) column is printed
SUBTOTAL_RATE = 0.08
SIDECAR_RATE_WITH_TITLE = 0.05
#: share of title-less reports without a sidecar either (agency unknown: truth agency None)
ANONYMOUS_RATE = 0.25
#: layouts where a blank cell is visible as such (delimited cells); PDF text loses blank cells entirely
BLANK_LAYOUTS: tuple[str, ...] = ("tsv", "markdown", "html")
#: chance that the text ends early (after table 2 or 3): a truncated download or extraction
TRUNCATED_RATE = 0.02


@dataclass(slots=True)
class SyntheticReport:
    """One generated report file and what a correct parser must read from it."""

    seed: int
    #: file name with suffix, e.g. synth_000123.txt
    name: str
    data: bytes
    #: contents of `<name>.meta.json`, or None when the report has no sidecar
    sidecar: dict[str, Any] | None
    #: `ReportRecord.to_json()` shape: agency, year, template, proactive, applications, appeals, violations
    truth: dict[str, Any]
    layout: str
    #: one of ENCODINGS (or "binary" for a renderer that returns bytes)
    encoding: str
    crlf: bool = False
    #: the rule a break was planted for (None: every rule holds)
    break_rule: str | None = None
    #: the text ends early: tables 3–4 or table 4 are missing (truth has them empty)
    truncated: bool = False
    #: some zero cells are printed blank (truth None)
    blanks: bool = False
    #: the agency's true region, "省市" (or "省" for a provincial department)
    region: str | None = None
    #: write_corpus(duplicate_rate=…): this file is a byte-identical copy of that earlier file
    duplicate_of: str | None = None
    #: how the figures were printed (for per-style accuracy)
    cell_style: str = "plain"
    title_style: str = "plain"
    flags: list[str] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        """One line of truth.jsonl."""
        return {
            "name": self.name,
            "seed": self.seed,
            "layout": self.layout,
            "encoding": self.encoding,
            "crlf": self.crlf,
            "break_rule": self.break_rule,
            "truncated": self.truncated,
            "blanks": self.blanks,
            "duplicate_of": self.duplicate_of,
            "cell_style": self.cell_style,
            "title_style": self.title_style,
            "sidecar": self.sidecar,
            "region": self.region,
            "truth": self.truth,
        }


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random() * sum(w for _, w in weighted)
    for name, w in weighted:
        x -= w
        if x < 0:
            return name
    return weighted[-1][0]


def _template_and_year(rng: random.Random, template: str | None) -> tuple[str, int]:
    """The 2019 format for 2019–2020 and for agencies that never switched (to 2023); 2021 from 2021 on."""
    if template is None:
        year = rng.randint(2019, 2025)
        if year <= 2020:
            return "2019", year
        return ("2019" if year <= 2023 and rng.random() < 0.12 else "2021"), year
    if template not in TABLED_TEMPLATES:
        raise ValueError(f"template must be one of {TABLED_TEMPLATES}, not {template!r}")
    return template, rng.randint(2019, 2023) if template == "2019" else rng.randint(2021, 2025)


def generate_report(
    seed: int,
    *,
    template: str | None = None,
    layout: str | None = None,
    encoding: str | None = None,
    break_rule: str | bool | None = None,
    crlf: bool | None = None,
    subtotal: bool | None = None,
    truncated: bool | None = None,
    blanks: bool = False,
) -> SyntheticReport:
    """One synthetic report, fully determined by `seed` and the options.

    break_rule: None — a break is planted in ~15% of reports; False — never; True — always, rule at
    random; a rule id — that rule. The truth's violations are what the rule evaluator finds on the
    printed figures. crlf / subtotal (the 8th column) / truncated (the text ends after table 2 or 3; never
    together with a planted break): None leaves them to chance. blanks: leave a few zero cells blank (truth
    None, checks through them not evaluable); only in layouts whose cells are delimited (BLANK_LAYOUTS), never
    with a planted break.
    """
    rng = random.Random(seed)
    tpl, year = _template_and_year(rng, template)
    layout_name = layout or rng.choice(tuple(LAYOUT_ORDER))
    if layout_name not in layouts.LAYOUTS:
        raise ValueError(f"unknown layout {layout_name!r}; one of {', '.join(layouts.LAYOUTS)}")
    spec = layouts.LAYOUTS[layout_name]
    enc = encoding or _pick(rng, _ENCODING_WEIGHTS)
    if enc not in ENCODINGS:
        raise ValueError(f"unknown encoding {enc!r}; one of {', '.join(ENCODINGS)}")
    use_crlf = crlf if crlf is not None else rng.random() < 0.15

    if blanks and layout_name not in BLANK_LAYOUTS:
        raise ValueError(f"blank cells are only unambiguous in {', '.join(BLANK_LAYOUTS)}, not in {layout_name}")
    if blanks and break_rule not in (None, False):
        raise ValueError("a report with blank cells cannot carry a planted break (its check may not be evaluable)")
    if break_rule is None:
        rule = rng.choice(BREAKABLE_RULES) if rng.random() < BREAK_RATE and not truncated and not blanks else None
    elif break_rule is True:
        rule = rng.choice(BREAKABLE_RULES)
    elif break_rule is False:
        rule = None
    else:
        rule = break_rule
        if rule not in BREAKABLE_RULES:
            raise ValueError(f"unknown rule {rule!r}; one of {', '.join(BREAKABLE_RULES)}")
    has_subtotal = subtotal if subtotal is not None else rng.random() < SUBTOTAL_RATE
    if rule == "legal_person_subtotal":
        has_subtotal = True

    fig = figures.draw(rng, tpl, subtotal=has_subtotal)
    if rule:
        figures.plant_break(rng, fig, rule)
    if blanks:
        figures.leave_blanks(rng, fig)
    cut = truncated if truncated is not None else rule is None and rng.random() < TRUNCATED_RATE
    if cut and rule:
        raise ValueError("a truncated report cannot carry a planted break (its table may be cut away)")
    sections = rng.choice((2, 3)) if cut else len(text.SECTION_HEADINGS)

    agency, short, region = text.agency_name(rng, fig.size)
    title_style = _pick(rng, text.TITLE_STYLES)
    sidecar: dict[str, Any] | None = None
    # seed 004: no title and no sidecar — the agency is unknown, the year only in the statistics period
    anonymous = title_style == "missing" and rng.random() < ANONYMOUS_RATE
    if not anonymous and (title_style == "missing" or rng.random() < SIDECAR_RATE_WITH_TITLE):
        sidecar = {"agency": agency, "year": year}
        if rng.random() < 0.5:
            sidecar["region"] = region
        if rng.random() < 0.5:
            sidecar["url"] = f"https://www.example.gov.cn/xxgk/{year}/{seed:08d}.html"
    headings = text.SECTION_HEADINGS
    if title_style == "missing" and spec.pdf_like and rng.random() < 0.5:
        headings = (headings[0][2:], *headings[1:])  # seed 004 opens with " 总体情况": the 一、 was lost
    doc = document.build(
        rng,
        fig,
        agency=agency,
        year=year,
        title=text.title_lines(rng, title_style, agency, year),
        title_after_heading=title_style == "after_heading",
        # seeds 000/004: a report whose title is late or missing opens with its first heading
        preface=text.preface(rng, agency, year) if title_style not in ("after_heading", "missing") else [],
        narrative=text.narrative(rng, short, year, tpl, period=anonymous),
        headings=headings,
        pdf_like=spec.pdf_like,
        sections=sections,
    )
    if cut:
        figures.truncate(fig, sections)
    rendered = spec.render(doc, rng)
    if isinstance(rendered, bytes):
        data, enc_name = rendered, "binary"
    else:
        if use_crlf:
            rendered = rendered.replace("\n", "\r\n")
        codec, prefix = ENCODINGS[enc]
        data, enc_name = prefix + rendered.encode(codec), enc
    return SyntheticReport(
        seed=seed,
        name=f"synth_{seed:06d}{spec.suffix}",
        data=data,
        sidecar=sidecar,
        truth=figures.truth_json(fig, None if anonymous else agency, year),
        layout=layout_name,
        encoding=enc_name,
        crlf=use_crlf and enc_name != "binary",
        break_rule=rule,
        truncated=bool(cut),
        blanks=blanks,
        region=region,
        cell_style=doc.style.name,
        title_style=title_style,
        flags=doc.flags,
    )


#: the layouts drawn when the caller names none (every registered layout, in registration order)
LAYOUT_ORDER = layouts.LAYOUTS


#: above this many reports, write_corpus returns light records (no bytes, no truth: see truth.jsonl)
KEEP_LIMIT = 20_000


def corpus_seed(seed: int, i: int) -> int:
    """The seed of the i-th report of corpus `seed` (corpora with different seeds do not overlap)."""
    return seed * 10_000_000 + i


def write_corpus(
    out_dir: Path, n: int, seed: int = 0, *, duplicate_rate: float = 0.0, **opts: Any
) -> list[SyntheticReport]:
    """Write `n` reports into `out_dir`, each with its sidecar (`<name>.meta.json`) when it has one, and
    a `truth.jsonl` manifest (one line per report: name, layout, encoding, sidecar, truth …).

    duplicate_rate: share of files that are byte-identical copies of an earlier file under another name
    (crawlers save the same report twice); their manifest line names the original in `duplicate_of`.
    `opts` go to `generate_report` (template, layout, encoding, break_rule, crlf, subtotal, truncated).
    Memory stays flat for benchmark-size corpora: above KEEP_LIMIT reports the returned records carry
    neither bytes nor truth (both are on disk).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keep = n <= KEEP_LIMIT
    copies = random.Random(corpus_seed(seed, n))
    recent: list[SyntheticReport] = []  # originals that a later file may copy
    out: list[SyntheticReport] = []
    with (out_dir / "truth.jsonl").open("w", encoding="utf-8") as manifest:
        for i in range(n):
            s = corpus_seed(seed, i)
            if recent and copies.random() < duplicate_rate:
                original = copies.choice(recent)
                report = replace(
                    original,
                    seed=s,
                    name=f"synth_{s:06d}{Path(original.name).suffix}",
                    duplicate_of=original.name,
                )
            else:
                report = generate_report(s, **opts)
                recent = [*recent[-99:], report]
            (out_dir / report.name).write_bytes(report.data)
            if report.sidecar is not None:
                (out_dir / (report.name + ".meta.json")).write_text(
                    json.dumps(report.sidecar, ensure_ascii=False), encoding="utf-8"
                )
            manifest.write(json.dumps(report.manifest(), ensure_ascii=False) + "\n")
            if not keep:
                report = replace(report, data=b"", truth={})
            out.append(report)
    return out
