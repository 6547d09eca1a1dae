"""Copying files out of evidence for others to open, without losing track of them.

Every exported file is streamed into a temporary name in the target folder, re-read from there
and its hash compared with what was read from the evidence (and with the triage run's hash when
there is one); only then is it given its final name, and the export is recorded in the ledger.
So a full disk or a failed check never leaves a truncated file under a real name, and memory use
does not grow with the file (a 2 GB copy is hashed in 1 MB chunks).

Names are made safe from the raw bytes of each path component (never from the escaped display
path, whose ``\\x08`` escapes would otherwise become folders), and two evidence paths that end up
with the same safe name (``a.txt`` and ``A.txt`` on a case-insensitive disk, ``CON`` and ``_CON``)
are kept apart by a deterministic suffix recorded in the ledger entry (``renamed_from``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from custody.actors import signing_keys
from custody.case import Case
from custody.items import get_item
from custody.ledger import Draft
from triage.errors import TriageError
from triage.plugin.scratch import Scratch, write_sparse
from triage.sanitize import display_to_bytes, safe_components
from triage.sources.carve import CARVED_DIR, CarvedSource
from triage.sources.entry import FileEntry, Source
from triage.sources.nested import NestedSource
from triage.sources.open import open_source
from triage.views.carved import carved_file
from triage.views.findings import known_hashes

EXPORT = "item.export"
_CHUNK = 1 << 20


def raw_components(entry: FileEntry) -> list[bytes]:
    """The raw name bytes of each component of ``entry``'s path (the last one with its stream).

    Parent folders come back from their display form (which :func:`display_to_bytes` reverses
    exactly); the last component is the name as stored on disk.
    """
    shown = [p for p in entry.path.split("/") if p]
    parents = [display_to_bytes(p) for p in shown[:-1]]
    last = entry.name_bytes if entry.name_bytes else display_to_bytes(shown[-1] if shown else "")
    if entry.stream:
        last += b":" + display_to_bytes(entry.stream)
    return [*parents, last]


def _with_suffix(relative: PurePosixPath, tag: str) -> PurePosixPath:
    name = relative.name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext = name, ""
    else:
        ext = "." + ext
    return relative.with_name(f"{stem}~{tag}{ext}")


def plan_names(entries: Sequence[FileEntry]) -> list[tuple[PurePosixPath, PurePosixPath | None]]:
    """``(exported_as, renamed_from)`` for each entry: its safe path, or a suffixed one on collision.

    Collisions are judged case-insensitively (the export may be opened on Windows or macOS); the
    suffix is the first 12 hex digits of the SHA-256 of the entry's identity (partition, inode,
    attribute, raw path), so the same export gives the same names every time.
    """
    taken: set[str] = set()
    planned: list[tuple[PurePosixPath, PurePosixPath | None]] = []
    for entry in entries:
        raw = raw_components(entry)
        relative = safe_components(raw)
        chosen, renamed = relative, None
        if str(chosen).casefold() in taken:
            ident = b"\x00".join(
                [str(entry.partition).encode(), str(entry.inode).encode(), str(entry.attr_type).encode(),
                 str(entry.attr_id).encode(), *raw]
            )  # fmt: skip
            tag = hashlib.sha256(ident).hexdigest()[:12]
            chosen, renamed, n = _with_suffix(relative, tag), relative, 1
            while str(chosen).casefold() in taken:  # the same entry asked for twice
                n += 1
                chosen = _with_suffix(relative, f"{tag}-{n}")
        taken.add(str(chosen).casefold())
        planned.append((chosen, renamed))
    return planned


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _publish(tmp: Path, target: Path) -> None:
    """Give the checked copy its final name, never replacing anything already there."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise TriageError(f"{target} already exists", hint="export into an empty folder") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # No hard links here (FAT, exFAT, some network shares): check, then rename.
        if os.path.lexists(target):
            raise TriageError(f"{target} already exists", hint="export into an empty folder") from None
        os.rename(tmp, target)


