"""Read-only access to evidence media: raw, split raw and E01 images.

Everything here opens evidence for reading only. Images are exposed as :class:`ImageReader`
objects giving random access to the *media data* (the bytes of the original disk), whatever the
container, so hashing (custody) and file-system parsing (triage, via pytsk3) share one reader.

Evidence is sacred, so:

* every file is opened with ``os.O_RDONLY`` (plus ``O_NOATIME`` where the kernel permits it, so
  reading does not even move the access time); nothing here writes, touches or renames a file;
* E01 sets are opened through :mod:`pyewf` from file objects *we* opened that way (mode ``"r"``),
  rather than letting libewf open the paths itself;
* incompleteness is an error, never a silent short image: a split raw set with a gap, or an E01 set
  whose last segment says "more follows", raises :class:`~custody.errors.EvidenceError` naming the
  missing file before a single byte is hashed.

How a path is classified (:func:`detect_source`, also used by acquisition)::

    directory holding an iTunes/Finder backup (below)    -> "ios-backup"
    any other directory                                  -> "folder"
    EWF signature at offset 0 (EVF1 "EVF\\x09\\x0d\\x0a\\xff\\x00" or EVF2)   -> "e01"
    name ends in .E01-.E99/.Ex01-.Ex99 but no EWF signature -> EvidenceError "not an EWF file"
    split-raw name (.000/.001/.aa ...) and a sibling segment exists -> "split-raw"
    "PK\\x03\\x04" at offset 0 and a readable central directory -> "zip"
    ustar header (plain, or inside gzip/bzip2/xz)         -> "tar"
    image extension (.dd .raw .img .bin .iso .000 .001 .aa ...) -> "raw"
    libmagic says file system / boot sector / partition table -> "raw"
    anything else                                         -> "file"

A raw image can be any bytes, so the tests for zip and tar are deliberately strict (a disk image
that happens to start with zeros is a valid empty tar to :func:`tarfile.is_tarfile`, and one that
ends with a zip's end record passes :func:`zipfile.is_zipfile`). A caller who knows better forces
the kind: ``open_image(path, kind="raw")`` or ``acquire_source(path, kind=...)``.

An iTunes/Finder backup of an iPhone or iPad is a folder whose files are named by a hash
(``<2 hex>/<40 hex>``, the SHA-1 of ``domain-relativePath``) and listed in ``Manifest.db``; it is
recorded as "ios-backup" so that triage shows its files under their domain paths
(:mod:`triage.sources.ios_backup`). It is hashed exactly as a folder is. The test is strict: the
folder itself (not a folder above it) holds a regular ``Manifest.db``, a regular
``Manifest.plist`` or ``Info.plist``, and at least one two-hex-digit sub-folder (or, as very old
backups have it, one file named by 40 hex digits). Anything else stays a "folder".

A lone ``x.001`` (no siblings) is a one-file raw image: only a sibling makes it a split set. That
is why ``bogus.001`` (dfvfs' "not an image" sample) opens as a 51 200-byte raw image here; it is
triage, looking for a volume or file system in it, that reports "no file system found".
"""

from __future__ import annotations

import os
import re
import stat
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from custody.errors import EvidenceError, UnsupportedSource

EWF1_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
EWF2_SIGNATURE = b"EVF2\x0d\x0a\x81\x00"
LEF1_SIGNATURE = b"LVF\x09\x0d\x0a\xff\x00"  # L01: logical evidence (files, not media)
LEF2_SIGNATURE = b"LEF2\x0d\x0a\x81\x00"

IMAGE_KINDS = ("raw", "split-raw", "e01")
SOURCE_KINDS = ("raw", "split-raw", "e01", "file", "folder", "ios-backup", "zip", "tar")
#: Kinds whose evidence is a folder on disk, hashed file by file (the manifest in acquisition.py).
FOLDER_KINDS = ("folder", "ios-backup")

