"""The PDF report: the same templates laid out by WeasyPrint, in bounded memory.

WeasyPrint holds the layout of a whole document in memory, so a case of 100,000 messages is not
laid out at once: the section pages are laid out in chunks of about :data:`CHUNK_CHARS`
characters of HTML, each written to a temporary PDF, and the chunks are joined object by object
(:mod:`triage.report.pdfjoin`, which keeps no chunk in memory once written). The layout runs in
child processes, one per core up to :data:`MAX_PROCESSES`, each laying out whole chunks side by
side and replaced after every :data:`CHUNKS_PER_PROCESS` chunks, since WeasyPrint's caches grow
with every document a process lays out (:class:`_Processes`). The cover and
contents are laid out last, when every section's first page is known. The join puts "Page X of
Y" on every page and makes links between chunks land on their anchors; the running header with
the case number is part of each chunk's layout.

Reproducible: WeasyPrint's and the join's dates and the PDF identifier are fixed from the report's
date and options (nothing from the clock), so the same case state gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from jinja2 import Environment
from weasyprint import CSS, HTML

from triage.report.media import BASE, LocalOnly
from triage.report.model import ReportError
from triage.report.pdfjoin import Bookmark, join, link_target
from triage.report.render import fragment, pages, stylesheet, summary_text
from triage.report.sections import Section

CHUNK_CHARS = 200_000  # characters of HTML laid out at once, or one section page if larger
CHUNKS_PER_PROCESS = 20  # chunks a layout process lays out before a fresh one takes over
MAX_PROCESSES = 4  # layout processes at most (each holds up to about 350 MB at a thread page)
MARKER = "<!--exhibit:pages-->"


@dataclass
class Laid:
    """The chunks laid out so far: their files, page counts and where each section starts."""

    files: list[Path] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    starts: dict[str, int] = field(default_factory=dict)  # section id -> page index in the body

    @property
    def total(self) -> int:
        return sum(self.counts)


def _frame(env: Environment, report: Any) -> tuple[str, str]:
    text = env.get_template("pdf.html.j2").render(report=report)
    head, _, tail = text.partition(MARKER)
    return head, tail


def pdf_date(utc: str) -> str:
    """``2026-11-22T14:34:53.123456Z`` as a PDF date, ``D:20261122143453+00'00'``."""
    digits = "".join(ch for ch in utc[:19] if ch.isdigit())
    return f"D:{digits}+00'00'"


@dataclass(frozen=True)
class _Spec:
    """What a layout process needs, sent to it once when it starts."""

    head: str  # the frame's HTML before and after a chunk's sections
    tail: str
    css: str
    media_root: Path
    identifier: bytes


class _Layout:
    """Lays out chunks in the layout process (see :func:`_start`)."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.fetcher = LocalOnly(spec.media_root)
        self.css = CSS(string=spec.css, url_fetcher=self.fetcher)

    def lay_out(
        self, html: str, path: Path, anchors: Sequence[str] = ()
    ) -> tuple[int, dict[str, int], set[str]]:
        """Lay out one chunk into ``path``: its page count, the page of each anchor wanted, and
        the names its links point to."""
        document = HTML(
            string=self.spec.head + html + self.spec.tail, base_url=BASE, url_fetcher=self.fetcher
        ).render(stylesheets=[self.css])
        wanted = set(anchors)
        found: dict[str, int] = {}
        targets: set[str] = set()
        for index, page in enumerate(document.pages):
            for kind, target, _, _ in page.links:
                name = target if kind == "internal" else link_target(target) if kind == "external" else None
                if name is not None:
                    targets.add(name)
            for name in page.anchors:
                if name in wanted and name not in found:
                    found[name] = index
        count = len(document.pages)
        document.write_pdf(path, pdf_identifier=self.spec.identifier)
        del document
        return count, found, targets


_layout: _Layout | None = None  # the layout process's own


def _start(spec: _Spec) -> None:
    global _layout
    _layout = _Layout(spec)


