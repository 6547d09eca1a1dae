"""Table names read from a database's bytes (``triage.sources.sqlite_schema``), with SQLite as the
oracle: the corpus databases, databases SQLite made with every page size, auto-vacuum mode, text
encoding, overflowing CREATE statements and WITHOUT ROWID tables, schema changes that live only in
a ``-wal``, and damaged or hostile files (never an exception, never a hang, never a table SQLite
sees and the reader misses). Then the dispatcher: a database no plugin's tables fit costs no
scratch copy, and everything else is decided by SQLite as before."""

from __future__ import annotations

import io
import os
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from triage.engine.dispatch import confirm_candidates, match_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.contract import SQLITE_MAGIC, SqliteSignature, Targets
from triage.plugin.scratch import Scratch
from triage.sources import sqlite_schema
from triage.sources.sqlite_schema import table_names

HEADER = b"SQLite format 3\x00"


def sqlite_tables(db: bytes, wal: bytes, tmp: Path) -> frozenset[str] | None:
    """What SQLite lists as tables when opening a copy of ``db`` with ``wal`` beside it, as the
    scratch copy does; None when SQLite cannot read the schema."""
    folder = tmp / f"oracle{random.randrange(1 << 30)}"
    folder.mkdir()
    path = folder / "x.db"
    path.write_bytes(db)
    if wal:
        (folder / "x.db-wal").write_bytes(wal)
    try:
        con = sqlite3.connect(path)
        try:
            return frozenset(r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        finally:
            con.close()
    except (sqlite3.Error, UnicodeDecodeError):
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def names(db: bytes, wal: bytes = b"") -> frozenset[str] | None:
    return table_names(io.BytesIO(db), len(db), wal)


def _databases(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(16) == HEADER:
                    yield path


def test_every_corpus_database_gives_sqlites_tables(corpus: Path, tmp_path: Path) -> None:
    checked = 0
    for path in _databases(corpus):
        wal_path = path.with_name(path.name + "-wal")
        wal = wal_path.read_bytes() if wal_path.is_file() else b""
        want = sqlite_tables(path.read_bytes(), wal, tmp_path)
        got = names(path.read_bytes(), wal)
        assert want is not None, path
        assert got == want, path
        checked += 1
    assert checked >= 5


def _make(path: Path, rng: random.Random, page: int, vacuum: int, encoding: str, tables: int) -> None:
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA page_size = {page}")
    con.execute(f"PRAGMA auto_vacuum = {vacuum}")
    con.execute(f"PRAGMA encoding = '{encoding}'")
    for t in range(tables):
        cols = ", ".join(f"c{j}_{'x' * rng.randint(0, 40)} TEXT" for j in range(rng.randint(1, 40)))
        name = (
            f'"odd name {t} ü"' if t % 5 == 0 else f"T{t}_" + "n" * rng.randint(0, 300 if t % 7 == 0 else 10)
        )
        if t % 3 == 0:
            con.execute(f"CREATE TABLE {name} (id TEXT PRIMARY KEY, {cols}) WITHOUT ROWID")
        else:
            con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, {cols})")
        if t % 4 == 0:
            con.execute(f"CREATE INDEX i{t} ON {name}(id)")
        if t % 6 == 0:
            con.execute(f"CREATE VIEW v{t} AS SELECT * FROM {name}")
            con.execute(f"CREATE TRIGGER g{t} AFTER DELETE ON {name} BEGIN SELECT 1; END")
        if t % 9 == 0:
            con.execute(f"INSERT INTO {name} (id) VALUES ('1')")
    con.execute("CREATE TABLE bulk (a BLOB)")
    con.executemany("INSERT INTO bulk VALUES (?)", [(rng.randbytes(300),) for _ in range(100)])
    con.commit()
    con.close()


@pytest.mark.parametrize("page", [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536])
def test_databases_sqlite_made_give_its_tables(page: int, tmp_path: Path) -> None:
    """Every page size, auto-vacuum none/full/incremental, UTF-8 and both UTF-16s, up to 300
    tables with CREATE statements that overflow (to several overflow pages at 512 bytes)."""
    rng = random.Random(page)
    for vacuum, encoding in ((0, "UTF-8"), (1, "UTF-16le"), (2, "UTF-16be")):
        tables = 300 if page == 512 and vacuum == 0 else 40
        path = tmp_path / f"db{vacuum}.sqlite"
        _make(path, rng, page, vacuum, encoding, tables)
        data = path.read_bytes()
        want = sqlite_tables(data, b"", tmp_path)
        assert want is not None and len(want) == tables + 1
        assert names(data) == want, (page, vacuum, encoding)


def _live_copy(live: Path, dest: Path) -> tuple[bytes, bytes]:
    """The database and its -wal as an extraction of a running phone finds them."""
    wal = live.with_name(live.name + "-wal")
    return live.read_bytes(), wal.read_bytes() if wal.is_file() else b""


def test_schema_changes_only_in_the_wal_are_seen(tmp_path: Path) -> None:
    """Tables created, dropped and renamed in a WAL never checkpointed, a WAL restarted over
    older frames (new salts), and frames of a transaction not committed: the names hold every
    table SQLite lists for the database with its WAL (more is allowed: SQLite is then asked)."""
    rng = random.Random(5)
    for case in range(12):
        live = tmp_path / f"live{case}.db"
        con = sqlite3.connect(live, isolation_level=None)
        con.execute(f"PRAGMA page_size = {rng.choice([512, 1024, 4096])}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA wal_autocheckpoint = 0")
        for t in range(rng.randint(1, 30)):
            con.execute(f"CREATE TABLE base{t} (a, b{'y' * rng.randint(0, 200)})")
        if case % 2:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if case % 3 == 0:
            con.execute("PRAGMA wal_checkpoint(RESTART)")  # the next writes overwrite the WAL's start
        for t in range(rng.randint(1, 40)):
            con.execute(f"CREATE TABLE walonly{t} (x{'z' * rng.randint(0, 300)})")
        con.execute("DROP TABLE base0")
        if case % 4 == 2:
            con.execute("ALTER TABLE walonly0 RENAME TO renamed")
        if case % 4 == 1:
            con.execute("PRAGMA cache_size = 2")
            con.execute("BEGIN")
            con.execute("CREATE TABLE uncommitted (a)")
            con.executemany("INSERT INTO uncommitted VALUES (?)", [(rng.randbytes(400),) for _ in range(300)])
        db, wal = _live_copy(live, tmp_path)
        want = sqlite_tables(db, wal, tmp_path)
        got = names(db, wal)
        assert want is not None
        assert "base0" not in want
        assert got is not None and got >= want, case
        con.close()


def _mutations(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    page = int.from_bytes(out[16:18], "big")
    page = 65536 if page == 1 else page
    op = rng.randrange(5)
    if op == 0:
        return bytes(out[: rng.randrange(100, len(out) + 1)])
    if op == 1:
        for _ in range(rng.randint(1, 20)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif op == 2:
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(100, min(len(out), 3 * page))
            out[at : at + 4] = rng.randbytes(4)
    elif op == 3:
        out[rng.randrange(100, min(len(out), 2000))] = rng.choice([0x02, 0x05, 0x0A, 0x0D, 0x00, 0xFF])
    else:  # header fields SQLite checks
        at = rng.choice([16, 17, 18, 19, 20, 21, 22, 23, 56, 57, 58, 59])
        out[at] = rng.randrange(256)
    return bytes(out)


def test_damaged_files_never_raise_hang_or_miss_a_table(tmp_path: Path) -> None:
    rng = random.Random(11)
    sources = []
    for n, (page, vacuum) in enumerate([(512, 0), (1024, 1), (4096, 0), (65536, 2)]):
        path = tmp_path / f"src{n}.db"
        _make(path, rng, page, vacuum, "UTF-8", 40 if page < 4096 else 12)
        sources.append(path.read_bytes())
    slowest = 0.0
    for _ in range(800):
        data = _mutations(rng, rng.choice(sources))
        started = time.thread_time()  # the work's CPU, not a loaded machine's stalls
        got = names(data)
        slowest = max(slowest, time.thread_time() - started)
        want = sqlite_tables(data, b"", tmp_path)
        if want is not None and got is not None:
            assert got >= want
    assert slowest < 0.5


def test_hostile_trees_stop_at_a_bounded_number_of_reads(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    _make(path, random.Random(3), 512, 0, "UTF-8", 60)
    data = bytearray(path.read_bytes())
    # page 1 turned into an interior page whose children are all page 1 and page 2: a loop
    looped = bytearray(data)
    looped[100] = 0x05
    looped[108:112] = (1).to_bytes(4, "big")
    assert names(bytes(looped)) is None or isinstance(names(bytes(looped)), frozenset)
    # an overflow chain pointing at itself: stops, and says "not sure"
    db = tmp_path / "o.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA page_size = 512")
    con.execute(f"CREATE TABLE t_{'a' * 3000} (x)")
    con.commit()
    con.close()
    raw = bytearray(db.read_bytes())
    for number in range(2, len(raw) // 512 + 1):  # every overflow page points to itself
        start = (number - 1) * 512
        if raw[start] not in (0x02, 0x05, 0x0A, 0x0D):
            raw[start : start + 4] = number.to_bytes(4, "big")
    assert names(bytes(raw)) is None
    # reads are counted and bounded
    reads = 0

    class Counting(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            nonlocal reads
            reads += 1
            return super().read(n)

    big = tmp_path / "many.db"
    _make(big, random.Random(4), 512, 0, "UTF-8", 300)
    content = big.read_bytes()
    assert table_names(Counting(content), len(content)) is not None
    assert reads <= sqlite_schema.MAX_PAGES + 1


def test_hostile_wal_files(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    con = sqlite3.connect(live, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("CREATE TABLE a (x)")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("CREATE TABLE b (x)")
    db, wal = _live_copy(live, tmp_path)
    con.close()
    assert names(db, wal) == {"a", "b"}
    assert names(db, wal[:20]) is None  # not a WAL header: not sure
    assert names(db, b"\x00" * 64) is None
    rng = random.Random(2)
    for _ in range(300):
        bad = bytearray(wal)
        for _ in range(rng.randint(1, 10)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        got = names(db, bytes(bad))
        want = sqlite_tables(db, bytes(bad), tmp_path)
        if want is not None and got is not None:
            assert got >= want


# -- the dispatcher -----------------------------------------------------------------------------


class _Plugin:
    """A SQLite plugin in the contract's shape (only its targets matter here)."""

    version = "1"
    emits = ()

    def __init__(self, name: str, sig: SqliteSignature, globs: tuple[str, ...] = ()) -> None:
        self.name = name
        self.targets = Targets(globs=globs, magic=(SQLITE_MAGIC,), sqlite=sig)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[object]:
        return iter(())


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = Scratch.copy_in

    def copy_in(self: Scratch, item: FileItem, dest: Path) -> int:
        made.append(item.path)
        return real(self, item, dest)

    monkeypatch.setattr(Scratch, "copy_in", copy_in)
    return made


def _db(path: Path, *tables: str, wal_tables: tuple[str, ...] = ()) -> Path:
    con = sqlite3.connect(path, isolation_level=None)
    for t in tables:
        con.execute(f"CREATE TABLE {t} (_id INTEGER PRIMARY KEY, body TEXT)")
    if wal_tables:
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA wal_autocheckpoint = 0")
        for t in wal_tables:
            con.execute(f"CREATE TABLE {t} (_id INTEGER PRIMARY KEY, body TEXT)")
        keep = tmp = path.parent / "keep"
        keep.mkdir(exist_ok=True)
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{path}{suffix}", tmp / f"{path.name}{suffix}")
        con.close()
        for suffix in ("", "-wal"):
            os.replace(tmp / f"{path.name}{suffix}", f"{path}{suffix}")
    else:
        con.close()
    return path


def _match(path: Path, plugins: list[_Plugin], tmp: Path, fs_path: str) -> tuple[list[str], list[str]]:
    item = FileItem.from_path(path, fs_path=fs_path)
    with Scratch(tmp) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, plugins, ctx)  # type: ignore[arg-type]
        return [p.name for p in chosen], [w.message for w in ctx.warnings]


SMS = SqliteSignature.of(sms=("_id", "body"))


def test_a_database_no_plugin_fits_costs_no_copy(tmp_path: Path, copies: list[str]) -> None:
    db = _db(tmp_path / "store.db", "t0", "t1")
    assert _match(db, [_Plugin("sms", SMS)], tmp_path, "/data/app/store.db") == ([], [])
    assert copies == []


def test_a_database_whose_tables_fit_is_decided_by_sqlite(tmp_path: Path, copies: list[str]) -> None:
    db = _db(tmp_path / "store.db", "t0", "SMS")
    assert _match(db, [_Plugin("sms", SMS)], tmp_path, "/data/app/store.db") == (["sms"], [])
    assert copies == ["/data/app/store.db"]
    # the table is there but not the columns: SQLite's reading says no, as before
    other = tmp_path / "cols.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, address TEXT)")
    con.close()
    copies.clear()
    assert _match(other, [_Plugin("sms", SMS)], tmp_path, "/data/app/cols.db") == ([], [])
    assert copies == ["/data/app/cols.db"]


def test_a_table_only_in_the_wal_still_matches(tmp_path: Path, copies: list[str]) -> None:
    db = _db(tmp_path / "store.db", "t0", wal_tables=("sms",))
    assert (tmp_path / "store.db-wal").stat().st_size > 0
    assert _match(db, [_Plugin("sms", SMS)], tmp_path, "/data/app/store.db") == (["sms"], [])
    copies.clear()
    db2 = _db(tmp_path / "two.db", "t0", wal_tables=("t1",))
    assert _match(db2, [_Plugin("sms", SMS)], tmp_path, "/data/app/two.db") == ([], [])
    assert copies == []  # the WAL was read for the names, and nothing fits


def test_a_named_database_keeps_its_warning(tmp_path: Path, copies: list[str]) -> None:
    db = _db(tmp_path / "mmssms.db", "t0")
    plugin = _Plugin("sms", SMS, globs=("**/mmssms.db",))
    chosen, warnings = _match(db, [plugin], tmp_path, "/data/mmssms.db")
    assert chosen == []
    assert warnings == [
        "database skipped by sms: it lacks the tables and columns the plugin reads: table sms(_id, body)"
    ]
    assert copies == ["/data/mmssms.db"]


def test_the_warning_names_only_what_is_missing(tmp_path: Path) -> None:
    """Found in review: a contacts2.db without raw_contacts was said to lack data and mimetypes too,
    which it had."""
    from triage.plugin import SqliteSignature

    signature = SqliteSignature(
        {
            "data": ("_id", "mimetype_id", "raw_contact_id"),
            "mimetypes": ("_id", "mimetype"),
            "raw_contacts": ("_id", "contact_id"),
        }
    )
    schema = {"DATA": frozenset({"_id", "MIMETYPE_ID", "data1"}), "mimetypes": frozenset({"_id", "mimetype"})}
    assert signature.missing(schema) == [
        "data: no column raw_contact_id",
        "table raw_contacts(_id, contact_id)",
    ]
    assert (
        signature.missing(
            {
                **schema,
                "data": frozenset({"_id", "mimetype_id", "raw_contact_id"}),
                "raw_contacts": frozenset({"_id", "contact_id"}),
            }
        )
        == []
    )


def test_a_hot_journal_leaves_the_decision_to_sqlite(tmp_path: Path, copies: list[str]) -> None:
    db = _db(tmp_path / "store.db", "t0")
    (tmp_path / "store.db-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + bytes(504))
    assert _match(db, [_Plugin("sms", SMS)], tmp_path, "/data/app/store.db") == ([], [])
    assert copies == ["/data/app/store.db", "/data/app/store.db-journal"]


def test_confirm_candidates_uses_the_wal_it_is_given(tmp_path: Path, copies: list[str]) -> None:
    db = _db(tmp_path / "store.db", "t0", wal_tables=("sms",))
    wal = (tmp_path / "store.db-wal").read_bytes()
    item = FileItem.from_path(db, fs_path="/store.db")
    plugin = _Plugin("sms", SMS)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        # told there is no WAL, the names lack sms: dropped without a copy (the engine's answer
        # from its walk is what decides, never a guess)
        assert confirm_candidates(item, [plugin], ctx, lambda: [False], lambda: b"") == []  # type: ignore[list-item]
        assert copies == []
        assert confirm_candidates(item, [plugin], ctx, lambda: [False], lambda: wal) == [plugin]  # type: ignore[list-item]
        assert confirm_candidates(item, [plugin], ctx, lambda: [False], lambda: None) == [plugin]  # type: ignore[list-item]
