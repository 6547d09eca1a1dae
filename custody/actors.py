"""People who record entries: registering them and loading their signing keys."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody import keys, timefmt
from custody.case import Case
from custody.errors import ActorError
from custody.ledger import Draft, StoredEntry, entries_in
from custody.store.sql import Session
from custody.timefmt import Stamp

KNOWN_ROLES = (
    "examiner",
    "evidence-officer",
    "prosecutor",
    "investigator",
    "defence-expert",
    "lab-manager",
    "courier",
    "custodian",
)
ROLE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class Actor:
    """A registered person. ``public_key`` is their key now (after any ``actor.rotate``);
    ``key_seq`` the entry that made it theirs; ``revoked_seq``/``revoked_from`` say whether and
    from when their key was revoked (``actor.revoke``)."""

    id: str
    name: str
    role: str
    org: str | None
    public_key: str
    registered_seq: int
    key_seq: int = 0
    revoked_seq: int | None = None
    revoked_from: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _actor(entry: StoredEntry) -> Actor:
    data = entry.data
    return Actor(
        id=str(data.get("id")),
        name=str(data.get("name")),
        role=str(data.get("role")),
        org=data.get("org"),
        public_key=str(data.get("public_key")),
        registered_seq=entry.seq,
    )


def _folded(name: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKC", name).casefold() if ch.isalnum())


def _scripts(name: str) -> set[str]:
    """The scripts of a name's letters, by their Unicode names (LATIN, CYRILLIC, GREEK...)."""
    import unicodedata

    return {unicodedata.name(ch, "?").split(" ", 1)[0] for ch in name if ch.isalpha()}


def look_alikes(case: Case, actor_id: str, name: str) -> list[str]:
    """Why a newly registered actor could be taken for someone else: another actor whose name is
    the same but for case, spacing or punctuation, and letters of more than one script in the
    name ("Jane Dоe" with a Cyrillic "о"). Registration is not refused (two people may share a
    name), but whoever reads the ledger must be told (found in review: "jd0e", "Jane Doe" signed
    corrections that a report showed as Jane Doe's)."""
    found = [
        f"{a.id!r} is registered with the name {a.name!r} too (entry {a.registered_seq})"
        for a in list_actors(case)
        if a.id != actor_id and _folded(a.name) == _folded(name)
    ]
    scripts = _scripts(name)
    if len(scripts) > 1:
        found.append(f"the name mixes letters of {', '.join(sorted(scripts))} scripts")
    return found


def list_actors(case: Case) -> list[Actor]:
    """Registered actors with their current keys (``exhibit custody verify`` checks that each
    rotation is signed by the key it replaces and by the new one)."""
    return list(_replay(case.ledger.entries(kinds=list(KEY_KINDS))).values())


KEY_KINDS = ("actor.add", "actor.rotate", "actor.revoke")


def _replay(entries: Iterable[StoredEntry]) -> dict[str, Actor]:
    """Actors from ``actor.add``, ``actor.rotate`` and ``actor.revoke`` entries in ledger order."""
    found: dict[str, Actor] = {}
    for entry in entries:
        data = entry.data
        actor_id = str(data.get("id"))
        current = found.get(actor_id)
        if entry.kind == "actor.add":
            if current is None:
                found[actor_id] = replace(_actor(entry), key_seq=entry.seq)
        elif current is None or current.revoked_seq is not None:
            continue
        elif entry.kind == "actor.rotate" and data.get("previous_key") == current.public_key:
            found[actor_id] = replace(current, public_key=str(data.get("public_key")), key_seq=entry.seq)
        elif entry.kind == "actor.revoke" and data.get("public_key") == current.public_key:
            effective = data.get("effective") or {}
            found[actor_id] = replace(
                current, revoked_seq=entry.seq, revoked_from=str(effective.get("utc") or entry.recorded_utc)
            )
    return found