def _lay_out(html: str, path: Path, anchors: Sequence[str]) -> tuple[int, dict[str, int], set[str], int]:
    assert _layout is not None, "a layout process starts with _start"
    return (*_layout.lay_out(html, path, anchors), os.getpid())


def layout_processes() -> int:
    """How many chunks are laid out at once: one per core this process may use, at most
    :data:`MAX_PROCESSES` (memory grows with each)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_PROCESSES, cores))


_Answer = tuple[int, dict[str, int], set[str], int]


@dataclass
class _Slot:
    """One layout process (a pool of one) and the chunks given to it."""

    pool: ProcessPoolExecutor
    given: int = 0
    waiting: list[Future[_Answer]] = field(default_factory=list)

    def busy(self) -> int:
        """Chunks given to it and not yet laid out."""
        self.waiting = [f for f in self.waiting if not f.done()]
        return len(self.waiting)


class _Processes:
    """Chunks laid out in child processes, side by side, each process replaced after
    :data:`CHUNKS_PER_PROCESS` chunks.

    WeasyPrint and the text libraries under it keep caches that grow a little with every document
    laid out in a process (about half a megabyte a chunk of thread pages, measured): over the
    thousands of chunks of a large case that is hundreds of megabytes. A process that lays out a
    bounded number of chunks and then ends keeps the report's memory bounded whatever the case's
    size. The chunks are independent documents, so several processes lay them out at once; the
    answers are taken in the order the chunks were given, and the chunks are the same bytes
    however many processes laid them out.

    Each process is a pool of one, replaced here once it has been given its share and has laid
    it out, so there are never more than ``processes`` of them. (A pool's own
    ``max_tasks_per_child`` is not used: CPython, 3.11 and later as of this writing, may not replace
    a worker that ended at its limit while work is queued, python/cpython#115634, and the report
    waited forever.)
    """

    def __init__(self, spec: _Spec, processes: int = 1) -> None:
        self.spec = spec
        self.slots: list[_Slot | None] = [None] * processes  # one per layout process at a time
        self.targets: set[str] = set()  # every anchor a link points to, in any chunk
        self.processes: set[int] = set()  # the layout processes' ids, so far

    @property
    def width(self) -> int:
        """How many chunks are laid out at once."""
        return len(self.slots)

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=get_context("spawn"),  # nothing of this process (database, threads) inherited
            initializer=_start,
            initargs=(self.spec,),
        )

    def _slot(self) -> _Slot:
        """The slot to give the next chunk to: the least busy whose process may take more, or one
        whose process has laid out its whole share (it ends; a fresh one takes its place). Waits
        while every process has been given its share and is still laying it out."""
        while True:
            order = sorted(range(self.width), key=lambda i: -1 if (s := self.slots[i]) is None else s.busy())
            for i in order:
                slot = self.slots[i]
                if slot is not None and slot.given < CHUNKS_PER_PROCESS:
                    return slot
                if slot is None or not slot.busy():
                    if slot is not None:
                        slot.pool.shutdown(wait=True)
                    fresh = self.slots[i] = _Slot(self._pool())
                    return fresh
            wait([f for s in self.slots if s is not None for f in s.waiting], return_when=FIRST_COMPLETED)

    def submit(self, html: str, path: Path, anchors: Sequence[str] = ()) -> Future[_Answer]:
        """Start laying out one chunk into ``path``; :meth:`answer` takes its result."""
        slot = self._slot()
        future = slot.pool.submit(_lay_out, html, path, list(anchors))
        slot.given += 1
        slot.waiting.append(future)
        return future

    def answer(self, future: Future[_Answer]) -> tuple[int, dict[str, int]]:
        """A chunk's page count and the page of each anchor wanted, once it is laid out."""
        try:
            count, found, targets, pid = future.result()
        except BrokenProcessPool as exc:
            raise ReportError(
                "the PDF layout process ended unexpectedly (out of memory?)",
                hint="look at the system log; 'exhibit report --format html' needs less memory",
            ) from exc
        self.targets |= targets
        self.processes.add(pid)
        return count, found

    def lay_out(self, html: str, path: Path, anchors: Sequence[str] = ()) -> tuple[int, dict[str, int]]:
        """Lay out one chunk into ``path`` and wait for it."""
        return self.answer(self.submit(html, path, anchors))

    def close(self) -> None:
        for slot in self.slots:
            if slot is not None:
                slot.pool.shutdown(wait=True, cancel_futures=True)


