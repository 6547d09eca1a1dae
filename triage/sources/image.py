"""Feed The Sleuth Kit through :mod:`custody.media` so every container takes one code path.

TSK can open raw and E01 files itself, but then custody (hashing) and triage (parsing) would read the
evidence through two different stacks, and a split raw set named ``.000`` or an E01 with a missing
segment would fail differently in each. Instead, :class:`ReaderImg` is a ``pytsk3.Img_Info`` whose
``read`` and ``get_size`` call the same :class:`custody.media.ImageReader` that custody hashes with.

Read errors (a segment vanished, an I/O error on bad media) are remembered in ``errors`` and
re-raised to TSK as ``IOError``; TSK then fails only the structure it was reading, and the walk turns
that into a :class:`triage.errors.WalkWarning` rather than crashing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytsk3

if TYPE_CHECKING:
    from custody.media import ImageReader


class ReaderImg(pytsk3.Img_Info):
    """A pytsk3 image backed by an :class:`~custody.media.ImageReader` (raw, split raw or E01)."""

    def __init__(self, reader: ImageReader, *, name: str | None = None) -> None:
        self.reader = reader
        self.name = name or (str(reader.segments[0]) if reader.segments else "<image>")
        self.errors: list[str] = []
        self._size = int(reader.size)
        self._closed = False
        # TSK_IMG_TYPE_EXTERNAL: TSK calls back into read()/get_size() below instead of opening a file.
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        """Return ``size`` bytes at ``offset``; past the end TSK gets a short read, as from a file."""
        if offset >= self._size or size <= 0:
            return b""
        try:
            return self.reader.read_at(offset, min(size, self._size - offset))
        except Exception as exc:  # any reader failure must reach TSK as an I/O error, not a crash
            problem = f"read of {size} bytes at offset {offset} failed: {exc}"
            self.errors.append(problem)
            raise OSError(problem) from exc

    def get_size(self) -> int:
        return self._size

    def close(self) -> None:
        """Close the underlying reader once (TSK may call this again when the object is freed)."""
        if not self._closed:
            self._closed = True
            self.reader.close()

    def __enter__(self) -> ReaderImg:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_img(path: Path | str) -> ReaderImg:
    """Open ``path`` (raw, first split segment or E01) for TSK via :func:`custody.media.open_image`.

    Raises :class:`custody.errors.EvidenceError` when the container itself cannot be opened.
    """
    from custody.media import open_image

    reader = open_image(Path(path))
    try:
        return ReaderImg(reader, name=str(path))
    except BaseException:
        reader.close()
        raise
