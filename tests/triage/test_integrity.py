"""Issue 7 point 2: the triage rows cannot be rewritten unnoticed.

A real ext4 'phone' (mke2fs -d, real corpus SMS database and photos) is triaged; then rows of every
triage table are edited, deleted and inserted with plain SQL (guard triggers dropped, if any), and
``verify`` must report TRIAGE_DATA_MISMATCH naming the run and the row; a re-run must recompute
from the evidence what it signs instead of absorbing the edits.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select, text

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.verify import Report, verify_case
from tests.conftest import CORPUS, need
from tests.triage.test_engine import ExplodingPlugin, build_ext4
from triage.engine import integrity
from triage.engine.run import TriageOptions, run_triage
from triage.plugin.registry import LoadedPlugins, load_plugins
from triage.store.models import File, Finding, RunWarning
from triage.views.findings import iter_findings

SMS_DB = "/data/data/com.android.providers.telephony/databases/mmssms.db"
ZEROS = "0" * 64


@pytest.fixture
def phone(tmp_path: Path) -> Path:
    corpus = need(CORPUS)
    return build_ext4(
        tmp_path,
        {
            SMS_DB.lstrip("/"): (corpus / "chats/mmssms.db").read_bytes(),
            "DCIM/Camera/DSCN0010.jpg": (corpus / "images/gps/DSCN0010.jpg").read_bytes(),
            "notes/todo.txt": b"meet at the harbour\n",
        },
    )


@pytest.fixture
def exploding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin that fails on .txt files, so the run stores a warning row too."""
    real = load_plugins()
    monkeypatch.setattr(
        "triage.engine.run.load_plugins",
        lambda: LoadedPlugins(plugins=[*real.plugins, ExplodingPlugin], origins={}, warnings=[]),
    )


def _triaged(root: Path, image: Path, url: str | None = None) -> Case:
    case = init_case(root, case_number="2026/7", title="integrity", db_url=url)
    add_actor(case, "asmith", name="Alan Smith", role="examiner")
    acquire(case, image, exhibit="EX-001", actor="asmith", description="phone")
    summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert summary.status == "complete"
    return case


@pytest.fixture
def case(tmp_path: Path, phone: Path, exploding: None) -> Iterator[Case]:
    c = _triaged(tmp_path / "case", phone)
    try:
        yield c
    finally:
        c.close()


def sql(case: Case, statement: str, *params: object) -> None:
    """Plain SQL on the SQLite file, as anyone who can write it could (triggers dropped first)."""
    conn = sqlite3.connect(case.root / "case.sqlite")
    try:
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'triage%'"
        ).fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


def run_id(case: Case) -> str:
    [entry] = [e for e in case.ledger.entries(exhibit="EX-001") if e.kind == "triage.run"]
    return str(entry.data["run"])


def mismatches(report: Report) -> list[str]:
    return [p.detail for p in report.problems if p.code == "TRIAGE_DATA_MISMATCH"]


def one_key(case: Case, table: str, column: str, where: str) -> str:
    conn = sqlite3.connect(case.root / "case.sqlite")
    try:
        return str(conn.execute(f"SELECT {column} FROM {table} WHERE {where} LIMIT 1").fetchone()[0])
    finally:
        conn.close()


def test_a_clean_triage_is_anchored_and_verifies(case: Case) -> None:
    [entry] = [e for e in case.ledger.entries(exhibit="EX-001") if e.kind == "triage.run"]
    digest = entry.data["digest"]
    assert digest["format"] == "exhibit-triage-digest/1"
    tables = digest["tables"]
    assert set(tables) == {"triage_files", "triage_findings", "triage_warnings"}
    assert tables["triage_findings"]["rows"] == len(list(iter_findings(case.engine, "EX-001"))) > 9
    assert tables["triage_warnings"]["rows"] >= 1
    report = verify_case(case, rehash=True)
    assert report.ok, report.problems


