"""Build iTunes/Finder backup folders for tests, plain or encrypted, from Apple's published format.

No real iTunes backup may be redistributed (the corpus README says so), so the tests build their
own: these follow the format as Apple's tools write it and as the open-source readers document it
(iphone-dataprotection, iphone_backup_decrypt, libimobiledevice), *not* a backup of a real device.

Layout of a backup folder (iOS 10 and later)::

    Manifest.db       SQLite: Files(fileID, domain, relativePath, flags, file), Properties(key, value)
    Manifest.plist    BackupKeyBag, IsEncrypted, ManifestKey (encrypted backups), Version, Date ...
    Info.plist        the device: name, product type, iOS version, serial, last backup date
    Status.plist      IsFullBackup, Version, UUID, Date, SnapshotState
    ab/ab12...ef      each file, named by its fileID = SHA-1 of "domain-relativePath", in the
                      sub-folder named by the fileID's first two hex digits

``flags`` is 1 for a file, 2 for a directory, 4 for a symbolic link. ``file`` is an
NSKeyedArchiver binary plist of an ``MBFile`` (Size, LastModified, Birth, LastStatusChange, Mode,
UserID, GroupID, InodeNumber, ProtectionClass, Flags, RelativePath, Target, EncryptionKey).

Encryption (this module implements the *encrypting* side, so the tests prove decryption of known
plaintext): the keybag in Manifest.plist is TLV (4-byte tag, 4-byte big-endian length, value):
VERS, TYPE, UUID, HMCK, WRAP, SALT, ITER, DPWT, DPIC, DPSL, then per protection class UUID, CLAS,
WRAP, KTYP, WPKY. The password key is PBKDF2-HMAC-SHA1(PBKDF2-HMAC-SHA256(password, DPSL, DPIC),
SALT, ITER); each class key is RFC 3394-wrapped with it (WPKY). ManifestKey is the protection class
(4 bytes, little-endian) and the RFC 3394-wrapped key of Manifest.db, which is AES-256-CBC with a
zero IV and PKCS#7 padding. Each file has its own key, wrapped with its class key and stored in its
MBFile as EncryptionKey (NS.data: class, little-endian, then the 40-byte wrapped key); the file is
AES-256-CBC, zero IV, PKCS#7 padded. Real backups use DPIC 10,000,000 and ITER 10,000; the tests
use small counts so they run in milliseconds.
"""

from __future__ import annotations

import hashlib
import plistlib
import random
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

FILE, DIRECTORY, SYMLINK = 1, 2, 4
WHATSAPP_DOMAIN = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
BACKUP_TIME = datetime(2026, 1, 2, 3, 4, 5)  # plists store UTC; plistlib wants it naive
#: LastModified of every fixture file: 2025-06-01T12:00:00Z
MTIME = 1_748_779_200
BIRTH = 1_700_000_000
CHANGED = 1_748_779_300
PROTECTION_CLASS = 3  # NSFileProtectionCompleteUntilFirstUserAuthentication, the usual one
MANIFEST_CLASS = 4


def file_id(domain: str, relative_path: str) -> str:
    """The name a backup gives a file: SHA-1 of ``domain-relativePath``."""
    return hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()


@dataclass
class Row:
    """One row of Manifest.db's Files table, and the content of its hashed file (files only).

    ``content=None`` with ``flags=FILE`` writes the row but no hashed file (an incomplete backup).
    ``raw_file_id`` / ``raw_domain`` / ``raw_path`` override what is written, for hostile rows.
    """

    domain: str
    relative_path: str
    flags: int = FILE
    content: bytes | None = b""
    target: str | None = None  # symbolic links
    mode: int | None = None
    size: int | None = None  # MBFile Size when it must differ from the content's length
    mbfile: bytes | bool | None = True  # True: built; None: SQL NULL; bytes: written as they are
    raw_file_id: object = None
    raw_domain: object = None
    raw_path: object = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def file_id(self) -> str:
        if isinstance(self.raw_file_id, str):
            return self.raw_file_id
        return file_id(self.domain, self.relative_path)


