"""Tests for recover.py. Every database is built by SQLite itself, so what was deleted is known.

Run: /work/main/.venv/bin/python -m pytest -q test_recover.py
"""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
import struct
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest

from triage.plugin import sqlite_recover as recover
from triage.plugin.sqlite_recover import Candidate, RecoveryError, RecoveryResult

MESSAGES_SQL = (
    "CREATE TABLE messages(_id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, body TEXT,"
    " date INTEGER, from_me INTEGER)"
)
Row = tuple[int, int, str, int, int]


def body_for(i: int) -> str:
    """Distinct bodies of varied length: short, over 128 bytes, non-ASCII."""
    if i % 11 == 0:
        return f"long message {i} " + "lorem ipsum dolor sit amet " * (3 + i % 5)
    if i % 7 == 0:
        return f"ünïcödé {i} — 😀 привет"
    return f"message number {i} hello"


def make_row(i: int) -> Row:
    return (i, i % 5, body_for(i), 1_700_000_000_000 + i * 1000, i % 2)


def connect(
    path: Path,
    *,
    wal: bool = False,
    page_size: int | None = None,
    journal: str | None = None,
    encoding: str | None = None,
) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    if page_size:
        con.execute(f"PRAGMA page_size={page_size}")
    if encoding:
        con.execute(f"PRAGMA encoding='{encoding}'")
    con.execute("PRAGMA secure_delete=OFF")
    con.execute("PRAGMA auto_vacuum=NONE")
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_autocheckpoint=0")
    if journal:
        con.execute(f"PRAGMA journal_mode={journal}")
    return con


def insert(con: sqlite3.Connection, rows: Iterable[Row]) -> None:
    con.execute("BEGIN")
    con.executemany("INSERT INTO messages VALUES(?,?,?,?,?)", rows)
    con.execute("COMMIT")


def delete(con: sqlite3.Connection, ids: Iterable[int]) -> None:
    con.execute("BEGIN")
    con.executemany("DELETE FROM messages WHERE _id=?", [(i,) for i in ids])
    con.execute("COMMIT")


def live_rows(con: sqlite3.Connection) -> set[Row]:
    return set(con.execute("SELECT * FROM messages"))


def content(row: Sequence[object]) -> tuple[object, ...]:
    return tuple(row[1:])


def encode_record(row: Sequence[object], rowid_alias: int | None = 0, encoding: str = "utf-8") -> bytes:
    """The record SQLite writes for ``row`` (file format 4), to check which deleted rows survive."""
    types, body = [], b""
    for i, value in enumerate(row):
        if i == rowid_alias or value is None:
            types.append(0)
        elif isinstance(value, int) and value in (0, 1):
            types.append(8 + value)
        elif isinstance(value, int):
            size, serial = next(
                (n, t)
                for n, t in ((1, 1), (2, 2), (3, 3), (4, 4), (6, 5), (8, 6))
                if -(1 << (8 * n - 1)) <= value < 1 << (8 * n - 1)
            )
            types.append(serial)
            body += value.to_bytes(size, "big", signed=True)
        elif isinstance(value, float):
            types.append(7)
            body += struct.pack(">d", value)
        else:
            raw = str(value).encode(encoding)
            types.append(13 + 2 * len(raw))
            body += raw
    header = b"".join(recover.encode_varint(t) for t in types)
    size = len(header) + 1 if len(header) + 1 < 128 else len(header) + 2
    return recover.encode_varint(size) + header + body


def survivors(rows: Iterable[Row], *files: Path, encoding: str = "utf-8") -> list[Row]:
    """Deleted rows whose record (all but the 2 bytes a freeblock header may take) is still on disk."""
    haystack = b"".join(f.read_bytes() for f in files)
    return [r for r in rows if encode_record(r, encoding=encoding)[2:] in haystack]


