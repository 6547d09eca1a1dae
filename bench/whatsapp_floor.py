#!/usr/bin/env python3
"""The floor under issue 8, section 8: what SQLite itself takes to store a million WhatsApp
messages as findings rows, with no Python record, no ledger and no digest at all.

``bench/whatsapp_million.py`` times ``exhibit triage`` against the ``sqlite3`` shell dumping the
``message`` rows (target: 3x the dump). This script asks what any design that stores one findings
row per message costs at the least on this machine, by letting SQLite do all of it in one
statement on the same database (built by ``whatsapp_million.build``):

1. the dump, as ``whatsapp_million.py`` times it (the ``sqlite3`` shell, the plugin's own SELECT);
2. SQLite formatting each row of that SELECT as a JSON object (``json_object`` of its columns),
   nothing stored;
3. ``INSERT INTO triage_findings SELECT`` those objects (a fresh case table made from
   ``triage.store.models``): without the table's indexes, with them, and with a SHA-256
   fingerprint per row computed by a Python function (the store's fingerprint);
4. the leanest shape that still keeps what the project requires of a time ("UTC plus the raw
   value and its encoding"): a table of the message's own typed columns (conversation and
   sender resolved by joining ``chat`` and ``jid``, both times raw and as UTC text), no JSON,
   no fingerprint, written by SQLite in one statement, with the case database's write-ahead
   log and with a rollback journal; then those rows read back and each hashed, as any signed
   digest of them must.

Each is a ratio to the dump. Rows here hold only the database's own columns (about 800 bytes);
Exhibit's records carry more (the source, each time as UTC with its raw value and encoding), so
the real store can only cost more than step 3.

    .venv/bin/python bench/whatsapp_floor.py [--messages 1000000] [--workdir bench/work]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from whatsapp_million import DB_DIR, build  # noqa: E402

from plugins.chat.whatsapp_android import MESSAGE  # noqa: E402
from triage.plugin.sqlite_table import _plan  # noqa: E402  (the SELECT the plugin runs)
from triage.store.models import Finding  # noqa: E402


def _store(
    db: Path, case: Path, select: str, columns: list[str], *, indexes: bool, fingerprint: str
) -> float:
    """CPU seconds of one INSERT ... SELECT of every message as a findings row into a fresh table."""
    from sqlalchemy import create_engine

    case.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{case}")
    Finding.create(engine)
    if not indexes:
        with engine.begin() as con:
            for index in Finding.indexes:
                con.exec_driver_sql(f'DROP INDEX "{index.name}"')
    engine.dispose()
    con = sqlite3.connect(case, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA cache_size=-65536")
    con.create_function("sha256", 1, lambda s: hashlib.sha256(s.encode()).hexdigest(), deterministic=True)
    con.execute("ATTACH ? AS m", (f"file:{db}?mode=ro",))
    data = "json_object(" + ", ".join(f"'{c}', q.\"{c}\"" for c in columns) + ")"
    insert = (
        "INSERT INTO triage_findings (fingerprint, exhibit, record_type, plugin, plugin_version, path, "
        "locator, data, run_id) "
        f"SELECT {fingerprint}, 'EX-001', 'chat/android/whatsapp/message', 'whatsapp_android', '1', "
        f"'/{DB_DIR}/msgstore.db', 'message.rowid=' || id, data, 'run' "
        f'FROM (SELECT {data} AS data, q."_id" AS id FROM ({select}) q)'
    )
    started = time.process_time()
    con.execute("BEGIN")
    con.execute(insert)
    con.execute("COMMIT")
    spent = time.process_time() - started
    con.close()
    return spent


def _typed(db: Path, case: Path, select: str, journal: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one INSERT ... SELECT of every message as a typed row (no JSON)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{case}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(case, isolation_level=None)
    con.execute(f"PRAGMA journal_mode={journal}")
    con.execute("PRAGMA synchronous=FULL")  # as the case database (custody.store.SQLITE_PRAGMAS)
    con.execute(
        "CREATE TABLE typed_message (id INTEGER PRIMARY KEY, exhibit TEXT, locator TEXT, chat INT, "
        "conversation TEXT, from_me INT, key_id TEXT, sender TEXT, sent_raw INT, sent_utc TEXT, "
        "received_raw INT, received_utc TEXT, status INT, type INT, body TEXT, media TEXT)"
    )
    con.execute("ATTACH ? AS m", (f"file:{db}?mode=ro",))
    utc = "strftime('%Y-%m-%dT%H:%M:%fZ', {}/1000.0, 'unixepoch')"
    insert = (
        "INSERT INTO typed_message (exhibit, locator, chat, conversation, from_me, key_id, sender, sent_raw, "
        "sent_utc, received_raw, received_utc, status, type, body, media) "
        "SELECT 'EX-001', 'message.rowid=' || q._id, q.chat_row_id, j.raw_string, q.from_me, q.key_id, "
        f"s.raw_string, q.timestamp, {utc.format('q.timestamp')}, q.received_timestamp, "
        f"{utc.format('q.received_timestamp')}, q.status, q.message_type, q.text_data, "
        f'q."message_media.file_path" FROM ({select}) q LEFT JOIN m.chat c ON c._id = q.chat_row_id '
        "LEFT JOIN m.jid j ON j._id = c.jid_row_id LEFT JOIN m.jid s ON s._id = q.sender_jid_row_id"
    )
    started, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN")
    con.execute(insert)
    con.execute("COMMIT")
    if journal == "WAL":
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    spent = time.perf_counter() - started, time.process_time() - cpu
    con.close()
    return spent


def _signed(case: Path) -> float:
    """CPU seconds to read every typed row back and hash it (a leaf per row, as a digest needs;
    the tree above the leaves not counted)."""
    con = sqlite3.connect(f"file:{case}?mode=ro", uri=True)
    started = time.process_time()
    leaves = bytearray()
    sha = hashlib.sha256
    for row in con.execute("SELECT * FROM typed_message"):
        leaves += sha("\x1f".join(map(str, row)).encode()).digest()
    spent = time.process_time() - started
    con.close()
    return spent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=REPO / "bench" / "work")
    args = ap.parse_args()
    if not shutil.which("sqlite3"):
        print("the sqlite3 shell is not installed (apt-get install sqlite3)", file=sys.stderr)
        return 2
    folder = args.workdir / f"wa-{args.messages}"
    db = build(folder, args.messages) / DB_DIR / "msgstore.db"
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    select = _plan(src, MESSAGE).sql
    columns = [d[0] for d in src.execute(select + " LIMIT 1").description]
    started = time.perf_counter()
    subprocess.run(["sqlite3", str(db), select], stdout=subprocess.DEVNULL, check=True)
    dump = time.perf_counter() - started
    started = time.process_time()
    data = "json_object(" + ", ".join(f"'{c}', q.\"{c}\"" for c in columns) + ")"
    src.execute(f"SELECT count(*), sum(length(d)) FROM (SELECT {data} AS d FROM ({select}) q)").fetchone()
    formatted = time.process_time() - started
    src.close()
    with tempfile.TemporaryDirectory(prefix="wa-floor-", dir=args.workdir) as tmp:
        case = Path(tmp) / "case.sqlite"
        bare = _store(db, case, select, columns, indexes=False, fingerprint="hex(randomblob(32))")
        indexed = _store(db, case, select, columns, indexes=True, fingerprint="hex(randomblob(32))")
        fingered = _store(db, case, select, columns, indexes=True, fingerprint="sha256(data)")
        typed_wal = _typed(db, case, select, "WAL")
        typed_rollback = _typed(db, case, select, "DELETE")
        signed = _signed(case)
    print(f"{args.messages:,} messages, {len(columns)} columns; sqlite3 dump {dump:.2f} s")
    for label, seconds in (
        ("rows formatted as JSON by SQLite, nothing stored", formatted),
        ("stored as findings rows, no index", bare),
        ("stored, the findings table's indexes", indexed),
        ("stored, indexes, a SHA-256 fingerprint per row", fingered),
    ):
        print(f"  {label:<50} {seconds:6.2f} s CPU  {seconds / dump:5.1f}x the dump")
    for label, (wall, cpu) in (
        ("typed rows, UTC text, write-ahead log", typed_wal),
        ("typed rows, UTC text, rollback journal", typed_rollback),
    ):
        print(f"  {label:<50} {wall:6.2f} s wall {wall / dump:5.1f}x ({cpu:.2f} s CPU)")
    print(
        f"  {'the typed rows read back, each hashed':<50} {signed:6.2f} s CPU  {signed / dump:5.1f}x the dump"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