def _documented_object(table: Any, row: Any) -> dict[str, Any]:
    """The row's object as docs/custody.md specifies it: every column, except the columns added
    after format 1 (``triage_files.parent``) when they are NULL."""
    return {
        c.name: integrity._value(c, row._mapping[c.name])
        for c in table.columns
        if not (c.name in integrity.OMITTED_WHEN_NULL and row._mapping[c.name] is None)
    }


def test_the_canonical_form_is_rfc8785(case: Case) -> None:
    """The fast encoder gives RFC 8785's bytes on every real row of every digested table."""
    with case.engine.connect() as conn:
        for table in (File, Finding, RunWarning):
            rows = conn.execute(select(table)).all()
            assert rows
            for row in rows:
                mapping = _documented_object(table, row)
                assert integrity.canonical_row(table, row) == rfc8785.dumps(mapping)
        # and the leaves the digest is made of (the batch encoder) are the leaves of those bytes
        for spec in integrity.TABLES:
            rows = conn.execute(select(spec.table)).all()
            expected = sorted(
                (
                    str(r._mapping[spec.key]),
                    integrity.merkle.leaf_hash(rfc8785.dumps(_documented_object(spec.table, r))),
                )
                for r in rows
            )
            leaves = integrity.table_leaves(conn, spec, "EX-001")
            assert sorted(leaves.pairs()) == expected
            assert leaves.keys == sorted(
                leaves.keys, key=lambda k: integrity._sort_key(spec, k)
            )  # digest order


