"""A file as found in the evidence, and the protocol every evidence source follows.

:class:`FileEntry` is what every source yields (disk images, folders, archives); :class:`Source`
is what the engine and the views use to list and read them. This module imports no source, so
each of them (and everything above) can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring as _enc
from typing import Any, Protocol

from triage.errors import WalkWarning


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One directory entry (or one NTFS stream of it) as found in the evidence.

    ``path`` and ``name`` are display-safe and reversible (:func:`triage.sanitize.display_name`);
    ``name_bytes`` is the name exactly as TSK decoded it from disk (UTF-8 for NTFS/FAT/exFAT/HFS,
    raw bytes for ext/UFS). ``inode`` is TSK's meta address (the MFT entry number on NTFS: match it
    with the first number of fls's ``35-128-1``); ``attr_type``/``attr_id`` are the other two, set
    on NTFS only. ``deleted`` means the *name* is unallocated (fls's ``*``); ``realloc`` that the
    metadata it points to now belongs to another, allocated file (fls's ``(realloc)``).

    Times are ISO 8601 strings (``Z``-suffixed UTC) or ``None`` when the file system does not keep
    that time; when ``times_local`` is true (FAT, exFAT, ISO 9660) the file system stored wall-clock
    time of an unknown zone, and the strings carry no zone suffix at all.

    ``backup_file`` is set where the file's content is stored under another name than ``path``:
    in an iTunes/Finder backup, ``/HomeDomain/Library/SMS/sms.db`` is read from the hashed file
    ``3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28`` (relative to the backup folder, ``/``-separated).
    It is provenance: the file an examiner can go to. ``None`` everywhere else.

    A member of a zip or tar found inside the evidence (triage/sources/nested.py) has the
    archive's ``path``, ``!`` and its own path inside the archive as ``path``
    (``/Users/a/chat.zip!/msgstore.db``), the archive's ``partition``, ``fs_type`` ``zip`` or
    ``tar`` and its index in the archive as ``inode``.
    """

    partition: int | None  # byte offset of the file system in the image (None: logical source)
    fs_type: str  # "ntfs", "fat16", "ext4", "iso9660", ... "folder", "zip", "tar", "ios-backup"
    path: str  # "/dir/file", "/file:stream"; display-safe, starts with "/"
    name: str  # last component, display-safe (with ":stream" for NTFS streams)
    name_bytes: bytes  # last component as stored (without the stream)
    inode: int | None  # meta address; member index for archives
    type: str  # file, dir, link, fifo, char, block, socket, whiteout, shadow, virtual, virtual-dir, unknown
    size: int
    deleted: bool
    realloc: bool = False
    attr_type: int | None = None  # NTFS attribute type (128 = $DATA, 144 = $INDEX_ROOT)
    attr_id: int | None = None
    stream: str | None = None  # NTFS stream name ("ADS", "$O"), None for the default stream
    mtime: str | None = None
    atime: str | None = None
    ctime: str | None = None  # metadata change (ext, NTFS $MFT modified)
    crtime: str | None = None  # creation / birth
    times_local: bool = False
    mode: int | None = None  # permission bits (0o7777) where the file system has them
    uid: int | None = None
    gid: int | None = None
    fls_type: str | None = None  # fls's type column, name type / meta type: "r/r", "-/r", "d/d", "V/V"
    backup_file: str | None = None  # the stored file read for this entry (iTunes backups), see above

    @property
    def allocated(self) -> bool:
        return not self.deleted

    @property
    def address(self) -> str:
        """TSK's address of this entry: ``35`` or ``35-128-3`` (what ``icat`` accepts)."""
        if self.inode is None:
            return ""
        if self.attr_type is None:
            return str(self.inode)
        return f"{self.inode}-{self.attr_type}-{self.attr_id}"


