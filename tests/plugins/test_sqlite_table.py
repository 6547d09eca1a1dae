"""The SQLite table base: declared tables, tolerant reading, one warning per bad row or damaged table.

Every database here is built with Python's sqlite3 in ``tmp_path``; the damaged one is a real
multi-page database with one leaf page of its main table overwritten.
"""

from __future__ import annotations

import sqlite3
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import (
    SQLITE_MAGIC,
    FileItem,
    Join,
    NotMyFormat,
    ParseContext,
    ParseWarning,
    Plugin,
    Record,
    RowContext,
    RowGroups,
    SqliteTablePlugin,
    Table,
    Targets,
    read_rows,
    sqlite_signature,
)
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import MAX_ROW_WARNINGS


@dataclass(frozen=True, kw_only=True)
class Note(Record):
    """One row of ``notes``."""

    record_type: ClassVar[str] = "test/sqlite-table/note"

    key: int
    body: str | None
    extra: object = None
    has_extra: bool = False
    topic: str | None = None
    author: str | None = None


@dataclass(frozen=True, kw_only=True)
class Tag(Record):
    """One row of ``tags``."""

    record_type: ClassVar[str] = "test/sqlite-table/tag"

    tag: str


NOTES = Table(
    "notes",
    key="_id",
    required=("body",),
    optional=("extra", "topic_id", "author_id"),
    joins=(Join("authors", on="author_id", key="id", optional=("name",)),),
    label="note",
)
TAGS = Table("tags", required=("tag",))  # keyed by the rowid itself
TOPICS = Table("topics", key="id", required=("title",))


class NotesPlugin(SqliteTablePlugin[dict[object, sqlite3.Row]]):
    """Notes and tags, with topic titles looked up once per file; ``boom`` bodies fail to map."""

    name = "test_notes"
    version = "1"
    description = "test plugin on the SQLite table base"
    tables = (NOTES, TAGS)
    targets = Targets(globs=("**/notes.db",), magic=(SQLITE_MAGIC,), sqlite=sqlite_signature(*tables))
    emits = (Note, Tag)

    def __init__(self) -> None:
        self.lookup_calls = 0

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> dict[object, sqlite3.Row]:
        self.lookup_calls += 1
        return {row["id"]: row for row in read_rows(con, ctx, TOPICS)}

    def record(self, row: sqlite3.Row, at: RowContext[dict[object, sqlite3.Row]]) -> Record:
        if at.table == "tags":
            return Tag(source=at.source, locator=at.locator, tag=row["tag"])
        if row["body"] == "boom":
            raise ValueError("boom row")
        topic = at.lookups.get(row["topic_id"])
        return Note(
            source=at.source,
            locator=at.locator,
            key=row["_id"],
            body=row["body"],
            extra=row["extra"],
            has_extra=at.has("extra"),
            topic=None if topic is None else topic["title"],
            author=row["authors.name"],
        )


SCHEMA = """
CREATE TABLE notes (_id INTEGER PRIMARY KEY, body TEXT, extra INTEGER, topic_id INTEGER, author_id INTEGER);
CREATE TABLE tags (tag TEXT);
CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO tags VALUES ('red'), ('blue');
INSERT INTO topics VALUES (1, 'shipping');
INSERT INTO authors VALUES (1, 'Ann');
"""