# (table, SQL, expected words in the detail); {key} is filled with a real row's key.
TAMPERING: dict[str, tuple[str, str, str, str, str]] = {
    # name: (table, key column, row filter, statement, change)
    "files-edit": ("triage_files", "key", f"path = '{SMS_DB}'", "UPDATE triage_files SET sha256 = '" + ZEROS + "' WHERE key = ?", "edited"),
    "files-edit-mime": ("triage_files", "key", "path = '/notes/todo.txt'", "UPDATE triage_files SET mime = 'image/jpeg' WHERE key = ?", "edited"),
    "files-delete": ("triage_files", "key", "path = '/notes/todo.txt'", "DELETE FROM triage_files WHERE key = ?", "deleted"),
    "files-insert": (
        "triage_files", "key", "path = '/notes/todo.txt'",
        "INSERT INTO triage_files (key, exhibit, partition, fs_type, path, name, inode, attr_type, attr_id, stream, type, size, deleted, realloc, mtime, atime, ctime, crtime, times_local, mode, uid, gid, md5, sha1, sha256, mime, ext_mismatch, error, plugins, run_id) "
        "SELECT CASE substr(key, 1, 1) WHEN 'f' THEN 'e' ELSE 'f' END || substr(key, 2), exhibit, partition, fs_type, '/notes/planted.txt', 'planted.txt', inode, attr_type, attr_id, stream, type, size, deleted, realloc, mtime, atime, ctime, crtime, times_local, mode, uid, gid, md5, sha1, sha256, mime, ext_mismatch, error, plugins, run_id FROM triage_files WHERE key = ?",
        "inserted",
    ),
    "findings-edit": ("triage_findings", "fingerprint", "record_type LIKE 'chat%'", "UPDATE triage_findings SET data = replace(data, '\"body\": \"', '\"body\": \"NOT ') WHERE fingerprint = ?", "edited"),
    "findings-edit-gps": ("triage_findings", "fingerprint", "record_type LIKE 'media%'", "UPDATE triage_findings SET locator = 'elsewhere' WHERE fingerprint = ?", "edited"),
    "findings-delete": ("triage_findings", "fingerprint", "record_type LIKE 'chat%'", "DELETE FROM triage_findings WHERE fingerprint = ?", "deleted"),
    "findings-insert": (
        "triage_findings", "fingerprint", "record_type LIKE 'chat%'",
        "INSERT INTO triage_findings (fingerprint, exhibit, record_type, plugin, plugin_version, partition, inode, path, stream, file_sha256, locator, data, run_id) "
        "SELECT CASE substr(fingerprint, 1, 1) WHEN 'f' THEN 'e' ELSE 'f' END || substr(fingerprint, 2), exhibit, record_type, plugin, plugin_version, partition, inode, path, stream, file_sha256, 'planted', data, run_id FROM triage_findings WHERE fingerprint = ?",
        "inserted",
    ),
    # A second row with a stored fingerprint, under another locator (the unique index is on the
    # locator and the fingerprint): after the real row, and before it (a lower id, read first).
    "findings-duplicate": (
        "triage_findings", "fingerprint", "record_type LIKE 'chat%'",
        "INSERT INTO triage_findings (fingerprint, exhibit, record_type, plugin, plugin_version, partition, inode, path, stream, file_sha256, locator, data, run_id) "
        "SELECT fingerprint, exhibit, record_type, plugin, plugin_version, partition, inode, path, stream, file_sha256, 'planted', replace(data, '\"body\": \"', '\"body\": \"NOT '), run_id FROM triage_findings WHERE fingerprint = ?",
        "duplicated",
    ),
    "findings-duplicate-first": (
        "triage_findings", "fingerprint", "record_type LIKE 'chat%'",
        "INSERT INTO triage_findings (id, fingerprint, exhibit, record_type, plugin, plugin_version, partition, inode, path, stream, file_sha256, locator, data, run_id) "
        "SELECT (SELECT min(id) - 1 FROM triage_findings), fingerprint, exhibit, record_type, plugin, plugin_version, partition, inode, path, stream, file_sha256, 'planted', replace(data, '\"body\": \"', '\"body\": \"NOT '), run_id FROM triage_findings WHERE fingerprint = ?",
        "duplicated",
    ),
    "warnings-edit": ("triage_warnings", "id", "1 = 1", "UPDATE triage_warnings SET message = 'all fine' WHERE id = ?", "edited"),
    "warnings-delete": ("triage_warnings", "id", "1 = 1", "DELETE FROM triage_warnings WHERE id = ?", "deleted"),
    "warnings-insert": (
        "triage_warnings", "id", "1 = 1",
        "INSERT INTO triage_warnings (run_id, exhibit, plugin, path, message) SELECT run_id, exhibit, plugin, path, 'planted' FROM triage_warnings WHERE id = ?",
        "inserted",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_is_reported_naming_run_and_row(case: Case, name: str) -> None:
    table, key_column, where, statement, change = TAMPERING[name]
    key = one_key(case, table, key_column, where)
    sql(case, statement, key)
    report = verify_case(case)
    found = mismatches(report)
    assert len(found) == 1, report.problems
    [problem] = [p for p in report.problems if p.code == "TRIAGE_DATA_MISMATCH"]
    assert problem.exhibit == "EX-001"
    assert problem.seq == max(e.seq for e in case.ledger.entries(kinds=["triage.run"]))
    assert f"run {run_id(case)}" in found[0]
    if change == "inserted":
        assert f"{table} row {key_column}=" in found[0] and change in found[0]
    else:
        assert f"{table} row {key_column}={key} {change}" in found[0]
    assert verify_case(case, exhibit="EX-002").ok  # another exhibit's verification is not affected


@pytest.mark.parametrize("target", ["EX-002", "EX-999"])
def test_rows_of_an_exhibit_no_signed_run_covers_are_reported(case: Case, phone: Path, target: str) -> None:
    """Found in review: a finding inserted for an exhibit acquired but never triaged (EX-002), or
    never acquired at all (EX-999), passed ``custody verify`` (``exhibit report`` refused it)."""
    acquire(case, phone, exhibit="EX-002", actor="asmith", description="a second copy, not triaged")
    assert verify_case(case).ok
    sql(
        case,
        "INSERT INTO triage_findings (fingerprint, exhibit, record_type, plugin, plugin_version, partition, inode, "
        "path, stream, file_sha256, locator, data, run_id) SELECT 'f' || substr(fingerprint, 2), ?, record_type, "
        "plugin, plugin_version, partition, inode, path, stream, file_sha256, 'planted', "
        "replace(data, '\"body\": \"', '\"body\": \"I have the gun '), 'no-run' "
        "FROM triage_findings WHERE record_type LIKE 'chat%' LIMIT 1",
        target,
    )
    report = verify_case(case)
    [problem] = [p for p in report.problems if p.code == "TRIAGE_DATA_MISMATCH"]
    assert problem.exhibit == target and problem.seq is None
    assert "1 stored triage rows are covered by no signed triage run" in problem.detail
    assert "no-run (no such run)" in problem.detail and f"'exhibit triage {target}'" in problem.detail
    assert verify_case(case, exhibit="EX-001").ok  # the exhibit that was triaged is not affected
    if target == "EX-002":
        assert not verify_case(case, exhibit=target).ok  # and verifying that exhibit alone says so
        # the listing says where such a finding comes from: no run that signed it
        shown = subprocess.run(
            [sys.executable, "-m", "triage.launch", "findings", target, "--case", str(case.root)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shown.returncode == 0 and "I have the gun" in shown.stdout
        said = " ".join(shown.stderr.split())
        assert "note: 1 of these findings come from run no-run (no such run), not signed yet" in said, said


def test_views_say_which_rows_no_completed_run_signed(case: Case) -> None:
    """Found in review: only ``exhibit findings`` said that rows it listed came from a run that
    did not complete (not signed yet); chats, calls, contacts, timeline and links listed them
    without a word. Each now notes the run on stderr, its standard output unchanged."""

    def view(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "triage.launch", *args, "--case", str(case.root)],
            capture_output=True,
            text=True,
            timeout=120,
        )

    before = {name: view(*args) for name, args in VIEWS.items()}
    assert all(done.returncode == 0 and "not signed yet" not in done.stderr for done in before.values())
    conn = sqlite3.connect(f"file:{case.root / 'case.sqlite'}?mode=ro", uri=True)
    [(run_id,)] = conn.execute("SELECT id FROM triage_runs").fetchall()
    conn.close()
    sql(case, "UPDATE triage_runs SET status = 'interrupted'")
    for name, args in VIEWS.items():
        done = view(*args)
        said = " ".join(done.stderr.split())
        assert f"findings of run {run_id} of EX-001 (interrupted) are listed but not signed yet" in said, name
        assert done.stdout == before[name].stdout, name


VIEWS = {
    "chats": ("chats", "EX-001", "--json"),
    "calls": ("calls", "--json"),
    "contacts": ("contacts", "EX-001"),
    "timeline": ("timeline", "EX-001"),
    "links": ("links", "--json"),
}


RUN_EDITS = {
    "counts": ("UPDATE triage_runs SET counts = replace(counts, '\"errors\": 0', '\"errors\": 7')", "counts"),
    "status": ("UPDATE triage_runs SET status = 'failed'", "status"),
    "actor": ("UPDATE triage_runs SET actor = 'mallory'", "actor"),
    "started": ("UPDATE triage_runs SET started_utc = '2020-01-01T00:00:00.000000Z'", "started_utc"),
    "arguments": ("UPDATE triage_runs SET arguments = '{}'", "arguments"),
    "delete": ("DELETE FROM triage_runs", "deleted"),
}


@pytest.mark.parametrize("name", sorted(RUN_EDITS))
def test_run_rows_are_checked_against_their_entry(case: Case, name: str) -> None:
    statement, word = RUN_EDITS[name]
    sql(case, statement)
    found = mismatches(verify_case(case))
    assert len(found) == 1 and f"run {run_id(case)}" in found[0] and word in found[0], found


def test_altered_anchors_cannot_hide_an_edit(case: Case) -> None:
    """Editing a row and its stored anchor still breaks the signed root; the row is then not named."""
    key = one_key(case, "triage_files", "key", f"path = '{SMS_DB}'")
    sql(case, "UPDATE triage_files SET sha256 = ? WHERE key = ?", ZEROS, key)
    with case.engine.connect() as conn:
        row = conn.execute(select(File).where(File.c.key == key)).one()
    leaf = integrity.leaf_of(File, row).hex()
    # the anchors are stored in chunks: keys "\n"-separated, leaf hashes concatenated in hex
    with case.engine.connect() as conn:
        position, keys, leaves = conn.execute(
            text("SELECT position, row_key, leaf FROM triage_anchors WHERE tbl = 'triage_files'")
        ).one()
    at = keys.split("\n").index(key)
    forged = leaves[: 64 * at] + leaf + leaves[64 * (at + 1) :]
    assert forged != leaves
    sql(
        case,
        "UPDATE triage_anchors SET leaf = ? WHERE tbl = 'triage_files' AND position = ?",
        forged,
        position,
    )
    found = mismatches(verify_case(case))
    assert len(found) == 1 and "triage_files" in found[0] and "cannot be named" in found[0], found


def test_rehash_rereads_the_files_the_run_hashed(case: Case) -> None:
    """Row and anchor edited consistently with a forged root is out of reach (signed); but even a
    row whose hash was wrong when signed is caught by re-reading the evidence."""
    key = one_key(case, "triage_files", "key", "path = '/notes/todo.txt'")
    sql(case, "UPDATE triage_files SET sha256 = ? WHERE key = ?", ZEROS, key)
    found = mismatches(verify_case(case, rehash=True))
    assert any(f"key={key}" in d and "sha256 stored " + ZEROS in d for d in found), found


def test_rerun_recomputes_a_zeroed_hash_instead_of_signing_it(case: Case) -> None:
    """Was: the next triage skipped the file and signed an item.derive carrying the zero hash."""
    sql(case, f"UPDATE triage_files SET sha256 = '{ZEROS}' WHERE path = ?", SMS_DB)
    # and drop its derived entry's identity from consideration: a new derive would carry the zeros
    summary = run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    derived = [e.data for e in case.ledger.entries(exhibit="EX-001") if e.kind == "item.derive"]
    assert all(d["hashes"]["sha256"] != ZEROS for d in derived)
    assert summary.counts["derived"] == 0 and summary.counts["skipped"] == 0
    assert any("differed from what run" in w["message"] for w in summary.warnings)
    assert one_key(case, "triage_files", "sha256", f"path = '{SMS_DB}'") != ZEROS
    report = verify_case(case, rehash=True)
    assert report.ok, report.problems


def _findings(case: Case) -> list[tuple[str, str]]:
    return sorted(
        (f.locator or "", json.dumps(f.data, sort_keys=True)) for f in iter_findings(case.engine, "EX-001")
    )


@pytest.mark.parametrize("fresh", [True, False])
def test_edited_findings_do_not_survive_a_rerun(case: Case, fresh: bool) -> None:
    before = _findings(case)
    sql(case, 'UPDATE triage_findings SET data = replace(data, \'"body": "\', \'"body": "NOT \')')
    assert _findings(case) != before
    run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1, fresh=fresh))
    assert _findings(case) == before
    assert verify_case(case).ok


def test_a_deleted_and_an_inserted_finding_are_undone(case: Case) -> None:
    """Was: one finding deleted and another planted kept the signed count right and stayed."""
    before = _findings(case)
    key = one_key(case, "triage_findings", "fingerprint", "record_type LIKE 'chat%'")
    sql(case, TAMPERING["findings-insert"][3], key)
    sql(case, "DELETE FROM triage_findings WHERE fingerprint = ?", key)
    assert len(_findings(case)) == len(before) and _findings(case) != before
    found = mismatches(verify_case(case))
    assert len(found) == 1 and "2 more row" not in found[0] and "1 more row" in found[0], found
    run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert _findings(case) == before
    assert verify_case(case).ok


def test_a_duplicated_finding_is_undone(case: Case) -> None:
    """A planted row sharing a real finding's fingerprint, read before it (a lower id): named
    ``duplicated``, and a re-run deletes both and reads the real one again from the evidence."""
    before = _findings(case)
    key = one_key(case, "triage_findings", "fingerprint", "record_type LIKE 'chat%'")
    sql(case, TAMPERING["findings-duplicate-first"][3], key)
    found = mismatches(verify_case(case))
    assert len(found) == 1 and f"fingerprint={key} duplicated" in found[0], found
    run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=1))
    assert _findings(case) == before
    assert verify_case(case).ok


