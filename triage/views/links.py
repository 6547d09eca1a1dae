"""``exhibit links``: the identifiers that tie exhibits or apps together, and their GraphML graph.

Every message, call and contact record (:mod:`triage.views.conversations`) names people: a
message its ``sender``, ``recipients``, ``party`` and the owner's ``account``; a call its
``party`` and ``account``; a contact its ``phones``, ``emails``, ``account_ids`` and ``account``.
Each is reduced to an identity (:func:`triage.views.identifiers.identity`): a phone number in
E.164 (``1 555-521-5554`` with ``--region US``, ``15555215554`` and the WhatsApp JID
``15555215554@s.whatsapp.net`` are all ``+15555215554``), a lower-cased e-mail address, an
app's account id (``whatsapp:120363023356659014@g.us``), or the digits of a number that could not
be normalised (kind ``number``). Indicator records (``indicator/...``, from the ``identifiers``
analyzer: identifiers validated in message bodies and web-history URLs and titles) join with their
own kind and normalised value: ``phone`` (E.164) and ``email`` (lower-cased) meet the same
identities of the people fields, and ``bitcoin``, ``ethereum``, ``iban``, ``card`` and ``url``
values meet each other; an indicator's app is the app of the record it was found in. An
identity seen in **more than one exhibit or more than one app** is a link.

Aggregation runs in a temporary SQLite file in the case's scratch folder, indexed by identity,
so memory does not grow with the number of records; each link lists at most ``record_cap``
finding ids (``records``) with their total (``records_total``).

The GraphML file (:func:`write_graphml`) has one node per linked identity (``type`` identifier,
``kind``, ``value``, ``apps``, ``records``) and one per exhibit (``type`` exhibit), and an edge
from an identity to each exhibit it was seen in, one per app, with ``app`` and ``count`` (records).
It is streamed with the standard library's SAX writer; characters XML 1.0 cannot carry (control
characters other than tab and line breaks, lone surrogates, U+FFFE, U+FFFF) are written as the
backslash escapes the screen shows (``\\x1b``). It is plain GraphML 1.0, the format Gephi and
Cytoscape import; a test reads it back with ``networkx.read_graphml`` and checks every node and edge.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from custody.case import Case
from custody.safetext import char_escape
from triage.errors import TriageError
from triage.views.conversations import CALL, CONTACT, MESSAGE, Schema, schema
from triage.views.findings import stream_findings
from triage.views.identifiers import Normaliser, identity
from triage.views.spool import open_scratch_database, remove_scratch_database

__all__ = ["IDENTIFIER_FIELDS", "INDICATOR_NAMESPACE", "Links", "write_graphml", "xml_text"]

#: The fields of each record family that name a person or account.
IDENTIFIER_FIELDS: dict[str, tuple[str, ...]] = {
    MESSAGE: ("sender", "recipients", "party", "account"),
    CALL: ("party", "account"),
    CONTACT: ("phones", "emails", "account_ids", "account"),
}
#: Record types of the indicators analyzers emit (``indicator/identifier``): each has ``kind``,
#: ``value`` (normalised), ``raw`` and ``source_type``, and is grouped on ``(kind, value)``.
INDICATOR_NAMESPACE = "indicator"
RECORD_CAP = 100
RAW_CAP = 20
_BATCH = 5000

_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """``str(value)`` with every character XML 1.0 forbids replaced by its visible escape."""
    return _XML_FORBIDDEN.sub(lambda m: char_escape(m.group()), str(value))


def _blob(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _text(blob: bytes) -> str:
    return blob.decode("utf-8", "surrogatepass")


class Links:
    """The links of a case, aggregated in a scratch database; a context manager.

    ``for link in links`` gives one dict per linked identity, ordered by kind and value:
    ``kind``, ``value``, ``exhibits``, ``apps``, ``records`` (finding ids, at most
    ``record_cap``), ``records_total``, ``raw`` (the values as stored, at most 20) and ``seen``
    (``exhibit``, ``app``, ``records`` for each place it was seen). It can be iterated more than once.
    """

    def __init__(
        self,
        case: Case,
        *,
        region: str | None = None,
        record_cap: int = RECORD_CAP,
        known: Schema | None = None,
    ) -> None:
        self.normaliser = Normaliser(region)
        self.record_cap = record_cap
        self._known = known or schema()
        self._case = case
        self._con: sqlite3.Connection | None = None
        self._path: Path | None = None

    def __enter__(self) -> Links:
        self._con, self._path = open_scratch_database(self._case.scratch_dir)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None and self._path is not None:
            remove_scratch_database(self._con, self._path)
        self._con = self._path = None

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            raise RuntimeError("Links is used outside its 'with' block")
        return self._con

    def _build(self) -> None:
        con = self.con
        con.execute(
            "CREATE TABLE seen (kind TEXT NOT NULL, value BLOB NOT NULL, exhibit TEXT NOT NULL,"
            " app TEXT NOT NULL, finding INTEGER NOT NULL, raw BLOB NOT NULL)"
        )
        con.execute("CREATE INDEX seen_identity ON seen (kind, value, exhibit, app, finding)")
        known = self._known
        batch: list[tuple[str, bytes, str, str, int, bytes]] = []
        for f in stream_findings(self._case.engine, None, set(known.kinds)):
            app = known.apps[f.record_type]
            rows = set()
            for field in IDENTIFIER_FIELDS[known.kinds[f.record_type]]:
                value = f.data.get(field)
                for raw in value if isinstance(value, list) else [value]:
                    found = identity(raw, app, self.normaliser)
                    if found is not None and isinstance(raw, str):
                        rows.add((found.kind, _blob(found.value), f.exhibit, app, f.id, _blob(raw.strip())))
            batch.extend(rows)
            if len(batch) >= _BATCH:
                self._insert(batch)
        for f in stream_findings(self._case.engine, None, None, [INDICATOR_NAMESPACE]):
            kind, value, raw = f.data.get("kind"), f.data.get("value"), f.data.get("raw")
            if not (isinstance(kind, str) and isinstance(value, str) and kind and value):
                continue
            app = self._indicator_app(f.data.get("source_type"))
            text = raw.strip() if isinstance(raw, str) and raw.strip() else value
            batch.append((kind, _blob(value), f.exhibit, app, f.id, _blob(text)))
            if len(batch) >= _BATCH:
                self._insert(batch)
        self._insert(batch)

    def _indicator_app(self, source_type: object) -> str:
        """The app of the record an indicator was found in: a chat record's app, else the second
        segment of its type (``browser/chrome/visit`` -> ``chrome``)."""
        if not isinstance(source_type, str) or not source_type:
            return "unknown"
        known = self._known.apps.get(source_type)
        if known:
            return known
        parts = source_type.split("/")
        return parts[1] if len(parts) > 1 else parts[0]

    def _insert(self, batch: list[tuple[str, bytes, str, str, int, bytes]]) -> None:
        if batch:
            self.con.execute("BEGIN")
            self.con.executemany("INSERT INTO seen VALUES (?, ?, ?, ?, ?, ?)", batch)
            self.con.execute("COMMIT")
            batch.clear()

    def exhibits(self) -> list[str]:
        """Every exhibit in which some identity was seen (linked or not), sorted."""
        return [r[0] for r in self.con.execute("SELECT DISTINCT exhibit FROM seen ORDER BY exhibit")]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        con = self.con
        groups = con.execute(
            "SELECT kind, value FROM seen GROUP BY kind, value"
            " HAVING COUNT(DISTINCT exhibit) > 1 OR COUNT(DISTINCT app) > 1 ORDER BY kind, value"
        )
        for kind, value in groups:
            key = (kind, value)
            seen = [
                {"exhibit": e, "app": a, "records": n}
                for e, a, n in con.execute(
                    "SELECT exhibit, app, COUNT(DISTINCT finding) FROM seen WHERE kind = ? AND value = ?"
                    " GROUP BY exhibit, app ORDER BY exhibit, app",
                    key,
                )
            ]
            records = [
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT finding FROM seen WHERE kind = ? AND value = ? ORDER BY finding LIMIT ?",
                    (*key, self.record_cap),
                )
            ]
            (total,) = con.execute(
                "SELECT COUNT(DISTINCT finding) FROM seen WHERE kind = ? AND value = ?", key
            ).fetchone()
            raw = [
                _text(r[0])
                for r in con.execute(
                    "SELECT DISTINCT raw FROM seen WHERE kind = ? AND value = ? ORDER BY raw LIMIT ?",
                    (*key, RAW_CAP),
                )
            ]
            yield {
                "kind": kind,
                "value": _text(value),
                "exhibits": sorted({s["exhibit"] for s in seen}),
                "apps": sorted({s["app"] for s in seen}),
                "records": records,
                "records_total": total,
                "raw": raw,
                "seen": seen,
            }


_KEYS = (
    ("type", "node", "string"),
    ("label", "node", "string"),
    ("kind", "node", "string"),
    ("value", "node", "string"),
    ("apps", "node", "string"),
    ("records", "node", "int"),
    ("app", "edge", "string"),
    ("count", "edge", "int"),
)


def write_graphml(links: Links, path: Path) -> int:
    """Write the links as GraphML to ``path`` (which must not exist); the number of identity nodes."""
    try:
        handle = path.open("xb")
    except FileExistsError:
        raise TriageError(
            f"{path} already exists", hint="give the name of a new file: nothing is overwritten"
        ) from None
    try:
        with handle:
            nodes = _write(links, handle)
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written graph keeps the name
        raise
    return nodes


def _write(links: Links, handle: BinaryIO) -> int:
    xml = XMLGenerator(handle, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    _start(
        xml,
        "graphml",
        {
            "xmlns": "http://graphml.graphdrawing.org/xmlns",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:schemaLocation": "http://graphml.graphdrawing.org/xmlns "
            "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
        },
    )
    xml.ignorableWhitespace("\n")
    for name, owner, kind in _KEYS:
        _start(xml, "key", {"id": name, "for": owner, "attr.name": name, "attr.type": kind})
        xml.endElement("key")
        xml.ignorableWhitespace("\n")
    _start(xml, "graph", {"id": "links", "edgedefault": "undirected"})
    xml.ignorableWhitespace("\n")
    exhibit_ids = {}
    for n, exhibit in enumerate(links.exhibits()):
        exhibit_ids[exhibit] = f"x{n}"
        _node(xml, f"x{n}", {"type": "exhibit", "label": exhibit})
    nodes = edges = 0
    for link in links:
        node = f"i{nodes}"
        nodes += 1
        _node(
            xml,
            node,
            {
                "type": "identifier",
                "label": link["value"],
                "kind": link["kind"],
                "value": link["value"],
                "apps": ",".join(link["apps"]),
                "records": link["records_total"],
            },
        )
        for s in link["seen"]:
            _start(xml, "edge", {"id": f"e{edges}", "source": node, "target": exhibit_ids[s["exhibit"]]})
            edges += 1
            _data(xml, "app", s["app"])
            _data(xml, "count", s["records"])
            xml.endElement("edge")
            xml.ignorableWhitespace("\n")
    xml.endElement("graph")
    xml.ignorableWhitespace("\n")
    xml.endElement("graphml")
    xml.ignorableWhitespace("\n")
    xml.endDocument()
    return nodes


def _start(xml: XMLGenerator, name: str, attrs: dict[str, str] | None = None) -> None:
    xml.startElement(name, AttributesImpl({k: xml_text(v) for k, v in (attrs or {}).items()}))


def _node(xml: XMLGenerator, node_id: str, data: dict[str, object]) -> None:
    _start(xml, "node", {"id": node_id})
    for key, value in data.items():
        _data(xml, key, value)
    xml.endElement("node")
    xml.ignorableWhitespace("\n")


def _data(xml: XMLGenerator, key: str, value: object) -> None:
    _start(xml, "data", {"key": key})
    xml.characters(xml_text(value))
    xml.endElement("data")