def _db(tmp_path: Path, sql: str, name: str = "notes.db") -> Path:
    path = tmp_path / "evidence" / name
    path.parent.mkdir(exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.close()
    return path


def _run(path: Path, tmp_path: Path, plugin: Plugin | None = None) -> tuple[list[Record], list[ParseWarning]]:
    plugin = plugin or NotesPlugin()
    item = FileItem.from_path(path, fs_path=f"/data/{path.name}")
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    assert [run.outcome for run in result.runs] == ["ok"]
    return result.records, result.warnings


def _notes(records: list[Record]) -> list[Note]:
    return [r for r in records if isinstance(r, Note)]


def test_signature_comes_from_the_declarations() -> None:
    assert NotesPlugin.targets.sqlite is not None
    # key and required columns, the join's column; not the rowid, not an optional joined table
    assert NotesPlugin.targets.sqlite.to_dict() == {"notes": ["_id", "author_id", "body"], "tags": ["tag"]}
    visits = Table(
        "visits", key="id", required=("url",), joins=(Join("urls", on="url", key="id", required=("title",)),)
    )
    assert sqlite_signature(visits, TOPICS).to_dict() == {
        "topics": ["id", "title"],
        "urls": ["id", "title"],
        "visits": ["id", "url"],
    }


def test_rows_become_records_with_locators_lookups_and_joins(tmp_path: Path) -> None:
    db = _db(
        tmp_path,
        SCHEMA
        + """
        INSERT INTO notes VALUES (1, 'first', 7, 1, 1);
        INSERT INTO notes VALUES (2, 'no topic, dangling author', NULL, 9, 5);
        """,
    )
    plugin = NotesPlugin()
    records, warnings = _run(db, tmp_path, plugin)
    assert warnings == []
    assert plugin.lookup_calls == 1
    first, second = _notes(records)
    assert (first.locator, first.key, first.extra, first.has_extra) == ("notes._id=1", 1, 7, True)
    assert (first.topic, first.author) == ("shipping", "Ann")
    assert (second.topic, second.author) == (None, None)
    tags = [r for r in records if isinstance(r, Tag)]
    assert [(t.locator, t.tag) for t in tags] == [("tags.rowid=1", "red"), ("tags.rowid=2", "blue")]
    assert all(r.source.path == "/data/notes.db" for r in records)


def test_a_row_whose_mapping_raises_is_one_warning(tmp_path: Path) -> None:
    db = _db(tmp_path, SCHEMA + "INSERT INTO notes (_id, body) VALUES (1, 'a'), (2, 'boom'), (3, 'c');")
    records, warnings = _run(db, tmp_path)
    assert [n.key for n in _notes(records)] == [1, 3]
    assert len([r for r in records if isinstance(r, Tag)]) == 2  # the next table is read too
    [warning] = warnings
    assert warning.locator == "notes._id=2"
    assert warning.message == "row skipped: ValueError: boom row"
    assert warning.traceback is not None and "boom row" in warning.traceback


def test_missing_optional_columns_read_as_none(tmp_path: Path) -> None:
    """An older schema: no extra, topic or author columns, and no authors or topics table."""
    db = _db(
        tmp_path,
        """
        CREATE TABLE notes (_id INTEGER PRIMARY KEY, body TEXT, author_id INTEGER);
        CREATE TABLE tags (tag TEXT);
        INSERT INTO notes VALUES (4, 'old', 1);
        """,
    )
    records, warnings = _run(db, tmp_path)
    assert warnings == []
    [note] = _notes(records)
    assert (note.key, note.body, note.extra, note.has_extra, note.topic, note.author) == (
        4,
        "old",
        None,
        False,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("CREATE TABLE notes (_id INTEGER PRIMARY KEY, author_id INTEGER); CREATE TABLE tags (tag);", "body"),
        ("CREATE TABLE notes (_id INTEGER PRIMARY KEY, body TEXT, author_id INTEGER);", "tags"),
    ],
    ids=["missing-column", "missing-table"],
)
def test_missing_required_column_or_table_is_not_ours(tmp_path: Path, sql: str, why: str) -> None:
    db = _db(tmp_path, sql, name="other.db")
    plugin = NotesPlugin()
    item = FileItem.from_path(db)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == []  # the dispatcher never offers the file
        assert ctx.warnings == []  # a SQLite file not named like ours is passed over silently
        with pytest.raises(NotMyFormat, match=why):  # and parse says so if called anyway
            list(plugin.parse(item, ctx.for_plugin(plugin.name, item)))
    assert plugin.lookup_calls == 0


def test_non_utf8_text_is_a_warning_for_its_row_only(tmp_path: Path) -> None:
    db = _db(
        tmp_path,
        SCHEMA
        + """
        INSERT INTO notes (_id, body) VALUES (1, 'a'), (2, CAST(X'48FF' AS TEXT)), (3, 'c');
        INSERT INTO topics VALUES (2, CAST(X'C3' AS TEXT));
        """,
    )
    records, warnings = _run(db, tmp_path)
    assert [(n.key, n.body) for n in _notes(records)] == [(1, "a"), (3, "c")]
    assert [(w.locator, w.message) for w in warnings] == [
        ("topics.id=2", "row skipped: text that is not UTF-8 in title (c3)"),  # a lookup row
        ("notes._id=2", "row skipped: text that is not UTF-8 in body (48ff)"),
    ]


