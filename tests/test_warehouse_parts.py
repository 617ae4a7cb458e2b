"""Year partitions made of part files: an incremental build appends one part per touched partition and
keeps the others as they are (hard links); rows that must go are removed from the parts holding them only;
a partition with too many parts is compacted; every state reads the same as a build from scratch."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import query, run_build

from pipelines.cli import main
from pipelines.warehouse import partitions, snapshots
from schemas.tables import TABLES

synth = pytest.importorskip("pipelines.synth")


def _sid(out: Path) -> str:
    return os.path.basename(os.readlink(out / "current"))


def _parts(out: Path) -> dict[str, os.stat_result]:
    """Every part file of the committed snapshot (`<table>/report_year=<YYYY>/<name>`) with its stat."""
    root = out / "snapshots" / _sid(out) / "parquet"
    return {p.relative_to(root).as_posix(): p.stat() for p in sorted(root.glob("*/report_year=*/*.parquet"))}


def _by_partition(parts: dict[str, os.stat_result]) -> dict[str, list[str]]:
    folders: dict[str, list[str]] = {}
    for rel in parts:
        folder, _, name = rel.rpartition("/")
        folders.setdefault(folder, []).append(name)
    return folders


def _state(out: Path) -> dict[str, list[tuple]]:
    """Every row of every core table through the catalog, sorted (parse times left out: they differ)."""
    state = {}
    for table in TABLES:
        columns = [r[0] for r in query(out, f"DESCRIBE core.{table}") if r[0] != "ingested_at"]
        state[table] = query(out, f"SELECT {', '.join(columns)} FROM core.{table} ORDER BY ALL")
    return state


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _holders(out: Path, paths: list[str], report_ids: list[str]) -> set[str]:
    """The part files (relative, as `_parts`) holding a row of these reports: a `core.reports` row of one of
    `paths`, a row of another table of one of `report_ids`."""
    root = out / "snapshots" / _sid(out) / "parquet"
    held = set()
    with duckdb.connect() as con:
        for table in TABLES:
            key, values = ("source_path", paths) if table == "reports" else ("report_id", report_ids)
            rows = con.execute(
                f"SELECT DISTINCT filename FROM read_parquet('{root / table}/*/*.parquet', filename = true) "
                f"WHERE {key} IN (SELECT unnest(?))",
                [values],
            ).fetchall()
            held |= {Path(r[0]).relative_to(root).as_posix() for r in rows}
    return held


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_size, a.st_mtime_ns) == (b.st_ino, b.st_size, b.st_mtime_ns)


@pytest.fixture
def warehouse(tmp_path: Path) -> tuple[Path, Path, list]:
    raw, out = tmp_path / "raw", tmp_path / "out"
    reports = synth.write_corpus(raw / "base", 16, seed=21, break_rule=False, truncated=False)
    assert run_build(raw, out).success
    return raw, out, reports


def test_an_incremental_build_appends_one_part_and_keeps_the_others(
    warehouse: tuple[Path, Path, list],
) -> None:
    raw, out, _ = warehouse
    before, before_state, first = _parts(out), _state(out), _sid(out)
    assert all(len(names) == 1 for names in _by_partition(before).values())  # a first build: one part each
    synth.write_corpus(raw / "more", 6, seed=22, break_rule=False, truncated=False)
    assert run_build(raw, out).success

    after, second = _parts(out), _sid(out)
    # every old part is still there, the same file (hard link: same inode, same mtime, not rewritten)
    for rel, st in before.items():
        assert rel in after and _same_file(after[rel], st), rel
    # the new rows are in one new part per partition they went to, named after this build
    added = set(after) - set(before)
    assert added and all(rel.endswith(f"/part-{second}.parquet") for rel in added)
    assert len(added) == len({rel.rpartition("/")[0] for rel in added})
    assert query(out, "SELECT count(*) FROM core.reports") == [(16 + 6,)]
    # no report's rows in two parts
    for table in TABLES:
        key = partitions.partition_key(table)
        with duckdb.connect() as con:
            split = con.execute(
                f"SELECT {key} FROM read_parquet('{out / 'parquet' / table}/*/*.parquet', filename = true) "
                f"GROUP BY ALL HAVING count(DISTINCT filename) > 1"
            ).fetchall()
        assert split == [], table

    # rollback: the previous snapshot is intact (no linked file was written in place); pointed at again,
    # with its catalog rebuilt, it reads exactly as before
    snapshots.flip(out, first)
    assert main(["catalog", "--out", str(out)]) == 0
    restored = _parts(out)
    assert restored.keys() == before.keys() and all(_same_file(restored[rel], st) for rel, st in before.items())
    assert _state(out) == before_state


def test_replaced_and_removed_inputs_rewrite_only_the_parts_holding_them(warehouse: tuple[Path, Path, list]) -> None:
    raw, out, reports = warehouse
    synth.write_corpus(raw / "more", 6, seed=23, break_rule=False, truncated=False)
    assert run_build(raw, out).success  # two parts in the partitions the second build added to
    changed, removed = raw / "base" / reports[0].name, raw / "more" / sorted(os.listdir(raw / "more"))[0]
    changed_path, removed_path = changed.relative_to(raw).as_posix(), removed.relative_to(raw).as_posix()
    old_ids = [_sha(changed), _sha(removed)]
    holders = _holders(out, [changed_path, removed_path], old_ids)
    before = _parts(out)
    assert holders and holders < set(before)

    replacement = synth.generate_report(55555, break_rule=False, truncated=False)
    changed.write_bytes(replacement.data)
    removed.unlink()
    (removed.parent / (removed.name + ".meta.json")).unlink(missing_ok=True)
    assert run_build(raw, out).success

    after = _parts(out)
    for rel, st in before.items():  # parts without the two reports' rows: kept as they were
        if rel not in holders:
            assert rel in after and _same_file(after[rel], st), rel
    assert not holders & set(after)  # the parts holding them are replaced by this build's part
    assert all(rel.endswith(f"/part-{_sid(out)}.parquet") for rel in set(after) - set(before))
    # the old rows are gone, the replacement's are there once, the removed file's nowhere
    for table in TABLES:
        assert query(out, f"SELECT count(*) FROM core.{table} WHERE report_id IN (?, ?)", old_ids) == [(0,)], table
    new_id = _sha(changed)
    assert query(out, "SELECT source_path FROM core.reports WHERE report_id = ?", [new_id]) == [(changed_path,)]
    assert query(out, "SELECT count(*) FROM core.reports WHERE source_path = ?", [removed_path]) == [(0,)]
    assert query(out, "SELECT count(*), count(DISTINCT source_path) FROM core.reports") == [(16 + 6 - 1,) * 2]
    assert query(out, "SELECT count(*) > 0 FROM core.applications WHERE report_id = ?", [new_id]) == [(True,)]

    # a full refresh replaces every row: one part per partition again, the same data
    state = _state(out)
    assert run_build(raw, out, full_refresh=True).success
    # (a part without rows, which a table without rows in a year keeps, is left as it is)
    parts, part = _parts(out), f"part-{_sid(out)}.parquet"
    assert all(len(names) == 1 for names in _by_partition(parts).values())
    assert all(rel.endswith(part) or pq.read_metadata(out / "parquet" / rel).num_rows == 0 for rel in parts)
    assert _state(out) == state


@pytest.mark.parametrize("base_share", [0.0, 1e9], ids=["merge-all", "keep-largest"])
def test_compaction_bounds_the_parts_and_reads_as_a_build_from_scratch(
    warehouse: tuple[Path, Path, list], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_share: float
) -> None:
    raw, out, _ = warehouse
    monkeypatch.setattr(partitions, "MAX_PARTS", 2)
    monkeypatch.setattr(partitions, "BASE_SHARE", base_share)
    compacted = 0
    for step in range(2):
        synth.write_corpus(raw / f"more{step}", 8, seed=30 + step, break_rule=False, truncated=False)
        before = _by_partition(_parts(out))
        assert run_build(raw, out).success
        after, part = _by_partition(_parts(out)), f"part-{_sid(out)}.parquet"
        assert all(len(names) <= 2 for names in after.values()), after
        for folder, names in after.items():
            old = before.get(folder, [])
            if part not in names:  # not touched by this build
                assert names == old
            elif len(old) < 2:  # room for one more: appended, the old part kept
                assert set(names) - {part} <= set(old)
            elif base_share == 0.0:  # a third one: every part merged into this build's
                assert names == [part]
            else:  # ... or the others merged with the new rows, the largest part kept
                assert len(names) == 2 and set(names) - {part} < set(old)
        compacted += sum(len(before.get(folder, [])) == 2 and part in names for folder, names in after.items())
    assert compacted  # the threshold was reached somewhere
    scratch = tmp_path / "scratch"
    assert run_build(raw, scratch).success
    assert _state(out) == _state(scratch)
    assert query(out, "SELECT count(*) FROM core.reports") == [(16 + 8 + 8,)]


def test_parts_to_compact_keeps_the_largest_part_while_the_rest_is_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "MAX_PARTS", 4)
    monkeypatch.setattr(partitions, "BASE_SHARE", 0.25)
    assert partitions.parts_to_compact({"a": 1000, "b": 10, "c": 10}, 10) == []  # 4 parts: within the bound
    assert partitions.parts_to_compact({"a": 1000, "b": 10, "c": 10, "d": 10}, 10) == ["b", "c", "d"]
    assert partitions.parts_to_compact({"b": 100, "a": 1000, "c": 100, "d": 100}, 10) == ["b", "a", "c", "d"]
    assert partitions.parts_to_compact({"a": 5, "b": 5, "c": 5, "d": 5}, 0) == ["a", "b", "c", "d"]


def test_merging_parts_equals_sorting_their_concatenation() -> None:
    rng = random.Random(11)
    schema = {"report_id": pl.String, "value": pl.Int64}
    for case in range(100):
        frames = []
        for i in range(rng.randint(1, 9)):
            ids = sorted(rng.choice("abcdefghij") + str(i) for _ in range(rng.randint(0, 12)))
            frame = pl.DataFrame({"report_id": ids, "value": range(len(ids))}, schema=schema)
            frames.append(frame.sample(fraction=1.0, shuffle=True, seed=case) if case % 3 == 0 else frame)
        expected = pl.concat(frames).sort("report_id", maintain_order=True)
        assert partitions.merge_parts(frames, "report_id").equals(expected), case