# Extensions that say "this is a disk image" when nothing else does.
RAW_EXTENSIONS = frozenset({".dd", ".raw", ".img", ".bin", ".iso", ".000", ".001", ".aa", ".dmg", ".ima"})
# Words libmagic uses for media that holds a partition table or a file system.
_MAGIC_MEDIA_WORDS = (
    "filesystem",
    "file system",
    "boot sector",
    "partition",
    "iso 9660",
    "ntfs",
    "fat (",
    "squashfs",
    "gpt",
    "apple partition map",
    "lvm2",
    "luks",
)
# .E01-.E99 / .Ex01-.Ex99: a name that promises an EWF segment. Only digits: .eps or .exe promise nothing.
_EWF_NAME = re.compile(r"\.[Ee][Xx]?\d\d$")

_O_NOATIME: int = getattr(os, "O_NOATIME", 0)

# An iTunes/Finder backup's layout: sub-folders named by the first two hex digits of a file's ID.
_HASH_FOLDER = re.compile(r"[0-9a-f]{2}")
_FILE_ID = re.compile(r"[0-9a-f]{40}")


def open_readonly(path: Path | str, *, dir_fd: int | None = None, directory: bool = False) -> int:
    """Open ``path`` read-only, without moving its access time when the kernel lets us.

    ``O_NOATIME`` is only allowed to the file's owner (or root); anyone else gets ``EPERM``, and we
    then fall back to a plain ``O_RDONLY``: atime may move (mtime never does).
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    if directory:
        flags |= getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    if _O_NOATIME:
        try:
            return os.open(path, flags | _O_NOATIME, dir_fd=dir_fd)
        except PermissionError:
            pass
    return os.open(path, flags, dir_fd=dir_fd)


class ImageReader(Protocol):
    """Random read-only access to the media data of a disk image."""

    kind: str  # "raw" | "split-raw" | "e01"
    segments: Sequence[Path]  # every file that makes up the image, in order
    size: int  # media size in bytes

    def read_at(self, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``offset`` (short only at the end of the media)."""
        ...

    def close(self) -> None: ...


@dataclass
class E01Info:
    """What an E01 container says about itself (recorded at acquisition, re-checked on rehash)."""

    stored_hashes: dict[str, str]  # algorithm ("md5", "sha1") -> hex, as stored inside the E01
    headers: dict[str, str] = field(default_factory=dict)  # case_number, evidence_number, examiner_name,
    # notes, description, acquiry_date, system_date, acquiry_software_version, ...
    media_size: int = 0
    bytes_per_sector: int = 512

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RawReader:
    """A single raw/dd file."""

    kind = "raw"

    def __init__(self, path: Path) -> None:
        self.segments: Sequence[Path] = [path]
        self._fd = open_readonly(path)
        self.size = os.fstat(self._fd).st_size

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> RawReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------------------- split raw


@dataclass(frozen=True)
class _SplitName:
    """``stem`` + ``.`` + suffix, where the suffix is a segment number (digits or letters)."""

    stem: str
    suffix: str
    alphabet: str  # "0123456789", "abc...z" or "ABC...Z"

    @property
    def index(self) -> int:
        return _suffix_index(self.suffix, self.alphabet)

    def name_for(self, index: int) -> str:
        return f"{self.stem}.{_suffix_for(index, len(self.suffix), self.alphabet)}"


_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()


def _suffix_index(suffix: str, alphabet: str) -> int:
    value = 0
    for ch in suffix:
        value = value * len(alphabet) + alphabet.index(ch)
    return value


def _suffix_for(index: int, width: int, alphabet: str) -> str:
    chars = []
    for _ in range(width):
        index, rem = divmod(index, len(alphabet))
        chars.append(alphabet[rem])
    return "".join(reversed(chars))