def assert_exact(
    result: RecoveryResult,
    deleted: Iterable[Row],
    live: set[Row],
    table: str = "messages",
    must_find: Iterable[Row] | None = None,
) -> float:
    """Recovered rows equal deleted rows exactly; every row in ``must_find`` (default: all deleted)
    is recovered; nothing live or invented is reported. Returns the recall over ``deleted``."""
    expected = {content(r): r for r in deleted}
    required = {content(r) for r in (must_find if must_find is not None else expected.values())}
    found = {content(c.values): c for c in result.for_table(table)}
    missing = required - set(found)
    assert not missing, f"{len(missing)} deleted rows not recovered, e.g. {sorted(missing, key=str)[:3]}"
    for candidate in result.for_table(table):
        assert candidate.deleted
        assert not candidate.truncated
        assert content(candidate.values) in expected, f"not a deleted row: {candidate.as_dict()}"
        if candidate.rowid is not None:
            assert candidate.values == expected[content(candidate.values)]
            assert candidate.rowid == candidate.values[0]
    live_contents = {content(r) for r in live}
    assert not live_contents & set(found), "a live row was reported as deleted"
    return len(set(found) & set(expected)) / max(1, len(expected))


def kinds(candidates: Iterable[Candidate]) -> set[str]:
    return {c.where.kind for c in candidates}


# ---------------------------------------------------------------------------------------------
# Main database file


def _with_deletes(
    tmp_path: Path, count: int, deleted: Callable[[int], bool], page_size: int = 4096
) -> tuple[Path, list[int], set[Row]]:
    """A database of ``count`` messages, those ``deleted`` says deleted: (file, deleted, live)."""
    db = tmp_path / "m.db"
    con = connect(db, page_size=page_size)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, count + 1)))
    gone = [i for i in range(1, count + 1) if deleted(i)]
    delete(con, gone)
    live = live_rows(con)
    con.close()
    return db, gone, live


@pytest.mark.parametrize("page_size", [512, 1024, 4096, 65536])
def test_scattered_deletes_are_recovered_exactly(tmp_path: Path, page_size: int) -> None:
    db, gone, live = _with_deletes(tmp_path, 600, lambda i: i % 9 == 4, page_size)
    result = recover.recover(db)
    deleted = [make_row(i) for i in gone]
    recall = assert_exact(result, deleted, live, must_find=survivors(deleted, db))
    assert recall >= 0.8
    assert "freeblock" in kinds(result.candidates)


def test_adjacent_deletes_in_merged_freeblocks(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 301)))
    gone = [i for i in range(1, 301) if i % 20 in (3, 4, 5, 6)]  # runs of 4 neighbouring cells
    delete(con, gone)
    live = live_rows(con)
    con.close()
    assert_exact(recover.recover(db), [make_row(i) for i in gone], live)


@pytest.mark.parametrize(
    "rowid, body",
    [
        (5, "tiny"),  # payload and rowid 1 byte: header length and first serial type overwritten
        (300, "short body"),  # rowid 2 bytes: header length overwritten, serial types intact
        (301, "x" * 200),  # payload 2 bytes, rowid 2 bytes: record header intact
        (70_000, "y" * 30),  # payload 1 + rowid 3 bytes fill the 4 bytes: header intact
        (3_000_000, "z" * 150),  # payload 2 + rowid 4 bytes: 2 rowid bytes visible, header intact
    ],
)
def test_freeblock_header_overwrote_record_start(tmp_path: Path, rowid: int, body: str) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    victim = (rowid, 3, body, 1_650_000_000_123, 1)
    # Neighbours before and after keep the freed cell inside the content area (a freeblock).
    insert(con, [(rowid - 2, 1, "before", 1, 0), victim, (rowid + 2, 2, "after", 2, 0)])
    page_before = _page_bytes(db, 2)
    delete(con, [rowid])
    live = live_rows(con)
    con.close()
    page_after = _page_bytes(db, 2)
    result = recover.recover(db)
    assert_exact(result, [victim], live)
    [candidate] = result.candidates
    assert candidate.where.kind == "freeblock"
    offset = candidate.where.offset
    # The freeblock header really replaced the first 4 bytes of the cell.
    assert page_before[offset : offset + 4] != page_after[offset : offset + 4]
    freeblock_size = int.from_bytes(page_after[offset + 2 : offset + 4], "big")
    assert candidate.where.offset + freeblock_size <= len(page_after)


