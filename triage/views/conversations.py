"""One schema, three views: every app's messages, calls and contacts, read back in one shape.

Plugins emit records of their own type (``chat/android/sms``, ``chat/ios/whatsapp/message``) that
share the field sets of :mod:`triage.plugin.records`: :class:`~triage.plugin.records.MessageFields`,
:class:`~triage.plugin.records.CallFields` and :class:`~triage.plugin.records.ContactFields`.
Which stored record types are messages, calls or contacts is read from the plugin registry (the
record classes each plugin ``emits``), never from a list kept here, so a new plugin's records
appear in ``exhibit chats``, ``calls`` and ``contacts`` without changing this module. Record types
whose plugin is no longer installed are not shown (their findings stay in ``exhibit findings``).

What the views add to the stored raw values, and nothing else:

* ``app``: the record class's ``app`` attribute; when a plugin leaves it empty, the third segment
  of the record type (``chat/android/sms`` -> ``sms``, ``chat/ios/whatsapp/message`` ->
  ``whatsapp``); see :func:`app_of`, the only place that decides it.
* ``direction``: ``from_me`` true -> ``"outgoing"``, false -> ``"incoming"``, unknown -> ``null``.
* ``sender`` of a message: the record's own ``sender`` when it has one; otherwise, for an incoming
  message, the other party (``party``), and for an outgoing one the device owner's ``account``
  (``null`` when the app does not record it). ``sender_field`` says which field it came from
  (``"sender"``, ``"party"``, ``"account"``, or ``null``), so a derived sender is never
  mistaken for a recorded one. Recipients are given only as recorded.
* ``timestamp``: the ``utc`` of the record's ``timestamp`` time (ISO 8601) or ``null``; ``time``
  is the whole stored time value (``raw``, ``encoding`` ...), so the conversion can be checked.
  ``sent_timestamp``: when the message was sent, as far as the record says: the ``timestamp``,
  except for a received message of a record class whose ``timestamp`` is the device's own time
  (``timestamp_is = "device"``: Android SMS and MMS), where it is the record's ``sent_time``
  (``null`` when the app did not record it).
* ``*_e164``: beside each identifier, its E.164 phone number when it is one
  (:mod:`triage.views.identifiers`): ``sender_e164``, ``party_e164``, ``account_e164``, and
  ``recipients_e164`` / ``phones_e164``, lists parallel to ``recipients`` / ``phones`` with
  ``null`` where a value is not a phone number.

Order: messages by exhibit, app, account, conversation, then time (undated last); calls by
exhibit, app, then time; contacts by exhibit, app, then name. Sorting goes through a temporary
SQLite file in the case's scratch folder (:mod:`triage.views.spool`), so a million messages cost
disk, not memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from custody.case import Case
from custody.items import get_item
from triage.errors import TriageError
from triage.plugin.records import CallFields, ContactFields, MessageFields, Record, label_for
from triage.plugin.registry import LoadedPlugins, load_plugins
from triage.views.findings import StoredFinding, stream_findings
from triage.views.identifiers import Normaliser
from triage.views.spool import SortedRows, encode_key, sort_key

__all__ = [
    "CALL",
    "CONTACT",
    "MESSAGE",
    "Schema",
    "app_of",
    "calls",
    "check_exhibits",
    "contacts",
    "messages",
    "schema",
    "source_of",
]

MESSAGE, CALL, CONTACT = "message", "call", "contact"
_FIELD_SETS: tuple[tuple[str, type], ...] = (
    (MESSAGE, MessageFields),
    (CALL, CallFields),
    (CONTACT, ContactFields),
)


def app_of(record_class: type[Record]) -> str:
    """The app a record class belongs to: its ``app`` attribute, else its record type's third segment.

    ``chat/android/sms`` -> ``sms``; a type of two segments gives its last one. This is the only
    place the fallback is decided.
    """
    app = getattr(record_class, "app", "")
    if isinstance(app, str) and app:
        return app
    parts = record_class.record_type.split("/")
    return parts[2] if len(parts) > 2 else parts[-1]


@dataclass(frozen=True)
class Schema:
    """Which record types are messages, calls and contacts, and the app and class of each."""

    kinds: dict[str, str]  # record type -> MESSAGE, CALL or CONTACT
    apps: dict[str, str]  # record type -> app
    classes: dict[str, type[Record]]

    def types(self, kind: str, app: str | None = None) -> set[str]:
        """Record types of ``kind`` (of ``app`` only, when given); an ``app`` that has none is
        the user's error (a misspelt ``--app``), not an empty answer."""
        found = {t for t, k in self.kinds.items() if k == kind and (app is None or self.apps[t] == app)}
        if app is not None and not found:
            apps = sorted({self.apps[t] for t, k in self.kinds.items() if k == kind})
            raise TriageError(
                f"no app named {app!r} has {kind}s", hint=f"--app takes one of: {', '.join(apps)}"
            )
        return found

    def label(self, record_type: str, field: str, value: object) -> str | None:
        """The render-time label the record class declares for a raw value, if any."""
        cls = self.classes.get(record_type)
        if cls is None or not isinstance(value, str | int | bool):
            return None
        return label_for(cls, field, value)


