"""Archives found inside the evidence, opened and walked as child sources.

A zip or tar file in the evidence (a phone extraction copied to a seized laptop, a chat export)
is recognised by its content, not its name (:func:`sniff_archive`), opened read-only from its
bytes in the evidence and its members listed after it, as if they were files of the evidence:

* a member's path is the archive's path, ``!``, then the member's path inside the archive:
  ``/Users/a/chat.zip!/msgstore.db``; deeper archives continue the chain
  (``/x.tar!/phone.zip!/sms.db``). Its ``partition`` is the archive's, its ``fs_type`` ``zip`` or
  ``tar`` and its ``inode`` the member's index in the archive;
* the archive's bytes are read from the evidence into memory (up to :data:`IN_MEMORY_LIMIT`) or
  into a scratch file charged to the run's scratch budget (a :class:`~triage.plugin.scratch.Scratch`,
  which lives in the case's scratch folder); nothing is ever extracted. A compressed tar is
  decompressed into scratch first, within the limits below;
* member names are names: ``../``, absolute names, NUL bytes and very long names are kept, shown
  escaped (:func:`triage.sanitize.display_name`) and warned about; they are never used as host paths;
* :class:`NestLimits` bounds the nesting depth, the members of one archive, the members of the
  whole source, the bytes one archive declares it expands to and its expansion ratio; each breach
  is a warning naming the archive, and what is beyond the limit is not walked (the archive itself
  stays a file of the evidence, hashed and handed to the plugins like any other). An archive that
  cannot be opened (damaged) is a warning; an encrypted zip's members are listed (their names are
  not encrypted) and a warning says their content cannot be read.

:class:`NestedSource` wraps any :class:`~triage.sources.entry.Source`: its recursive listing adds
the members (``exhibit ls --archives``, ``verify --rehash``), :meth:`NestedSource.expand` lists
one archive's, and reading a member reads it from its archive. A triage run does not look at
every file's first bytes while walking: its workers say which files they read are archives
(they sniff the head anyway), the run then expands those (triage/engine/run.py) and hands what
it found (:attr:`NestedSource.members`) to the workers of a second round, which read the members
without walking again. A remote worker (triage/distributed/tasks.py) has not seen that walk: it
walks again the one archive of the evidence its job's members are in (:meth:`NestedSource.hold`,
then :meth:`NestedSource.expand` with :attr:`NestedSource.walked` set as the run had it), which
gives the same entries under the same limits.
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import io
import lzma
import os
import tempfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, Self

from triage.errors import EntryNotFound, SourceUnreadable, WalkWarning
from triage.sanitize import display_name
from triage.sources.content import DEFAULT_CHUNK
from triage.sources.entry import FileEntry, Source

if TYPE_CHECKING:
    from triage.sources.logical import TarSource, ZipSource


class Scratch(Protocol):
    """Where big archives are spooled, and the budget they are charged to: what
    :class:`triage.plugin.scratch.Scratch` is (this package may not import it)."""

    @property
    def dir(self) -> Path: ...

    def charge(self, nbytes: int, what: str) -> None: ...

    def uncharge(self, nbytes: int) -> None: ...


#: What separates an archive's path from a member's path in a member's path.
MARK = "!"
#: Archives up to this size are held in memory; bigger ones go to a scratch file.
IN_MEMORY_LIMIT = 64 * 1024 * 1024
#: Members longer than this (bytes of the stored name) are reported as hostile names.
LONG_NAME = 1024
_HEAD = 4096
_OPEN_CHILDREN = 3  # archives kept open at once per source (an archive's members are read in a row)


@dataclass(frozen=True, slots=True)
class NestLimits:
    """How far archives inside the evidence are followed (each breach: a warning naming the archive).

    ``depth``: archives inside archives followed (1: only archives in the evidence itself; 0: none
    are opened). ``members``: members of one archive walked. ``total_members``: members walked in
    all archives of the source. ``expanded``: bytes one archive's members may declare in all.
    ``ratio``: declared bytes per byte of the archive (``None``: the zip reader's cap,
    :func:`triage.sources.logical.max_expansion`); archives declaring under 1 MiB are never refused.
    """

    depth: int = 3
    members: int = 100_000
    total_members: int = 1_000_000
    expanded: int = 64 * 1024**3
    ratio: int | None = None


_RATIO_FLOOR = 1 << 20


@dataclass(frozen=True, slots=True)
class Member:
    """A member of an archive found in the evidence: the archive's entry (as the nested source
    lists it, so possibly itself a member), the member's entry inside the archive, how deep the
    archive is (1: in the evidence itself) and the SHA-256 of the archive's bytes."""

    archive: FileEntry
    inner: FileEntry
    depth: int
    archive_sha256: str


