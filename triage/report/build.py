"""``exhibit report``: the one entry point that writes a court report (issue 10, sections 1-3).

Order matters: the signing key is loaded, the exhibits chosen and their stored triage data
checked against the digests their runs signed **before** anything is written (a mismatch
refuses the report, naming the exhibit and the run); the report is made in a temporary name
beside ``out`` and only renamed to ``out`` when complete; then its SHA-256 is recorded in a
``report.write`` ledger entry. The report's case state excludes ``report.write`` entries
(triage/report/model.py), so running the command again on the same case gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custody.case import Case
from custody.ledger import Draft
from triage.report.context import ReportContext
from triage.report.env import environment, visible
from triage.report.html import write_html
from triage.report.media import FolderMedia
from triage.report.model import (
    REPORT_KIND,
    ReportError,
    build_model,
    check_triage_data,
    choose_exhibits,
    state_size,
)
from triage.report.parts import appendix_sections, body_sections, findings_sections, front_sections, view_of
from triage.report.redact import Redactor, parse_file
from triage.report.sections import Section
from triage.views.findings import check_kinds

FORMATS = ("pdf", "html")
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ReportResult:
    """What was written and recorded."""

    format: str
    path: Path
    sha256: str  # of the PDF, or of the HTML report's index.html
    size: int
    pages: int | None  # PDF pages
    files: int  # files in the HTML folder (1 for a PDF)
    manifest_sha256: str | None  # HTML: SHA-256 of the folder's manifest
    seq: int  # the report.write entry
    exhibits: tuple[str, ...]
    redacted: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": str(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "pages": self.pages,
            "files": self.files,
            "manifest_sha256": self.manifest_sha256,
            "seq": self.seq,
            "exhibits": list(self.exhibits),
            "redacted": self.redacted,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_manifest(folder: Path) -> tuple[str, int, int]:
    """SHA-256 of the folder's manifest (``<sha256>  <size>  <path>\\n`` per file, sorted by the
    path's bytes: the manifest of docs/custody.md), the number of files and their total size."""
    found = sorted(
        (p.relative_to(folder).as_posix().encode("utf-8", "surrogateescape"), p)
        for p in folder.rglob("*")
        if p.is_file()
    )
    manifest = hashlib.sha256()
    total = 0
    for name, path in found:
        size = path.stat().st_size
        total += size
        manifest.update(f"{file_sha256(path)}  {size}  ".encode() + name + b"\n")
    return manifest.hexdigest(), len(found), total


def _check_out(fmt: str, out: Path) -> None:
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}", hint="use --format pdf or --format html")
    if out.exists() or out.is_symlink():
        raise ReportError(
            f"{out} already exists", hint="give the name of a new file or folder: nothing is overwritten"
        )
    if not out.parent.is_dir():
        if out.parent.exists():
            raise ReportError(f"{out.parent} is a file, not a folder", hint="give an --out inside a folder")
        raise ReportError(
            f"the folder {out.parent} does not exist", hint="create it first, or give another --out"
        )


def write_report(
    case: Case,
    fmt: str,
    out: Path,
    exhibits: Sequence[str] = (),
    kinds: Sequence[str] | None = None,
    redact_file: Path | None = None,
    actor: str = "",
    *,
    keys: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ReportResult:
    """Write the report of ``exhibits`` (all when empty) as ``fmt`` to ``out`` and record it."""
    from custody.actors import signing_keys

    _check_out(fmt, out)
    check_kinds(case.engine, kinds)  # a misspelt --kind: refused, not a signed report of nothing
    listed = parse_file(redact_file) if redact_file is not None else None
    keys = keys if keys is not None else signing_keys(case, [actor])
    size = state_size(case)
    chosen = choose_exhibits(case, size, list(dict.fromkeys(exhibits)))
    anchors, verification = check_triage_data(case, chosen)  # issue 10, section 1: refuse before writing
    redactor = (
        Redactor.for_case(case.engine, listed) if listed is not None and not listed.empty else Redactor.none()
    )
    model = build_model(case, chosen, anchors, verification)
    kinds_tuple = tuple(sorted(set(kinds))) if kinds else None
    view = view_of(model, fmt, out.name, actor, kinds_tuple, redactor.active)
    env = environment(text=redactor.text if redactor.active else None)
    partial = out.parent / f".{out.name}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir()  # the report is written beside its final name, then renamed to it
    except OSError as exc:
        raise ReportError(
            f"cannot write in the folder {out.parent}: {exc.strerror or exc}",
            hint="give an --out in a folder you can write to; nothing was recorded",
        ) from None
    try:
        media = FolderMedia(partial)
        ctx = ReportContext(case, tuple(chosen), kinds_tuple, media, redactor)
        body: list[Section] = [
            *body_sections(model),
            *findings_sections(ctx),
            *appendix_sections(case, model, chosen),
        ]
        body = [_reporting(s, progress) for s in body] if progress is not None else body
        if fmt == "html":
            write_html(partial, env, view, front_sections(), body)
            index = partial / "index.html"
            sha256, size_bytes = file_sha256(index), index.stat().st_size
            manifest, files, _ = folder_manifest(partial)
            pages = None
            os.rename(partial, out)
        else:
            from triage.report.pdf import write_pdf

            work = partial / "work"
            work.mkdir()
            target = partial / "report.pdf"

            def title(text: str) -> str:
                return visible(redactor.text(text))

            pages = write_pdf(
                target,
                env,
                view,
                front_sections(),
                body,
                partial,
                work,
                title,
                {
                    "title": title(f"Case {model.case_number}: {model.title}"),
                    "author": title(view.author),
                    "creator": model.tool,
                },
            )
            sha256, size_bytes = file_sha256(target), target.stat().st_size
            manifest, files = None, 1
            os.link(target, out)  # fails, rather than replaces, if out appeared meanwhile
            shutil.rmtree(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    data = {
        "format": fmt,
        "file": out.name,
        "sha256": sha256,
        "size": size_bytes,
        "pages": pages,
        "files": files,
        "manifest_sha256": manifest,
        "exhibits": list(chosen),
        "kinds": list(kinds_tuple) if kinds_tuple else None,
        "covers": {"tree_size": model.size, "checkpoint_root": model.checkpoint.get("root")},
        "redaction": {"applied": redactor.active, "file_sha256": listed.source_sha256 if listed else None},
        "tool": model.tool,
    }
    [entry] = case.ledger.append(
        [Draft(kind=REPORT_KIND, actor=actor, data=data)], keys, checkpoint_signer=actor
    )
    return ReportResult(
        fmt, out, sha256, size_bytes, pages, files, manifest, entry.seq, tuple(chosen), redactor.active
    )


def _reporting(section: Section, progress: Progress) -> Section:
    import dataclasses

    def pages() -> Any:
        for number, page in enumerate(section.pages(), 1):
            progress(section.title, number)
            yield page

    return dataclasses.replace(section, pages=pages)
