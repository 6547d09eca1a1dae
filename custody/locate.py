"""Finding a case folder and reading it cheaply, without the ORM or cryptography.

Commands that only *read* evidence (``exhibit ls``, ``exhibit cat``) need the acquisition record
of one exhibit and nothing else; loading SQLAlchemy for that costs more than listing a small disk.
For the default SQLite case this module reads the record with the standard library, read-only.
Everything else goes through :mod:`custody.case`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from custody.errors import CaseError, CaseNotFound, ItemError, damaged_sqlite
from custody.store.sql import sqlite_file

CASE_FILE = "exhibit-case.json"


def find_case_dir(explicit: Path | None = None) -> Path:
    """``--case DIR``, else ``$EXHIBIT_CASE``, else the current folder and its parents (like git)."""
    if explicit is not None:
        if not (explicit / CASE_FILE).is_file():
            raise CaseNotFound(
                f"{explicit} is not a case folder (no {CASE_FILE})",
                hint="create one with 'exhibit init DIR --case-number N --title T'",
            )
        return explicit.resolve()
    env = os.environ.get("EXHIBIT_CASE")
    if env:
        return find_case_dir(Path(env))
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / CASE_FILE).is_file():
            return folder
    raise CaseNotFound(
        "no case folder here or in any parent folder",
        hint="pass --case DIR, set EXHIBIT_CASE, or cd into a case folder",
    )


def db_url_for(root: Path, stored: str) -> str:
    """The stored URL with a relative SQLite path resolved against the case folder.

    The folder's path is written so that the URL names that file and no other: SQLAlchemy reads
    what follows a ``?`` as options and decodes ``%XX``, so a case folder named ``q?x=1`` put its
    database in a file ``q`` beside the folder, and one named ``p%41c`` in a folder ``pAc``."""
    if stored.startswith("sqlite:///") and not stored.startswith("sqlite:////"):
        relative = stored.removeprefix("sqlite:///")
        path = str((root / relative).resolve())
        return "sqlite:///" + path.replace("%", "%25").replace("?", "%3F")
    return stored


def case_db_url(root: Path) -> str:
    try:
        config = json.loads((root / CASE_FILE).read_text(encoding="utf-8"))
        url = str(config["database"])
    except (OSError, ValueError, KeyError) as exc:
        raise CaseNotFound(
            f"{root / CASE_FILE} is unreadable: {exc}",
            hint="this file names the case's database: restore the case folder from its backup copy, "
            "then run 'exhibit custody verify'",
        ) from None
    return db_url_for(root, url)


def check_utf8(value: str, what: str = "exhibit number") -> None:
    """Refuse text that cannot be stored: a non-UTF-8 command-line argument arrives as lone
    surrogates (PEP 383), which no database driver can encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ItemError(
            f"the {what} {value!r} is not valid UTF-8 text",
            hint="type it again in a UTF-8 terminal; 'exhibit items' lists the exhibit numbers",
        ) from None


class QuickCase:
    """A read-only view of a SQLite case: one exhibit's acquisition and triage's file index."""

    def __init__(self, database: Path, timeout: float = 30) -> None:
        self.database = database
        # the path escaped as a URI's (SQLite decodes %XX and ends the path at "?" or "#")
        self.conn = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=timeout)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """The rows of one query; a file that is not an SQLite database, or is damaged, is named
        with what to do (as opening the case for any other command says it)."""
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            damage = damaged_sqlite(exc)
            if damage is None:
                raise
            raise CaseError(
                f"the case database {self.database} is not an SQLite database or is damaged ({damage})",
                hint="restore the case folder from its backup copy, then run 'exhibit custody verify'",
            ) from None

    def acquisition(self, exhibit: str) -> dict[str, Any]:
        check_utf8(exhibit)
        rows = self.rows("SELECT body FROM entries WHERE exhibit = ? AND kind = 'item.acquire'", (exhibit,))
        row = rows[0] if rows else None
        if row is None:
            numbers = self.rows("SELECT case_number FROM case_info ORDER BY id LIMIT 1")
            number = numbers[0] if numbers else None
            raise ItemError(
                f"no exhibit {exhibit!r} in " + (f"case {number[0]}" if number else "this case"),
                hint="'exhibit items' lists the exhibits; 'exhibit acquire' adds one",
            )
        acquisition: dict[str, Any] = json.loads(row[0])["data"]["acquisition"]
        return acquisition

    def known_files(self, exhibit: str) -> list[tuple[Any, ...]]:
        """(partition, inode, attr_type, attr_id, path, sha256, mime, ext_mismatch) of hashed files."""
        check_utf8(exhibit)
        if not self.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'triage_files'"):
            return []
        return self.rows(
            "SELECT partition, inode, attr_type, attr_id, path, sha256, mime, ext_mismatch FROM triage_files "
            "WHERE exhibit = ? AND sha256 IS NOT NULL",
            (exhibit,),
        )

    def close(self) -> None:
        self.conn.close()


def quick_case(explicit: Path | None = None, timeout: float = 30) -> QuickCase | None:
    """A :class:`QuickCase` for a SQLite case that exists; ``None`` for other databases.
    ``timeout``: how long to wait for a database another process has locked."""
    root = find_case_dir(explicit)
    file = sqlite_file(case_db_url(root))
    if file is None:
        return None
    database = Path(file)
    if not database.is_file():
        raise CaseNotFound(f"the case database {database} is missing", hint="check the case folder")
    try:
        return QuickCase(database, timeout)
    except sqlite3.Error as exc:
        raise CaseNotFound(f"cannot read the case database {database}: {exc}") from None
