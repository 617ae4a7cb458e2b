"""Consecutive-year report files with planted carryover_continuity breaks (analytics end-to-end tests).

Built with the synthetic generator's own machinery (`pipelines.synth`: figures → document → the `tsv`
layout), so the parser reads them like any synthetic report; we only set table 3 so that each year
continues the previous one, then break the continuity on purpose in some columns and keep every
within-report rule intact (new_received absorbs the change, so only the cross-year rule can break).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.analytics.region import _PLACEHOLDER, _divisions, _lineage
from pipelines.synth import document, figures, layouts, text
from schemas.codes import TOTAL_PART_CODES

DEPARTMENTS = ("民政局", "财政局", "教育局", "司法局", "人民政府办公室", "统计局")


@dataclass
class ContinuityCorpus:
    #: (file name, report year, column) of every planted break
    planted: set[tuple[str, int, str]] = field(default_factory=set)
    #: file name -> province the agency name determines (None: the name does not determine one)
    provinces: dict[str, str | None] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _agencies(rng: random.Random, n: int) -> list[tuple[tuple[str, ...], str | None, str | None]]:
    """(spellings over the years, true province, sidecar region) — real divisions: unique names, names
    prefixed by their city, ambiguous names alone (no province) and ambiguous names with a sidecar region."""
    divisions = [d for d in _divisions().values() if d.rank == 2 and not _PLACEHOLDER.match(d.name)]
    names: dict[str, int] = {}
    for d in divisions:
        names[d.name] = names.get(d.name, 0) + 1
    out = []
    for d in rng.sample(divisions, n):
        lineage = _lineage(d)
        dept = rng.choice(DEPARTMENTS)
        province = lineage[0].name
        chain = "".join(x.name for x in lineage[1:])
        if names[d.name] == 1:
            short = "政府办" if dept == "人民政府办公室" else dept
            spellings = (d.name + dept, chain + dept, d.name + short)
            out.append((spellings, province, None))
        else:  # an ambiguous county name: only the prefixed spelling or a sidecar region determines it
            out.append(((chain + dept,) * 3, province, None))
            out.append(((d.name + dept,) * 3, None, None))
            out.append(((d.name + "人民政府",) * 3, province, province + lineage[1].name))
    return out


def _set_row(apps: dict[str, dict[str, int]], row: str, values: dict[str, int]) -> None:
    apps[row].update(values)
    apps[row]["total"] = sum(apps[row][c] for c in TOTAL_PART_CODES)


def write_continuity_corpus(
    out_dir: Path, n_agencies: int = 12, years: tuple[int, ...] = (2021, 2022, 2023), seed: int = 0
) -> ContinuityCorpus:
    rng = random.Random(seed)
    corpus = ContinuityCorpus()
    out_dir.mkdir(parents=True, exist_ok=True)
    for a, (spellings, province, region) in enumerate(_agencies(rng, n_agencies)):
        forward: dict[str, int] | None = None
        for y, year in enumerate(years):
            fig = figures.draw(rng, "2021", subtotal=False)
            apps = fig.applications
            name = f"a{a:03d}_{year}.txt"
            if forward is not None:
                over = dict(forward)
                for c in TOTAL_PART_CODES:
                    if rng.random() < 0.2:
                        over[c] += rng.randint(1, 9)
                        corpus.planted.add((name, year, c))
                if any((name, year, c) in corpus.planted for c in TOTAL_PART_CODES):
                    corpus.planted.add((name, year, "total"))
                _set_row(apps, "carried_over", over)
            # keep the balance rule: new_received = handled + carried forward - carried over
            for c in TOTAL_PART_CODES:
                gap = apps["outcome_total"][c] + apps["carried_forward"][c] - apps["carried_over"][c]
                if gap < 0:
                    apps["carried_forward"][c] -= gap
                    gap = 0
                apps["new_received"][c] = gap
            for row in ("new_received", "carried_forward"):
                _set_row(apps, row, {})
            forward = {c: apps["carried_forward"][c] for c in TOTAL_PART_CODES}
            agency = spellings[y % len(spellings)]
            doc = document.build(
                rng,
                fig,
                agency=agency,
                year=year,
                title=text.title_lines(rng, "plain", agency, year),
                title_after_heading=False,
                preface=text.preface(rng, agency, year),
                narrative=text.narrative(rng, "本机关", year, "2021"),
                headings=text.SECTION_HEADINGS,
            )
            (out_dir / name).write_text(layouts.LAYOUTS["tsv"].render(doc, rng), encoding="utf-8")
            if region is not None:
                sidecar = {"region": region}
                (out_dir / f"{name}.meta.json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
            corpus.provinces[name] = province
            corpus.files.append(name)
    return corpus
