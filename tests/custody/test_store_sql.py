"""Custody's statements on the case database (custody/store/sql.py): the same rows through
:mod:`sqlite3` and through SQLAlchemy, transactions that commit or leave nothing, connections that
are pooled like the engine's and never cross a fork, and URLs read as SQLAlchemy reads them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from custody.case import Case
from custody.errors import LedgerError
from custody.ledger import Draft
from custody.store import sql
from custody.store.sql import Database
from tests.procs import in_forked_child


def _sessions(case: Case) -> list[Database]:
    """The case's own database and one that runs the same statements through SQLAlchemy."""
    through_engine = Database(case.db_url)
    through_engine._file = None  # as for a URL sqlite_file() declines: every statement via the engine
    return [case.database, through_engine]


def test_both_paths_read_the_same_rows(case: Case) -> None:
    with case.engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(text("SELECT * FROM entries ORDER BY seq"))]
    assert len(expected) == 2  # two actors registered
    for database in _sessions(case):
        try:
            with database.read() as session:
                assert [tuple(r) for r in session.rows("SELECT * FROM entries ORDER BY seq")] == expected
                assert tuple(session.first("SELECT count(*) FROM entries") or ()) == (2,)
                assert session.first("SELECT seq FROM entries WHERE seq = :s", {"s": 99}) is None
                listed, params = sql.in_list("k", ["actor.add", "nothing"])
                assert [
                    r[0] for r in session.rows(f"SELECT seq FROM entries WHERE kind IN {listed}", params)
                ] == [1, 2]
            assert database.has_table("entries") and not database.has_table("no_such_table")
            assert database.at_head()
            assert not database.at_head(("custody_alembic_version", "c9999"))
        finally:
            if database is not case.database:
                database.close()


def test_a_write_commits_at_the_end_or_leaves_nothing(case: Case) -> None:
    before = case.ledger.count()
    for database in _sessions(case):
        with database.read() as session:
            settings = (session.first("SELECT count(*) FROM tsa_config") or (None,))[0]
        try:
            with pytest.raises(RuntimeError), database.write() as session:
                session.run(
                    "INSERT INTO tsa_config (url, ca_pem, auto, added_utc) VALUES (:u, 'pem', :a, 'now')",
                    {"u": "http://tsa.invalid", "a": True},
                )
                assert tuple(session.first("SELECT count(*) FROM tsa_config") or ()) == (settings + 1,)
                raise RuntimeError("the block failed")
            with database.read() as session:
                assert tuple(session.first("SELECT count(*) FROM tsa_config") or ()) == (settings,)
            with database.write() as session:
                session.run_many(
                    "INSERT INTO tsa_config (url, ca_pem, auto, added_utc) VALUES (:u, 'pem', :a, 'now')",
                    [{"u": "http://one.invalid", "a": False}, {"u": "http://two.invalid", "a": True}],
                )
            setting = case.tsa()
            assert setting is not None and setting.url == "http://two.invalid" and setting.auto is True
        finally:
            if database is not case.database:
                database.close()
    assert case.ledger.count() == before


def test_a_taken_key_is_the_ledgers_refusal(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    """An append whose row takes a sequence number already there (as a second writer's would, were
    the lock bypassed): the database's key refuses it, reported as the ledger's error with what to
    do, and nothing of the append is kept, on both databases."""
    from custody.actors import signing_keys

    keys = signing_keys(case, ["jdoe"])
    before = case.ledger.count()
    monkeypatch.setattr(
        type(case.ledger),
        "_append_locked",
        lambda self, session, *rest: session.run(
            "INSERT INTO entries (seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, "
            "signatures) SELECT seq, entry_hash, prev_hash, kind, exhibit, actor, recorded_utc, body, "
            "signatures FROM entries WHERE seq = 1"
        ),
    )
    with pytest.raises(LedgerError, match="refused the append"):
        case.ledger.append([Draft(kind="note", actor="jdoe", data={})], keys, checkpoint_signer="jdoe")
    assert case.ledger.count() == before


def test_integrity_errors_of_both_drivers() -> None:
    from sqlalchemy.exc import IntegrityError

    assert sql.integrity_error(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert sql.integrity_error(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not sql.integrity_error(sqlite3.OperationalError("database is locked"))
    assert not sql.integrity_error(ValueError("x"))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/case/case.sqlite",
        "sqlite:////tmp/x y/c#d.sqlite",
        "sqlite:////tmp/a@b:c/d.sqlite",
        "sqlite:////tmp/é/ü.sqlite",
        "sqlite:///relative/case.sqlite",
        "sqlite:////tmp/50%25/case.sqlite",  # SQLAlchemy decodes escapes, and so does sqlite_file
        "sqlite:////tmp/q%3Fx=1/case.sqlite",
        "sqlite:////tmp/a%zzb/a+b.sqlite",  # not an escape; a plus is a plus
    ],
)
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_opens(url: str) -> None:
    assert sql.sqlite_file(url) == make_url(url).database


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/case.sqlite?timeout=5",
        "sqlite://",
        "sqlite:///",
        "postgresql://postgres@127.0.0.1/exhibit",
    ],
)
def test_other_urls_go_through_sqlalchemy(url: str) -> None:
    assert sql.sqlite_file(url) is None


