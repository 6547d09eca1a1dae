"""iTunes/Finder backups of an iPhone or iPad, listed under the phone's own paths.

A backup folder (kind ``ios-backup``, decided at acquisition by :func:`custody.media.detect_source`)
stores each file under a hash: ``3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28`` is the SHA-1 of
``HomeDomain-Library/SMS/sms.db``. ``Manifest.db`` says which is which, in its table
``Files(fileID, domain, relativePath, flags, file)``: ``flags`` 1 is a file, 2 a directory, 4 a
symbolic link, and ``file`` is the file's metadata, an ``MBFile`` archived by NSKeyedArchiver.

Entries are presented as ``/<domain>/<relativePath>`` (``/HomeDomain/Library/SMS/sms.db``,
``/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite``), so plugins and
listings see the paths they know; directories the manifest only implies are listed too.
``fs_type`` is ``"ios-backup"``, ``inode`` is ``None``. Size, modification (``LastModified``),
change (``LastStatusChange``) and birth times, mode, owner and group come from the MBFile; where a
row has none (or an unreadable one), from the hashed file's own ``stat``, with a warning, since
those are the times the backup was written, not the phone's. ``backup_file`` keeps the hashed
file each entry is read from (``3d/3d0d...``, relative to the backup folder): provenance an
examiner can go to, shown by ``exhibit ls --json``.

Evidence rules:

* the backup is never written: Manifest.db is opened ``mode=ro&immutable=1``; when a ``-wal`` or
  ``-journal`` lies beside it, it is copied with them to a private scratch folder and the copy is
  opened (SQLite would otherwise replay the log into the evidence, or ignore it);
* a hashed file's path is built only from a fileID that is exactly 40 lower-case hex digits,
  inside a two-hex-digit folder opened without following links: no ``relativePath``, domain or
  fileID from Manifest.db can make a read leave the backup. A ``relativePath`` that is absolute or
  holds ``..``, ``.``, NUL or control characters is shown (``..`` as ``\\x2e\\x2e``, controls as
  ``\\x00`` ...) under its domain, never resolved, with a warning;
* an entry whose hashed file is missing (backups can be incomplete) is listed with a warning; reading
  it raises :class:`~triage.errors.SourceUnreadable` naming it. Old backups that kept the files
  flat (``<fileID>`` at the top) are read from there.

Encrypted backups (``IsEncrypted`` in Manifest.plist): opened without a password, the source raises
:class:`~triage.errors.PasswordRequired` naming the backup and the option that gives it
(``--option backup.password=...``); with one, the keys are unlocked (:mod:`triage.sources.ios_crypto`,
which also says why it is our own code and not a library), Manifest.db is decrypted into a private
scratch folder (mode 0700, removed on :meth:`IosBackupSource.close`) and files are decrypted as they
are read, never written anywhere. The password is never stored, logged or put in a message.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import sqlite3
import stat
import tempfile
import time
import urllib.parse
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from custody.media import open_readonly
from triage.errors import (
    EntryNotFound,
    PasswordRequired,
    SourceUnreadable,
    WalkWarning,
    WrongPassword,
)
from triage.sanitize import display_name
from triage.sources import ios_crypto
from triage.sources.entry import FileEntry
from triage.sources.logical import DEFAULT_CHUNK, _ArchiveSource

FLAG_FILE, FLAG_DIR, FLAG_LINK = 1, 2, 4
PASSWORD_OPTION = "backup.password"
#: An MBFile record larger than this is not parsed (real ones are a few hundred bytes).
MAX_MBFILE = 1 << 20
#: Manifest.plist / Info.plist larger than this are not read (real ones: kilobytes to a few MB).
MAX_PLIST = 64 << 20
SQLITE_MAGIC = b"SQLite format 3\x00"
_FILE_ID = re.compile(rb"[0-9a-f]{40}")
_HASH_FOLDER = re.compile(r"[0-9a-f]{2}")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NOATIME = getattr(os, "O_NOATIME", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


# --------------------------------------------------------------------------------------------------
# MBFile: the keyed archive in the ``file`` column


@dataclass(frozen=True, slots=True)
class MBFile:
    """The fields of an ``MBFile`` record that triage uses (``None``: not in the record)."""

    size: int | None = None
    mtime: int | None = None  # LastModified, Unix seconds
    ctime: int | None = None  # LastStatusChange
    birth: int | None = None  # Birth
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    protection_class: int | None = None
    target: bytes | None = None  # a link's target
    encryption_key: bytes | None = None  # class (4 bytes LE) + wrapped key, in encrypted backups


_MB_INTS = {
    "Size": "size",
    "LastModified": "mtime",
    "LastStatusChange": "ctime",
    "Birth": "birth",
    "Mode": "mode",
    "UserID": "uid",
    "GroupID": "gid",
    "ProtectionClass": "protection_class",
}


def decode_mbfile(blob: bytes) -> MBFile:
    """Decode an NSKeyedArchiver ``MBFile`` (a binary plist: ``$top.root`` -> ``$objects[n]``).

    Defensive: only the fields above are read, only with the types they should have, and every
    ``UID`` reference is bounds-checked. Raises :class:`ValueError` when ``blob`` is not such an
    archive.
    """
    if len(blob) > MAX_MBFILE:
        raise ValueError(f"{len(blob)} bytes, larger than any real record")
    try:
        archive = plistlib.loads(blob)
    except Exception as exc:  # plistlib raises many types on hostile input (and RecursionError)
        raise ValueError(f"not a property list ({type(exc).__name__})") from None
    if not isinstance(archive, dict):
        raise ValueError("not a keyed archive")
    objects, top = archive.get("$objects"), archive.get("$top")
    if not isinstance(objects, list) or not isinstance(top, dict):
        raise ValueError("no $objects or $top: not a keyed archive")

    def deref(value: object) -> object:
        if isinstance(value, plistlib.UID):
            if not 0 <= value.data < len(objects):
                raise ValueError(f"reference {value.data} outside $objects")
            return objects[value.data]
        return value

    root = deref(top.get("root"))
    if not isinstance(root, dict):
        raise ValueError("$top.root is not an object")
    values: dict[str, Any] = {}
    for key, name in _MB_INTS.items():
        value = root.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            values[name] = value
        elif isinstance(value, float) and value == value and abs(value) < 2**62:
            values[name] = int(value)
    target = deref(root.get("Target"))
    if isinstance(target, str):
        values["target"] = target.encode("utf-8", "surrogatepass")
    elif isinstance(target, bytes):
        values["target"] = target
    wrapped = deref(root.get("EncryptionKey"))
    if isinstance(wrapped, dict):
        wrapped = wrapped.get("NS.data")
    if isinstance(wrapped, bytes):
        values["encryption_key"] = wrapped
    return MBFile(**values)


# --------------------------------------------------------------------------------------------------
# rows of Manifest.db


@dataclass(slots=True)
class _Row:
    """What reading an entry needs: its kind, its validated fileID and where its file is."""

    flags: int
    file_id: str | None  # None: the stored fileID is not 40 lower-case hex digits
    shown_id: str  # the stored fileID, display-safe (for messages)
    stored: str | None  # "ab/ab12..." or "ab12..." (flat): the hashed file found; None: missing
    blob: bytes | None  # the MBFile not decoded yet (None once decoded, or when there is none)
    mb: MBFile | None = None
    listed: FileEntry | None = None  # the entry with its metadata, once listed


def _utc(seconds: int | None) -> str | None:
    if seconds is None or seconds <= 0:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    except (OverflowError, OSError, ValueError):
        return None


def _utc_ns(ns: int) -> str | None:
    if ns <= 0:
        return None
    secs, nano = divmod(ns, 1_000_000_000)
    try:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    except (OverflowError, OSError, ValueError):
        return None
    return (f"{text}.{nano:09d}".rstrip("0") + "Z") if nano else text + "Z"


def _as_bytes(value: object) -> bytes | None:
    """A TEXT or BLOB column as bytes (Manifest.db is read with ``text_factory=bytes``)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