def write_pdf(
    target: Path,
    env: Environment,
    report: Any,
    front: Sequence[Section],
    body: Sequence[Section],
    media_root: Path,
    work: Path,
    title: Callable[[str], str],
    metadata: dict[str, str],
) -> int:
    """Lay out and join the report into ``target`` (a new file); returns the number of pages.

    ``title`` makes a section title safe for the PDF outline (the redaction); ``metadata`` is
    the document information (title, author, creator); dates come from ``report.date``.
    """
    identifier = hashlib.sha256(
        "\x00".join(
            [report.ledger_id, str(report.size), report.file_name, report.exhibit_list, report.kind_list]
        ).encode()
    ).digest()[:16]
    head, tail = _frame(env, report)
    layout = _Processes(_Spec(head, tail, stylesheet(), media_root, identifier), layout_processes())
    try:
        return _write(target, env, report, front, body, work, title, metadata, identifier, layout)
    finally:
        layout.close()


def _write(
    target: Path,
    env: Environment,
    report: Any,
    front: Sequence[Section],
    body: Sequence[Section],
    work: Path,
    title: Callable[[str], str],
    metadata: dict[str, str],
    identifier: bytes,
    layout: _Processes,
) -> int:
    laid = Laid()
    buffer: list[str] = []
    chars = 0
    anchors: list[str] = []
    pending: deque[tuple[Path, Future[_Answer]]] = deque()  # chunks given out, in order

    def take() -> None:  # the oldest chunk given out: its pages follow those taken before
        path, future = pending.popleft()
        count, found = layout.answer(future)
        for name, index in found.items():
            laid.starts.setdefault(name, laid.total + index)
        laid.files.append(path)
        laid.counts.append(count)

    def flush() -> None:
        nonlocal chars
        if not buffer:
            return
        path = work / f"chunk-{len(laid.files) + len(pending):05d}.pdf"
        pending.append((path, layout.submit("".join(buffer), path, anchors)))
        while len(pending) > 2 * layout.width:  # a few chunks' HTML waiting, no more
            take()
        buffer.clear()
        anchors.clear()
        chars = 0

    for section in body:
        anchors.append(section.id)
        for page in pages(section):
            html = "".join(fragment(env, page, report))
            if buffer and chars + len(html) > CHUNK_CHARS:  # a section page is never split
                flush()
                anchors.append(section.id)
            buffer.append(html)
            chars += len(html)
    flush()
    while pending:
        take()

    front_path = work / "front.pdf"
    front_pages = 2
    for _ in range(5):  # the contents' own length moves the page numbers it prints
        toc = [
            {
                "id": s.id,
                "title": s.title,
                "href": f"{s.id}.html",  # a link to another chunk: made a destination by the join
                "pdf_page": front_pages + laid.starts[s.id] + 1 if s.id in laid.starts else None,
                "summary": summary_text(s),
                "group": s.group,
            }
            for s in body
        ]
        html = "".join("".join(fragment(env, p, report, toc=toc)) for s in front for p in pages(s))
        count, _ = layout.lay_out(html, front_path)
        if count == front_pages:
            break
        front_pages = count

    total = front_pages + laid.total
    bookmarks = [
        Bookmark(title(s.title), front_pages + laid.starts[s.id]) for s in body if s.id in laid.starts
    ]
    date = pdf_date(report.date.utc)
    info = {
        "Title": metadata.get("title", ""),
        "Author": metadata.get("author", ""),
        "Creator": metadata.get("creator", ""),
        "Producer": metadata.get("creator", ""),
        "CreationDate": date,
        "ModDate": date,
    }
    with target.open("xb") as handle:
        return join(handle, [front_path, *laid.files], total, layout.targets, bookmarks, info, identifier)