def test_a_root_that_differs_where_no_key_shows_is_not_passed(case: Case) -> None:
    """If the stored rows' root differs from the signed one but every key has its anchored leaf
    (no way is known to do that; the guard is for ways not known), the table is reported
    without a row named, and a re-run reads all of it again, rather than nothing."""
    spec = integrity.BY_NAME["triage_findings"]
    with case.engine.connect() as conn:
        leaves = integrity.table_leaves(conn, spec, "EX-001")
        signed = {"root": leaves.root(), "rows": len(leaves)}
        [diff] = integrity._locate(conn, spec, "EX-001", leaves, signed)
    assert diff.key is None and diff.change == "unlocatable" and "no row can be named" in diff.detail


def test_a_ledger_from_before_digests_still_verifies(case: Case) -> None:
    """A triage.run entry without a digest is not checked against the rows (nothing to check)."""
    assert not integrity.latest_anchors(case.ledger, "EX-002")
    sql(case, "DELETE FROM triage_anchors")
    with case.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM triage_anchors")).scalar_one() == 0
    assert verify_case(case).ok  # the anchors only name rows; the signed roots still match


@pytest.mark.postgres
def test_tampering_on_postgresql(tmp_path: Path, phone: Path, pg_database: str, exploding: None) -> None:
    case = _triaged(tmp_path / "pg", phone, pg_database)
    try:
        assert verify_case(case, rehash=True).ok
        before = _findings(case)
        with case.engine.begin() as conn:
            key = conn.execute(
                text("SELECT key FROM triage_files WHERE path = :p"), {"p": SMS_DB}
            ).scalar_one()
            conn.execute(text("UPDATE triage_files SET sha256 = :z WHERE key = :k"), {"z": ZEROS, "k": key})
            fp = conn.execute(
                text("SELECT fingerprint FROM triage_findings ORDER BY fingerprint LIMIT 1")
            ).scalar_one()
            conn.execute(text("DELETE FROM triage_findings WHERE fingerprint = :f"), {"f": fp})
        found = mismatches(verify_case(case))
        assert len(found) == 2, found
        assert f"triage_files row key={key} edited" in found[0] and f"run {run_id(case)}" in found[0]
        assert f"triage_findings row fingerprint={fp} deleted" in found[1]
        run_triage(case, "EX-001", actor="asmith", options=TriageOptions(workers=2))
        derived = [e.data for e in case.ledger.entries(exhibit="EX-001") if e.kind == "item.derive"]
        assert all(d["hashes"]["sha256"] != ZEROS for d in derived)
        assert _findings(case) == before
        assert verify_case(case, rehash=True).ok
    finally:
        case.close()


