"""What listings hide and flag: files and records with ``hash/hit`` findings.

A file (exhibit, partition, inode, path) or a record (exhibit, path, locator) is *known-bad* when
it has a hit of a known-bad set, *known-good* when all its hits are of known-good sets. Listings
(``exhibit findings``, ``exhibit ls`` after triage, ``exhibit timeline``) hide known-good files, their
findings and the known-good hits themselves unless ``--show-known``, and mark known-bad ones.
Only hits of sets still in the case count (a removed set hides and flags nothing; its hits stay
stored, signed by the run that found them).

Held in memory: one small tuple per hit of the exhibits listed (not per file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, inspect, select

from triage.hashsets import store
from triage.store.models import Finding

HIT_TYPE = "hash/hit"
BAD = "known-bad"
GOOD = "known-good"


@dataclass
class Known:
    """Status by file and by record; empty when nothing matched (then listings are unchanged)."""

    files: dict[tuple[str, int | None, int | None, str], str] = field(default_factory=dict)
    paths: dict[tuple[str, str], str] = field(
        default_factory=dict
    )  # (exhibit, path): for views without inode
    records: dict[tuple[str, str, str | None], str] = field(default_factory=dict)
    sets: dict[tuple[str, int | None, int | None, str], set[str]] = field(default_factory=dict)
    current: set[tuple[str, str]] = field(
        default_factory=set
    )  # (name, source sha256) of the sets in the case

    def __bool__(self) -> bool:
        return bool(self.files or self.records)

    @staticmethod
    def _merge(old: str | None, new: str) -> str:
        return BAD if BAD in (old, new) else GOOD

    def file_status(self, exhibit: str, partition: int | None, inode: int | None, path: str) -> str | None:
        return self.files.get((exhibit, partition, inode, path))

    def path_status(self, exhibit: str, path: str) -> str | None:
        return self.paths.get((exhibit, path))

    def finding_status(
        self,
        exhibit: str,
        record_type: str,
        partition: int | None,
        inode: int | None,
        path: str,
        locator: str | None,
        data: dict[str, Any] | None = None,
    ) -> str | None:
        """A finding's status: a hit's own kind; else its record's; else its file's."""
        if record_type == HIT_TYPE and data is not None:
            kind = data.get("kind")
            current = (data.get("set_name"), data.get("set_sha256")) in self.current
            return kind if kind in (BAD, GOOD) and current else None
        rec = self.records.get((exhibit, path, locator)) if locator is not None else None
        status = self.file_status(exhibit, partition, inode, path)
        if rec is None:
            return status
        return self._merge(status, rec) if status else rec

    def hides(self, status: str | None) -> bool:
        return status == GOOD


def load_known(engine: Engine, exhibits: Iterable[str] | None = None) -> Known:
    """The status of every file and record with a hit in ``exhibits`` (None: the whole case)."""
    known = Known()
    if not inspect(engine).has_table(Finding.name) or not store.has_tables(engine):
        return known
    with engine.connect() as conn:
        current = {(s.name, s.source_sha256) for s in store.ready_sets(conn).values()}
        if not current:
            return known
        known.current = current
        query = select(
            Finding.c.exhibit,
            Finding.c.partition,
            Finding.c.inode,
            Finding.c.path,
            Finding.c.locator,
            Finding.c.data,
        ).where(Finding.c.record_type == HIT_TYPE)
        chosen = list(exhibits) if exhibits is not None else None
        if chosen:
            query = query.where(Finding.c.exhibit.in_(chosen))
        for exhibit, partition, inode, path, locator, data in conn.execute(
            query.execution_options(yield_per=5000)
        ):
            try:
                d = json.loads(data)
            except ValueError:
                continue
            kind = d.get("kind")
            if kind not in (BAD, GOOD) or (d.get("set_name"), d.get("set_sha256")) not in current:
                continue
            if d.get("target") == "record":
                key = (exhibit, path, locator)
                known.records[key] = Known._merge(known.records.get(key), kind)
                continue
            fkey = (exhibit, partition, inode, path)
            known.files[fkey] = Known._merge(known.files.get(fkey), kind)
            known.paths[(exhibit, path)] = Known._merge(known.paths.get((exhibit, path)), kind)
            known.sets.setdefault(fkey, set()).add(str(d.get("set_name")))
    return known
