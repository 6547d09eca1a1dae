"""The lines of ``exhibit ls``: written by the C walk when it is built, else by the Python walk.

``exhibit ls -r --json`` of a 50,000-file disk has to stay within 3x of ``fls -r -p`` (issue 3), and
through pytsk3 each entry costs several times what fls spends. So image listings go through
:mod:`triage.sources._fastwalk` (C over Debian's libtsk, reading through the same custody reader), which
writes finished lines. Everything else takes :func:`triage.sources.open.list_entries` and formats here:
folders, zip and tar sources, ``--mismatch`` (it filters on what triage stored), an installation
built without libtsk's headers, and a file system Debian's libtsk cannot open but pytsk3 can.
Both paths print byte-identical lines (``tests/triage/test_listing.py`` checks every corpus image).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from custody.safetext import escape, is_utf8
from triage.errors import WalkAbandoned, WalkWarning
from triage.sources.entry import FileEntry, entry_to_json_line

#: What ``ls --json`` appends to an entry triage has not hashed (closing the object).
NULL_SUFFIX = ', "sha256": null, "mime": null, "ext_mismatch": null}\n'

#: (partition, inode, attr_type, attr_id, path) -> (sha256, mime, ext_mismatch), from the triage index.
Known = dict[tuple[Any, ...], tuple[str, str | None, bool]]

_PLAIN_KIND = {"file": "r", "dir": "d", "link": "l"}


class HashStatus(Protocol):
    """What ``ls`` asks of the hash-set status (triage.hashsets.known.Known)."""

    def __bool__(self) -> bool: ...

    def file_status(
        self, exhibit: str, partition: int | None, inode: int | None, path: str
    ) -> str | None: ...


def evidence_of(case: Path | None, exhibit: str, *, with_known: bool) -> tuple[str, str, Known]:
    """The evidence path of ``exhibit``, its kind as recorded at acquisition, and what triage learnt
    of its files (sha256, mime, mismatch).

    Read-only commands on a SQLite case take the standard-library path (custody.locate): loading
    the ORM would cost more than listing a small disk.
    """
    from custody.errors import UserError
    from custody.locate import quick_case

    if not is_utf8(exhibit):  # sys.argv keeps bytes that are not UTF-8 as lone surrogates
        raise UserError(
            f"exhibit number {escape(exhibit)} is not UTF-8 text, so no exhibit can have it",
            hint="list the exhibits with 'exhibit items' and check the terminal's character encoding",
        )
    quick = quick_case(case)
    if quick is not None:
        try:
            acquisition = quick.acquisition(exhibit)
            rows = quick.known_files(exhibit) if with_known else []
        finally:
            quick.close()
        return (
            str(acquisition["source_path"]),
            str(acquisition["kind"]),
            {(r[0], r[1], r[2], r[3], r[4]): (r[5], r[6], bool(r[7])) for r in rows},
        )
    from custody.case import open_case
    from custody.items import get_item
    from triage.views.findings import known_files

    c = open_case(case)
    try:
        item = get_item(c, exhibit)
        known = known_files(c.engine, exhibit) if with_known else {}
    finally:
        c.close()
    return item.source_path, item.kind, {k: (v.sha256, v.mime, v.ext_mismatch) for k, v in known.items()}


def has_hash_hits(case: Path | None, exhibit: str) -> bool:
    """Whether some file of ``exhibit`` matched a hash set (then ``ls`` hides and marks files, which
    the fast path of triage/launch.py leaves to the full CLI). True when the case is not SQLite."""
    from custody.locate import quick_case

    quick = quick_case(case)
    if quick is None:
        return True
    try:
        if not quick.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hashsets'"):
            return False
        return bool(
            quick.rows(
                "SELECT 1 FROM triage_findings WHERE record_type = 'hash/hit' AND exhibit = ? LIMIT 1",
                (exhibit,),
            )
        )
    finally:
        quick.close()


def known_suffix(sha256: str, mime: str | None, mismatch: bool) -> str:
    """The JSON that closes the line of an entry triage has hashed."""
    return ", " + json.dumps({"sha256": sha256, "mime": mime, "ext_mismatch": mismatch})[1:] + "\n"


def format_line(entry: FileEntry, as_json: bool, known: Known) -> str:
    """One ``ls`` line of ``entry`` (with its newline)."""
    if not as_json:  # fls's line: "r/r * 35-128-1(realloc):\tdir/file"
        kind = entry.fls_type or "{0}/{0}".format(_PLAIN_KIND.get(entry.type, "-"))
        mark = "* " if entry.deleted else ""
        realloc = "(realloc)" if entry.realloc else ""
        return f"{kind} {mark}{entry.address or '-'}{realloc}:\t{entry.path.lstrip('/')}\n"
    line = entry_to_json_line(entry)
    k = (
        known.get((entry.partition, entry.inode, entry.attr_type, entry.attr_id, entry.path))
        if known
        else None
    )
    return line[:-1] + (NULL_SUFFIX if k is None else known_suffix(*k))


def write_entries(
    entries: Iterable[FileEntry], as_json: bool, known: Known, write: Callable[[str], Any]
) -> None:
    """Format ``entries`` and hand them to ``write`` in blocks."""
    buffer: list[str] = []
    for e in entries:
        buffer.append(format_line(e, as_json, known))
        if len(buffer) >= 4096:
            write("".join(buffer))
            buffer.clear()
    if buffer:
        write("".join(buffer))


def stdout_bytes(block: bytes) -> None:
    """Write UTF-8 ``block`` to stdout's binary buffer, after whatever the text layer holds."""
    sys.stdout.flush()
    sys.stdout.buffer.write(block)