def test_docs_specify_the_digest_the_code_computes() -> None:
    """docs/custody.md's worked example and column lists are what the code does."""
    import re

    from custody import merkle
    from tests.conftest import REPO

    page = (REPO / "docs/custody.md").read_text()
    section = page[page.index("## Triage digest") : page.index("## Known limits")]
    rows = re.findall(r"^(\{\"exhibit\".*\})$\nleaf = ([0-9a-f]{64})$", section, re.M)
    assert len(rows) == 2
    for text_row, leaf in rows:
        assert merkle.leaf_hash(text_row.encode()).hex() == leaf
        assert json.dumps(json.loads(text_row), sort_keys=True, separators=(",", ":")) == text_row
    root = re.search(r"= ([0-9a-f]{64})\n```", section)
    assert root and merkle.root_from_leaf_hashes([bytes.fromhex(v) for _, v in rows]).hex() == root.group(1)
    for spec in integrity.TABLES:
        line = next(x for x in section.splitlines() if x.startswith(f"| `{spec.name}` |"))
        documented = re.findall(r"`([a-z_0-9]+)`", line.split("|")[2])
        assert documented == spec.columns, spec.name


def test_dropped_anchors_and_odd_run_data_are_reported_not_a_crash(case: Case) -> None:
    """Found in review: verify migrated the case (a write) and read the row anchors without
    checking the table was there. Dropping it and editing a row is still TRIAGE_DATA_MISMATCH,
    with the table named; verify creates nothing."""
    key = one_key(case, "triage_files", "key", f"path = '{SMS_DB}'")
    sql(case, "UPDATE triage_files SET sha256 = ? WHERE key = ?", ZEROS, key)
    sql(case, "DROP TABLE triage_anchors")
    found = mismatches(verify_case(case))
    assert len(found) == 1 and "triage_files" in found[0] and "cannot be named" in found[0], found
    with case.engine.connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert "triage_anchors" not in tables  # verification wrote nothing back


