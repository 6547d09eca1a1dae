"""Thumbnails of the pictures a report shows, read from the evidence as ``exhibit cat`` reads them.

A picture (a photo of the gallery, a message's attachment) is read from its exhibit through the
triage sources (:func:`triage.sources.open.open_source`, and :class:`~triage.sources.nested.NestedSource`
for a member of an archive in the evidence), never from a copy, and only read: the evidence is never
opened for writing. Its thumbnail is at most :data:`THUMBNAIL` pixels on its longer side, turned
upright by its EXIF orientation, re-encoded as a JPEG that carries no metadata at all (no EXIF, no
GPS, no XMP, no ICC profile: the pixels only), and stored once in the report's media
(:class:`~triage.report.context.MediaSink`).

What is not shown, and why, is said instead of a thumbnail (:class:`Picture` ``note``): a picture
the redaction list says to hide, a file of a known-bad hash set (never reproduced in a report),
a file too large or not a picture Pillow can decode, an exhibit that cannot be opened (an
encrypted backup needs its password). A picture the redaction list says to blur is shown through
:func:`triage.report.redact.obscure`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pi_heif
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from custody.case import Case
from custody.errors import UserError
from custody.items import get_item
from triage.engine.carving import stored_carves
from triage.errors import EntryNotFound, TriageError
from triage.hashsets.known import BAD, Known
from triage.plugin.scratch import Scratch
from triage.report.context import ReportContext
from triage.report.redact import obscure
from triage.sources.carve import CARVED_DIR, CARVED_FS, CarvedSource
from triage.sources.entry import FileEntry, Source
from triage.sources.nested import MARK, NestedSource
from triage.sources.open import open_source
from triage.store.models import File

#: Longest side of a thumbnail, in pixels.
THUMBNAIL = 160
#: Files larger than this are not read for a thumbnail.
MAX_FILE = 64 * 1024 * 1024
#: Pictures declaring more pixels than this are not decoded (a decompression bomb).
MAX_PIXELS = 100_000_000
#: Thumbnails remembered per section rendering (a picture attached to many messages is made once).
_REMEMBERED = 2048
#: Folder listings remembered (pictures are read folder by folder), and the largest one remembered.
_FOLDERS = 4
_FOLDER_ENTRIES = 100_000
#: File name endings of pictures Pillow (with the HEIF opener) decodes, when no MIME type is recorded.
PICTURE_ENDINGS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif")

pi_heif.register_heif_opener()


@dataclass(frozen=True)
class Picture:
    """What a page shows for a picture: the thumbnail's URL, or a note saying why there is none."""

    url: str | None
    note: str | None
    blurred: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"thumb": self.url, "thumb_note": self.note, "blurred": self.blurred}


class ThumbnailError(TriageError):
    """A file could not be made into a thumbnail (the message says why)."""


