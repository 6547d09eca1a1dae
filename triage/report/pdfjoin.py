"""Joining the PDF report's laid-out chunks into one file, object by object, in bounded memory.

Each chunk (a PDF that WeasyPrint wrote) is read with pypdf and its pages are copied with every
object they reach, renumbered, straight to the output file: nothing of a chunk is kept once it is
written except the byte offset of each object (for the cross-reference table), the number of each
page object (for the page tree and the outline) and the named destinations that some link points
to. While copying, every page gets "Page X of Y" at its foot (Helvetica, one of the 14 standard
PDF fonts, so nothing is embedded), and links are made to land in the joined document:

* a link inside one chunk is a named destination already (``/Dest (name)``);
* a link to another section page (``threads-2.html#conversation-5`` in the templates, which
  WeasyPrint resolves against :data:`~triage.report.media.BASE` into a ``file:`` URI because the
  target is in another chunk) becomes the named destination of its fragment, or of the page's
  own anchor (``threads-p2``) when it has no fragment.

The named destinations of the whole document are one name tree written at the end, holding only
the names that links use (every message has an anchor; only the links' targets are kept).

The output depends only on the chunks and the arguments: same chunks, same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    create_string_object,
)

from triage.report.media import BASE
from triage.report.model import ReportError

FONT = NameObject("/ExhibitPageFont")
_PAGE_FILE = re.compile(r"(?P<id>.+?)(?:-(?P<page>[0-9]+))?\.html")
FOOT_SIZE = 8.0
FOOT_RISE = 28.0  # points above the bottom of the page


class JoinError(ReportError):
    """A chunk could not be joined (not a PDF WeasyPrint wrote)."""


def link_target(uri: str) -> str | None:
    """The anchor a link of the report means, or None for a link that leaves the report.

    ``file:///exhibit-report/threads-2.html#conversation-5`` -> ``conversation-5``;
    ``file:///exhibit-report/threads-2.html`` -> ``threads-p2`` (the id of that section page);
    ``file:///exhibit-report/threads.html`` -> ``threads``; a bare ``#name`` -> ``name``.
    """
    if uri.startswith("#"):
        return unquote(uri[1:]) or None
    if not uri.startswith(BASE):
        return None
    parts = urlsplit(uri)
    if parts.fragment:
        return unquote(parts.fragment)
    name = unquote(parts.path[len(urlsplit(BASE).path) :])
    match = _PAGE_FILE.fullmatch(name)
    if match is None:
        return None
    page = match.group("page")
    return match.group("id") if page is None or page == "1" else f"{match.group('id')}-p{page}"


@dataclass
class Bookmark:
    title: str
    page: int  # 0-based index in the joined document


@dataclass
class _State:
    offsets: list[int] = field(default_factory=lambda: [0])  # index = object number; 0 is free
    pages: list[int] = field(default_factory=list)  # object number of each page, in order
    dests: dict[str, tuple[int, Any, Any]] = field(default_factory=dict)  # name -> page obj, x, y


class _Writer:
    PAGES = 1  # the page tree's object number, known before any page is written
    FONT_OBJ = 2
    OPEN = 3  # "q", shared by every page

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.state = _State()
        self.out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        for _ in range(3):
            self.reserve()

    def reserve(self) -> int:
        self.state.offsets.append(-1)
        return len(self.state.offsets) - 1

    def put(self, number: int, obj: PdfObject) -> None:
        self.state.offsets[number] = self.out.tell()
        self.out.write(b"%d 0 obj\n" % number)
        if isinstance(obj, StreamObject):
            data = obj._data
            if isinstance(data, str):
                data = data.encode("latin-1")
            head = DictionaryObject({k: v for k, v in obj.items() if k != "/Length"})
            head[NameObject("/Length")] = NumberObject(len(data))
            head.write_to_stream(self.out)
            self.out.write(b"\nstream\n")
            self.out.write(data)
            self.out.write(b"\nendstream")
        else:
            obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def add(self, obj: PdfObject) -> int:
        number = self.reserve()
        self.put(number, obj)
        return number


def _ref(number: int) -> IndirectObject:
    return IndirectObject(number, 0, None)


def _stream(data: bytes, extra: dict[str, PdfObject] | None = None) -> StreamObject:
    stream = StreamObject()
    stream._data = data
    for key, value in (extra or {}).items():
        stream[NameObject(key)] = value
    return stream


def _foot(text: str, box: Any) -> bytes:
    width = float(box.width)
    x = float(box.left) + (width - 0.5 * FOOT_SIZE * len(text)) / 2
    y = float(box.bottom) + FOOT_RISE
    line = text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"Q\nq BT /ExhibitPageFont %.1f Tf 0.35 0.35 0.35 rg %.2f %.2f Td (%s) Tj ET Q\n" % (
        FOOT_SIZE,
        x,
        y,
        line,
    )


class _Chunk:
    """The copy of one chunk: its objects renumbered, each written once."""

    def __init__(self, writer: _Writer, targets: frozenset[str]) -> None:
        self.writer = writer
        self.targets = targets
        self.numbers: dict[int, int] = {}  # the chunk's object number -> the joined one
        self.queue: list[tuple[int, PdfObject]] = []
        self.resources: dict[int, int] = {}  # a chunk's /Resources object -> its copy with the font

    def ref(self, source: IndirectObject) -> IndirectObject:
        number = self.numbers.get(source.idnum)
        if number is None:
            number = self.writer.reserve()
            self.numbers[source.idnum] = number
            self.queue.append((number, source))
        return _ref(number)

    def copy(self, obj: Any) -> Any:
        if isinstance(obj, IndirectObject):
            return self.ref(obj)
        if isinstance(obj, StreamObject):
            stream = _stream(obj._data)
            for key, value in obj.items():
                if key != "/Length":
                    stream[NameObject(key)] = self.copy(value)
            return stream
        if isinstance(obj, DictionaryObject):
            if obj.get("/Subtype") == "/Link":
                return self.link(obj)
            return DictionaryObject({NameObject(k): self.copy(v) for k, v in obj.items()})
        if isinstance(obj, ArrayObject):
            return ArrayObject([self.copy(v) for v in obj])
        return obj

    def link(self, annotation: DictionaryObject) -> DictionaryObject:
        copied = DictionaryObject(
            {NameObject(k): self.copy(v) for k, v in annotation.items() if k not in ("/A", "/Dest")}
        )
        action = annotation.get("/A")
        action = action.get_object() if action is not None else None
        name: str | None = None
        if "/Dest" in annotation:
            dest = annotation["/Dest"]
            name = str(dest) if isinstance(dest, str) else None
            if name is None:  # an explicit destination: copied as it is
                copied[NameObject("/Dest")] = self.copy(dest)
        elif isinstance(action, DictionaryObject) and action.get("/S") == "/URI":
            uri = str(action.get("/URI", ""))
            name = link_target(uri)
            if name is None:  # a link out of the report (none today): kept
                copied[NameObject("/A")] = self.copy(action)
        elif action is not None:
            copied[NameObject("/A")] = self.copy(action)
        if name is not None:
            copied[NameObject("/Dest")] = create_string_object(name)
        return copied

    def register(self, pages: Iterable[Any]) -> None:
        """Number every page first: a page is written by :meth:`page`, never through the queue."""
        for page in pages:
            self.numbers[page.indirect_reference.idnum] = self.writer.reserve()

    def drain(self) -> None:
        while self.queue:
            number, source = self.queue.pop()
            self.writer.put(number, self.copy(source.get_object()))

    def page(self, page: Any, label: str) -> int:
        number = self.numbers[page.indirect_reference.idnum]
        copied = DictionaryObject()
        for key, value in page.items():
            if key in ("/Parent", "/Contents", "/Resources"):
                continue
            copied[NameObject(key)] = self.copy(value)
        copied[NameObject("/Parent")] = _ref(_Writer.PAGES)
        copied[NameObject("/Resources")] = self.page_resources(page.get("/Resources"))
        contents = page.get("/Contents")
        parts: list[Any] = []
        if contents is not None:
            resolved = contents.get_object()
            parts = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
        foot = self.writer.add(_stream(_foot(label, page.mediabox)))
        copied[NameObject("/Contents")] = ArrayObject(
            [_ref(_Writer.OPEN), *(self.copy(p) for p in parts), _ref(foot)]
        )
        self.writer.put(number, copied)
        return number

    def page_resources(self, resources: Any) -> Any:
        key = resources.idnum if isinstance(resources, IndirectObject) else None
        if key is not None and key in self.resources:
            return _ref(self.resources[key])
        resolved = resources.get_object() if resources is not None else DictionaryObject()
        copied = DictionaryObject({NameObject(k): self.copy(v) for k, v in resolved.items() if k != "/Font"})
        fonts = resolved.get("/Font")
        fonts = fonts.get_object() if fonts is not None else DictionaryObject()
        font_copy = DictionaryObject({NameObject(k): self.copy(v) for k, v in fonts.items()})
        font_copy[FONT] = _ref(_Writer.FONT_OBJ)
        copied[NameObject("/Font")] = font_copy
        if key is None:
            return copied
        number = self.writer.add(copied)
        self.resources[key] = number
        return _ref(number)

    def destinations(self, reader: PdfReader) -> Iterable[tuple[str, tuple[int, Any, Any]]]:
        """The chunk's named destinations that a link wants, with their joined page object."""
        root: Any = reader.trailer["/Root"].get_object()
        names = root.get("/Names")
        tree = names.get_object().get("/Dests") if names is not None else None
        stack = [tree.get_object()] if tree is not None else []
        while stack:
            node = stack.pop()
            for kid in reversed(_resolved(node.get("/Kids"))):
                stack.append(kid.get_object())
            pairs = _resolved(node.get("/Names"))
            for i in range(0, len(pairs) - 1, 2):
                name = str(pairs[i])
                if name not in self.targets:
                    continue
                dest = pairs[i + 1].get_object()
                if isinstance(dest, DictionaryObject):
                    dest = dest["/D"]
                page = dest[0]
                number = self.numbers.get(page.idnum) if isinstance(page, IndirectObject) else None
                if number is None:
                    continue
                yield name, (number, dest[2], dest[3])