def fast_walk_available() -> bool:
    """True when the C walk is built (it needs libtsk-dev at install time)."""
    try:
        from triage.sources import _fastwalk  # noqa: F401
    except ImportError:
        return False
    return True


def write_listing(
    source_path: str | Path,
    path: str | None,
    *,
    recursive: bool,
    deleted_only: bool,
    partition: int | None,
    as_json: bool,
    known: Known,
    write: Callable[[str], Any],
    warnings: list[WalkWarning],
    write_bytes: Callable[[bytes], Any] | None = None,
    fast: bool = True,
    direct_stdout: bool = False,
    kind: str | None = None,
    options: Mapping[str, object] | None = None,
) -> None:
    """Write the ``exhibit ls`` lines of ``source_path`` to ``write``; problems go to ``warnings``.

    The C walk writes UTF-8 blocks to ``write_bytes`` when given (stdout's buffer: no decoding and
    re-encoding of tens of megabytes), else decoded to ``write``. ``fast=False`` forces the Python
    walk (tests compare the two). ``direct_stdout``: ``write_bytes`` writes to stdout, so the C
    walk's process may write there itself (see :mod:`triage.sources.walkguard`). ``kind``: as
    recorded at acquisition (decided from ``source_path`` when not given).
    """
    from triage.sources.open import IMAGE_KINDS, check_present, evidence_kind, list_entries

    p = Path(source_path)
    if kind is not None:
        check_present(p)
    kind = kind or evidence_kind(p)
    image = kind in IMAGE_KINDS
    if not (fast and fast_walk_available()) or not image:
        source: Any = p
        if not fast and image:
            from triage.sources.image_source import ImageSource

            source = ImageSource(p, fast_walk=False, kind=kind)  # the pytsk3 walk, the reference
            warnings.extend(source.warnings)  # what opening it found, as the other paths report it
        try:
            entries = list_entries(
                source,
                path,
                recursive,
                deleted_only,
                partition,
                warnings=warnings,
                kind=kind,
                options=options,
            )
            write_entries(entries, as_json, known, write)
        finally:
            if source is not p:
                source.close()
        return
    from triage.sources.image_source import ImageSource
    from triage.sources.walk import walk_filesystem

    if write_bytes is None:

        def write_bytes(block: bytes) -> None:
            write(block.decode("utf-8", "surrogateescape"))

    abandoned: list[WalkAbandoned] = []
    with ImageSource(p, kind=kind) as src:
        before = 0  # what opening found too (a damaged partition table, an image cut short)
        targets = src.filesystems if partition is None else [src.filesystem(partition)]
        for fsys in targets:
            mine: dict[tuple[Any, ...], str] | None = None
            if as_json and known:
                mine = {
                    (k[1], k[2], k[3], k[4]): known_suffix(*v)
                    for k, v in known.items()
                    if k[0] == fsys.offset
                }
            out_fd = None
            if direct_stdout:  # the guarded walk writes to stdout itself, when it is a real file
                write_bytes(b"")  # (tells the caller output has begun)
                sys.stdout.flush()
                try:
                    out_fd = sys.stdout.fileno()
                except (OSError, ValueError):  # captured in memory (tests, an embedding program)
                    out_fd = None
            try:
                src.c_walk(
                    fsys, path, recursive=recursive, deleted_only=deleted_only, as_json=as_json,
                    write=write_bytes, known=mine or None, null_suffix=NULL_SUFFIX, out_fd=out_fd,
                )  # fmt: skip
            except OSError:  # libtsk refuses what pytsk3 opened (another TSK version): the Python walk
                entries = walk_filesystem(
                    fsys, src.name, src.warnings, path=path, recursive=recursive, deleted_only=deleted_only
                )
                write_entries(entries, as_json, known, write)
            except WalkAbandoned as exc:  # hung or out of memory: go on with the other file systems
                abandoned.append(exc)
        warnings.extend(src.warnings[before:])
    if abandoned:
        raise (
            abandoned[0]
            if len(abandoned) == 1
            else WalkAbandoned(
                "; ".join(str(a) for a in abandoned),
                offset=abandoned[0].offset,
                fs_type=abandoned[0].fs_type,
                hint=abandoned[0].hint,
            )
        )


