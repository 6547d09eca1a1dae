"""Read-only access to evidence media: raw, split raw and E01 images.

Everything here opens evidence for reading only. Images are exposed as :class:`ImageReader`
objects giving random access to the *media data* (the bytes of the original disk), whatever the
container, so hashing (custody) and file-system parsing (triage, via pytsk3) share one reader.

OWNER: media/hashing helper. Interface is fixed; implementation to be completed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from custody.errors import EvidenceError


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


class RawReader:
    """A single raw/dd file."""

    kind = "raw"

    def __init__(self, path: Path) -> None:
        self.segments = [path]
        self._fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self._fd).st_size

    def read_at(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> RawReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_image(path: Path) -> ImageReader:
    """Open ``path`` as a disk image: raw, the first segment of a split raw set, or an E01 set.

    Raises :class:`EvidenceError` naming the file and the problem when it cannot be opened.
    """
    path = Path(path)
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file", hint="check the path of the evidence")
    return RawReader(path)
