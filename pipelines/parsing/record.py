"""The canonical record of one report file: what the parser returns and the warehouse loads.

`ReportRecord.to_json()` is exactly the JSON shape of `warehouse.md` (`xxgk parse --json`), plus
`raw` — the text of every cell as printed, for provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Number = int | float


@dataclass(slots=True)
class Cell:
    """One table cell: the value read (None where the cell is blank) and the text as printed."""

    value: Number | None
    raw: str


@dataclass(slots=True)
class Violation:
    rule: str
    location: str
    expected: Number | None
    actual: Number | None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "location": self.location,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


@dataclass(slots=True)
class Source:
    """Where the record came from. `path` is relative to the raw root when there is one."""

    path: str
    sha256: str = ""
    size: int = 0
    format: str = "text"
    encoding: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "format": self.format,
            "encoding": self.encoding,
        }


Table3 = dict[str, dict[str, Cell]]  # row_code -> column code -> cell
Table4 = dict[str, dict[str, Cell]]  # proceeding -> outcome -> cell


@dataclass(slots=True)
class ReportRecord:
    source: Source
    agency: str | None = None
    year: int | None = None
    template: str = "unknown"
    status: str = "failed"
    problems: list[str] = field(default_factory=list)
    proactive: dict[str, Cell] = field(default_factory=dict)  # "item|subject|metric" -> cell
    applications: Table3 = field(default_factory=dict)
    appeals: Table4 = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    #: rule checks that could not be evaluated (blank cells), as "rule@location"
    not_evaluable: list[str] = field(default_factory=list)
    #: sha256 of the normalized text (duplicate detection across file names)
    text_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source.to_json(),
            "agency": self.agency,
            "year": self.year,
            "template": self.template,
            "status": self.status,
            "problems": "; ".join(self.problems) if self.problems else None,
            "proactive": {k: c.value for k, c in self.proactive.items()},
            "applications": {r: {c: cell.value for c, cell in cols.items()} for r, cols in self.applications.items()},
            "appeals": {p: {o: cell.value for o, cell in outs.items()} for p, outs in self.appeals.items()},
            "violations": [v.to_json() for v in self.violations],
            "not_evaluable": list(self.not_evaluable),
            "raw": {
                "proactive": {k: c.raw for k, c in self.proactive.items()},
                "applications": {r: {c: cell.raw for c, cell in cols.items()} for r, cols in self.applications.items()},
                "appeals": {p: {o: cell.raw for o, cell in outs.items()} for p, outs in self.appeals.items()},
            },
        }