def test_leaves_are_compact_and_keep_the_digest_order() -> None:
    """Leaves (the end of a run holds one per stored row) give the same root as a list of the
    hashes, and rows that come out of order are put in digest order: integers for warnings, byte
    order of UTF-8 (= code-point order) for text keys, which is not every collation's order."""
    spec = integrity.BY_NAME["triage_warnings"]
    leaves = integrity.Leaves()
    for key in ("10", "9", "100", "1"):
        leaves.add(key, integrity.merkle.leaf_hash(key.encode()))
    ordered = leaves.sorted_by(spec)
    assert ordered.keys == ["1", "9", "10", "100"]
    assert [h for _, h in ordered.pairs()] == [integrity.merkle.leaf_hash(k.encode()) for k in ordered.keys]
    assert ordered.root() == integrity.merkle.root_from_leaf_hashes(list(ordered)).hex()
    text = integrity.BY_NAME["triage_findings"]
    words = integrity.Leaves()
    for key in ("é", "z", "Z", "\u00ff\u0100", "ÿ"):
        words.add(key, integrity.merkle.leaf_hash(key.encode()))
    assert words.sorted_by(text).keys == sorted(words.keys, key=lambda k: k.encode("utf-8"))
    assert len(words) == 5 and words[-1] == integrity.merkle.leaf_hash("ÿ".encode())