def _page_bytes(db: Path, pgno: int, page_size: int = 4096) -> bytes:
    data = db.read_bytes()
    return data[(pgno - 1) * page_size : pgno * page_size]


def test_table_without_rowid_alias(tmp_path: Path) -> None:
    """First column TEXT: when it is overwritten its size comes from the freeblock size."""
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute("CREATE TABLE chat_log(body TEXT NOT NULL, sender TEXT, ts INTEGER)")
    rows = [(f"log line {i}", f"user{i % 4}", 1_600_000_000 + i) for i in range(1, 201)]
    con.execute("BEGIN")
    con.executemany("INSERT INTO chat_log VALUES(?,?,?)", rows)
    con.execute("COMMIT")
    gone = rows[9::10]
    con.execute("BEGIN")
    con.executemany("DELETE FROM chat_log WHERE body=?", [(r[0],) for r in gone])
    con.execute("COMMIT")
    live = set(con.execute("SELECT * FROM chat_log"))
    con.close()
    result = recover.recover(db)
    got = {c.values for c in result.for_table("chat_log")}
    assert got == set(gone)
    assert not got & live


def test_deleted_cells_at_content_start_land_in_unallocated(tmp_path: Path) -> None:
    """The newest cells sit at the start of the content area; freeing them moves that start,
    so they end up in unallocated space (first 4 bytes still overwritten by a header)."""
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 21)))
    gone = [20, 19, 18]
    delete(con, gone)
    live = live_rows(con)
    con.close()
    result = recover.recover(db)
    assert_exact(result, [make_row(i) for i in gone], live)
    assert kinds(result.candidates) == {"unallocated"}


def test_cells_freed_into_preceding_freeblock_keep_rowid(tmp_path: Path) -> None:
    """Cells are written downwards, so a newer row sits below an older one. Deleting
    neighbours newest first, each later cell joins the freeblock below it: only the first
    one's start is overwritten, the others keep payload size and rowid."""
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 41)))
    gone = [13, 12, 11, 10]
    delete(con, gone)
    live = live_rows(con)
    con.close()
    result = recover.recover(db)
    assert_exact(result, [make_row(i) for i in gone], live)
    assert sorted(c.rowid or 0 for c in result.candidates) == [0, 10, 11, 12]


def test_freelist_pages(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 3001)))
    gone = list(range(1000, 2001))  # empties whole leaf pages, which go to the freelist
    delete(con, gone)
    live = live_rows(con)
    freelist = con.execute("PRAGMA freelist_count").fetchone()[0]
    con.close()
    assert freelist > 0
    result = recover.recover(db)
    assert "freelist" in kinds(result.candidates)
    deleted = [make_row(i) for i in gone]
    assert assert_exact(result, deleted, live, must_find=survivors(deleted, db)) >= 0.85


def test_no_deletions_reports_nothing(tmp_path: Path) -> None:
    """Page splits leave copies of live cells behind; none may come out as deleted."""
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    for start in range(1, 2001, 100):  # many small transactions: many splits
        insert(con, (make_row(i) for i in range(start, start + 100)))
    con.execute("UPDATE messages SET from_me = from_me")  # rewrite in place, same values
    con.close()
    result = recover.recover(db)
    assert result.candidates == []
    assert result.stats["suppressed_live_duplicates"] > 0


def test_updated_row_old_version(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 101)))
    con.execute("UPDATE messages SET body='edited, and longer than the original body was' WHERE _id=50")
    con.close()
    result = recover.recover(db)
    [candidate] = result.candidates
    assert content(candidate.values) == content(make_row(50))
    assert candidate.status in ("modified", "rowid_unknown")


