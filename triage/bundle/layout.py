"""What a verification bundle holds, and the parts both sides derive from the ledger alone.

The builder writes these parts from the case; the verifier derives the same bytes from the
bundle's own ledger export and compares. Everything here works on parsed entry bodies (dicts), so
it needs no database: the hash lists, the latest digest anchoring an exhibit's triage rows, and
the ledger entries that record a report's SHA-256.

Layout (docs/custody.md, "Verification bundle")::

    README.txt                          how to check each part by hand
    MANIFEST                            sha256sum -c list of every other member
    bundle.json                         the index: case, tree head, exhibits, reports, parts' SHA-256
    ledger/ledger.json                  exhibit custody export --format json
    ledger/checkpoint.json              exhibit custody checkpoint (the latest)
    ledger/consistency.json             consistency proofs from every earlier checkpoint
    exhibits/<EX>/proofs.json           exhibit custody proof <EX>
    exhibits/<EX>/evidence.sha256       the evidence as acquired (evidence.md5 beside it)
    exhibits/<EX>/exports.sha256        the files exported from it (item.export entries)
    exhibits/<EX>/digest.json           the entry whose triage digest anchors the rows below
    exhibits/<EX>/triage_<table>.jsonl  the canonical rows that digest covers, in digest order
    reports/<name>                      the report files given
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from triage.engine import integrity

FORMAT = "exhibit-bundle/1"
README = "README.txt"
MANIFEST = "MANIFEST"
INDEX = "bundle.json"
LEDGER = "ledger/ledger.json"
CHECKPOINT = "ledger/checkpoint.json"
CONSISTENCY = "ledger/consistency.json"
EXHIBITS = "exhibits"
REPORTS = "reports"
PROOFS = "proofs.json"
DIGEST = "digest.json"
EVIDENCE_SHA256 = "evidence.sha256"
EVIDENCE_MD5 = "evidence.md5"
EXPORTS_SHA256 = "exports.sha256"
TABLES = tuple(spec.name for spec in integrity.TABLES)
ANCHOR_KINDS = (integrity.RUN_KIND, integrity.MATCH_KIND)
EXPORT_KIND = "item.export"
#: The kind of a court report's ledger entry (``triage.report.model.REPORT_KIND``, which bundles do
#: not import; tests/triage/test_bundle.py checks the two agree): its ``file`` and ``sha256``.
REPORT_KIND = "report.write"
ACQUIRE_KIND = "item.acquire"
STREAM_KINDS = ("split-raw", "e01")  # hashes of a byte stream no single file holds: listed as "-"

_SAFE = re.compile(r"[A-Za-z0-9._-]")
MEMBER_NAME = re.compile(r"^[A-Za-z0-9%._-]+(/[A-Za-z0-9%._-]+)*$")


def safe_name(text: str) -> str:
    """A zip member name component for free text (an exhibit number, a report's file name):
    letters, digits, ``.``, ``_`` and ``-`` kept, every other UTF-8 byte as ``%XX``; never
    ``.``/``..`` and never starting with a dot."""
    out = []
    for ch in text:
        if _SAFE.match(ch):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    name = "".join(out) or "%00"
    if name.startswith("."):
        name = "%2E" + name[1:]
    return name


def exhibit_folder(exhibit: str) -> str:
    return f"{EXHIBITS}/{safe_name(exhibit)}"


def dumps(value: Any, *, ascii_only: bool = False) -> bytes:
    """The one JSON layout of the bundle's JSON parts (2-space indent, newline at the end)."""
    return (json.dumps(value, indent=2, ensure_ascii=ascii_only) + "\n").encode("utf-8")


# -- sha256sum / md5sum lists ---------------------------------------------------------------------


def checksum_line(digest: str, name: bytes) -> bytes:
    """One line as GNU ``sha256sum`` writes it (and ``sha256sum -c`` reads it): a name holding a
    backslash, a line feed or a carriage return is escaped and the line starts with ``\\``."""
    if any(c in name for c in b"\\\n\r"):
        escaped = name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
        return b"\\" + digest.encode("ascii") + b"  " + escaped + b"\n"
    return digest.encode("ascii") + b"  " + name + b"\n"


def _text_bytes(record: dict[str, Any], name: str) -> bytes:
    """A recorded path's exact bytes: ``<name>_bytes_hex`` when the name was not UTF-8."""
    raw = record.get(f"{name}_bytes_hex")
    if isinstance(raw, str):
        try:
            return bytes.fromhex(raw)
        except ValueError:
            pass
    return str(record.get(name)).encode("utf-8", "surrogatepass")


def evidence_lists(acquire_body: dict[str, Any]) -> dict[str, bytes]:
    """``{"evidence.sha256": ..., "evidence.md5": ...}`` of an ``item.acquire`` body.

    A file, raw image, zip or tar: its path as acquired; a folder: each member that could be
    read (in manifest order) under that path; a split raw image or an E01: ``-`` (pipe the
    media into ``sha256sum -c``). The MD5 list only when MD5 values were recorded.
    """
    acq = (acquire_body.get("data") or {}).get("acquisition") or {}
    kind = acq.get("kind")
    source = _text_bytes(acq, "source_path")
    out: dict[str, bytes] = {}
    for algorithm, part in (("sha256", EVIDENCE_SHA256), ("md5", EVIDENCE_MD5)):
        lines = []
        if kind == "folder":
            for member in acq.get("members") or []:
                value = member.get(algorithm) if isinstance(member, dict) else None
                if isinstance(value, str):
                    lines.append(
                        checksum_line(value, source.rstrip(b"/") + b"/" + _text_bytes(member, "path"))
                    )
        else:
            value = (acq.get("hashes") or {}).get(algorithm)
            if isinstance(value, str):
                lines.append(checksum_line(value, b"-" if kind in STREAM_KINDS else source))
        if lines or algorithm == "sha256":
            out[part] = b"".join(lines)
    return out


def exports_list(export_bodies: Iterable[dict[str, Any]]) -> bytes:
    """Every file of the ``item.export`` entries, in ledger order: its SHA-256 as written and
    read back, and where it was written (``to``/``exported_as``)."""
    lines = []
    for body in export_bodies:
        data = body.get("data") or {}
        to = str(data.get("to")).encode("utf-8", "surrogatepass").rstrip(b"/")
        for f in data.get("files") or []:
            if isinstance(f, dict) and isinstance(f.get("sha256"), str):
                lines.append(
                    checksum_line(f["sha256"], to + b"/" + str(f.get("exported_as")).encode("utf-8"))
                )
    return b"".join(lines)


# -- what the ledger says about an exhibit --------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The entry whose signed digest anchors an exhibit's triage rows (docs/custody.md, "Triage
    digest"): the latest ``triage.run`` or ``hashset.match`` entry with a digest about it."""

    seq: int
    kind: str
    run: str
    digest: dict[str, Any]

    def as_dict(self, exhibit: str) -> dict[str, Any]:
        return {
            "exhibit": exhibit,
            "seq": self.seq,
            "kind": self.kind,
            "run": self.run,
            "digest": self.digest,
        }


def anchor_of(bodies: Iterable[dict[str, Any]], exhibit: str) -> Anchor | None:
    found = None
    for body in bodies:
        if body.get("exhibit") != exhibit or body.get("kind") not in ANCHOR_KINDS:
            continue
        data = body.get("data")
        digest = data.get("digest") if isinstance(data, dict) else None
        if isinstance(digest, dict) and digest.get("format") == integrity.FORMAT:
            assert isinstance(data, dict)
            run = data.get("run") if body.get("kind") == integrity.RUN_KIND else data.get("match")
            found = Anchor(int(body["seq"]), str(body["kind"]), str(run), digest)
    return found


def about(bodies: Iterable[dict[str, Any]], exhibit: str, kind: str) -> Iterator[dict[str, Any]]:
    return (b for b in bodies if b.get("exhibit") == exhibit and b.get("kind") == kind)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def entries_recording(bodies: Iterable[dict[str, Any]], sha256: str) -> list[int]:
    """The ``seq`` of every entry whose ``data`` holds ``sha256`` as a value (any member, any
    depth): the ledger recorded a file with that content (a report event, an export, ...)."""
    return [int(b["seq"]) for b in bodies if sha256 in _strings(b.get("data"))]


def expected_members(exhibit: str, bodies: list[dict[str, Any]]) -> list[str]:
    """The members the bundle must hold for ``exhibit``, from the ledger alone."""
    folder = exhibit_folder(exhibit)
    names = [f"{folder}/{PROOFS}"]
    acquire = next(about(bodies, exhibit, ACQUIRE_KIND), None)
    if acquire is not None:
        names.extend(f"{folder}/{part}" for part in evidence_lists(acquire))
    if any(True for _ in about(bodies, exhibit, EXPORT_KIND)):
        names.append(f"{folder}/{EXPORTS_SHA256}")
    if anchor_of(bodies, exhibit) is not None:
        names.append(f"{folder}/{DIGEST}")
        names.extend(f"{folder}/{table}.jsonl" for table in TABLES)
    return sorted(names)