#: (partition, path) of a member as listed -> what it is.
Members = dict[tuple[int | None, str], Member]


def sniff_archive(head: bytes) -> str | None:
    """``"zip"``, ``"tar"`` (plain or gzip/bzip2/xz-compressed) or ``None``, from a file's first bytes.

    A zip starts with a local header or is an empty archive's end record; a tar has the ustar
    magic at offset 257, in the file or in the first bytes its gzip/bzip2/xz stream decompresses
    to (a compressed file that is not a tar, a ``.gz`` log, is not an archive).
    """
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    decompressor: Any = None
    if head[:2] == b"\x1f\x8b":
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif head[:3] == b"BZh":
        decompressor = bz2.BZ2Decompressor()
    elif head[:6] == b"\xfd7zXZ\x00":
        decompressor = lzma.LZMADecompressor()
    if decompressor is None:
        return None
    try:
        if isinstance(decompressor, bz2.BZ2Decompressor | lzma.LZMADecompressor):
            block = decompressor.decompress(head, max_length=512)
        else:
            block = decompressor.decompress(head, 512)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return None
    return "tar" if block[257:262] == b"ustar" else None


def damaged_stream(head: bytes) -> str | None:
    """What is wrong when ``head`` opens a gzip, bzip2 or xz stream (its header whole: a gzip's
    method and flags, a bzip2's block size, the magic numbers) whose data cannot be decompressed
    from its start, else ``None``. Such a file may be a compressed tar (``.tar.gz``) or anything
    else compressed; either way it is damaged, which :func:`sniff_archive`'s "not an archive"
    would leave unsaid. The whole header makes random bytes a false alarm about one time in a
    hundred million."""
    decompressor: Any
    if head[:3] == b"\x1f\x8b\x08" and len(head) > 3 and not head[3] & 0xE0:
        kind, decompressor = "gzip", zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0":
        kind, decompressor = "bzip2", bz2.BZ2Decompressor()
    elif head[:6] == b"\xfd7zXZ\x00":
        kind, decompressor = "xz", lzma.LZMADecompressor()
    else:
        return None
    try:
        if isinstance(decompressor, bz2.BZ2Decompressor | lzma.LZMADecompressor):
            decompressor.decompress(head, max_length=512)
        else:
            decompressor.decompress(head, 512)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        return f"a {kind} stream whose data cannot be decompressed ({exc})"
    return None


def hostile_name(raw: bytes) -> list[str]:
    """Why a stored member name could not be used as a host path (empty: it could)."""
    why = []
    if raw.startswith((b"/", b"\\")) or (len(raw) > 1 and raw[1:2] == b":" and raw[:1].isalpha()):
        why.append("absolute")
    if b".." in raw.replace(b"\\", b"/").split(b"/"):
        why.append("'..' component")
    if b"\x00" in raw:
        why.append("NUL byte")
    if len(raw) > LONG_NAME:
        why.append(f"{len(raw)} bytes long")
    return why