def test_overflow_record_followed_through_freelist(tmp_path: Path) -> None:
    """A freed overflow page kept as a freelist leaf keeps its bytes: the value is whole.
    One that became a freelist trunk lost bytes 4-8 to the trunk header: the value is cut."""
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    big = {i: (i, 1, f"attachment text {i} " + "ABCDEFGHIJ" * (500 + i), 5, 1) for i in (10, 11, 12)}
    insert(con, [make_row(i) for i in range(1, 10)] + list(big.values()) + [make_row(13)])
    delete(con, [10])  # empty freelist: its overflow page becomes the trunk
    delete(con, [11])  # its overflow page becomes a leaf of that trunk
    live = live_rows(con)
    con.close()
    result = recover.recover(db)
    by_body = {c.values[2][:20]: c for c in result.candidates}  # type: ignore[index]
    whole, cut = by_body[big[11][2][:20]], by_body[big[10][2][:20]]
    assert whole.values[1:] == big[11][1:] and not whole.truncated
    assert "overflow followed" in whole.notes
    assert cut.truncated and big[10][2].startswith(cut.values[2])  # type: ignore[arg-type]
    # date lies past the cut: unknown, not guessed; from_me=1 is serial type 9 (no body bytes)
    assert cut.values[3:] == (None, 1)
    assert len(result.candidates) == 2
    assert not {content(c.values) for c in result.candidates} & {content(r) for r in live}


def test_overflow_pages_reused_gives_cut_value_not_wrong_one(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    big = (11, 1, "attachment " + "0123456789" * 800, 5, 1)
    insert(con, [make_row(i) for i in range(1, 11)] + [big, make_row(12)])
    delete(con, [11])
    # New long rows take the freed overflow pages.
    insert(con, [(20 + k, 1, "new " + "Q" * 7000, 6, 0) for k in range(3)])
    live = live_rows(con)
    con.close()
    result = recover.recover(db)
    for candidate in result.candidates:
        body = candidate.values[2]
        if candidate.truncated:
            assert isinstance(body, str) and big[2].startswith(body)
        else:
            assert candidate.values[1:] == big[1:]
    assert not {content(c.values) for c in result.candidates} & {content(r) for r in live}


def test_utf16_database(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db, encoding="UTF-16le")
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 201)))
    gone = list(range(5, 200, 15))
    delete(con, gone)
    live = live_rows(con)
    con.close()
    assert_exact(recover.recover(db), [make_row(i) for i in gone], live)


def test_only_requested_tables_and_other_tables_untouched(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    con.execute("CREATE TABLE contacts(_id INTEGER PRIMARY KEY, name TEXT, phone TEXT)")
    insert(con, (make_row(i) for i in range(1, 101)))
    con.executemany(
        "INSERT INTO contacts(name, phone) VALUES(?,?)", [(f"n{i}", f"+1555{i:04}") for i in range(50)]
    )
    delete(con, [33])
    con.execute("DELETE FROM contacts WHERE name='n7'")
    live = live_rows(con)
    con.close()
    only = recover.recover(db, tables=["messages"])
    assert set(only.tables) == {"messages"}
    assert_exact(only, [make_row(33)], live)
    both = recover.recover(db)
    assert [c.values[1:] for c in both.for_table("contacts")] == [("n7", "+15550007")]


# ---------------------------------------------------------------------------------------------
# WAL and rollback journal


def _snapshot(db: Path, dest: Path) -> tuple[Path, Path]:
    """Copy the database and its WAL while the writer is still open (the WAL still exists)."""
    shutil.copy(db, dest)
    shutil.copy(Path(f"{db}-wal"), Path(f"{dest}-wal"))
    return dest, Path(f"{dest}-wal")


def _wal_frame_page(wal: Path, frame: int, page_size: int = 4096) -> bytes:
    data = wal.read_bytes()
    start = 32 + (frame - 1) * (24 + page_size) + 24
    return data[start : start + page_size]


def test_wal_only_database(tmp_path: Path) -> None:
    """Nothing checkpointed: the main file is bare, every version is in WAL frames."""
    db = tmp_path / "m.db"
    con = connect(db, wal=True)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 201)))
    gone = [i for i in range(1, 201) if i % 13 == 0]
    delete(con, gone)
    live = live_rows(con)
    snap, wal = _snapshot(db, tmp_path / "copy.db")
    con.close()
    result = recover.recover(snap, wal=wal)
    assert_exact(result, [make_row(i) for i in gone], live)
    for candidate in result.candidates:
        if candidate.where.kind == "wal":
            image = _wal_frame_page(wal, candidate.where.frame or 0)
            assert candidate.values[2].encode() in image  # type: ignore[union-attr]
    assert "wal" in kinds(result.candidates) | {loc.kind for c in result.candidates for loc in c.also_found}


