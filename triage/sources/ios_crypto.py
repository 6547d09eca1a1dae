"""Decrypting an encrypted iTunes/Finder backup: the keybag, the password, the keys, the files.

The format (iOS 10.2 and later; published by Apple's security guide as "keybags" and documented
byte for byte by iphone-dataprotection, BSD-3-Clause, and the readers built on it):

* ``Manifest.plist`` holds ``IsEncrypted``, ``BackupKeyBag`` and ``ManifestKey``;
* the keybag is TLV (4-byte tag, 4-byte big-endian length, value). Before the second ``UUID`` come
  the keybag's own attributes (``VERS TYPE UUID HMCK WRAP SALT ITER DPWT DPIC DPSL``); each further
  ``UUID`` starts a protection class (``CLAS WRAP KTYP WPKY``);
* the password key is ``PBKDF2-HMAC-SHA1(PBKDF2-HMAC-SHA256(password, DPSL, DPIC), SALT, ITER)``,
  32 bytes (before iOS 10.2 there is no DPSL/DPIC: the SHA-1 round alone, on the password);
* each class whose ``WRAP`` has bit 2 ("wrapped by the password") has its 32-byte key
  ``WPKY`` wrapped by the password key with AES key wrap (RFC 3394): a wrong password fails the
  wrap's integrity check, which is how it is recognised;
* ``ManifestKey`` and each file's ``EncryptionKey`` (in its MBFile record in Manifest.db) are a
  protection class (4 bytes, little-endian) and a 40-byte key wrapped by that class's key;
* Manifest.db and every file are AES-256-CBC with a zero IV, PKCS#7 padded.

Library or our own code: we evaluated ``iphone_backup_decrypt`` (MIT, pure Python; 0.11.2 installs
here with pip, pulling in pycryptodome). It does the same steps, and its iteration-count limits are
a good idea we copy. We do not use it because: it decrypts files to disk or whole into memory, while
a source must stream (a 4 GB video must not sit in memory, and decrypted evidence should not sit
on disk longer than needed); it prints to stdout on size mismatches (``exhibit cat`` writes the
file's bytes to stdout); its keybag parser turns *any* 4-byte value into an integer, and it would
add pycryptodome beside the ``cryptography`` package Exhibit already depends on for the ledger.
What is left is about 150 lines on ``cryptography``'s AES, AES key unwrap and ``hashlib``'s PBKDF2
(both OpenSSL), tested against backups the tests encrypt themselves (tests/ios_backups.py).

The password is used once, to derive the password key, and never kept; neither it nor any key is
ever put in a message or an exception.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

#: ``WRAP`` bit of a class key wrapped by the password key (bit 1 is the device's UID key).
WRAP_PASSWORD = 2
#: Largest iteration counts accepted. Real backups use DPIC 10,000,000 and ITER 10,000; a forged
#: keybag asking for billions would keep a run busy for hours before saying anything.
MAX_DPIC = 100_000_000
MAX_ITER = 10_000_000
_INT_TAGS = frozenset({b"VERS", b"TYPE", b"WRAP", b"ITER", b"DPWT", b"DPIC", b"CLAS", b"KTYP"})
_CLASS_TAGS = frozenset({b"CLAS", b"WRAP", b"WPKY", b"KTYP", b"PBKY"})
_BLOCK = 16


class Undecryptable(ValueError):
    """The keybag, a wrapped key or an encrypted file is malformed (never the password's fault)."""


class WrongKey(Exception):
    """An AES key unwrap failed its integrity check: the password (or the key above) is wrong."""


@dataclass
class Keybag:
    """A parsed backup keybag: its own attributes and its protection classes by number."""

    attrs: dict[bytes, bytes | int] = field(default_factory=dict)
    classes: dict[int, dict[bytes, bytes | int]] = field(default_factory=dict)


def parse_keybag(blob: bytes) -> Keybag:
    """Parse the TLV of ``BackupKeyBag``; :class:`Undecryptable` when it is not one."""
    bag = Keybag()
    current: dict[bytes, bytes | int] | None = None
    seen_uuid = False
    pos = 0
    while pos < len(blob):
        if pos + 8 > len(blob):
            raise Undecryptable(f"keybag cut short at byte {pos}")
        tag = blob[pos : pos + 4]
        (length,) = struct.unpack(">I", blob[pos + 4 : pos + 8])
        raw = blob[pos + 8 : pos + 8 + length]
        if len(raw) != length:
            raise Undecryptable(f"keybag field {tag!r} at byte {pos} runs past the end")
        pos += 8 + length
        value: bytes | int = raw
        if tag in _INT_TAGS:
            if length != 4:
                raise Undecryptable(f"keybag field {tag!r} has {length} bytes, not 4")
            value = struct.unpack(">I", raw)[0]
        if tag == b"UUID" and seen_uuid:
            if current is not None:
                _add_class(bag, current)
            current = {b"UUID": value}
            continue
        if tag == b"UUID":
            seen_uuid = True
        if current is None:
            bag.attrs[tag] = value
        elif tag in _CLASS_TAGS:
            current[tag] = value
        else:
            raise Undecryptable(f"keybag field {tag!r} inside a protection class")
    if current is not None:
        _add_class(bag, current)
    if not bag.classes:
        raise Undecryptable("keybag has no protection classes")
    return bag


def _add_class(bag: Keybag, entry: dict[bytes, bytes | int]) -> None:
    clas = entry.get(b"CLAS")
    if not isinstance(clas, int):
        raise Undecryptable("keybag protection class without a CLAS number")
    bag.classes[clas] = entry


def _count(bag: Keybag, tag: bytes, limit: int) -> int:
    value = bag.attrs.get(tag)
    if not isinstance(value, int) or not 1 <= value <= limit:
        raise Undecryptable(f"keybag {tag.decode()} iteration count {value!r} is not between 1 and {limit}")
    return value


def _salt(bag: Keybag, tag: bytes) -> bytes:
    value = bag.attrs.get(tag)
    if not isinstance(value, bytes) or not value:
        raise Undecryptable(f"keybag has no {tag.decode()} salt")
    return value


def unlock(bag: Keybag, password: str) -> dict[int, bytes]:
    """The class keys ``password`` unwraps, by class number.

    Raises :class:`WrongKey` when the password does not open the keybag, :class:`Undecryptable`
    when the keybag is malformed (no salt, absurd iteration counts, no class wrapped by a password).
    """
    secret = password.encode("utf-8")
    if b"DPSL" in bag.attrs:  # iOS 10.2 and later: a SHA-256 round first
        secret = hashlib.pbkdf2_hmac(
            "sha256", secret, _salt(bag, b"DPSL"), _count(bag, b"DPIC", MAX_DPIC), 32
        )
    key = hashlib.pbkdf2_hmac("sha1", secret, _salt(bag, b"SALT"), _count(bag, b"ITER", MAX_ITER), 32)
    del secret
    class_keys: dict[int, bytes] = {}
    for clas, entry in bag.classes.items():
        wrapped, wrap = entry.get(b"WPKY"), entry.get(b"WRAP", 0)
        if not isinstance(wrapped, bytes) or not isinstance(wrap, int) or not wrap & WRAP_PASSWORD:
            continue
        class_keys[clas] = _unwrap(key, wrapped)
    if not class_keys:
        raise Undecryptable("no protection class of the keybag is wrapped by the backup password")
    return class_keys


def _unwrap(kek: bytes, wrapped: bytes) -> bytes:
    try:
        return aes_key_unwrap(kek, wrapped)
    except InvalidUnwrap:
        raise WrongKey("AES key unwrap failed its integrity check") from None
    except ValueError as exc:  # wrong length of the wrapped key
        raise Undecryptable(f"malformed wrapped key ({len(wrapped)} bytes): {exc}") from None


def unwrap_key(class_keys: dict[int, bytes], stored: bytes, protection_class: int | None = None) -> bytes:
    """The AES key of ``stored`` (4-byte little-endian class, then the 40-byte wrapped key).

    ``protection_class`` (an MBFile's ``ProtectionClass``) wins over the stored class when given.
    """
    if len(stored) < 4 + 24:
        raise Undecryptable(f"wrapped key of {len(stored)} bytes is too short")
    clas = protection_class if protection_class is not None else struct.unpack("<I", stored[:4])[0]
    class_key = class_keys.get(clas)
    if class_key is None:
        raise Undecryptable(f"protection class {clas} has no key in the keybag")
    return _unwrap(class_key, stored[4:])


@dataclass(frozen=True)
class Decrypted:
    """What :func:`decrypt_cbc` found at the end of a file."""

    length: int  # plaintext bytes produced
    padding_ok: bool  # PKCS#7 padding found and removed (or no padding expected)


def decrypt_cbc(
    chunks: Iterable[bytes], key: bytes, *, unpadded_length: int | None = None
) -> Generator[bytes, None, Decrypted]:
    """Decrypt AES-256-CBC (zero IV) ``chunks`` as they come; returns how it ended.

    The last block is held back until the end, where valid PKCS#7 padding is removed. When
    ``unpadded_length`` equals the ciphertext's length the data was not padded and the last block
    is kept whole. Invalid padding (a damaged file) keeps the last block whole too, and says so in
    the result: decrypted bytes are never dropped silently. Raises :class:`Undecryptable` when the
    ciphertext is not a whole number of blocks (a truncated file).
    """
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(_BLOCK))).decryptor()
    held = b""
    seen = produced = 0
    for chunk in chunks:
        seen += len(chunk)
        plain = held + decryptor.update(chunk)
        if len(plain) > _BLOCK:
            out, held = plain[:-_BLOCK], plain[-_BLOCK:]
            produced += len(out)
            yield out
        else:
            held = plain
    try:
        held += decryptor.finalize()
    except ValueError:
        raise Undecryptable(
            f"{seen} encrypted bytes are not a whole number of 16-byte AES blocks (the file is cut short)"
        ) from None
    padding_ok = True
    if unpadded_length is None or unpadded_length != seen:
        n = held[-1] if held else 0
        if 1 <= n <= _BLOCK and held.endswith(bytes([n]) * n):
            held = held[:-n]
        else:
            padding_ok = False
    if held:
        yield held
    return Decrypted(produced + len(held), padding_ok)
