"""Publish a built warehouse to object storage, with a catalog that reads it from there.

    python deploy/publish.py --out /warehouse --to s3://xxgk-warehouse/current

The build itself needs a POSIX folder (atomic `os.replace` of year partitions, `flock` for the one-writer
rule — neither exists on S3). So the build writes a local or network volume, and this step mirrors the
result to any filesystem pyarrow knows (`s3://`, `gs://`, `hdfs://`, `file://`):

1. every `parquet/<table>/report_year=<YYYY>/<part>.parquet` and `registry.parquet` whose size or
   modification time differs from the published copy (an object PUT is atomic: a reader sees the old
   file or the new one, never half of one). A year partition is one or more part files; an incremental
   build adds one and keeps the others (unchanged: not uploaded again), and replaces parts under new names
   when it removes rows or compacts;
2. `xxgk.duckdb`: a copy of the catalog whose `core` views read the published files instead of the local
   folder, each view listing the exact files of this publication (not a glob: a view never sees a part
   that replaced others together with the parts it replaced, which stay published until step 3); the
   analytic views, lookup tables and every comment are unchanged. Uploaded last, so it never names a file
   that is not there yet;
3. files that no longer exist locally (replaced parts, removed years) are deleted from the published copy,
   after the catalog. A reader globbing `parquet/<table>/*/*.parquet` directly, without the catalog, can
   see a replaced part beside its replacement between steps 1 and 3.

A reader anywhere then needs DuckDB with httpfs, and credentials (see `duckdb-remote.sql`):

    INSTALL httpfs; LOAD httpfs; CREATE SECRET (TYPE s3, PROVIDER credential_chain);
    ATTACH 's3://xxgk-warehouse/current/xxgk.duckdb' AS xxgk (READ_ONLY); USE xxgk;
    SELECT report_year, count(*) FROM reports GROUP BY 1;
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.fs as pafs

CATALOG_FILE = "xxgk.duckdb"
PARQUET_DIR = "parquet"
REGISTRY_FILE = "registry.parquet"


@dataclass
class Published:
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    catalog_uri: str = ""


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, root path inside it) for a URI or a plain local path."""
    if "://" not in uri:
        uri = Path(uri).resolve().as_uri()
    return pafs.FileSystem.from_uri(uri.rstrip("/"))


def _local_files(out: Path) -> list[str]:
    files = sorted(p.relative_to(out).as_posix() for p in (out / PARQUET_DIR).rglob("*.parquet"))
    if (out / REGISTRY_FILE).exists():
        files.append(REGISTRY_FILE)
    return files


def _remote_infos(fs: pafs.FileSystem, root: str) -> dict[str, pafs.FileInfo]:
    selector = pafs.FileSelector(f"{root}/{PARQUET_DIR}", recursive=True, allow_not_found=True)
    infos = {i.path.removeprefix(root + "/"): i for i in fs.get_file_info(selector) if i.type == pafs.FileType.File}
    reg = fs.get_file_info(f"{root}/{REGISTRY_FILE}")
    if reg.type == pafs.FileType.File:
        infos[REGISTRY_FILE] = reg
    return infos


def _upload(local: Path, fs: pafs.FileSystem, path: str) -> None:
    parent = path.rsplit("/", 1)[0]
    fs.create_dir(parent, recursive=True)
    with local.open("rb") as src, fs.open_output_stream(path) as dst:
        shutil.copyfileobj(src, dst, length=8 * 2**20)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _listed(sql: str, remote_prefix: str, files: list[str]) -> str:
    """`sql` with each glob over the published Parquet (`'<to>/parquet/<table>/*/*.parquet'`) replaced by
    the list of the published files it matches, `files` (paths relative to `<to>`). A glob that matches
    none is left as it is."""

    def files_of(glob: re.Match[str]) -> str:
        matched = [f for f in files if fnmatch.fnmatchcase(f, glob.group(1))]
        return "[" + ", ".join(_literal(remote_prefix + f) for f in matched) + "]" if matched else glob.group(0)

    return re.sub("'" + re.escape(remote_prefix) + rf"({PARQUET_DIR}/[^']*\*[^']*)'", files_of, sql)


def remote_catalog(local_catalog: Path, local_out: Path, to: str, target: Path, files: list[str] | None = None) -> None:
    """Copy `local_catalog` to `target`, pointing its core views at `<to>/…` instead of `local_out`; with
    `files` (the published Parquet files, relative to `<to>`), each view lists the files it reads."""
    shutil.copyfile(local_catalog, target)
    local_prefix = local_out.resolve().as_posix().rstrip("/") + "/"
    remote_prefix = to.rstrip("/") + "/"
    con = duckdb.connect(str(target))
    try:
        views = con.execute(
            "SELECT schema_name, view_name, sql, comment FROM duckdb_views() "
            "WHERE NOT internal AND contains(sql, ?) ORDER BY view_oid",
            [local_prefix],
        ).fetchall()
        for schema, name, sql, comment in views:
            columns = con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
            # views name the local snapshot folder (`snapshots/<id>/parquet/…`); published, it is `parquet/…`
            sql = re.sub(re.escape(local_prefix) + r"snapshots/[^/']+/", lambda _: remote_prefix, sql)
            sql = sql.replace(local_prefix, remote_prefix)
            if files is not None:
                sql = _listed(sql, remote_prefix, files)
            con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
            qualified = f'"{schema}"."{name}"'
            if comment:
                con.execute(f"COMMENT ON VIEW {qualified} IS {_literal(comment)}")
            for column, col_comment in columns:
                if col_comment:
                    con.execute(f'COMMENT ON COLUMN {qualified}."{column}" IS {_literal(col_comment)}')
        has_build_info = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'build_info'"
        ).fetchone()
        if has_build_info and has_build_info[0]:
            con.execute("UPDATE core.build_info SET out_dir = ?", [to])
        con.execute("CHECKPOINT")
    finally:
        con.close()


def publish(out: Path, to: str) -> Published:
    """Mirror the warehouse at `out` to `to` (a URI or a path); returns what was done."""
    out = out.resolve()
    if not (out / CATALOG_FILE).exists():
        raise FileNotFoundError(f"no catalog at {out / CATALOG_FILE}: build the warehouse first")
    fs, root = _filesystem(to)
    to_uri = to if "://" in to else Path(to).resolve().as_uri()
    result = Published(catalog_uri=f"{to_uri.rstrip('/')}/{CATALOG_FILE}")
    remote = _remote_infos(fs, root)
    local_files = _local_files(out)
    for rel in local_files:
        stat = (out / rel).stat()
        info = remote.get(rel)
        if info is not None and info.size == stat.st_size and info.mtime_ns and info.mtime_ns >= stat.st_mtime_ns:
            result.unchanged += 1
            continue
        _upload(out / rel, fs, f"{root}/{rel}")
        result.uploaded.append(rel)
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / CATALOG_FILE
        remote_catalog(out / CATALOG_FILE, out, to_uri, catalog, [f for f in local_files if f != REGISTRY_FILE])
        _upload(catalog, fs, f"{root}/{CATALOG_FILE}")
    for rel in sorted(set(remote) - set(local_files)):
        fs.delete_file(f"{root}/{rel}")
        result.deleted.append(rel)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="the built warehouse folder (xxgk build --out)")
    p.add_argument("--to", required=True, help="destination URI: s3://bucket/prefix, gs://…, file:///…, or a path")
    args = p.parse_args(argv)
    result = publish(args.out, args.to)
    print(
        f"uploaded {len(result.uploaded)} files, {result.unchanged} unchanged, deleted {len(result.deleted)}; "
        f"catalog: {result.catalog_uri}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
