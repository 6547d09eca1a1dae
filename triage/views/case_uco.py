"""``exhibit export-case --format case``: the case as CASE/UCO JSON-LD (issue 10, section 4).

CASE (Cyber-investigation Analysis Standard Expression) and its parent UCO (Unified Cyber
Ontology) are the open RDF vocabulary forensic tools exchange cases in. The document is one
JSON-LD object with an inline ``@context`` (nothing is fetched to read it) and an ``@graph`` of
nodes, written with no term newer than CASE 1.5.0 / UCO 1.5.0 (what ``case_validate`` of
``case-utils`` 0.18 checks against):

* the **investigation** (``case-investigation:Investigation``): case number, title, agency, and
  as its objects every investigative action and provenance record below;
* **performers**: one ``uco-identity:Person`` per actor of the ledger (name, role, organisation);
* **tools**: ``uco-tool:AnalyticTool`` for Exhibit itself (each version the ledger names) and
  for each plugin at each version a triage run used;
* **exhibits**: per acquired item its observable (``uco-observable:Image`` for a disk image,
  ``File`` for a file or archive, ``Directory`` for a folder or backup, with a ``Device`` beside
  it when make, model or serial were recorded) with a ``FileFacet`` (the source's name, path,
  size) and a ``ContentDataFacet`` holding the MD5, SHA-1 and SHA-256 the acquisition entry
  signed (of a folder: of its manifest, see docs/custody.md), and a
  ``case-investigation:ProvenanceRecord`` with its exhibit number;
* **investigative actions** (``case-investigation:InvestigativeAction``), one per ledger entry:
  ``acquire`` (result: the exhibit's provenance record), every custody event by its own name
  (``transfer``: performer the person handing over, participant the receiver), ``extract`` for
  each triage run (instruments Exhibit and the run's plugins; results a provenance record of the
  run's derived items and the derived files themselves) and ``export`` (results the copies
  written, with their SHA-256). Each names the exhibit's provenance record as its object and
  the action before it on the same exhibit (``wasInformedBy``), so the chain of custody reads
  in order. Times are the ledger's UTC times (``occurred`` when the event was recorded late);
* **files**: each file a plugin read or that was carved (the triage rows behind the derived
  items) as ``uco-observable:File`` with path, name, extension, size, MACB times (a wall-clock
  time of unknown zone is written without a zone, as XML Schema allows) and its hashes;
* **messages**: every message of ``exhibit chats`` as ``uco-observable:Message`` with its text,
  sender and recipients (``ApplicationAccount`` nodes of the message's app), sent time and
  application, and a ``Contained_Within`` relationship to the file it was read from.

Every node's IRI ends in a UUID (version 5) derived from the case's ledger id and what the node
stands for, so the same case state always gives the same bytes, and two cases never share an
IRI. Nodes are written one per line as they are read (ledger entries, triage rows and the sorted
messages are all streamed), so a case with a million messages costs disk for the message sort,
not memory; only the few small sets (actors, tools, apps, accounts already written) are kept.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Any

from sqlalchemy import inspect, or_, select

from custody.actors import list_actors
from custody.case import Case
from custody.items import ACQUIRE, DERIVE, Item, list_items
from custody.ledger import StoredEntry
from triage.sanitize import display_to_text
from triage.sources.carve import CARVED_FS
from triage.store.models import File
from triage.views.conversations import messages
from triage.views.spool import json_line

__all__ = ["CASE_VERSION", "write_case"]

#: the CASE release whose terms the document uses (UCO has the same version number)
CASE_VERSION = "1.5.0"
CONTEXT = {
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
#: UCO's HashNameVocab names of the hashes Exhibit computes
HASH_NAMES = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256"}
IMAGE_KINDS = ("raw", "split-raw", "e01")
FOLDER_KINDS = ("folder", "ios-backup")
EXTRACT_KIND = "triage.run"
EXPORT_KIND = "item.export"
CUSTODY_PREFIX = "custody."
#: an xsd:dateTime as Exhibit stores times: UTC (``Z``) or wall clock of unknown zone (none)
_DATETIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z?)$")


class Ids:
    """Node IRIs: ``kb:<kind>-<uuid5>``, the UUID over the ledger id and what the node stands for."""

    def __init__(self, ledger_id: str) -> None:
        self.base = f"urn:exhibit:case:{ledger_id}:"
        self._ns = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:exhibit:ledger:{ledger_id}")

    def __call__(self, kind: str, *what: object) -> str:
        name = json.dumps([kind, *what], ensure_ascii=False, separators=(",", ":"))
        return f"kb:{kind}-{uuid.uuid5(self._ns, name)}"


def ref(node_id: str) -> dict[str, str]:
    return {"@id": node_id}


def date_time(value: object) -> dict[str, str] | None:
    """``value`` as a typed xsd:dateTime literal, or None when it is not one (unknown, ``@secs``,
    a date out of the calendar): an invalid literal would make the whole document invalid."""
    if not isinstance(value, str) or not (m := _DATETIME.match(value)):
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return {"@type": "xsd:dateTime", "@value": value}


def hash_nodes(ids: Ids, owner: str, hashes: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "@id": ids("hash", owner, name),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": HASH_NAMES[name],
            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": str(value).lower()},
        }
        for name in HASH_NAMES
        if isinstance(value := hashes.get(name), str) and value
    ]


def content_facet(
    ids: Ids, owner: str, size: int | None, hashes: Mapping[str, Any], mime: str | None = None
) -> dict[str, Any]:
    facet: dict[str, Any] = {
        "@id": ids("content-data-facet", owner),
        "@type": "uco-observable:ContentDataFacet",
    }
    if size is not None:
        facet["uco-observable:sizeInBytes"] = int(size)
    if mime:
        facet["uco-observable:mimeType"] = mime
    if found := hash_nodes(ids, owner, hashes):
        facet["uco-observable:hash"] = found
    return facet


class JsonLdWriter:
    """Writes the document node by node: one node per line inside ``@graph``."""

    def __init__(self, handle: IO[bytes], context: Mapping[str, str]) -> None:
        self._handle = handle
        self._first = True
        self.count = 0
        head = json.dumps({"@context": dict(context)}, ensure_ascii=False)[:-1]
        self._write(head + ', "@graph": [\n')

    def _write(self, text: str) -> None:
        self._handle.write(text.encode("utf-8"))

    def _separator(self) -> None:
        if not self._first:
            self._write(",\n")
        self._first = False
        self.count += 1

    def node(self, node: Mapping[str, Any]) -> None:
        self._separator()
        self._write(json_line(node))

    def node_with_list(self, node: Mapping[str, Any], key: str, ids: Iterable[str]) -> None:
        """``node`` plus the property ``key`` whose values (node references) are streamed."""
        self._separator()
        self._write(json_line(node)[:-1] + f", {json.dumps(key)}: [")
        for i, node_id in enumerate(ids):
            self._write(("" if i == 0 else ", ") + json.dumps(ref(node_id)))
        self._write("]}")

    def close(self) -> None:
        self._write("\n]}\n")


# --- what the ledger says ----------------------------------------------------------------------


@dataclass
class _Plan:
    """The small things read from the ledger before writing: actions, exhibits, people, tools."""

    items: list[Item]
    actions: list[StoredEntry] = field(default_factory=list)
    tools: dict[tuple[str, str], str] = field(default_factory=dict)  # (name, version) -> node id


def _tool_of(text: object) -> tuple[str, str] | None:
    """``exhibit 0.1.0`` -> ("Exhibit", "0.1.0"); ``exhibit (unreleased)`` -> ("Exhibit", "unreleased")."""
    if not isinstance(text, str) or not text.strip():
        return None
    name, _, version = text.strip().partition(" ")
    return ("Exhibit" if name == "exhibit" else name), version.strip("()") or "unknown"


def _plan(case: Case, wanted: list[str] | None, ids: Ids) -> _Plan:
    items = [i for i in list_items(case) if wanted is None or i.exhibit in wanted]
    plan = _Plan(items)
    exhibits = {i.exhibit for i in items}
    kinds_kept = (ACQUIRE, EXTRACT_KIND, EXPORT_KIND)
    for entry in case.ledger.entries():
        if entry.exhibit not in exhibits:
            continue
        if entry.kind in kinds_kept or entry.kind.startswith(CUSTODY_PREFIX):
            plan.actions.append(entry)
            data = entry.data
            if entry.kind == ACQUIRE and (tool := _tool_of(data.get("tool"))):
                plan.tools.setdefault(tool, ids("tool", *tool))
            if entry.kind == EXTRACT_KIND:
                versions = data.get("versions") or {}
                if tool := _tool_of(versions.get("tool")):
                    plan.tools.setdefault(tool, ids("tool", *tool))
                for name, version in sorted((versions.get("plugins") or {}).items()):
                    plan.tools.setdefault((str(name), str(version)), ids("tool", str(name), str(version)))
    return plan


def _file_id(ids: Ids, exhibit: str, partition: object, inode: object, path: object, stream: object) -> str:
    return ids("file", exhibit, partition, inode, path, stream)


def _time_of(data: Mapping[str, Any], key: str) -> dict[str, str] | None:
    stamp = data.get(key)
    return date_time(stamp.get("utc")) if isinstance(stamp, Mapping) else None


def _describe(data: Mapping[str, Any], keys: Iterable[str]) -> str:
    return "; ".join(f"{k}: {data[k]}" for k in keys if data.get(k) not in (None, "", []))


# --- writer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """How many nodes, messages and files went into the document."""

    nodes: int
    messages: int
    files: int


def write_case(case: Case, wanted: list[str] | None, handle: IO[bytes]) -> Written:
    """Write ``wanted`` exhibits (``None``: the whole case) as CASE/UCO JSON-LD to ``handle``."""
    ids = Ids(case.identity.ledger_id)
    context = {**CONTEXT, "kb": ids.base}
    plan = _plan(case, wanted, ids)
    out = JsonLdWriter(handle, context)
    actors = {a.id: a for a in list_actors(case)}
    person = {a: ids("person", a) for a in actors}
    exhibit_node = {i.exhibit: ids("exhibit", i.exhibit) for i in plan.items}
    record = {i.exhibit: ids("provenance-record", i.exhibit, i.seq) for i in plan.items}
    action_ids = [ids("action", e.seq) for e in plan.actions]

    identity = case.identity
    investigation: dict[str, Any] = {
        "@id": ids("investigation"),
        "@type": "case-investigation:Investigation",
        "uco-core:name": f"{identity.case_number}: {identity.title}",
        "case-investigation:investigationForm": "case",
        "uco-core:description": _describe(
            {"case number": identity.case_number, "title": identity.title, "agency": identity.agency},
            ("case number", "title", "agency"),
        ),
    }
    if created := date_time(identity.created_utc):
        investigation["uco-core:startTime"] = created
    run_records = [_run_record(ids, e) for e in plan.actions if e.kind == EXTRACT_KIND]
    out.node_with_list(investigation, "uco-core:object", [*record.values(), *run_records, *action_ids])

    for actor_id, a in actors.items():
        out.node(
            {
                "@id": person[actor_id],
                "@type": "uco-identity:Person",
                "uco-core:name": a.name,
                "uco-core:description": _describe(
                    {"actor id": a.id, "role": a.role, "organisation": a.org},
                    ("actor id", "role", "organisation"),
                ),
            }
        )
    for (name, version), tool_id in sorted(plan.tools.items()):
        out.node(
            {
                "@id": tool_id,
                "@type": "uco-tool:AnalyticTool",
                "uco-core:name": name,
                "uco-tool:version": version,
                "uco-tool:toolType": "forensic triage" if name == "Exhibit" else "Exhibit plugin",
            }
        )
    for item in plan.items:
        _write_exhibit(out, ids, item, exhibit_node[item.exhibit], record[item.exhibit])

    previous: dict[str, str] = {}
    for entry, action_id in zip(plan.actions, action_ids, strict=True):
        exhibit = str(entry.exhibit)
        _write_action(case, out, ids, plan, entry, action_id, person, record[exhibit], previous.get(exhibit))
        previous[exhibit] = action_id

    files = _write_files(case, out, ids, [i.exhibit for i in plan.items])
    count = _write_messages(case, out, ids, wanted)
    out.close()
    return Written(out.count, count, files)


def _write_exhibit(out: JsonLdWriter, ids: Ids, item: Item, node_id: str, record_id: str) -> None:
    if item.kind in IMAGE_KINDS:
        types: Any = "uco-observable:Image"
    elif item.kind in FOLDER_KINDS:
        types = "uco-observable:Directory"
    else:
        types = "uco-observable:File"
    source = PurePosixPath(item.source_path)
    file_facet: dict[str, Any] = {
        "@id": ids("file-facet", "exhibit", item.exhibit),
        "@type": "uco-observable:FileFacet",
        "uco-observable:fileName": source.name,
        "uco-observable:filePath": item.source_path,
        "uco-observable:isDirectory": item.kind in FOLDER_KINDS,
        "uco-observable:sizeInBytes": item.size,
    }
    facets: list[dict[str, Any]] = [file_facet]
    if item.kind in IMAGE_KINDS:
        facets.append(
            {
                "@id": ids("image-facet", item.exhibit),
                "@type": "uco-observable:ImageFacet",
                "uco-observable:imageType": item.kind,
            }
        )
    facets.append(content_facet(ids, f"exhibit:{item.exhibit}", item.size, item.hashes))
    what = "the hashes are of the folder's manifest (docs/custody.md)" if item.kind in FOLDER_KINDS else ""
    out.node(
        {
            "@id": node_id,
            "@type": types,
            "uco-core:name": item.exhibit,
            "uco-core:description": "; ".join(
                x for x in (item.description, f"acquired as {item.kind}", what) if x
            ),
            "uco-core:hasFacet": facets,
        }
    )
    objects = [ref(node_id)]
    identifiers = item.data.get("identifiers") or {}
    if any(identifiers.get(k) for k in ("make", "model", "serial")):
        device_id = ids("device", item.exhibit)
        facet: dict[str, Any] = {
            "@id": ids("device-facet", item.exhibit),
            "@type": "uco-observable:DeviceFacet",
        }
        if identifiers.get("model"):
            facet["uco-observable:model"] = str(identifiers["model"])
        if identifiers.get("serial"):
            facet["uco-observable:serialNumber"] = str(identifiers["serial"])
        device: dict[str, Any] = {
            "@id": device_id,
            "@type": "uco-observable:Device",
            "uco-core:hasFacet": [facet],
        }
        if identifiers.get("make"):
            device["uco-core:description"] = f"make: {identifiers['make']}"
        out.node(device)
        out.node(
            {
                "@id": ids("relationship", "device", item.exhibit),
                "@type": "uco-observable:ObservableRelationship",
                "uco-core:source": ref(node_id),
                "uco-core:target": ref(device_id),
                "uco-core:kindOfRelationship": "Extracted_From",
                "uco-core:isDirectional": True,
            }
        )
        objects.append(ref(device_id))
    out.node(
        {
            "@id": record_id,
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": item.exhibit,
            "case-investigation:rootExhibitNumber": item.exhibit,
            "uco-core:description": item.description,
            "uco-core:object": objects,
        }
    )


_CUSTODY_KEYS = ("reason", "authority", "location", "seal", "condition", "method", "corrects", "notes")


def _write_action(
    case: Case,
    out: JsonLdWriter,
    ids: Ids,
    plan: _Plan,
    entry: StoredEntry,
    action_id: str,
    person: Mapping[str, str],
    record_id: str,
    informed_by: str | None,
) -> None:
    data = entry.data
    exhibit = str(entry.exhibit)
    node: dict[str, Any] = {
        "@id": action_id,
        "@type": "case-investigation:InvestigativeAction",
        "uco-action:startTime": date_time(entry.recorded_utc),
    }
    performer = entry.actor
    if informed_by is not None:
        node["case-investigation:wasInformedBy"] = ref(informed_by)
    results: list[str] = []
    streamed: Iterable[str] = ()
    if entry.kind == ACQUIRE:
        node["uco-core:name"] = "acquire"
        node["uco-core:description"] = _describe(data, ("method", "location", "notes"))
        node["uco-action:startTime"] = _time_of(data, "started") or node["uco-action:startTime"]
        if end := _time_of(data, "finished"):
            node["uco-action:endTime"] = end
        if tool := _tool_of(data.get("tool")):
            node["uco-action:instrument"] = [ref(plan.tools[tool])]
        results.append(record_id)
    elif entry.kind.startswith(CUSTODY_PREFIX):
        node["uco-core:name"] = entry.kind.removeprefix(CUSTODY_PREFIX)
        node["uco-core:description"] = _describe(data, _CUSTODY_KEYS)
        if occurred := _time_of(data, "occurred"):
            node["uco-action:startTime"] = occurred
        node["uco-action:object"] = [ref(record_id)]
        if isinstance(data.get("released_by"), str):
            performer = data["released_by"]
        if isinstance(receiver := data.get("received_by"), str) and receiver in person:
            node["uco-action:participant"] = [ref(person[receiver])]
    elif entry.kind == EXTRACT_KIND:
        node["uco-core:name"] = "extract"
        counts = data.get("counts") or {}
        node["uco-core:description"] = (
            f"triage run {data.get('run')}: {counts.get('files', 0)} files read, "
            f"{counts.get('findings', 0)} findings, {data.get('derived', 0)} derived items"
        )
        node["uco-action:startTime"] = _time_of(data, "started") or node["uco-action:startTime"]
        node["uco-action:endTime"] = date_time(entry.recorded_utc)
        versions = data.get("versions") or {}
        instruments = []
        if tool := _tool_of(versions.get("tool")):
            instruments.append(ref(plan.tools[tool]))
        for name, version in sorted((versions.get("plugins") or {}).items()):
            instruments.append(ref(plan.tools[(str(name), str(version))]))
        node["uco-action:instrument"] = instruments
        node["uco-action:object"] = [ref(record_id)]
        run_record = _run_record(ids, entry)
        results.append(run_record)
        lo = _previous_run_seq(plan, entry)
        out.node_with_list(
            {
                "@id": run_record,
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:rootExhibitNumber": exhibit,
                "uco-core:description": f"the files triage run {data.get('run')} derived from {exhibit}",
            },
            "uco-core:object",
            _derived_ids(case, ids, exhibit, lo, entry.seq),
        )
        streamed = _derived_ids(case, ids, exhibit, lo, entry.seq)
    elif entry.kind == EXPORT_KIND:
        node["uco-core:name"] = "export"
        node["uco-core:description"] = f"files copied out of {exhibit} to {data.get('to')}"
        node["uco-action:object"] = [ref(record_id)]
        folder = PurePosixPath(str(data.get("to") or ""))
        for n, f in enumerate(data.get("files") or []):
            copy_id = ids("exported-file", entry.seq, n)
            target = folder / str(f.get("exported_as") or "")
            out.node(
                {
                    "@id": copy_id,
                    "@type": "uco-observable:File",
                    "uco-core:description": f"copy of {exhibit} {f.get('path')}",
                    "uco-core:hasFacet": [
                        {
                            "@id": ids("file-facet", "exported", entry.seq, n),
                            "@type": "uco-observable:FileFacet",
                            "uco-observable:fileName": target.name,
                            "uco-observable:filePath": str(target),
                        },
                        content_facet(ids, f"exported:{entry.seq}:{n}", None, {"sha256": f.get("sha256")}),
                    ],
                }
            )
            results.append(copy_id)
    if performer in person:
        node["uco-action:performer"] = ref(person[performer])
    node = {k: v for k, v in node.items() if v not in (None, "", [])}
    if results or streamed:
        out.node_with_list(node, "uco-action:result", _chain(results, streamed))
    else:
        out.node(node)


def _run_record(ids: Ids, entry: StoredEntry) -> str:
    """The provenance record of the items a triage run (its ``triage.run`` entry) derived."""
    return ids("provenance-record", entry.exhibit, "run", entry.seq)


def _chain(first: list[str], then: Iterable[str]) -> Iterator[str]:
    yield from first
    yield from then


def _previous_run_seq(plan: _Plan, entry: StoredEntry) -> int:
    """The seq of the exhibit's triage run before ``entry`` (0: none): the derived items of a run
    are the exhibit's ``item.derive`` entries between it and the run before."""
    before = 0
    for other in plan.actions:
        if other.seq >= entry.seq:
            break
        if other.kind == EXTRACT_KIND and other.exhibit == entry.exhibit:
            before = other.seq
    return before


