"""A small, bounded reader of Telegram's TL binary serialisation, driven by a table of constructors.

Telegram stores every object (a message, a user, a chat) in its TL form: a 32-bit little-endian
constructor id naming the layout, then the fields in order. Field types are ``int`` (int32),
``long`` (int64), ``double``, ``bytes``/``string`` (a length of 1 byte, or 254 and 3 bytes, then the
data, padded to a multiple of 4), ``#`` (a 32-bit flags word) and ``name:flags.N?type`` (present
only when bit N of that flags word is set), boxed objects (their own constructor id first) and
``Vector<T>`` (id ``0x1cb5c415``, a count, the elements). ``Bool`` is one of two constructors.

Why our own reader and not Telethon's (MIT, pure Python; it installs here with pip, with its
``pyaes`` and ``rsa`` dependencies): Telethon's generated tables hold one layer, its own (229 in
1.45.0), with one constructor per object, while an Android ``cache4.db`` keeps every message in the
layer of the app version that stored it, years of layers side by side, plus constructors only the
Android app uses (its pre-layer-54 and secret-chat forms, ``0x555555f8``...). Telethon's reader
rejects all of those, reads every object whole (we need a message only up to its attachment),
and has no byte budget or depth bound. The table here (:mod:`plugins.chat._telegram_schema`) names
the constructors of every layer from 54 to 229 for the few types a chat record needs.

Hostile input: every length is checked against the bytes that remain before anything is sliced,
a vector's count against the bytes left (each element takes at least 4), nesting is bounded
(:data:`MAX_DEPTH`) and so is the part of a blob that is read (``max_bytes``); a blob is never
copied. Decoding never raises: :func:`decode` returns what it read, and why it stopped.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "VECTOR",
    "Constructor",
    "Decoded",
    "Malformed",
    "Param",
    "Schema",
    "TLError",
    "Truncated",
    "UnknownConstructor",
    "decode",
]

VECTOR = 0x1CB5C415
BOOL_TRUE = 0x997275B5
BOOL_FALSE = 0xBC799737

#: Deepest nesting of objects and vectors read (a stored message nests about 5 deep).
MAX_DEPTH = 24
#: Bytes of one blob that are read at most: the fields used lie in its first few kilobytes (a
#: message's text is at most 4096 characters), so a larger blob is read up to this budget only.
MAX_BYTES = 1 << 20

_PRIMITIVES = frozenset({"int", "long", "double", "string", "bytes", "true", "#"})
_INT = struct.Struct("<i")
_UINT = struct.Struct("<I")
_LONG = struct.Struct("<q")
_DOUBLE = struct.Struct("<d")


# --- errors -----------------------------------------------------------------------------------------


class TLError(ValueError):
    """Why a blob could not be read further: ``where`` is the field path, ``offset`` the byte."""

    def __init__(self, message: str, *, where: str, offset: int) -> None:
        super().__init__(message)
        self.where = where
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.args[0]} at byte {self.offset} ({self.where})"


class Truncated(TLError):
    """A field runs past the end of the blob (or of the byte budget)."""


class Malformed(TLError):
    """Bytes that no valid object has: a bad vector id or count, a bad length, nesting too deep."""


class UnknownConstructor(TLError):
    """A constructor id the table does not hold (a newer layer, or not a TL object at all)."""

    def __init__(self, cid: int, expected: str, *, where: str, offset: int) -> None:
        super().__init__(f"unknown constructor 0x{cid:08x} for {expected}", where=where, offset=offset)
        self.cid = cid
        self.expected = expected


class _End(Exception):
    """A constructor the table lists only up to a point was read to that point: stop there."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


