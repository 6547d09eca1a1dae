"""Rendering one section page with the report's frame, for both outputs.

Every page is the section's template included by ``section.html.j2`` (the heading), given the
page's mapping plus ``section``, ``page_number``, ``page_count`` (None when unknown) and
``report`` (:class:`triage.report.parts.ReportView`). A section that yields no page gets one that
says so, so that every section has a first page to link to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from importlib.resources import files
from typing import Any

from jinja2 import Environment

from triage.report.sections import Section

EMPTY_TEMPLATE = "placeholder.html.j2"
EMPTY_MESSAGE = "Nothing of this kind in the exhibits and record types chosen."


@dataclasses.dataclass(frozen=True)
class Page:
    section: Section
    number: int
    count: int | None
    mapping: Mapping[str, Any]


def page_count(section: Section) -> int | None:
    pages = section.summary.get("pages")
    return pages if isinstance(pages, int) and not isinstance(pages, bool) else None


def pages(section: Section) -> Iterator[Page]:
    """The pages of ``section`` in order (at least one)."""
    count = page_count(section)
    n = 0
    for mapping in section.pages():
        n += 1
        yield Page(section, n, count, mapping)
    if n == 0:
        empty = dataclasses.replace(section, template=EMPTY_TEMPLATE)
        yield Page(empty, 1, 1, {"message": EMPTY_MESSAGE})


def summary_text(section: Section) -> str:
    s = section.summary
    if isinstance(s.get("text"), str):
        return str(s["text"])
    return ", ".join(f"{k} {v}" for k, v in sorted(s.items()) if k != "pages")


def variables(page: Page, report: Any, **extra: Any) -> dict[str, Any]:
    return {
        **page.mapping,
        **extra,
        "section": page.section,
        "page_number": page.number,
        "page_count": page.count,
        "report": report,
    }


def fragment(env: Environment, page: Page, report: Any, **extra: Any) -> Iterator[str]:
    """The HTML of one section page (its ``<section>`` element), streamed."""
    return env.get_template("section.html.j2").generate(**variables(page, report, **extra))


#: The style sheets of a report, in order: the frame's, then the findings sections' (their classes
#: start with ``f-``). The HTML report writes them as one ``style.css``; the PDF lays out with it.
STYLESHEETS = ("style.css", "findings/findings.css")


def stylesheet() -> str:
    """The report's whole style sheet (every file of :data:`STYLESHEETS`, one after the other)."""
    templates = files("triage.report").joinpath("templates")
    parts = []
    for name in STYLESHEETS:
        node = templates
        for part in name.split("/"):
            node = node.joinpath(part)
        parts.append(f"/* {name} */\n" + node.read_text(encoding="utf-8"))
    return "\n".join(parts)