def domain_path(domain: bytes, relative: bytes) -> tuple[str, bytes, list[str]]:
    """The display path ``/<domain>/<relativePath>``, the last name's raw bytes, and what was odd.

    The domain is one component (a ``/`` in it is escaped, never a separator). In the relative
    path, empty components are dropped; ``.`` and ``..`` are shown as ``\\x2e`` and ``\\x2e\\x2e``
    (reversible with :func:`triage.sanitize.display_to_bytes`, never resolved); everything else is
    escaped by :func:`triage.sanitize.display_name` (NUL as ``\\x00``, controls, bidi ...).
    """
    problems: list[str] = []
    parts = [display_name(domain)]
    last = domain
    if relative.startswith(b"/"):
        problems.append("relativePath is absolute: shown under its domain, never resolved")
    for component in relative.split(b"/"):
        if not component:
            continue
        if component in (b".", b".."):
            shown = "\\x2e" * len(component)
            said = f"relativePath has a {component.decode()!r} component: shown as {shown}, never resolved"
            if said not in problems:  # once per path, however many (found in review: 3 for ../../../)
                problems.append(said)
        else:
            shown = display_name(component)
        parts.append(shown)
        last = component
    return "/" + "/".join(parts), last, problems


# --------------------------------------------------------------------------------------------------
# the source


