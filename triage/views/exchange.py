"""``exhibit export-case``: a case's findings in formats other tools read (issue 10, section 4).

* ``kml`` (OGC KML 2.2): one placemark per finding that holds a WGS-84 position (``latitude`` and
  ``longitude``: photos, videos, location records), named by its exhibit and file, described by
  its record type, locator and plugin, with the record's first UTC time as its ``TimeStamp``.
  KML writes longitude first (``lon,lat``). Google Earth, QGIS and Timesketch's map read it.
* ``dfxml``: each exhibit's file listing as Digital Forensics XML with fiwalk's element names
  (``volume`` per file system with its ``partition_offset`` and ``ftype_str``; per entry
  ``fileobject``: ``filename`` relative to the file-system root, ``name_type``, ``filesize``,
  ``alloc`` (0 for a deleted entry), ``inode``, ``mode``, ``uid``, ``gid``, the MACB times and a
  ``hashdigest`` per hash the triage computed). Read from what triage stored, so the exhibit must
  have been triaged; archive members and carved files are not file-system entries and are left
  out (``exhibit ls -r --archives`` and ``exhibit carved`` list them).
* ``timesketch``: the timeline as JSON lines that Timesketch imports, one per event: its three
  required fields ``message``, ``datetime`` (ISO 8601, UTC) and ``timestamp_desc`` (what the time
  is: the record type and field, as ``exhibit timeline`` names them), ``timestamp`` (microseconds
  since 1970) and the provenance (exhibit, path, inode, partition, locator, plugin and version,
  finding id). An event whose time is wall-clock time of an unknown zone (a FAT date, EXIF
  without an offset) has no instant: Timesketch would take it as UTC, so it is left out and
  counted.
* ``case``: CASE/UCO JSON-LD (exhibits, provenance records, investigative actions, tools,
  performers, files and messages), written by :mod:`triage.views.case_uco`.

All stream the findings (bounded memory), never overwrite a file, and remove a half-written one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import XMLGenerator

from sqlalchemy import select

from custody.case import Case
from custody.items import get_item, list_items
from triage.errors import TriageError
from triage.sanitize import display_to_text
from triage.sources.carve import CARVED_FS
from triage.store.models import File
from triage.views.conversations import check_exhibits
from triage.views.findings import stream_findings
from triage.views.links import xml_text
from triage.views.timeline import time_fields, timeline

__all__ = ["FORMATS", "Exported", "export_case"]

FORMATS = ("kml", "timesketch", "dfxml", "case")
DFXML_NS = "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"
#: fiwalk's one-letter name types (TSK's ``fls`` letters) for the entry types triage stores
NAME_TYPES = {"file": "r", "dir": "d", "link": "l", "fifo": "p", "char": "c", "block": "b", "socket": "s"}
KML_NS = "http://www.opengis.net/kml/2.2"


@dataclass(frozen=True)
class Exported:
    """What was written: the format, the file, how many items, and how many were left out."""

    format: str
    path: Path
    written: int
    left_out: int = 0
    left_out_why: str = ""
    detail: str = ""


def export_case(case: Case, fmt: str, out: Path, exhibits: Sequence[str] | None = None) -> Exported:
    """Write ``exhibits`` (``None``: the whole case) as ``fmt`` to the new file ``out``."""
    if fmt not in FORMATS:
        raise TriageError(f"unknown format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}")
    wanted = check_exhibits(case, exhibits)
    try:
        handle = out.open("xb")
    except FileExistsError:
        raise TriageError(
            f"{out} already exists", hint="give the name of a new file: nothing is overwritten"
        ) from None
    except OSError as exc:
        raise TriageError(
            f"cannot write {out}: {exc.strerror}", hint="check the folder exists and is writable"
        ) from None
    try:
        with handle:
            if fmt == "kml":
                return Exported(fmt, out, _write_kml(case, wanted, handle))
            if fmt == "dfxml":
                return Exported(fmt, out, _write_dfxml(case, wanted, handle))
            if fmt == "case":
                from triage.views.case_uco import write_case

                done = write_case(case, wanted, handle)
                return Exported(
                    fmt,
                    out,
                    done.nodes,
                    detail=f"{_count(done.messages, 'message')}, {_count(done.files, 'file')}",
                )
            written, local = _write_timesketch(case, wanted, handle)
            return Exported(fmt, out, written, local, "local time of unknown offset" if local else "")
    except BaseException:
        out.unlink(missing_ok=True)  # no half-written export keeps the name
        raise


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# --- KML --------------------------------------------------------------------------------------


def _position(data: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = data.get("latitude"), data.get("longitude")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)) or isinstance(lat, bool):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return float(lat), float(lon)


#: The record's own time first (a message's or call's ``timestamp``, a photo's ``taken``), so a
#: placemark has the time every other view gives the record (review: a WhatsApp message's
#: ``sent_time``, earlier in field order, was taken instead).
_MAIN_TIMES = ("timestamp", "taken")


def _first_utc(data: dict[str, Any]) -> str | None:
    """The UTC time of the record: its main time when it has a UTC one, else its first UTC time."""
    found = {field: shown for field, _value, shown, local in time_fields(data) if not local}
    for field in _MAIN_TIMES:
        if field in found:
            return found[field]
    return next(iter(found.values()), None)


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _text_element(xml: XMLGenerator, name: str, text: str) -> None:
    xml.startElement(name, {})  # type: ignore[arg-type]
    xml.characters(xml_text(text))
    xml.endElement(name)


def _write_kml(case: Case, wanted: list[str] | None, handle: IO[bytes]) -> int:
    xml = XMLGenerator(handle, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("kml", {"xmlns": KML_NS})  # type: ignore[arg-type]
    xml.startElement("Document", {})  # type: ignore[arg-type]
    _text_element(xml, "name", f"Exhibit case {case.identity.case_number}: positions")
    xml.ignorableWhitespace("\n")
    count = 0
    for f in stream_findings(case.engine, wanted):
        position = _position(f.data)
        if position is None:
            continue
        lat, lon = position
        xml.startElement("Placemark", {"id": f"finding-{f.id}"})  # type: ignore[arg-type]
        _text_element(xml, "name", f"{f.exhibit} {f.path}")
        _text_element(
            xml,
            "description",
            f"{f.record_type} at {f.locator or '-'} ({f.plugin}@{f.plugin_version}); exhibit {f.exhibit}, "
            f"partition {_or_dash(f.partition)}, inode {_or_dash(f.inode)}, file SHA-256 {_or_dash(f.file_sha256)}; "
            f"finding {f.id}",
        )
        when = _first_utc(f.data)
        if when is not None:
            xml.startElement("TimeStamp", {})  # type: ignore[arg-type]
            _text_element(xml, "when", when)
            xml.endElement("TimeStamp")
        xml.startElement("Point", {})  # type: ignore[arg-type]
        _text_element(xml, "coordinates", f"{lon!r},{lat!r}")
        xml.endElement("Point")
        xml.endElement("Placemark")
        xml.ignorableWhitespace("\n")
        count += 1
    xml.endElement("Document")
    xml.endElement("kml")
    xml.endDocument()
    return count


# --- DFXML -------------------------------------------------------------------------------------


def _write_dfxml(case: Case, wanted: list[str] | None, handle: IO[bytes]) -> int:
    exhibits = wanted if wanted is not None else [item.exhibit for item in list_items(case)]
    xml = XMLGenerator(handle, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    root: Any = {"xmlns": DFXML_NS, "xmlns:dc": "http://purl.org/dc/elements/1.1/", "version": "1.1.0"}
    xml.startElement("dfxml", root)
    xml.ignorableWhitespace("\n")
    xml.startElement("metadata", {})  # type: ignore[arg-type]
    _text_element(xml, "dc:type", "Disk Image")
    xml.endElement("metadata")
    xml.startElement("creator", {})  # type: ignore[arg-type]
    _text_element(xml, "program", "Exhibit")
    xml.endElement("creator")
    xml.ignorableWhitespace("\n")
    count = 0
    for exhibit in exhibits:
        item = get_item(case, exhibit)
        xml.startElement("source", {})  # type: ignore[arg-type]
        _text_element(xml, "image_filename", item.source_path)
        for name, value in sorted(item.hashes.items()):
            xml.startElement("hashdigest", {"type": name})  # type: ignore[arg-type]
            xml.characters(value)
            xml.endElement("hashdigest")
        xml.endElement("source")
        xml.ignorableWhitespace("\n")
        query = (
            select(File)
            .where(File.c.exhibit == exhibit, File.c.parent.is_(None), File.c.fs_type != CARVED_FS)
            .order_by(File.c.partition, File.c.id)
            .execution_options(yield_per=5000)
        )
        volume: object = ()  # no volume open yet
        with case.engine.connect() as conn:
            for f in conn.execute(query):
                if f.partition != volume:
                    if volume != ():
                        xml.endElement("volume")
                        xml.ignorableWhitespace("\n")
                    volume = f.partition
                    offset = "" if f.partition is None else str(f.partition)
                    xml.startElement("volume", {"offset": offset})  # type: ignore[arg-type]
                    _text_element(xml, "partition_offset", offset)
                    _text_element(xml, "ftype_str", f.fs_type)
                    xml.ignorableWhitespace("\n")
                _fileobject(xml, f)
                count += 1
        if volume != ():
            xml.endElement("volume")
            xml.ignorableWhitespace("\n")
    xml.endElement("dfxml")
    xml.endDocument()
    return count


def _fileobject(xml: XMLGenerator, f: Any) -> None:
    xml.startElement("fileobject", {})  # type: ignore[arg-type]
    # the name as text, as fiwalk writes it (found in review: a real "\\" came out doubled and
    # U+202E as its six-character escape); Exhibit's display form only where text cannot say it
    stored = f.path.lstrip("/") + (f":{f.stream}" if f.stream else "")
    _text_element(xml, "filename", display_to_text(stored) or stored)
    _text_element(xml, "name_type", NAME_TYPES.get(f.type, "-"))
    _text_element(xml, "filesize", str(f.size))
    _text_element(xml, "alloc", "0" if f.deleted else "1")
    for name in ("inode", "mode", "uid", "gid"):
        value = getattr(f, name)
        if value is not None:
            _text_element(xml, name, str(value))
    for name in ("mtime", "ctime", "atime", "crtime"):
        value = getattr(f, name)
        if value:
            _text_element(xml, name, value)
    for name in ("md5", "sha1", "sha256"):
        value = getattr(f, name)
        if value:
            xml.startElement("hashdigest", {"type": name})  # type: ignore[arg-type]
            xml.characters(value)
            xml.endElement("hashdigest")
    xml.endElement("fileobject")
    xml.ignorableWhitespace("\n")


# --- Timesketch -------------------------------------------------------------------------------


def _microseconds(utc: str) -> int:
    moment = datetime.fromisoformat(utc.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _timesketch_lines(case: Case, wanted: list[str] | None, local: list[int]) -> Iterator[bytes]:
    for e in timeline(case, wanted):
        if e["time_local"]:
            local[0] += 1
            continue
        source = e["source"]
        summary = e["summary"] or e["record_type"]
        line = {
            "message": f"[{e['exhibit']}] {summary}",
            "datetime": e["time"],
            "timestamp": _microseconds(e["time"]),
            "timestamp_desc": e["kind"],
            "exhibit": e["exhibit"],
            "record_type": e["record_type"],
            "path": source.get("path"),
            "inode": source.get("inode"),
            "partition": source.get("partition"),
            "file_sha256": source.get("sha256"),
            "locator": e["locator"],
            "plugin": f"{e['plugin']}@{e['plugin_version']}",
            "finding": e["finding"],
            "time_raw": json.dumps(e["time_value"].get("raw"), ensure_ascii=False),
            "time_encoding": e["time_value"].get("encoding"),
        }
        yield (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")


def _write_timesketch(case: Case, wanted: list[str] | None, handle: IO[bytes]) -> tuple[int, int]:
    local = [0]
    count = 0
    for line in _timesketch_lines(case, wanted, local):
        handle.write(line)
        count += 1
    return count, local[0]