def _resolved(value: Any) -> Any:
    return value.get_object() if value is not None else ArrayObject()


def join(
    out: BinaryIO,
    chunks: Sequence[Path],
    total: int,
    targets: Iterable[str],
    bookmarks: Sequence[Bookmark],
    info: dict[str, str],
    identifier: bytes,
) -> int:
    """Write the chunks' pages, in order, as one PDF to ``out``; returns the number of pages.

    ``total`` is the page count the foot prints ("Page X of ``total``"); ``targets`` the names
    that links point to; ``bookmarks`` the outline; ``info`` the document information (keys
    without the slash); ``identifier`` the 16 bytes of both halves of /ID.
    """
    writer = _Writer(out)
    wanted = frozenset(targets)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    writer.put(_Writer.FONT_OBJ, font)
    writer.put(_Writer.OPEN, _stream(b"q\n"))
    state = writer.state
    for path in chunks:
        try:
            reader = PdfReader(path)
            chunk = _Chunk(writer, wanted)
            chunk.register(reader.pages)
            for page in reader.pages:
                state.pages.append(chunk.page(page, f"Page {len(state.pages) + 1} of {total}"))
                chunk.drain()
            for name, where in chunk.destinations(reader):
                state.dests.setdefault(name, where)
        except (OSError, ValueError, KeyError, PyPdfError) as error:
            raise JoinError(f"cannot join {path.name}: {error}") from error
        del reader, chunk
    writer.put(
        _Writer.PAGES,
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): ArrayObject([_ref(n) for n in state.pages]),
                NameObject("/Count"): NumberObject(len(state.pages)),
            }
        ),
    )
    catalog = DictionaryObject(
        {NameObject("/Type"): NameObject("/Catalog"), NameObject("/Pages"): _ref(_Writer.PAGES)}
    )
    outline = _outline(writer, bookmarks)
    if outline is not None:
        catalog[NameObject("/Outlines")] = _ref(outline)
    if state.dests:
        pairs = ArrayObject()
        for name in sorted(state.dests, key=lambda n: n.encode("utf-8")):
            number, x, y = state.dests[name]
            pairs.append(create_string_object(name))
            pairs.append(ArrayObject([_ref(number), NameObject("/XYZ"), x, y, NumberObject(0)]))
        tree = writer.add(DictionaryObject({NameObject("/Names"): pairs}))
        catalog[NameObject("/Names")] = DictionaryObject({NameObject("/Dests"): _ref(tree)})
    root = writer.add(catalog)
    information = writer.add(
        DictionaryObject({NameObject(f"/{k}"): create_string_object(v) for k, v in info.items()})
    )
    _trailer(writer, root, information, identifier)
    return len(state.pages)


