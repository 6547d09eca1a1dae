"""Logical sources: a folder, a zip or a tar archive (phone extractions, collected user folders).

They are listed and read through the same :class:`~triage.sources.entry.FileEntry` shape as disk images so
every later step (hashing, export, plugins) has one code path. ``partition`` is ``None``,
``fs_type`` is ``"folder"``, ``"zip"`` or ``"tar"`` and ``inode`` is the archive member's index
(``None`` in a folder, and for directories an archive only implies).

Evidence rules:

* nothing is ever extracted to disk: archive members are streamed from the archive;
* symbolic links are never followed, neither while walking a folder nor when reading: a link's
  "content" is its target, as ``icat`` shows for a link on a disk image, and a folder file whose
  real path leaves the folder is refused;
* folder files are opened ``O_NOFOLLOW`` (and ``O_NOATIME`` where permitted) so reading does not
  change the evidence's access times;
* an archive may hold two members with the same name (``zip`` appends, ``tar -r``): both are
  listed, hashed and readable. The first keeps its path; each later one gets the stream
  ``#2``, ``#3``... and the path ``/dir/name:#2`` (as NTFS streams are shown), with a warning;
* a zip member is never expanded beyond :data:`MAX_EXPANSION` times its compressed size (counted
  on the bytes actually produced, not the sizes the archive declares): deflate cannot exceed
  about 1032:1, so anything beyond is a bzip2/lzma bomb or a lying header, and reading stops.
"""

from __future__ import annotations

import os
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Self

from triage.errors import EntryNotFound, SourceUnreadable, UnsupportedArchive, WalkWarning
from triage.sanitize import display_name, display_to_bytes
from triage.sources.entry import FileEntry

DEFAULT_CHUNK = 1 << 20
#: Largest expansion (bytes out per compressed byte) a zip member may have; EXHIBIT_MAX_EXPANSION.
MAX_EXPANSION = 1100
EXPANSION_ENV = "EXHIBIT_MAX_EXPANSION"
_EXPANSION_FLOOR = 1 << 20  # tiny members (an empty-ish file of zeros) are never refused


def max_expansion() -> int:
    """The expansion cap: ``EXHIBIT_MAX_EXPANSION`` when set to a positive integer, else the default."""
    text = os.environ.get(EXPANSION_ENV, "").strip()
    if not text:
        return MAX_EXPANSION
    if not text.isdigit() or int(text) < 1:
        raise UnsupportedArchive(
            f"{EXPANSION_ENV}={text!r} is not a positive whole number",
            hint=f"unset it or give a ratio such as {MAX_EXPANSION}",
        )
    return int(text)


_GZIP, _BZIP2, _XZ = b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"


def _utc_ns(ns: int | None) -> str | None:
    if not ns:
        return None
    secs, nano = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    return (f"{text}.{nano:09d}".rstrip("0") + "Z") if nano else text + "Z"


def _stat_type(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode):
        return "char"
    if stat.S_ISBLK(mode):
        return "block"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "unknown"


def _split_display(raw: bytes) -> tuple[list[bytes], str]:
    """Split a stored member path into components and its display path (always leading "/").

    ``.`` names the folder it is in: dropped, as tar and unzip read it (``tar -C dir .`` stores
    every name as ``./a/b``, which was listed under a folder ``/.``). ``..``
    stays a component but is shown as ``\\x2e\\x2e`` (as in iOS backups), so a listing never
    shows a path that climbs out of the archive."""
    parts = [p for p in raw.split(b"/") if p and p != b"."]
    return parts, "/" + "/".join("\\x2e\\x2e" if p == b".." else display_name(p) for p in parts)


def _under(prefix: str, path: str, recursive: bool) -> bool:
    """Is display ``path`` listed when listing ``prefix`` (recursively or one level)?"""
    if prefix == "/":
        rest = path[1:]
    elif path.startswith(prefix + "/"):
        rest = path[len(prefix) + 1 :]
    else:
        return False
    return bool(rest) and (recursive or "/" not in rest)


def _norm_prefix(path: str | None) -> str:
    if not path:
        return "/"
    parts = [p for p in path.split("/") if p and p != "."]
    return "/" + "/".join(parts)


