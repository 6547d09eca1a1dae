"""Actors' Ed25519 signing keys, kept in the user's config folder.

The private key never enters the ledger: only the public key is recorded (in the signed
``actor.add`` entry), so anyone can check a signature but only the key holder can make one.
Keys are per person, not per case: adding the same actor ID to a second case reuses the key.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import rfc8785
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custody.errors import ActorError

ACTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PASSPHRASE_ENV = "EXHIBIT_KEY_PASSPHRASE"

PassphraseSource = Callable[[str], str | None]
MAX_KEY_BYTES = 16 * 1024  # an Ed25519 PKCS#8 PEM is under 300 bytes, encrypted under 1 KiB


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
    if path.exists() or path.is_symlink():
        return load_private_key(actor_id, lambda _a: passphrase), False
    key = Ed25519PrivateKey.generate()
    write_key(path, key, passphrase)
    return key, True


def write_key(path: Path, key: Ed25519PrivateKey, passphrase: str | None) -> None:
    """Write ``key`` as PKCS#8 PEM to a new file ``path`` (mode 0600; refused if it exists)."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        path.unlink(missing_ok=True)  # a truncated key would later read as "damaged"
        raise


ROTATION_PREFIX = b"EXHIBIT-KEY-ROTATE-V1\x00"


def rotation_message(ledger_id: str, actor_id: str, previous_key: str, public_key: str) -> bytes:
    """What the NEW key signs in an ``actor.rotate`` entry (docs/custody.md, "Actor keys"): the
    prefix, then the RFC 8785 form of ``{"id", "ledger", "previous_key", "public_key"}``."""
    body = {"id": actor_id, "ledger": ledger_id, "previous_key": previous_key, "public_key": public_key}
    return ROTATION_PREFIX + rfc8785.dumps(body)


def read_key_file(path: Path) -> bytes:
    """The bytes of a private key file, refused (as ssh does) when others could read or replace it.

    Opened without blocking and checked before reading: a FIFO would hang a plain ``open`` and a
    device such as ``/dev/zero`` would never end, so anything but a regular file is refused and
    at most :data:`MAX_KEY_BYTES` are read.
    """
    folder = path.parent
    try:
        folder_mode = folder.stat().st_mode
    except FileNotFoundError:
        raise  # the caller says whose key is missing
    except OSError as exc:
        raise ActorError(
            f"cannot read the keys folder {folder}: {exc.strerror}",
            hint="EXHIBIT_CONFIG_DIR (default ~/.config/exhibit) must name a folder: the signing keys are kept in it",
        ) from None
    if folder_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ActorError(
            f"the keys folder {folder} is writable by other users, who could replace a key",
            hint=f"chmod 700 '{folder}'",
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ActorError(f"cannot read the private key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ActorError(
                f"the private key path {path} is not a regular file",
                hint="it must be the PEM file 'exhibit actor add' wrote; move whatever is there away",
            )
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ActorError(
                f"the private key file {path} is accessible by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); a private key must be readable only by you",
                hint=f"chmod 600 '{path}'",
            )
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_KEY_BYTES:
            chunk = os.read(fd, MAX_KEY_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ActorError(f"cannot read the private key file {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > MAX_KEY_BYTES:
        raise ActorError(
            f"{path} is larger than {MAX_KEY_BYTES} bytes: not a private key file",
            hint="it must be the PEM file 'exhibit actor add' wrote",
        )
    return b"".join(chunks)


def load_private_key(actor_id: str, passphrase: PassphraseSource = env_passphrase) -> Ed25519PrivateKey:
    path = key_path(actor_id)
    try:
        pem = read_key_file(path)
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
    except UnsupportedAlgorithm:
        raise ActorError(f"{path} is not an Ed25519 key") from None
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
