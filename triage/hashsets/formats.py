"""Reading hash-set files, one hash at a time: plain lists, hashdeep, NSRL RDSv3, Project VIC.

Every reader is a generator of :class:`Parsed` hashes and fills a :class:`ParseReport` as it
goes: lines (or rows, or media entries) that are not a hash are *garbage*, counted, and the
first :data:`MAX_SAMPLES` kept with their line number, so that the import reports them; they are
never imported and never dropped without a word. Nothing is held whole: a 50-million-line list
or a multi-gigabyte VICS file streams through in constant memory.

Formats
-------
``plain``     one hash per line, MD5/SHA-1/SHA-256 told apart by length (per line); the
              ``md5sum``/``sha1sum``/``sha256sum`` forms (``HASH  name``, ``HASH *name``) and the
              BSD form (``SHA256 (name) = HASH``); blank lines and ``#`` comments are skipped.
``hashdeep``  hashdeep/md5deep output: ``%%%% HASHDEEP-1.0`` header, ``%%%% size,md5,...``
              naming the columns, ``##`` comments, then CSV rows (the file name last).
``nsrl``      NIST NSRL RDSv3 SQLite: the ``FILE`` table (or view) with ``sha256``, ``sha1``
              and ``md5`` columns (opened read-only and immutable).
``vics``      Project VIC / VICS JSON (OData): ``value`` is an array of media (VICS 1.3,
              ``odata.metadata`` ending ``#Media``; VICS 2.0, ``@odata.context`` ``...#Media``) or
              of cases each holding a ``Media`` array (VICS 2.0 ``#Cases``). Each media's ``MD5``,
              ``SHA1`` (and ``SHA256`` when present) become hashes with its ``Category``. VICS
              has no standard perceptual hash field: Exhibit reads a ``PDQ`` member (64 hex
              digits) when a distribution adds one.
``pdq``       perceptual hashes: one PDQ hash (64 hex digits) per line, optionally followed by
              ``,quality[,name]`` as Meta's ``pdq-photo-hasher`` prints them.
"""

from __future__ import annotations

import codecs
import re
import sqlite3
from binascii import Error as HexError
from binascii import unhexlify
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from triage.hashsets.errors import HashSetError

ALGOS: dict[str, int] = {"md5": 1, "sha1": 2, "sha256": 3, "pdq": 4}
ALGO_NAMES: dict[int, str] = {v: k for k, v in ALGOS.items()}
BY_LENGTH: dict[int, str] = {32: "md5", 40: "sha1", 64: "sha256"}
FORMATS = ("plain", "hashdeep", "nsrl", "vics", "pdq")
MAX_SAMPLES = 20  # garbage lines kept to show; all of them are counted
MAX_LINE = 64 * 1024  # longer lines are garbage, read in pieces (a binary file given by mistake)
SQLITE_MAGIC = b"SQLite format 3\x00"
_HEX = re.compile(rb"[0-9a-fA-F]+")
_BSD = re.compile(rb"^(MD5|SHA1|SHA256) \(.*\) = ([0-9a-fA-F]+)$")


class Parsed(NamedTuple):
    """One hash (a tuple: a frozen dataclass cost a microsecond a line to build)."""

    algo: int  # ALGOS value
    digest: bytes
    category: str | None = None


@dataclass
class ParseReport:
    """What a reader saw: counts, and the first garbage lines (line number, text, problem)."""

    entries: int = 0  # lines, rows or media entries looked at (blank lines and comments excluded)
    hashes: int = 0  # hashes yielded (before duplicates are removed)
    garbage: int = 0
    blank: int = 0
    comments: int = 0
    by_algo: Counter[str] = field(default_factory=Counter)
    samples: list[tuple[int, str, str]] = field(default_factory=list)

    def bad(self, where: int, text: Any, problem: str) -> None:
        self.garbage += 1
        if len(self.samples) < MAX_SAMPLES:
            shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            self.samples.append((where, shown[:120], problem))

    def counts(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "hashes": self.hashes,
            "garbage": self.garbage,
            "blank": self.blank,
            "comments": self.comments,
            "by_algorithm": dict(sorted(self.by_algo.items())),
        }


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _open_lines(path: Path) -> Any:
    """``path`` opened for reading as bytes; a UTF-16 text with its byte-order mark (Windows
    PowerShell 5.1's ``Out-File`` writes one by default) is read as its UTF-8 re-encoding, so its
    lines are the lines of the text (found in review: such a list was "no hash found")."""
    fh = open(path, "rb")  # noqa: SIM115 (returned; the caller's ``with`` closes it)
    if fh.read(2) in _UTF16_BOMS:
        fh.seek(0)
        return codecs.EncodedFile(fh, "utf-8", "utf-16", errors="replace")
    fh.seek(0)
    return fh


