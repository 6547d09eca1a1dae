"""``exhibit bundle``: write the verification bundle of a case (layout in triage/bundle/layout.py).

Every part comes from custody's own exporters (the JSON export, the checkpoint file, inclusion
and consistency proofs) or is derived from the ledger export the bundle carries (hash lists), so
the verifier can recompute it. The triage rows are read from the case database in digest order
and their roots are compared with the exhibit's signed digest before anything is written: a bundle
is never made from triage data that does not match its anchor.

Reproducible: the parts depend only on the case state and the options; the zip's timestamps are
the latest checkpoint's time; the members are sorted. The same state gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import inspect, select

from custody import merkle
from custody.case import Case
from custody.exports import export_json
from custody.proofs import consistency_proofs, inclusion_proofs
from custody.timefmt import parse_utc
from custody.verify import export_checkpoint
from triage.bundle import layout
from triage.bundle.errors import BundleError
from triage.bundle.readme import readme
from triage.bundle.zipio import BundleWriter
from triage.engine import integrity

_SPOOL = 64 * 1024 * 1024  # rows and reports up to this size stay in memory


@dataclass
class Part:
    """One member of the bundle: its bytes, or a temporary file for large ones."""

    sha256: str
    size: int
    data: bytes | None = None
    spool: IO[bytes] | None = None

    @classmethod
    def of(cls, data: bytes) -> Part:
        return cls(hashlib.sha256(data).hexdigest(), len(data), data=data)


@dataclass(frozen=True)
class Built:
    path: Path
    case_number: str
    tree_size: int
    root: str
    exhibits: list[str]
    reports: list[dict[str, Any]]
    members: list[str] = field(default_factory=list)
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "bundle": str(self.path),
            "sha256": self.sha256,
            "case": self.case_number,
            "tree_size": self.tree_size,
            "root": self.root,
            "exhibits": self.exhibits,
            "reports": self.reports,
            "members": self.members,
        }


def build_bundle(
    case: Case,
    out: Path,
    exhibits: Sequence[str] = (),
    reports: Sequence[Path] = (),
    progress: Callable[[str], None] | None = None,
) -> Built:
    """Write the bundle of ``exhibits`` (default: every acquired exhibit) and ``reports`` to ``out``.

    Raises :class:`BundleError` (nothing written) when ``out`` exists, an exhibit is unknown, a
    report cannot be read, an exhibit's triage rows differ from its signed digest, or the ledger
    grew while the bundle was being made.
    """
    say = progress or (lambda _text: None)
    if out.exists() or out.is_symlink():
        raise BundleError(f"{out} already exists", hint="choose a new file name; a bundle is never replaced")
    checkpoint = export_checkpoint(case)
    head = checkpoint["checkpoint"]
    say("ledger")
    ledger_text = export_json(case)
    ledger_doc = json.loads(ledger_text)
    bodies: list[dict[str, Any]] = [e["body"] for e in ledger_doc["entries"]]
    if len(bodies) != head["tree_size"]:
        raise _changed()
    acquired = {str(b["exhibit"]): int(b["seq"]) for b in bodies if b.get("kind") == layout.ACQUIRE_KIND}
    chosen = sorted(set(exhibits)) if exhibits else sorted(acquired)
    unknown = [e for e in chosen if e not in acquired]
    if unknown:
        raise BundleError(
            f"no acquired exhibit {', '.join(unknown)} in case {head['case']}",
            hint="'exhibit items' lists the exhibits",
        )
    parts: dict[str, Part] = {
        layout.LEDGER: Part.of(ledger_text.encode("utf-8")),
        layout.CHECKPOINT: Part.of(layout.dumps(checkpoint, ascii_only=True)),
    }
    try:
        say("consistency proofs")
        parts[layout.CONSISTENCY] = Part.of(layout.dumps(consistency_proofs(case)))
        listed = []
        for exhibit in chosen:
            say(f"exhibit {exhibit}")
            listed.append(_exhibit_parts(case, exhibit, bodies, acquired[exhibit], parts))
        report_list = _report_parts(reports, bodies, parts)
        index: dict[str, Any] = {
            "format": layout.FORMAT,
            "ledger": head["ledger"],
            "case": head["case"],
            "tree_size": head["tree_size"],
            "root": head["root"],
            "time": head["time"],
            "exhibits": listed,
            "reports": report_list,
        }
        parts[layout.README] = Part.of(readme(index, ledger_doc))
        index["parts"] = {name: parts[name].sha256 for name in sorted(parts)}
        parts[layout.INDEX] = Part.of(layout.dumps(index))
        manifest = b"".join(layout.checksum_line(parts[n].sha256, n.encode("utf-8")) for n in sorted(parts))
        parts[layout.MANIFEST] = Part.of(manifest)
        if case.ledger.count() != head["tree_size"]:
            raise _changed()
        say("writing")
        writer = BundleWriter(out, zip_time(str(head["time"]["utc"])))
        try:
            for name in sorted(parts):
                part = parts[name]
                if part.data is not None:
                    writer.add(name, part.data)
                else:
                    assert part.spool is not None
                    writer.add_file(name, part.spool, part.size)
            writer.commit()
        except BaseException:
            writer.discard()
            raise
    finally:
        for part in parts.values():
            if part.spool is not None:
                part.spool.close()
    return Built(
        out,
        str(head["case"]),
        int(head["tree_size"]),
        str(head["root"]),
        chosen,
        report_list,
        sorted(parts),
        _file_sha256(out),
    )


def _changed() -> BundleError:
    return BundleError(
        "the ledger grew while the bundle was being made, so its parts would not agree",
        hint="run 'exhibit bundle' again when nothing else is recording in the case",
    )


def zip_time(utc: str) -> tuple[int, int, int, int, int, int]:
    """The zip timestamp of every member: the checkpoint's UTC time (zip's range is 1980-2107)."""
    t = parse_utc(utc)
    if t.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if t.year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second - t.second % 2)  # zip keeps even seconds


def _exhibit_parts(
    case: Case, exhibit: str, bodies: list[dict[str, Any]], acquired_seq: int, parts: dict[str, Part]
) -> dict[str, Any]:
    folder = layout.exhibit_folder(exhibit)
    parts[f"{folder}/{layout.PROOFS}"] = Part.of(layout.dumps(inclusion_proofs(case, exhibit)))
    acquire = next(layout.about(bodies, exhibit, layout.ACQUIRE_KIND))
    for name, data in layout.evidence_lists(acquire).items():
        parts[f"{folder}/{name}"] = Part.of(data)
    exports = list(layout.about(bodies, exhibit, layout.EXPORT_KIND))
    if exports:
        parts[f"{folder}/{layout.EXPORTS_SHA256}"] = Part.of(layout.exports_list(exports))
    anchor = layout.anchor_of(bodies, exhibit)
    if anchor is not None:
        parts[f"{folder}/{layout.DIGEST}"] = Part.of(layout.dumps(anchor.as_dict(exhibit)))
        for spec in integrity.TABLES:
            parts[f"{folder}/{spec.name}.jsonl"] = _rows(case, exhibit, spec, anchor)
    return {
        "exhibit": exhibit,
        "folder": folder,
        "acquired": acquired_seq,
        "anchor": anchor.seq if anchor is not None else None,
        "exports": [int(b["seq"]) for b in exports],
    }


def _rows(case: Case, exhibit: str, spec: integrity.TableSpec, anchor: layout.Anchor) -> Part:
    """The exhibit's rows of one table as canonical JSON lines in digest order, checked against
    the signed digest (root and count) before they go into the bundle."""
    table = spec.table
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (closed by build_bundle)
    digest = hashlib.sha256()
    leaves: list[bytes] = []
    size = 0
    try:
        with case.engine.connect() as conn:
            if inspect(conn).has_table(table.name):
                order: Any = table.c[spec.key]
                if not spec.numeric_key and conn.dialect.name == "postgresql":
                    order = order.collate("C")
                query = select(table).where(table.c.exhibit == exhibit).order_by(order)
                for row in conn.execute(query.execution_options(yield_per=5000)):
                    line = integrity.canonical_row(table, row)
                    leaves.append(merkle.leaf_hash(line))
                    spool.write(line + b"\n")
                    digest.update(line + b"\n")
                    size += len(line) + 1
        signed = (anchor.digest.get("tables") or {}).get(spec.name) or {}
        root = merkle.root_from_leaf_hashes(leaves).hex()
        if root != signed.get("root") or len(leaves) != signed.get("rows"):
            raise BundleError(
                f"the triage data of {exhibit} no longer matches the digest signed in ledger entry "
                f"{anchor.seq} (run {anchor.run}): {spec.name} has {len(leaves)} rows with root {root}, "
                f"signed {signed.get('rows')} rows with root {signed.get('root')}",
                hint=f"'exhibit custody verify {exhibit}' names the row; triaging {exhibit} again re-reads it "
                "from the evidence",
            )
    except BaseException:
        spool.close()
        raise
    return Part(digest.hexdigest(), size, spool=spool)


def _report_parts(
    reports: Sequence[Path], bodies: list[dict[str, Any]], parts: dict[str, Part]
) -> list[dict[str, Any]]:
    listed = []
    for path in reports:
        name = f"{layout.REPORTS}/{layout.safe_name(path.name)}"
        if name in parts:
            raise BundleError(
                f"two reports would both be {name} in the bundle",
                hint="give the reports different file names",
            )
        part = _read_report(path)
        parts[name] = part
        listed.append(
            {
                "name": name,
                "sha256": part.sha256,
                "size": part.size,
                "ledger_entries": layout.entries_recording(bodies, part.sha256),
            }
        )
    return sorted(listed, key=lambda r: str(r["name"]))


def _read_report(path: Path) -> Part:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise BundleError(f"cannot open report {path}: {exc.strerror}", hint="check the path") from None
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (closed by build_bundle)
    digest = hashlib.sha256()
    size = 0
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise BundleError(
                f"report {path} is not a regular file",
                hint="give the report file itself: for a court report, the PDF (an HTML report's folder "
                "is not bundled; its report.write entry signs the manifest of the whole folder, which "
                "docs/prosecutor.md says how to check)",
            )
        with os.fdopen(fd, "rb") as source:
            while chunk := source.read(1024 * 1024):
                spool.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        spool.close()
        raise BundleError(f"cannot read report {path}: {exc.strerror}", hint="check the file") from None
    except BaseException:
        spool.close()
        raise
    return Part(digest.hexdigest(), size, spool=spool)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