def _three_hundred_with_deletes(tmp_path: Path) -> tuple[Path, list[int], set[Row]]:
    """A database of 300 messages, every seventh from the second deleted: (file, deleted, live)."""
    return _with_deletes(tmp_path, 300, lambda i: i % 7 == 2)


def test_a_wal_of_another_page_size_is_left_out_and_the_file_still_searched(tmp_path: Path) -> None:
    """Review: a ``-wal`` whose header gives another page size than the database's (512 for
    4096) made recovery fail with an IndexError, losing the deleted rows the main file holds. It
    is not this database's log: left out, said in the stats, the file searched as without it."""
    db, gone, live = _three_hundred_with_deletes(tmp_path)
    alone = recover.recover(db)
    wal = tmp_path / "m.db-wal"
    header = struct.pack(">IIIIII", 0x377F0682, 3007000, 512, 0, 1, 2)
    header += struct.pack(">II", *recover._wal_checksum(header, 0, 0, False))
    frame = struct.pack(">II", 2, 1) + header[16:24] + b"\0" * 8
    wal.write_bytes(header + (frame + bytes(range(256)) * 2) * 4)
    result = recover.recover(db, wal=wal)
    assert result.stats["wal_other_page_size"] == 512
    assert [c.values for c in result.candidates] == [c.values for c in alone.candidates]
    assert_exact(result, [make_row(i) for i in gone], live)


def test_a_header_whose_page_size_the_file_contradicts_is_refused(tmp_path: Path) -> None:
    """Review: a header saying 32768 on a file of 4096-byte pages made recovery read live rows
    as "free" space and report them deleted. Its valid page count times 4096 is the file's
    length: the page size is refused, and nothing is reported."""
    db, _, _ = _three_hundred_with_deletes(tmp_path)
    assert recover.recover(db).candidates  # the same file with its true header
    data = bytearray(db.read_bytes())
    data[16:18] = (32768).to_bytes(2, "big")
    db.write_bytes(bytes(data))
    with pytest.raises(RecoveryError, match="page size 32768 does not fit the file"):
        recover.recover(db)


def test_wal_updates_and_deletes_after_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db, wal=True)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 301)))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    gone = [i for i in range(1, 301) if i % 17 == 0]
    delete(con, gone)
    edited = [6, 60, 160]
    con.executemany("UPDATE messages SET body=? WHERE _id=?", [(f"edited {i}", i) for i in edited])
    live = live_rows(con)
    snap, wal = _snapshot(db, tmp_path / "copy.db")
    con.close()
    result = recover.recover(snap, wal=wal)
    assert_exact(result, [make_row(i) for i in gone + edited], live)
    by_rowid = {c.rowid: c for c in result.candidates if c.rowid is not None}
    for i in edited:
        if i in by_rowid:
            assert by_rowid[i].status == "modified"
    for i in gone:
        if i in by_rowid:
            assert by_rowid[i].status == "deleted"
    # The main file still has the pre-WAL pages: the rows appear there as superseded cells.
    assert "superseded" in kinds(result.candidates) | {
        loc.kind for c in result.candidates for loc in c.also_found
    }