def run_listing(
    source_path: str,
    kind: str,
    known: Known,
    exhibit: str,
    path: str | None,
    recursive: bool,
    deleted: bool,
    partition: int | None,
    mismatch: bool,
    as_json: bool,
    *,
    write: Callable[[str], Any],
    write_bytes: Callable[[bytes], Any] | None = None,
    direct_stdout: bool = False,
    options: Mapping[str, object] | None = None,
    hashes: HashStatus | None = None,
    show_known: bool = False,
) -> None:
    """``exhibit ls``: the lines to ``write``, then the warnings to stderr (see :mod:`triage.launch`).
    ``options``: what opening the evidence needs (an encrypted backup's password). ``hashes``:
    the hash-set status of the exhibit's files (triage/hashsets/known.py): known-good files are
    left out unless ``show_known``, known-bad ones marked (``"hashset": "known-bad"`` in JSON)."""
    from triage.sanitize import as_listed
    from triage.sources.open import list_entries

    path = None if path is None else as_listed(path)  # the real bytes typed, or the form ls prints
    warnings: list[WalkWarning] = []
    if hashes and not mismatch:
        entries = list_entries(
            source_path, path, recursive, deleted, partition, warnings=warnings, kind=kind, options=options
        )
        buffer: list[str] = []
        for e in entries:
            status = hashes.file_status(exhibit, e.partition, e.inode, e.path)
            if status == "known-good" and not show_known:
                continue
            line = format_line(e, as_json, known)
            if status is not None:
                line = (
                    line[:-2] + f', "hashset": "{status}"}}\n' if as_json else line[:-1] + f"\t[{status}]\n"
                )
            buffer.append(line)
            if len(buffer) >= 4096:
                write("".join(buffer))
                buffer.clear()
        if buffer:
            write("".join(buffer))
    elif mismatch:
        if not known:
            print(
                escape(
                    f"note: no triage run has looked at {exhibit}'s content yet; run 'exhibit triage {exhibit}'"
                ),
                file=sys.stderr,
            )
        entries = list_entries(
            source_path, path, recursive, deleted, partition, warnings=warnings, kind=kind, options=options
        )
        write_entries(
            (
                e
                for e in entries
                if (k := known.get((e.partition, e.inode, e.attr_type, e.attr_id, e.path))) is not None
                and k[2]
            ),
            as_json,
            known,
            write,
        )
    else:
        try:
            write_listing(
                source_path,
                path,
                recursive=recursive,
                deleted_only=deleted,
                partition=partition,
                as_json=as_json,
                known=known,
                write=write,
                warnings=warnings,
                write_bytes=write_bytes,
                direct_stdout=direct_stdout,
                kind=kind,
                options=options,
            )
        except WalkAbandoned as exc:  # after the other file systems: their warnings, then the error
            _print_warnings(warnings)
            raise WalkAbandoned(
                f"{exhibit}: {exc} (the listing is incomplete)",
                offset=exc.offset,
                fs_type=exc.fs_type,
                hint=exc.hint,
            ) from None
    _print_warnings(warnings)


def is_member_path(path: str | None) -> bool:
    """Does ``path`` name the inside of an archive in the evidence (``/a/chat.zip!``,
    ``/a/chat.zip!/Media``)? (triage/sources/nested.py)"""
    return path is not None and ("!/" in path or path.rstrip("/").endswith("!"))


def member_listing(
    case: Path | None,
    source_path: str,
    kind: str,
    known: Known,
    path: str | None,
    recursive: bool,
    partition: int | None,
    as_json: bool,
    *,
    write: Callable[[str], Any],
) -> None:
    """``exhibit ls EX /a/chat.zip!`` (or ``.../chat.zip!/Media``): the members of an archive found
    in the evidence, opened from the evidence; big archives are spooled in the case's scratch
    folder, never extracted. Members of archives inside it are listed with ``-r``.

    ``exhibit ls EX [DIR] -r --archives`` (``path`` not inside an archive): the recursive listing
    with every archive's members after it, as triage walks them."""
    from custody.case import open_case
    from triage.plugin.scratch import Scratch
    from triage.sources.nested import NestedSource
    from triage.sources.open import open_source

    c = open_case(case)
    try:
        scratch_parent = c.scratch_dir
    finally:
        c.close()
    scratch_parent.mkdir(parents=True, exist_ok=True)
    with open_source(source_path, kind) as top, Scratch(scratch_parent) as scratch:
        source = NestedSource(top, scratch=scratch)
        try:
            if path is not None and is_member_path(path):
                entries = list(source.archive_entries(path, recursive=recursive, partition=partition))
            else:
                entries = list(source.entries(path, recursive=True, partition=partition))
        finally:
            source.close_archives()
        write_entries(entries, as_json, known, write)
        _print_warnings(source.warnings)


def _print_warnings(warnings: list[WalkWarning]) -> None:
    sys.stdout.flush()
    for w in warnings:
        print(escape(f"warning: {w}"), file=sys.stderr)
