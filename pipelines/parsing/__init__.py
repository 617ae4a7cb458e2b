"""Dagster-free parsing library: one raw report file in, one canonical `ReportRecord` out."""

from pipelines.parsing import native  # noqa: F401  (first: refuses a stale compiled module)
from pipelines.parsing.parse import PARSER_VERSION, parse_bytes, parse_file
from pipelines.parsing.record import Cell, ReportRecord, Source, Violation

__all__ = ["PARSER_VERSION", "Cell", "ReportRecord", "Source", "Violation", "parse_bytes", "parse_file"]
