"""Typed records that plugins emit, and where each one came from.

A record is a frozen, keyword-only dataclass with a namespaced ``record_type`` such as
``chat/android/sms``: the type names the artifact family and lets reports, filters and the store
tell records apart without looking at their fields. Every record carries a :class:`SourceRef`
(which exhibit, partition, inode, path, stream and file hash it was read from) and a ``locator``
inside that file (``sms.rowid=42``, ``offset=1234``), so any value in a report can be traced back to
the bytes it came from.

Records keep *raw* values (an SMS ``type`` of 1 or 2, a Chrome transition bit field). Human labels
live beside the data in the class attribute ``labels`` and are applied only when rendering, so a
wrong label can be fixed without re-parsing evidence. Times follow one convention: a
:class:`~triage.plugin.timeconv.TimeValue` holding the UTC instant together with the raw stored value and
its encoding.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, ClassVar, TypeVar

from triage.plugin.timeconv import TimeValue

__all__ = [
    "RECORD_TYPE_PATTERN",
    "Attachment",
    "CallFields",
    "ContactFields",
    "GeoFields",
    "MessageFields",
    "Record",
    "SourceRef",
    "TimeValue",
    "UrlVisitFields",
    "build_record",
    "label_for",
    "record_fields",
    "record_json",
    "record_to_dict",
]

#: ``family/.../leaf``: at least two lowercase segments separated by ``/``.
RECORD_TYPE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*(?:/[a-z0-9][a-z0-9_.-]*)+$")


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    """Where a file lives in the evidence: the provenance chain every record points back to.

    Modelled on a path specification: exhibit -> partition (file-system byte offset in the image)
    -> inode (metadata address) / path -> stream (e.g. an NTFS alternate data stream), plus the
    SHA-256 of the file content the plugin read, so a record can be re-derived and verified.

    A member of an archive found in the evidence (triage/sources/nested.py) has the archive's
    path, ``!`` and its path inside the archive as ``path`` (``/Users/a/chat.zip!/msgstore.db``),
    its index in the archive as ``inode``, and ``parent``: the SourceRef of the archive itself
    (which has its own ``parent`` when the archive is in another archive). The chain reads
    exhibit -> partition -> archive file -> member path.
    """

    item: str
    path: str
    sha256: str
    partition: int | None = None
    inode: int | None = None
    stream: str | None = None
    parent: SourceRef | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (field names as in the dataclass); ``parent`` only when there is one,
        so the records of files that are in no archive are stored as before."""
        out: dict[str, Any] = {
            "item": self.item,
            "path": self.path,
            "sha256": self.sha256,
            "partition": self.partition,
            "inode": self.inode,
            "stream": self.stream,
        }
        if self.parent is not None:
            out["parent"] = self.parent.as_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceRef:
        """The SourceRef of :meth:`as_dict`'s form."""
        parent = data.get("parent")
        return cls(
            item=data["item"],
            path=data["path"],
            sha256=data["sha256"],
            partition=data.get("partition"),
            inode=data.get("inode"),
            stream=data.get("stream"),
            parent=cls.from_dict(parent) if isinstance(parent, Mapping) else None,
        )

    def chain(self) -> list[SourceRef]:
        """This file and the archives it is in, outermost last."""
        out: list[SourceRef] = []
        ref: SourceRef | None = self
        while ref is not None:
            out.append(ref)
            ref = ref.parent
        return out


@dataclass(frozen=True, kw_only=True)
class Record:
    """Base of every record: its type name, its source file and its place inside that file.

    Subclasses set ``record_type`` (namespaced, unique across plugins) and may set ``labels``:
    ``{field name: {raw value: label}}`` used only at render time.

    ``recovered`` is ``None`` for a record read from the file's live content. For a record made
    from a deleted row recovered from the file's free space, its write-ahead log or its rollback
    journal, it names the kind of place (``freeblock``, ``unallocated``, ``freelist``, ``wal``,
    ``superseded``, ``journal``) and ``locator`` gives the exact place
    (``sms._id=12@freeblock:page=5,offset=3012``; the grammar is in docs/plugins.md). Plugins
    never set it: the SQLite table base does.
    """

    record_type: ClassVar[str]
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {}

    source: SourceRef
    locator: str | None = None
    recovered: str | None = None


