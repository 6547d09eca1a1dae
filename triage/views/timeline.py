"""``exhibit timeline``: every dated thing in the case, in time order, one event per time value.

As plaso emits one event per timestamp of a record, a record with several times gives several
events: an Android SMS has ``timestamp`` (when the phone stored it) and ``sent_time`` (the
network's time for a received message), a photo ``taken`` and ``modified``. An event's kind is
the record type followed by the time's field name (``chat/android/sms timestamp``,
``chat/android/sms sent_time``). A stored time that holds no instant (``null``, zero, out of
range: its ``utc`` and ``local`` are both empty) makes no event.

With ``files``, the file-system times triage stored for every entry (``triage_files``) are events
too: ``file mtime``, ``file atime``, ``file ctime``, ``file crtime`` (modified, accessed, metadata
changed, created: the MACB times).

**Local times.** Some artifacts store wall-clock time of an unknown zone: FAT and exFAT entries
(``times_local``), EXIF dates without an offset (the time value's ``local``). They are never
converted: such an event keeps its time as stored (no ``Z``), is marked ``time_local``, and is
placed and filtered by its wall-clock reading as if that were UTC, so it may sit up to 14 hours
(the widest UTC offset) away from its true place among the UTC events.

**Bounded memory.** Events are read from the case database as a stream and written to a
temporary SQLite file in the case's scratch folder, indexed by time, then read back in order
(:mod:`triage.views.spool`): a million messages cost disk, not memory. Events of equal time keep
the order of their findings (then files).

``start`` / ``end`` (``--from`` / ``--to``) are ISO 8601 times with an offset, parsed by
:func:`custody.timefmt.parse_stamp`; both bounds are inclusive.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import inspect, select

from custody.case import Case
from custody.timefmt import parse_stamp
from triage.errors import TriageError
from triage.hashsets.known import Known, load_known
from triage.store.models import File
from triage.views.conversations import check_exhibits, source_of
from triage.views.findings import check_kinds, stream_findings
from triage.views.spool import SortedRows, encode_key, sort_key

__all__ = ["FILE_TIMES", "SUMMARY_FIELDS", "summary_of", "time_fields", "timeline"]

#: File-system times of ``triage_files``, as ``--files`` adds them.
FILE_TIMES = ("mtime", "atime", "ctime", "crtime")
#: Fields tried in turn for an event's one-line summary (the first non-empty one is used).
SUMMARY_FIELDS = (
    "body",
    "title",
    "url",
    "name",
    "subject",
    "media_title",
    "conversation_title",
    "party",
    "address",
)
SUMMARY_LENGTH = 120


def time_fields(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, bool]]:
    """``(field, time value, shown time, local)`` for every time value of a record holding an instant.

    ``shown time`` is the UTC time when known, else the wall-clock ``local`` time (``local`` true).
    """
    for field, value in data.items():
        if not isinstance(value, dict) or "encoding" not in value or "raw" not in value:
            continue
        utc, local = value.get("utc"), value.get("local")
        if isinstance(utc, str) and utc:
            yield field, value, utc, False
        elif isinstance(local, str) and local:
            yield field, value, local, True


def summary_of(data: dict[str, Any], limit: int = SUMMARY_LENGTH) -> str:
    """A short text saying what a record is: its body, title, URL, name ... (cut at ``limit``)."""
    text = ""
    for field in SUMMARY_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            text = value
            break
    else:
        parts = [data.get("make"), data.get("model")]  # a photo: its camera
        text = " ".join(p for p in parts if isinstance(p, str) and p)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bound(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    return sort_key(parse_stamp(text, option=option).utc)


def timeline(
    case: Case,
    exhibits: Sequence[str] | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    kinds: Sequence[str] | None = None,
    files: bool = False,
    show_known: bool = False,
) -> SortedRows:
    """The events of ``exhibits`` (``None``: the whole case) in time order (see the module docstring).

    ``kinds`` keeps findings whose record type is or lies below one of them (``chat``,
    ``chat/android/sms``); it does not filter the file events ``files`` adds. Arguments are
    checked at once; events are read each time the result is iterated (dicts) or its
    ``json_lines()`` are. Events of files in a known-good hash set (and of their findings) are
    left out unless ``show_known``; those of known-bad ones carry ``"hashset": "known-bad"``
    (triage/hashsets/known.py).
    """
    wanted = check_exhibits(case, exhibits)
    check_kinds(case.engine, kinds)
    low, high = _bound(start, "--from"), _bound(end, "--to")
    if low is not None and high is not None and low > high:
        raise TriageError(
            f"--from {start} is after --to {end}: no event can lie between them", hint="swap the two times"
        )
    known = load_known(case.engine, wanted)

    def inside(key: str) -> bool:
        return (low is None or key >= low) and (high is None or key <= high)

    def events() -> Iterator[tuple[bytes, dict[str, Any]]]:
        for f in stream_findings(case.engine, wanted, prefixes=kinds or None):
            status = (
                known.finding_status(
                    f.exhibit, f.record_type, f.partition, f.inode, f.path, f.locator, f.data
                )
                if known
                else None
            )
            if known.hides(status) and not show_known:
                continue
            summary: str | None = None
            for field, value, shown, local in time_fields(f.data):
                key = sort_key(shown)
                if key is None or not inside(key):
                    continue
                if summary is None:
                    summary = summary_of(f.data)
                yield (
                    encode_key(key),
                    {
                        "time": shown,
                        "time_local": local,
                        "kind": f"{f.record_type} {field}",
                        "record_type": f.record_type,
                        "field": field,
                        "exhibit": f.exhibit,
                        "summary": summary,
                        "source": source_of(f),
                        "locator": f.locator,
                        "finding": f.id,
                        "plugin": f.plugin,
                        "plugin_version": f.plugin_version,
                        "time_value": value,
                        **({"hashset": status} if status else {}),
                    },
                )
        if files:
            yield from _file_events(case, wanted, inside, known, show_known)

    return SortedRows(case.scratch_dir, events)


def _file_events(
    case: Case, wanted: list[str] | None, inside: Any, known: Known, show_known: bool
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    if not inspect(case.engine).has_table(File.name):
        return
    query = select(
        File.c.exhibit,
        File.c.path,
        File.c.partition,
        File.c.inode,
        File.c.stream,
        File.c.sha256,
        File.c.deleted,
        File.c.type,
        File.c.times_local,
        *(File.c[t] for t in FILE_TIMES),
    ).order_by(File.c.id)
    if wanted:
        query = query.where(File.c.exhibit.in_(wanted))
    with case.engine.connect() as conn:
        for r in conn.execute(query.execution_options(yield_per=2000)):
            status = known.file_status(r.exhibit, r.partition, r.inode, r.path) if known else None
            if known.hides(status) and not show_known:
                continue
            for field in FILE_TIMES:
                shown = getattr(r, field)
                key = sort_key(shown)
                if key is None or not inside(key):
                    continue
                summary = r.path + ("/" if r.type == "dir" else "") + (" (deleted)" if r.deleted else "")
                yield (
                    encode_key(key),
                    {
                        "time": shown,
                        "time_local": bool(r.times_local),
                        "kind": f"file {field}",
                        "record_type": "file",
                        "field": field,
                        "exhibit": r.exhibit,
                        "summary": summary,
                        "source": {
                            "item": r.exhibit,
                            "path": r.path,
                            "partition": r.partition,
                            "inode": r.inode,
                            "stream": r.stream,
                            "sha256": r.sha256,
                        },
                        "locator": None,
                        "finding": None,
                        "plugin": None,
                        "plugin_version": None,
                        "time_value": None,
                        **({"hashset": status} if status else {}),
                    },
                )
