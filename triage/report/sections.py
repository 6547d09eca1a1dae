"""The contract between the code that gathers a report's data and the templates that show it.

A report is a list of :class:`Section` objects. Each names a template under ``templates/`` and
produces its pages lazily: the HTML report writes one file per page (``<id>.html``,
``<id>-2.html``, ...), the PDF lays the pages out one after the other. A page is the mapping the
template is rendered with; a builder yields pages as it reads the database, so that no section
ever holds a whole case in memory (a thread of 100,000 messages is many pages of a few hundred).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")

#: How many messages, pictures or rows a page holds (a rendering bound, not a limit on the data).
PAGE_ROWS = 500


@dataclass(frozen=True)
class Section:
    """One part of a report.

    ``id`` is the anchor and file stem (``[a-z0-9-]``), ``title`` the heading and contents entry,
    ``template`` the template's name under ``templates/`` (rendered once per page with the page's
    mapping plus ``section``, ``page_number`` and ``page_count`` when known), and ``pages`` a
    callable returning a fresh iterator of page mappings (called once per rendering). ``summary``
    holds what the contents page shows about the section (e.g. ``{"messages": 1234}``, shown as
    "messages 1234"; a ``"text"`` member is shown instead, as written) and, as ``"pages"``, the
    number of pages when it is known beforehand (then passed to the template as ``page_count``).
    Templates are also given ``report`` (triage/report/parts.py, ``ReportView``: case number,
    title, format, ...).
    """

    id: str
    title: str
    template: str
    pages: Callable[[], Iterator[Mapping[str, Any]]]
    summary: Mapping[str, Any] = field(default_factory=dict)
    group: str = "findings"

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"section id {self.id!r} is not [a-z0-9-]")
