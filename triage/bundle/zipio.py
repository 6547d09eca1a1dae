"""Writing a bundle zip reproducibly, and reading one that may be hostile.

Writing: members in name order, every one with the same timestamp (taken from the ledger's latest
checkpoint, never the clock), permissions and compression, no extra fields, so the same case
state gives the same bytes. The zip is written to a temporary file beside the target and linked
into place only when complete; an existing file is never replaced.

Reading: nothing is ever extracted to disk. A member is read into memory only after its name,
its declared size, the total and the compression ratio passed the checks below; a member that
inflates beyond its declared size is refused as it is read. Member names must be plain relative
paths of the characters a bundle uses (no ``..``, no absolute path, no backslash, no duplicates);
empty folder entries, which zip tools add, are skipped.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from triage.bundle.errors import BundleError
from triage.bundle.layout import MEMBER_NAME

MAX_MEMBERS = 100_000
MAX_MEMBER_SIZE = 2 * 1024**3  # one member (the findings rows of a large phone are ~100 MB)
MAX_TOTAL_SIZE = 8 * 1024**3  # every member together, uncompressed
MAX_RATIO = 1000  # uncompressed / compressed, above which a member over RATIO_FLOOR is a bomb
RATIO_FLOOR = 16 * 1024**2
_CHUNK = 1024 * 1024
_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_UNIX = 3


# -- writing --------------------------------------------------------------------------------------


class BundleWriter:
    """A deterministic zip written to ``path`` when :meth:`commit` is called (else nothing)."""

    def __init__(self, path: Path, date_time: tuple[int, int, int, int, int, int]) -> None:
        self.path = path
        self.date_time = date_time
        if path.exists() or path.is_symlink():
            raise BundleError(
                f"{path} already exists", hint="choose a new file name; a bundle is never replaced"
            )
        folder = path.parent if str(path.parent) else Path(".")
        try:
            handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=folder)
        except OSError as exc:
            raise BundleError(
                f"cannot write in {folder}: {exc.strerror}", hint="check the folder exists and is writable"
            ) from None
        os.close(handle)
        self.temp = Path(temp)
        self.zip = zipfile.ZipFile(self.temp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)

    def _info(self, name: str, size: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = _UNIX
        info.external_attr = _MODE
        info.file_size = size
        for attribute in ("compress_level", "_compresslevel"):  # renamed in Python 3.13 (slots)
            with contextlib.suppress(AttributeError):
                setattr(info, attribute, 9)
        return info

    def add(self, name: str, data: bytes) -> None:
        with self.zip.open(self._info(name, len(data)), "w") as out:
            out.write(data)

    def add_file(self, name: str, source: IO[bytes], size: int) -> None:
        source.seek(0)
        with self.zip.open(self._info(name, size), "w") as out:
            shutil.copyfileobj(source, out, _CHUNK)

    def commit(self) -> None:
        self.zip.close()
        try:
            os.link(self.temp, self.path)  # fails when the target appeared meanwhile: never replaced
        except FileExistsError:
            raise BundleError(f"{self.path} already exists", hint="choose a new file name") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if self.path.exists():
                raise BundleError(f"{self.path} already exists", hint="choose a new file name") from None
            os.rename(self.temp, self.path)  # a file system without hard links
        finally:
            self.discard()

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.zip.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


# -- reading --------------------------------------------------------------------------------------


@dataclass
class Members:
    """The members of a bundle read into memory; ``damaged`` names those whose data did not
    match the zip's own CRC (they are in ``data`` as None)."""

    data: dict[str, bytes | None] = field(default_factory=dict)
    damaged: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.data))


def read_members(path: Path) -> Members:
    """Every member of the bundle at ``path``, or :class:`BundleError` for a file that is not a
    zip or that a bundle could never be (then nothing was read into memory beyond the directory)."""
    where = str(path)

    def refuse(why: str) -> BundleError:
        return BundleError(
            f"{where}: refused: {why}; nothing was extracted or written",
            hint="ask for the bundle again; a bundle made by 'exhibit bundle' has none of these",
        )

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise BundleError(f"cannot open {where}: {exc.strerror}", hint="check the path") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise refuse("it is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise refuse(f"it is not a zip file ({exc})") from None
        with archive:
            infos = archive.infolist()
            _check_directory(infos, refuse)
            members = Members()
            for info in infos:
                if info.is_dir():
                    continue
                try:
                    members.data[info.filename] = _read(archive, info, refuse)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                    members.data[info.filename] = None
                    members.damaged[info.filename] = f"its data is damaged in the zip ({exc})"
    return members


def _check_directory(infos: list[zipfile.ZipInfo], refuse: Callable[[str], BundleError]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise refuse(f"it has {len(infos)} members (a bundle has far fewer than {MAX_MEMBERS})")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        shown = ascii(name)[1:-1][:200]
        if name.endswith("/") and info.file_size == 0 and MEMBER_NAME.match(name[:-1]):
            continue  # a folder entry (zip tools add them): nothing to read
        parts = name.split("/")
        if not MEMBER_NAME.match(name) or any(p in (".", "..") for p in parts):
            raise refuse(f"member name {shown!r} is not a plain relative path of a bundle (path traversal?)")
        if name in seen:
            raise refuse(f"member {shown!r} appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise refuse(f"member {shown!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"member {shown!r} uses compression method {info.compress_type}")
        if info.file_size > MAX_MEMBER_SIZE:
            raise refuse(
                f"member {shown!r} is {info.file_size} bytes uncompressed (more than {MAX_MEMBER_SIZE})"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refuse(
                f"member {shown!r} inflates {info.compress_size} bytes to {info.file_size} (a zip bomb)"
            )
        total += info.file_size
        if total > MAX_TOTAL_SIZE:
            raise refuse(f"its members add up to more than {MAX_TOTAL_SIZE} bytes uncompressed")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, refuse: Callable[[str], BundleError]) -> bytes:
    chunks = []
    size = 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > info.file_size:  # inflates beyond what it declared
                raise refuse(f"member {ascii(info.filename)[1:-1]!r} inflates beyond its declared size")
            chunks.append(chunk)
    return b"".join(chunks)
