"""Evidence items: acquiring them into the ledger, deriving items from them, looking them up.

An item exists only as its signed ``item.acquire`` entry; nothing about it is stored anywhere
else, so what :func:`get_item` returns is exactly what the actor signed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custody import timefmt, tool_version
from custody.case import Case
from custody.errors import ItemError, UserError
from custody.ledger import Draft, StoredEntry, entries_in
from custody.locate import check_utf8
from custody.store.sql import Session

if TYPE_CHECKING:
    from custody.early_read import EarlyRead

EXHIBIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
ACQUIRE = "item.acquire"
DERIVE = "item.derive"


@dataclass(frozen=True)
class Item:
    """An acquired evidence item, as recorded in its signed acquisition entry."""

    exhibit: str
    kind: str
    description: str
    source_path: str
    size: int
    hashes: dict[str, str]
    seq: int
    actor: str
    recorded_utc: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.source_path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "exhibit": self.exhibit,
            "kind": self.kind,
            "description": self.description,
            "source_path": self.source_path,
            "size": self.size,
            "hashes": self.hashes,
            "seq": self.seq,
            "actor": self.actor,
            "recorded_utc": self.recorded_utc,
        }


def _item(entry: StoredEntry) -> Item:
    data = entry.data
    acq = data.get("acquisition", {})
    return Item(
        exhibit=str(entry.exhibit),
        kind=str(acq.get("kind")),
        description=str(data.get("description", "")),
        source_path=str(acq.get("source_path")),
        size=int(acq.get("size") or 0),
        hashes=dict(acq.get("hashes") or {}),
        seq=entry.seq,
        actor=entry.actor,
        recorded_utc=entry.recorded_utc,
        data=data,
    )


def list_items(case: Case) -> list[Item]:
    return [_item(e) for e in case.ledger.entries(kinds=[ACQUIRE])]


def get_item(case: Case, exhibit: str) -> Item:
    check_utf8(exhibit)
    for entry in case.ledger.entries(exhibit=exhibit, kinds=[ACQUIRE]):
        return _item(entry)
    raise ItemError(
        f"no exhibit {exhibit!r} in case {case.identity.case_number}",
        hint="'exhibit items' lists the exhibits; 'exhibit acquire' adds one",
    )


def check_exhibit_number(exhibit: str) -> None:
    if not EXHIBIT.match(exhibit):
        raise ItemError(
            f"invalid exhibit number {exhibit!r}",
            hint="use letters, digits, '.', '_', '-' or '/', e.g. EX-001",
        )


def acquire(
    case: Case,
    path: Path,
    *,
    exhibit: str,
    actor: str,
    description: str,
    make: str | None = None,
    model: str | None = None,
    serial: str | None = None,
    location: str | None = None,
    notes: str | None = None,
    kind: str | None = None,
    progress: Callable[[int], None] | None = None,
    early: EarlyRead | None = None,
) -> tuple[Item, StoredEntry]:
    """Hash the evidence at ``path`` in one read pass and record it as a new exhibit.

    The entry is appended only after hashing has finished, in one transaction: an interrupted
    acquisition records nothing. ``early``: that read pass, already running in a thread
    (:mod:`custody.early_read`, for ``path`` and ``kind``); it is taken only after the checks
    below, and a failing check leaves it to its owner to cancel.
    """
    if early is not None and not early.matches(path, kind):
        raise ValueError(f"the early read is of {early.path} ({early.kind}), not of {path} ({kind})")
    check_exhibit_number(exhibit)
    if any(True for _ in case.ledger.entries(exhibit=exhibit, kinds=[ACQUIRE])):
        raise ItemError(
            f"exhibit {exhibit!r} already exists in this case", hint="choose a new exhibit number"
        )
    from custody.acquisition import acquire_source
    from custody.actors import signing_keys

    keys = signing_keys(case, [actor])  # fail before the digests are taken, not after hours of hashing
    if early is not None:  # started and finished: when its thread really read
        acquisition, started, finished = early.result(progress)
    else:
        started = timefmt.stamp()
        acquisition = acquire_source(Path(path), kind=kind, progress=progress)
        finished = timefmt.stamp()
    data: dict[str, Any] = {
        "description": description,
        "identifiers": {"make": make, "model": model, "serial": serial},
        "location": location,
        "notes": notes,
        "method": f"exhibit acquire ({acquisition.kind}); MD5+SHA-1+SHA-256 in one read pass",
        "tool": tool_version(),
        "started": started.as_dict(),
        "finished": finished.as_dict(),
        "acquisition": acquisition.as_dict(),
    }

    def precheck(session: Session) -> None:
        if entries_in(session, kinds=[ACQUIRE], exhibit=exhibit):
            raise ItemError(
                f"exhibit {exhibit!r} already exists in this case", hint="choose a new exhibit number"
            )

    [entry] = case.ledger.append(
        [Draft(kind=ACQUIRE, actor=actor, exhibit=exhibit, data=data)],
        keys,
        checkpoint_signer=actor,
        precheck=precheck,
    )
    return _item(entry), entry


def record_derived(
    case: Case,
    parent: str,
    derived: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    keys: Mapping[str, Any] | None = None,
) -> list[StoredEntry]:
    """Append many derived items (files read out of ``parent``) in ONE transaction.

    Each mapping should carry path, partition, inode, stream, size, hashes and the run it
    came from; the engine decides, the ledger just signs and chains them.
    """
    from custody.actors import signing_keys

    get_item(case, parent)
    signing = dict(keys) if keys is not None else signing_keys(case, [actor])
    drafts = [Draft(kind=DERIVE, actor=actor, exhibit=parent, data=dict(d)) for d in derived]
    if not drafts:
        return []
    return case.ledger.append(drafts, signing, checkpoint_signer=actor)


def estimate_size(path: Path, kind: str | None = None) -> int | None:
    """Bytes an acquisition will read, for the progress bar (None when it cannot tell cheaply)."""
    from custody.media import detect_source, open_image

    try:
        kind = kind or detect_source(path)
        if kind in ("raw", "split-raw", "e01"):
            reader = open_image(path, kind=kind)
            try:
                return reader.size
            finally:
                reader.close()
        if kind in ("folder", "ios-backup"):
            return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink())
        return Path(path).stat().st_size
    except (OSError, ValueError, UserError):
        return None
