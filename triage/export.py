"""Copying files out of evidence for others to open, without losing track of them.

Every exported file is re-read after writing and its hash compared with what was read from the
evidence (and with the triage run's hash when there is one); the export is then recorded in
the ledger. Names are made safe first, so nothing can land outside the target folder.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from custody.actors import signing_keys
from custody.case import Case
from custody.items import get_item
from custody.ledger import Draft
from triage.errors import TriageError
from triage.findings import known_hashes
from triage.lookup import find_entry
from triage.sanitize import safe_relative_path
from triage.walk import open_source

EXPORT = "item.export"


def export_files(
    case: Case, exhibit: str, paths: Sequence[str], to: Path, *, actor: str, partition: int | None = None
) -> list[dict[str, Any]]:
    item = get_item(case, exhibit)
    keys = signing_keys(case, [actor])
    to = Path(to)
    recorded = known_hashes(case.engine, exhibit)
    exported: list[dict[str, Any]] = []
    with open_source(item.source_path) as source:
        # Resolve every path first: a typo in the last one must not leave earlier copies behind
        # with no ledger entry.
        entries = [find_entry(source, path, partition) for path in paths]
        for entry in entries:
            if entry.type == "dir":
                raise TriageError(f"{entry.path} is a folder", hint="export the files inside it")
        to.mkdir(parents=True, exist_ok=True)
        root = to.resolve()
        for entry in entries:
            relative = safe_relative_path(entry.path)
            target = (root / relative).resolve()
            if root not in target.parents:
                raise TriageError(f"refusing to write {entry.path!r} outside {root}")
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            try:
                fd = os.open(target, flags, 0o444)
            except FileExistsError:
                raise TriageError(f"{target} already exists", hint="export into an empty folder") from None
            with os.fdopen(fd, "wb") as out:
                for chunk in source.read(entry):
                    digest.update(chunk)
                    out.write(chunk)
            written = hashlib.sha256(target.read_bytes()).hexdigest()
            expected = recorded.get(
                (entry.partition, entry.inode, entry.attr_type, entry.attr_id, entry.path)
            )
            if written != digest.hexdigest() or (expected is not None and expected != written):
                raise TriageError(
                    f"hash check failed for {entry.path}: read {digest.hexdigest()}, wrote {written}, triage recorded {expected}",
                    hint="the copy in the target folder is not trustworthy; check the disk and the evidence",
                )
            exported.append(
                {
                    "path": entry.path,
                    "partition": entry.partition,
                    "inode": entry.inode,
                    "stream": entry.stream,
                    "deleted": entry.deleted,
                    "sha256": written,
                    "matches_triage": expected is not None,
                    "exported_as": str(PurePosixPath(relative)),
                }
            )
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
