"""Template detection decides as the full marker scores do, whichever markers a text holds."""

from __future__ import annotations

import itertools
import random

from pipelines.parsing import metadata


def _by_scores(text: str, year: int | None) -> str:
    """The rule as written: both scores in full, then the table markers, then the year."""
    compact = text.replace(" ", "").replace("\t", "")
    score_2021 = sum(m in compact for m in metadata._MARKERS_2021)
    score_2019 = sum(m in compact for m in metadata._MARKERS_2019)
    if score_2021 or score_2019:
        return "2021" if score_2021 >= score_2019 else "2019"
    if any(m in compact for m in metadata._TABLE_MARKERS):
        return "2021" if "不再处理其政府信息公开申请" in compact else "2019"
    if year is not None and year < 2019 and metadata.REPORT_TITLE in compact:
        return "pre2019"
    return "unknown"


def test_template_equals_full_scores() -> None:
    rng = random.Random(0)
    markers = [*metadata._MARKERS_2021, *metadata._MARKERS_2019, *metadata._TABLE_MARKERS]
    seen = set()
    for _ in range(3000):
        rate = rng.choice([0.0, 0.05, 0.5, 0.9])
        chosen = [m for m in markers if rng.random() < rate] + [metadata.REPORT_TITLE] * rng.randint(0, 1)
        # markers spaced out as a PDF extraction leaves them
        text = "正文\n".join(" ".join(m) if rng.random() < 0.2 else m for m in chosen)
        year = rng.choice([None, 2015, 2020])
        expected = _by_scores(text, year)
        seen.add(expected)
        assert metadata.detect_template(text, year) == expected, (chosen, year)
    assert seen == {"2021", "2019", "pre2019", "unknown"}


def test_ties_and_shortcuts() -> None:
    m21, m19 = metadata._MARKERS_2021, metadata._MARKERS_2019
    for n21, n19 in itertools.product(range(len(m21) + 1), range(len(m19) + 1)):
        text = "\n".join([*m21[:n21], *m19[:n19]])
        assert metadata.detect_template(text, None) == _by_scores(text, None), (n21, n19)
