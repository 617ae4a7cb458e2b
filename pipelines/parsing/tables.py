"""Tables 2, 3 and 4 from normalized report lines, in every layout the spec lists.

OWNED BY THE TABLE-PARSER WORK (issue 2). Interface is fixed: `extract_tables(lines, template)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.parsing.record import Cell, Table3, Table4


@dataclass(slots=True)
class Tables:
    proactive: dict[str, Cell] = field(default_factory=dict)
    applications: Table3 = field(default_factory=dict)
    appeals: Table4 = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def extract_tables(lines: list[str], template: str) -> Tables:
    """Read tables 2, 3 and 4 of a report whose format (`2019`/`2021`) is already known."""
    raise NotImplementedError