# --- shared field sets --------------------------------------------------------------------------
# Mixins let records of different apps share field names, so a timeline or a report can show
# "every message" or "every place" without knowing each app. They carry no behaviour.


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """A file a message carries, as the app recorded it and, when found, as it is in the evidence.

    ``recorded_path`` is the app's own reference (``Media/WhatsApp Images/IMG-....jpg``, a
    ``~/Library/SMS/Attachments/...`` path); ``path``, ``size`` and ``sha256`` describe the file
    found in the same evidence item, or stay ``None`` when it is not there (deleted, never
    downloaded). ``mime`` is what the app recorded.
    """

    name: str | None = None
    mime: str | None = None
    recorded_path: str | None = None
    path: str | None = None
    size: int | None = None
    sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class MessageFields:
    """The fields every chat message has, whatever the app: one schema for ``exhibit chats``.

    Raw values, as the app stored them: ``from_me`` is ``None`` when the source does not say
    (rendered as the direction, "outgoing"/"incoming"); ``party`` is the other side of a one-to-one
    conversation, ``sender`` who wrote this message (a group member, or the owner), ``recipients``
    whom it went to where the app records it; identifiers stay as the app wrote them (phone
    numbers are normalised to E.164 at render time). ``account`` is the device owner's identifier
    in the app. ``status`` is the app's own raw code (labels at render time). ``deleted`` is true
    for a message that is deleted: one the app keeps but marks deleted, or one recovered from
    deleted space of the database; ``recovered`` (see :class:`Record`) tells the second kind
    from the first, and its ``locator`` says where it was found.

    A record class using these fields names its app in the class attribute ``app``, and says in
    ``timestamp_is`` what its ``timestamp`` is: ``"message"`` (the default), the time the app
    gives the message, for most apps when it was sent; or ``"device"``, when this device sent or
    received it (Android's SMS and MMS ``date``: for a received message its sending time is then
    the record's own ``sent_time``), so an exchange format never calls a receiving time a sending
    time.
    """

    app: ClassVar[str] = ""
    timestamp_is: ClassVar[str] = "message"
    timestamp: TimeValue | None = None
    body: str | None = None
    from_me: bool | None = None
    party: str | None = None
    conversation: str | None = None
    conversation_title: str | None = None
    account: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    status: int | str | None = None
    deleted: bool = False


@dataclass(frozen=True, kw_only=True)
class CallFields:
    """The fields every call record has: ``duration`` in seconds as stored; ``status`` raw.

    ``deleted``: marked deleted by the app, or recovered from deleted space (``recovered`` set),
    as for :class:`MessageFields`.
    """

    app: ClassVar[str] = ""
    timestamp: TimeValue | None = None
    duration: int | float | None = None
    from_me: bool | None = None
    party: str | None = None
    account: str | None = None
    status: int | str | None = None
    video: bool | None = None
    deleted: bool = False


@dataclass(frozen=True, kw_only=True)
class ContactFields:
    """The fields every contact has: the identifiers it links (phones, e-mails, app account ids).

    ``deleted``: marked deleted by the app, or recovered from deleted space (``recovered`` set),
    as for :class:`MessageFields`.
    """

    app: ClassVar[str] = ""
    name: str | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    account: str | None = None
    deleted: bool = False


@dataclass(frozen=True, kw_only=True)
class GeoFields:
    """A WGS-84 position in decimal degrees (south and west negative)."""

    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, kw_only=True)
class UrlVisitFields:
    """Fields common to browser history visits of every browser."""

    url: str | None = None
    title: str | None = None
    visit_time: TimeValue | None = None


# --- rendering helpers --------------------------------------------------------------------------


_SCALARS = frozenset({str, int, float, bool, type(None)})


