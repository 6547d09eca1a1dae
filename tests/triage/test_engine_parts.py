"""The engine's parts on their own: typed results, rows by column name, the target matcher, and
errors that are noted rather than swallowed."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from triage.engine import lock, writes
from triage.engine.dispatch import TargetMatcher, cheap_match, glob_matches
from triage.engine.per_file import FileJob
from triage.engine.results import FileResult, FoundRecord, PluginOutcome, TriageWarning, origin
from triage.engine.run import TriageOptions, TriageRun, run_triage
from triage.engine.workers import CHUNK_FILES, TAIL_FILES, TAIL_SHARE, chunks
from triage.plugin import Targets
from triage.plugin.item import FileItem
from triage.plugin.records import SourceRef
from triage.sources.entry import FileEntry
from triage.store import ensure_schema
from triage.store.models import File
from triage.views.findings import iter_findings


def _entry() -> FileEntry:
    return FileEntry(
        partition=0,
        fs_type="ext4",
        path="/DCIM/a.jpg",
        name="a.jpg",
        name_bytes=b"a.jpg",
        inode=12,
        type="file",
        size=3,
        deleted=False,
    )


def _result() -> FileResult:
    return FileResult(
        key="k",
        bytes_read=3,
        md5=None,
        sha1="s" * 40,
        sha256="2" * 64,
        mime="image/jpeg",
        ext_mismatch=False,
        plugins=(PluginOutcome("photos_exif", "1.0", "ok"),),
        records=(FoundRecord("photos_exif", "1.0", "media/photo/exif", "ifd0", '{"a":1}'),),
        warnings=(TriageWarning("photos_exif", "/DCIM/a.jpg", "odd", "Traceback"),),
    )


def test_results_pickle_as_their_field_values() -> None:
    result = _result()
    again = pickle.loads(pickle.dumps([result], protocol=pickle.HIGHEST_PROTOCOL))
    assert again == [result]
    assert result.__reduce__()[1][:2] == ("k", 3)  # the field values, in declaration order


def test_a_file_row_has_every_column_by_name() -> None:
    e = _entry()
    listed = writes.file_row("EX-1", "k", e, "run-1")
    read = writes.file_row("EX-1", "k", e, "run-1", _result())
    assert tuple(sorted(listed)) == tuple(sorted(read)) == tuple(sorted(writes.FILE_COLUMNS))
    assert listed["sha256"] is None and listed["ext_mismatch"] is False and listed["plugins"] is None
    assert read["sha256"] == "2" * 64 and read["md5"] is None
    assert read["plugins"] == '[{"plugin": "photos_exif", "version": "1.0", "outcome": "ok"}]'
    result = _result()
    [finding] = writes.finding_rows("EX-1", origin("k", e, result.sha256), result.records, "run-1")
    assert finding["data"] == '{"a":1}' and finding["file_sha256"] == "2" * 64 and finding["inode"] == 12
    [warning] = writes.warning_rows("EX-1", "run-1", _result().warnings)
    assert warning == {
        "run_id": "run-1",
        "exhibit": "EX-1",
        "plugin": "photos_exif",
        "path": "/DCIM/a.jpg",
        "message": "odd",
        "traceback": "Traceback",
    }


def test_the_matcher_answers_per_target_and_reads_no_more_than_it_needs() -> None:
    targets = [
        Targets(globs=("**/*.jpg",)),
        Targets(magic=((0, b"\xff\xd8\xff"),)),
        Targets(mime_types=("Image/JPEG",)),
        Targets(globs=("/data/*/x.db",), magic=((0, b"SQLite"),)),
    ]
    m = TargetMatcher(targets)
    assert m.accepting("/DCIM/A.JPG", b"\xff\xd8\xff\xe0", "image/jpeg") == 0b0111
    assert m.accepting("\\data\\app\\x.db", b"", None) == 0b1000
    assert m.named("/data/app/x.db") == 0b1000 and m.named("/data/a/b/x.db") == 0
    assert TargetMatcher.pick(["a", "b", "c", "d"], 0b1010) == ["b", "d"]  # type: ignore[list-item]

    opened = []

    def opener() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(b"\xff\xd8\xff")

    item = FileItem(source=SourceRef(item="E", path="/a.jpg", sha256="0"), size=3, opener=opener)
    assert cheap_match(Targets(globs=("**/*.jpg",), magic=((0, b"x"),)), item)
    assert not opened  # the glob decided: the head was not read
    assert cheap_match(Targets(magic=((0, b"\xff\xd8"),)), item) and opened
    assert glob_matches("**/*.jpg", "/a.jpg")


def test_the_matchers_name_index_gives_the_regexes_answers() -> None:
    """The base-name index only spares regexes: every answer equals each glob's own regex's, for
    every built-in plugin's globs and awkward globs, on paths that do and do not fit them (case,
    backslashes, non-ASCII names whose case folding is not ASCII's)."""
    from triage.plugin.registry import load_plugins

    globs = [g for cls in load_plugins().plugins for g in cls.targets.globs]
    globs += ["*", "**", "a/**", "data/*/x?.db", "**/[ab]c.txt", "**/*.tar.gz", "**/*Database.db", "**/é.db"]
    targets = [Targets(globs=(g,)) for g in globs]
    m = TargetMatcher(targets)
    names = [
        "History",
        "history",
        "HISTORY",
        "mmssms.db",
        "MMSSMS.DB",
        "a.jpg",
        "b.JPG",
        "c.jpeg.bin",
        "x1.db",
        "kikDatabase.db",
        "my_kikdatabase.DB",
        "x.tar.gz",
        "é.db",
        "É.DB",
        "\u212aik.sqlite",
        "ſms.db",
        "sms.db",
        "ac.txt",
        "places.sqlite",
        "noext",
        ".jpg",
        "msgstore.db",
        "msgstore.db-wal",
        "a.",
    ]
    folders = ["", "/", "/data/app/", "/data/app/databases/", "\\data\\x\\", "/Library/SMS/", "/DCIM/100/"]
    paths = [f + n for f in folders for n in names] + ["/a/b/", "/", "/data/x/x1.db"]
    for path in paths:
        want = sum(1 << i for i, g in enumerate(globs) if glob_matches(g, path))
        assert m.named(path) == want, path
        assert m.accepting(path, b"", None) == want, path


