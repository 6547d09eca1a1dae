"""People who record entries: registering them and loading their signing keys."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection

from custody import keys
from custody.case import Case
from custody.errors import ActorError
from custody.ledger import Draft, StoredEntry, entries_in

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
    id: str
    name: str
    role: str
    org: str | None
    public_key: str
    registered_seq: int

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


def list_actors(case: Case) -> list[Actor]:
    found: dict[str, Actor] = {}
    for entry in case.ledger.entries(kinds=["actor.add"]):
        actor = _actor(entry)
        found.setdefault(actor.id, actor)
    return list(found.values())


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
        raise ActorError(f"actor {actor_id!r} is already registered in this case")
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

    def precheck(conn: Connection) -> None:
        # Re-checked under the ledger lock: two concurrent registrations cannot both pass.
        registered = entries_in(conn, kinds=["actor.add"])
        if any(e.data.get("id") == actor_id for e in registered):
            raise ActorError(f"actor {actor_id!r} is already registered in this case")
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
        key = keys.load_private_key(actor_id, prompt)
        if keys.public_hex(key) != registered[actor_id].public_key:
            raise ActorError(
                f"the private key of {actor_id!r} on this machine does not match the key recorded in the case",
                hint="use the key this actor was registered with (EXHIBIT_CONFIG_DIR)",
            )
        loaded[actor_id] = key
    return loaded