def _read_evidence_file(path: str, chunk_size: int) -> Iterator[bytes]:
    """A host file's content in chunks: read-only, never through a link, without touching its
    access time where the system allows it (``O_NOATIME`` needs ownership of the file)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk


class _Logical:
    kind = "logical"
    fs_type = "logical"

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = str(path) if name is None else name
        self.warnings: list[WalkWarning] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        raise NotImplementedError

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------
# folder


class FolderSource(_Logical):
    """A folder on a mounted or collected file system, walked without following links."""

    kind = "folder"
    fs_type = "folder"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        if not path.is_dir():
            raise SourceUnreadable(f"{path}: not a folder")
        self.root = os.path.realpath(path)

    def _entry(self, full: str, display: str, raw: bytes) -> FileEntry:
        st = os.lstat(full)
        birth_s = getattr(st, "st_birthtime", None)  # macOS, BSD, Windows; not Linux
        birth = getattr(st, "st_birthtime_ns", None) or (int(birth_s * 1e9) if birth_s else None)
        return FileEntry(
            None, "folder", display, display.rsplit("/", 1)[-1], raw, None, _stat_type(st.st_mode),
            st.st_size, False, False, None, None, None, _utc_ns(st.st_mtime_ns), _utc_ns(st.st_atime_ns),
            _utc_ns(st.st_ctime_ns), _utc_ns(birth), False, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
        )  # fmt: skip

    def _resolve(self, display: str) -> tuple[str, bytes]:
        parts = [display_to_bytes(p) for p in display.split("/") if p and p != "."]
        if any(p == b".." for p in parts):
            raise EntryNotFound(f"{self.name}: {display!r} leaves the folder")
        full = os.path.join(os.fsencode(self.root), *parts) if parts else os.fsencode(self.root)
        return os.fsdecode(full), parts[-1] if parts else b""

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        """Entries under ``path``; a folder has no deleted entries, so ``deleted_only`` lists none."""
        if deleted_only:
            return
        prefix = _norm_prefix(path)
        start, _ = self._resolve(prefix)
        if not os.path.lexists(start):
            raise EntryNotFound(f"{self.name}: no entry '{prefix}'")
        if not stat.S_ISDIR(os.lstat(start).st_mode):
            raise EntryNotFound(f"{self.name}: {prefix} is not a folder")
        stack = [(start, "" if prefix == "/" else prefix)]
        while stack:
            folder, shown = stack.pop()
            try:
                with os.scandir(folder) as it:
                    children = sorted(it, key=lambda d: d.name)
            except OSError as exc:
                self.warnings.append(WalkWarning(self.name, shown or "/", f"cannot list the folder: {exc}"))
                continue
            subdirs = []
            for child in children:
                raw = os.fsencode(child.name)
                display = f"{shown}/{display_name(raw)}"
                try:
                    entry = self._entry(child.path, display, raw)
                except OSError as exc:
                    self.warnings.append(WalkWarning(self.name, display, f"cannot stat: {exc}"))
                    continue
                yield entry
                if recursive and entry.type == "dir":  # lstat: a link to a folder is a "link"
                    subdirs.append((child.path, display))
            stack.extend(reversed(subdirs))

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        full, _ = self._resolve(entry.path)
        try:
            st = os.lstat(full)
        except OSError as exc:
            raise EntryNotFound(f"{self.name}: {entry.path}: {exc}") from exc
        if stat.S_ISLNK(st.st_mode):
            yield os.fsencode(os.readlink(full))  # a link's content is its target; never follow it
            return
        real = os.path.realpath(full)
        if os.path.commonpath([real, self.root]) != self.root:
            raise EntryNotFound(f"{self.name}: {entry.path} resolves outside the folder ({real}); refused")
        if not stat.S_ISREG(st.st_mode):
            raise EntryNotFound(f"{self.name}: {entry.path} is a {_stat_type(st.st_mode)}, not a file")
        yield from _read_evidence_file(full, chunk_size)


class SingleFileSource(_Logical):
    """One file acquired on its own (kind ``file``: a loose database, a photo, an export).

    Listed as the only entry, ``/<its name>``, so every later step (hashing, plugins, export) sees
    it as it sees a file inside an image. Read-only, without following links, like a folder's files.
    """

    kind = "file"
    fs_type = "file"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        if not path.is_file():
            raise SourceUnreadable(f"{path}: not a regular file")
        raw = os.fsencode(path.name)
        st = os.stat(path)
        shown = display_name(raw)
        self.entry = FileEntry(
            None, "file", "/" + shown, shown, raw, None, "file", st.st_size, False, False, None, None, None,
            _utc_ns(st.st_mtime_ns), _utc_ns(st.st_atime_ns), _utc_ns(st.st_ctime_ns), None, False,
            stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
        )  # fmt: skip

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        prefix = _norm_prefix(path)
        if prefix == self.entry.path:
            raise EntryNotFound(f"{self.name}: {prefix} is a file, not a folder")
        if prefix != "/":
            raise EntryNotFound(f"{self.name}: no entry '{prefix}'")
        if not deleted_only:
            yield self.entry

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        if entry.path != self.entry.path:
            raise EntryNotFound(f"{self.name}: no entry '{entry.path}'")
        yield from _read_evidence_file(str(self.path), chunk_size)


# --------------------------------------------------------------------------------------------------
# archives


class _ArchiveSource(_Logical):
    """Members listed once at open; implied parent directories added so one-level listings work."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        super().__init__(path, name)
        self._entries: list[FileEntry] = []

    def _mark_duplicates(self) -> None:
        """Give every later member with an already-listed path a ``#n`` stream and path (see above)."""
        first: dict[str, FileEntry] = {}
        count: dict[str, int] = {}
        for i, e in enumerate(self._entries):
            if e.type == "dir":
                continue
            if e.path not in first:
                first[e.path] = e
                count[e.path] = 1
                continue
            count[e.path] += 1
            tag = f"#{count[e.path]}"
            marked = replace(e, path=f"{e.path}:{tag}", name=f"{e.name}:{tag}", stream=tag)
            self._entries[i] = marked
            self.warnings.append(
                WalkWarning(
                    self.name,
                    e.path,
                    f"member #{e.inode} has the same name as member #{first[e.path].inode}; "
                    f"both are kept, this one as {marked.path}",
                )
            )

    def _add_implied_dirs(self) -> None:
        have = {e.path for e in self._entries}
        implied: list[FileEntry] = []
        for e in list(self._entries):
            parent = e.path.rsplit("/", 1)[0]
            while parent and parent not in have:
                have.add(parent)
                name = parent.rsplit("/", 1)[-1]
                implied.append(
                    FileEntry(None, self.fs_type, parent, name, display_to_bytes(name), None, "dir", 0, False)
                )
                parent = parent.rsplit("/", 1)[0]
        self._entries.extend(implied)

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        if deleted_only:
            return
        prefix = _norm_prefix(path)
        if prefix != "/" and not any(e.path == prefix and e.type == "dir" for e in self._entries):
            raise EntryNotFound(f"{self.name}: no folder {prefix!r} in the archive")
        for e in self._entries:
            if _under(prefix, e.path, recursive):
                yield e

    def member_name(self, entry: FileEntry) -> bytes | None:
        """The member's name exactly as the archive stores it (``None``: a directory only implied)."""
        if entry.inode is None or not 0 <= entry.inode < self._count:
            return None
        return self._raw_name(entry.inode)

    def _raw_name(self, index: int) -> bytes:
        raise NotImplementedError

    def encrypted(self) -> int:
        """How many members are encrypted (their content cannot be read without a password)."""
        return 0

    def _member(self, entry: FileEntry) -> int:
        if entry.inode is None or not 0 <= entry.inode < self._count:
            raise EntryNotFound(f"{self.name}: {entry.path} is not a member with content")
        return entry.inode

    _count = 0


