"""The HTML report: one folder that opens offline in any browser.

``index.html`` (cover and contents), one file per section page (``custody.html``,
``custody-2.html``, ...), ``style.css`` and ``media/``. Pages link to each other and to the
style sheet only by relative names; nothing refers to anything outside the folder (no script,
no font, no URL; a Content-Security-Policy forbids fetching anything but the folder's own
pictures and style). Every page is streamed to its file as the template produces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment

from triage.report.render import Page, pages, stylesheet, summary_text, variables
from triage.report.sections import Section

STYLE = "style.css"


def file_name(section: Section, number: int) -> str:
    return f"{section.id}.html" if number == 1 else f"{section.id}-{number}.html"


def _write(path: Path, env: Environment, values: dict[str, Any]) -> None:
    with path.open("x", encoding="utf-8", newline="\n") as handle:
        for chunk in env.get_template("frame.html.j2").generate(**values):
            handle.write(chunk)


def write_html(
    folder: Path, env: Environment, report: Any, front: Sequence[Section], body: Sequence[Section]
) -> None:
    """Write the report's files into ``folder`` (which exists, holding ``media/`` at most)."""
    nav = [{"id": s.id, "title": s.title, "href": file_name(s, 1)} for s in body]
    counts: dict[str, int] = {}
    previous = "index.html"
    for i, section in enumerate(body):
        following_section = file_name(body[i + 1], 1) if i + 1 < len(body) else None
        iterator = pages(section)
        current: Page | None = next(iterator)
        while current is not None:
            upcoming = next(iterator, None)
            name = file_name(section, current.number)
            following = file_name(section, upcoming.number) if upcoming is not None else following_section
            _write(
                folder / name,
                env,
                variables(current, report, nav=nav, previous=previous, following=following, contents=None),
            )
            counts[section.id] = current.number
            previous = name
            current = upcoming
    toc = [
        {
            "id": s.id,
            "title": s.title,
            "href": file_name(s, 1),
            "pages": counts.get(s.id),
            "summary": summary_text(s),
            "group": s.group,
        }
        for s in body
    ]
    cover, contents = front
    [cover_page] = list(pages(cover))
    [contents_page] = list(pages(contents))
    _write(
        folder / "index.html",
        env,
        variables(
            cover_page,
            report,
            nav=nav,
            previous=None,
            following=file_name(body[0], 1) if body else None,
            contents=contents_page.section,
            toc=toc,
        ),
    )
    (folder / STYLE).write_text(stylesheet(), encoding="utf-8")
