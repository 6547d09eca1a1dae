"""Android provider databases for the SMS, MMS, call log and contacts tests, built from SQL text.

The corpus has real ``mmssms.db`` (SMS only) and ``contacts2.db`` (call log only) files; every
other case is built here from the schemas the Android Open Source Project publishes, copied as
the providers create them (column names, order and defaults), so a fixture is the database a
phone of that version would hold. The SQL text of those schemas (``mmssms.db`` versions 69 and
57, ``calllog.db`` versions 12 and 10, ``contacts2.db`` versions 1603 and 625, the ``mimetypes``
rows), and where each comes from, is in app_schemas.py, shared with the demo's phone builder.

Only facts are taken from those sources (names, types, values); the rows are made up here, except
where a test says it reproduces an AOSP test asset's rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from tests.plugins.app_schemas import (
    CALLLOG,
    CALLS_V10,
    CALLS_V12,
    CONTACTS,
    CONTACTS_V625,
    CONTACTS_V1603,
    MIMETYPES,
    MMS_V57,
    MMS_V69,
    SMS_V69,
    TELEPHONY,
    mimetype_id,
)
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, Plugin, Record
from triage.plugin.scratch import Scratch

__all__ = [
    "CALLLOG",
    "CALLS_V10",
    "CALLS_V12",
    "CONTACTS",
    "CONTACTS_V625",
    "CONTACTS_V1603",
    "MIMETYPES",
    "MMS_V57",
    "MMS_V69",
    "SMS_V69",
    "TELEPHONY",
    "bad_copies",
    "check_bad_copies",
    "fingerprint",
    "insert",
    "make_db",
    "mimetype_id",
    "ro",
    "run",
]

# --- helpers --------------------------------------------------------------------------------------


def make_db(path: Path, sql: str, rows: dict[str, list[tuple[object, ...]]] | None = None) -> Path:
    """A database at ``path`` (folders made) from ``sql``, then ``rows`` inserted per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(sql)
        for table, values in (rows or {}).items():
            for value in values:
                marks = ", ".join("?" * len(value))
                con.execute(f"INSERT INTO {table} VALUES ({marks})", value)
        con.commit()
    finally:
        con.close()
    return path


def insert(path: Path, table: str, **columns: object) -> None:
    """One row into ``table`` of the database at ``path``, by column name."""
    con = sqlite3.connect(path)
    try:
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(columns.values()))
        con.commit()
    finally:
        con.close()


def run(
    plugins: list[Plugin], item: FileItem, tmp_path: Path, *, expect_match: bool = True
) -> tuple[list[Record], list[tuple[str, str | None, str]]]:
    """``match_plugins`` + ``run_plugins`` as the engine does; records and (plugin, locator, message)."""
    where = tmp_path / "scratch"
    where.mkdir(parents=True, exist_ok=True)
    with Scratch(where) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, plugins, ctx)
        if expect_match:
            assert [p.name for p in chosen] == [p.name for p in plugins]
        result = run_plugins(item, chosen, ctx)
        assert result.failed == []
    warnings = [(w.plugin, w.locator, w.message) for w in [*ctx.warnings, *result.warnings]]
    return result.records, warnings


def fingerprint(path: Path) -> tuple[str, int, int]:
    """SHA-256, modification time (ns) and size: what reading evidence must leave unchanged."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_size


def ro(path: Path) -> sqlite3.Connection:
    """A read-only, immutable connection (the oracle queries never touch the file)."""
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    con.row_factory = sqlite3.Row
    return con


def bad_copies(good: Path, where: Path) -> dict[str, Path]:
    """Broken copies of the database ``good``, each under its own folder with the same file name.

    ``encrypted``: random bytes (what a SQLCipher or file-based-encrypted copy looks like);
    ``zero-filled``: zeros, as a wiped or never-written extent; ``truncated``: the first half of
    the file (pages past the cut are gone); ``wal-only``: a ``-wal`` file whose database is absent.
    """
    import random

    data = good.read_bytes()
    made: dict[str, Path] = {}
    variants = {
        "encrypted": random.Random(8).randbytes(len(data)),
        "zero-filled": bytes(len(data)),
        "truncated": data[: len(data) // 2],
    }
    for kind, content in variants.items():
        path = where / kind / good.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        made[kind] = path
    wal = where / "wal-only" / (good.name + "-wal")
    wal.parent.mkdir(parents=True, exist_ok=True)
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(28))  # a WAL header's magic, nothing else
    made["wal-only"] = wal
    return made


def check_bad_copies(plugin: Plugin, good: Path, fs_dir: str, tmp_path: Path) -> dict[str, list[str]]:
    """Run ``plugin`` on each of :func:`bad_copies` as the engine would; nothing may fail.

    Returns the warnings' messages per kind, after checking that each names the plugin and the
    file, that an unreadable copy gives no record, and that the WAL alone is offered to no one.
    """
    out: dict[str, list[str]] = {}
    for kind, path in bad_copies(good, tmp_path / "bad").items():
        fs_path = f"{fs_dir}/{path.name}"
        item = FileItem.from_path(path, fs_path=fs_path)
        where = tmp_path / "scratch" / kind
        where.mkdir(parents=True, exist_ok=True)
        with Scratch(where) as scratch:
            ctx = ParseContext(scratch=scratch)
            chosen = match_plugins(item, [plugin], ctx)
            result = run_plugins(item, chosen, ctx)
        assert result.failed == [], kind
        warnings = [*ctx.warnings, *result.warnings]
        assert all(w.plugin == plugin.name and w.path == fs_path for w in warnings), (kind, warnings)
        out[kind] = [w.message for w in warnings]
        if kind == "wal-only":
            assert chosen == [] and warnings == [], kind
        elif kind in ("encrypted", "zero-filled"):
            assert result.records == [], kind
            assert any("database skipped by " + plugin.name in m for m in out[kind]), (kind, out[kind])
        else:
            assert out[kind], f"{kind}: read without a warning"
    return out
