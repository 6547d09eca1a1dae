"""``exhibit search``: keyword search of exhibits already triaged (entry point ``exhibit.cli``).

A thin layer over :func:`triage.engine.keywords.run_search` and :func:`hits_of`; ``exhibit triage
--keywords FILE`` (triage/cli.py) searches during the run itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from custody.cli import (
    ActorOpt,
    CaseOpt,
    JsonOpt,
    ask_passphrase,
    emit_json,
    err,
    example,
    opened,
    out,
    utf8_text,
)
from custody.console import LiteralTable, label_column
from custody.safetext import escape

__all__ = ["hits_of", "register", "search"]


def hits_of(
    engine: Any, exhibits: Sequence[str], terms: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """The stored keyword hits of ``exhibits`` (of ``terms`` as written, when given), as dicts."""
    from triage.views.findings import stream_findings

    wanted = set(terms) if terms is not None else None
    for f in stream_findings(engine, list(exhibits), record_types={"keyword/hit"}):
        if wanted is not None and f.data.get("term") not in wanted:
            continue
        yield f.as_dict()


def _where(hit: dict[str, Any]) -> str:
    d = hit["data"]
    area = d.get("area")
    if area == "image":
        return "(whole image)"
    if area == "record":
        return f"{hit['source']['path']} [{d.get('source_type')} {d.get('source_locator')}, {d.get('field')}]"
    if area == "document":
        return f"{hit['source']['path']} [text of {d.get('part')}]"
    return str(hit["source"]["path"])


def _offset(d: dict[str, Any]) -> str:
    if d.get("offset") is not None:
        return f"{d['offset']} ({d.get('encoding')})"
    return f"char {d.get('char_offset')}"


def search(
    exhibits: Annotated[list[str], typer.Argument(help="Exhibit numbers.", callback=utf8_text)],
    keywords: Annotated[
        Path,
        typer.Option("--keywords", help="Keyword file: one term a line, 're:' for a regular expression."),
    ],
    actor: ActorOpt,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: one per core).")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="An evidence option, e.g. backup.password=... (repeatable)."),
    ] = None,
    options_file: Annotated[
        list[Path] | None, typer.Option("--options-file", help="A TOML file of evidence options.")
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search exhibits already triaged for the terms of a keyword file: every file's bytes (deleted
    files too) in UTF-8, Latin-1 and UTF-16, the text of documents, the stored records' text and,
    for a disk image, every byte of the image. Hits are stored as findings of a run of their own,
    signed in the ledger, then listed.
    """
    from custody.actors import signing_keys
    from triage.engine.keywords import run_search
    from triage.keywords.terms import load_keywords

    spec = load_keywords(keywords)
    progress = Progress(
        label_column(),
        BarColumn(),
        TextColumn("{task.fields[files]} files"),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    summaries = []
    with opened(case) as c:
        signing_keys(c, [actor], ask_passphrase)
        for exhibit in exhibits:
            with progress:
                task = progress.add_task(escape(f"Search {exhibit}"), total=None, files="0")

                def on_total(files: int, size: int, task: Any = task) -> None:
                    progress.update(task, total=size, files=f"0/{files}")

                def advance(files: int, done: int, task: Any = task) -> None:
                    total = progress.tasks[-1].fields.get("files", "0").split("/")[-1]
                    progress.update(task, completed=done, files=f"{files}/{total}")

                summaries.append(
                    run_search(
                        c,
                        exhibit,
                        spec,
                        actor=actor,
                        workers=workers,
                        option_values=option or [],
                        option_files=options_file or [],
                        progress=advance,
                        on_total=on_total,
                    )
                )
        terms = [t.text for t in spec.terms]
        if as_json:
            emit_json(
                {"runs": [s.as_dict() for s in summaries], "hits": list(hits_of(c.engine, exhibits, terms))}
            )
            return
        table = LiteralTable("Exhibit", "Term", "Where", "Offset", "Context")
        count = 0
        for hit in hits_of(c.engine, exhibits, terms):
            d = hit["data"]
            table.add_row(hit["exhibit"], d["term"], _where(hit), _offset(d), d.get("context") or "")
            count += 1
    out.print(table)
    for s in summaries:
        n = s.counts
        out.print(
            f"Search of {s.exhibit} {s.status} (run {s.run_id}): {n.get('files', 0)} files read "
            f"({n.get('bytes', 0)} bytes), {n.get('findings', 0)} new hits, {n.get('warnings', 0)} warnings"
        )
        for w in s.warnings[:20]:
            where = f"{w['path']}: " if w.get("path") else ""
            err.print(f"warning: {w.get('plugin') or 'walk'}: {where}{w['message']}")
    out.print(f"{count} hits of {len(terms)} terms")


def register(app: typer.Typer) -> None:
    """Add ``search`` to the ``exhibit`` app (entry point ``exhibit.cli``)."""
    app.command(
        "search",
        epilog=example(
            "exhibit search EX-001 --keywords terms.txt --actor asmith",
            "exhibit search EX-001 EX-002 --keywords terms.txt --actor asmith --json",
        ),
    )(search)