def _copy_one(source: Source, entry: FileEntry, target: Path, expected: str | None) -> str:
    """Stream ``entry`` to ``target`` through a temporary name; return the checked SHA-256."""
    if os.path.lexists(target):
        raise TriageError(f"{target} already exists", hint="export into an empty folder")
    tmp = target.parent / f".exhibit-export-{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in source.read(entry, chunk_size=_CHUNK):
                digest.update(chunk)
                write_sparse(out, chunk)
            out.truncate()  # a trailing hole still counts towards the size
            out.flush()
            os.fsync(out.fileno())
        written = _hash_file(tmp)
        if written != digest.hexdigest() or (expected is not None and expected != written):
            raise TriageError(
                f"hash check failed for {entry.path}: read {digest.hexdigest()}, wrote {written}, triage recorded {expected}",
                hint="the copy was not kept; check the disk and the evidence",
            )
        tmp.chmod(0o444)
        _publish(tmp, target)
    except OSError as exc:
        raise TriageError(
            f"cannot write {target}: {exc.strerror or exc}",
            hint="free space on the target (or export elsewhere) and export again; "
            "the partial copy was removed and nothing was recorded",
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return written


def export_files(
    case: Case,
    exhibit: str,
    paths: Sequence[str],
    to: Path,
    *,
    actor: str,
    partition: int | None = None,
    options: Mapping[str, object] | None = None,
) -> list[dict[str, Any]]:
    item = get_item(case, exhibit)
    keys = signing_keys(case, [actor])
    to = Path(to)
    recorded = known_hashes(case.engine, exhibit)
    exported: list[dict[str, Any]] = []
    done: list[Path] = []
    case.scratch_dir.mkdir(parents=True, exist_ok=True)
    with (
        open_source(item.source_path, item.kind, options=options) as top,
        Scratch(case.scratch_dir) as scratch,  # big archives a member is exported from
    ):
        # a member of an archive in the evidence is exported by its path: /a/chat.zip!/msgstore.db
        # a file carved from free space by triage (/$Carved/<offset>.<type>) is read by its extents
        carved: dict[str, FileEntry] = {}
        extents: dict[tuple[int | None, str], tuple[tuple[int, int], ...]] = {}
        with case.engine.connect() as conn:
            for wanted in paths:
                if wanted.startswith(f"{CARVED_DIR}/"):
                    reader, carved[wanted] = carved_file(conn, exhibit, top, wanted, partition)
                    extents.update(reader.carved)
        reading: Source = CarvedSource(top, extents) if carved else top
        source = NestedSource(reading, scratch=scratch)
        # Resolve every path first: a typo in the last one must not leave earlier copies behind
        # with no ledger entry.
        entries = [carved[p] if p in carved else source.locate(p, partition) for p in paths]
        for entry in entries:
            if entry.type == "dir":
                raise TriageError(f"{entry.path} is a folder", hint="export the files inside it")
        try:
            to.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TriageError(
                f"cannot create {to}: {exc.strerror or exc}", hint="choose another --to"
            ) from exc
        root = to.resolve()
        try:
            for entry, (relative, renamed) in zip(entries, plan_names(entries), strict=True):
                target = (root / relative).resolve()
                if root not in target.parents:
                    raise TriageError(f"refusing to write {entry.path!r} outside {root}")
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except FileExistsError as exc:  # a tar holding both "link" and "link/x", or an earlier export
                    raise TriageError(
                        f"cannot create the folder {target.parent}: a file of that name is already there",
                        hint="export into an empty folder; export the file and the folder of the same "
                        "name with separate --to folders",
                    ) from exc
                except OSError as exc:
                    raise TriageError(
                        f"cannot create {target.parent}: {exc.strerror or exc}",
                        hint="free space on the target or export elsewhere",
                    ) from exc
                expected = recorded.get(
                    (entry.partition, entry.inode, entry.attr_type, entry.attr_id, entry.path)
                )
                written = _copy_one(source, entry, target, expected)
                done.append(target)
                record: dict[str, Any] = {
                    "path": entry.path,
                    "partition": entry.partition,
                    "inode": entry.inode,
                    "stream": entry.stream,
                    "deleted": entry.deleted,
                    "sha256": written,
                    "matches_triage": expected is not None,
                    "exported_as": str(relative),
                }
                if renamed is not None:
                    record["renamed_from"] = str(renamed)
                exported.append(record)
        except BaseException:
            # Nothing is recorded for a failed export, so nothing of it may stay behind either.
            for path in done:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            raise
    case.ledger.append(
        [
            Draft(
                kind=EXPORT,
                actor=actor,
                exhibit=exhibit,
                data={"to": str(root), "files": exported, "parent_sha256": item.hashes.get("sha256")},
            )
        ],
        keys,
        checkpoint_signer=actor,
    )
    return exported