_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass's field names, looked up once per class."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _jsonable(value: object) -> Any:
    # The plain values first: a million-message database makes tens of millions of calls here.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, TimeValue | SourceRef):  # their own forms (a time's raw value may be bytes)
        form = value.as_dict()
        if all(type(v) in _SCALARS for v in form.values()):
            return form
        return {k: _jsonable(v) for k, v in form.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # Attachment
        return {name: _jsonable(getattr(value, name)) for name in _field_names(kind)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"hex": bytes(value).hex()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool):  # a subclass (an enum of str or int)
        return value
    raise TypeError(f"record field of type {kind.__name__} is not JSON-able")


def record_to_dict(record: Record) -> dict[str, Any]:
    """A JSON-able dict of ``record``: ``record_type`` first, raw values kept, no labels applied.

    Times become ``{"utc", "raw", "encoding", "offset", "local", "note"}``; bytes become
    ``{"hex": ...}``. Raises ``TypeError`` on a field value that has no JSON form.
    """
    out: dict[str, Any] = {"record_type": type(record).record_type}
    for name in _field_names(type(record)):
        out[name] = _jsonable(getattr(record, name))
    return out


# --- the stored text of a record -------------------------------------------------------------------
# ``record_json`` writes what ``json.dumps(record_to_dict(record), sort_keys=True,
# ensure_ascii=False)`` writes (the ``data`` of every stored finding), without the dict of dicts
# in between: a million-message database spent more time building and sorting those than reading
# its rows. Values of the common kinds are written here; anything else goes through
# ``_jsonable`` and ``json.dumps`` itself, so the two can only agree
# (tests/triage/test_record_json.py compares them on every record class of the plugins).

_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) quotes strings with


def _dumps(value: object) -> str:
    return json.dumps(_jsonable(value), sort_keys=True, ensure_ascii=False)


def _json_time(t: TimeValue) -> str:
    s, v = _string, _json_value  # text (nearly every member) quoted directly, the rest through _json_value
    encoding, local, note, offset, raw, utc = t.encoding, t.local, t.note, t.offset, t.raw, t.utc
    if local is None and note is None and type(raw) is int and type(utc) is str and type(offset) is str:
        # a stored integer converted (nearly every time of a database): one format, no branches
        return (
            f'{{"encoding": {s(encoding) if type(encoding) is str else v(encoding)}, "local": null, '
            f'"note": null, "offset": {s(offset)}, "raw": {int.__repr__(raw)}, "utc": {s(utc)}}}'
        )
    return (
        '{"encoding": '
        + (s(encoding) if type(encoding) is str else v(encoding))
        + ', "local": '
        + ("null" if local is None else s(local) if type(local) is str else v(local))
        + ', "note": '
        + ("null" if note is None else s(note) if type(note) is str else v(note))
        + ', "offset": '
        + ("null" if offset is None else s(offset) if type(offset) is str else v(offset))
        + ', "raw": '
        + (int.__repr__(raw) if type(raw) is int else v(raw))
        + ', "utc": '
        + ("null" if utc is None else s(utc) if type(utc) is str else v(utc))
        + "}"
    )


#: The SourceRef written last and its text (a file's records share one object), replaced whole.
_last_source: list[tuple[SourceRef | None, str]] = [(None, "")]


def _json_source(ref: SourceRef) -> str:
    last, text = _last_source[0]
    if last is not ref:
        text = _dumps(ref)
        _last_source[0] = (ref, text)
    return text


_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _string,
    int: int.__repr__,
    bool: lambda v: "true" if v else "false",
    TimeValue: _json_time,
    SourceRef: _json_source,
}


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    write = _BY_TYPE.get(type(value))
    if write is not None:
        return write(value)
    if type(value) is tuple:
        return "[" + ", ".join([_json_value(v) for v in value]) + "]"
    return _dumps(value)


_LAYOUTS: dict[type, tuple[Callable[[Any], tuple[Any, ...]], list[str], str]] = {}