def _damaged(tmp_path: Path, rows: int, bad_row: int) -> tuple[Path, int]:
    """A notes.db whose notes table spans many 1 KiB pages; the page holding ``bad_row`` is
    overwritten with garbage. Returns the path and the first row stored on that page."""
    path = tmp_path / "evidence" / "notes.db"
    path.parent.mkdir(exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size = 1024")
    con.executescript(SCHEMA)
    con.executemany(
        "INSERT INTO notes (_id, body) VALUES (?, ?)",
        ((i, f"row-{i:06d}-" + "x" * 80) for i in range(1, rows + 1)),
    )
    con.commit()
    con.close()
    data = bytearray(path.read_bytes())
    page = data.find(f"row-{bad_row:06d}-".encode()) // 1024
    on_page = [
        i for i in range(1, rows + 1) if f"row-{i:06d}-".encode() in data[page * 1024 : (page + 1) * 1024]
    ]
    data[page * 1024 : (page + 1) * 1024] = b"\xfe" * 1024
    path.write_bytes(bytes(data))
    return path, min(on_page)


def test_a_table_damaged_midway_keeps_earlier_rows_and_other_tables(tmp_path: Path) -> None:
    db, first_lost = _damaged(tmp_path, rows=2000, bad_row=1000)
    assert 900 < first_lost <= 1000
    records, warnings = _run(db, tmp_path)
    # every row before the damaged page, including the last one, which Python's sqlite3 drops
    # when stepping past it fails (the base asks for it again)
    assert [n.key for n in _notes(records)] == list(range(1, first_lost))
    assert [r.tag for r in records if isinstance(r, Tag)] == ["red", "blue"]
    [warning] = warnings
    assert warning.message == (
        f"damaged note database: reading table notes stopped after {first_lost - 1} row(s): "
        "database disk image is malformed"
    )


def test_row_warnings_are_capped_per_table(tmp_path: Path) -> None:
    values = ", ".join(f"({i}, 'boom')" for i in range(1, MAX_ROW_WARNINGS + 51))
    db = _db(tmp_path, SCHEMA + f"INSERT INTO notes (_id, body) VALUES {values}, (999, 'fine');")
    records, warnings = _run(db, tmp_path)
    assert [n.key for n in _notes(records)] == [999]
    assert len(warnings) == MAX_ROW_WARNINGS + 1
    assert warnings[-1].locator is None
    assert warnings[-1].message == (
        f"table notes: 50 more row(s) skipped with a warning that is not listed (the first {MAX_ROW_WARNINGS} are)"
    )


def test_where_and_order_by(tmp_path: Path) -> None:
    class NewestFirst(NotesPlugin):
        """Only notes with a body, newest first."""

        tables = (
            Table(
                "notes",
                key="_id",
                required=("body",),
                where="body IS NOT NULL",
                order_by="_id DESC",
                optional=NOTES.optional,
                joins=NOTES.joins,
            ),
        )

    db = _db(tmp_path, SCHEMA + "INSERT INTO notes (_id, body) VALUES (1, 'a'), (2, NULL), (3, 'c');")
    records, warnings = _run(db, tmp_path, NewestFirst())
    assert warnings == []
    assert [n.key for n in _notes(records)] == [3, 1]


def test_a_query_that_does_not_compile_is_a_plugin_failure_not_damage(tmp_path: Path) -> None:
    class BadWhere(NotesPlugin):
        """A WHERE naming a column no schema has."""

        tables = (Table("notes", key="_id", required=("body",), where="no_such_column = 1"),)

    db = _db(tmp_path, SCHEMA + "INSERT INTO notes (_id, body) VALUES (1, 'a');")
    item = FileItem.from_path(db)
    with Scratch(tmp_path) as scratch:
        result = run_plugins(item, [BadWhere()], ParseContext(scratch=scratch))
    assert [run.outcome for run in result.runs] == ["failed"]
    [warning] = result.warnings
    assert "the query for table notes does not compile: no such column: no_such_column" in warning.message
    assert warning.traceback


def test_an_optional_join_without_its_table_or_key_reads_null(tmp_path: Path) -> None:
    for schema in ("CREATE TABLE authors (name TEXT);", ""):  # no key column; no table at all
        db = _db(
            tmp_path,
            "CREATE TABLE notes (_id INTEGER PRIMARY KEY, body TEXT, author_id INTEGER); CREATE TABLE tags (tag);"
            + schema
            + "INSERT INTO notes VALUES (1, 'a', 1);",
            name=f"notes{len(schema)}.db",
        )
        plugin = NotesPlugin()
        item = FileItem.from_path(db)
        with Scratch(tmp_path) as scratch:
            result = run_plugins(item, [plugin], ParseContext(scratch=scratch))
        assert result.warnings == []
        [note] = _notes(result.records)
        assert note.author is None


def test_row_groups_follow_the_main_table_in_key_order(tmp_path: Path) -> None:
    """Side rows per main row, read in one ordered pass: orphans skipped, groups in table order."""
    db = _db(
        tmp_path,
        """
        CREATE TABLE files (note_id INTEGER, name TEXT, kind_id INTEGER);
        CREATE TABLE kinds (id INTEGER PRIMARY KEY, label TEXT);
        INSERT INTO kinds VALUES (1, 'photo');
        INSERT INTO files VALUES (3, 'c.jpg', 1), (1, 'a.jpg', 1), (0, 'orphan', NULL), (3, 'd.txt', 9),
          (NULL, 'no note', NULL), (2, 'b.jpg', NULL), (9, 'after the last', NULL);
        """,
        name="side.db",
    )
    files = Table(
        "files",
        required=("note_id", "name"),
        joins=(Join("kinds", on="kind_id", key="id", optional=("label",)),),
        order_by="files.note_id, files.rowid",
    )
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        con = ctx.open_sqlite(FileItem.from_path(db))
        groups = RowGroups(con, ctx, files, by="note_id")
        taken = {key: [(r["name"], r["kinds.label"]) for r in groups.take(key)] for key in (1, 2, 3, 4)}
        assert taken == {
            1: [("a.jpg", "photo")],
            2: [("b.jpg", None)],
            3: [("c.jpg", "photo"), ("d.txt", None)],  # a dangling join reads NULL
            4: [],
        }
        assert groups.unclaimed == 2  # the NULL and the 0 before the first key asked for
        # a smaller key after a larger one (a recovered row, after the live ones): its own query
        assert [(r["name"], r["kinds.label"]) for r in groups.take(3)] == [
            ("c.jpg", "photo"),
            ("d.txt", None),
        ]
        assert [r["name"] for r in groups.take(2)] == ["b.jpg"]
        # a table the database lacks gives no rows; a Table without order_by is refused
        assert RowGroups(con, ctx, Table("nothing", order_by="x"), by="x").take(1) == []
        with pytest.raises(ValueError, match="order_by"):
            RowGroups(con, ctx, Table("files"), by="note_id")
        assert ctx.warnings == []


def test_declarations_are_checked_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="tuple of column names"):
        Table("sms", required="body")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="non-empty tuple of Table"):

        class NoTables(NotesPlugin):
            """Declares nothing to read."""

            tables = ()


