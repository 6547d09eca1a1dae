"""Acquisition: what a piece of evidence is, and its hashes, recorded in one read pass.

:func:`acquire_source` reads the evidence (read-only, see :mod:`custody.media`) and returns an
:class:`Acquisition`, a plain JSON-able record the ledger stores. It writes nothing anywhere;
interrupt safety (what to do if the user presses Ctrl-C half-way) is the caller's business.
It keeps no state between calls, so it may run in a thread of its own: ``exhibit acquire`` runs
it from the moment its command line names the evidence, while the command is still loading and
checking the case (:mod:`custody.early_read`), and stops it through its ``progress`` callback.

What is hashed, per kind:

============  =====================================================================================
kind          ``hashes`` / ``size``
============  =====================================================================================
raw           the image file's bytes / its size
split-raw     the concatenated segments (= the media) / total size
e01           the *media data* libewf decodes (not the container bytes) / media size; plus
              ``e01`` (stored hashes, headers) and ``e01_hash_match`` (computed == stored, per
              stored algorithm). libewf reads a chunk with a flipped byte without complaint, so
              re-hashing against the stored MD5 is what catches a damaged E01.
file          the file's bytes / its size
zip, tar      the archive file's bytes, so the archive itself stays verifiable / the sum of the
              sizes of its regular-file members; ``members`` lists each member's own hashes
folder        the manifest text (below) / the sum of the sizes of its regular files
ios-backup    an iTunes/Finder backup folder, hashed exactly as a folder (every file, hashed names
              and all: the kind only tells triage how to present its files)
============  =====================================================================================

The manifest (folder, ios-backup, zip, tar) lets anyone re-derive ``manifest_sha256`` from the member list,
without Exhibit. It is UTF-8 text (file names that are not valid UTF-8 keep their original bytes,
Python's ``surrogateescape``) with one line per regular-file member::

    <sha256 hex, or "-" if the member could not be read>  <size in decimal>  <path>\\n

two spaces between fields, lines in ascending order of the path's bytes (then of the whole line,
for duplicate names in an archive). In ``<path>`` a backslash is written ``\\\\``, a line feed
``\\n`` and a carriage return ``\\r``, so every line stays one line. Paths are as the archive
stores them (zip/tar; ``../evil`` and ``/etc/passwd`` are recorded as they are, never extracted)
or relative to the folder with ``/`` separators. Directories are not members; symbolic links,
hard links, devices and other non-regular entries are listed in ``skipped`` and are not in the
manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NotRequired, TypedDict

from custody.errors import EvidenceError, UnsupportedSource
from custody.hashing import (
    CHUNK_SIZE,
    DEFAULT_ALGORITHMS,
    Progress,
    hash_bytes,
    hash_reader,
    hash_stream,
    iter_fd,
)
from custody.media import (
    FOLDER_KINDS,
    SOURCE_KINDS,
    EwfReader,
    detect_source,
    open_image,
    open_readonly,
)
from custody.timefmt import format_utc


class Segment(TypedDict):
    """One file the evidence is made of (image segment, archive, single file)."""

    path: str
    size: int


class Member(TypedDict):
    """A regular file inside a folder or archive, with its own hashes."""

    path: str
    size: int
    md5: str | None  # None only when ``error`` says why the member could not be read
    sha1: str | None
    sha256: str | None
    mtime: str | None  # UTC ISO 8601 ("...Z"), None when the source has no zone-aware time
    type: str  # "file"
    error: str | None
    mtime_local: NotRequired[str]  # zip only: the DOS date/time as stored (local time, zone unknown)


class Skipped(TypedDict):
    """An entry that is not a regular file and so has no content hash (link, device, fifo ...)."""

    path: str
    type: str  # "symlink", "hardlink", "device", "fifo", "socket", "other"
    target: str | None  # link target, for links


@dataclass(frozen=True)
class Acquisition:
    """The record of one acquisition (see the module docstring for what each kind hashes)."""

    kind: str
    source_path: str
    segments: list[Segment]
    size: int
    hashes: dict[str, str]
    e01: dict[str, Any] | None = None
    e01_hash_match: dict[str, bool] | None = None
    members: list[Member] | None = None
    skipped: list[Skipped] | None = None
    manifest_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict (plain lists, dicts, str, int, bool, None)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Acquisition:
        """Rebuild from :meth:`as_dict` output (e.g. read back from the ledger); unknown keys ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def hash_ok(self) -> bool:
        """False when an E01's stored hash disagrees with the media data (True if nothing stored)."""
        return all((self.e01_hash_match or {}).values())


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = {str(k): _plain(v) for k, v in value.items()}
        for key in ("path", "target", "source_path"):
            raw = value.get(key)
            if isinstance(raw, str) and not _is_utf8(raw):
                # The ledger is canonical JSON (valid Unicode only): keep the exact bytes in hex
                # beside a readable, escaped form, so nothing about the name is lost.
                out[f"{key}_bytes_hex"] = raw.encode("utf-8", "surrogateescape").hex()
        return out
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str) and not _is_utf8(value):
        return escape_undecodable(value)
    return value


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape_undecodable(text: str) -> str:
    """``text`` with each byte that was not valid UTF-8 (a surrogate escape) written as ``\\xNN``."""
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)


