"""Invariants of the synthetic report generator (pipelines.synth): truth, planted breaks, determinism,
every layout and encoding renderable and decodable."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipelines.parsing import decode, normalize
from pipelines.synth import BREAKABLE_RULES, ENCODINGS, LAYOUTS, generate_report, register, write_corpus
from pipelines.synth.figures import SUBTOTAL, Figures, truth_record
from pipelines.synth.text import RADICALS_SUPPLEMENT
from schemas.codes import (
    APPEAL_OUTCOME_CODES,
    APPLICATION_ROWS,
    COLUMN_CODES,
    PROCEEDING_CODES,
    proactive_keys,
)

SEEDS = range(400)


def _figures_of(truth: dict) -> Figures:
    return Figures(
        template=truth["template"],
        size="",
        proactive=truth["proactive"],
        amount_yuan={},
        applications=truth["applications"],
        appeals=truth["appeals"],
        has_subtotal=SUBTOTAL in truth["applications"].get("new_received", {}),
    )


def _violations(truth: dict) -> list[dict]:
    """What the rule evaluator finds on the truth figures (independently of what the generator stored)."""
    record = truth_record(_figures_of(truth), truth["agency"], truth["year"])
    return [{"rule": v.rule, "location": v.location, "expected": v.expected, "actual": v.actual} for v in
            record.violations]  # fmt: skip


@pytest.fixture(scope="module")
def reports():
    return [generate_report(s) for s in SEEDS]


def test_truth_has_every_cell_of_its_format(reports) -> None:
    for r in reports:
        t = r.truth
        assert t["template"] in ("2019", "2021")
        assert list(t["proactive"]) == list(proactive_keys(t["template"]))
        if r.truncated:  # the text ends after table 2 or 3: the truth has no figures for what is cut
            assert not t["appeals"] and not t["violations"]
            continue
        assert list(t["applications"]) == [row.code for row in APPLICATION_ROWS[t["template"]]]
        for cells in t["applications"].values():
            assert set(COLUMN_CODES) <= set(cells) <= {*COLUMN_CODES, SUBTOTAL}
        assert list(t["appeals"]) == list(PROCEEDING_CODES)
        assert all(list(o) == list(APPEAL_OUTCOME_CODES) for o in t["appeals"].values())
        assert 2019 <= t["year"] <= 2025
        assert t["template"] == "2021" or t["year"] <= 2023
        assert t["template"] == "2019" or t["year"] >= 2021


def test_truth_satisfies_every_rule_unless_a_break_was_planted(reports) -> None:
    clean = [r for r in reports if r.break_rule is None]
    assert len(clean) > 250
    for r in clean:
        assert r.truth["violations"] == []
        assert _violations(r.truth) == [], r.name


def test_planted_breaks_are_the_evaluators_breaches(reports) -> None:
    broken = [r for r in reports if r.break_rule is not None]
    assert 0.08 < len(broken) / len(reports) < 0.25
    for r in broken:
        assert r.truth["violations"] == _violations(r.truth)
        assert r.break_rule in {v["rule"] for v in r.truth["violations"]}


@pytest.mark.parametrize("rule", BREAKABLE_RULES)
def test_every_rule_can_be_broken(rule: str) -> None:
    for seed in range(30):
        r = generate_report(seed, break_rule=rule)
        found = {v["rule"] for v in r.truth["violations"]}
        assert rule in found, (seed, r.truth["violations"])
        for v in r.truth["violations"]:
            key, _, code = v["location"].partition("=")
            assert key in ("column", "row", "proceeding", "cell")
            assert code
            assert v["expected"] != v["actual"]


def test_one_altered_cell_can_break_several_equations() -> None:
    """row_total planted on a part cell also breaks the column equation through that cell."""
    kinds = Counter()
    for seed in range(60):
        r = generate_report(seed, break_rule="row_total")
        kinds[frozenset(v["rule"] for v in r.truth["violations"])] += 1
    assert any(len(k) > 1 for k in kinds), kinds


def test_deterministic_for_a_seed() -> None:
    for seed in (0, 7, 123456):
        a, b = generate_report(seed), generate_report(seed)
        assert (a.name, a.data, a.truth, a.sidecar, a.layout, a.encoding) == (
            b.name,
            b.data,
            b.truth,
            b.sidecar,
            b.layout,
            b.encoding,
        )
    assert generate_report(1).data != generate_report(2).data


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_every_layout_and_encoding_renders_and_decodes(layout: str, encoding: str) -> None:
    for seed in range(5):
        r = generate_report(seed, layout=layout, encoding=encoding, crlf=seed % 2 == 0)
        assert r.layout == layout and r.encoding == encoding
        assert r.name.endswith(LAYOUTS[layout].suffix)
        text, found = decode.decode(r.data)
        assert found.replace("-bom", "").replace("-le", "") == encoding.replace("-bom", "")
        assert ("\r\n" in text) == (seed % 2 == 0)
        flat = normalize.normalize(text)
        if r.title_style != "missing":
            assert r.truth["agency"] in flat.replace(" ", "")
            assert str(r.truth["year"]) in flat or r.title_style == "chinese_year"
        elif r.sidecar is not None:
            assert r.sidecar == {**r.sidecar, "agency": r.truth["agency"], "year": r.truth["year"]}
        else:  # no title, no sidecar: agency unknown, the year stated in the statistics period
            assert r.truth["agency"] is None
            assert f"统计期限自{r.truth['year']}年1月1日" in flat
        assert "\ufffd" not in text


def test_radical_look_alikes_fold_back_under_the_parsers_normalization() -> None:
    for plain, radical in RADICALS_SUPPLEMENT.items():
        assert normalize.normalize(radical) == plain
    pdf = [generate_report(s, layout="pdf_text") for s in range(40)]
    texts = [r.data for r in pdf if r.encoding == "utf-8"]
    assert any("⼀".encode() in t or "⾏".encode() in t for t in texts)
    assert any(any(rad.encode() in t for rad in RADICALS_SUPPLEMENT.values()) for t in texts)


def test_figures_are_realistic(reports) -> None:
    values = [v for r in reports for cells in r.truth["applications"].values() for v in cells.values()]
    zeros = sum(1 for v in values if v == 0) / len(values)
    assert zeros > 0.6  # most agencies are small
    assert max(values) >= 1000  # and a few are large
    decisions = [v for r in reports for k, v in r.truth["proactive"].items() if k.endswith("decisions")]
    assert max(decisions) >= 100_000
    changes = [v for r in reports for k, v in r.truth["proactive"].items() if k.endswith("items_change")]
    assert min(changes) < 0
    amounts = [v for r in reports for k, v in r.truth["proactive"].items() if "amount" in k]
    assert all(isinstance(v, float) for v in amounts) and any(v != int(v) for v in amounts)
    agencies = {r.truth["agency"] for r in reports}
    assert len(agencies) > 300
    assert any(a.endswith("街道办事处") for a in agencies) and any(a.endswith("人民政府") for a in agencies)


def test_cell_styles_and_header_variants_occur(reports) -> None:
    blob = "\n".join(normalize.normalize(decode.decode(r.data)[0]) for r in reports)
    for token in ("\t-\t", "—", " / ", "无 ", "元", ",", "+", "本年度止件数", "社会组织", "历史累计", "数据1"):
        assert token in blob, token
    raw = b"".join(r.data for r in reports if r.encoding == "utf-8")
    assert "２".encode() in raw  # full-width digits before normalization
    assert Counter(r.layout for r in reports).keys() == LAYOUTS.keys()
    assert {r.encoding for r in reports} == set(ENCODINGS)
    assert any(r.crlf for r in reports)


def test_write_corpus(tmp_path: Path) -> None:
    out = write_corpus(tmp_path, 30, seed=3, break_rule=False)
    assert len(out) == 30 and len({r.name for r in out}) == 30
    manifest = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [m["name"] for m in manifest] == [r.name for r in out]
    for r, m in zip(out, manifest, strict=True):
        assert (tmp_path / r.name).read_bytes() == r.data
        assert m["truth"] == json.loads(json.dumps(r.truth))
        sidecar = tmp_path / (r.name + ".meta.json")
        assert sidecar.exists() == (r.sidecar is not None)
        if r.sidecar:
            assert json.loads(sidecar.read_text(encoding="utf-8")) == r.sidecar
    assert write_corpus(tmp_path / "b", 3, seed=4)[0].data != out[0].data


def test_truncated_reports_lose_their_last_tables() -> None:
    for seed in range(20):
        r = generate_report(seed, truncated=True, layout="tsv")
        flat = normalize.normalize(decode.decode(r.data)[0])
        assert r.truncated and r.truth["proactive"] and not r.truth["appeals"]
        assert "行政复议" not in flat.split("三、收到和处理")[-1]
        if not r.truth["applications"]:
            assert "本年新收政府信息公开申请数量" not in flat
    with pytest.raises(ValueError):
        generate_report(1, truncated=True, break_rule="balance")


def test_write_corpus_duplicates(tmp_path: Path) -> None:
    out = write_corpus(tmp_path, 40, seed=5, duplicate_rate=0.3)
    copies = [r for r in out if r.duplicate_of]
    assert copies
    by_name = {r.name: r for r in out}
    for c in copies:
        assert (tmp_path / c.name).read_bytes() == (tmp_path / c.duplicate_of).read_bytes()
        assert c.truth == by_name[c.duplicate_of].truth


def test_title_missing_means_sidecar_or_unknown_agency(reports) -> None:
    missing = [r for r in reports if r.title_style == "missing"]
    assert any(r.sidecar for r in missing) and any(r.sidecar is None for r in missing)
    for r in missing:
        flat = normalize.normalize(decode.decode(r.data)[0])
        if r.sidecar is None:
            assert r.truth["agency"] is None and f"统计期限自{r.truth['year']}年" in flat
        else:
            assert (r.sidecar["agency"], r.sidecar["year"]) == (r.truth["agency"], r.truth["year"])


def test_deterministic_across_processes() -> None:
    """No hash-order dependence: another interpreter with another hash seed writes the same bytes."""
    code = (
        "import hashlib; from pipelines.synth import generate_report as g; h = hashlib.sha256()\n"
        "for i in range(60): r = g(i); h.update(r.data + repr((r.truth, r.sidecar)).encode())\n"
        "print(h.hexdigest())"
    )
    here = hashlib.sha256()
    for i in range(60):
        r = generate_report(i)
        here.update(r.data + repr((r.truth, r.sidecar)).encode())
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == here.hexdigest()


def test_a_new_renderer_plugs_into_the_registry() -> None:
    @register("test_plain_lines")
    def render(doc, rng):  # every cell on its own line: enough to prove the plumbing
        return "\n".join([*doc.title, *(c for row in doc.applications for c in [row.label, *row.cells])])

    try:
        r = generate_report(9, layout="test_plain_lines", encoding="gb18030")
        assert r.layout == "test_plain_lines" and r.name.endswith(".txt")
        assert "本年新收政府信息公开申请数量" in r.data.decode("gb18030")
    finally:
        del LAYOUTS["test_plain_lines"]


def test_command_line_writes_a_corpus(tmp_path: Path, capsys) -> None:
    from pipelines.synth.__main__ import main

    assert main([str(tmp_path), "--n", "12", "--layout", "markdown", "--break-rule", "appeal_total"]) == 0
    lines = (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12 and all(json.loads(x)["break_rule"] == "appeal_total" for x in lines)
    assert len(list(tmp_path.glob("*.md"))) == 12
    assert "12 reports" in capsys.readouterr().out


def test_agency_names_are_true_region_chains(reports) -> None:
    """Names start with real divisions in their real nesting: the region lookup never contradicts them."""
    region = pytest.importorskip("pipelines.analytics.region")
    try:
        region.dataset_info()
    except ModuleNotFoundError:
        pytest.skip("cpca division list not installed")
    resolved = 0
    for r in reports:
        if r.truth["agency"] is None:
            continue
        found = region.region_of(r.truth["agency"], (r.sidecar or {}).get("region"))
        if found.province is not None:
            resolved += 1
            assert r.region.startswith(found.province), (r.truth["agency"], r.region, found)
            assert found.city is None or r.region == found.province + found.city, (r.truth["agency"], found)
    assert resolved > 0.9 * len(reports)


@pytest.mark.parametrize("layout", ["tsv", "markdown"])
def test_blank_cells_are_null_in_the_truth_and_not_evaluable(layout: str) -> None:
    for seed in range(10):
        r = generate_report(seed, layout=layout, blanks=True)
        blank = [(row, c) for row, cols in r.truth["applications"].items() for c, v in cols.items() if v is None]
        assert blank and r.truth["violations"] == [] and r.break_rule is None
        record = truth_record(_figures_of(r.truth), r.truth["agency"], r.truth["year"])
        assert record.violations == [] and record.not_evaluable
    with pytest.raises(ValueError):
        generate_report(1, layout="pdf_text", blanks=True)
    with pytest.raises(ValueError):
        generate_report(1, layout="tsv", blanks=True, break_rule="balance")