def _zip_dir(info: zipfile.ZipInfo) -> bool:
    """``info.is_dir()`` without its IndexError on an empty name: zipfile cuts a name at its first
    NUL, so a member named ``"\\x00..."`` has an empty ``filename`` (found by bench/fuzz_triage.py)."""
    return info.filename.endswith("/")


class ZipSource(_ArchiveSource):
    """A zip archive (also ``.ufdr``-style phone extractions that are zips inside).

    ``fileobj``: read the archive from this seekable binary file instead of ``path`` (an archive
    found inside the evidence, triage/sources/nested.py); ``name`` then names it in messages.
    """

    kind = "zip"
    fs_type = "zip"

    def __init__(self, path: Path, *, fileobj: IO[bytes] | None = None, name: str | None = None) -> None:
        super().__init__(path, name)
        try:
            self._zip = zipfile.ZipFile(path if fileobj is None else fileobj)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise SourceUnreadable(f"{self.name}: unreadable zip archive: {exc}") from exc
        self._infos = infos
        self._count = len(infos)
        for index, info in enumerate(infos):
            if info.flag_bits & 0x800:
                raw = info.orig_filename.encode("utf-8", "surrogateescape")
            else:
                try:
                    raw = info.orig_filename.encode("cp437")
                except UnicodeEncodeError:
                    raw = info.orig_filename.encode("utf-8", "surrogateescape")
            parts, display = _split_display(raw)
            if not parts:
                self.warnings.append(WalkWarning(self.name, f"member #{index}", "member has an empty name"))
                continue
            unix_mode = info.external_attr >> 16 if info.create_system == 3 else 0
            if _zip_dir(info):
                etype = "dir"
            elif unix_mode and stat.S_ISLNK(unix_mode):
                etype = "link"
            else:
                etype = "file"
            try:
                y, mo, d, h, mi, sec = info.date_time
                mtime: str | None = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}"
            except (TypeError, ValueError):
                mtime = None
            self._entries.append(
                FileEntry(
                    None,
                    "zip",
                    display,
                    display.rsplit("/", 1)[-1],
                    parts[-1],
                    index,
                    etype,
                    info.file_size,
                    False,
                    False,
                    None,
                    None,
                    None,
                    mtime,
                    None,
                    None,
                    None,
                    True,
                    stat.S_IMODE(unix_mode) if unix_mode else None,
                    None,
                    None,
                )
            )
        self._mark_duplicates()
        self._add_implied_dirs()
        self._max_expansion = max_expansion()
        self._overlapping = self._find_overlaps()

    def _raw_name(self, index: int) -> bytes:
        return self._infos[index].orig_filename.encode("utf-8", "surrogateescape")

    def encrypted(self) -> int:
        return sum(1 for info in self._infos if info.flag_bits & 0x1)

    def _find_overlaps(self) -> dict[int, int]:
        """Members whose compressed data runs into another member's: ``{index: other index}``.

        No archiver writes that; it is how the non-recursive zip bombs reach a million to one
        (every member inflating the same kernel), which a per-member ratio cannot catch. Only
        certain overlaps count: the shortest local header (30 bytes plus the name) is assumed.
        """
        spans = sorted(
            (
                info.header_offset,
                info.header_offset
                + 30
                + len(info.orig_filename.encode("utf-8", "surrogateescape"))
                + info.compress_size,
                i,
            )
            for i, info in enumerate(self._infos)
            if not _zip_dir(info)
        )
        overlapping: dict[int, int] = {}
        reach, owner = -1, -1  # the furthest end so far, and whose it is
        for start, end, i in spans:
            if start < reach:
                overlapping.setdefault(i, owner)
                overlapping.setdefault(owner, i)
            if end > reach:
                reach, owner = end, i
        if overlapping:
            self.warnings.append(
                WalkWarning(
                    self.name,
                    "/",
                    f"{len(overlapping)} members share compressed data with another member "
                    "(a zip bomb construction); their content is not read",
                )
            )
        return overlapping

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        index = self._member(entry)
        info = self._infos[index]
        if _zip_dir(info):
            return
        if index in self._overlapping:
            raise SourceUnreadable(
                f"{self.name}: member {entry.path} shares its compressed data with member "
                f"#{self._overlapping[index]}: a zip bomb construction; not read",
                hint="no archiver writes overlapping members; examine the archive's raw bytes instead",
            )
        # Count what decompression really produces: declared sizes are the attacker's to choose.
        allowed = max(info.compress_size * self._max_expansion, _EXPANSION_FLOOR)
        produced = 0
        try:
            with self._zip.open(info) as fh:
                while chunk := fh.read(chunk_size):
                    produced += len(chunk)
                    if produced > allowed:
                        raise SourceUnreadable(
                            f"{self.name}: member {entry.path} expands to more than "
                            f"{self._max_expansion} times its {info.compress_size} compressed bytes "
                            f"(declared {info.file_size}): a zip bomb or a corrupt member; reading stopped",
                            hint=f"if it is genuine, raise {EXPANSION_ENV} and triage again",
                        )
                    yield chunk
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            NotImplementedError,
            RuntimeError,
            ValueError,  # e.g. a local header name that is not the UTF-8 it claims
            zlib.error,
        ) as exc:
            raise SourceUnreadable(f"{self.name}: member {entry.path} unreadable: {exc}") from exc

    def close(self) -> None:
        self._zip.close()