def test_a_failing_release_is_noted_on_the_runs_own_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'case.db'}")
    ensure_schema(engine)
    with (
        pytest.raises(ValueError, match="the run's own problem") as info,
        lock.holding(engine, "EX-1", "run-1"),
    ):
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE triage_locks"))
        raise ValueError("the run's own problem")
    assert any("could not be released either" in note for note in info.value.__notes__)
    engine.dispose()


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/9", title="parts")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.txt").write_bytes(b"a\n")
    acquire(c, evidence, exhibit="EX-001", actor="asmith", description="folder")
    try:
        yield c
    finally:
        c.close()


def test_a_run_row_that_cannot_be_written_is_noted_not_swallowed(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: TriageRun, status: str, counts: dict[str, int]) -> None:
        raise OperationalError("UPDATE triage_runs", {}, Exception("disk I/O error"))

    def walk_fails(self: TriageRun, *args: object) -> None:
        raise ValueError("the walk's own problem")

    monkeypatch.setattr(TriageRun, "_finish", broken)
    with pytest.raises(OperationalError) as completed:  # complete, but the row says otherwise: said
        run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert any("did complete and is recorded in the ledger" in n for n in completed.value.__notes__)

    monkeypatch.setattr(TriageRun, "_walk_entries", walk_fails)
    with pytest.raises(ValueError, match="the walk's own problem") as failed:  # the run's error stays
        run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert any("could not be marked failed either" in n for n in failed.value.__notes__)