def test_wal_without_wal_file_reads_main_file_only(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db, wal=True)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 101)))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    delete(con, [10])
    snap, _ = _snapshot(db, tmp_path / "copy.db")
    con.close()
    assert recover.recover(snap).candidates == []  # the delete lives only in the WAL


def test_rollback_journal_after_vacuum(tmp_path: Path) -> None:
    """PERSIST keeps journal pages; VACUUM wiped the main file, the journal still has them."""
    db = tmp_path / "m.db"
    con = connect(db, journal="PERSIST")
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 201)))
    gone = [i for i in range(1, 201) if i % 19 == 0]
    delete(con, gone)
    con.execute("VACUUM")
    live = live_rows(con)
    con.close()
    journal = Path(f"{db}-journal")
    assert journal.exists()
    assert recover.recover(db).candidates == []
    result = recover.recover(db, journal=journal)
    assert_exact(result, [make_row(i) for i in gone], live)
    assert kinds(result.candidates) == {"journal"}


# ---------------------------------------------------------------------------------------------
# Hostile input


def _damaged_copies(base: bytes, rng: random.Random, count: int) -> Iterable[bytes]:
    page_size = 4096
    for n in range(count):
        data = bytearray(base)
        mode = n % 5
        if mode == 0:  # random byte flips anywhere past the magic
            for _ in range(rng.randint(1, 200)):
                data[rng.randrange(16, len(data))] = rng.randrange(256)
        elif mode == 1:  # a whole page of noise
            page = rng.randrange(len(data) // page_size)
            data[page * page_size + (100 if page == 0 else 0) : (page + 1) * page_size] = rng.randbytes(
                page_size - (100 if page == 0 else 0)
            )
        elif mode == 2:  # truncation
            del data[rng.randrange(100, len(data)) :]
        elif mode == 3:  # b-tree headers and freeblock chains pointing anywhere
            for page in range(len(data) // page_size):
                off = page * page_size + (100 if page == 0 else 0)
                data[off + 1 : off + 8] = rng.randbytes(7)
        else:  # header fields: page size, freelist, counts
            for field_off in (16, 20, 28, 32, 36, 56, 92):
                data[field_off : field_off + 4] = rng.randbytes(4)
        yield bytes(data)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    tmp = tmp_path_factory.mktemp("fuzz")
    db = tmp / "m.db"
    con = connect(db, wal=True)
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 400)))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    delete(con, range(50, 200, 3))
    insert(con, [(1000, 1, "x" * 9000, 1, 1)])
    snap, wal = _snapshot(db, tmp / "copy.db")
    con.close()
    return snap.read_bytes(), wal.read_bytes()


def test_fuzzed_inputs_never_raise(sample: tuple[bytes, bytes]) -> None:
    base, wal = sample
    rng = random.Random(1234)
    for damaged in _damaged_copies(base, rng, 150):
        try:
            result = recover.recover(damaged)
        except RecoveryError:
            continue
        for candidate in result.candidates:
            assert len(candidate.values) == len(candidate.columns)
    for damaged_wal in _damaged_copies(wal, rng, 60):
        try:
            recover.recover(base, wal=damaged_wal, journal=damaged_wal)
        except RecoveryError:
            continue


def test_random_bytes_and_tiny_inputs(sample: tuple[bytes, bytes]) -> None:
    rng = random.Random(99)
    for size in (0, 1, 99, 100, 512, 4096, 20000):
        with pytest.raises(RecoveryError):
            recover.recover(rng.randbytes(size))
    header = sample[0][:100]
    for _ in range(30):  # valid header, random pages
        with contextlib.suppress(RecoveryError):
            recover.recover(header + rng.randbytes(4096 * rng.randint(0, 6) - 100 + rng.randint(0, 4096)))