def schema(loaded: LoadedPlugins | None = None) -> Schema:
    """Read the message, call and contact record types from the plugin registry."""
    kinds: dict[str, str] = {}
    apps: dict[str, str] = {}
    classes: dict[str, type[Record]] = {}
    for plugin in (loaded or load_plugins()).plugins:
        for record_class in plugin.emits:
            for kind, fields in _FIELD_SETS:
                if issubclass(record_class, fields):
                    kinds[record_class.record_type] = kind
                    apps[record_class.record_type] = app_of(record_class)
                    classes[record_class.record_type] = record_class
                    break
    return Schema(kinds, apps, classes)


def check_exhibits(case: Case, exhibits: Sequence[str] | None) -> list[str] | None:
    """The exhibits asked for, each checked to exist in the case (``None``: the whole case)."""
    if not exhibits:
        return None
    for exhibit in exhibits:
        get_item(case, exhibit)
    return list(dict.fromkeys(exhibits))


def source_of(f: StoredFinding) -> dict[str, Any]:
    """The provenance object of the views' ``--json``: exhibit, file and the hash of what was read."""
    out: dict[str, Any] = {
        "item": f.exhibit,
        "path": f.path,
        "partition": f.partition,
        "inode": f.inode,
        "stream": f.stream,
        "sha256": f.file_sha256,
    }
    if (parent := f.parent) is not None:  # the archive(s) the file was read from
        out["parent"] = parent
    return out


