"""Messages as threads, calls and contacts (read through :mod:`triage.views.conversations`).

The messages of every app come from the view in one order (exhibit, app, account, conversation,
then time) and are laid out on the pages of the ``threads`` section by one rule,
:func:`thread_pages`: a page holds at most :data:`~triage.report.sections.PAGE_ROWS` messages; a
conversation goes on where the previous one ended and continues on the next page when the page
is full (its header repeated, marked as continued). The ``conversations`` section lists the
conversations, each linked to the page and anchor where its thread starts; it finds them by
laying the pages out again with the same rule, so both always agree. Neither ever holds more
than one page of messages: the view sorts on disk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.hashsets.known import load_known
from triage.report.context import ReportContext
from triage.report.findings.common import (
    pages_of,
    provenance_of_view,
    text,
    time_of,
    wanted_exhibits,
)
from triage.report.findings.pictures import EvidenceFiles, is_picture
from triage.report.sections import PAGE_ROWS
from triage.views.conversations import CALL, CONTACT, MESSAGE, Schema, calls, contacts, messages

THREADS = "threads"
CONVERSATIONS = "conversations"


def page_href(section_id: str, page: int, anchor: str | None = None) -> str:
    """The link to page ``page`` (1-based) of a section in the HTML folder: ``<id>.html``,
    ``<id>-2.html``, ..., with ``#anchor``."""
    name = f"{section_id}.html" if page == 1 else f"{section_id}-{page}.html"
    return name + (f"#{anchor}" if anchor else "")


def only(known: Schema, ctx: ReportContext, kind: str) -> Schema:
    """``known`` keeping the record types of ``kind`` the report asks for (``--kind``)."""
    kinds = {t: k for t, k in known.kinds.items() if k == kind and ctx.wants(t)}
    return Schema(kinds, known.apps, known.classes)


def _key(m: Mapping[str, Any]) -> tuple[Any, ...]:
    return (m["exhibit"], m["app"], m["account"], m["conversation"])


def _who(raw: str | None, e164: str | None) -> dict[str, str | None] | None:
    if raw is None:
        return None
    return {"raw": raw, "e164": e164 if e164 and e164 != raw else None}


