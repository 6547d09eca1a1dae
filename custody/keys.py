"""Actors' Ed25519 signing keys, kept in the user's config folder.

The private key never enters the ledger: only the public key is recorded (in the signed
``actor.add`` entry), so anyone can check a signature but only the key holder can make one.
Keys are per person, not per case: adding the same actor ID to a second case reuses the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custody.errors import ActorError

ACTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PASSPHRASE_ENV = "EXHIBIT_KEY_PASSPHRASE"

PassphraseSource = Callable[[str], str | None]


def config_dir() -> Path:
    """``$EXHIBIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/exhibit``, else ``~/.config/exhibit``."""
    explicit = os.environ.get("EXHIBIT_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "exhibit"


def key_path(actor_id: str) -> Path:
    check_actor_id(actor_id)
    return config_dir() / "keys" / f"{actor_id}.pem"


def check_actor_id(actor_id: str) -> None:
    if not ACTOR_ID.match(actor_id):
        raise ActorError(
            f"invalid actor ID {actor_id!r}",
            hint="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )


def env_passphrase(_actor_id: str) -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None


def create_or_load_key(actor_id: str, passphrase: str | None) -> tuple[Ed25519PrivateKey, bool]:
    """Return the actor's key, creating it (mode 0600) if absent; the bool says if it was created."""
    path = key_path(actor_id)
    if path.exists():
        return load_private_key(actor_id, lambda _a: passphrase), False
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key, True


def load_private_key(actor_id: str, passphrase: PassphraseSource = env_passphrase) -> Ed25519PrivateKey:
    path = key_path(actor_id)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise ActorError(
            f"no private key for actor {actor_id!r} at {path}",
            hint=f"run 'exhibit actor add {actor_id} ...' on this machine, or set EXHIBIT_CONFIG_DIR",
        ) from None
    encrypted = b"ENCRYPTED" in pem
    secret = passphrase(actor_id) if encrypted else None
    if encrypted and not secret:
        raise ActorError(
            f"the private key of {actor_id!r} is protected by a passphrase",
            hint=f"set ${PASSPHRASE_ENV} or run the command in a terminal to be asked for it",
        )
    try:
        key = serialization.load_pem_private_key(pem, password=secret.encode() if secret else None)
    except (ValueError, TypeError):
        raise ActorError(
            f"cannot unlock the private key of {actor_id!r}: wrong passphrase or damaged key file {path}",
            hint=f"check ${PASSPHRASE_ENV}",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ActorError(f"{path} is not an Ed25519 key")
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def verify_signature(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(
            bytes.fromhex(signature_hex), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True