def _connection(database: Database) -> sqlite3.Connection:
    with database.read() as session:
        conn: sqlite3.Connection = session._conn  # type: ignore[attr-defined]
        return conn


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_connections_are_pooled_like_the_engines(case: Case) -> None:
    """One connection serves the command; a statement run while another still reads gets a second,
    which is closed afterwards (only one is kept)."""
    first = _connection(case.database)
    assert _connection(case.database) is first
    with case.database.read() as outer:
        rows = outer.rows("SELECT seq FROM entries ORDER BY seq")
        next(rows)
        with case.database.write() as inner:
            assert inner._conn is not first  # type: ignore[attr-defined]
            second = inner._conn  # type: ignore[attr-defined]
            inner.run("INSERT INTO tsa_config (url, ca_pem, auto, added_utc) VALUES ('u', 'p', 0, 'now')")
        assert [r[0] for r in rows] == [2]
    assert _connection(case.database) in (first, second)
    with pytest.raises(sqlite3.ProgrammingError):  # the one not kept was closed
        (second if _connection(case.database) is first else first).execute("SELECT 1")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_forked_process_opens_its_own_sqlite_connection(case: Case) -> None:
    parent = _connection(case.database)

    def child() -> str:
        fresh = _connection(case.database) is not parent
        count = case.ledger.count()
        case.database.close()  # closes the child's own connection, not its parent's
        kept = case.database._inherited == [parent]  # type: ignore[attr-defined]
        parent.total_changes  # noqa: B018 (raises ProgrammingError had the child closed it)
        return f"{fresh} {count} {kept}"

    answer = in_forked_child(child)
    assert answer == "True 2 True"
    assert _connection(case.database) is parent  # untouched by the child
    assert case.ledger.count() == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_opening_a_case_at_its_head_needs_no_sqlalchemy_engine(case: Case, tmp_path: Path) -> None:
    from custody.case import open_case

    again = open_case(case.root)
    try:
        assert again.database._engine is None  # type: ignore[attr-defined]
        assert again.ledger.count() == 2 and again.identity == case.identity
        assert again.engine.dialect.name == "sqlite"  # made when asked for
    finally:
        again.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_case_locked_too_long_is_the_users_error(
    case: Case, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another command holding the SQLite case's write lock longer than a command waits (60 s;
    here 0.2 s): exit 2 with what to do, nothing recorded, not an internal error."""
    from tests.custody.clihelp import cli

    monkeypatch.setattr(sql, "BUSY_SECONDS", 0.2)
    before = case.ledger.count()
    holder = sqlite3.connect(sql.sqlite_file(case.db_url) or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        args = ("actor", "add", "bsmith", "--name", "B Smith", "--role", "examiner", "--case", str(case.root))
        done = cli(capsys, *args)
    finally:
        holder.close()
    assert done.clean_failure and "case database is locked" in done.message, done.err
    assert "run the command again" in done.message
    assert case.ledger.count() == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_child_forked_inside_a_write_does_not_commit_it(case: Case) -> None:
    """A child forked in the middle of a write session that leaves the block normally is refused
    the commit (the transaction is its parent's), and the parent's rollback stands."""
    insert = (
        "INSERT INTO tsa_config (url, ca_pem, auto, added_utc) VALUES ('http://x.invalid', 'p', 0, 'now')"
    )
    read, write = os.pipe()
    pid = -1
    try:
        with case.database.write() as session:
            session.run(insert)
            pid = os.fork()
            if pid:
                raise RuntimeError("the parent's failure")
        outcome = "committed"
    except RuntimeError as exc:
        outcome = f"refused: {exc}"
    if pid == 0:  # the child: report, then leave without running finalizers
        try:
            os.write(write, outcome.encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 500).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert outcome == "refused: the parent's failure"
    assert answer == "refused: a write session begun in another process cannot be committed here"
    assert case.tsa() is None


def test_verification_sees_one_state_of_the_ledger_while_another_command_appends(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verification reads the checkpoints, then the entries, then the entries again: another
    command appending between two of those reads (here: right after the checkpoints are read)
    must not look like entries no checkpoint covers. Both reads come from one snapshot."""
    from custody.actors import add_actor
    from custody.case import open_case
    from custody.verify import verify_case

    real = type(case.ledger).checkpoints
    appended: list[int] = []

    def checkpoints_then_another_append(ledger):  # type: ignore[no-untyped-def]
        found = real(ledger)
        if ledger is case.ledger and not appended:
            other = open_case(case.root)
            try:
                add_actor(other, "cjones", name="Carol Jones", role="examiner")
                appended.append(other.ledger.count())
            finally:
                other.close()
        return found

    before = case.ledger.count()
    monkeypatch.setattr(type(case.ledger), "checkpoints", checkpoints_then_another_append)
    report = verify_case(case, extensions=False)
    assert appended == [before + 1]
    assert report.ok, report.problems
    assert report.entries == before  # what the snapshot held
    again = verify_case(case, extensions=False)  # a new verification sees the new entry, verified
    assert again.ok and again.entries == before + 1


@pytest.mark.parametrize("folder", ["q?x=1", "p%41c", "50% off", "a#b c"])
def test_a_case_folders_database_is_inside_it_whatever_its_name(tmp_path: Path, folder: str) -> None:
    """A folder name holding what a URL reads as options (``?``) or escapes (``%41``): the
    database is made, opened and listed from inside the folder, and nothing is written beside it."""
    from custody.actors import add_actor
    from custody.case import init_case, open_case
    from custody.locate import quick_case

    root = tmp_path / folder
    case = init_case(root, case_number="P-1", title="paths")
    try:
        add_actor(case, "jdoe", name="Jane Doe", role="examiner")
    finally:
        case.close()
    assert [p.name for p in tmp_path.iterdir()] == [folder]
    assert (root / "case.sqlite").is_file()
    again = open_case(root)
    try:
        assert again.ledger.count() == 1
        assert again.engine.url.database == str(root.resolve() / "case.sqlite")
    finally:
        again.close()
    quick = quick_case(root)
    assert quick is not None
    quick.close()


@pytest.mark.parametrize("damage", ["text", "header"])
def test_a_damaged_case_database_is_named_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """A case database replaced by a text file, or whose header was overwritten: exit 2 naming
    the file and what to do, not an internal error (SQLite's "file is not a database")."""
    from custody.case import init_case
    from tests.custody.clihelp import cli

    root = tmp_path / "case"
    init_case(root, case_number="D-1", title="damaged").close()
    database = root / "case.sqlite"
    if damage == "text":
        database.write_text("not a database\n" * 100)
    else:
        with database.open("r+b") as fh:
            fh.write(b"\xff" * 100)
    for args in (("items",), ("custody", "verify"), ("custody", "log"), ("ls", "EX-1")):
        done = cli(capsys, *args, "--case", str(root))
        assert done.clean_failure, (args, done.err)
        assert "is not an SQLite database or is damaged" in done.message and str(database) in done.message
        assert "restore the case folder" in done.message
    # `exhibit ls` as a user runs it takes the launcher's short path first (triage/launch.py)
    ran = subprocess.run(
        [sys.executable, "-m", "triage.launch", "ls", "EX-1", "--case", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "EXHIBIT_CONFIG_DIR": str(tmp_path / "config")},
    )
    assert ran.returncode == 2 and "Traceback" not in ran.stderr, ran.stderr
    assert "is not an SQLite database or is damaged" in ran.stderr and "restore the case folder" in ran.stderr


def test_a_missing_case_database_is_named_not_made_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A case folder whose database file is gone: exit 2 naming it, and no empty database made
    in its place (which a second command would then call a folder holding no case)."""
    from custody.case import init_case
    from tests.custody.clihelp import cli

    root = tmp_path / "case"
    init_case(root, case_number="M-1", title="missing").close()
    database = root / "case.sqlite"
    for leftover in root.glob("case.sqlite*"):
        leftover.unlink()
    for args in (("items",), ("custody", "verify"), ("actor", "list")):
        done = cli(capsys, *args, "--case", str(root))
        assert done.clean_failure and f"the case database {database} is missing" in done.message, (
            args,
            done.err,
        )
        assert not database.exists()
