"""``exhibit hashset import|list|remove|match``: thin commands over triage.hashsets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
from custody.console import LiteralTable
from custody.safetext import escape

hashset_app = typer.Typer(
    help="Known-bad and known-good hash sets: import, list, remove, match.",
    epilog=example(
        "exhibit hashset import vics.json --name vic-export --kind known-bad",
        "exhibit hashset list",
        "exhibit hashset match EX-001",
    ),
    no_args_is_help=True,
)


def import_command(
    file: Annotated[
        Path, typer.Argument(help="The hash-set file (list, hashdeep, NSRL RDSv3 SQLite, VICS JSON).")
    ],
    name: Annotated[
        str, typer.Option("--name", help="A name for the set, unique in the case.", callback=utf8_text)
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="known-bad (flagged) or known-good (hidden from listings).")
    ],
    actor: ActorOpt,
    category: Annotated[
        str | None, typer.Option("--category", help="Category of every hash (VICS files carry their own).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="plain, hashdeep, nsrl, vics or pdq (default: detected; pdq is never guessed)."
        ),
    ] = None,
    max_garbage: Annotated[
        int | None,
        typer.Option("--max-garbage", min=0, help="Refuse the set when more lines than this are not hashes."),
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a hash set into the case and record it (with the file's SHA-256) in the ledger.

    Lines that are not hashes are counted and the first ones shown; they are never imported.
    """
    from custody.actors import signing_keys
    from triage.hashsets.store import import_set

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with opened(case) as c:
        keys = signing_keys(c, [actor], ask_passphrase)
        with progress:
            task = progress.add_task(escape(f"Importing {file.name}"), total=None)

            def advance(report: object) -> None:
                progress.update(
                    task,
                    description=escape(f"Importing {file.name}: {getattr(report, 'hashes', 0):,} hashes"),
                )

            done = import_set(
                c,
                file,
                name=name,
                kind=kind,
                actor=actor,
                category=category,
                fmt=fmt,
                keys=keys,
                progress=advance,
                max_garbage=max_garbage,
            )
    info = done.set
    if as_json:
        emit_json(done.as_dict())
    else:
        n = info.counts
        out.print(
            escape(
                f"Imported {name} ({info.kind}, {info.format}): {n.get('imported', 0)} hashes, "
                f"{n.get('duplicates', 0)} duplicates, {n.get('garbage', 0)} garbage lines; "
                f"sha256 {info.source_sha256}; ledger entry {done.seq}"
            )
        )
    overlap = int(info.counts.get("in_sets_of_the_other_kind", 0))
    if overlap:
        other = "known-good" if info.kind == "known-bad" else "known-bad"
        err.print(
            escape(
                f"warning: {overlap} of these hashes are also in a {other} set; a file with one of them "
                "is flagged known-bad (never hidden as known-good): 'exhibit hashset list' names the sets"
            )
        )
    garbage = int(info.counts.get("garbage", 0))
    if garbage:
        err.print(escape(f"warning: {file}: {garbage} lines are not hashes and were not imported"))
        for s in done.garbage[:10]:
            err.print(escape(f"  line {s['line']}: {s['problem']}: {s['text']!r}"))


def list_command(case: CaseOpt = None, as_json: JsonOpt = False) -> None:
    """List the hash sets of the case: name, kind, category, format, counts, source file's SHA-256."""
    from triage.hashsets.store import list_sets

    with opened(case) as c:
        found = list_sets(c.engine)
    if as_json:
        emit_json([s.as_dict() for s in found])
        return
    table = LiteralTable(
        "Name", "Kind", "Category", "Format", "Hashes", "Garbage", "Source SHA-256", "Status"
    )
    for s in found:
        table.add_row(
            s.name,
            s.kind,
            s.category or "",
            s.format,
            str(s.counts.get("imported", "")),
            str(s.counts.get("garbage", "")),
            s.source_sha256,
            s.status,
        )
    out.print(table)
    out.print(f"{len(found)} hash sets")


def remove_command(
    name: Annotated[str, typer.Argument(help="The set's name.", callback=utf8_text)],
    actor: ActorOpt,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, for the ledger.", callback=utf8_text)
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a hash set and record the removal in the ledger (earlier hits stay stored)."""
    from custody.actors import signing_keys
    from triage.hashsets.store import remove_set

    with opened(case) as c:
        keys = signing_keys(c, [actor], ask_passphrase)
        seq = remove_set(c, name, actor=actor, reason=reason, keys=keys)
    if as_json:
        emit_json({"removed": name, "ledger_seq": seq})
        return
    out.print(escape(f"Removed hash set {name}; ledger entry {seq}"))


def match_command(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number (triaged already).", callback=utf8_text)],
    actor: ActorOpt,
    distance: Annotated[
        int,
        typer.Option("--pdq-distance", min=0, max=256, help="PDQ: most bits that may differ (default 31)."),
    ] = 31,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Match an exhibit's stored file hashes and records against the hash sets, after triage.

    Nothing is read from the evidence. New hits are findings; the new digest is signed in the ledger.
    """
    from custody.actors import signing_keys
    from triage.engine.rematch import match_after

    with opened(case) as c:
        keys = signing_keys(c, [actor], ask_passphrase)
        done = match_after(c, exhibit, actor=actor, distance=distance, keys=keys)
    if as_json:
        emit_json(done.as_dict())
        return
    s = done.summary
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(s.by_kind.items())) or "none"
    recorded = f"; ledger entry {done.seq}" if done.seq is not None else "; nothing new to record"
    out.print(
        escape(
            f"Matched {exhibit}: {s.files} files, {s.records} recorded hashes, {s.pdq_records} PDQ hashes; "
            f"{s.hits} hits ({kinds}), {s.new} new{recorded}"
        )
    )
    for note in s.notes:
        err.print(escape(f"note: {note}"))


def register(app: typer.Typer) -> None:
    hashset_app.command(
        "import",
        epilog=example(
            "exhibit hashset import nsrl-modern.db --name nsrl-2026.03 --kind known-good",
            "exhibit hashset import vics.json --name vic-export --kind known-bad",
            "exhibit hashset import bad.md5 --name case-17 --kind known-bad --category 1",
            "exhibit hashset import pdq.txt --name pdq-list --kind known-bad --format pdq",
        ),
    )(import_command)
    hashset_app.command("list", epilog=example("exhibit hashset list", "exhibit hashset list --json"))(
        list_command
    )
    hashset_app.command(
        "remove", epilog=example("exhibit hashset remove case-17 --reason 'superseded by case-18'")
    )(remove_command)
    hashset_app.command(
        "match",
        epilog=example(
            "exhibit hashset match EX-001", "exhibit hashset match EX-001 --pdq-distance 20 --json"
        ),
    )(match_command)
    app.add_typer(hashset_app, name="hashset")