ROWS = 50_000


@pytest.mark.slow
def test_a_big_table_is_streamed_in_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """50,000 rows of 100 bytes of text: reading them all never holds more than a few of them."""
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    db = tmp_path / "evidence" / "notes.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.executescript(SCHEMA)
    con.executemany(
        "INSERT INTO notes (_id, body) VALUES (?, ?)",
        ((i, f"{i:08d}" + "m" * 92) for i in range(1, ROWS + 1)),
    )
    con.commit()
    con.close()
    bound = ROWS * 100 // 50  # 2% of the table's text
    plugin = NotesPlugin()
    item = FileItem.from_path(db)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch).for_plugin(plugin.name, item)
        ctx.open_sqlite(item)  # the scratch copy is made before measuring (it streams 1 MiB blocks)
        tracemalloc.start()
        try:
            count = sum(1 for _ in plugin.parse(item, ctx))
            _, streamed_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            held = ctx.open_sqlite(item).execute("SELECT _id, body FROM notes").fetchmany(ROWS // 20)
            _, held_peak = tracemalloc.get_traced_memory()
            del held
        finally:
            tracemalloc.stop()
    assert count == ROWS + 2  # and the two tags
    assert ctx.warnings == []
    assert held_peak > bound  # the measure does see rows held in memory: 5% of them exceed the bound
    assert streamed_peak < bound


class TagsWhenPresent(NotesPlugin):
    """Reads ``tags`` only where the database has it; says so and reads nothing without ``notes``."""

    name = "test_notes_tables_in"
    targets = Targets(globs=("**/notes.db",), magic=(SQLITE_MAGIC,))

    def tables_in(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext) -> tuple[Table, ...]:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "notes" not in names:
            ctx.warn("unsupported schema: no notes")
            return ()
        return (NOTES, TAGS) if "tags" in names else (NOTES,)


def test_tables_in_chooses_the_tables_of_this_database(tmp_path: Path) -> None:
    db = _db(tmp_path, SCHEMA + "DROP TABLE tags; INSERT INTO notes (_id, body) VALUES (1, 'a');")
    plugin = TagsWhenPresent()
    item = FileItem.from_path(db)
    with Scratch(tmp_path) as scratch:
        result = run_plugins(item, [plugin], ParseContext(scratch=scratch))
    assert [type(r).__name__ for r in result.records] == ["Note"] and result.warnings == []
    empty = _db(tmp_path, "CREATE TABLE tags (tag TEXT);", name="empty.db")
    plugin = TagsWhenPresent()
    with Scratch(tmp_path) as scratch:
        result = run_plugins(FileItem.from_path(empty), [plugin], ParseContext(scratch=scratch))
    assert result.records == [] and [w.message for w in result.warnings] == ["unsupported schema: no notes"]
    assert plugin.lookup_calls == 0  # nothing to read: no lookups either