def detect_format(path: Path) -> str:
    """``nsrl`` (SQLite), ``vics`` (JSON object), ``hashdeep`` (its header) or ``plain``."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(SQLITE_MAGIC):
        return "nsrl"
    if head[:2] in _UTF16_BOMS:
        head = head.decode("utf-16", "ignore").encode("utf-8")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "vics"
    if text.startswith(b"%%%% HASHDEEP") or text.startswith(b"%%%%"):
        return "hashdeep"
    return "plain"


def read_hashes(path: Path, fmt: str, report: ParseReport) -> Iterator[Parsed]:
    """The hashes of ``path`` read as ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "plain":
        yield from _plain(path, report, pdq=False)
    elif fmt == "pdq":
        yield from _plain(path, report, pdq=True)
    elif fmt == "hashdeep":
        yield from _hashdeep(path, report)
    elif fmt == "nsrl":
        yield from _nsrl(path, report)
    elif fmt == "vics":
        yield from _vics(path, report)
    else:
        raise HashSetError(f"unknown hash-set format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")


def _hex(token: bytes, *, pdq: bool = False) -> tuple[int, bytes] | None:
    """(algo, digest) of a hex token of a known length; None when it is not one."""
    if not _HEX.fullmatch(token):
        return None
    if pdq:
        return (ALGOS["pdq"], bytes.fromhex(token.decode("ascii"))) if len(token) == 64 else None
    name = BY_LENGTH.get(len(token))
    if name is None:
        return None
    return ALGOS[name], bytes.fromhex(token.decode("ascii"))


def _emit(report: ParseReport, algo: int, digest: bytes, category: str | None = None) -> Parsed:
    report.hashes += 1
    report.by_algo[ALGO_NAMES[algo]] += 1
    return Parsed(algo, digest, category)


def _lines(fh: Any, report: ParseReport) -> Iterator[tuple[int, list[bytes]]]:
    """``(number of the first line, lines)`` a block (1 MiB) at a time, newlines removed; a line
    longer than :data:`MAX_LINE` (a binary file, a list without newlines) is counted as garbage and
    dropped as it is read, never held whole. Splitting whole blocks keeps the per-line cost in C."""
    number = 0  # lines numbered so far
    tail = b""
    skipping = False  # inside an over-long line, already counted
    while True:
        block = fh.read(1 << 20)
        if not block:
            break
        parts = (tail + block).split(b"\n")
        tail = parts.pop()
        if skipping and parts:
            parts.pop(0)  # the end of the over-long line
            skipping = False
        long = [i for i, raw in enumerate(parts) if len(raw) > MAX_LINE]
        for i in reversed(long):
            report.entries += 1
            report.bad(
                number + i + 1, parts[i][:120], f"a line longer than {MAX_LINE} bytes (not a hash list?)"
            )
            parts[i] = b""
        if parts:
            yield number + 1, parts
            number += len(parts) + (1 if skipping else 0)
        if len(tail) > MAX_LINE:
            if not skipping:
                number += 1
                report.entries += 1
                report.bad(number, tail[:120], f"a line longer than {MAX_LINE} bytes (not a hash list?)")
                skipping = True
            tail = b""
    if tail and not skipping:
        yield number + 1, [tail]