def _make_entry_factory() -> Callable[..., FileEntry]:
    """Return a callable taking FileEntry's positional arguments and building a FileEntry, fast.

    A frozen dataclass sets each of its 21 fields through ``object.__setattr__`` in ``__init__``;
    that alone cost more than the whole TSK directory walk per entry. So we build a plain slotted
    twin with the same fields (same slot layout) and switch its ``__class__`` to FileEntry: the
    result is a genuine, frozen FileEntry. Falls back to the normal constructor where the
    interpreter refuses the switch.
    """
    from dataclasses import MISSING, fields, make_dataclass

    flds = fields(FileEntry)
    params = ", ".join(f.name if f.default is MISSING else f"{f.name}={f.default!r}" for f in flds)
    body = "".join(f"    self.{f.name} = {f.name}\n" for f in flds)
    namespace: dict[str, Any] = {"_FileEntry": FileEntry}
    # One generated __init__: plain slot stores, then the class switch; no extra call per entry.
    exec(f"def __init__(self, {params}):\n{body}    self.__class__ = _FileEntry\n", namespace)
    draft_cls = make_dataclass("_FileEntryDraft", [(f.name, f.type) for f in flds], slots=True, init=False)
    setattr(draft_cls, "__init__", namespace["__init__"])  # noqa: B010 - mypy rejects the plain assignment
    try:
        probe = draft_cls(*([None] * 9))
    except TypeError:  # pragma: no cover - interpreters that refuse the switch
        return FileEntry
    assert type(probe) is FileEntry
    return draft_cls


#: ``new_entry(...)`` == ``FileEntry(...)``, about four times faster (see _make_entry_factory).
new_entry = _make_entry_factory()


class Source(Protocol):
    """Anything triage can list and read: a disk image or a logical source (folder, zip, tar)."""

    kind: str  # "image", "folder", "zip", "tar", "file", "ios-backup"
    name: str
    warnings: list[WalkWarning]

    def entries(
        self,
        path: str | None = None,
        *,
        recursive: bool = False,
        deleted_only: bool = False,
        partition: int | None = None,
    ) -> Iterator[FileEntry]: ...

    def read(self, entry: FileEntry, *, chunk_size: int = ...) -> Iterator[bytes]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...


_JSON_KEYS = (
    "partition",
    "fs_type",
    "path",
    "name",
    "inode",
    "attr_type",
    "attr_id",
    "stream",
    "type",
    "size",
    "deleted",
    "realloc",
    "mtime",
    "atime",
    "ctime",
    "crtime",
    "times_local",
    "mode",
    "uid",
    "gid",
)


def entry_to_json(entry: FileEntry) -> dict[str, Any]:
    """A JSON-ready dict of ``entry`` (callers add ``sha256`` when they know it).

    ``name_bytes`` is not included: ``path``/``name`` are reversible
    (:func:`triage.sanitize.display_to_bytes`), and hex would double the size of every line.
    ``backup_file`` is included only when set (entries of an iTunes backup), so the lines of every
    other source stay as they were (and as the C walk writes them).
    """
    out = {key: getattr(entry, key) for key in _JSON_KEYS}
    if entry.backup_file is not None:
        out["backup_file"] = entry.backup_file
    return out


_JSON_LINE = (
    '{"partition": %s, "fs_type": "%s", "path": %s, "name": %s, "inode": %s, "attr_type": %s, '
    '"attr_id": %s, "stream": %s, "type": "%s", "size": %d, "deleted": %s, "realloc": %s, '
    '"mtime": %s, "atime": %s, "ctime": %s, "crtime": %s, "times_local": %s, "mode": %s, '
    '"uid": %s, "gid": %s}'
)
_JSON_BOOL = {True: "true", False: "false"}


def entry_to_json_line(entry: FileEntry) -> str:
    """``json.dumps(entry_to_json(entry))`` (same keys, same order), about twice as fast.

    For ``ls -r --json`` on large disks, where serialisation would otherwise cost as much as the
    walk. Only ``path``, ``name`` and ``stream`` can hold characters JSON must escape; the other
    strings are produced by this package (types, fs names, ISO times) and are plain ASCII.
    """
    e = entry
    p, i, at, ai, st = e.partition, e.inode, e.attr_type, e.attr_id, e.stream
    mt, a, c, cr = e.mtime, e.atime, e.ctime, e.crtime
    mo, u, g = e.mode, e.uid, e.gid
    b = _JSON_BOOL
    line = _JSON_LINE % (
        "null" if p is None else p, e.fs_type, _enc(e.path), _enc(e.name), "null" if i is None else i,
        "null" if at is None else at, "null" if ai is None else ai, "null" if st is None else _enc(st),
        e.type, e.size, b[e.deleted], b[e.realloc],
        "null" if mt is None else '"' + mt + '"', "null" if a is None else '"' + a + '"',
        "null" if c is None else '"' + c + '"', "null" if cr is None else '"' + cr + '"',
        b[e.times_local], "null" if mo is None else mo, "null" if u is None else u, "null" if g is None else g,
    )  # fmt: skip
    if e.backup_file is not None:
        return line[:-1] + ', "backup_file": ' + _enc(e.backup_file) + "}"
    return line