def _outline(writer: _Writer, bookmarks: Sequence[Bookmark]) -> int | None:
    if not bookmarks:
        return None
    top = writer.reserve()
    numbers = [writer.reserve() for _ in bookmarks]
    for i, (mark, number) in enumerate(zip(bookmarks, numbers, strict=True)):
        item = DictionaryObject(
            {
                NameObject("/Title"): create_string_object(mark.title),
                NameObject("/Parent"): _ref(top),
                NameObject("/Dest"): ArrayObject([_ref(writer.state.pages[mark.page]), NameObject("/Fit")]),
            }
        )
        if i > 0:
            item[NameObject("/Prev")] = _ref(numbers[i - 1])
        if i + 1 < len(numbers):
            item[NameObject("/Next")] = _ref(numbers[i + 1])
        writer.put(number, item)
    writer.put(
        top,
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Outlines"),
                NameObject("/First"): _ref(numbers[0]),
                NameObject("/Last"): _ref(numbers[-1]),
                NameObject("/Count"): NumberObject(len(numbers)),
            }
        ),
    )
    return top


def _trailer(writer: _Writer, root: int, information: int, identifier: bytes) -> None:
    out = writer.out
    offsets = writer.state.offsets
    if any(o < 0 for o in offsets[1:]):
        raise JoinError("an object was reserved and never written")
    start = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(offsets))
    for offset in offsets[1:]:
        out.write(b"%010d 00000 n \n" % offset)
    ident = identifier.hex().encode()
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(offsets), root, information, ident, ident, start)
    )
