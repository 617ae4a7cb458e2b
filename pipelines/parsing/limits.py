"""Resource limits of the parser: what a file may be before it is refused or cut, instead of crashing a build.

The nightly pipeline reads files nobody has looked at, so every size the parser works with is bounded.
Limits are configuration: pass a `ParseLimits` to `parse_bytes`/`parse_file`, or set the environment
variables below; they are read at call time (never at import time), so tests and Dagster resources can
change them per run.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

#: environment variable -> `ParseLimits` field
ENV_VARS: dict[str, str] = {
    "XXGK_MAX_FILE_BYTES": "max_file_bytes",
    "XXGK_MAX_TEXT_CHARS": "max_text_chars",
    "XXGK_MAX_LINES": "max_lines",
    "XXGK_MAX_LINE_CHARS": "max_line_chars",
    "XXGK_MAX_SIDECAR_BYTES": "max_sidecar_bytes",
}


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds on one input file. A real annual report is 5–500 KB of text in a few hundred lines."""

    #: raw file size; larger files are not read at all (`failed`, "file too large: N bytes > limit")
    max_file_bytes: int = 50 * 1024 * 1024
    #: characters of text after decoding/extraction (an HTML or Word file can expand); larger: `failed`
    max_text_chars: int = 20_000_000
    #: lines of text after extraction; more: `failed` (a report has hundreds, not hundreds of thousands)
    max_lines: int = 200_000
    #: characters in one line; a longer line is cut to this length before the table parser sees it and the
    #: record says so (it cannot be `ok`: what was cut may have held figures)
    max_line_chars: int = 20_000
    #: bytes of a `.meta.json` sidecar; a larger sidecar is ignored with a problem text
    max_sidecar_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"ParseLimits.{f.name} must be a positive integer, not {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ParseLimits:
        """Defaults overridden by `XXGK_MAX_*` variables. Raises ValueError naming a malformed variable."""
        env = os.environ if environ is None else environ
        return _from_settings(tuple(env.get(var) for var in ENV_VARS))


@functools.lru_cache(maxsize=8)
def _from_settings(settings: tuple[str | None, ...]) -> ParseLimits:
    """The limits for the raw values of `ENV_VARS` (in its order). Cached: every parsed file reads the
    environment, which rarely changes; a malformed value raises (and is not cached) each time."""
    values: dict[str, int] = {}
    for (var, field_name), raw in zip(ENV_VARS.items(), settings, strict=True):
        if raw is None or not raw.strip():
            continue
        try:
            values[field_name] = int(raw.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"{var}={raw!r} is not an integer") from None
        if values[field_name] <= 0:
            raise ValueError(f"{var}={raw!r} must be positive")
    return ParseLimits(**values)


def resolve(limits: ParseLimits | None) -> tuple[ParseLimits, str | None]:
    """The limits to use for one call, and a problem text if the environment held a malformed value.

    The parser never raises, so a malformed variable falls back to the defaults and every record says so
    (loudly, not silently); callers that want to fail fast call `ParseLimits.from_env()` themselves.
    """
    if limits is not None:
        return limits, None
    try:
        return ParseLimits.from_env(), None
    except ValueError as exc:
        return ParseLimits(), f"parse limits from the environment ignored, defaults used: {exc}"