def mbfile(
    *,
    relative_path: str,
    size: int,
    mode: int,
    target: str | None = None,
    encryption_key: bytes | None = None,
    protection_class: int = PROTECTION_CLASS,
) -> bytes:
    """An ``MBFile`` archived by NSKeyedArchiver, as a binary plist (the ``file`` column)."""
    uid = plistlib.UID
    objects: list[object] = ["$null"]
    root: dict[str, object] = {
        "Size": size,
        "LastModified": MTIME,
        "Birth": BIRTH,
        "LastStatusChange": CHANGED,
        "Mode": mode,
        "UserID": 501,
        "GroupID": 501,
        "InodeNumber": 123456,
        "ProtectionClass": protection_class,
        "Flags": 0,
    }
    objects.append(root)
    objects.append(relative_path)
    root["RelativePath"] = uid(2)
    if target is not None:
        objects.append(target)
        root["Target"] = uid(len(objects) - 1)
    if encryption_key is not None:
        objects.append({"NS.data": encryption_key, "$class": uid(len(objects) + 1)})
        root["EncryptionKey"] = uid(len(objects) - 1)
        objects.append({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]})
    objects.append({"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]})
    root["$class"] = uid(len(objects) - 1)
    archive = {
        "$version": 100000,
        "$archiver": "NSKeyedArchiver",
        "$top": {"root": uid(1)},
        "$objects": objects,
    }
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


def _aes_cbc_encrypt(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(b"\0" * 16)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


@dataclass
class Keys:
    """What encrypting a backup needs: the class keys and a seeded source of key bytes."""

    rng: random.Random
    class_keys: dict[int, bytes]
    keybag: bytes


def _tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">I", value) if isinstance(value, int) else value
    return tag + struct.pack(">I", len(data)) + data


def make_keybag(password: str, rng: random.Random, *, dpic: int = 1000, iterations: int = 100) -> Keys:
    """A backup keybag (TYPE 1) whose class keys 1-11 are wrapped by ``password``'s key."""
    dpsl, salt = rng.randbytes(20), rng.randbytes(20)
    round1 = hashlib.pbkdf2_hmac("sha256", password.encode(), dpsl, dpic, 32)
    password_key = hashlib.pbkdf2_hmac("sha1", round1, salt, iterations, 32)
    blob = b"".join(
        [
            _tlv(b"VERS", 4),
            _tlv(b"TYPE", 1),
            _tlv(b"UUID", rng.randbytes(16)),
            _tlv(b"HMCK", rng.randbytes(40)),
            _tlv(b"WRAP", 0),
            _tlv(b"SALT", salt),
            _tlv(b"ITER", iterations),
            _tlv(b"DPWT", 1),
            _tlv(b"DPIC", dpic),
            _tlv(b"DPSL", dpsl),
        ]
    )
    class_keys: dict[int, bytes] = {}
    for clas in range(1, 12):
        key = rng.randbytes(32)
        class_keys[clas] = key
        blob += b"".join(
            [
                _tlv(b"UUID", rng.randbytes(16)),
                _tlv(b"CLAS", clas),
                _tlv(b"WRAP", 2),  # wrapped by the password key (1 would be the device key)
                _tlv(b"KTYP", 0),
                _tlv(b"WPKY", aes_key_wrap(password_key, key)),
            ]
        )
    return Keys(rng, class_keys, blob)


def make_backup(
    root: Path,
    rows: list[Row],
    *,
    password: str | None = None,
    flat: bool = False,
    seed: int = 8,
    dpic: int = 1000,
    iterations: int = 100,
) -> Path:
    """Write a backup folder at ``root`` holding ``rows``; encrypted when ``password`` is given.

    ``flat`` puts hashed files at the top (``<fileID>``), as old backups did, instead of
    ``<fileID[:2]>/<fileID>``. Returns ``root``.
    """
    root.mkdir(parents=True)
    rng = random.Random(seed)
    keys = make_keybag(password, rng, dpic=dpic, iterations=iterations) if password is not None else None
    db_path = root / "Manifest.db"
    con = sqlite3.connect(db_path)
    con.executescript(
        "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, "
        "file BLOB);"
        "CREATE INDEX FilesDomainIdx ON Files(domain);"
        "CREATE INDEX FilesRelativePathIdx ON Files(relativePath);"
        "CREATE INDEX FilesFlagsIdx ON Files(flags);"
        "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);"
    )
    for row in rows:
        content = row.content if row.flags == FILE else None
        size = row.size if row.size is not None else len(content or b"")
        mode = row.mode or {FILE: 0o100644, DIRECTORY: 0o40755, SYMLINK: 0o120755}.get(row.flags, 0o100644)
        stored = content
        wrapped: bytes | None = None
        if keys is not None and row.flags == FILE:
            key = keys.rng.randbytes(32)
            wrapped = struct.pack("<I", PROTECTION_CLASS) + aes_key_wrap(
                keys.class_keys[PROTECTION_CLASS], key
            )
            if content is not None:
                stored = _aes_cbc_encrypt(key, content)
        blob: object
        if row.mbfile is True:
            blob = mbfile(
                relative_path=row.relative_path,
                size=size,
                mode=mode,
                target=row.target,
                encryption_key=wrapped,
            )
        else:
            blob = row.mbfile
        con.execute(
            "INSERT INTO Files VALUES (?, ?, ?, ?, ?)",
            (
                row.raw_file_id if row.raw_file_id is not None else row.file_id,
                row.raw_domain if row.raw_domain is not None else row.domain,
                row.raw_path if row.raw_path is not None else row.relative_path,
                row.flags,
                blob,
            ),
        )
        if stored is not None:
            fid = row.file_id
            target = root / fid if flat else root / fid[:2] / fid
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(stored)
    con.commit()
    con.close()
    manifest: dict[str, object] = {
        "Version": "10.0",
        "Date": BACKUP_TIME,
        "SystemDomainsVersion": "24.0",
        "WasPasscodeSet": False,
        "IsEncrypted": keys is not None,
        "Lockdown": {"ProductVersion": "15.0", "ProductType": "iPhone14,2", "DeviceName": "Test iPhone"},
        "Applications": {},
    }
    if keys is not None:
        manifest_key = keys.rng.randbytes(32)
        manifest["BackupKeyBag"] = keys.keybag
        manifest["ManifestKey"] = struct.pack("<I", MANIFEST_CLASS) + aes_key_wrap(
            keys.class_keys[MANIFEST_CLASS], manifest_key
        )
        db_path.write_bytes(_aes_cbc_encrypt(manifest_key, db_path.read_bytes()))
    (root / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    info = {
        "Device Name": "Test iPhone",
        "Display Name": "Test iPhone",
        "Product Type": "iPhone14,2",
        "Product Version": "15.0",
        "Serial Number": "F00TESTFIXTURE",
        "Unique Identifier": "00008110-000000000000TEST",
        "Last Backup Date": BACKUP_TIME,
    }
    (root / "Info.plist").write_bytes(plistlib.dumps(info))
    status = {
        "IsFullBackup": False,
        "Version": "3.3",
        "UUID": "7E5F0D3C-0000-4000-8000-000000000008",
        "Date": BACKUP_TIME,
        "BackupState": "new",
        "SnapshotState": "finished",
    }
    (root / "Status.plist").write_bytes(plistlib.dumps(status, fmt=plistlib.FMT_BINARY))
    return root


def standard_rows(whatsapp: bytes, sms: bytes) -> list[Row]:
    """A small phone: domain roots, folders, the WhatsApp and SMS databases, a note and a link."""
    return [
        Row("HomeDomain", "", DIRECTORY),
        Row("HomeDomain", "Library", DIRECTORY),
        Row("HomeDomain", "Library/SMS", DIRECTORY),
        Row("HomeDomain", "Library/SMS/sms.db", FILE, sms),
        Row("HomeDomain", "Library/Notes/readme.txt", FILE, b"meet at pier 7\n"),
        Row("HomeDomain", "Library/Preferences/link", SYMLINK, None, target="/var/mobile/elsewhere"),
        Row(WHATSAPP_DOMAIN, "", DIRECTORY),
        Row(WHATSAPP_DOMAIN, "ChatStorage.sqlite", FILE, whatsapp),
        Row("CameraRollDomain", "Media/DCIM/100APPLE/empty.txt", FILE, b""),
    ]
