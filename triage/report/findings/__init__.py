"""The findings sections of a report (issue 10, section 2): :func:`finding_sections`.

In order, each only when the report's exhibits hold findings of it (and ``--kind`` asks for them):

- ``conversations``: every conversation of every app, linked to its thread; ``threads``: the
  messages as threads (sender, time in UTC beside the stored value, body, attachments with
  thumbnails, deleted and recovered messages flagged); ``calls``; ``contacts``
  (:mod:`.conversations`, read through :mod:`triage.views.conversations`);
- ``gallery``: photos and videos with their metadata, thumbnails and maps drawn offline
  (:mod:`.gallery`, :mod:`.geomap`, :mod:`.pictures`);
- ``web-history``, ``identifiers``, ``keyword-hits``, ``hash-hits``, ``other-records`` (every
  other record type, generically) and ``timeline`` (:mod:`.records`).

Every finding is shown with its provenance line (exhibit, path, partition, inode, stream,
SHA-256 of the file, locator: table + rowid or offset, plugin@version). Templates are under
``templates/findings/`` (their classes are styled by ``findings/findings.css``). Pages are made
as the database is read, at most :data:`~triage.report.sections.PAGE_ROWS` rows each.
"""

from __future__ import annotations

from functools import partial

from triage.report.context import ReportContext
from triage.report.findings.common import has_dated, type_counts
from triage.report.findings.conversations import (
    CALL,
    CONTACT,
    CONVERSATIONS,
    MESSAGE,
    THREADS,
    call_pages,
    contact_pages,
    conversation_index,
    only,
    threads,
)
from triage.report.findings.gallery import GALLERY, MEDIA_TYPES, gallery_pages
from triage.report.findings.records import (
    HASH_HIT,
    KEYWORD,
    hash_pages,
    identifier_pages,
    keyword_pages,
    other_pages,
    timeline_pages,
    web_pages,
)
from triage.report.sections import Section
from triage.views.conversations import schema

__all__ = ["CSS", "finding_sections"]

#: The style sheet of the findings sections, under ``templates/`` (the report's sheet includes it).
CSS = "findings/findings.css"


def finding_sections(ctx: ReportContext) -> list[Section]:
    """The findings sections of the report of ``ctx`` (see the module docstring)."""
    counts = type_counts(ctx)
    if not counts:
        return []
    known = schema()
    out: list[Section] = []
    taken: set[str] = set()

    def types_of(test: object) -> tuple[str, ...]:
        chosen = tuple(t for t in counts if t not in taken and test(t))  # type: ignore[operator]
        taken.update(chosen)
        return chosen

    def total(types: tuple[str, ...]) -> int:
        return sum(counts[t] for t in types)

    message_types = types_of(lambda t: known.kinds.get(t) == MESSAGE)
    call_types = types_of(lambda t: known.kinds.get(t) == CALL)
    contact_types = types_of(lambda t: known.kinds.get(t) == CONTACT)
    media_types = types_of(lambda t: t in MEDIA_TYPES)
    web_types = types_of(lambda t: t.startswith("browser/"))
    identifier_types = types_of(lambda t: t.startswith("indicator/"))
    keyword_types = types_of(lambda t: t == KEYWORD)
    hash_types = types_of(lambda t: t == HASH_HIT)
    other_types = types_of(lambda t: True)

    if message_types:
        messages = only(known, ctx, MESSAGE)
        n = total(message_types)
        out.append(
            Section(
                CONVERSATIONS,
                "Conversations",
                "findings/conversations.html.j2",
                partial(conversation_index, ctx, messages),
                {"messages": n},
            )
        )
        out.append(
            Section(
                THREADS,
                "Messages",
                "findings/threads.html.j2",
                partial(threads, ctx, messages),
                {"messages": n},
            )
        )
    if call_types:
        out.append(
            Section(
                "calls",
                "Calls",
                "findings/calls.html.j2",
                partial(call_pages, ctx, only(known, ctx, CALL)),
                {"calls": total(call_types)},
            )
        )
    if contact_types:
        out.append(
            Section(
                "contacts",
                "Contacts",
                "findings/contacts.html.j2",
                partial(contact_pages, ctx, only(known, ctx, CONTACT)),
                {"contacts": total(contact_types)},
            )
        )
    if media_types:
        out.append(
            Section(
                GALLERY,
                "Photo gallery",
                "findings/gallery.html.j2",
                partial(gallery_pages, ctx, media_types),
                {"pictures": total(media_types)},
            )
        )
    if web_types:
        out.append(
            Section(
                "web-history",
                "Web history",
                "findings/web.html.j2",
                partial(web_pages, ctx, web_types),
                {"visits": total(web_types)},
            )
        )
    if identifier_types:
        out.append(
            Section(
                "identifiers",
                "Identifiers",
                "findings/identifiers.html.j2",
                partial(identifier_pages, ctx, identifier_types),
                {"identifiers": total(identifier_types)},
            )
        )
    if keyword_types:
        out.append(
            Section(
                "keyword-hits",
                "Keyword hits",
                "findings/keywords.html.j2",
                partial(keyword_pages, ctx),
                {"hits": total(keyword_types)},
            )
        )
    if hash_types:
        out.append(
            Section(
                "hash-hits",
                "Hash-set hits",
                "findings/hashes.html.j2",
                partial(hash_pages, ctx),
                {"hits": total(hash_types)},
            )
        )
    if other_types:
        out.append(
            Section(
                "other-records",
                "Other records",
                "findings/records.html.j2",
                partial(other_pages, ctx, other_types),
                {"records": total(other_types), "types": len(other_types)},
            )
        )
    if has_dated(ctx):
        out.append(
            Section(
                "timeline",
                "Timeline",
                "findings/timeline.html.j2",
                partial(timeline_pages, ctx),
            )
        )
    return out