class _Spool:
    """An archive's bytes: in memory, or in a charged scratch file removed at close."""

    def __init__(self, scratch: Scratch | None, label: str, big: bool) -> None:
        self.scratch = scratch
        self.label = label
        self.buffer: IO[bytes] = io.BytesIO()
        self.path: Path | None = None
        self.charged = 0
        self.size = 0
        if big:
            self._to_disk()

    def _to_disk(self) -> None:
        if self.scratch is None:
            raise SourceUnreadable(
                f"{self.label}: an archive over {IN_MEMORY_LIMIT} bytes needs a scratch folder to be opened"
            )
        fd, name = tempfile.mkstemp(dir=self.scratch.dir, suffix=".archive")
        out = os.fdopen(fd, "w+b")
        assert isinstance(self.buffer, io.BytesIO)
        kept = self.buffer.getvalue()
        self.path = Path(name)
        self.buffer = out
        if kept:
            self._disk_write(kept)

    def _disk_write(self, chunk: bytes) -> None:
        assert self.scratch is not None
        self.scratch.charge(len(chunk), f"{self.label}: archive spooled to be opened")
        self.charged += len(chunk)
        self.buffer.write(chunk)

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.path is None:
            self.buffer.write(chunk)
            if self.size > IN_MEMORY_LIMIT:
                self._to_disk()
        else:
            self._disk_write(chunk)

    def file(self) -> IO[bytes]:
        self.buffer.flush()
        self.buffer.seek(0)
        return self.buffer

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.buffer.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None
        if self.scratch is not None:
            self.scratch.uncharge(self.charged)
        self.charged = 0


@dataclass
class _Child:
    source: ZipSource | TarSource
    spools: list[_Spool]
    sha256: str

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.source.close()
        for s in self.spools:
            s.close()


