"""The PDF report: the same templates laid out by WeasyPrint, in bounded memory.

WeasyPrint holds the layout of a whole document in memory, so a case of 100,000 messages is not
laid out at once: the section pages are laid out in chunks of about :data:`CHUNK_CHARS`
characters of HTML, each written to a temporary PDF, and the chunks are joined object by object
(:mod:`triage.report.pdfjoin`, which keeps no chunk in memory once written). The cover and
contents are laid out last, when every section's first page is known. The join puts "Page X of
Y" on every page and makes links between chunks land on their anchors; the running header with
the case number is part of each chunk's layout.

Reproducible: WeasyPrint's and the join's dates and the PDF identifier are fixed from the report's
date and options (nothing from the clock), so the same case state gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment
from weasyprint import CSS, HTML

from triage.report.media import BASE, LocalOnly
from triage.report.pdfjoin import Bookmark, join, link_target
from triage.report.render import fragment, pages, stylesheet, summary_text
from triage.report.sections import Section

CHUNK_CHARS = 200_000  # characters of HTML laid out at once, or one section page if larger
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


class _Layout:
    def __init__(
        self, env: Environment, report: Any, media_root: Path, identifier: bytes, work: Path
    ) -> None:
        self.env = env
        self.report = report
        self.fetcher = LocalOnly(media_root)
        self.base = BASE
        self.css = CSS(
            string=stylesheet(),
            url_fetcher=self.fetcher,
        )
        self.identifier = identifier
        self.work = work
        self.head, self.tail = _frame(env, report)
        self.targets: set[str] = set()  # every anchor a link points to, in any chunk

    def lay_out(self, html: str, path: Path, anchors: Sequence[str] = ()) -> tuple[int, dict[str, int]]:
        """Lay out one chunk into ``path``; its page count and the page of each anchor wanted."""
        document = HTML(
            string=self.head + html + self.tail, base_url=self.base, url_fetcher=self.fetcher
        ).render(stylesheets=[self.css])
        wanted = set(anchors)
        found: dict[str, int] = {}
        for index, page in enumerate(document.pages):
            for kind, target, _, _ in page.links:
                name = target if kind == "internal" else link_target(target) if kind == "external" else None
                if name is not None:
                    self.targets.add(name)
            for name in page.anchors:
                if name in wanted and name not in found:
                    found[name] = index
        count = len(document.pages)
        document.write_pdf(path, pdf_identifier=self.identifier)
        del document
        return count, found


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
    layout = _Layout(env, report, media_root, identifier, work)
    laid = Laid()
    buffer: list[str] = []
    chars = 0
    anchors: list[str] = []

    def flush() -> None:
        nonlocal chars
        if not buffer:
            return
        path = work / f"chunk-{len(laid.files):05d}.pdf"
        count, found = layout.lay_out("".join(buffer), path, anchors)
        for name, index in found.items():
            laid.starts.setdefault(name, laid.total + index)
        laid.files.append(path)
        laid.counts.append(count)
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