_TAR_TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "link",
    tarfile.LNKTYPE: "link",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
}


def _member_key(name: str) -> str:
    """A member's name as tar compares link targets: without a leading ``./`` or trailing ``/``."""
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


class TarSource(_ArchiveSource):
    """A tar archive, plain or compressed (gz, bz2, xz); ``fileobj`` and ``name`` as for ZipSource."""

    kind = "tar"
    fs_type = "tar"

    def __init__(self, path: Path, *, fileobj: IO[bytes] | None = None, name: str | None = None) -> None:
        super().__init__(path, name)
        try:
            if fileobj is None:
                self._tar = tarfile.open(path, "r:*", errorlevel=0)  # noqa: SIM115 - closed by close()
            else:
                self._tar = tarfile.open(fileobj=fileobj, mode="r:*", errorlevel=0)  # noqa: SIM115
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as exc:
            raise SourceUnreadable(f"{self.name}: unreadable tar archive: {exc}") from exc
        self._members = members
        self._count = len(members)
        # A hard link member names an earlier member of the same archive: it has that member's
        # content, as tar -x gives it (found in review: it was listed as a link and read as the
        # target's name). Resolved inside the archive only; a symbolic link is never followed.
        self._hard: dict[int, int] = {}
        latest: dict[str, int] = {}
        for index, m in enumerate(members):
            if m.islnk():
                target = latest.get(_member_key(m.linkname))
                if target is not None and members[target].isfile():
                    self._hard[index] = target
            latest[_member_key(m.name)] = self._hard.get(index, index)
        for index, m in enumerate(members):
            raw = m.name.encode("utf-8", "surrogateescape")
            parts, display = _split_display(raw)
            if not parts:
                continue  # "./" — the archive's own root
            linked = self._hard.get(index)
            self._entries.append(
                FileEntry(
                    None,
                    "tar",
                    display,
                    display.rsplit("/", 1)[-1],
                    parts[-1],
                    index,
                    "file" if linked is not None else _TAR_TYPES.get(m.type, "unknown"),
                    members[linked].size if linked is not None else m.size,
                    False,
                    False,
                    None,
                    None,
                    None,
                    _utc_ns(int(m.mtime * 1_000_000_000)) if m.mtime else None,
                    None,
                    None,
                    None,
                    False,
                    m.mode & 0o7777,
                    m.uid,
                    m.gid,
                )
            )
        self._mark_duplicates()
        self._add_implied_dirs()

    def _raw_name(self, index: int) -> bytes:
        return self._members[index].name.encode("utf-8", "surrogateescape")

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        index = self._member(entry)
        m = self._members[self._hard.get(index, index)]  # a hard link: the member it names
        if m.issym() or m.islnk():
            yield m.linkname.encode("utf-8", "surrogateescape")  # never follow a symbolic link
            return
        if not m.isfile():
            return
        try:
            fh: IO[bytes] | None = self._tar.extractfile(m)
            if fh is None:
                return
            with fh:
                while chunk := fh.read(chunk_size):
                    yield chunk
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise SourceUnreadable(f"{self.name}: member {entry.path} unreadable: {exc}") from exc

    def close(self) -> None:
        self._tar.close()


# --------------------------------------------------------------------------------------------------
# detection


def open_logical(path: Path, kind: str) -> FolderSource | ZipSource | TarSource | SingleFileSource:
    """Open a logical source of the ``kind`` recorded at acquisition (custody.media.detect_source)."""
    if kind == "folder":
        return FolderSource(path)
    if kind == "zip":
        return ZipSource(path)
    if kind == "tar":
        return TarSource(path)
    if kind == "file":
        return SingleFileSource(path)
    raise UnsupportedArchive(
        f"{path}: {kind!r} is not a logical source",
        hint="disk images are opened with triage.sources.open.open_source()",
    )