def _derived_ids(case: Case, ids: Ids, exhibit: str, after: int, upto: int) -> Iterator[str]:
    for derived in case.ledger.entries(exhibit=exhibit, kinds=[DERIVE]):
        if after < derived.seq < upto:
            d = derived.data
            yield _file_id(ids, exhibit, d.get("partition"), d.get("inode"), d.get("path"), d.get("stream"))


# --- files and messages -------------------------------------------------------------------------

_FILE_TIMES = (
    ("mtime", "uco-observable:modifiedTime"),
    ("atime", "uco-observable:accessedTime"),
    ("ctime", "uco-observable:metadataChangeTime"),
    ("crtime", "uco-observable:observableCreatedTime"),
)


def _write_files(case: Case, out: JsonLdWriter, ids: Ids, exhibits: list[str]) -> int:
    """Each file that is a derived item: a plugin read it (an outcome other than every plugin
    declining it) or it was carved, with a SHA-256 (the rule triage/engine/run.py records by)."""
    if not exhibits or not inspect(case.engine).has_table(File.name):
        return 0
    count = 0
    query = (
        select(File)
        .where(
            File.c.exhibit.in_(exhibits),
            or_(File.c.plugins.is_not(None), File.c.fs_type == CARVED_FS),
            File.c.sha256.is_not(None),
        )
        .order_by(File.c.id)
        .execution_options(yield_per=2000)
    )
    with case.engine.connect() as conn:
        for f in conn.execute(query):
            outcomes = json.loads(f.plugins) if f.plugins else []
            if f.fs_type != CARVED_FS and all(
                isinstance(o, dict) and o.get("outcome") == "not-my-format" for o in outcomes
            ):
                continue
            node_id = _file_id(ids, f.exhibit, f.partition, f.inode, f.path, f.stream)
            stored = f.path + (f":{f.stream}" if f.stream else "")
            name, path = display_to_text(f.name), display_to_text(stored)
            facet: dict[str, Any] = {
                "@id": ids("file-facet", node_id),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": f.name if name is None else name,
                "uco-observable:filePath": stored if path is None else path,
                "uco-observable:fileSystemType": f.fs_type,
                "uco-observable:isDirectory": f.type == "dir",
                "uco-observable:sizeInBytes": int(f.size),
                "uco-observable:allocationStatus": "unallocated" if f.deleted else "allocated",
            }
            if suffix := PurePosixPath(f.name).suffix.lstrip("."):
                facet["uco-observable:extension"] = suffix
            for column, term in _FILE_TIMES:
                if stamp := date_time(getattr(f, column)):
                    facet[term] = stamp
            hashes = {name: getattr(f, name) for name in HASH_NAMES}
            notes = [f"exhibit {f.exhibit}"]  # no "partition None": a folder's files have neither
            notes += [
                f"{name} {value}"
                for name, value in (("partition", f.partition), ("inode", f.inode))
                if value is not None
            ]
            if f.deleted:
                notes.append("deleted")
            if name is None or path is None:
                notes.append(
                    "name in Exhibit's display form: bytes that are not UTF-8 written as \\xNN escapes"
                )
            if f.times_local:
                notes.append("times are wall-clock of unknown zone")
            out.node(
                {
                    "@id": node_id,
                    "@type": "uco-observable:File",
                    "uco-core:description": "; ".join(notes),
                    "uco-core:hasFacet": [facet, content_facet(ids, node_id, int(f.size), hashes, f.mime)],
                }
            )
            count += 1
    return count