@pytest.mark.parametrize("stop", ["row", "anchors"])
def test_a_run_stopped_after_signing_is_completed_from_its_entry(
    case: Case, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    """A run signs its ``triage.run`` entry, then stores its row anchors and marks its row
    complete, each in a transaction of its own. Stopped in between (the database went away),
    its row says ``running`` (or ``failed``) while the ledger says complete; the next run of the
    exhibit completes the row from the signed entry (not ``interrupted``, which verify would
    report for ever) and does not resume it."""
    from custody.verify import verify_case
    from triage.engine import integrity
    from triage.store.models import Run

    def broken(*args: object) -> None:
        raise OperationalError("UPDATE triage_runs", {}, Exception("server closed the connection"))

    with monkeypatch.context() as m, pytest.raises(OperationalError):
        if stop == "row":
            m.setattr(TriageRun, "_finish", broken)
        else:
            m.setattr(integrity, "store_anchors", broken)
        run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    [entry] = [e for e in case.ledger.entries(exhibit="EX-001") if e.kind == integrity.RUN_KIND]
    with case.engine.connect() as conn:
        [row] = conn.execute(select(Run)).all()
    assert row.id == entry.data["run"] and row.status == ("running" if stop == "row" else "failed")
    assert not verify_case(case).ok  # the row and the signed entry disagree

    again = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert again.resumed_from is None
    with case.engine.connect() as conn:
        first = conn.execute(select(Run).where(Run.c.id == entry.data["run"])).one()
    assert first.status == "complete" and first.finished_utc == entry.recorded_utc
    assert json.loads(first.counts) == {**entry.data["counts"], "derived": entry.data["derived"]}
    report = verify_case(case)
    assert report.ok, report.problems


@pytest.fixture(params=["sqlite", "postgresql"])
def group_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An engine as a case makes it (custody.store.db.make_engine), on SQLite and PostgreSQL,
    with a table ``t`` of chunk numbers."""
    from custody.store.db import make_engine

    url = (
        f"sqlite:///{tmp_path / 'g.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")
    )
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (chunk INTEGER)"))
    yield engine
    engine.dispose()


def _stored_chunks(engine: Any) -> list[int]:
    """The chunks another connection sees (committed); the driver's own, reading without the
    write lock a case connection's transactions take on SQLite (BEGIN IMMEDIATE)."""
    other = engine.raw_connection()
    try:
        cursor = other.cursor()
        cursor.execute("SELECT chunk FROM t ORDER BY chunk")
        return [r[0] for r in cursor.fetchall()]
    finally:
        other.rollback()
        other.close()


def test_chunks_are_committed_in_groups(group_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """writes.ChunkGroup: chunks share a transaction until the group holds GROUP_FILES files or
    GROUP_FINDINGS findings or is GROUP_SECONDS old; what is not committed is not seen by
    another connection (a run killed then loses only that group)."""

    def chunk(group: writes.ChunkGroup, n: int, files: int, findings: int = 0) -> None:
        group.begin()
        group.conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        group.stored(files, findings)

    with group_engine.connect() as conn:
        group = writes.ChunkGroup(conn)
        chunk(group, 1, 3000)
        chunk(group, 2, 3000)
        assert _stored_chunks(group_engine) == []  # 6,000 files: still open
        chunk(group, 3, 3000)
        assert _stored_chunks(group_engine) == [1, 2, 3]  # 9,000 >= GROUP_FILES
        chunk(group, 4, 10, findings=writes.GROUP_FINDINGS)
        assert _stored_chunks(group_engine) == [1, 2, 3, 4]
        chunk(group, 5, 10)
        group.commit()
        assert _stored_chunks(group_engine) == [1, 2, 3, 4, 5]
        each = writes.ChunkGroup(conn, files=1)  # as the remote path stores: a commit per chunk
        chunk(each, 6, 1)
        assert _stored_chunks(group_engine) == [1, 2, 3, 4, 5, 6]
        monkeypatch.setattr(writes, "GROUP_SECONDS", 0.0)
        chunk(group, 7, 1)
        assert _stored_chunks(group_engine) == [1, 2, 3, 4, 5, 6, 7]  # open GROUP_SECONDS: committed


def test_a_chunk_group_ended_by_an_error_keeps_the_whole_chunks(group_engine: Any) -> None:
    """Ctrl-C or an error between chunks keeps every whole chunk; in the middle of one, that
    chunk is rolled back to its savepoint and the whole ones before it are kept."""
    with group_engine.connect() as conn:
        group = writes.ChunkGroup(conn)
        group.begin()
        conn.execute(text("INSERT INTO t VALUES (1)"))
        group.stored(10, 0)
        group.close_after(KeyboardInterrupt())  # between chunks
        assert _stored_chunks(group_engine) == [1]
        group.begin()
        conn.execute(text("INSERT INTO t VALUES (2)"))
        group.stored(10, 0)
        group.begin()
        conn.execute(text("INSERT INTO t VALUES (3)"))  # the error comes before this chunk is whole
        group.close_after(ValueError("mid-chunk"))
        assert not conn.in_transaction()
    assert _stored_chunks(group_engine) == [1, 2]


def test_files_read_in_the_runs_process_are_read_with_no_transaction_open(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker on a folder: the run reads each chunk itself, after committing what it stored
    (a transaction left open while files are read would hold SQLite's write lock from other
    commands of the case for as long as the reading takes)."""
    from triage.engine import workers

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1100):  # a dozen chunks (guided: each a quarter of what is left)
        (folder / f"f{i:04d}.bin").write_bytes(i.to_bytes(2, "big") * 3)
    acquire(case, folder, exhibit="EX-002", actor="asmith", description="many files")
    read = workers.process_chunk
    free: list[bool] = []

    def reading(jobs: Any, first: int = 0) -> list[FileResult]:
        probe = sqlite3.connect(case.root / "case.sqlite", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # fails at once while another connection writes
            probe.execute("ROLLBACK")
            free.append(True)
        except sqlite3.OperationalError:
            free.append(False)
        finally:
            probe.close()
        return read(jobs, first)

    monkeypatch.setattr(workers, "process_chunk", reading)
    summary = run_triage(case, "EX-002", actor="asmith", options=TriageOptions(workers=1))
    assert summary.counts["files"] == 1100
    assert len(free) > 1 and all(free), free


def _jobs(sizes: list[int]) -> list[FileJob]:
    return [FileJob(str(i), dataclasses.replace(_entry(), size=size), {}) for i, size in enumerate(sizes)]


def test_chunks_shrink_towards_the_end_so_no_worker_reads_a_long_one_alone() -> None:
    """Guided chunks: every file once, in order; full chunks while much is left, then each at
    most the files left / (4 x workers), down to 32; the byte and file caps still hold. Without
    workers (a distributed run's jobs) the cut is by count and bytes only, as before."""
    jobs = _jobs([1000] * 33_768)
    for workers_count in (1, 2, 4):
        spans = chunks(jobs, workers=workers_count)
        assert [i for a, b in spans for i in range(a, b)] == list(range(len(jobs)))
        lengths = [b - a for a, b in spans]
        assert lengths[0] == CHUNK_FILES and max(lengths) == CHUNK_FILES
        for a, b in spans[:-1]:
            left = len(jobs) - a
            assert b - a == min(CHUNK_FILES, max(TAIL_FILES, -(-left // (TAIL_SHARE * workers_count))))
        assert lengths[-2] == TAIL_FILES and lengths[-1] <= TAIL_FILES
        assert lengths[:-1] == sorted(lengths[:-1], reverse=True)
    assert [b - a for a, b in chunks(jobs)] == [CHUNK_FILES] * 32 + [33_768 - 32 * CHUNK_FILES]
    assert [b - a for a, b in chunks(jobs[:10], max_files=4, workers=2)] == [4, 4, 2]  # the cap holds
    assert chunks(jobs[:1000], workers=2) == [(0, 1000)]  # a small run stays one chunk
    big = _jobs([100 << 20] * 5 + [10] * 300)  # the byte cap still cuts (at 128 MiB or more)
    assert [b - a for a, b in chunks(big, workers=2)] == [2, 2, 301]


def test_the_files_some_plugin_read_are_found_by_the_stored_text(case: Case) -> None:
    """The end of a run asks SQL for the files whose ``plugins`` column names an outcome other than
    not-my-format (writes.DECLINED_TEXT taken out): that text is how file_row writes a declined
    outcome, and the database's answer is the rows a parse of every column picks."""
    e = _entry()
    outcomes = {
        "declined": ("not-my-format",),
        "declined twice": ("not-my-format", "not-my-format"),
        "read": ("ok",),
        "failed": ("failed",),
        "mixed": ("not-my-format", "ok", "not-my-format"),
        "none": (),
    }
    rows = []
    for n, (name, kinds) in enumerate(outcomes.items()):
        plugins = tuple(PluginOutcome(f"p{i}", "1.0", kind) for i, kind in enumerate(kinds))  # type: ignore[arg-type]
        result = dataclasses.replace(_result(), key=name, plugins=plugins)
        row = writes.file_row("EX-1", name, dataclasses.replace(e, path=f"/{n}"), "run-1", result)
        if kinds:
            assert (writes.DECLINED_TEXT in row["plugins"]) == ("not-my-format" in kinds)
        rows.append(row)
    ensure_schema(case.engine)
    with case.engine.begin() as conn:
        writes.store_files(conn, rows)
        found = conn.execute(
            select(File.c.key).where(File.c.exhibit == "EX-1", writes.read_by_a_plugin(File.c.plugins))
        ).scalars()
        parsed = {
            r.key
            for r in conn.execute(select(File.c.key, File.c.plugins).where(File.c.exhibit == "EX-1"))
            if r.plugins and any(o["outcome"] != "not-my-format" for o in json.loads(r.plugins))
        }
    assert set(found) == parsed == {"read", "failed", "mixed"}


def test_the_walk_gives_a_database_its_wal_and_no_other_file_one(tmp_path: Path) -> None:
    """The walk pairs each file with the ``-wal``/``-shm``/``-journal`` files beside it (by path,
    in the same folder): a message only in ``a/mmssms.db-wal`` is read with ``a/mmssms.db``; the
    database in ``b/`` has no WAL beside it (``b/mmssms.db-wal.txt`` and ``a/``'s do not count)."""
    from tests.plugins.android_fixtures import SMS_V69, make_db

    evidence = tmp_path / "evidence"
    for folder, body in (("a", "in the wal"), ("b", "in b")):
        db = make_db(tmp_path / "live" / folder / "mmssms.db", SMS_V69)
        writer = sqlite3.connect(db)
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute(
            f"INSERT INTO sms (_id, address, date, type, body) VALUES (1, '+1555', 1700000000000, 1, '{body}')"
        )
        writer.commit()
        (evidence / folder).mkdir(parents=True)
        (evidence / folder / "mmssms.db").write_bytes(db.read_bytes())
        if folder == "a":
            (evidence / "a" / "mmssms.db-wal").write_bytes((db.parent / "mmssms.db-wal").read_bytes())
        else:
            (evidence / "b" / "mmssms.db-wal.txt").write_bytes((db.parent / "mmssms.db-wal").read_bytes())
        writer.close()
    case = init_case(tmp_path / "case", case_number="2026/10", title="wal")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, evidence, exhibit="EX-001", actor="asmith", description="two databases")
        summary = run_triage(
            case, "EX-001", actor="asmith", options=TriageOptions(plugins=["sms_android"], workers=1)
        )
        assert summary.status == "complete"
        bodies = {
            (f.path, f.data.get("body")) for f in iter_findings(case.engine, "EX-001", "chat/android/sms")
        }
        assert ("/a/mmssms.db", "in the wal") in bodies
        assert not any(
            path == "/b/mmssms.db" for path, _ in bodies
        )  # b's message is only in a WAL not beside it
    finally:
        case.close()


def test_the_run_stores_its_rows_on_a_connection_tuned_for_bulk_writes(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection the run stores file rows on has writes.BULK_PRAGMAS' page cache and WAL
    checkpoint threshold (the defaults made most index inserts read their page back and nearly
    every commit copy the WAL into the database)."""
    seen: list[tuple[int, int]] = []
    real = writes.store_files

    def store_files(conn: Any, rows: list[dict[str, Any]]) -> None:
        seen.append(
            (
                conn.exec_driver_sql("PRAGMA cache_size").scalar(),
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar(),
            )
        )
        real(conn, rows)

    monkeypatch.setattr(writes, "store_files", store_files)
    summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert summary.status == "complete" and summary.counts["files"] == 1
    assert seen == [(-16384, 10000)]