def thumbnail(data: bytes, *, blur: bool = False) -> bytes:
    """A JPEG of at most :data:`THUMBNAIL` pixels a side, upright, without any metadata; obscured
    first when ``blur``. Raises :class:`ThumbnailError` for what cannot be decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ThumbnailError(f"{width} x {height} pixels: too large to decode")
                image.draft("RGB", (THUMBNAIL * 2, THUMBNAIL * 2))  # JPEG: decoded at a reduced scale
                upright = ImageOps.exif_transpose(image)
                pixels = upright.convert("RGB")
    except ThumbnailError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"not a picture that can be decoded ({exc})") from exc
    except Image.DecompressionBombWarning as exc:
        raise ThumbnailError("too large to decode") from exc
    pixels.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    if blur:
        pixels = obscure(pixels)
    clean = Image.new("RGB", pixels.size)  # the pixels alone: nothing of the original's metadata
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def is_picture(name: str | None, mime: str | None) -> bool:
    """Whether a file is worth decoding for a thumbnail (by its MIME type, else its name)."""
    if mime:
        return mime.lower().startswith("image/")
    return bool(name) and name.lower().endswith(PICTURE_ENDINGS)  # type: ignore[union-attr]


class EvidenceFiles:
    """Reads files of the case's exhibits, each exhibit opened once, read-only, on first use.

    Use as a context manager (every source is closed at the end)::

        with EvidenceFiles(ctx, known) as files:
            picture = files.picture(exhibit, partition, path)
    """

    def __init__(self, ctx: ReportContext, known: Known | None = None) -> None:
        self._ctx = ctx
        self._case: Case = ctx.case
        self._known = known
        self._sources: dict[str, NestedSource | str] = {}  # exhibit -> source, or why it cannot open
        self._stack = contextlib.ExitStack()
        self._scratch: Scratch | None = None
        self._made: OrderedDict[tuple[str, int | None, str, str], Picture] = OrderedDict()
        self._hashes: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._folders: OrderedDict[tuple[str, int | None, str], dict[str, FileEntry]] = OrderedDict()
        self._carves: dict[str, dict[tuple[int | None, str], tuple[tuple[int, int], ...]]] = {}

    def __enter__(self) -> EvidenceFiles:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for source in self._sources.values():
            if isinstance(source, NestedSource):
                source.close_archives()
        self._sources.clear()
        self._stack.close()

    def _source(self, exhibit: str) -> NestedSource:
        found = self._sources.get(exhibit)
        if isinstance(found, str):
            raise ThumbnailError(found)
        if found is not None:
            return found
        try:
            item = get_item(self._case, exhibit)
            if self._scratch is None:
                self._scratch = self._stack.enter_context(Scratch(self._case.scratch_dir))
            top: Source = self._stack.enter_context(open_source(item.source_path, item.kind))
        except (UserError, TriageError, OSError) as exc:
            why = f"the exhibit {exhibit} cannot be opened: {exc}"
            self._sources[exhibit] = why
            raise ThumbnailError(why) from exc
        source = NestedSource(top, scratch=self._scratch)
        self._sources[exhibit] = source
        return source

    def _entry(self, exhibit: str, source: NestedSource, partition: int | None, path: str) -> FileEntry:
        """The entry at ``path``: from the listing of its folder, listed once for the pictures of
        that folder (they come one after the other: a gallery is in path order), as
        :func:`triage.sources.lookup.find_entry` chooses it (allocated before deleted)."""
        clean = "/" + path.strip("/")
        if MARK + "/" in clean:  # a member of an archive in the evidence
            return source.locate(clean, partition)
        parent = clean.rsplit("/", 1)[0] or "/"
        key = (exhibit, partition, parent)
        listing = self._folders.get(key)
        if listing is None:
            listing = {}
            for e in source.top.entries(parent, partition=partition):
                best = listing.get(e.path)
                if best is None or (e.deleted, e.realloc) < (best.deleted, best.realloc):
                    listing[e.path] = e
            if len(listing) <= _FOLDER_ENTRIES:
                self._folders[key] = listing
                if len(self._folders) > _FOLDERS:
                    self._folders.popitem(last=False)
        else:
            self._folders.move_to_end(key)
        entry = listing.get(clean)
        if entry is None:
            raise EntryNotFound(f"no entry {clean!r} in the evidence")
        return entry

    def read(self, exhibit: str, partition: int | None, path: str, limit: int = MAX_FILE) -> bytes:
        """The content of the file at ``path`` (an archive member too: ``/a.zip!/b.jpg``; a carved
        file, ``/$Carved/<offset>.<type>``, from the image extents its run recorded)."""
        source = self._source(exhibit)
        if path.startswith(CARVED_DIR + "/"):
            return self._read_carved(exhibit, source, partition, path, limit)
        try:
            entry = self._entry(exhibit, source, partition, path)
        except (TriageError, OSError) as exc:
            raise ThumbnailError(f"not found in the exhibit ({exc})") from exc
        if entry.type != "file":
            raise ThumbnailError("not a file")
        if entry.size > limit:
            raise ThumbnailError(f"{entry.size} bytes: too large for a thumbnail")
        chunks = []
        try:
            for chunk in source.read(entry):
                chunks.append(chunk)
        except (TriageError, OSError) as exc:
            raise ThumbnailError(f"cannot be read ({exc})") from exc
        return b"".join(chunks)

    def _read_carved(
        self, exhibit: str, source: NestedSource, partition: int | None, path: str, limit: int
    ) -> bytes:
        carves = self._carves.get(exhibit)
        if carves is None:
            with self._case.engine.connect() as conn:
                carves = {
                    where: tuple((int(a), int(n)) for a, n in data.get("extents") or [])
                    for where, data in stored_carves(conn, exhibit).items()
                }
            self._carves[exhibit] = carves
        extents = carves.get((partition, path))
        if not extents:
            raise ThumbnailError("no carving record of this file in the case")
        size = sum(n for _, n in extents)
        if size > limit:
            raise ThumbnailError(f"{size} bytes: too large for a thumbnail")
        entry = FileEntry(partition, CARVED_FS, path, path.rsplit("/", 1)[-1], b"", None, "file", size, True)
        try:
            return b"".join(CarvedSource(source.top, {(partition, path): extents}).read(entry))
        except (TriageError, OSError) as exc:
            raise ThumbnailError(f"cannot be read ({exc})") from exc

    def sha256(self, exhibit: str, path: str) -> str | None:
        """The SHA-256 triage recorded for the file at ``path`` of ``exhibit`` (``None``: not hashed)."""
        key = (exhibit, path)
        if key not in self._hashes:
            query = select(File.c.sha256).where(
                File.c.exhibit == exhibit, File.c.path == path, File.c.sha256.is_not(None)
            )
            with self._case.engine.connect() as conn:
                found = sorted({str(r[0]) for r in conn.execute(query)})
            self._hashes[key] = found[0] if len(found) == 1 else None  # two contents: say nothing
            if len(self._hashes) > _REMEMBERED:
                self._hashes.popitem(last=False)
        return self._hashes[key]

    def redaction(self, exhibit: str, path: str) -> str:
        """What the redaction list says of the picture at ``path``: show, blur or hide."""
        return self._ctx.redactor.picture(path, exhibit)

    def picture(self, exhibit: str, partition: int | None, path: str, *, inode: int | None = None) -> Picture:
        """The thumbnail of the picture at ``path`` of ``exhibit`` as the redaction and the hash sets
        allow it (see the module docstring)."""
        action = self._ctx.redactor.picture(path, exhibit)
        if action == "hide":
            return Picture(None, "picture withheld (redaction list)")
        if self._known and BAD in (
            self._known.file_status(exhibit, partition, inode, path),
            self._known.path_status(exhibit, path),
        ):
            return Picture(None, "not reproduced: the file is in a known-bad hash set")
        key = (exhibit, partition, path, action)
        made = self._made.get(key)
        if made is not None:
            self._made.move_to_end(key)
            return made
        try:
            data = thumbnail(self.read(exhibit, partition, path), blur=action == "blur")
            made = Picture(self._ctx.media.add(data, ".jpg"), None, action == "blur")
        except ThumbnailError as exc:
            made = Picture(None, f"no thumbnail: {exc}")
        self._made[key] = made
        if len(self._made) > _REMEMBERED:
            self._made.popitem(last=False)
        return made