def _plain(path: Path, report: ParseReport, *, pdq: bool) -> Iterator[Parsed]:
    fast = {} if pdq else {n: ALGOS[a] for n, a in BY_LENGTH.items()}
    with _open_lines(path) as fh:
        for first, lines in _lines(fh, report):
            fast_counts = dict.fromkeys(fast.values(), 0)
            for number, raw in enumerate(lines, first):
                line = raw.strip()
                algo = fast.get(len(line))
                if algo is not None:  # the common case: a bare hash
                    try:
                        digest = unhexlify(line)
                    except HexError:
                        pass
                    else:
                        fast_counts[algo] += 1
                        yield Parsed(algo, digest)
                        continue
                yield from _plain_line(number, line, report, pdq)
            for algo, n in fast_counts.items():
                if n:
                    report.entries += n
                    report.hashes += n
                    report.by_algo[ALGO_NAMES[algo]] += n


def _plain_line(number: int, line: bytes, report: ParseReport, pdq: bool) -> Iterator[Parsed]:
    """A line that is not a bare hash: blank, comment, md5sum/BSD form, PDQ, or garbage."""
    if number == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    if not line:
        report.blank += 1
        return
    if line.startswith(b"#"):
        report.comments += 1
        return
    report.entries += 1
    if pdq:
        found = _hex(re.split(rb"[,\s]", line, maxsplit=1)[0], pdq=True)
        if found is None:
            report.bad(number, line, "not a PDQ hash (64 hex digits)")
        else:
            yield _emit(report, *found)
        return
    bsd = _BSD.match(line)
    if bsd is not None:
        found = _hex(bsd.group(2))
        expected = bsd.group(1).decode("ascii").lower()
        if found is None or ALGO_NAMES[found[0]] != expected:
            report.bad(number, line, f"not a valid {expected.upper()} value")
        else:
            yield _emit(report, *found)
        return
    if line.startswith(b"\\"):  # md5sum escapes names with a backslash before the hash
        line = line[1:]
    parts = line.split(None, 1)
    token = parts[0]
    if len(parts) == 2 and not line[len(token) : len(token) + 1].isspace():
        report.bad(number, line, "not a hash")
        return
    found = _hex(token)
    if found is None:
        report.bad(number, line, "not an MD5, SHA-1 or SHA-256 value (32, 40 or 64 hex digits)")
        return
    yield _emit(report, *found)


def _hashdeep(path: Path, report: ParseReport) -> Iterator[Parsed]:
    columns: list[str] | None = None
    with _open_lines(path) as fh:
        for number, raw in (
            (n, r) for first, lines in _lines(fh, report) for n, r in enumerate(lines, first)
        ):
            line = raw.rstrip(b"\r")
            if not line.strip():
                report.blank += 1
                continue
            if line.startswith(b"%%%%"):
                head = line[4:].strip()
                if head.startswith(b"size,") or b"filename" in head:
                    columns = [c.strip().decode("ascii", "replace").lower() for c in head.split(b",")]
                report.comments += 1
                continue
            if line.startswith(b"##"):
                report.comments += 1
                continue
            report.entries += 1
            if columns is None:
                report.bad(number, line, "a row before the '%%%% size,...' header naming the columns")
                continue
            cells = line.split(b",", len(columns) - 1)
            if len(cells) != len(columns):
                report.bad(number, line, f"{len(cells)} fields where the header names {len(columns)}")
                continue
            found: list[tuple[int, bytes]] = []
            wrong = None
            for name, cell in zip(columns, cells, strict=True):
                if name not in ("md5", "sha1", "sha256"):
                    continue
                value = _hex(cell.strip())
                if value is None or ALGO_NAMES[value[0]] != name:
                    wrong = name
                    break
                found.append(value)
            if wrong is not None or not found:
                report.bad(number, line, f"not a valid {wrong or 'hash'} value")
                continue
            for algo, digest in found:
                yield _emit(report, algo, digest)


