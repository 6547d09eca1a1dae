"""GroupedRows: a child table's rows handed over per parent key, read once in key order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from triage.plugin import FileItem, GroupedRows, ParseContext, Table
from triage.plugin.grouped import sqlite_order
from triage.plugin.scratch import Scratch

SCHEMA = """
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, text TEXT);
INSERT INTO part VALUES (1, 2, 'b1'), (2, 1, 'a1'), (3, 2, 'b2'), (4, 'x', 'text key'), (5, NULL, 'null key'),
  (6, 7, 'orphan'), (7, 9, 'i1'), (8, 3.0, 'real key');
"""
PART = Table("part", key="_id", required=("mid",), optional=("text", "absent"))


def _groups(tmp_path: Path, sql: str, keys: list[object]) -> tuple[list[list[str]], int, list[str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "p.db"
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.close()
    (tmp_path / "s").mkdir()
    with Scratch(tmp_path / "s") as scratch:
        ctx = ParseContext(scratch=scratch)
        grouped = GroupedRows(ctx.open_sqlite(FileItem.from_path(db)), ctx, PART, by="mid")
        out = [[r["text"] for r in grouped.take(k)] for k in keys]
        return out, grouped.unclaimed, [w.message for w in ctx.warnings]


def test_groups_come_in_parent_key_order_with_orphans_counted(tmp_path: Path) -> None:
    groups, unclaimed, warnings = _groups(tmp_path, SCHEMA, [1, 2, 3, 8, 9, 10])
    assert groups == [["a1"], ["b1", "b2"], ["real key"], [], ["i1"], []]
    assert unclaimed == 2  # the NULL key and 7 (its parent never asked); text sorts after numbers
    assert warnings == []


def test_a_smaller_key_after_a_larger_one_is_looked_up_on_its_own(tmp_path: Path) -> None:
    """A recovered parent row comes after the live ones: its children are found by a query."""
    groups, _, warnings = _groups(tmp_path, SCHEMA, [2, 1, 9, 2, "x", None, b"\x00"])
    assert groups == [["b1", "b2"], ["a1"], ["i1"], ["b1", "b2"], ["text key"], [], []]
    assert warnings == []


def test_a_missing_table_gives_empty_groups(tmp_path: Path) -> None:
    groups, unclaimed, warnings = _groups(tmp_path, "CREATE TABLE other (x);", [1, 2])
    assert groups == [[], []] and unclaimed == 0 and warnings == []


def test_sqlite_order_matches_sqlite() -> None:
    values: list[object] = [b"\x00", "b", "a", 2.5, 2, None, -1, "é"]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (v)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    expected = [r[0] for r in con.execute("SELECT v FROM t ORDER BY v")]
    assert sorted(values, key=sqlite_order) == expected
