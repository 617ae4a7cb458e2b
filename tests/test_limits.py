"""Parse limits follow the environment at call time, though their construction is cached."""

from __future__ import annotations

import pytest

from pipelines.parsing.limits import ParseLimits, resolve


def test_limits_follow_the_environment_between_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XXGK_MAX_LINES", raising=False)
    assert resolve(None) == (ParseLimits(), None)
    monkeypatch.setenv("XXGK_MAX_LINES", "1_000")
    assert resolve(None)[0].max_lines == 1000
    monkeypatch.setenv("XXGK_MAX_LINES", "12")
    assert resolve(None)[0].max_lines == 12
    monkeypatch.setenv("XXGK_MAX_LINES", "many")
    for _ in range(2):  # a malformed value is said on every call, not cached away
        limits, problem = resolve(None)
        assert limits == ParseLimits()
        assert problem is not None and "XXGK_MAX_LINES='many' is not an integer" in problem
    monkeypatch.setenv("XXGK_MAX_LINES", "-3")
    with pytest.raises(ValueError, match="must be positive"):
        ParseLimits.from_env()
    assert ParseLimits.from_env({"XXGK_MAX_FILE_BYTES": "10"}).max_file_bytes == 10
