"""Bytes of unknown encoding as text in every encoding they may hold, with byte offsets.

Evidence bytes (a text file, a database page, a deleted file's clusters) rarely say how they
are encoded. :func:`views` reads one window of bytes the ways text is commonly stored and gives,
for each, the decoded text and the byte offset of every character:

* ``utf-8`` (which covers ASCII): always. A byte that is not part of valid UTF-8 becomes one
  lone surrogate (``surrogateescape``), so every character still has its byte offset.
* ``latin-1``: when the window is not valid UTF-8 (one byte, one character).
* ``utf-16le`` and ``utf-16be`` at both byte alignments: when the window holds three printable
  ASCII characters in a row in UTF-16 (zero, printable, zero, printable, zero), or always
  when ``always_utf16`` is asked for (terms outside ASCII, whose UTF-16 form may hold no zero
  byte). Lone surrogates pass through. So a term of ASCII letters is found in UTF-16 text
  wherever that text holds ASCII, which is where such a term can be.

A window that is pure ASCII has one view (the others would find the same text at the same
offsets). Offsets are absolute: ``base`` is the window's offset in the file or image.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ByteOffsets", "TextView", "clean", "views"]

_SURROGATE = re.compile("[\ud800-\udfff]")
# two printable ASCII characters between zero bytes: UTF-16LE or BE text of three ASCII characters
# (starting with a literal byte, the search runs at memchr speed)
_UTF16_ASCII = re.compile(rb"\x00[\x20-\x7e]\x00[\x20-\x7e]\x00")


@dataclass(frozen=True, slots=True)
class TextView:
    """``text`` as decoded from ``data[start:]`` (``data`` the window) in ``encoding``."""

    encoding: str
    text: str
    base: int  # byte offset of the window in the file or image
    data: bytes  # the window
    start: int  # where in the window this view's decoding starts (a UTF-16 alignment)

    def byte_offset(self, index: int) -> int:
        """Absolute byte offset of character ``index`` of ``text`` (``len(text)``: the end).
        For many positions, :class:`ByteOffsets` computes them in one pass."""
        return ByteOffsets(self)(index)


class ByteOffsets:
    """Byte offsets of characters of one view, each computed from the last one asked (in either
    direction): positions asked in order cost one pass over the text in all."""

    def __init__(self, view: TextView) -> None:
        self.view = view
        self.first = view.base + view.start
        self.direct = view.encoding == "latin-1" or (view.encoding == "utf-8" and view.text.isascii())
        self.index = 0
        self.offset = self.first

    def _size(self, piece: str) -> int:
        if self.view.encoding == "utf-8":
            return len(piece.encode("utf-8", "surrogateescape"))
        # UTF-16: two bytes a code unit; a character beyond the BMP took two units
        wide = 0 if piece.isascii() or max(piece) <= "\uffff" else sum(1 for c in piece if c > "\uffff")
        return 2 * (len(piece) + wide)

    def __call__(self, index: int) -> int:
        if self.direct:
            return self.first + index
        text = self.view.text
        if index >= self.index:
            self.offset += self._size(text[self.index : index])
        else:
            self.offset -= self._size(text[index : self.index])
        self.index = index
        return self.offset


def views(data: bytes, base: int = 0, *, always_utf16: bool = False) -> Iterator[TextView]:
    """The text views of the window ``data`` (see the module docstring)."""
    if data.isascii():
        yield TextView("utf-8", data.decode("ascii"), base, data, 0)
        if not (always_utf16 or b"\x00" in data):
            return
        if not data.strip(b"\x00"):  # only zeros (unused space): no text in any encoding
            return
    else:
        try:
            yield TextView("utf-8", data.decode("utf-8"), base, data, 0)
        except UnicodeDecodeError:
            yield TextView("utf-8", data.decode("utf-8", "surrogateescape"), base, data, 0)
            yield TextView("latin-1", data.decode("latin-1"), base, data, 0)
    if always_utf16 or _UTF16_ASCII.search(data):
        for start in (0, 1):
            stop = start + (len(data) - start) // 2 * 2
            for enc in ("utf-16le", "utf-16be"):
                yield TextView(enc, data[start:stop].decode(enc, "surrogatepass"), base, data, start)


def clean(text: str) -> str:
    """``text`` fit to store: lone surrogates (bytes that decoded to nothing) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