def test_the_row_encoder_writes_what_rfc8785_writes_for_any_value() -> None:
    """The digest's encoder writes each row's text value by value; RFC 8785 of the documented
    object is the oracle, on values real rows rarely hold: text with quotes, control characters,
    non-ASCII and a lone surrogate, Booleans as SQLite's 0/1 and Python's bools, integers as the
    driver may hand them (int subclasses, numeric text), NULL everywhere (``parent`` left out)."""
    import random

    texts = ['a"b\\c', "\x00\x1f\x7f\n\t", "Straße 東京 😀", "", "x" * 3000, "lone \ud800", 42]
    for spec in integrity.TABLES:
        encoder = integrity._RowEncoder(spec.table)
        rng = random.Random(spec.name)
        for _ in range(300):
            row: list[Any] = []
            for column in encoder.columns:
                kind = column.type.__class__.__name__
                if rng.random() < 0.3:
                    row.append(None)
                elif kind == "Boolean":
                    row.append(rng.choice([0, 1, True, False]))
                elif kind in ("Integer", "BigInteger"):
                    row.append(rng.choice([0, -5, 2**50, True, "17"]))
                else:
                    row.append(rng.choice(texts))
            mapping = {}
            for column, value in zip(encoder.columns, row, strict=True):
                if column.name in integrity.OMITTED_WHEN_NULL and value is None:
                    continue
                mapping[column.name] = integrity._value(column, value)
            expected = json.dumps(mapping, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            got = encoder.encode(row)
            assert got == expected.encode("utf-8", "surrogatepass")
            if "\ud800" not in expected:
                assert got == rfc8785.dumps(mapping)


def test_large_tables_are_digested_by_two_processes_with_the_same_leaves(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large SQLite table is digested by two processes, each reading half of the exhibit's row
    ids; the leaves are those one process reads, in the same order, for hex, non-hex,
    digit-only and non-ASCII keys alike, also from a daemonic process (a pool worker) and when an
    altered table holds keys that are not text. When the helper gives nothing, its half is read
    by the run itself; ``verify`` passes either way."""
    for n, fingerprint in enumerate(["7" * 64, "8" * 64, "8", "7zzz", "zzz", "é", "", "80", "12345"]):
        sql(
            case,
            "INSERT INTO triage_findings (fingerprint, exhibit, record_type, plugin, plugin_version, partition,"
            " inode, path, stream, file_sha256, locator, data, run_id) SELECT ?, exhibit, record_type, plugin,"
            " plugin_version, partition, inode, path, stream, file_sha256, locator || ?, data, run_id"
            " FROM triage_findings LIMIT 1",
            fingerprint,
            f"#{n}",
        )

    def state() -> dict[str, integrity.Leaves]:
        with case.engine.connect() as conn:
            return integrity.state_of(conn, "EX-001")

    halves: list[str] = []
    real_halves = integrity._halves

    def counted(*args: Any) -> integrity.Leaves:
        halves.append(args[5].name)
        return real_halves(*args)

    monkeypatch.setattr(integrity, "_halves", counted)
    monkeypatch.setattr(integrity, "SPLIT_ROWS", 10**12)
    one = state()
    assert halves == []
    monkeypatch.setattr(integrity, "SPLIT_ROWS", 0)
    two = state()
    assert halves == ["triage_files", "triage_findings"]  # the warnings: too few row ids to split
    with case.engine.begin() as conn:  # inside a transaction: read by this connection alone
        inside = integrity.state_of(conn, "EX-001")
    assert halves == ["triage_files", "triage_findings"]
    for name in one:
        assert inside[name].keys == one[name].keys and inside[name].hashes == one[name].hashes, name
    assert len(one["triage_findings"]) > 9
    for name in one:
        assert two[name].keys == one[name].keys and two[name].hashes == one[name].hashes, name
    assert 0 < one["triage_findings"].keys.index("8") < len(one["triage_findings"]) - 1

    # from a daemonic process (as a pool worker is) the helper is forked all the same
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def in_daemon() -> None:
        case.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        got = state()
        sender.send({name: (leaves.keys, bytes(leaves.hashes)) for name, leaves in got.items()})

    daemon = context.Process(target=in_daemon, daemon=True)
    daemon.start()
    sent = receiver.recv()
    daemon.join()
    assert daemon.exitcode == 0
    assert sent == {name: (leaves.keys, bytes(leaves.hashes)) for name, leaves in one.items()}

    # an altered table whose key column holds NULL, numbers and a BLOB: the same leaves, split
    # or not (the keys are sorted here, as text, in both cases)
    db = sqlite3.connect(case.root / "case.sqlite")
    columns = [r[1] for r in db.execute("PRAGMA table_info(triage_findings)")]
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    db.execute(f"CREATE TABLE loose ({', '.join(columns)})")  # no types, no constraints
    db.execute("INSERT INTO loose SELECT * FROM triage_findings")
    db.execute("DROP TABLE triage_findings")
    db.execute("ALTER TABLE loose RENAME TO triage_findings")
    for n, odd in enumerate([None, 9, 5, b"\x01", 7.5]):
        db.execute(
            "INSERT INTO triage_findings (id, fingerprint, exhibit, record_type, plugin, plugin_version, locator,"
            " data, run_id, path) SELECT 100000 + ?, ?, exhibit, record_type, plugin, plugin_version, ?, data,"
            " run_id, path FROM triage_findings LIMIT 1",
            (n, odd, f"odd {n}"),
        )
    db.commit()
    db.close()
    monkeypatch.setattr(integrity, "SPLIT_ROWS", 10**12)
    whole = state()["triage_findings"]
    monkeypatch.setattr(integrity, "SPLIT_ROWS", 0)
    halves.clear()
    split = state()["triage_findings"]
    assert halves == ["triage_files", "triage_findings"]
    assert (
        {"None", "9", "5", "7.5"} <= set(whole.keys)
        and split.keys == whole.keys
        and split.hashes == whole.hashes
    )
    one["triage_findings"] = whole  # what the rest is compared with

    def dies(*_: Any) -> None:
        os._exit(3)

    monkeypatch.setattr(integrity, "_half_in_helper", dies)
    alone = state()
    for name in one:
        assert alone[name].keys == one[name].keys and alone[name].hashes == one[name].hashes, name
    report = verify_case(case)
    assert mismatches(report) and "inserted" in mismatches(report)[0]  # our own rows, found by both