def _write_messages(case: Case, out: JsonLdWriter, ids: Ids, wanted: list[str] | None) -> int:
    apps: set[str] = set()
    accounts: set[str] = set()

    def application(app: str) -> str:
        node_id = ids("application", app)
        if app not in apps:
            apps.add(app)
            out.node({"@id": node_id, "@type": "uco-observable:Application", "uco-core:name": app})
        return node_id

    def account(app: str, identifier: str) -> str:
        node_id = ids("account", app, identifier)
        if node_id not in accounts:
            accounts.add(node_id)
            out.node(
                {
                    "@id": node_id,
                    "@type": "uco-observable:ApplicationAccount",
                    "uco-core:hasFacet": [
                        {
                            "@id": ids("account-facet", app, identifier),
                            "@type": "uco-observable:AccountFacet",
                            "uco-observable:accountIdentifier": identifier,
                        },
                        {
                            "@id": ids("application-account-facet", app, identifier),
                            "@type": "uco-observable:ApplicationAccountFacet",
                            "uco-observable:application": ref(application(app)),
                        },
                    ],
                }
            )
        return node_id

    count = 0
    for m in messages(case, wanted):
        app = str(m["app"])
        source = m["source"]
        node_id = ids(
            "message",
            m["exhibit"],
            source["path"],
            source["partition"],
            source["inode"],
            m["locator"],
            m["record_type"],
        )
        facet: dict[str, Any] = {
            "@id": ids("message-facet", node_id),
            "@type": "uco-observable:MessageFacet",
            "uco-observable:application": ref(application(app)),
        }
        if m["body"] is not None:
            facet["uco-observable:messageText"] = m["body"]
        if m["sender"]:
            facet["uco-observable:from"] = ref(account(app, m["sender"]))
        if m["recipients"]:
            facet["uco-observable:to"] = [ref(account(app, r)) for r in m["recipients"]]
        if sent := date_time(m["sent_timestamp"]):  # a received SMS's "date" is not when it was sent
            facet["uco-observable:sentTime"] = sent
        if m["locator"]:
            facet["uco-observable:messageID"] = m["locator"]
        notes = [
            f"exhibit {m['exhibit']}",
            f"{m['record_type']} by {m['plugin']}@{m['plugin_version']}",
            f"{source['path']} at {m['locator']}",
        ]
        if m["conversation"] is not None:
            notes.append(f"conversation {m['conversation']}")
        if m["direction"]:
            notes.append(m["direction"])
        if m["timestamp"] and m["timestamp"] != m["sent_timestamp"]:
            notes.append(f"received by this device {m['timestamp']}")
        if m["sender_field"] not in (None, "sender"):
            notes.append(f"sender taken from {m['sender_field']}")
        if m["deleted"]:
            notes.append("deleted" + (f", recovered from {m['recovered']}" if m["recovered"] else ""))
        out.node(
            {
                "@id": node_id,
                "@type": "uco-observable:Message",
                "uco-core:description": "; ".join(notes),
                "uco-core:hasFacet": [facet],
            }
        )
        if source.get("sha256"):  # the file it came from is one of the derived files written above
            out.node(
                {
                    "@id": ids("relationship", node_id),
                    "@type": "uco-observable:ObservableRelationship",
                    "uco-core:source": ref(node_id),
                    "uco-core:target": ref(
                        _file_id(
                            ids,
                            m["exhibit"],
                            source["partition"],
                            source["inode"],
                            source["path"],
                            source["stream"],
                        )
                    ),
                    "uco-core:kindOfRelationship": "Contained_Within",
                    "uco-core:isDirectional": True,
                }
            )
        count += 1
    return count