class NestedSource:
    """``top`` with the members of the archives found in it (see the module docstring).

    ``members``: what an earlier walk found (a worker reads members without walking again);
    ``scratch``: where big archives are spooled, charged to its budget (:meth:`use_scratch`).
    Warnings go to ``top``'s list.
    """

    def __init__(
        self,
        top: Source,
        *,
        limits: NestLimits | None = None,
        members: Members | None = None,
        scratch: Scratch | None = None,
    ) -> None:
        self.top = top
        self.kind = top.kind
        self.name = top.name
        self.warnings: list[WalkWarning] = top.warnings
        self.limits = limits or NestLimits()
        self.members: Members = {} if members is None else members
        self.archives = 0  # archives opened by the walk
        self._scratch = scratch
        self._open: OrderedDict[tuple[int | None, str], _Child] = OrderedDict()
        #: members walked so far in all archives (what ``total_members`` bounds); a worker that
        #: walks one archive of a run again sets it to what the run had walked before that archive
        self.walked = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.close_archives()
        self.top.close()

    def close_archives(self) -> None:
        """Close the archives held open and free their scratch."""
        while self._open:
            _, child = self._open.popitem(last=False)
            child.close()

    def use_scratch(self, scratch: Scratch | None) -> None:
        """Spool archives into ``scratch`` from now on (those spooled in another are closed)."""
        if scratch is not self._scratch:
            self.close_archives()
            self._scratch = scratch

    def filesystem(self, partition: int | None = None) -> Any:  # ImageSource's, for callers that need it
        return self.top.filesystem(partition)  # type: ignore[attr-defined]

    # -- listing -----------------------------------------------------------------------------------

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]:
        """``top``'s entries; recursive listings of the whole source add every archive's members
        right after the archive."""
        listed = self.top.entries(path, recursive=recursive, deleted_only=deleted_only, partition=partition)
        if not recursive or deleted_only or self.limits.depth < 1:
            yield from listed
            return
        for e in listed:
            yield e
            if e.type == "file" and not e.deleted and e.size >= 22:
                yield from self._expand(e, 1)

    def expand(self, entry: FileEntry) -> Iterator[FileEntry]:
        """The members of ``entry`` (a file of ``top``) when it is an archive, each followed by
        the members of the archives in it, within the limits; nothing when it is not one."""
        if self.limits.depth >= 1 and entry.type == "file" and not entry.deleted and entry.size >= 22:
            yield from self._expand(entry, 1)

    def hold(self, archive: FileEntry) -> None:
        """Open ``archive`` now and keep it open for its members' reads (cached as a walk's are);
        raises what opening raises (the scratch budget, a damaged archive, the evidence's reader),
        where :meth:`expand` would only warn."""
        self._child(archive, walking=False)

    def _head(self, entry: FileEntry) -> bytes:
        """The first bytes of ``entry``; what cannot be read is reported when the file itself is
        read (hashed), not here: the warnings of this look are dropped."""
        before = len(self.warnings)
        reader = self.read(entry, chunk_size=_HEAD)
        try:
            return next(iter(reader), b"")
        except Exception:
            return b""
        finally:
            with contextlib.suppress(Exception):
                reader.close()  # type: ignore[attr-defined]
            del self.warnings[before:]

    def _warn(self, archive: FileEntry, problem: str) -> None:
        self.warnings.append(WalkWarning(self.name, archive.path, problem))

    def _expand(self, archive: FileEntry, depth: int) -> Iterator[FileEntry]:
        head = self._head(archive)
        kind = sniff_archive(head)
        if kind is None:
            damage = damaged_stream(head)
            if damage is not None:  # a .tar.gz, or any compressed file, broken from its start
                self._warn(
                    archive, f"{damage}: whether it holds an archive cannot be told (hashed as a file)"
                )
            return
        limits = self.limits
        if depth > limits.depth:
            self._warn(
                archive,
                f"a {kind} archive nested {depth} levels deep, beyond the limit of {limits.depth}: "
                "its members are not walked (the archive is hashed as a file)",
            )
            return
        child = self._child(archive, walking=True)
        if child is None:
            return
        self.archives += 1
        source = child.source
        listing = list(source.entries(None, recursive=True))
        declared = sum(e.size for e in listing if e.type == "file")
        ratio = limits.ratio
        if ratio is None:
            from triage.sources.logical import max_expansion

            ratio = max_expansion()
        if declared > _RATIO_FLOOR and declared > ratio * max(archive.size, 1):
            self._warn(
                archive,
                f"the {kind} archive's members declare {declared} bytes from {archive.size}, more than "
                f"{ratio} times its size (a zip bomb?): its members are not walked (the archive is hashed as a file)",
            )
            return
        if declared > limits.expanded:
            self._warn(
                archive,
                f"the {kind} archive's members declare {declared} bytes, over the limit of "
                f"{limits.expanded} (a zip bomb?): its members are not walked (the archive is hashed as a file)",
            )
            return
        if len(listing) > limits.members:
            self._warn(
                archive,
                f"the {kind} archive has {len(listing)} members, over the limit of {limits.members}: "
                f"only the first {limits.members} are walked",
            )
            listing = listing[: limits.members]
        room = limits.total_members - self.walked
        if len(listing) > room:
            self._warn(
                archive,
                f"archives in the evidence hold more than {limits.total_members} members in all: "
                f"only {max(room, 0)} of this {kind} archive's {len(listing)} are walked",
            )
            listing = listing[: max(room, 0)]
        self.walked += len(listing)
        encrypted = source.encrypted()
        if encrypted:
            self._warn(
                archive,
                f"{encrypted} member(s) of the zip archive are encrypted: listed, but their content "
                "cannot be read (the archive is hashed as a file)",
            )
        for inner in listing:
            raw = source.member_name(inner)
            if raw is not None and (why := hostile_name(raw)):
                named = "/".join(display_name(part) for part in raw[:200].split(b"/"))  # as ls shows it
                self._warn(
                    archive,
                    f"member #{inner.inode} has a hostile name '{named}'"
                    f"{'...' if len(raw) > 200 else ''} ({', '.join(why)}): recorded as a name only, "
                    "never used as a path",
                )
            shown = replace(inner, path=f"{archive.path}{MARK}{inner.path}", partition=archive.partition)
            self.members[(shown.partition, shown.path)] = Member(archive, inner, depth, child.sha256)
            yield shown
            if inner.type == "file" and inner.size >= 22:
                yield from self._expand(shown, depth + 1)

    # -- looking up a member by path (exhibit cat, ls, export) -------------------------------------

    def locate(self, path: str, partition: int | None = None) -> FileEntry:
        """The entry at ``path``, which may be a member path (``/a/chat.zip!/msgstore.db``, deeper
        chains too): the archives on the way are opened (within the limits) to find it."""
        from triage.sources.lookup import find_entry

        clean = "/" + path.strip("/")
        start = 0
        while (cut := clean.find(MARK + "/", start)) != -1:
            start = cut + 1
            try:
                archive = find_entry(self.top, clean[:cut], partition)
            except EntryNotFound:
                continue
            if archive.type != "file":
                continue
            for e in self._expand(archive, 1):
                if e.path == clean:
                    return e
        return find_entry(self.top, clean, partition)

    def archive_entries(
        self, path: str, *, recursive: bool = False, partition: int | None = None
    ) -> Iterator[FileEntry]:
        """The members under ``path``, an archive's path followed by ``!`` and a folder inside it
        (``/a/chat.zip!``, ``/a/chat.zip!/Media``); EntryNotFound when it names no archive."""
        clean = "/" + path.strip("/")
        cut = clean.rfind(MARK)
        while cut > 0:
            inner = clean[cut + 1 :]
            if inner == "" or inner.startswith("/"):
                try:
                    archive = self.locate(clean[:cut], partition)
                except EntryNotFound:
                    archive = None
                if archive is not None and archive.type == "file":
                    prefix = f"{archive.path}{MARK}{'/' + inner.strip('/') if inner.strip('/') else ''}"
                    depth = 1 + sum(1 for _ in _chain_members(self.members, archive))
                    found = False
                    for e in self._expand(archive, depth):
                        found = True
                        rest = e.path[len(prefix) :] if e.path.startswith(prefix + "/") else None
                        if rest and (recursive or "/" not in rest.lstrip("/")):
                            yield e
                    if not found and prefix == f"{archive.path}{MARK}":
                        raise EntryNotFound(
                            f"{self.name}: {archive.path} is not an archive that can be opened"
                        )
                    return
            cut = clean.rfind(MARK, 0, cut)
        raise EntryNotFound(f"{self.name}: no archive in {clean!r}", hint="an archive's members: 'PATH!/'")

    # -- reading -----------------------------------------------------------------------------------

    def member(self, entry: FileEntry) -> Member | None:
        """The member ``entry`` is, or ``None`` when it is a file of ``top`` itself."""
        m = self.members.get((entry.partition, entry.path))
        if m is None or entry.fs_type != m.inner.fs_type or entry.inode != m.inner.inode:
            return None
        return m

    def read(self, entry: FileEntry, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        m = self.member(entry)
        if m is None:
            yield from self.top.read(entry, chunk_size=chunk_size)
            return
        child = self._child(m.archive, walking=False, expect=m.archive_sha256)
        if child is None:
            raise SourceUnreadable(f"{self.name}: {m.archive.path}: the archive cannot be opened")
        yield from child.source.read(m.inner, chunk_size=chunk_size)

    def _child(self, archive: FileEntry, *, walking: bool, expect: str | None = None) -> _Child | None:
        """The opened archive ``archive`` (cached); ``None`` and a warning when it cannot be opened
        while walking; raises when reading."""
        key = (archive.partition, archive.path)
        child = self._open.get(key)
        if child is not None:
            self._open.move_to_end(key)
            return child
        try:
            child = self._open_archive(archive, walking)
        except Exception as exc:  # zipfile, tarfile, the scratch budget, the evidence's reader
            if not walking:
                raise
            said = str(exc).removeprefix(f"{self.name}: {archive.path}: ")  # the warning names both already
            self._warn(
                archive,
                f"looks like an archive but cannot be opened: {said}; its members are not walked "
                "(the archive is hashed as a file)",
            )
            return None
        if expect is not None and child.sha256 != expect:
            child.close()
            raise SourceUnreadable(
                f"{self.name}: {archive.path}: the archive's content changed since the walk "
                f"(sha256 {child.sha256}, was {expect}); its members are not read"
            )
        self._open[key] = child
        while len(self._open) > _OPEN_CHILDREN:
            _, old = self._open.popitem(last=False)
            old.close()
        return child

    def _open_archive(self, archive: FileEntry, walking: bool = True) -> _Child:
        from triage.sources.logical import TarSource, ZipSource

        label = f"{self.name}: {archive.path}"
        spool = _Spool(self._scratch, label, archive.size > IN_MEMORY_LIMIT)
        spools = [spool]
        try:
            digest = hashlib.sha256()
            for chunk in self.read(archive):
                digest.update(chunk)
                spool.add(chunk)
            fh = spool.file()
            head = fh.read(_HEAD)
            fh.seek(0)
            kind = sniff_archive(head)
            name = f"{self.name}: {archive.path}"
            source: ZipSource | TarSource
            if kind == "zip":
                source = ZipSource(Path(archive.name), fileobj=fh, name=name)
            elif kind == "tar":
                if head[257:262] != b"ustar":  # compressed: decompress within the limits first
                    plain = self._decompress(fh, head, spool.size, label)
                    spools.append(plain)
                    fh = plain.file()
                source = TarSource(Path(archive.name), fileobj=fh, name=name)
            else:
                raise SourceUnreadable(f"{label}: not a zip or tar archive")
            # the child's warnings are the source's (a member read, a duplicate name); what its
            # opening found is the walk's to say, not again for a member read from it (found in
            # review: a duplicate name warned by the walk and for the member)
            if walking:
                self.warnings.extend(source.warnings)
            source.warnings = self.warnings
            return _Child(source, spools, digest.hexdigest())
        except BaseException:
            for s in spools:
                s.close()
            raise

    def _decompress(self, fh: IO[bytes], head: bytes, size: int, label: str) -> _Spool:
        """A compressed tar's stream, decompressed into a spool: at most ``expanded`` bytes and
        ``ratio`` times the compressed size (past either, SourceUnreadable: a bomb)."""
        import gzip

        limits = self.limits
        ratio = limits.ratio
        if ratio is None:
            from triage.sources.logical import max_expansion

            ratio = max_expansion()
        cap = min(limits.expanded, max(ratio * size, _RATIO_FLOOR))
        stream: Any
        if head[:2] == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=fh)
        elif head[:3] == b"BZh":
            stream = bz2.BZ2File(fh)
        else:
            stream = lzma.LZMAFile(fh)  # noqa: SIM115 - closed by the with below
        out = _Spool(self._scratch, label, False)
        try:
            with stream:
                while chunk := stream.read(DEFAULT_CHUNK):
                    if out.size + len(chunk) > cap:
                        raise SourceUnreadable(
                            f"{label}: the compressed tar expands to more than {cap} bytes "
                            f"(limit: {limits.expanded} bytes, or {ratio} times its {size} bytes): "
                            "a bomb, or beyond the limits"
                        )
                    out.add(chunk)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            out.close()
            raise SourceUnreadable(f"{label}: the compressed tar is damaged: {exc}") from exc
        except BaseException:
            out.close()
            raise
        return out


def _chain_members(members: Members, entry: FileEntry) -> Iterator[Member]:
    m = members.get((entry.partition, entry.path))
    while m is not None and entry.fs_type == m.inner.fs_type and entry.inode == m.inner.inode:
        yield m
        entry = m.archive
        m = members.get((entry.partition, entry.path))


def chain_of(members: Members, entry: FileEntry) -> list[tuple[FileEntry, str]]:
    """The archives ``entry`` is inside, innermost first, each with its SHA-256 (empty: none)."""
    chain = []
    m = members.get((entry.partition, entry.path))
    while m is not None and entry.fs_type == m.inner.fs_type and entry.inode == m.inner.inode:
        chain.append((m.archive, m.archive_sha256))
        entry = m.archive
        m = members.get((entry.partition, entry.path))
    return chain