def _refuse_shared_key(actor_id: str, public_key: str, registered: Iterable[Actor]) -> None:
    """One key, one person: a key registered under two IDs would let its holder sign both sides
    of a transfer (verify reports such a ledger as DUPLICATE_KEY)."""
    for other in registered:
        if other.public_key == public_key and other.id != actor_id:
            raise ActorError(
                f"the key of {actor_id!r} is already registered for actor {other.id!r} "
                f"(entry {other.registered_seq}): one key cannot stand for two people",
                hint=f"if {actor_id!r} is another person, move {keys.key_path(actor_id)} away "
                "and run 'exhibit actor add' again to create their own key",
            )


def get_actor(case: Case, actor_id: str) -> Actor:
    for actor in list_actors(case):
        if actor.id == actor_id:
            return actor
    raise ActorError(
        f"actor {actor_id!r} is not registered in case {case.identity.case_number}",
        hint=f"register them with 'exhibit actor add {actor_id} --name ... --role ...'",
    )


def add_actor(
    case: Case, actor_id: str, *, name: str, role: str, org: str | None = None, passphrase: str | None = None
) -> tuple[Actor, StoredEntry, bool]:
    """Create (or reuse) the actor's key pair and record the public key in a self-signed entry.

    The entry is signed by the new key itself: proof that whoever registered the key holds it.
    """
    keys.check_actor_id(actor_id)
    if not ROLE.match(role):
        raise ActorError(
            f"invalid role {role!r}", hint=f"use a lower-case word such as {', '.join(KNOWN_ROLES)}"
        )
    if not name.strip():
        raise ActorError("the actor's full name is empty", hint='pass --name "Full Name"')
    if any(a.id == actor_id for a in list_actors(case)):
        raise ActorError(
            f"actor {actor_id!r} is already registered in this case",
            hint="choose another ID for a new person; 'exhibit actor list' shows who is registered",
        )
    key, created = keys.create_or_load_key(actor_id, passphrase)
    public_key = keys.public_hex(key)
    _refuse_shared_key(actor_id, public_key, list_actors(case))
    data = {
        "id": actor_id,
        "name": name,
        "role": role,
        "org": org,
        "public_key": public_key,
        "algorithm": "ed25519",
    }

    def precheck(session: Session) -> None:
        # Re-checked under the ledger lock: two concurrent registrations cannot both pass.
        registered = entries_in(session, kinds=["actor.add"])
        if any(e.data.get("id") == actor_id for e in registered):
            raise ActorError(
                f"actor {actor_id!r} is already registered in this case",
                hint="choose another ID for a new person; 'exhibit actor list' shows who is registered",
            )
        _refuse_shared_key(actor_id, public_key, [_actor(e) for e in registered])

    [entry] = case.ledger.append(
        [Draft(kind="actor.add", actor=actor_id, data=data)],
        {actor_id: key},
        checkpoint_signer=actor_id,
        precheck=precheck,
    )
    actor = Actor(actor_id, name, role, org, data["public_key"] or "", entry.seq)
    return actor, entry, created


PassphrasePrompt = Callable[[str], str | None]


def signing_keys(
    case: Case, actor_ids: Iterable[str], prompt: PassphrasePrompt = keys.env_passphrase
) -> dict[str, Ed25519PrivateKey]:
    """Load the private keys of registered actors and check each matches the recorded public key."""
    registered = {a.id: a for a in list_actors(case)}
    loaded: dict[str, Ed25519PrivateKey] = {}
    for actor_id in dict.fromkeys(actor_ids):
        if actor_id not in registered:
            raise ActorError(
                f"actor {actor_id!r} is not registered in case {case.identity.case_number}",
                hint=f"register them with 'exhibit actor add {actor_id} --name ... --role ...'",
            )
        if registered[actor_id].revoked_seq is not None:
            raise ActorError(
                f"the key of actor {actor_id!r} was revoked (entry {registered[actor_id].revoked_seq})",
                hint="a revoked actor signs nothing more: register the person again under a new ID",
            )
        key = keys.load_private_key(actor_id, prompt)
        if keys.public_hex(key) != registered[actor_id].public_key:
            raise ActorError(
                f"the private key of {actor_id!r} on this machine does not match the key recorded in the case",
                hint="use the key this actor was registered with (EXHIBIT_CONFIG_DIR)",
            )
        loaded[actor_id] = key
    return loaded


