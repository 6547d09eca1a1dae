"""``exhibit verify-report``: is this report file, or HTML report folder, one the case's ledger
records, unchanged?

A ``report.write`` entry signs the report's SHA-256 (for an HTML report: of ``index.html``) and,
for an HTML report, the SHA-256 of the manifest of the whole folder
(:func:`triage.report.build.folder_manifest`). ``index.html`` alone says nothing of the other pages
(found in review: a seal number changed in ``custody.html`` went unseen), so a folder is checked
by its manifest, a file by its SHA-256; the entries searched are the case's signed ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from custody.case import Case
from triage.report.build import file_sha256, folder_manifest
from triage.report.model import REPORT_KIND, ReportError


@dataclass(frozen=True)
class ReportCheck:
    """What the ledger says of one report on disk."""

    path: str
    kind: str  # "file" or "folder"
    sha256: str  # the file's, or the folder manifest's
    files: int
    recorded: list[dict[str, Any]] = field(default_factory=list)  # the report.write entries that match
    named: list[dict[str, Any]] = field(default_factory=list)  # entries of the same name that do not

    @property
    def ok(self) -> bool:
        return bool(self.recorded)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def check_report(case: Case, path: Path) -> ReportCheck:
    """Match ``path`` (a report file or an HTML report folder) with the case's ``report.write``
    entries: by SHA-256 for a file, by the folder manifest's for a folder."""
    if path.is_dir():
        digest, files, _total = folder_manifest(path)
        kind, key = "folder", "manifest_sha256"
    elif path.is_file():
        digest, files, kind, key = file_sha256(path), 1, "file", "sha256"
    else:
        raise ReportError(
            f"{path} is neither a file nor a folder", hint="give a report file or an HTML report folder"
        )
    recorded, named = [], []
    for entry in case.ledger.entries(kinds=[REPORT_KIND]):
        data = entry.data if isinstance(entry.data, dict) else {}
        said = {
            "seq": entry.seq,
            "actor": entry.actor,
            "file": data.get("file"),
            "format": data.get("format"),
        }
        folder_report = data.get("manifest_sha256") is not None
        if data.get(key) == digest and folder_report == (kind == "folder"):
            recorded.append(said)
        elif data.get("file") == path.name or (
            kind == "file" and folder_report and data.get("sha256") == digest
        ):
            # a file that is only the index.html of an HTML report proves nothing of its other pages
            named.append({**said, key: data.get(key)})
    return ReportCheck(str(path), kind, digest, files, recorded, named)