def _time(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and "encoding" in value else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _direction(from_me: object) -> str | None:
    if from_me is True:
        return "outgoing"
    if from_me is False:
        return "incoming"
    return None


def _sender(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The sender and the field it came from (see the module docstring)."""
    if data.get("sender") is not None:
        return _text(data["sender"]), "sender"
    from_me = data.get("from_me")
    if from_me is False and data.get("party") is not None:
        return _text(data["party"]), "party"
    if from_me is True and data.get("account") is not None:
        return _text(data["account"]), "account"
    return None, None


def _provenance(f: StoredFinding) -> dict[str, Any]:
    return {
        "source": source_of(f),
        "locator": f.locator,
        "plugin": f.plugin,
        "plugin_version": f.plugin_version,
    }


def message_view(
    f: StoredFinding, app: str, norm: Normaliser, timestamp_is: str = "message"
) -> dict[str, Any]:
    """One message in the common shape of ``exhibit chats --json`` (``timestamp_is``: the record
    class's, see :class:`~triage.plugin.records.MessageFields`)."""
    d = f.data
    sender, sender_field = _sender(d)
    recipients = _texts(d.get("recipients"))
    time = _time(d.get("timestamp"))
    direction = _direction(d.get("from_me"))
    utc = None if time is None else time.get("utc")
    if timestamp_is == "device" and direction == "incoming":
        sent = _time(d.get("sent_time"))
        sent_utc = None if sent is None else sent.get("utc")
    else:
        sent_utc = utc
    attachments = d.get("attachments")
    return {
        "id": f.id,
        "exhibit": f.exhibit,
        "record_type": f.record_type,
        "app": app,
        "account": _text(d.get("account")),
        "account_e164": norm.e164(_text(d.get("account"))),
        "conversation": _text(d.get("conversation")),
        "conversation_title": _text(d.get("conversation_title")),
        "party": _text(d.get("party")),
        "party_e164": norm.e164(_text(d.get("party"))),
        "sender": sender,
        "sender_e164": norm.e164(sender),
        "sender_field": sender_field,
        "recipients": recipients,
        "recipients_e164": norm.all_e164(recipients),
        "direction": direction,
        "timestamp": utc,
        "time": time,
        "sent_timestamp": sent_utc,
        "body": _text(d.get("body")),
        "body_other": _other_body(d),
        "location": _location(d),
        "attachments": attachments if isinstance(attachments, list) else [],
        "status": d.get("status"),
        "deleted": bool(d.get("deleted")),
        "recovered": _text(d.get("recovered")),
        **_provenance(f),
    }


#: Fields in which a plugin keeps a second text of the same message when the database holds two
#: that differ (iMessage: ``text`` and the archived ``attributedBody``).
_OTHER_BODIES = ("attributed_body_text",)


def _location(d: dict[str, Any]) -> dict[str, float] | None:
    """A shared position the message carries (WhatsApp, Telegram: ``latitude``/``longitude``, WGS-84
    degrees as the app stored them), or None. Found in review: such a message read "(no text)"."""
    lat, lon = d.get("latitude"), d.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and not isinstance(lat, bool):
        return {"latitude": lat, "longitude": lon}
    return None


def _other_body(d: dict[str, Any]) -> dict[str, str] | None:
    """The message's other stored text, when it differs from ``body``: ``{"field", "text"}``.
    Found in review: the chats view showed only one of an iMessage's two differing texts."""
    for name in _OTHER_BODIES:
        text = _text(d.get(name))
        if text is not None and text != _text(d.get("body")):
            return {"field": name, "text": text}
    return None


def _mark_known(view: dict[str, Any], hashes: Any) -> None:
    """Add ``hashset`` (known-bad, known-good) to a message and to its attachments found in the
    evidence when they matched a hash set (triage/hashsets/known.py); nothing when they did not."""
    source = view["source"]
    status = hashes.records.get((view["exhibit"], source["path"], view["locator"]))
    marked = []
    for a in view["attachments"]:
        found = (
            hashes.path_status(view["exhibit"], a["path"]) if isinstance(a, dict) and a.get("path") else None
        )
        if found is not None:
            a = {**a, "hashset": found}
            status = "known-bad" if "known-bad" in (status, found) else found
        marked.append(a)
    view["attachments"] = marked
    if status is not None:
        view["hashset"] = status


def call_view(f: StoredFinding, app: str, norm: Normaliser) -> dict[str, Any]:
    """One call in the common shape of ``exhibit calls --json``."""
    d = f.data
    time = _time(d.get("timestamp"))
    return {
        "id": f.id,
        "exhibit": f.exhibit,
        "record_type": f.record_type,
        "app": app,
        "account": _text(d.get("account")),
        "account_e164": norm.e164(_text(d.get("account"))),
        "party": _text(d.get("party")),
        "party_e164": norm.e164(_text(d.get("party"))),
        "direction": _direction(d.get("from_me")),
        "timestamp": None if time is None else time.get("utc"),
        "time": time,
        "duration": d.get("duration"),
        "video": d.get("video"),
        "status": d.get("status"),
        "deleted": bool(d.get("deleted")),
        "recovered": _text(d.get("recovered")),
        **_provenance(f),
    }


def contact_view(f: StoredFinding, app: str, norm: Normaliser) -> dict[str, Any]:
    """One contact in the common shape of ``exhibit contacts --json``."""
    d = f.data
    phones = _texts(d.get("phones"))
    return {
        "id": f.id,
        "exhibit": f.exhibit,
        "record_type": f.record_type,
        "app": app,
        "account": _text(d.get("account")),
        "account_e164": norm.e164(_text(d.get("account"))),
        "name": _text(d.get("name")),
        "phones": phones,
        "phones_e164": norm.all_e164(phones),
        "emails": _texts(d.get("emails")),
        "account_ids": _texts(d.get("account_ids")),
        "deleted": bool(d.get("deleted")),
        "recovered": _text(d.get("recovered")),
        **_provenance(f),
    }


def messages(
    case: Case,
    exhibits: Sequence[str] | None = None,
    *,
    conversation: str | None = None,
    app: str | None = None,
    region: str | None = None,
    known: Schema | None = None,
) -> SortedRows:
    """Every message of ``exhibits`` (``None``: the whole case), grouped by conversation, in time order.

    ``conversation`` and ``app`` keep only that conversation id / app; ``region`` is the default
    region of phone numbers written without a country code. Arguments are checked at once; the
    messages are read each time the result is iterated (dicts) or its ``json_lines()`` are.
    """
    from triage.hashsets.known import load_known

    wanted = check_exhibits(case, exhibits)
    norm = Normaliser(region)
    known = known or schema()
    types = known.types(MESSAGE, app)
    hashes = load_known(case.engine, wanted)

    def views() -> Iterator[tuple[bytes, dict[str, Any]]]:
        for f in stream_findings(case.engine, wanted, types, mentioning=conversation):
            cls = known.classes.get(f.record_type)
            view = message_view(f, known.apps[f.record_type], norm, getattr(cls, "timestamp_is", "message"))
            if conversation is not None and view["conversation"] != conversation:
                continue
            if hashes:  # a known-bad attachment, or a media hash the app recorded (hash sets)
                _mark_known(view, hashes)
            key = encode_key(
                f.exhibit, view["app"], view["account"], view["conversation"], sort_key(view["timestamp"])
            )
            yield key, view

    return SortedRows(case.scratch_dir, views)


def _family(
    case: Case,
    exhibits: Sequence[str] | None,
    family: str,
    app: str | None,
    region: str | None,
    known: Schema | None,
    view_of: Callable[[StoredFinding, str, Normaliser], dict[str, Any]],
    key_of: Callable[[dict[str, Any]], tuple[str | None, ...]],
) -> SortedRows:
    """The findings of one record family as views, sorted by exhibit, app and ``key_of(view)``."""
    wanted = check_exhibits(case, exhibits)
    norm = Normaliser(region)
    known = known or schema()
    types = known.types(family, app)
    apps = known.apps

    def views() -> Iterator[tuple[bytes, dict[str, Any]]]:
        for f in stream_findings(case.engine, wanted, types):
            view = view_of(f, apps[f.record_type], norm)
            yield encode_key(f.exhibit, view["app"], *key_of(view)), view

    return SortedRows(case.scratch_dir, views)


def calls(
    case: Case,
    exhibits: Sequence[str] | None = None,
    *,
    app: str | None = None,
    region: str | None = None,
    known: Schema | None = None,
) -> SortedRows:
    """Every call of ``exhibits`` (``None``: the whole case), by exhibit and app, in time order."""
    return _family(case, exhibits, CALL, app, region, known, call_view, lambda v: (sort_key(v["timestamp"]),))


def contacts(
    case: Case,
    exhibits: Sequence[str] | None = None,
    *,
    app: str | None = None,
    region: str | None = None,
    known: Schema | None = None,
) -> SortedRows:
    """Every contact of ``exhibits`` (``None``: the whole case), by exhibit and app, then name."""

    def by_name(view: dict[str, Any]) -> tuple[str | None, ...]:
        name = view["name"]
        return (None if name is None else name.casefold(),)

    return _family(case, exhibits, CONTACT, app, region, known, contact_view, by_name)