def rotate_key(case: Case, actor_id: str, passphrase: str | None = None) -> tuple[Actor, StoredEntry, Path]:
    """Give ``actor_id`` a new key pair: an ``actor.rotate`` entry signed by the old key, carrying
    the new public key and the new key's signature over :func:`keys.rotation_message` (proof that
    the person holds it). Entries signed before keep verifying with the old key.

    The new private key is written beside the old one first (``<id>.pem.new``); once the entry is
    recorded the old file is kept as ``<id>.<first 16 hex of its public key>.retired.pem`` and the
    new one takes its place. Returns the actor as now registered, the entry and the retired file.
    """
    current = get_actor(case, actor_id)
    old_key = signing_keys(case, [actor_id], lambda _a: passphrase or keys.env_passphrase(_a))[actor_id]
    new_key = Ed25519PrivateKey.generate()
    new_public = keys.public_hex(new_key)
    _refuse_shared_key(actor_id, new_public, list_actors(case))
    path = keys.key_path(actor_id)
    staged = path.with_name(path.name + ".new")
    retired = path.with_name(f"{actor_id}.{current.public_key[:16]}.retired.pem")
    if staged.exists() or retired.exists():
        raise ActorError(
            f"{staged if staged.exists() else retired} is in the way of a key rotation",
            hint="an earlier rotation was interrupted: check the ledger ('exhibit actor list') and move it away",
        )
    keys.write_key(staged, new_key, passphrase or keys.env_passphrase(actor_id))
    proof = new_key.sign(
        keys.rotation_message(case.ledger.ledger_id, actor_id, current.public_key, new_public)
    ).hex()
    data = {
        "id": actor_id,
        "previous_key": current.public_key,
        "public_key": new_public,
        "algorithm": "ed25519",
        "proof": proof,
    }

    def precheck(session: Session) -> None:
        # under the ledger lock: the key being replaced is still the actor's current one
        now = _replay(entries_in(session, kinds=list(KEY_KINDS))).get(actor_id)
        if now is None or now.public_key != current.public_key or now.revoked_seq is not None:
            raise ActorError(f"the key of {actor_id!r} changed meanwhile", hint="run the command again")

    try:
        [entry] = case.ledger.append(
            [Draft(kind="actor.rotate", actor=actor_id, data=data)],
            {actor_id: old_key},
            checkpoint_signer=actor_id,
            checkpoint_key=new_key,  # the checkpoint closes the rotation: the new key is in force
            precheck=precheck,
        )
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    os.replace(path, retired)
    os.replace(staged, path)
    return replace(current, public_key=new_public, key_seq=entry.seq), entry, retired


def revoke_key(
    case: Case, actor_id: str, *, by: str, reason: str, effective: Stamp | None = None
) -> tuple[Actor, StoredEntry]:
    """Record that ``actor_id``'s current key must no longer be trusted from ``effective`` (default:
    now), e.g. because it was lost or stolen. Recorded and signed by ``by`` (the actor themselves or
    anyone registered). ``exhibit custody verify`` flags every entry signed with that key and
    recorded from ``effective`` on (KEY_REVOKED); the actor signs nothing more."""
    current = get_actor(case, actor_id)
    if current.revoked_seq is not None:
        raise ActorError(f"the key of {actor_id!r} is already revoked (entry {current.revoked_seq})")
    if not reason.strip():
        raise ActorError("a revocation needs a reason", hint='e.g. --reason "laptop stolen on 2026-03-02"')
    now = timefmt.stamp()
    when = effective or now
    if timefmt.parse_utc(when.utc) > timefmt.parse_utc(now.utc):
        raise ActorError(
            "a revocation cannot take effect in the future", hint="leave --from out to revoke now"
        )
    data = {
        "id": actor_id,
        "public_key": current.public_key,
        "effective": when.as_dict(),
        "reason": reason,
    }
    signer = signing_keys(case, [by])
    [entry] = case.ledger.append(
        [Draft(kind="actor.revoke", actor=by, data=data)], signer, checkpoint_signer=by
    )
    return replace(current, revoked_seq=entry.seq, revoked_from=when.utc), entry