class IosBackupSource(_ArchiveSource):
    """An iTunes/Finder backup folder, its files listed under ``/<domain>/<relativePath>``.

    ``password`` opens an encrypted backup (it is used to unlock the keys and then dropped);
    ``scratch_dir`` is where the private scratch folder for Manifest.db's copy goes (default: the
    system's temporary folder).
    """

    kind = "ios-backup"
    fs_type = "ios-backup"

    def __init__(self, path: Path, *, password: str | None = None, scratch_dir: Path | None = None) -> None:
        super().__init__(path)
        self._root_fd = -1
        self._scratch: str | None = None
        self._cleanup: weakref.finalize[Any, Any] | None = None
        self._class_keys: dict[int, bytes] | None = None
        self._rows: dict[str, _Row] = {}
        if not path.is_dir():
            raise SourceUnreadable(f"{path}: not a folder, so not an iTunes/Finder backup")
        try:
            self._root_fd = open_readonly(path, directory=True)
            self._hash_folders = self._list_hash_folders()
            manifest = self._plist("Manifest.plist")
            if manifest is not None and manifest.get("IsEncrypted") is True:
                if password is None:
                    raise PasswordRequired(
                        f"{path}: encrypted iTunes backup: give its password with "
                        f"--option {PASSWORD_OPTION}=...",
                        hint="the password set in iTunes or Finder ('Encrypt local backup'); "
                        "it is used to decrypt in scratch and is never recorded",
                    )
                self._class_keys = self._unlock(manifest, password)
                del password
                database = self._decrypt_manifest(manifest, scratch_dir)
            else:
                database = self._manifest_database(scratch_dir)
            self._load(database)
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------------------------

    def _list_hash_folders(self) -> set[str]:
        try:
            with os.scandir(self._root_fd) as it:
                return {
                    e.name for e in it if _HASH_FOLDER.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
                }
        except OSError as exc:
            raise SourceUnreadable(f"{self.name}: cannot list the backup folder: {exc.strerror}") from exc

    def _read_top(self, name: str, limit: int) -> bytes | None:
        """A regular file at the top of the backup (not a link), or None when it is not there."""
        try:
            fd = _open_nofollow(name, self._root_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceUnreadable(f"{self.name}/{name}: cannot open: {exc.strerror}") from exc
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SourceUnreadable(f"{self.name}/{name}: not a regular file")
            if st.st_size > limit:
                raise SourceUnreadable(f"{self.name}/{name}: {st.st_size} bytes, more than any real one")
            return _read_all(fd)
        finally:
            os.close(fd)

    def _plist(self, name: str) -> dict[str, Any] | None:
        data = self._read_top(name, MAX_PLIST)
        if data is None:
            return None
        try:
            value = plistlib.loads(data)
        except Exception as exc:  # hostile input: any parse failure is "unreadable"
            raise SourceUnreadable(
                f"{self.name}/{name}: not a readable property list ({type(exc).__name__})",
                hint="the backup is damaged; the other files can still be examined as a folder "
                "(acquire it with --kind folder)",
            ) from None
        if not isinstance(value, dict):
            raise SourceUnreadable(f"{self.name}/{name}: not a dictionary property list")
        return value

    def _make_scratch(self, scratch_dir: Path | None) -> str:
        if self._scratch is None:
            try:
                self._scratch = tempfile.mkdtemp(prefix="exhibit-ios-backup-", dir=scratch_dir)
            except OSError as exc:
                raise SourceUnreadable(
                    f"{self.name}: cannot create a scratch folder for Manifest.db in "
                    f"{scratch_dir or tempfile.gettempdir()}: {exc.strerror}",
                    hint="free space there, or give another scratch folder",
                ) from exc
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._scratch, True)
        return self._scratch

    def _manifest_database(self, scratch_dir: Path | None) -> str:
        """A read-only URI of Manifest.db, or of its scratch copy when a -wal/-journal is beside it."""
        manifest = os.path.join(self.name, "Manifest.db")
        try:
            st = os.stat("Manifest.db", dir_fd=self._root_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise SourceUnreadable(
                f"{manifest}: missing, so this folder is not an iTunes/Finder backup (iOS 10 or later)",
                hint="backups of iOS 9 and older (Manifest.mbdb) are not supported: "
                "acquire the folder with --kind folder",
            ) from None
        if not stat.S_ISREG(st.st_mode):
            raise SourceUnreadable(f"{manifest}: not a regular file")
        logs = [
            suffix for suffix in ("-wal", "-journal") if _is_regular_at("Manifest.db" + suffix, self._root_fd)
        ]
        if not logs:
            return "file:" + urllib.parse.quote(os.path.abspath(manifest)) + "?mode=ro&immutable=1"
        scratch = self._make_scratch(scratch_dir)
        for name in ("Manifest.db", *("Manifest.db" + s for s in logs)):
            fd = _open_nofollow(name, self._root_fd)
            try:
                with open(os.path.join(scratch, name), "wb") as out:
                    while chunk := os.read(fd, DEFAULT_CHUNK):
                        out.write(chunk)
            finally:
                os.close(fd)
        return "file:" + urllib.parse.quote(os.path.join(scratch, "Manifest.db"))

    def _unlock(self, manifest: dict[str, Any], password: str) -> dict[int, bytes]:
        blob = manifest.get("BackupKeyBag")
        if not isinstance(blob, bytes):
            raise SourceUnreadable(f"{self.name}/Manifest.plist: encrypted, but holds no BackupKeyBag")
        try:
            return ios_crypto.unlock(ios_crypto.parse_keybag(blob), password)
        except ios_crypto.WrongKey:
            raise WrongPassword(
                f"{self.name}: the password given does not open this encrypted iTunes backup",
                hint=f"check --option {PASSWORD_OPTION}=... (the password set in iTunes or Finder)",
            ) from None
        except ios_crypto.Undecryptable as exc:
            raise SourceUnreadable(f"{self.name}/Manifest.plist: unusable BackupKeyBag: {exc}") from None

    def _decrypt_manifest(self, manifest: dict[str, Any], scratch_dir: Path | None) -> str:
        """Decrypt Manifest.db into the scratch folder; the URI of the copy."""
        assert self._class_keys is not None
        manifest_key = manifest.get("ManifestKey")
        if manifest_key is None:  # before iOS 10.2, Manifest.db itself was not encrypted
            return self._manifest_database(scratch_dir)
        where = f"{self.name}/Manifest.db"
        if not isinstance(manifest_key, bytes):
            raise SourceUnreadable(f"{self.name}/Manifest.plist: ManifestKey is not data")
        try:
            key = ios_crypto.unwrap_key(self._class_keys, manifest_key)
        except ios_crypto.WrongKey:
            raise SourceUnreadable(f"{self.name}/Manifest.plist: ManifestKey does not unwrap") from None
        except ios_crypto.Undecryptable as exc:
            raise SourceUnreadable(f"{self.name}/Manifest.plist: ManifestKey: {exc}") from None
        try:
            fd = _open_nofollow("Manifest.db", self._root_fd)
        except OSError as exc:
            raise SourceUnreadable(f"{where}: cannot open: {exc.strerror}") from exc
        out_path = os.path.join(self._make_scratch(scratch_dir), "Manifest.db")
        try:
            size = os.fstat(fd).st_size
            # A whole number of SQLite pages was encrypted without padding; otherwise it is padded.
            unpadded = size if size % 512 == 0 else None
            with open(out_path, "wb") as out:
                stream = ios_crypto.decrypt_cbc(_chunks(fd, DEFAULT_CHUNK), key, unpadded_length=unpadded)
                for chunk in stream:
                    out.write(chunk)
        except ios_crypto.Undecryptable as exc:
            raise SourceUnreadable(f"{where}: cannot decrypt: {exc}") from None
        finally:
            os.close(fd)
        with open(out_path, "rb") as f:
            if f.read(16) != SQLITE_MAGIC:
                raise SourceUnreadable(f"{where}: decrypted, but the result is not a SQLite database")
        return "file:" + urllib.parse.quote(out_path)

    def _load(self, uri: str) -> None:
        """Read Files into entries (implied directories added, duplicates marked)."""
        where = f"{self.name}/Manifest.db"
        try:
            con = sqlite3.connect(uri, uri=True)
        except sqlite3.Error as exc:
            raise SourceUnreadable(f"{where}: cannot open: {exc}") from None
        rows: list[_Row] = []
        try:
            con.text_factory = bytes
            cursor = con.execute("SELECT fileID, domain, relativePath, flags, file FROM Files")
            for file_id, domain, relative, flags, blob in cursor:
                made = self._entry(file_id, domain, relative, flags, blob)
                if made is None:
                    continue
                entry, row = made
                self._entries.append(entry)
                rows.append(row)
        except sqlite3.Error as exc:
            raise SourceUnreadable(
                f"{where}: not a readable Manifest database ({exc})",
                hint="the backup's Manifest.db is damaged or truncated; its other files can still be "
                "examined as a plain folder (acquire it with --kind folder)",
            ) from None
        finally:
            con.close()
        self._distinct_paths(rows)
        for entry, row in zip(self._entries, rows, strict=True):
            self._rows[entry.path] = row
        self._add_implied_dirs()
        self._entries.sort(key=lambda e: e.path)

    def _distinct_paths(self, rows: list[_Row]) -> None:
        """Two rows shown at one path (``a//b`` and ``a/b``, or a forged Manifest.db): a repeated
        directory is listed once; a later file gets the stream ``#2``, ``#3``... and the path
        ``/dir/name:#2``, as duplicate archive members do, with a warning naming both fileIDs."""
        first: dict[str, _Row] = {}
        count: dict[str, int] = {}
        entries: list[FileEntry] = []
        kept: list[_Row] = []
        for entry, row in zip(self._entries, rows, strict=True):
            if entry.path not in first:
                first[entry.path], count[entry.path] = row, 1
            elif entry.type == "dir" and first[entry.path].flags == FLAG_DIR:
                continue
            else:
                count[entry.path] += 1
                tag = f"#{count[entry.path]}"
                marked = replace(entry, path=f"{entry.path}:{tag}", name=f"{entry.name}:{tag}", stream=tag)
                self._warn(
                    entry.path,
                    f"fileID {row.shown_id} has the same path as fileID {first[entry.path].shown_id}; "
                    f"both are kept, this one as {marked.path}",
                )
                entry = marked
            entries.append(entry)
            kept.append(row)
        self._entries[:] = entries
        rows[:] = kept

    def _warn(self, path: str, problem: str) -> None:
        self.warnings.append(WalkWarning(self.name, path, problem))

    def _entry(
        self, file_id: object, domain: object, relative: object, flags: object, blob: object
    ) -> tuple[FileEntry, _Row] | None:
        raw_id = _as_bytes(file_id) or b""
        shown_id = display_name(raw_id) if raw_id else repr(file_id)
        raw_domain = _as_bytes(domain)
        if not raw_domain:
            self._warn("/", f"Manifest.db row with fileID {shown_id} has no domain: not listed")
            return None
        path, last, problems = domain_path(raw_domain, _as_bytes(relative) or b"")
        for problem in problems:
            self._warn(path, f"{problem} (fileID {shown_id})")
        valid_id = raw_id.decode("ascii") if _FILE_ID.fullmatch(raw_id) else None
        flag = flags if isinstance(flags, int) and not isinstance(flags, bool) else -1
        etype = {FLAG_FILE: "file", FLAG_DIR: "dir", FLAG_LINK: "link"}.get(flag, "unknown")
        if etype == "unknown":
            self._warn(path, f"unknown flags {flags!r} in Manifest.db (1 file, 2 directory, 4 link)")
        stored: str | None = None
        if etype in ("file", "unknown"):
            if valid_id is None:
                self._warn(
                    path,
                    f"fileID {shown_id} in Manifest.db is not 40 lower-case hex digits: "
                    "its content cannot be located and is not read",
                )
            else:
                stored = self._find(valid_id)
                if stored is None and (etype == "file" or isinstance(blob, bytes)):
                    self._warn(
                        path,
                        f"its file {valid_id[:2]}/{valid_id} is missing from the backup "
                        "(an incomplete backup): listed, not readable",
                    )
        # The metadata (size, times, mode) is decoded when the entry is first listed: decoding
        # every MBFile costs a few hundred microseconds, and each triage worker opens the source
        # only to read files, which (unencrypted) needs none of it.
        name = path.rsplit("/", 1)[-1]
        entry = FileEntry(
            None, self.fs_type, path, name, last, None, etype, 0, False, False, None, None, None,
            None, None, None, None, False, None, None, None, None, stored,
        )  # fmt: skip
        return entry, _Row(flag, valid_id, shown_id, stored, blob if isinstance(blob, bytes) else None)

    def _metadata(self, row: _Row, path: str) -> MBFile | None:
        """The row's MBFile, decoded once (a warning, once, when it cannot be)."""
        if row.blob is not None:
            blob, row.blob = row.blob, None
            try:
                row.mb = decode_mbfile(blob)
            except ValueError as exc:
                self._warn(path, f"metadata (the MBFile in Manifest.db) unreadable: {exc}")
        return row.mb

    def _complete(self, entry: FileEntry) -> FileEntry:
        """``entry`` with its size, times, mode and owner (from the MBFile, else the hashed file)."""
        row = self._rows.get(entry.path)
        if row is None:  # a directory the manifest only implies
            return entry
        if row.listed is not None:
            return row.listed
        mb = self._metadata(row, entry.path)
        size, mtime, ctime, crtime, mode, uid, gid = 0, None, None, None, None, None, None
        st: os.stat_result | None = None
        if row.stored is not None and (mb is None or mb.size is None):
            try:
                st = os.stat(row.stored, dir_fd=self._root_fd, follow_symlinks=False)
            except OSError:
                st = None
        if mb is not None:
            size = mb.size if mb.size is not None and mb.size >= 0 else 0
            mtime, ctime, crtime = _utc(mb.mtime), _utc(mb.ctime), _utc(mb.birth)
            mode = mb.mode & 0o7777 if mb.mode is not None else None
            uid, gid = mb.uid, mb.gid
            if entry.type == "link" and mb.target is not None:
                size = len(mb.target)
            if mb.size is None and st is not None and self._class_keys is None:
                size = st.st_size
        elif st is not None:
            self._warn(
                entry.path,
                "no metadata in Manifest.db: size and times are those of the backup's copy "
                f"{row.stored}, not of the file on the phone",
            )
            size = st.st_size if self._class_keys is None else 0
            mtime, ctime = _utc_ns(st.st_mtime_ns), _utc_ns(st.st_ctime_ns)
        row.listed = replace(
            entry, size=size, mtime=mtime, ctime=ctime, crtime=crtime, mode=mode, uid=uid, gid=gid
        )
        return row.listed

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        """Entries under ``path`` (a backup has no deleted entries, so ``deleted_only`` lists none)."""
        for entry in super().entries(
            path, recursive=recursive, deleted_only=deleted_only, partition=partition
        ):
            yield self._complete(entry)

    def _find(self, file_id: str) -> str | None:
        """Where the hashed file of ``file_id`` (validated hex) is: ``ab/ab..``, flat, or nowhere."""
        candidates = []
        if file_id[:2] in self._hash_folders:
            candidates.append(f"{file_id[:2]}/{file_id}")
        candidates.append(file_id)
        for relative in candidates:
            try:
                st = os.stat(relative, dir_fd=self._root_fd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                return relative
        return None

    # -- reading -----------------------------------------------------------------------------------

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        row = self._rows.get(entry.path)
        if row is None:
            if any(e.path == entry.path and e.type == "dir" for e in self._entries):
                return  # a directory the manifest only implies
            raise EntryNotFound(f"{self.name}: no entry {entry.path!r} in the backup")
        if row.flags == FLAG_DIR:
            return
        if row.flags == FLAG_LINK:
            mb = self._metadata(row, entry.path)
            if mb is not None and mb.target is not None:
                yield mb.target  # a link's content is its target; never followed
            return
        if row.file_id is None:
            raise SourceUnreadable(
                f"{self.name}: {entry.path}: its fileID in Manifest.db ({row.shown_id}) is not "
                "40 lower-case hex digits, so its content cannot be located"
            )
        if row.stored is None:
            raise SourceUnreadable(
                f"{self.name}: {entry.path}: its file {row.file_id[:2]}/{row.file_id} is missing "
                "from the backup",
                hint="the backup is incomplete (interrupted, or files removed after it was made)",
            )
        fd = self._open_stored(row.file_id, row.stored, entry.path)
        try:
            chunks = _chunks(fd, max(chunk_size, 16))
            if self._class_keys is None:
                yield from chunks
            else:
                yield from self._decrypt(row, chunks, entry.path)
        finally:
            os.close(fd)

    def _open_stored(self, file_id: str, stored: str, shown: str) -> int:
        """Open the hashed file: only validated hex names, no link followed at any level."""
        try:
            if "/" in stored:
                folder = open_readonly(file_id[:2], dir_fd=self._root_fd, directory=True)
                try:
                    fd = _open_nofollow(file_id, folder)
                finally:
                    os.close(folder)
            else:
                fd = _open_nofollow(file_id, self._root_fd)
        except OSError as exc:
            raise SourceUnreadable(
                f"{self.name}: {shown}: cannot open its file {stored}: {exc.strerror}"
            ) from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SourceUnreadable(f"{self.name}: {shown}: its file {stored} is not a regular file")
        return fd

    def _decrypt(self, row: _Row, chunks: Iterator[bytes], shown: str) -> Iterator[bytes]:
        assert self._class_keys is not None
        mb = self._metadata(row, shown)
        if mb is None or mb.encryption_key is None:
            if mb is not None and mb.size == 0:
                return
            raise SourceUnreadable(
                f"{self.name}: {shown}: encrypted backup, but Manifest.db records no key for its file "
                f"{row.stored}"
            )
        try:
            key = ios_crypto.unwrap_key(self._class_keys, mb.encryption_key, mb.protection_class)
            result = yield from ios_crypto.decrypt_cbc(chunks, key)
        except ios_crypto.WrongKey:
            raise SourceUnreadable(
                f"{self.name}: {shown}: its file key does not unwrap (damaged record)"
            ) from None
        except ios_crypto.Undecryptable as exc:
            raise SourceUnreadable(f"{self.name}: {shown}: cannot decrypt {row.stored}: {exc}") from None
        if not result.padding_ok:
            self._warn(shown, f"{row.stored}: no valid padding after decryption (damaged file?): kept whole")
        if mb.size is not None and result.length != mb.size:
            self._warn(
                shown,
                f"decrypted {result.length} bytes, Manifest.db says {mb.size} "
                "(the file changed while the backup was made): all decrypted bytes kept",
            )

    def close(self) -> None:
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1
        self._class_keys = None
        if self._cleanup is not None:
            self._cleanup()  # removes the scratch folder (decrypted Manifest.db) now
            self._cleanup = None


def _open_nofollow(name: str, dir_fd: int) -> int:
    flags = os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC
    if _O_NOATIME:
        try:
            return os.open(name, flags | _O_NOATIME, dir_fd=dir_fd)
        except PermissionError:  # O_NOATIME needs ownership of the file
            pass
    return os.open(name, flags, dir_fd=dir_fd)


def _is_regular_at(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _read_all(fd: int) -> bytes:
    return b"".join(_chunks(fd, DEFAULT_CHUNK))


def _chunks(fd: int, size: int) -> Iterator[bytes]:
    while chunk := os.read(fd, size):
        yield chunk
