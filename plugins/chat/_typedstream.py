"""The text of an ``NSAttributedString`` archived by ``NSArchiver`` (a "typedstream").

Apple Messages keeps the rich form of a message in ``message.attributedBody`` (``madrid_attributedBody``
on iOS 5): an NSArchiver archive of an ``NSAttributedString``. From iOS 16 / macOS 13 ``message.text``
is often NULL and that archive is the only place the words are. This module reads just enough of
the format to return the string; the attribute runs that follow it are not read.

The format, as far as it is used here (NeXT's typedstream, also described publicly by the
imessage-exporter and pytypedstream projects; this is an independent reading, not their code):

- a header: the streamer version (one byte), the signature ``streamtyped`` (little-endian
  numbers) or ``typedstream`` (big-endian) as a length-prefixed string, and the system version;
- numbers: one signed byte, or a tag byte followed by the value: ``0x81`` a 2-byte, ``0x82`` a
  4-byte integer; ``0x84`` starts something *new*, ``0x85`` is nil, ``0x86`` ends an object, and
  a byte from ``0x92`` up refers back to something already read (the byte minus ``0x92`` indexes
  its table);
- two tables of things already read: *shared strings* (type encodings such as ``@`` and class
  names) and *objects* (every object and class, in the order they start);
- a value is a type encoding (a shared string) then the data: ``@`` an object (a class chain:
  name, version, superclass, ending in nil or a reference; then the object's own values up to
  ``0x86``), ``+`` a length-prefixed byte string.

An ``NSAttributedString`` archive starts with its string object (``NSString`` or
``NSMutableString``), whose first value is the ``+`` bytes in UTF-8. Anything else (another
layout, a truncated or hostile blob) raises :class:`TypedStreamError` with the reason; nothing here
reads outside the blob or recurses without bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TypedStreamError", "attributed_string_text"]

_NEW = 0x84
_NIL = 0x85
_END = 0x86
_REF_BASE = 0x92
_INT2 = 0x81
_INT4 = 0x82
_MAX_DEPTH = 8  # objects nested inside the one holding the text; Messages uses two
_STRING_CLASSES = frozenset({"NSString", "NSMutableString"})
_ATTRIBUTED_CLASSES = frozenset({"NSAttributedString", "NSMutableAttributedString"})


class TypedStreamError(ValueError):
    """The blob is not an archived attributed string this reader understands; the text says why."""


@dataclass
class _Reader:
    data: bytes
    pos: int = 0
    big_endian: bool = False
    strings: list[bytes] = field(default_factory=list)  # shared strings, in the order read
    objects: list[tuple[str, ...]] = field(default_factory=list)  # class chains of objects/classes

    def fail(self, why: str) -> TypedStreamError:
        return TypedStreamError(f"{why} at byte {self.pos}")

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("archive ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise self.fail(f"a length of {count} runs past the end of the archive")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def number_after(self, tag: int) -> int:
        """The integer a tag byte introduces (the tag already read)."""
        if tag == _INT2:
            return int.from_bytes(self.take(2), "big" if self.big_endian else "little", signed=True)
        if tag == _INT4:
            return int.from_bytes(self.take(4), "big" if self.big_endian else "little", signed=True)
        if tag in (_NEW, _NIL, _END) or tag >= _REF_BASE or tag == 0x83:
            raise self.fail(f"expected a number, found tag 0x{tag:02x}")
        return tag - 256 if tag > 0x7F else tag

    def number(self) -> int:
        return self.number_after(self.byte())

    def length(self) -> int:
        value = self.number()
        if value < 0:
            raise self.fail(f"negative length {value}")
        return value

    def shared_string(self) -> bytes | None:
        """A new shared string (recorded), a reference to one, or nil."""
        tag = self.byte()
        if tag == _NIL:
            return None
        if tag == _NEW:
            text = self.take(self.length())
            self.strings.append(text)
            return text
        if tag >= _REF_BASE:
            index = tag - _REF_BASE
            if index >= len(self.strings):
                raise self.fail(f"reference to shared string {index}, only {len(self.strings)} read")
            return self.strings[index]
        raise self.fail(f"expected a shared string, found 0x{tag:02x}")

    def class_chain(self, depth: int = 0) -> tuple[str, ...]:
        """Class names from the object's class up to the root, reading new classes as they come."""
        if depth > 32:
            raise self.fail("class chain too deep")
        tag = self.byte()
        if tag == _NIL:
            return ()
        if tag >= _REF_BASE:
            index = tag - _REF_BASE
            if index >= len(self.objects):
                raise self.fail(f"reference to class {index}, only {len(self.objects)} read")
            return self.objects[index]
        if tag != _NEW:
            raise self.fail(f"expected a class, found 0x{tag:02x}")
        slot = len(self.objects)
        self.objects.append(())
        name = self.shared_string()
        if name is None:
            raise self.fail("a class without a name")
        self.number()  # the class version
        chain = (name.decode("ascii", "replace"), *self.class_chain(depth + 1))
        self.objects[slot] = chain
        return chain

    def string_of_object(self, depth: int) -> str:
        """The text of the object starting here: a string, or an attributed string holding one."""
        if depth > _MAX_DEPTH:
            raise self.fail("objects nested too deep")
        tag = self.byte()
        if tag != _NEW:
            raise self.fail(f"expected a new object, found 0x{tag:02x}")
        self.objects.append(())  # the object takes its slot before its class
        chain = self.class_chain()
        kind = self.shared_string()  # the type of the object's first value
        if _ATTRIBUTED_CLASSES & set(chain):
            if kind != b"@":
                raise self.fail(f"attributed string whose first value has type {kind!r}, not an object")
            return self.string_of_object(depth + 1)
        if _STRING_CLASSES & set(chain):
            if kind != b"+":
                raise self.fail(f"string whose value has type {kind!r}, not bytes")
            raw = self.take(self.length())
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TypedStreamError(f"string bytes are not UTF-8: {exc}") from None
        raise self.fail(f"object of class {'/'.join(chain) or '?'} holds no string")


def attributed_string_text(blob: bytes) -> str:
    """The string of an archived ``NSAttributedString`` (``attributedBody``); raises
    :class:`TypedStreamError` saying why when the blob is not one this reader understands."""
    reader = _Reader(bytes(blob))
    version = reader.byte()
    if version not in (3, 4):
        raise reader.fail(f"not a typedstream (streamer version {version})")
    signature = reader.take(reader.length())
    if signature == b"typedstream":
        reader.big_endian = True
    elif signature != b"streamtyped":
        raise TypedStreamError(f"not a typedstream (signature {signature[:16]!r})")
    reader.number()  # system version (1000 on current systems)
    kind = reader.shared_string()
    if kind != b"@":
        raise reader.fail(f"the archive's first value has type {kind!r}, not an object")
    return reader.string_of_object(0)
