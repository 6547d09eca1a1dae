"""Open an evidence item as a :class:`~triage.sources.entry.Source`, list it and read from it.

The one place that knows every kind of source: a folder, an iTunes/Finder backup, a zip or tar
archive, a single file, else a disk image.
Run ``python -m triage.sources.open IMAGE [PATH]`` to print a recursive listing as JSON lines
(used by the benchmark ``bench/ls_vs_fls.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import EntryNotFound, EvidenceMissing, UnsupportedArchive, WalkWarning
from triage.sources.content import DEFAULT_CHUNK, read_stream
from triage.sources.entry import FileEntry, Source, entry_to_json_line

if TYPE_CHECKING:
    from custody.media import ImageReader


#: Kinds of evidence item (custody.media.SOURCE_KINDS) that are disk images; the others are logical.
IMAGE_KINDS = frozenset({"raw", "split-raw", "e01"})
#: The options :func:`open_source` understands (named as ``--option NAME=VALUE`` will name them).
SOURCE_OPTIONS = ("backup.password", "scratch_dir")


def evidence_kind(path: Path) -> str:
    """What ``path`` is, decided as acquisition decides it (:func:`custody.media.detect_source`).

    For evidence not acquired (a library caller, a benchmark): an acquired item's recorded kind is
    what every command passes to :func:`open_source`, so the decision is made once, at acquisition.
    """
    from custody.media import detect_source  # imported on use: start-up time of `exhibit ls`

    return detect_source(path)


def check_present(path: Path) -> None:
    """:class:`EvidenceMissing` when nothing is at ``path``, the path an exhibit was acquired from
    (moved, renamed, its drive not mounted), rather than a message about what kind of thing the
    path is not."""
    if not os.path.lexists(path):
        raise EvidenceMissing(
            f"{path}: the evidence is no longer at the path it was acquired from",
            hint="put it back there, or mount the drive it is on, and run the command again; "
            "then 'exhibit custody verify --rehash' checks that it is unchanged",
        )


def open_source(
    path: Path | str, kind: str | None = None, *, options: Mapping[str, object] | None = None
) -> Source:
    """Open ``path`` as evidence of ``kind`` ("raw", "split-raw", "e01", "folder", "ios-backup",
    "zip", "tar", "file"): the kind recorded at acquisition; decided from ``path`` when not given.

    ``options`` are what some kinds need besides the evidence, named as on the command line; names
    not listed here (plugin options) and names a kind does not use are ignored:

    * ``backup.password`` (``str``): the password of an encrypted iTunes/Finder backup. It is
      used to unlock the backup's keys and never stored, logged or put in a message. Without it,
      an encrypted backup raises :class:`triage.errors.PasswordRequired`; a wrong one,
      :class:`triage.errors.WrongPassword`;
    * ``scratch_dir`` (``str`` or :class:`~pathlib.Path`): where a source may keep private scratch
      files while it is open (the decrypted Manifest.db of an encrypted backup); default: the
      system's temporary folder.

    Raises :class:`custody.errors.EvidenceError` (container problems) or a
    :class:`triage.errors.TriageError` (no file system, unreadable, password needed) naming ``path``.
    """
    p = Path(path)
    if kind is not None:  # the path and kind recorded at acquisition
        check_present(p)
    kind = kind or evidence_kind(p)
    opts = dict(options or {})
    if kind == "ios-backup":
        from triage.sources.ios_backup import IosBackupSource  # imported on use: sqlite3, cryptography

        password = opts.get("backup.password")
        scratch = opts.get("scratch_dir")
        if password is not None and not isinstance(password, str):
            raise UnsupportedArchive("the backup.password option must be text")
        return IosBackupSource(
            p, password=password, scratch_dir=None if scratch is None else Path(str(scratch))
        )
    if kind in IMAGE_KINDS:
        from triage.sources.image_source import ImageSource  # imported on use: pytsk3 is slow to load

        return ImageSource(p, kind=kind)
    from triage.sources.logical import open_logical  # imported on use: zipfile and tarfile

    return open_logical(p, kind)


def list_entries(
    image_path_or_reader: Path | str | ImageReader | Source,
    path: str | None = None,
    recursive: bool = False,
    deleted_only: bool = False,
    partition: int | None = None,
    *,
    warnings: list[WalkWarning] | None = None,
    kind: str | None = None,
    options: Mapping[str, object] | None = None,
) -> Iterator[FileEntry]:
    """Yield entries of an image, a reader or a logical source (``exhibit ls``).

    A path or reader is opened here and closed when the iteration ends; a :class:`Source` passed in
    stays open (its owner closes it). Warnings go to ``warnings`` when given (those of opening it
    too, when it is opened here), otherwise they stay on the source's ``warnings`` list. ``options``: as :func:`open_source` takes them.
    """
    owned = not hasattr(image_path_or_reader, "entries")
    if owned:
        if isinstance(image_path_or_reader, (str, Path)):
            src: Source = open_source(image_path_or_reader, kind, options=options)
        else:
            from triage.sources.image_source import ImageSource

            src = ImageSource(image_path_or_reader)  # type: ignore[arg-type]
    else:
        src = image_path_or_reader  # type: ignore[assignment]
    before = 0 if owned else len(src.warnings)  # opened here: what opening found too (an image cut short)
    try:
        yield from src.entries(path, recursive=recursive, deleted_only=deleted_only, partition=partition)
    finally:
        if warnings is not None:
            warnings.extend(src.warnings[before:])
        if owned:
            src.close()


def read_content(
    source: Path | str | Source,
    entry: FileEntry | None = None,
    *,
    partition: int | None = None,
    inode: int | None = None,
    attr_type: int | None = None,
    attr_id: int | None = None,
    warnings: list[WalkWarning] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[bytes]:
    """Yield the content of ``entry`` — or of ``(partition, inode, attr_type, attr_id)`` — in chunks.

    ``source`` is an open :class:`~triage.sources.entry.Source` (kept open) or a path (opened here and closed
    when the iteration ends). Warnings about unreadable ranges go to ``warnings`` when given, else
    to the source's own list.
    """
    from triage.sources.image_source import ImageSource

    owned = isinstance(source, (str, Path))
    if owned:
        src: Source = open_source(source)  # type: ignore[arg-type]
    else:
        src = source  # type: ignore[assignment]
    before = len(src.warnings)
    try:
        if entry is not None:
            yield from src.read(entry, chunk_size=chunk_size)
        else:
            if inode is None:
                raise EntryNotFound(f"{src.name}: give an entry or an inode to read")
            if not isinstance(src, ImageSource):
                raise EntryNotFound(f"{src.name}: a {src.kind} source is read by entry, not by inode")
            fsys = src.filesystem(partition)
            yield from read_stream(
                fsys,
                inode,
                attr_type,
                attr_id,
                source=src.name,
                warnings=src.warnings,
                chunk_size=chunk_size,
            )
    finally:
        if warnings is not None:
            warnings.extend(src.warnings[before:])
        if owned:
            src.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m triage.sources.open SOURCE [PATH]``: recursive listing as JSON lines on stdout."""
    import sys

    from custody.errors import CustodyError
    from triage.errors import TriageError

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m triage.sources.open SOURCE [PATH]", file=sys.stderr)
        return 2
    warnings: list[WalkWarning] = []
    out = sys.stdout
    try:
        lines = []
        for entry in list_entries(args[0], args[1] if len(args) > 1 else None, True, warnings=warnings):
            lines.append(entry_to_json_line(entry))
            if len(lines) >= 4096:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
    except (TriageError, CustodyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