def _split_name(name: str) -> _SplitName | None:
    """Parse ``name`` as a split-raw segment name, or None.

    Recognised: 3+ digit numeric suffixes (``.000``, ``.001``; width kept, so ``.0001`` sets work)
    and 2+ letter alphabetic suffixes of one case (``.aa``, ``.ab``, ... as GNU ``split`` writes).
    Only the last suffix matters: ``disk.raw.000`` has stem ``disk.raw``.
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return None
    if len(suffix) >= 3 and suffix.isascii() and suffix.isdigit():
        return _SplitName(stem, suffix, _DIGITS)
    if 2 <= len(suffix) <= 4 and suffix.isascii() and suffix.isalpha():
        if suffix.islower():
            return _SplitName(stem, suffix, _LOWER)
        if suffix.isupper():
            return _SplitName(stem, suffix, _UPPER)
    return None


def split_raw_segments(path: Path) -> list[Path] | None:
    """The ordered segments of the split raw set ``path`` belongs to, or None if it is not one.

    ``path`` may be any segment. Candidates are siblings with the same stem and a suffix of the
    same shape (digits of the same width, or letters of the same width and case). Returns None
    when fewer than two segments make a set. Rules, strict for numbers and wary for letters since
    two-letter extensions are everywhere (``x.gz`` beside ``x.py`` is not a split set):

    * numeric (``.000``/``.001``...): the set must start at 0 or 1 and be contiguous up to the
      highest number present; a gap raises :class:`EvidenceError` naming the first missing file,
      as does a 3-digit set without ``.000``/``.001`` (wider numbers, e.g. ``log.2023`` beside
      ``log.2024``, are then just files);
    * alphabetic (``.aa``, ``.ab``...): the set is the contiguous run from ``.aa``. A sibling past
      the end of the run is a missing segment (error) only if the run's last file is as long as
      its first, i.e. looks like a full, non-final segment (``split -b`` makes all but the last
      segment the same size); otherwise the run is the whole set and the sibling is unrelated.

    A trailing missing segment cannot be detected from names alone (raw has no footer).
    """
    parsed = _split_name(path.name)
    if parsed is None:
        return None
    folder = path.parent
    found: dict[int, Path] = {}
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise EvidenceError(f"{folder}: cannot list folder: {exc.strerror}") from exc
    for name in names:
        other = _split_name(name)
        if (
            other is not None
            and other.stem == parsed.stem
            and other.alphabet == parsed.alphabet
            and len(other.suffix) == len(parsed.suffix)
            and (folder / name).is_file()
        ):
            found[other.index] = folder / name
    if len(found) < 2:
        return None
    hint = "find the missing segment file and put it beside the others"
    if parsed.alphabet != _DIGITS:
        run: list[Path] = []
        while len(run) in found:
            run.append(found[len(run)])
        if len(run) < 2 or path not in run:
            return None
        if len(found) > len(run) and run[-1].stat().st_size == run[0].stat().st_size:
            missing = folder / parsed.name_for(len(run))
            raise EvidenceError(
                f"{missing}: segment missing from split raw set {folder / parsed.stem}.* "
                f"(have {run[0].name}..{run[-1].name}, all full-size, and more segments after the gap)",
                hint=hint,
            )
        _check_sizes(run, folder / parsed.stem)
        return run
    start = min(found)
    if start > 1:
        if len(parsed.suffix) != 3:
            return None
        expected = folder / parsed.name_for(1)
        raise EvidenceError(
            f"{expected}: first segment of split raw set {parsed.stem}.* is missing "
            f"(neither {parsed.name_for(0)} nor {parsed.name_for(1)} is there)",
            hint=hint,
        )
    for index in range(start, max(found) + 1):
        if index not in found:
            missing = folder / parsed.name_for(index)
            raise EvidenceError(
                f"{missing}: segment missing from split raw set {folder / parsed.stem}.* "
                f"(have {len(found)} segments up to {found[max(found)].name})",
                hint=hint,
            )
    segments = [found[i] for i in sorted(found)]
    _check_sizes(segments, folder / parsed.stem)
    return segments


def _check_sizes(segments: list[Path], stem: Path) -> None:
    """Every segment but the last is as long as the first (``split -b``, dc3dd, FTK Imager and
    ewfexport cut them so): a shorter or longer one is a copy cut short or a file that is no
    segment, and reading on would shift every byte after it (found in review: accepted silently)."""
    try:
        sizes = [p.stat().st_size for p in segments]
    except OSError as exc:
        raise EvidenceError(f"{stem}.*: cannot read the split raw set: {exc.strerror}") from exc
    for path, size in zip(segments[1:-1], sizes[1:-1], strict=True):
        if size != sizes[0]:
            raise EvidenceError(
                f"{path}: {size} bytes in a split raw set whose segments are {sizes[0]} bytes "
                f"({segments[0].name}); only the last may be shorter",
                hint="a segment cut short when it was copied: copy it again from the original; if these "
                "files are not one image, acquire each alone with --kind raw (or file)",
            )
    if sizes[-1] > sizes[0]:
        raise EvidenceError(
            f"{segments[-1]}: {sizes[-1]} bytes, longer than the other segments of its split raw set "
            f"({sizes[0]} bytes): not the last segment of that set",
            hint="if these files are not one image, acquire each alone with --kind raw (or file)",
        )


class SplitRawReader:
    """A raw image cut into consecutive segment files, read as one.

    File descriptors are opened on demand and kept in a small LRU cache, so a set of thousands of
    segments does not exhaust the process' descriptor limit.
    """

    kind = "split-raw"
    max_open = 32

    def __init__(self, segments: Sequence[Path]) -> None:
        if not segments:
            raise EvidenceError("empty split raw set")
        self.segments: Sequence[Path] = list(segments)
        self.sizes = [p.stat().st_size for p in self.segments]
        self.starts: list[int] = []
        total = 0
        for size in self.sizes:
            self.starts.append(total)
            total += size
        self.size = total
        self._fds: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()
        self._fd(0)  # fail now, not at the first read, if the first segment is unreadable

    def _fd(self, index: int) -> int:
        with self._lock:
            fd = self._fds.get(index)
            if fd is not None:
                self._fds.move_to_end(index)
                return fd
            try:
                fd = open_readonly(self.segments[index])
            except OSError as exc:
                raise EvidenceError(f"{self.segments[index]}: cannot open segment: {exc.strerror}") from exc
            self._fds[index] = fd
            while len(self._fds) > self.max_open:
                _, old = self._fds.popitem(last=False)
                os.close(old)
            return fd

    def _segment_of(self, offset: int) -> int:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        parts: list[bytes] = []
        index = self._segment_of(offset)
        while length > 0 and index < len(self.segments):
            within = offset - self.starts[index]
            want = min(length, self.sizes[index] - within)
            if want > 0:
                data = os.pread(self._fd(index), want, within)
                if len(data) != want:
                    raise EvidenceError(
                        f"{self.segments[index]}: segment shorter than when the set was opened "
                        f"(read {len(data)} of {want} bytes at {within})",
                        hint="the evidence changed while being read: find out why",
                    )
                parts.append(data)
                offset += want
                length -= want
            index += 1
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def __enter__(self) -> SplitRawReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------- EWF


def _read_head(path: Path, length: int) -> bytes:
    fd = open_readonly(path)
    try:
        return os.pread(fd, length, 0)
    finally:
        os.close(fd)


def _ewf_ext_for(number: int, first_ext: str) -> str:
    """The extension libewf gives segment ``number`` (1-based) of a set whose first is ``first_ext``.

    ``E01``..``E99``, then ``EAA``..``EZZ``, ``FAA``..: letters continue where the digits stop
    (``Ex01`` sets: ``Ex99`` then ``ExAA``). The case follows the first extension's.
    """
    base = first_ext[:-2] or "E"
    if number < 100:
        return f"{base}{number:02d}"
    rest = number - 100
    if len(base) == 1:
        major, rest = divmod(rest, 26 * 26)
        text = chr(ord(base.upper()) + major) + chr(ord("A") + rest // 26) + chr(ord("A") + rest % 26)
    else:
        text = base.upper() + chr(ord("A") + rest // 26 % 26) + chr(ord("A") + rest % 26)
    return text if base[0].isupper() else text.lower()


def _ewf1_last_section(seg: Path) -> str | None:
    """The type of the last section of EWF1 segment file ``seg`` ("next", "done"), by its chain.

    Each section starts with a 76-byte descriptor (type[16], next offset, size, padding, checksum);
    the chain starts at byte 13 and ends at a ``next`` (more segments follow) or ``done`` (last
    segment) section. Returns None if the chain is damaged (offsets going backwards or out of the
    file): libewf then has the last word. A chain running past the end of the file means the file
    was cut short: that is an :class:`EvidenceError`.
    """
    fd = open_readonly(seg)
    try:
        file_size = os.fstat(fd).st_size
        offset = 13
        for _ in range(1_000_000):
            desc = os.pread(fd, 76, offset)
            if len(desc) < 76:
                raise EvidenceError(
                    f"{seg}: EWF segment file is truncated (section chain ends at byte {offset})",
                    hint="the file was cut short, e.g. an acquisition that did not finish or a bad copy",
                )
            kind = desc[:16].rstrip(b"\0").decode("ascii", "replace")
            (nxt,) = struct.unpack("<Q", desc[16:24])
            if kind in ("done", "next") or nxt == offset:
                return kind
            if nxt <= offset or nxt > file_size:
                return None
            offset = nxt
        return None
    finally:
        os.close(fd)


def _ewf1_segment_check(segments: Sequence[Path]) -> None:
    """Check an EWF1 set is complete: numbered 1..n, ``next`` ending each but the last, ``done`` it.

    libewf opens a set whose later segments are missing without complaint (the media size is in
    the first segment) and fails only when a read reaches the gap; the stored hash sits in the last
    segment, so it silently looks absent. The section chains say whether more segments follow.
    """
    hint = "find the missing segment file and put it beside the others"
    for number, seg in enumerate(segments, start=1):
        head = _read_head(seg, 13)
        if head[:8] != EWF1_SIGNATURE:
            raise EvidenceError(f"{seg}: not an EWF segment file (no EVF signature)")
        (stored_number,) = struct.unpack("<H", head[9:11])
        if stored_number != number:
            raise EvidenceError(
                f"{seg}: is segment {stored_number} of an EWF set, expected segment {number}",
                hint="the segment files of different images may have been mixed up",
            )
        last = _ewf1_last_section(seg)
        if last == "next" and number == len(segments):
            ext = _ewf_ext_for(number + 1, segments[0].suffix[1:])
            raise EvidenceError(
                f"{seg.with_suffix('.' + ext)}: segment {number + 1} of EWF set {segments[0]} is missing "
                f"({seg.name} says more segments follow)",
                hint=hint,
            )
        if last == "done" and number < len(segments):
            raise EvidenceError(
                f"{seg}: ends the EWF set, yet {segments[number].name} follows it",
                hint="a segment file of another image may sit beside this set: move it away",
            )


def _first_ewf_segment(path: Path, head: bytes) -> Path:
    """For any segment of an EWF1 set, the first segment's path (named by libewf's scheme)."""
    if head[:8] != EWF1_SIGNATURE or len(head) < 11:
        return path
    (number,) = struct.unpack("<H", head[9:11])
    if number <= 1:
        return path
    ext = path.suffix[1:]
    first = path.with_suffix("." + ("E" if ext[:1].isupper() else "e") + "01")
    if len(ext) == 4:  # Ex01
        first = path.with_suffix("." + ext[:2] + "01")
    if not first.is_file():
        raise EvidenceError(
            f"{first}: first segment of EWF set is missing ({path.name} is segment {number})",
            hint="open the set by its first segment (.E01), and make sure all segments are present",
        )
    return first


class EwfReader:
    """An E01 (EWF) segment set, read through libewf (pyewf), read-only.

    pyewf handles are not thread-safe (one seek+read state per handle), so every read holds
    ``_lock``; the hashing pipeline reads from one thread anyway, triage may not.
    """

    kind = "e01"

    def __init__(self, path: Path) -> None:
        import pyewf

        head = _read_head(path, 13)
        if head[:8] not in (EWF1_SIGNATURE, EWF2_SIGNATURE):
            raise EvidenceError(
                f"{path}: not an EWF file (no EVF signature at offset 0)",
                hint="if it is a raw image with an .E01 name, open it with kind='raw'",
            )
        first = _first_ewf_segment(path, head)
        try:
            names = pyewf.glob(str(first))
        except (OSError, RuntimeError) as exc:
            raise EvidenceError(f"{first}: cannot find the segments of this EWF set: {exc}") from exc
        self.segments: Sequence[Path] = [Path(n) for n in names]
        if head[:8] == EWF1_SIGNATURE:
            _ewf1_segment_check(self.segments)
        self._lock = threading.Lock()
        self._files: list[IO[bytes]] = []
        self._handle: Any = None
        try:
            self._files = [os.fdopen(open_readonly(p), "rb") for p in self.segments]
            handle = pyewf.handle()
            handle.open_file_objects(self._files, "r")
            self._handle = handle
            self.size = int(handle.get_media_size())
            self.info = E01Info(
                stored_hashes={
                    _hash_name(k): str(v).lower() for k, v in (handle.get_hash_values() or {}).items() if v
                },
                headers={str(k): str(v) for k, v in (handle.get_header_values() or {}).items()},
                media_size=self.size,
                bytes_per_sector=int(handle.get_bytes_per_sector()),
            )
        except (OSError, RuntimeError, ValueError) as exc:
            self.close()
            raise EvidenceError(f"{first}: libewf cannot open this EWF set: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must be >= 0")
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        with self._lock:
            if self._handle is None:
                raise EvidenceError(f"{self.segments[0]}: EWF reader is closed")
            try:
                data: bytes = self._handle.read_buffer_at_offset(length, offset)
            except (OSError, RuntimeError) as exc:
                raise EvidenceError(
                    f"{self.segments[0]}: cannot read {length} bytes of media at offset {offset}: {exc}",
                    hint="a segment file may be missing, truncated or corrupt: run ewfverify on the set",
                ) from exc
        return data

    def close(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            if self._handle is not None:
                try:
                    self._handle.close()
                finally:
                    self._handle = None
            for f in self._files:
                f.close()
            self._files = []

    def __enter__(self) -> EwfReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hash_name(name: object) -> str:
    """``"MD5"`` -> ``"md5"``, ``"SHA-256"``/``"SHA256"`` -> ``"sha256"`` (hashlib's names)."""
    return str(name).lower().replace("-", "").replace("_", "")


def e01_info(path: Path) -> E01Info:
    """The stored hashes, acquiry headers, media size and sector size of the E01 set at ``path``.

    Header values are pyewf's ``get_header_values()`` unchanged (raw strings, e.g. ``acquiry_date``
    ``"Thu Jul 22 15:33:18 2021"``); hash names are lower-case hashlib names, values lower-case hex.
    """
    with EwfReader(Path(path)) as reader:
        return reader.info


# ------------------------------------------------------------------------------------- detection


def _is_zip(path: Path, head: bytes) -> bool:
    import zipfile

    if head[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        return False
    fd = open_readonly(path)
    with os.fdopen(fd, "rb") as f:
        return zipfile.is_zipfile(f)


def _is_tar(path: Path, head: bytes) -> bool:
    """A ustar/GNU/pax header in the first block, of the file or of its gzip/bzip2/xz stream.

    Old v7 tars (no ``ustar`` magic) are recognised only by a ``.tar`` name plus a valid header.
    """
    import bz2
    import gzip
    import lzma
    import tarfile

    block = head[:512]
    opener: Any = None
    if head[:2] == b"\x1f\x8b":
        opener = lambda f: gzip.GzipFile(fileobj=f)  # noqa: E731 - first positional is a name
    elif head[:3] == b"BZh":
        opener = bz2.BZ2File
    elif head[:6] == b"\xfd7zXZ\x00":
        opener = lzma.LZMAFile
    if opener is not None:
        try:
            with os.fdopen(open_readonly(path), "rb") as raw, opener(raw) as f:
                block = f.read(512)
        except (OSError, EOFError, lzma.LZMAError):
            return False
    if len(block) == 512 and block[257:262] == b"ustar":
        return True
    if path.name.lower().endswith(".tar") and opener is None:
        with os.fdopen(open_readonly(path), "rb") as f:
            try:
                with tarfile.open(fileobj=f, mode="r:") as tf:
                    return tf.next() is not None
            except tarfile.TarError:
                return False
    return False


def _magic_says_media(path: Path) -> bool:
    try:
        import magic

        description = str(magic.from_file(str(path))).lower()
    except Exception:  # libmagic missing or unreadable file: no evidence either way
        return False
    return any(word in description for word in _MAGIC_MEDIA_WORDS)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def is_ios_backup(path: Path | str) -> bool:
    """True when the folder ``path`` is an iTunes/Finder backup (the test is in the module docstring).

    Links are not followed: a ``Manifest.db`` or a hash folder that is a symbolic link does not count.
    """
    path = Path(path)
    if not _is_regular(path / "Manifest.db"):
        return False
    if not (_is_regular(path / "Manifest.plist") or _is_regular(path / "Info.plist")):
        return False
    try:
        with os.scandir(path) as it:
            for entry in it:
                if _HASH_FOLDER.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                    return True
                if _FILE_ID.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    return True
    except OSError:
        return False
    return False


def detect_source(path: Path | str) -> str:
    """Classify ``path`` as "raw", "split-raw", "e01", "file", "folder", "ios-backup", "zip" or "tar".

    The rules and their order are in this module's docstring. Raises :class:`EvidenceError` if
    ``path`` does not exist, cannot be read, is an ``.E01`` without an EWF signature, or is part
    of a split set with a missing segment; :class:`UnsupportedSource` for devices, sockets etc.
    """
    path = Path(path)
    if not path.exists():
        raise EvidenceError(f"{path}: no such file or folder", hint="check the path of the evidence")
    if path.is_dir():
        return "ios-backup" if is_ios_backup(path) else "folder"
    if not path.is_file():
        raise UnsupportedSource(
            f"{path}: not a regular file or folder",
            hint="image block devices to a file first (e.g. with ewfacquire), then acquire the image",
        )
    try:
        head = _read_head(path, 512)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read: {exc.strerror}") from exc
    if head[:8] in (EWF1_SIGNATURE, EWF2_SIGNATURE):
        return "e01"
    if head[:8] in (LEF1_SIGNATURE, LEF2_SIGNATURE):
        return "file"  # logical evidence file: its bytes are hashed as they are
    if _EWF_NAME.search(path.name):
        raise EvidenceError(
            f"{path}: not an EWF file (named like an E01 segment but no EVF signature at offset 0)",
            hint="if it really is a raw image, acquire it with kind='raw'",
        )
    if split_raw_segments(path) is not None:
        return "split-raw"
    if _is_zip(path, head):
        return "zip"
    if _is_tar(path, head):
        return "tar"
    if path.suffix.lower() in RAW_EXTENSIONS:
        return "raw"
    if _magic_says_media(path):
        return "raw"
    return "file"


def open_image(path: Path, kind: str | None = None) -> ImageReader:
    """Open ``path`` as a disk image: raw, any segment of a split raw set, or an E01 set.

    ``kind`` forces the container ("raw", "split-raw", "e01"); by default an EWF signature means
    E01, a split-style name with sibling segments means split raw, and anything else is a raw image
    (a raw image can be any bytes: whether it holds a file system is triage's question).
    Raises :class:`EvidenceError` naming the file and the problem when it cannot be opened.
    """
    path = Path(path)
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file", hint="check the path of the evidence")
    if kind is not None and kind not in IMAGE_KINDS:
        raise UnsupportedSource(
            f"{path}: {kind!r} is not a disk image kind (one of {', '.join(IMAGE_KINDS)})",
            hint="acquire folders, archives and single files with acquire_source()",
        )
    try:
        if kind is None:
            head = _read_head(path, 8)
            if head in (EWF1_SIGNATURE, EWF2_SIGNATURE) or _EWF_NAME.search(path.name):
                kind = "e01"  # EwfReader rejects a missing signature with "not an EWF file"
            else:
                kind = "split-raw" if split_raw_segments(path) is not None else "raw"
        if kind == "e01":
            return EwfReader(path)
        if kind == "split-raw":
            if _split_name(path.name) is None:
                raise EvidenceError(
                    f"{path}: not named like a split raw segment (.000, .001, .aa ...)",
                    hint="open it with kind='raw' if it is a single-file image",
                )
            return SplitRawReader(split_raw_segments(path) or [path])
        return RawReader(path)
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot open: {exc.strerror or exc}") from exc