def _nsrl(
    path: Path, report: ParseReport, algorithms: tuple[str, ...] = ("sha256", "sha1", "md5")
) -> Iterator[Parsed]:
    uri = f"file:{quote(path.resolve().as_posix())}?mode=ro&immutable=1"  # SQLite decodes %XX, stops at "?"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise HashSetError(f"cannot open {path} as SQLite: {exc}") from None
    try:
        try:
            info = conn.execute('PRAGMA table_info("FILE")').fetchall()
        except sqlite3.DatabaseError as exc:
            raise HashSetError(f"{path} is not a readable SQLite database: {exc}") from None
        have = {str(r[1]).lower(): str(r[1]) for r in info}
        wanted = [a for a in algorithms if a in have]
        if not info or not wanted:
            raise HashSetError(
                f"{path} has no FILE table or view with sha256, sha1 or md5 columns: not an NSRL RDSv3 database",
                hint="give an RDSv3 SQLite file (RDS_..._modern.db, or a minimal RDS with the FILE view)",
            )
        select = ", ".join(f'"{have[a]}"' for a in wanted)
        try:
            for number, row in enumerate(conn.execute(f'SELECT {select} FROM "FILE"'), 1):
                report.entries += 1
                found: list[tuple[int, bytes]] = []
                for name, value in zip(wanted, row, strict=True):
                    token = value.encode("ascii", "replace") if isinstance(value, str) else b""
                    parsed = _hex(token.strip())
                    if parsed is None or ALGO_NAMES[parsed[0]] != name:
                        found = []
                        report.bad(number, repr(row)[:120], f"FILE row {number}: {name} is not a valid value")
                        break
                    found.append(parsed)
                for algo, digest in found:
                    yield _emit(report, algo, digest)
        except sqlite3.DatabaseError as exc:
            raise HashSetError(f"{path}: reading its FILE table failed: {exc}") from None
    finally:
        conn.close()


def _vics_shape(path: Path) -> str:
    """``value.item`` (an array of media) or ``value.item.Media.item`` (of cases with media),
    from the OData context URL, else from the first member name of the first ``value`` entry."""
    import ijson

    with open(path, "rb") as fh:
        try:
            for prefix, event, value in ijson.parse(fh):
                if event == "string" and prefix in ("odata.metadata", "@odata.context"):
                    if str(value).endswith("#Cases"):
                        return "value.item.Media.item"
                    if str(value).endswith("#Media"):
                        return "value.item"
                if prefix == "value.item" and event == "map_key":
                    return "value.item.Media.item" if value in ("Media", "CaseID") else "value.item"
        except ijson.JSONError as exc:
            raise HashSetError(f"{path} is not valid JSON: {exc}") from None
    raise HashSetError(
        f"{path} has no 'value' array: not a Project VIC (VICS) JSON file",
        hint='a VICS file is an OData object: {"odata.metadata" or "@odata.context": ..., "value": [...]}',
    )


def _member(media: dict[str, Any], name: str) -> Any:
    if name in media:
        return media[name]
    lowered = name.lower()
    for key, value in media.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _vics(path: Path, report: ParseReport) -> Iterator[Parsed]:
    import ijson

    prefix = _vics_shape(path)
    with open(path, "rb") as fh:
        try:
            for number, media in enumerate(ijson.items(fh, prefix, use_float=True), 1):
                report.entries += 1
                if not isinstance(media, dict):
                    report.bad(number, repr(media), f"media entry {number} is not an object")
                    continue
                category = _member(media, "Category")
                cat = None if category in (None, "") else str(category)
                found: list[tuple[int, bytes]] = []
                problem = None
                for name, algo, pdq in (
                    ("MD5", "md5", False),
                    ("SHA1", "sha1", False),
                    ("SHA256", "sha256", False),
                    ("PDQ", "pdq", True),
                ):
                    value = _member(media, name)
                    if value in (None, ""):
                        continue
                    parsed = _hex(str(value).strip().encode("ascii", "replace"), pdq=pdq)
                    if parsed is None or ALGO_NAMES[parsed[0]] != algo:
                        problem = f"media entry {number}: {name} {str(value)[:70]!r} is not a valid value"
                        break
                    found.append(parsed)
                if problem is None and not found:
                    problem = f"media entry {number} has no MD5, SHA1, SHA256 or PDQ"
                if problem is not None:
                    media_id = _member(media, "MediaID")
                    report.bad(number, f"MediaID {media_id}", problem)
                    continue
                for algo_id, digest in found:
                    yield _emit(report, algo_id, digest, cat)
        except ijson.JSONError as exc:
            raise HashSetError(
                f"{path}: malformed JSON after {report.entries} media entries: {exc}"
            ) from None