def test_cyclic_structures_terminate(sample: tuple[bytes, bytes]) -> None:
    data = bytearray(sample[0])
    data[32:36] = struct.pack(">I", 2)  # freelist trunk = page 2, whose "next" we point at itself
    data[4096 : 4096 + 4] = struct.pack(">I", 2)
    recover.recover(bytes(data))
    # interior page whose child pointers point back to the root
    data = bytearray(sample[0])
    root = 4096
    data[root : root + 12] = bytes([5, 0, 0, 0, 1, 0x0F, 0xF0, 0]) + struct.pack(">I", 2)
    data[root + 12 : root + 14] = struct.pack(">H", 0x0FF0)
    data[root + 0x0FF0 : root + 0x0FF0 + 5] = struct.pack(">I", 2) + b"\x01"
    recover.recover(bytes(data))


# ---------------------------------------------------------------------------------------------
# Units


@pytest.mark.parametrize("value", [0, 1, 127, 128, 16383, 16384, 2**21, 2**28, 2**35, 2**56 - 1])
def test_varint_round_trip(value: int) -> None:
    encoded = recover.encode_varint(value)
    assert len(encoded) == recover.varint_len(value)
    assert recover.read_varint(encoded, 0, len(encoded)) == (value, len(encoded))
    assert recover.read_varint(encoded, 0, len(encoded) - 1) is None


def test_nine_byte_varint() -> None:
    raw = b"\xff" * 8 + b"\x01"
    value, end = recover.read_varint(raw, 0, 9) or (0, 0)
    assert end == 9 and recover.to_signed64(value) == -255


def test_local_payload_size_matches_sqlite(tmp_path: Path) -> None:
    """Our overflow split agrees with what SQLite wrote (read back through our live reader)."""
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(MESSAGES_SQL)
    rows = [(i, 1, "p" * (i * 97), 1, 1) for i in range(1, 120)]
    insert(con, rows)
    con.close()
    data = db.read_bytes()
    header, view = recover._open_view(data, None)
    table = dict((e.name, e) for e in recover.read_schema(view, header.usable, header.encoding))["messages"]
    read = {
        rowid: values[2]
        for rowid, values in recover.iter_table_rows(view, table.root_page, header.usable, "utf-8")
    }
    assert read == {r[0]: r[2] for r in rows}


def test_affinity_rules() -> None:
    assert recover.affinity_of("INTEGER") == "INTEGER"
    assert recover.affinity_of("VARCHAR(20)") == "TEXT"
    assert recover.affinity_of("") == "BLOB"
    assert recover.affinity_of("DOUBLE PRECISION") == "REAL"
    assert recover.affinity_of("DATETIME") == "NUMERIC"
    assert recover.table_columns("CREATE TABLE t(a INTEGER PRIMARY KEY, b) WITHOUT ROWID") is None
    cols = recover.table_columns("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT NOT NULL)")
    assert cols is not None and cols[0].rowid_alias and cols[1].notnull