def _header(m: Mapping[str, Any], number: int) -> dict[str, Any]:
    anchor = f"conversation-{number}"
    return {
        "number": number,
        "anchor": anchor,
        # the index lists PAGE_ROWS conversations a page, in this order
        "index_href": page_href(CONVERSATIONS, (number - 1) // PAGE_ROWS + 1, f"index-{anchor}"),
        "exhibit": m["exhibit"],
        "app": m["app"],
        "account": _who(m["account"], m["account_e164"]),
        "conversation": m["conversation"],
        "title": m["conversation_title"],
        "party": _who(m["party"], m["party_e164"]),
    }


def _status(known: Schema, m: Mapping[str, Any]) -> dict[str, str | None] | None:
    if m.get("status") is None:
        return None
    return {"raw": text(m["status"]), "label": known.label(m["record_type"], "status", m["status"])}


def _message(m: Mapping[str, Any], n: int, known: Schema, files: EvidenceFiles | None) -> dict[str, Any]:
    attachments = []
    for a in m["attachments"]:
        if not isinstance(a, Mapping):
            continue
        shown: dict[str, Any] = {
            "name": text(a.get("name")),
            "mime": text(a.get("mime")),
            "recorded_path": text(a.get("recorded_path")),
            "path": text(a.get("path")),
            "size": text(a.get("size")),
            "sha256": text(a.get("sha256")),
            "hashset": text(a.get("hashset")),
            "thumb": None,
            "thumb_note": None,
            "blurred": False,
        }
        path = a.get("path")
        if files is not None and isinstance(path, str):
            if shown["sha256"] is None:  # the app recorded none: the hash triage computed for the file
                shown["sha256"] = files.sha256(m["exhibit"], path)
            if is_picture(path, shown["mime"]):
                shown.update(files.picture(m["exhibit"], m["source"].get("partition"), path).as_dict())
        attachments.append(shown)
    return {
        "n": n,
        "anchor": f"message-{m['id']}",
        "time": time_of(m["time"]),
        "direction": m["direction"],
        "sender": _who(m["sender"], m["sender_e164"]),
        "sender_field": m["sender_field"],
        "recipients": [
            _who(r, e) for r, e in zip(m["recipients"], m["recipients_e164"], strict=True) if r is not None
        ],
        "body": m["body"],
        "attachments": attachments,
        "status": _status(known, m),
        "deleted": m["deleted"],
        "recovered": m["recovered"],
        "hashset": m.get("hashset"),
        "record_type": m["record_type"],
        "prov": provenance_of_view(m),
    }


def thread_pages(
    ctx: ReportContext, known: Schema, files: EvidenceFiles | None
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """The pages of the threads, in order: for each, its blocks (a conversation's header and its
    messages on this page) and the conversations that *start* on it (for the index).

    With ``files`` None no picture is read (the index only needs the layout).
    """
    blocks: list[dict[str, Any]] = []
    starting: list[dict[str, Any]] = []
    on_page = 0
    number = 0
    key: tuple[Any, ...] | None = None
    block: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    n = 0
    for m in messages(ctx.case, wanted_exhibits(ctx), known=known):
        if on_page >= PAGE_ROWS:
            yield blocks, starting
            blocks, starting, on_page = [], [], 0
            if block is not None and _key(m) == key:  # the conversation goes on over the page
                block = {"header": block["header"], "continued": True, "messages": []}
                blocks.append(block)
        if _key(m) != key or block is None:
            key, number, n = _key(m), number + 1, 0
            header = _header(m, number)
            block = {"header": header, "continued": False, "messages": []}
            blocks.append(block)
            summary = {**header, "messages": 0, "deleted": 0, "first": None, "last": None}
            starting.append(summary)
        n += 1
        on_page += 1
        shown = _message(m, n, known, files)
        block["messages"].append(shown)
        assert summary is not None
        summary["messages"] += 1
        summary["deleted"] += 1 if m["deleted"] else 0
        if shown["time"] and shown["time"]["shown"]:
            summary["first"] = summary["first"] or shown["time"]["shown"]
            summary["last"] = shown["time"]["shown"]
    if blocks:
        yield blocks, starting


def threads(ctx: ReportContext, known: Schema) -> Iterator[dict[str, Any]]:
    """The pages of the ``threads`` section."""
    with EvidenceFiles(ctx, load_known(ctx.case.engine, wanted_exhibits(ctx))) as files:
        for blocks, _starting in thread_pages(ctx, known, files):
            yield {"blocks": blocks}


def conversation_index(ctx: ReportContext, known: Schema) -> Iterator[dict[str, Any]]:
    """The pages of the ``conversations`` section: every conversation, linked to its thread.

    A conversation's counts are complete once the next conversation starts (the messages come
    grouped by conversation), so each is handed out then.
    """

    def rows() -> Iterator[dict[str, Any]]:
        pending: dict[str, Any] | None = None  # complete once the next conversation starts
        for page, (_blocks, starting) in enumerate(thread_pages(ctx, known, None), 1):
            for summary in starting:
                summary["href"] = page_href(THREADS, page, summary["anchor"])
                summary["page"] = page
                if pending is not None:
                    yield pending
                pending = summary
        if pending is not None:
            yield pending

    for page in pages_of(rows()):
        yield {"conversations": page, "threads_section": THREADS}


def call_pages(ctx: ReportContext, known: Schema) -> Iterator[dict[str, Any]]:
    def rows() -> Iterator[dict[str, Any]]:
        for v in calls(ctx.case, wanted_exhibits(ctx), known=known):
            yield {
                "exhibit": v["exhibit"],
                "app": v["app"],
                "time": time_of(v["time"]),
                "direction": v["direction"],
                "party": _who(v["party"], v["party_e164"]),
                "account": _who(v["account"], v["account_e164"]),
                "duration": text(v["duration"]),
                "video": v["video"],
                "status": _status(known, v),
                "deleted": v["deleted"],
                "recovered": v["recovered"],
                "prov": provenance_of_view(v),
            }

    for page in pages_of(rows()):
        yield {"calls": page}


def contact_pages(ctx: ReportContext, known: Schema) -> Iterator[dict[str, Any]]:
    def rows() -> Iterator[dict[str, Any]]:
        for v in contacts(ctx.case, wanted_exhibits(ctx), known=known):
            yield {
                "exhibit": v["exhibit"],
                "app": v["app"],
                "name": v["name"],
                "phones": [_who(p, e) for p, e in zip(v["phones"], v["phones_e164"], strict=True)],
                "emails": v["emails"],
                "account_ids": v["account_ids"],
                "account": _who(v["account"], v["account_e164"]),
                "deleted": v["deleted"],
                "recovered": v["recovered"],
                "prov": provenance_of_view(v),
            }

    for page in pages_of(rows()):
        yield {"contacts": page}


__all__ = [
    "CALL",
    "CONTACT",
    "CONVERSATIONS",
    "MESSAGE",
    "THREADS",
    "call_pages",
    "contact_pages",
    "conversation_index",
    "only",
    "page_href",
    "thread_pages",
    "threads",
]