# --- the table --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One field: ``kind`` is a primitive name, ``object`` (boxed) or ``vector``; ``type`` the boxed
    type or vector element; ``flag`` the (flags field, bit) that makes it present, if any."""

    name: str
    kind: str
    type: str = ""
    flag: tuple[str, int] | None = None


@dataclass(frozen=True)
class Constructor:
    """A layout: its id, name, result type and fields; ``prefix`` when listed only up to a point."""

    cid: int
    name: str
    type: str
    params: tuple[Param, ...]
    prefix: bool
    layers: str


_LINE = re.compile(
    r"^(?P<name>[A-Za-z][\w.]*)#(?P<id>[0-9a-f]{1,8})(?P<params>(?: [^=]+?)?) = (?P<type>[\w.]+);"
)
_FLAG = re.compile(r"^(?P<field>\w+)\.(?P<bit>\d+)\?(?P<type>.+)$")
_VEC = re.compile(r"^[Vv]ector<(?P<elem>.+)>$")


def _param(text: str) -> Param:
    name, sep, typ = text.partition(":")
    if not sep or not name or not typ:
        raise ValueError(f"bad field {text!r}")
    flag = None
    m = _FLAG.match(typ)
    if m:
        flag = (m["field"], int(m["bit"]))
        typ = m["type"]
    v = _VEC.match(typ)
    if v:
        return Param(name, "vector", v["elem"], flag)
    if typ in _PRIMITIVES:
        return Param(name, typ, "", flag)
    return Param(name, "object", typ, flag)


class Schema:
    """Constructors by id, parsed from lines in TL notation (see :mod:`~plugins.chat._telegram_schema`)."""

    def __init__(self, text: str) -> None:
        self.by_id: dict[int, Constructor] = {}
        for raw in text.splitlines():
            line, _, comment = raw.partition("//")
            line = line.strip()
            if not line:
                continue
            m = _LINE.match(line)
            if not m:
                raise ValueError(f"not a TL constructor line: {raw!r}")
            words = m["params"].split()
            prefix = bool(words) and words[-1] == "..."
            if prefix:
                words.pop()
            con = Constructor(
                cid=int(m["id"], 16),
                name=m["name"],
                type=m["type"],
                params=tuple(_param(w) for w in words),
                prefix=prefix,
                layers=comment.strip(),
            )
            if con.cid in self.by_id:
                raise ValueError(f"constructor 0x{con.cid:08x} listed twice")
            self.by_id[con.cid] = con

    def __len__(self) -> int:
        return len(self.by_id)

    def __iter__(self) -> Iterator[Constructor]:
        return iter(self.by_id.values())


# --- reading ----------------------------------------------------------------------------------------


class _Reader:
    """Reads fields from ``data[:max_bytes]``, checking each length against what remains."""

    def __init__(self, schema: Schema, data: bytes, max_bytes: int) -> None:
        self.schema = schema
        self.data = memoryview(data)[:max_bytes]
        self.end = len(self.data)
        self.pos = 0
        self.over_budget = len(data) > max_bytes
        self.bad_text: list[str] = []

    def _take(self, n: int, where: str) -> memoryview:
        if n > self.end - self.pos:
            budget = " (the byte budget)" if self.over_budget else ""
            raise Truncated(
                f"{n} byte(s) needed, {self.end - self.pos} left of {self.end}{budget}",
                where=where,
                offset=self.pos,
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def read_uint(self, where: str) -> int:
        return int(_UINT.unpack(self._take(4, where))[0])

    def read_int(self, where: str) -> int:
        return int(_INT.unpack(self._take(4, where))[0])

    def read_long(self, where: str) -> int:
        return int(_LONG.unpack(self._take(8, where))[0])

    def read_double(self, where: str) -> float:
        return float(_DOUBLE.unpack(self._take(8, where))[0])

    def read_bytes(self, where: str) -> bytes:
        start = self.pos
        first = self._take(1, where)[0]
        if first == 255:
            raise Malformed("length byte 255", where=where, offset=start)
        if first == 254:
            size = int.from_bytes(self._take(3, where), "little")
            header = 4
        else:
            size, header = first, 1
        data = bytes(self._take(size, where))
        self._take(-(header + size) % 4, where)
        return data

    def read_string(self, where: str) -> str:
        raw = self.read_bytes(where)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:  # kept visible, and said (found in review: silently escaped,
            self.bad_text.append(where)  # so a stored "\xff" could not be told from typed text)
            return raw.decode("utf-8", "backslashreplace")

    def object(self, expected: str, where: str, depth: int, out: dict[str, Any]) -> None:
        """A boxed object of type ``expected`` into ``out`` (filled as it is read, so a caller
        keeps the fields read before a failure)."""
        if depth > MAX_DEPTH:
            raise Malformed(f"nested deeper than {MAX_DEPTH}", where=where, offset=self.pos)
        start = self.pos
        cid = self.read_uint(where)
        con = self.schema.by_id.get(cid)
        if con is None:
            raise UnknownConstructor(cid, expected, where=where, offset=start)
        if con.type != expected:
            raise Malformed(
                f"constructor {con.name}#{cid:x} is a {con.type}, not a {expected}", where=where, offset=start
            )
        out["_"] = con.name
        out["_cid"] = cid
        self.fields(con, where, depth, out)

    def fields(self, con: Constructor, where: str, depth: int, out: dict[str, Any]) -> None:
        flags: dict[str, int] = {}
        for p in con.params:
            at = f"{where}.{p.name}"
            if p.flag is not None:
                word = flags.get(p.flag[0])
                if word is None:
                    raise Malformed(
                        f"field {p.name} depends on {p.flag[0]}, not read before it",
                        where=at,
                        offset=self.pos,
                    )
                if not (word >> p.flag[1]) & 1:
                    continue
            out[p.name] = self.value(p.kind, p.type, at, depth, out, p.name)
            if p.kind == "#":
                flags[p.name] = out[p.name]
        if con.prefix:
            raise _End(where)

    def value(self, kind: str, typ: str, where: str, depth: int, parent: dict[str, Any], key: str) -> Any:
        if kind == "int":
            return self.read_int(where)
        if kind == "#":
            return self.read_uint(where)
        if kind == "long":
            return self.read_long(where)
        if kind == "double":
            return self.read_double(where)
        if kind == "string":
            return self.read_string(where)
        if kind == "bytes":
            return self.read_bytes(where)
        if kind == "true":
            return True
        if kind == "vector":
            items: list[Any] = []
            parent[key] = items
            self.vector(typ, where, depth + 1, items)
            return items
        if typ == "Bool":
            start = self.pos
            cid = self.read_uint(where)
            if cid in (BOOL_TRUE, BOOL_FALSE):
                return cid == BOOL_TRUE
            raise Malformed(f"0x{cid:08x} is not a Bool", where=where, offset=start)
        child: dict[str, Any] = {}
        parent[key] = child
        self.object(typ, where, depth + 1, child)
        return child

    def vector(self, elem: str, where: str, depth: int, items: list[Any]) -> None:
        if depth > MAX_DEPTH:
            raise Malformed(f"nested deeper than {MAX_DEPTH}", where=where, offset=self.pos)
        start = self.pos
        magic = self.read_uint(where)
        if magic != VECTOR:
            raise Malformed(
                f"0x{magic:08x} where a Vector (0x{VECTOR:08x}) belongs", where=where, offset=start
            )
        count = self.read_uint(where)
        if count > (self.end - self.pos) // 4:  # every element takes 4 bytes or more
            raise Malformed(
                f"vector of {count} elements in {self.end - self.pos} bytes", where=where, offset=start
            )
        kind = elem if elem in _PRIMITIVES else "object"
        holder: dict[str, Any] = {}
        for i in range(count):
            at = f"{where}[{i}]"
            if kind == "object" and elem != "Bool":
                child: dict[str, Any] = {}
                items.append(child)
                self.object(elem, at, depth + 1, child)
            else:
                items.append(self.value(kind, elem, at, depth, holder, "item"))


@dataclass
class Decoded:
    """What :func:`decode` read from one blob.

    ``obj`` holds the fields read, as dicts (``"_"`` the constructor name, ``"_cid"`` its id;
    nested objects are dicts, vectors lists); it is ``None`` when not even the outer constructor was
    known. ``constructor`` is that outer constructor. ``error`` says why reading stopped before the
    end of what the table lists (``None`` when it did not); ``ended_at`` names the field where a
    constructor listed only in part ended the reading (normal for a message's attachment).
    """

    obj: dict[str, Any] | None
    constructor: Constructor | None
    error: TLError | None = None
    ended_at: str | None = None
    read: int = 0
    size: int = 0
    bad_text: tuple[str, ...] = ()  # fields whose bytes were not UTF-8 (kept with \x escapes)


def decode(
    data: bytes, expected: str, schema: Schema, *, max_bytes: int = MAX_BYTES, root: str = ""
) -> Decoded:
    """Read one boxed object of type ``expected`` from the start of ``data``; never raises.

    Reading stops at the end of the object, at the end of a constructor the table lists only up to
    a point (``ended_at``), or at the first problem (``error``, with the field path and byte
    offset). Everything read before the stop is kept in ``obj``. ``root`` prefixes field paths.
    """
    reader = _Reader(schema, data, max_bytes)
    out: dict[str, Any] = {}
    where = root or expected
    result = Decoded(obj=out, constructor=None, size=len(data))
    try:
        reader.object(expected, where, 0, out)
    except _End as end:
        result.ended_at = end.where
    except TLError as exc:
        result.error = exc
    result.read = reader.pos
    result.bad_text = tuple(reader.bad_text)
    cid = out.get("_cid")
    result.constructor = schema.by_id.get(cid) if isinstance(cid, int) else None
    if result.constructor is None:
        result.obj = None
    return result