def test_min_columns_for_rows_written_before_alter_table(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    con = connect(db)
    con.execute(
        "CREATE TABLE messages(_id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, body TEXT, date INTEGER)"
    )
    con.executemany("INSERT INTO messages VALUES(?,?,?,?)", [(i, 1, f"old {i}", i) for i in range(1, 50)])
    con.execute("ALTER TABLE messages ADD COLUMN from_me INTEGER")
    con.execute("DELETE FROM messages WHERE _id=20")
    con.close()
    assert recover.recover(db).candidates == []  # 4-column record does not fit 5 columns
    result = recover.recover(db, min_columns={"messages": 4})
    assert [c.values[1:] for c in result.candidates] == [(1, "old 20", 20, None)]


# ---------------------------------------------------------------------------------------------
# Random workloads: whatever is reported must be a row version that really existed


def run_workload(
    con: sqlite3.Connection, rng: random.Random, steps: int
) -> tuple[set[tuple[object, ...]], set[int]]:
    """Random inserts, updates and deletes; returns every row content ever written and the
    rowids deleted."""
    versions: set[tuple[object, ...]] = set()
    deleted: set[int] = set()
    alive: list[int] = []
    next_id = 1
    for _ in range(steps):
        con.execute("BEGIN")
        for _ in range(rng.randint(1, 40)):
            op = rng.random()
            ids = [rng.choice(alive)] if alive else []
            if op < 0.6 or not ids:
                length = rng.choice([5, 20, 60, 200, 1500, 6000])
                row = (
                    next_id,
                    rng.randint(0, 9),
                    f"m{next_id} " + "".join(rng.choice("abcdefghij ÄÖ😀") for _ in range(length)),
                    rng.randint(0, 2**40),
                    rng.randint(0, 1),
                )
                con.execute("INSERT INTO messages VALUES(?,?,?,?,?)", row)
                versions.add(content(row))
                alive.append(next_id)
                next_id += 1
            elif op < 0.8:
                row = con.execute("SELECT * FROM messages WHERE _id=?", (ids[0],)).fetchone()
                new = (row[0], row[1], row[2][: rng.randint(1, len(row[2]))] + " (edited)", row[3], row[4])
                con.execute("UPDATE messages SET body=? WHERE _id=?", (new[2], new[0]))
                versions.add(content(new))
            else:
                con.execute("DELETE FROM messages WHERE _id=?", (ids[0],))
                deleted.add(ids[0])
                alive.remove(ids[0])
        con.execute("COMMIT")
    return versions, deleted


def assert_only_real_versions(
    result: RecoveryResult, versions: set[tuple[object, ...]], live: set[Row]
) -> None:
    live_contents = {content(r) for r in live}
    for candidate in result.candidates:
        got = content(candidate.values)
        assert got not in live_contents, candidate.as_dict()
        if not candidate.truncated:
            assert got in versions, f"invented: {candidate.as_dict()}"
        else:  # what a cut record still holds must agree with some real version
            assert any(recover._agrees(got, v, None) for v in versions), (
                f"cut, from no real row: {candidate.as_dict()}"
            )


@pytest.mark.parametrize("mode", ["delete", "wal"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_workload_reports_only_real_row_versions(tmp_path: Path, mode: str, seed: int) -> None:
    db = tmp_path / "m.db"
    con = connect(db, wal=mode == "wal")
    con.execute(MESSAGES_SQL)
    versions, _deleted = run_workload(con, random.Random(seed), 60)
    live = live_rows(con)
    if mode == "wal":
        snap, wal = _snapshot(db, tmp_path / "copy.db")
        con.close()
        result = recover.recover(snap, wal=wal)
    else:
        con.close()
        result = recover.recover(db)
    assert result.candidates, "a workload with deletes and updates should leave something"
    assert_only_real_versions(result, versions, live)


def test_secure_delete_leaves_only_older_page_versions(tmp_path: Path) -> None:
    """With secure_delete on, freed cells are zeroed: the main file gives nothing, but WAL
    frames written before the delete still hold the rows (as cells of older page images)."""
    db = tmp_path / "m.db"
    con = connect(db, wal=True)
    con.execute("PRAGMA secure_delete=ON")
    con.execute(MESSAGES_SQL)
    insert(con, (make_row(i) for i in range(1, 201)))
    gone = [i for i in range(1, 201) if i % 11 == 5]
    delete(con, gone)
    live = live_rows(con)
    snap, wal = _snapshot(db, tmp_path / "copy.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the main file alone, after checkpoint
    con.close()
    assert recover.recover(db).candidates == []
    result = recover.recover(snap, wal=wal)
    assert_exact(result, [make_row(i) for i in gone], live)
    assert {c.where.area for c in result.candidates} == {"cell"}
    assert {c.status for c in result.candidates} == {"deleted"}  # rowid known from the cell