# ------------------------------------------------------------------------------------- manifest


def _path_key(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _escape(path: str) -> str:
    return path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def manifest_text(members: list[Member]) -> bytes:
    """The canonical manifest of ``members`` (format in the module docstring), as bytes."""
    lines = sorted(
        (
            _path_key(m["path"]),
            f"{m['sha256'] or '-'}  {m['size']}  {_escape(m['path'])}\n".encode("utf-8", "surrogateescape"),
        )
        for m in members
        if m["type"] == "file"
    )
    return b"".join(line for _, line in lines)


def manifest_sha256(members: list[Member]) -> str:
    return hashlib.sha256(manifest_text(members)).hexdigest()


# ---------------------------------------------------------------------------------------- helpers


class _Counter:
    """Turns per-stream byte counts into one cumulative count for the caller's progress bar."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.base = 0

    def stream(self) -> Progress | None:
        if self.progress is None:
            return None
        base, report = self.base, self.progress
        return lambda done: report(base + done)

    def advance(self, n: int) -> None:
        self.base += n
        if self.progress is not None:
            self.progress(self.base)


def _utc(seconds: float) -> str | None:
    try:
        return format_utc(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _utc_ns(ns: int) -> str | None:
    """Like :func:`_utc` for nanoseconds, without a float's rounding of the microseconds."""
    try:
        return format_utc(
            datetime.fromtimestamp(ns // 10**9, UTC) + timedelta(microseconds=ns % 10**9 // 1000)
        )
    except (OverflowError, OSError, ValueError):
        return None


def _snapshot(paths: list[Path]) -> list[tuple[int, int, int, int]]:
    out = []
    for p in paths:
        st = os.stat(p)
        out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return out


def _check_unchanged(paths: list[Path], before: list[tuple[int, int, int, int]]) -> None:
    """Refuse a hash of evidence that changed (size, mtime, ctime, inode) while it was read."""
    after = _snapshot(paths)
    for p, b, a in zip(paths, before, after, strict=True):
        if a != b:
            raise EvidenceError(
                f"{p}: changed while being acquired (size/mtime/ctime/inode differ before and after)",
                hint="something is writing to the evidence: stop it, then acquire again",
            )


def _segments(paths: list[Path]) -> list[Segment]:
    return [Segment(path=os.path.abspath(p), size=p.stat().st_size) for p in paths]


def _member(
    path: str, size: int, digests: dict[str, str] | None, mtime: str | None, error: str | None
) -> Member:
    d = digests or {}
    return Member(
        path=path,
        size=size,
        md5=d.get("md5"),
        sha1=d.get("sha1"),
        sha256=d.get("sha256"),
        mtime=mtime,
        type="file",
        error=error,
    )


def _iter_stream(f: IO[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while chunk := f.read(chunk_size):
        yield chunk


def _hash_member(f: IO[bytes], counter: _Counter) -> tuple[dict[str, str], int]:
    """Hash one member stream; returns the digests and the number of bytes it really had."""
    seen = 0

    def counted() -> Iterator[bytes]:
        nonlocal seen
        for chunk in _iter_stream(f):
            seen += len(chunk)
            yield chunk

    digests = hash_stream(counted(), DEFAULT_ALGORITHMS, counter.stream())
    counter.base += seen
    return digests, seen


def _hash_path_file(path: Path, counter: _Counter) -> tuple[dict[str, str], int]:
    fd = open_readonly(path)
    try:
        size = os.fstat(fd).st_size
        digests = hash_stream(iter_fd(fd), DEFAULT_ALGORITHMS, counter.stream())
    finally:
        os.close(fd)
    counter.base += size
    return digests, size


# ---------------------------------------------------------------------------------- per kind


def _acquire_image(path: Path, kind: str, progress: Progress | None) -> Acquisition:
    reader = open_image(path, kind=kind)
    try:
        files = list(reader.segments)
        before = _snapshot(files)
        digests = hash_reader(reader, progress)
        _check_unchanged(files, before)
        e01 = match = None
        if isinstance(reader, EwfReader):
            e01 = reader.info.as_dict()
            match = {alg: digests.get(alg) == stored for alg, stored in reader.info.stored_hashes.items()}
        return Acquisition(
            kind=reader.kind,
            source_path=os.path.abspath(path),
            segments=_segments(files),
            size=reader.size,
            hashes=digests,
            e01=e01,
            e01_hash_match=match,
        )
    finally:
        reader.close()


def _acquire_file(path: Path, progress: Progress | None) -> Acquisition:
    before = _snapshot([path])
    digests, size = _hash_path_file(path, _Counter(progress))
    _check_unchanged([path], before)
    return Acquisition(
        kind="file",
        source_path=os.path.abspath(path),
        segments=_segments([path]),
        size=size,
        hashes=digests,
    )


def _logical(
    kind: str, path: Path, members: list[Member], skipped: list[Skipped], digests: dict[str, str]
) -> Acquisition:
    members.sort(key=lambda m: (_path_key(m["path"]), m["sha256"] or "", m["size"]))
    skipped.sort(key=lambda s: _path_key(s["path"]))
    return Acquisition(
        kind=kind,
        source_path=os.path.abspath(path),
        segments=_segments([path]) if kind not in FOLDER_KINDS else [],
        size=sum(m["size"] for m in members),
        hashes=digests,
        members=members,
        skipped=skipped,
        manifest_sha256=manifest_sha256(members),
    )


def _unreadable(path: Path, exc: OSError) -> EvidenceError:
    """A folder's entry that cannot be read, named from the folder with the system's reason."""
    where = (
        f"{path}/{exc.filename}"
        if isinstance(exc.filename, str) and not os.path.isabs(exc.filename)
        else path
    )
    return EvidenceError(
        f"{where}: cannot be read ({exc.strerror or exc}): the folder was not acquired",
        hint="acquire as a user who may read every file in it (the evidence is only read), "
        "or acquire an image of the disk it is on",
    )


def _entries(path: Path) -> Iterator[tuple[str, int, str, os.stat_result]]:
    """Every entry under the folder ``path`` in manifest order (names sorted by their bytes, a
    folder's entries right after it), links not followed: (relative path, its folder's fd, its
    name, its lstat). An OSError of the walk names the entry from the folder (``sub/z``)."""

    def walk(dir_fd: int, prefix: str) -> Iterator[tuple[str, int, str, os.stat_result]]:
        with os.scandir(dir_fd) as it:
            names = sorted((e.name for e in it), key=_path_key)
        for name in names:
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                yield prefix + name, dir_fd, name, st
                if stat.S_ISDIR(st.st_mode):
                    sub = open_readonly(name, dir_fd=dir_fd, directory=True)
                    try:
                        yield from walk(sub, prefix + name + "/")
                    finally:
                        os.close(sub)
            except OSError as exc:
                if exc.filename == name:
                    exc.filename = prefix + name
                raise

    root = open_readonly(path, directory=True)
    try:
        yield from walk(root, "")
    finally:
        os.close(root)


def _state(rel: str, st: os.stat_result) -> tuple[str, int, int, int, int, int]:
    return (rel, st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _skipped_kind(mode: int) -> str:
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "device"
    return "fifo" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "other"


def _acquire_folder(path: Path, progress: Progress | None, kind: str = "folder") -> Acquisition:
    """Hash every regular file of the folder, listing links and special files. Each entry's
    state (type, inode, size, mtime, ctime) as the walk met it, before its file was read, is
    compared with a second listing made once all are read: a member changed, added or removed
    meanwhile refuses the acquisition (found in review: a file read first and rewritten while a
    later one was hashed was signed as read)."""
    members: list[Member] = []
    skipped: list[Skipped] = []
    counter = _Counter(progress)
    before: list[tuple[str, int, int, int, int, int]] = []
    try:
        for rel, dir_fd, name, st in _entries(path):
            before.append(_state(rel, st))
            if stat.S_ISREG(st.st_mode):
                try:
                    fd = open_readonly(name, dir_fd=dir_fd)
                except OSError as exc:
                    exc.filename = rel
                    raise
                try:
                    size = os.fstat(fd).st_size
                    digests = hash_stream(iter_fd(fd), DEFAULT_ALGORITHMS, counter.stream())
                    counter.base += size
                finally:
                    os.close(fd)
                members.append(_member(rel, size, digests, _utc_ns(st.st_mtime_ns), None))
            elif stat.S_ISLNK(st.st_mode):
                skipped.append(Skipped(path=rel, type="symlink", target=os.readlink(name, dir_fd=dir_fd)))
            elif not stat.S_ISDIR(st.st_mode):
                skipped.append(Skipped(path=rel, type=_skipped_kind(st.st_mode), target=None))
        after = [_state(rel, st) for rel, _fd, _name, st in _entries(path)]
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if after != before:
        changed = sorted({e[0] for e in set(before) ^ set(after)}, key=_path_key)
        raise EvidenceError(
            f"{path}: changed while being acquired: {', '.join(escape_undecodable(c) for c in changed[:5])}"
            + (f" and {len(changed) - 5} more" if len(changed) > 5 else ""),
            hint="something is writing to the evidence: stop it, then acquire again",
        )
    members.sort(key=lambda m: _path_key(m["path"]))
    return _logical(kind, path, members, skipped, hash_bytes(manifest_text(members)))


def _zip_utc_mtime(extra: bytes) -> str | None:
    """The UTC modification time from a zip "extended timestamp" (0x5455) extra field, if any."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return _utc(struct.unpack_from("<i", body, 1)[0])
        pos += 4 + length
    return None


#: What reading one damaged zip member can raise (the member is recorded as unreadable).
_ZIP_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    NotImplementedError,
    OSError,
    EOFError,
    RuntimeError,
    ValueError,  # e.g. a local header name that is not the UTF-8 it claims
    zlib.error,
)


def _acquire_zip(path: Path, progress: Progress | None) -> Acquisition:
    counter = _Counter(progress)
    before = _snapshot([path])
    container, _ = _hash_path_file(path, counter)
    members: list[Member] = []
    skipped: list[Skipped] = []
    with os.fdopen(open_readonly(path), "rb") as raw:
        try:
            zf = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise EvidenceError(f"{path}: not a readable zip archive: {exc}") from exc
        with zf:
            for info in zf.infolist():
                if not info.filename:  # no name to record it under (zipfile's is_dir() fails on it)
                    skipped.append(Skipped(path="", type="nameless", target=None))
                    continue
                if info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if info.create_system == 3 and stat.S_ISLNK(mode):
                    target = None  # encrypted, or unreadable: recorded as a link without a target
                    if not info.flag_bits & 1:
                        with contextlib.suppress(*_ZIP_MEMBER_ERRORS):
                            target = zf.read(info).decode("utf-8", "surrogateescape")
                    skipped.append(Skipped(path=info.filename, type="symlink", target=target))
                    continue
                digests: dict[str, str] | None = None
                error: str | None = None
                if info.flag_bits & 0x1:
                    error = "encrypted member: content not hashed"
                else:
                    try:
                        with zf.open(info) as f:
                            digests, seen = _hash_member(f, counter)
                        if seen != info.file_size:
                            error = f"member has {seen} bytes, header says {info.file_size}"
                    except _ZIP_MEMBER_ERRORS as exc:
                        digests, error = None, f"unreadable member: {exc}"
                member = _member(info.filename, info.file_size, digests, _zip_utc_mtime(info.extra), error)
                with contextlib.suppress(ValueError):  # an impossible DOS date: leave it out
                    member["mtime_local"] = datetime(*info.date_time).isoformat()
                members.append(member)
    _check_unchanged([path], before)
    return _logical("zip", path, members, skipped, container)


_TAR_TYPES = {
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "device",
    tarfile.BLKTYPE: "device",
    tarfile.FIFOTYPE: "fifo",
}


def _acquire_tar(path: Path, progress: Progress | None) -> Acquisition:
    counter = _Counter(progress)
    before = _snapshot([path])
    container, _ = _hash_path_file(path, counter)
    members: list[Member] = []
    skipped: list[Skipped] = []
    with os.fdopen(open_readonly(path), "rb") as raw:
        try:
            tf = tarfile.open(fileobj=raw, mode="r:*")  # noqa: SIM115 - closed by the with below
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise EvidenceError(f"{path}: not a readable tar archive: {exc}") from exc
        with tf:
            try:
                for info in tf:
                    if info.isdir():
                        continue
                    if not info.isreg():
                        skipped.append(
                            Skipped(
                                path=info.name,
                                type=_TAR_TYPES.get(info.type, "other"),
                                target=info.linkname if info.issym() or info.islnk() else None,
                            )
                        )
                        continue
                    f = tf.extractfile(info)
                    assert f is not None  # regular members always have data
                    with f:
                        digests, seen = _hash_member(f, counter)
                    error = None if seen == info.size else f"member has {seen} bytes, header says {info.size}"
                    members.append(_member(info.name, info.size, digests, _utc(info.mtime), error))
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise EvidenceError(
                    f"{path}: tar archive is damaged after {len(members)} members: {exc}",
                    hint="acquire it with kind='file' to record the archive's hashes alone",
                ) from exc
    _check_unchanged([path], before)
    return _logical("tar", path, members, skipped, container)


# ------------------------------------------------------------------------------------------ API


def acquire_source(
    path: Path | str, kind: str | None = None, progress: Progress | None = None
) -> Acquisition:
    """Identify (or take ``kind`` for) the evidence at ``path``, read it once and record its hashes.

    ``kind`` is one of "raw", "split-raw", "e01", "file", "folder", "ios-backup", "zip", "tar"; None means
    :func:`custody.media.detect_source` decides. ``progress(bytes_done)`` is called from this
    thread as data is read (for zip/tar: the archive bytes, then the member bytes).
    Raises :class:`EvidenceError` (missing segment, not an EWF file, changed while read, ...) or
    :class:`UnsupportedSource`.
    """
    path = Path(path)
    if ".." in path.parts or (path.is_symlink() and path.is_dir()):
        # the system resolves "link/.." from the link's target, not from the text (found in review:
        # one folder was read, another recorded); a link to a folder is the folder it points to
        path = Path(os.path.realpath(path))
    if kind is None:
        kind = detect_source(path)
    elif kind not in SOURCE_KINDS:
        raise UnsupportedSource(
            f"{path}: unknown evidence kind {kind!r}", hint=f"use one of {', '.join(SOURCE_KINDS)}"
        )
    if not path.exists():
        raise EvidenceError(f"{path}: no such file or folder", hint="check the path of the evidence")
    if kind in FOLDER_KINDS:
        if not path.is_dir():
            raise EvidenceError(f"{path}: not a folder")
        return _acquire_folder(path, progress, kind)
    if not path.is_file():
        raise EvidenceError(f"{path}: not a regular file", hint="a folder is acquired with kind='folder'")
    if kind in ("raw", "split-raw", "e01"):
        return _acquire_image(path, kind, progress)
    if kind == "zip":
        return _acquire_zip(path, progress)
    if kind == "tar":
        return _acquire_tar(path, progress)
    return _acquire_file(path, progress)


def rehash(kind: str, source_path: Path | str, progress: Progress | None = None) -> Acquisition:
    """Acquire ``source_path`` again as ``kind`` (the recorded kind, never re-detected)."""
    return acquire_source(source_path, kind=kind, progress=progress)


def differences(recorded: Acquisition | Mapping[str, Any], current: Acquisition) -> list[str]:
    """What differs between a recorded acquisition and a fresh one (empty list: verified).

    Compares kind, size, hashes, segment sizes, the manifest hash and each member's hashes, and
    reports an E01 whose media no longer matches its stored hash.
    """
    old = recorded if isinstance(recorded, Acquisition) else Acquisition.from_dict(recorded)
    out: list[str] = []
    if old.kind != current.kind:
        out.append(f"kind: recorded {old.kind}, now {current.kind}")
    if old.size != current.size:
        out.append(f"size: recorded {old.size}, now {current.size}")
    for alg, value in old.hashes.items():
        now = current.hashes.get(alg)
        if now != value:
            out.append(f"{alg}: recorded {value}, now {now}")
    old_sizes = [s["size"] for s in old.segments]
    new_sizes = [s["size"] for s in current.segments]
    if old_sizes != new_sizes:
        out.append(f"segments: recorded sizes {old_sizes}, now {new_sizes}")
    if old.manifest_sha256 != current.manifest_sha256:
        out.append(f"manifest_sha256: recorded {old.manifest_sha256}, now {current.manifest_sha256}")
    if old.members is not None and current.members is not None:
        now_members = {m["path"]: m for m in current.members}
        for m in old.members:
            n = now_members.pop(m["path"], None)
            if n is None:
                out.append(f"member missing: {m['path']}")
            elif (n["sha256"], n["size"]) != (m["sha256"], m["size"]):
                out.append(f"member changed: {m['path']}")
        out.extend(f"member added: {p}" for p in sorted(now_members, key=_path_key))
    if old.skipped is not None and current.skipped is not None:
        # links and special files are recorded, not read: one re-pointed, replaced or gone is a
        # change of the evidence too (found in review: a link re-pointed at /etc/shadow passed)
        was_skipped = {s["path"]: (s["type"], s.get("target")) for s in old.skipped}
        now_skipped = {s["path"]: (s["type"], s.get("target")) for s in current.skipped}
        for name in sorted(was_skipped.keys() | now_skipped.keys(), key=_path_key):
            if was_skipped.get(name) != now_skipped.get(name):
                was, is_ = was_skipped.get(name), now_skipped.get(name)
                out.append(
                    f"skipped entry {'missing' if is_ is None else 'added' if was is None else 'changed'}: {name}"
                    + (f" ({was[0]} -> {was[1]} is now {is_[0]} -> {is_[1]})" if was and is_ else "")
                )
    for alg, ok in (current.e01_hash_match or {}).items():
        if not ok:
            out.append(f"e01 stored {alg} does not match the media data")
    return out