def _layout(cls: type[Record]) -> tuple[Callable[[Any], tuple[Any, ...]], list[str], str]:
    """How a record class is written: a getter of its field values in key order, the text before
    each value (``{"name": `` / ``, "name": ``, with ``record_type`` folded in) and after the last."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        names = _field_names(cls)
        keys = sorted({"record_type", *names})
        fields = [k for k in keys if k != "record_type" or "record_type" in names]
        texts: list[str] = []
        pending = "{"
        for key in keys:
            item = f"{'' if pending == '{' else ', '}{_string(key)}: "
            if key == "record_type" and key not in names:
                pending += item + _string(cls.record_type)
                continue
            texts.append(pending + item)
            pending = ""
        getter = attrgetter(*fields) if len(fields) > 1 else (lambda r, f=fields[0]: (getattr(r, f),))
        layout = _LAYOUTS[cls] = (getter, texts, pending + "}")
    return layout


def record_json(record: Record) -> str:
    """``record``'s stored text: ``json.dumps(record_to_dict(record), sort_keys=True,
    ensure_ascii=False)``, written about five times faster."""
    getter, texts, end = _layout(type(record))
    string, value = _string, _json_value
    out = texts * 2  # the texts and values interleaved, then the end
    out[0::2] = texts
    out[1::2] = ["null" if v is None else string(v) if type(v) is str else value(v) for v in getter(record)]
    out.append(end)
    return "".join(out)


R = TypeVar("R", bound="Record")
_TEMPLATES: dict[type, tuple[dict[str, Any], tuple[str, ...]]] = {}


def _template(cls: type) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The record class's fields with their defaults, in declaration order (None for those
    without one), and the names of those without one; made once per class."""
    made = _TEMPLATES.get(cls)
    if made is None:
        params = getattr(cls, "__dataclass_params__", None)
        if (
            params is None
            or not params.init
            or not params.frozen
            or "__post_init__" in dir(cls)
            or getattr(cls, "__slots__", None)
            or cls.__new__ is not object.__new__
        ):
            raise TypeError(
                f"{cls.__name__}: build_record takes frozen dataclasses with their own __init__, "
                "without __post_init__, slots or __new__"
            )
        template: dict[str, Any] = {}
        required = []
        for f in dataclasses.fields(cls):
            if not f.init or f.default_factory is not dataclasses.MISSING:
                raise TypeError(
                    f"{cls.__name__}.{f.name}: build_record takes plain fields with plain defaults"
                )
            if f.default is dataclasses.MISSING:
                required.append(f.name)
            template[f.name] = None if f.default is dataclasses.MISSING else f.default
        made = _TEMPLATES[cls] = (template, tuple(required))
    return made


def build_record(cls: type[R], /, **values: Any) -> R:
    """``cls(**values)`` for a frozen record dataclass, without its ``__init__``: a frozen
    dataclass sets each field through ``object.__setattr__``, ~6 µs for a chat message's 39
    fields, against ~1.5 µs here (a million-message database makes a million of them). The same
    instance: every field, defaults filled, in declaration order; an unknown or a missing field
    is a TypeError, as from ``__init__``. For classes with plain defaults and no
    ``__post_init__`` (checked once per class)."""
    template, required = _template(cls)
    fields = dict(template)
    fields.update(values)
    if len(fields) != len(template):
        unknown = ", ".join(sorted(set(values) - set(template)))
        raise TypeError(f"{cls.__name__}() got unexpected keyword argument(s): {unknown}")
    for name in required:
        if name not in values:
            raise TypeError(f"{cls.__name__}() missing required keyword argument: {name!r}")
    record = object.__new__(cls)
    record.__dict__.update(fields)
    return record


def record_fields(record_class: type[Record]) -> list[str]:
    """Field names of a record class in declaration order (for CSV headers and docs)."""
    return [f.name for f in dataclasses.fields(record_class)]


def label_for(record_class: type[Record], field: str, value: object) -> str | None:
    """The render-time label of a raw value, or ``None`` when the class declares none for it."""
    return record_class.labels.get(field, {}).get(value)
