"""The five seed reports and four extractions of a real report reproduce their expected figures exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.parsing import parse_bytes
from schemas.codes import APPLICATION_ROWS, proactive_keys

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(FIXTURES.glob("*.txt")) + sorted((FIXTURES / "real").glob("*.txt"))


def _expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name.split(".")[0] + ".expected.json").read_text(encoding="utf-8"))


def test_all_fixtures_are_collected() -> None:
    assert len(CASES) == 9


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_fixture_reproduces_every_figure(path: Path) -> None:
    expected = _expected(path)
    record = parse_bytes(path.read_bytes(), path.name)
    got = record.to_json()

    assert (got["agency"], got["year"], got["template"]) == (
        expected["agency"],
        expected["year"],
        expected["template"],
    )
    template = expected["template"]
    # every key of the format is expected, and read exactly (value and type: counts int, amounts float)
    assert set(expected["proactive"]) == set(proactive_keys(template))
    for key, value in expected["proactive"].items():
        assert got["proactive"].get(key) == value, key
        assert type(got["proactive"][key]) is type(value), key
    assert list(got["applications"]) == [r.code for r in APPLICATION_ROWS[template]]
    assert got["applications"] == expected["applications"]
    assert got["appeals"] == expected["appeals"]
    assert got["violations"] == expected["violations"] == []
    assert record.status == "ok", record.problems
