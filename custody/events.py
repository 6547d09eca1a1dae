"""Custody events: check-out, check-in, transfer, seal, unseal, move, examine, verify, return,
dispose and correct. Each is one signed entry; nothing is ever edited, a correction is a new
entry that names the entry it corrects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from custody.errors import ItemError

if TYPE_CHECKING:  # the CLI reads EVENTS at start-up; the heavy modules load on first use
    from custody.actors import PassphrasePrompt
    from custody.case import Case
    from custody.ledger import StoredEntry
    from custody.store.sql import Session


@dataclass(frozen=True)
class EventSpec:
    name: str
    summary: str
    requires: tuple[str, ...] = ()


EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("check-out", "take the item out of storage"),
        EventSpec("check-in", "put the item back into storage"),
        EventSpec("transfer", "hand the item to another person; both sign", ("receiver",)),
        EventSpec("seal", "seal the item's packaging", ("seal",)),
        EventSpec("unseal", "break a seal (its number must match the one recorded)", ("seal",)),
        EventSpec("move", "move the item to another storage location", ("location",)),
        EventSpec("examine", "examine or access the item"),
        EventSpec("verify", "record that the item's hashes were verified"),
        EventSpec("return", "return the item to its owner or submitter"),
        EventSpec("dispose", "destroy or dispose of the item"),
        EventSpec(
            "correct", "correct an earlier entry (a new entry; nothing is edited)", ("corrects", "reason")
        ),
    )
}

KIND_PREFIX = "custody."

#: The command-line option of each field an event may require, where the names differ.
_OPTIONS = {"receiver": "to", "corrects": "entry"}


def record_event(
    case: Case,
    event: str,
    exhibit: str,
    *,
    actor: str,
    location: str | None = None,
    reason: str | None = None,
    authority: str | None = None,
    condition: str | None = None,
    notes: str | None = None,
    at: str | None = None,
    receiver: str | None = None,
    seal: str | None = None,
    corrects: int | None = None,
    method: str | None = None,
    extra: Mapping[str, Any] | None = None,
    prompt: PassphrasePrompt | None = None,
) -> StoredEntry:
    """Record one custody event about an acquired exhibit, signed by ``actor`` (and the receiver)."""
    from custody.actors import signing_keys
    from custody.items import ACQUIRE, get_item
    from custody.keys import env_passphrase
    from custody.ledger import Draft, entries_in
    from custody.timefmt import parse_stamp

    spec = EVENTS.get(event)
    if spec is None:
        raise ItemError(f"unknown custody event {event!r}", hint=f"use one of: {', '.join(EVENTS)}")
    given = {
        "receiver": receiver,
        "seal": seal,
        "location": location,
        "corrects": corrects,
        "reason": reason,
    }
    for needed in spec.requires:
        if given.get(needed) in (None, ""):
            option = _OPTIONS.get(needed, needed)
            raise ItemError(
                f"'{event}' needs --{option}",
                hint=f"e.g. exhibit custody {event} {exhibit} --{option} ...",
            )
    get_item(case, exhibit)
    if receiver is not None and receiver == actor:
        raise ItemError(
            "a transfer needs two different people", hint="--to names the person receiving the item"
        )
    occurred = parse_stamp(at).as_dict() if at else None
    data: dict[str, Any] = {
        "event": event,
        "occurred": occurred,
        "location": location,
        "reason": reason,
        "authority": authority,
        "condition": condition,
        "notes": notes,
    }
    if event == "transfer":
        data["released_by"] = actor
        data["received_by"] = receiver
    if seal is not None:
        data["seal"] = seal
    if corrects is not None:
        data["corrects"] = corrects
    if method is not None:
        data["method"] = method
    if extra:
        data.update(extra)
    cosigners = (receiver,) if event == "transfer" and receiver else ()
    keys = signing_keys(case, [actor, *cosigners], prompt or env_passphrase)

    def precheck(session: Session) -> None:
        if not entries_in(session, kinds=[ACQUIRE], exhibit=exhibit):
            raise ItemError(f"no exhibit {exhibit!r} in this case")
        if corrects is not None:
            target = [e for e in entries_in(session, exhibit=exhibit) if e.seq == corrects]
            if not target:
                raise ItemError(
                    f"entry {corrects} does not exist or is not about {exhibit}",
                    hint=f"'exhibit custody log {exhibit}' shows its entries and their numbers",
                )

    [entry] = case.ledger.append(
        [Draft(kind=KIND_PREFIX + event, actor=actor, exhibit=exhibit, data=data, cosigners=cosigners)],
        keys,
        checkpoint_signer=actor,
        precheck=precheck,
    )
    return entry
