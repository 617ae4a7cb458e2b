"""The DuckDB catalog `<out>/xxgk.duckdb`: views over the Parquet data of record, with comments.

The catalog holds no data of its own (besides small code lookup tables), so it is rebuilt whole at every
build: written to a new file beside the old one, then renamed over it. A reader that has the old file open
keeps reading it; the next connection sees the new one; nobody ever waits on a lock.

Views read the Parquet files by absolute path (rewritten at every build), so the catalog answers from any
working directory. Move the warehouse folder, then run `xxgk build` (or `xxgk catalog`) to rewrite them.
The paths name the current snapshot's folder (`snapshots/<id>/…`, see `snapshots`), not the `current`
link: the tables computed here from the data (report identity, continuity breaches) then always agree with
the views, even while the next build flips `current`. Once the new catalog is in place, snapshots no
catalog needs any more are removed.
The file is written with `STORAGE_COMPATIBILITY` so that older DuckDB releases (e.g. the 1.1/1.2 bundled
with BI drivers) can open it.

No value read from a report is ever pasted into SQL: the only literals are our own paths and the
labels declared in `schemas`; lookup rows are inserted with parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.warehouse import snapshots
from pipelines.warehouse.partitions import PARQUET_DIR
from pipelines.warehouse.registry import REGISTRY_SCHEMA
from schemas.codes import ALL_APPLICATION_ROWS, APPEAL_OUTCOMES, APPLICANT_COLUMNS, PROACTIVE_ITEMS, ROW_BY_CODE
from schemas.rules import RULE_DESCRIPTIONS
from schemas.tables import PARTITION_COLUMN, TABLES, UNKNOWN_YEAR_PARTITION, Column, Table

CATALOG_FILE = "xxgk.duckdb"
#: derived data a build reuses from the previous one (the report identity lookup); safe to delete
CACHE_DIR = ".cache"
#: Storage format of the catalog: DuckDB 1.1 and later open it (tested with 1.1.3). DuckDB 1.0 cannot:
#: column comments on views did not exist yet.
STORAGE_COMPATIBILITY = "v1.1.0"

_DUCKDB_TYPES = {
    "String": "VARCHAR",
    "Int64": "BIGINT",
    "Int32": "INTEGER",
    "Float64": "DOUBLE",
    "Boolean": "BOOLEAN",
}


def sql_str(text: str) -> str:
    """A SQL string literal (only ever used for our own paths and labels)."""
    return "'" + text.replace("'", "''") + "'"


def _duckdb_type(dtype: pl.DataType) -> str:
    name = type(dtype).__name__
    if name == "Datetime":
        return "TIMESTAMP WITH TIME ZONE"
    return _DUCKDB_TYPES[name]


@dataclass(frozen=True, slots=True)
class ViewColumn:
    name: str
    expr: str
    comment: str


@dataclass(frozen=True, slots=True)
class View:
    name: str  # schema-qualified
    comment: str
    columns: tuple[ViewColumn, ...]
    from_sql: str

    def create_sql(self) -> str:
        select = ",\n  ".join(f"{c.expr} AS {c.name}" for c in self.columns)
        return f"CREATE VIEW {self.name} AS\nSELECT\n  {select}\n{self.from_sql}"


# ---------------------------------------------------------------------------------------------------
# core: one view per base table
# ---------------------------------------------------------------------------------------------------
def _core_view(table: Table, out_dir: Path) -> View:
    def expr(c: Column) -> str:
        if c.name == PARTITION_COLUMN:
            return f"CAST(NULLIF({c.name}, {UNKNOWN_YEAR_PARTITION}) AS INTEGER)"
        return c.name

    snapshot = snapshots.current_dir(out_dir)
    dataset = snapshot.resolve() / PARQUET_DIR / table.name if snapshot else None
    if dataset is not None and any(dataset.glob(f"{PARTITION_COLUMN}=*/*.parquet")):
        pattern = (dataset / f"{PARTITION_COLUMN}=*" / "*.parquet").as_posix()
        source = (
            f"FROM read_parquet({sql_str(pattern)}, hive_partitioning = true, "
            f"hive_types = {{'{PARTITION_COLUMN}': INTEGER}}, union_by_name = true)"
        )
        columns = tuple(ViewColumn(c.name, expr(c), c.comment) for c in table.columns)
    else:  # no file yet: an empty view of the right types, so every query still answers
        source = "WHERE false"
        columns = tuple(ViewColumn(c.name, f"CAST(NULL AS {_duckdb_type(c.dtype)})", c.comment) for c in table.columns)
    return View(f"core.{table.name}", table.comment, columns, source)


def _files_view(out_dir: Path) -> View:
    snapshot = snapshots.current_dir(out_dir)
    path = snapshot.resolve() / snapshots.REGISTRY_FILE if snapshot else None
    comments = {
        "source_path": "源文件路径 — path relative to the raw root",
        "sha256": "文件指纹 — sha256 of the raw bytes (= report_id)",
        "size": "文件大小 — size in bytes",
        "mtime_ns": "修改时间 — file modification time (ns since epoch)",
        "sidecar_sha256": "附加信息指纹 — sha256 of the .meta.json sidecar (NULL if none)",
        "parser_version": "解析器版本 — parser version that read the file",
        "partition_year": "分区年度 — report_year partition holding its rows (0 = unknown year)",
        "text_sha256": "正文指纹 — sha256 of the normalized text",
        "duplicate_of": "重复于 — report_id of the identical text loaded before",
        "status": "解析状态 — ok / invalid / partial / failed",
        "ingested_at": "入库时间 — when the file was parsed (UTC)",
    }
    if path is not None and path.exists():
        columns = tuple(ViewColumn(n, n, comments[n]) for n in REGISTRY_SCHEMA.names())
        source = f"FROM read_parquet({sql_str(path.as_posix())})"
    else:
        columns = tuple(
            ViewColumn(n, f"CAST(NULL AS {_duckdb_type(t)})", comments[n]) for n, t in REGISTRY_SCHEMA.items()
        )
        source = "WHERE false"
    return View("core.files", "原始文件登记 — file registry: one row per raw file loaded", columns, source)


# ---------------------------------------------------------------------------------------------------
# main: the analytic views of warehouse.md
# ---------------------------------------------------------------------------------------------------
_REPORT_COLS = ("report_id", "agency", "report_year", "template", "status", "region")


def _passthrough(table: str, names: tuple[str, ...], alias: str) -> tuple[ViewColumn, ...]:
    t = TABLES[table]
    return tuple(ViewColumn(n, f"{alias}.{n}", t.column(n).comment) for n in names)


def _reports_view() -> View:
    from pipelines.analytics.views import IDENTITY_COLUMNS, IDENTITY_COMMENTS

    names = (*_REPORT_COLS, "source_path", "source_format", "n_violations", "problems", "source_url", "ingested_at")
    identity = tuple(ViewColumn(c, f"i.{c}", IDENTITY_COMMENTS[c]) for c in IDENTITY_COLUMNS)
    return View(
        "main.reports",
        "年度报告 — one row per distinct report (copies of an identical text are left out: see core.reports), "
        "with the agency's identity and region",
        (*_passthrough("reports", names, "r"), *identity),
        # byte-identical copies share a report_id: one identity row per report_id
        "FROM core.reports r\n"
        "LEFT JOIN (SELECT DISTINCT ON (report_id) * FROM core.report_identity) i USING (report_id)\n"
        "WHERE r.duplicate_of IS NULL",
    )


def disclosure_column_name(subject: str, metric: str) -> str:
    """`regulations|issued` → regulations_issued, `administrative_fees|amount_10k_yuan` → fees_10k_yuan,
    `government_procurement|procurement_items` → procurement_items."""
    short = subject.removeprefix("administrative_")
    if metric.startswith("amount_"):
        return short + metric.removeprefix("amount")
    if metric.split("_")[0] in subject.split("_"):
        return metric
    return f"{short}_{metric}"


#: request volumes of table 3 shown in disclosure_counts: view column -> row code
REQUEST_VOLUMES: dict[str, str] = {
    "requests_new": "new_received",
    "requests_carried_over": "carried_over",
    "requests_handled": "outcome_total",
    "requests_carried_forward": "carried_forward",
}


def disclosure_columns() -> dict[str, tuple[list[str], str]]:
    """Pivot columns of table 2: name -> (keys `item|subject|metric`, comment). 2021 format first."""
    out: dict[str, tuple[list[str], str]] = {}
    for template in ("2021", "2019"):
        for it in PROACTIVE_ITEMS[template]:
            for s in it.subjects:
                for m in it.metrics:
                    name = disclosure_column_name(s.code, m.code)
                    key = f"{it.item}|{s.code}|{m.code}"
                    comment = f"{s.label}·{m.label} — {s.meaning}: {m.meaning} (table 2, {it.caption})"
                    keys, first = out.get(name, ([], comment))
                    out[name] = ([*keys, key] if key not in keys else keys, first)
    return out


def _disclosure_view() -> View:
    pivot = disclosure_columns()
    key = "item || '|' || subject || '|' || metric"
    p_select = ",\n    ".join(
        f"max(value) FILTER (WHERE {key} IN ({', '.join(sql_str(k) for k in keys)})) AS {name}"
        for name, (keys, _) in pivot.items()
    )
    a_select = ",\n    ".join(
        f"max(total) FILTER (WHERE row_code = {sql_str(code)}) AS {name}" for name, code in REQUEST_VOLUMES.items()
    )
    source = (
        "FROM main.reports r\n"
        f"LEFT JOIN (\n  SELECT report_id,\n    {p_select}\n  FROM core.proactive GROUP BY report_id\n) p\n"
        "  USING (report_id)\n"
        f"LEFT JOIN (\n  SELECT report_id,\n    {a_select}\n  FROM core.applications GROUP BY report_id\n) a\n"
        "  USING (report_id)"
    )
    volumes = tuple(
        ViewColumn(
            name,
            f"a.{name}",
            f"{ROW_BY_CODE[code].label} — {ROW_BY_CODE[code].meaning} (table 3, column 总计 total)",
        )
        for name, code in REQUEST_VOLUMES.items()
    )
    columns = (
        *_passthrough("reports", _REPORT_COLS, "r"),
        *(ViewColumn(name, f"p.{name}", comment) for name, (_, comment) in pivot.items()),
        *volumes,
    )
    return View(
        "main.disclosure_counts",
        "主动公开及申请数量 — one row per report: table 2 pivoted to one column per figure, plus request volumes",
        columns,
        source,
    )


def _outcomes_view() -> View:
    applicant = tuple(c.code for c in APPLICANT_COLUMNS)
    columns = (
        *_passthrough("reports", _REPORT_COLS[:4], "r"),
        *_passthrough("applications", ("row_code", "row_order", "category"), "a"),
        ViewColumn("row_label", "l.label", "行名称 — the row's label as printed in the national format"),
        *_passthrough("applications", applicant, "a"),
        ViewColumn(
            "share_of_handled",
            "a.total / NULLIF(h.total, 0)",
            "占办理总数比例 — total of this outcome row / total of （七）总计 (share of requests handled)",
        ),
    )
    source = (
        "FROM core.applications a\n"
        "JOIN main.reports r USING (report_id)\n"
        "LEFT JOIN core.application_rows l ON l.row_code = a.row_code\n"
        "LEFT JOIN core.applications h ON h.report_id = a.report_id AND h.row_code = 'outcome_total'\n"
        "WHERE a.category IS NOT NULL"
    )
    return View(
        "main.outcomes",
        "申请办理结果 — one row per report and outcome row of table 3 (本年度办理结果)",
        columns,
        source,
    )


def _appeals_view() -> View:
    outcomes = tuple(o.code for o in APPEAL_OUTCOMES)
    columns = (
        *_passthrough("reports", _REPORT_COLS[:4], "r"),
        *_passthrough("appeals", ("proceeding", *outcomes), "ap"),
        ViewColumn(
            "correction_rate",
            "ap.corrected / NULLIF(ap.total - ap.pending, 0)",
            "纠错率 — corrected / (total − pending): share of concluded cases where the decision was corrected",
        ),
    )
    return View(
        "main.appeals",
        "行政复议、行政诉讼 — one row per report and proceeding (table 4)",
        columns,
        "FROM core.appeals ap\nJOIN main.reports r USING (report_id)",
    )


def _violations_view() -> View:
    breach = ("rule", "location", "expected", "actual", "message")
    columns = (
        *_passthrough("reports", ("report_id", "agency", "report_year", "template", "source_path"), "r"),
        *_passthrough("violations", breach, "v"),
        ViewColumn("rule_description", "k.description", "规则说明 — what the rule requires"),
    )
    # in-report breaches, and the cross-report continuity breaches of pipelines.analytics
    both = " UNION ALL ".join(
        f"SELECT report_id, {', '.join(breach)} FROM {t}" for t in ("core.violations", "core.continuity_violations")
    )
    return View(
        "main.rule_violations",
        "勾稽关系校验不通过 — one row per rule breach (in-report rules and carryover continuity), "
        "with the report's agency and year",
        columns,
        f"FROM ({both}) v\nJOIN main.reports r USING (report_id)\nLEFT JOIN core.rules k ON k.rule = v.rule",
    )


def views(out_dir: Path) -> tuple[list[View], list[View]]:
    """The `core` views and the analytic views of the catalog, each in creation order."""
    core = [*(_core_view(t, out_dir) for t in TABLES.values()), _files_view(out_dir)]
    return core, [_reports_view(), _disclosure_view(), _outcomes_view(), _appeals_view(), _violations_view()]


def _create(con: duckdb.DuckDBPyConnection, view: View) -> None:
    con.execute(view.create_sql())
    con.execute(f"COMMENT ON VIEW {view.name} IS {sql_str(view.comment)}")
    for c in view.columns:
        con.execute(f"COMMENT ON COLUMN {view.name}.{c.name} IS {sql_str(c.comment)}")


ANALYTIC_VIEWS: tuple[str, ...] = ("reports", "disclosure_counts", "outcomes", "appeals", "rule_violations")


def _lookup_tables(con: duckdb.DuckDBPyConnection, parser_version: str, out_dir: Path, registry_token: str) -> None:
    con.execute(
        "CREATE TABLE core.application_rows (row_code VARCHAR PRIMARY KEY, label VARCHAR, meaning VARCHAR, "
        "category VARCHAR, group_label VARCHAR)"
    )
    con.executemany(
        "INSERT INTO core.application_rows VALUES (?, ?, ?, ?, ?)",
        [(r.code, r.label, r.meaning, r.category, r.group) for r in ALL_APPLICATION_ROWS],
    )
    con.execute("COMMENT ON TABLE core.application_rows IS '表三行 — the rows of table 3 with labels and categories'")
    con.execute("CREATE TABLE core.rules (rule VARCHAR PRIMARY KEY, description VARCHAR)")
    con.executemany("INSERT INTO core.rules VALUES (?, ?)", list(RULE_DESCRIPTIONS.items()))
    con.execute("COMMENT ON TABLE core.rules IS '校验规则 — the rules (勾稽关系) checked'")
    con.execute(
        "CREATE TABLE core.build_info (built_at TIMESTAMP WITH TIME ZONE, parser_version VARCHAR, "
        "duckdb_version VARCHAR, out_dir VARCHAR, registry_token VARCHAR)"
    )
    con.execute(
        "INSERT INTO core.build_info VALUES (?, ?, ?, ?, ?)",
        [datetime.now(UTC), parser_version, duckdb.__version__, str(out_dir), registry_token],
    )
    con.execute("COMMENT ON TABLE core.build_info IS '构建信息 — when and by what this catalog was built'")
    comments = {
        "core.application_rows": {
            "row_code": "行代码 — row code",
            "label": "行名称 — label as printed",
            "meaning": "含义 — English meaning",
            "category": "办理结果类别 — outcome category",
            "group_label": "分组 — group heading printed before the label",
        },
        "core.rules": {"rule": "规则 — rule id", "description": "说明 — what must hold"},
        "core.build_info": {
            "built_at": "构建时间 — when the catalog was built (UTC)",
            "parser_version": "解析器版本 — parser version of the build",
            "duckdb_version": "DuckDB版本 — DuckDB that wrote the catalog",
            "out_dir": "仓库目录 — absolute warehouse folder the views point to",
            "registry_token": "登记版本 — version of the file registry the catalog reflects",
        },
    }
    for table, cols in comments.items():
        for col, comment in cols.items():
            con.execute(f"COMMENT ON COLUMN {table}.{col} IS {sql_str(comment)}")


def build_catalog(out_dir: Path, parser_version: str, registry_token: str = "") -> Path:
    """Write the catalog to a new file and rename it over `<out>/xxgk.duckdb`; returns its path.
    The caller holds the build lock."""
    out_dir.mkdir(parents=True, exist_ok=True)
    snapshots.ensure_layout(out_dir)  # a warehouse written before snapshots is converted first
    target = out_dir / CATALOG_FILE
    tmp = out_dir / f".{CATALOG_FILE}.{os.getpid()}.tmp"
    # also those of builds that were killed: the caller holds the build lock, so none is being written
    for leftover in out_dir.glob(f".{CATALOG_FILE}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})
    try:
        # one transaction for the whole catalog: DuckDB commits (and writes its log) after every statement
        # otherwise, and the catalog is a few hundred of them (views, one COMMENT per column)
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA core")
        _lookup_tables(con, parser_version, out_dir.resolve(), registry_token)
        from pipelines.analytics.views import install_analytics

        core, analytic = views(out_dir)
        for view in core:
            _create(con, view)
        install_analytics(con, cache_dir=out_dir / CACHE_DIR)
        for view in analytic:
            _create(con, view)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    snapshots.crash_point("catalog-replaced")
    snapshots.collect_garbage(out_dir)  # the new catalog names only the current snapshot
    return target


@dataclass
class CatalogStats:
    statuses: dict[str, int]
    duplicates: int
    breaches: dict[str, int]
    view_rows: dict[str, int]
    view_errors: dict[str, str]
    missing_comments: list[str]


def describe(path: Path) -> CatalogStats:
    """Counts from a built catalog (opened read-only): reports by status, breaches by rule, rows per view,
    and any view that fails to answer or object without a comment."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        statuses = dict(con.execute("SELECT status, count(*) FROM core.reports GROUP BY ALL ORDER BY 1").fetchall())
        (duplicates,) = con.execute("SELECT count(*) FROM core.reports WHERE duplicate_of IS NOT NULL").fetchone() or (
            0,
        )
        breaches = dict(
            con.execute("SELECT rule, count(*) FROM main.rule_violations GROUP BY ALL ORDER BY 1").fetchall()
        )
        errors: dict[str, str] = {}
        rows: dict[str, int] = {}
        for view in ANALYTIC_VIEWS:
            if view == "rule_violations":  # it answered above: its rows are the breaches counted by rule
                rows[view] = sum(breaches.values())
                continue
            try:
                (rows[view],) = con.execute(f"SELECT count(*) FROM main.{view}").fetchone() or (0,)
            except duckdb.Error as exc:
                errors[view] = str(exc)
        missing = [
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND coalesce(comment, '') = ''"
            ).fetchall()
        ] + [
            f"{s}.{t}.{c}"
            for s, t, c in con.execute(
                "SELECT c.schema_name, c.table_name, c.column_name FROM duckdb_columns() c "
                "JOIN duckdb_views() v ON v.schema_name = c.schema_name AND v.view_name = c.table_name "
                "WHERE NOT v.internal AND coalesce(c.comment, '') = ''"
            ).fetchall()
        ]
    finally:
        con.close()
    return CatalogStats(statuses, int(duplicates), breaches, rows, errors, missing)
