"""Finding, creating and opening a case folder.

A case folder holds ``exhibit-case.json`` (what the case is and where its database lives) and, by
default, the SQLite database itself. It is found like git finds a repository: ``--case DIR``,
else ``$EXHIBIT_CASE``, else the current folder and its parents.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from custody import timefmt
from custody.errors import CaseError, CaseExists, CaseNotFound, damaged_sqlite
from custody.ledger import Ledger
from custody.locate import CASE_FILE, case_db_url, db_url_for, find_case_dir
from custody.store.sql import Database, sqlite_file

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEFAULT_DB = "case.sqlite"
FORMAT = "exhibit-case/1"


@dataclass(frozen=True)
class CaseIdentity:
    ledger_id: str
    case_number: str
    title: str
    agency: str | None
    created_utc: str
    created_offset: str


@dataclass(frozen=True)
class TsaSetting:
    """The case's Time-Stamp Authority: its URL, the PEM CA certificate its tokens chain to, and
    whether every checkpoint is time-stamped (``auto``)."""

    url: str
    ca_pem: str
    auto: bool


class Case:
    """An open case: its folder, database, identity and ledger.

    Custody's own statements run on :attr:`database` (on an SQLite case without importing
    SQLAlchemy); :attr:`engine`, SQLAlchemy's engine on the same database, is made when something
    asks for it (triage's tables, a schema to migrate)."""

    def __init__(self, root: Path, db_url: str) -> None:
        self.root = root
        self.db_url = db_url
        file = sqlite_file(db_url)
        if file is not None and not os.path.isfile(file):  # opening it would make an empty one
            raise CaseNotFound(
                f"the case database {file} is missing",
                hint="restore the case folder from its backup copy, then run 'exhibit custody verify'",
            )
        self.database = Database(db_url)
        try:
            if not self.database.at_head():
                from custody.store import db

                db.migrate(self.database.engine)
            with self.database.read() as session:
                row = session.first(
                    "SELECT ledger_id, case_number, title, agency, created_utc, created_offset "
                    "FROM case_info ORDER BY id LIMIT 1"
                )
        except BaseException as exc:
            self.database.close()
            damage = damaged_sqlite(exc)
            if damage is None:
                raise
            where = sqlite_file(db_url) or "of the case"
            raise CaseError(
                f"the case database {where} is not an SQLite database or is damaged ({damage})",
                hint="restore the case folder from its backup copy, then run 'exhibit custody verify'",
            ) from None
        if row is None:
            self.database.close()
            raise CaseNotFound(
                f"the database of case folder {root} holds no case",
                hint="run 'exhibit init' to create the case",
            )
        self.identity = CaseIdentity(*row)
        self.ledger = Ledger(self.database, self.identity.ledger_id, self.identity.case_number)
        self.ledger.after_append = self._auto_timestamp
        #: what went wrong after an append that did not undo it (a TSA that could not be reached)
        self.notices: list[str] = []

    @property
    def scratch_dir(self) -> Path:
        """Where copies of evidence may be made for parsing (never the evidence itself)."""
        path = self.root / "scratch"
        path.mkdir(exist_ok=True)
        return path

    @property
    def engine(self) -> Engine:
        """SQLAlchemy's engine on the case database (made on first use)."""
        return self.database.engine

    def tsa(self) -> TsaSetting | None:
        """The case's Time-Stamp Authority (``init --tsa``; the latest setting applies), if any."""
        with self.database.read() as session:
            row = session.first("SELECT url, ca_pem, auto FROM tsa_config ORDER BY id DESC LIMIT 1")
        return TsaSetting(row[0], row[1], bool(row[2])) if row else None

    def timestamped(self) -> bool:
        """Whether any checkpoint has an RFC 3161 time-stamp (asked without loading the client)."""
        with self.database.read() as session:
            return session.first("SELECT id FROM checkpoint_timestamps LIMIT 1") is not None

    def _auto_timestamp(self) -> None:
        """Time-stamp the new checkpoint when the case asks for it (``init --tsa``). A TSA that
        cannot be reached leaves the append recorded, untimestamped, with a notice."""
        setting = self.tsa()
        if setting is None or not setting.auto:
            return
        from custody import timestamps  # only cases with a TSA pay for the RFC 3161 client

        checkpoint = self.ledger.latest_checkpoint()
        if checkpoint is None:
            return
        try:
            timestamps.timestamp_checkpoint(self.database, checkpoint, setting.url, setting.ca_pem)
        except timestamps.TimestampError as exc:
            self.notices.append(
                f"checkpoint {checkpoint.tree_size} was recorded but not time-stamped: {exc}; "
                "run 'exhibit custody timestamp' when the TSA can be reached"
            )

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_case(explicit: Path | None = None) -> Case:
    root = find_case_dir(explicit)
    return Case(root, case_db_url(root))


def init_case(
    root: Path, *, case_number: str, title: str, agency: str | None = None, db_url: str | None = None
) -> Case:
    """Create the case folder, its database schema and identity. Refuses an existing case."""
    if not case_number.strip():
        raise CaseError(
            "the case number is empty",
            hint="give the case's reference number, e.g. --case-number 2026/017",
        )
    if not title.strip():
        raise CaseError("the case title is empty", hint='give a short title, e.g. --title "Op. Harbour"')
    root = root.resolve()
    if (root / CASE_FILE).exists():
        raise CaseExists(f"{root} already holds a case", hint="open it with --case, or pick another folder")
    stored_url = f"sqlite:///{DEFAULT_DB}" if db_url is None else db_url
    url = db_url_for(root, stored_url)
    from custody.store import db  # a new case's schema is made by SQLAlchemy

    engine = db.make_engine(url)  # refuses an unusable URL before the folder is created
    root.mkdir(parents=True, exist_ok=True)
    try:
        db.migrate(engine)
        database = Database(url)
        try:
            with database.write() as session:
                if session.first("SELECT id FROM case_info") is not None:
                    raise CaseExists(
                        f"the database {engine.url.render_as_string(hide_password=True)} already holds a case",
                        hint="use an empty database for each case",
                    )
                now = timefmt.stamp()
                session.run(
                    "INSERT INTO case_info (id, ledger_id, case_number, title, agency, created_utc, "
                    "created_offset) VALUES (1, :ledger_id, :case_number, :title, :agency, :created_utc, "
                    ":created_offset)",
                    {
                        "ledger_id": str(uuid.uuid4()),
                        "case_number": case_number,
                        "title": title,
                        "agency": agency,
                        "created_utc": now.utc,
                        "created_offset": now.offset,
                    },
                )
        finally:
            database.close()
    finally:
        engine.dispose()
    config = {"format": FORMAT, "case_number": case_number, "database": stored_url}
    tmp = root / (CASE_FILE + ".tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    tmp.replace(root / CASE_FILE)
    return Case(root, url)
