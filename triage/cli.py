"""Triage sub-commands of ``exhibit``: ls, cat, triage, findings, export, runs, plugins list.

Registered through the ``exhibit.cli`` entry point; each command is a thin layer over a library
call (triage.sources.walk, triage.engine.run, triage.views.findings, triage.views.export, triage.plugin.registry).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

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
from triage.views.listing import evidence_of, run_listing, stdout_bytes

plugins_app = typer.Typer(help="The artifact plugins.", no_args_is_help=True)

PartitionOpt = Annotated[
    int | None, typer.Option("--partition", help="Byte offset of the file system (see 'exhibit ls --json').")
]


def ls(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    path: Annotated[str | None, typer.Argument(help="Folder to list (default: the root).")] = None,
    recursive: Annotated[bool, typer.Option("-r", "--recursive", help="List sub-folders too.")] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Only deleted entries.")] = False,
    partition: PartitionOpt = None,
    mismatch: Annotated[
        bool,
        typer.Option(
            "--mismatch", help="Only files whose content contradicts their extension (after triage)."
        ),
    ] = False,
    case: CaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the entries of an exhibit like fls: deleted ones included and marked with '*'.

    After a triage run, --json also gives each file's sha256, MIME type and extension mismatch flag.
    """
    source_path, kind, known = evidence_of(case, exhibit, with_known=True)
    run_listing(
        source_path,
        kind,
        known,
        exhibit,
        path,
        recursive,
        deleted,
        partition,
        mismatch,
        as_json,
        write=sys.stdout.write,
        write_bytes=stdout_bytes,
        direct_stdout=True,
    )


def cat(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    path: Annotated[str | None, typer.Argument(help="Path of the file inside the evidence.")] = None,
    inode: Annotated[
        int | None, typer.Option("--inode", help="Meta address instead of a path (like icat).")
    ] = None,
    partition: PartitionOpt = None,
    case: CaseOpt = None,
) -> None:
    """Write a file's raw content to stdout, like icat."""
    from custody.errors import UserError
    from triage.sources.lookup import find_entry
    from triage.sources.open import open_source

    if (path is None) == (inode is None):
        raise UserError(
            "give a PATH or --inode N (one of them)", hint="exhibit cat EX-001 /Users/a/notes.txt"
        )
    source_path, kind, _ = evidence_of(case, exhibit, with_known=False)
    with open_source(source_path, kind) as source:
        entry = find_entry(source, path or "", partition, inode)
        if entry.type in ("dir", "virtual-dir"):
            err.print(
                f"warning: {entry.path} is a folder: writing its raw directory data, as icat does "
                f"(list it with 'exhibit ls {exhibit} {entry.path}')"
            )
        sink = sys.stdout.buffer
        for chunk in source.read(entry):
            sink.write(chunk)
        sink.flush()
        for w in source.warnings:
            err.print(f"warning: {w}")


def triage_command(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    actor: ActorOpt,
    plugins: Annotated[
        str | None, typer.Option("--plugins", help="Comma-separated plugin names (default: all).")
    ] = None,
    hashes: Annotated[
        str, typer.Option("--hash", help="Hashes per file: md5,sha1,sha256 (sha256 always).")
    ] = "sha256",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: one per core).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Re-process files an interrupted run already stored.")
    ] = False,
    scratch_limit: Annotated[
        str | None,
        typer.Option(
            "--scratch-limit",
            help="Scratch disk the run may use at once, e.g. 2G (default: $EXHIBIT_SCRATCH_LIMIT or 8G).",
        ),
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk every entry, hash every file, run the plugins, store findings with provenance.

    Files handed to plugins are recorded in the custody ledger as derived items (one batch per run).
    An interrupted run is resumed by running the same command again.
    """
    from custody.actors import signing_keys
    from triage.engine.run import TriageOptions, run_triage
    from triage.plugin.scratch import parse_size

    options = TriageOptions(
        plugins=[p.strip() for p in plugins.split(",") if p.strip()] if plugins else None,
        hashes=[h.strip() for h in hashes.split(",") if h.strip()],
        workers=workers,
        fresh=fresh,
        scratch_limit=None if scratch_limit is None else parse_size(scratch_limit),
    )
    progress = Progress(
        label_column(),
        BarColumn(),
        TextColumn("{task.fields[files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with opened(case) as c:
        signing_keys(c, [actor], ask_passphrase)
        with progress:
            task = progress.add_task(escape(f"Triage {exhibit}"), total=None, files="0")

            def on_total(files: int, size: int) -> None:
                progress.update(task, total=size, files=f"0/{files}")

            def advance(files: int, done: int) -> None:
                total = progress.tasks[0].fields.get("files", "0").split("/")[-1]
                progress.update(task, completed=done, files=f"{files}/{total}")

            summary = run_triage(
                c, exhibit, actor=actor, options=options, progress=advance, on_total=on_total
            )
    if as_json:
        emit_json(summary.as_dict())
        return
    n = summary.counts
    out.print(
        f"Triage of {exhibit} {summary.status} (run {summary.run_id}): {n.get('entries', 0)} entries, "
        f"{n.get('files', 0)} files hashed ({n.get('bytes', 0)} bytes), {n.get('skipped', 0)} already done, "
        f"{n.get('findings', 0)} new findings, {n.get('derived', 0)} derived items recorded, "
        f"{n.get('warnings', 0)} warnings"
    )
    for w in summary.warnings[:20]:
        where = f"{w['path']}: " if w.get("path") else ""  # a walk warning names its source itself
        err.print(f"warning: {w.get('plugin') or 'walk'}: {where}{w['message']}")
    if len(summary.warnings) > 20:
        err.print(
            f"... and {len(summary.warnings) - 20} more ('exhibit runs {exhibit} --json' lists them all)"
        )


def findings(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    kind: Annotated[
        str | None, typer.Option("--kind", help="Record type or namespace, e.g. chat or chat/android/sms.")
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List what the plugins found, with the provenance of each finding."""
    from custody.items import get_item
    from triage.views.findings import iter_findings, labels_for

    with opened(case) as c:
        get_item(c, exhibit)
        found = list(iter_findings(c.engine, exhibit, kind))
    if as_json:
        emit_json([f.as_dict() for f in found])
        return
    table = LiteralTable("ID", "Type", "Path", "Locator", "Summary")
    for f in found:
        labels = labels_for(f.record_type, f.data)
        summary = ", ".join(
            f"{k}={_short(v)}" + (f" ({labels[k]})" if k in labels else "")
            for k, v in f.data.items()
            if k not in ("record_type", "source", "locator") and v not in (None, "")
        )
        table.add_row(str(f.id), f.record_type, f.path, f.locator or "", summary)
    out.print(table)
    out.print(f"{len(found)} findings")


def _short(value: object) -> str:
    if isinstance(value, dict) and "utc" in value:
        return str(value.get("utc") or value.get("local") or value.get("raw"))
    return str(value)


def export(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    paths: Annotated[list[str], typer.Argument(help="Paths of files inside the evidence.")],
    to: Annotated[Path, typer.Option("--to", help="Folder to copy them into.")],
    actor: ActorOpt,
    partition: PartitionOpt = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy files out of the evidence, re-check their hashes and record the export in the ledger."""
    from triage.views.export import export_files

    with opened(case) as c:
        exported = export_files(c, exhibit, paths, to, actor=actor, partition=partition)
    if as_json:
        emit_json(exported)
        return
    for e in exported:
        out.print(f"{e['path']} -> {to / e['exported_as']}  sha256 {e['sha256']}")


def runs(
    exhibit: Annotated[str | None, typer.Argument(help="Only this exhibit.", callback=utf8_text)] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List triage runs with their versions, arguments, counts and status."""
    from triage.views.findings import list_runs

    with opened(case) as c:
        found = list_runs(c.engine, exhibit)
    if as_json:
        emit_json(found)
        return
    table = LiteralTable("Run", "Exhibit", "Status", "Started (UTC)", "Files", "Findings", "Warnings")
    for r in found:
        n = r["counts"]
        table.add_row(
            r["run"],
            r["exhibit"],
            r["status"],
            r["started_utc"],
            str(n.get("files", "")),
            str(n.get("findings", "")),
            str(n.get("warnings", "")),
        )
    out.print(table)


def plugins_list(as_json: JsonOpt = False) -> None:
    """List the available plugins: name, version, targets and record types."""
    from triage.plugin.registry import list_plugins, load_plugins

    infos = list_plugins()
    if as_json:
        emit_json([i.as_dict() for i in infos])
        return
    table = LiteralTable("Name", "Version", "Record types", "Targets", "Origin")
    for i in infos:
        targets = ", ".join(f"{k}: {v}" for k, v in i.targets.items() if v)
        record_types = "\n".join(escape(t) for t in i.record_types)  # one per line: our own newlines
        table.add_row(i.name, i.version, Text(record_types), targets[:80], i.origin)
    out.print(table)
    for w in load_plugins().warnings:
        err.print(f"warning: {w}")


def register(app: typer.Typer) -> None:
    """Add the triage commands to the ``exhibit`` app (entry point ``exhibit.cli``)."""
    app.command(
        "ls",
        epilog=example(
            "exhibit ls EX-001 -r",
            "exhibit ls EX-001 /Users --deleted --json",
            "exhibit ls EX-001 -r --mismatch",
        ),
    )(ls)
    app.command(
        "cat",
        epilog=example(
            "exhibit cat EX-001 /DCIM/IMG_0001.JPG > img.jpg",
            "exhibit cat EX-001 --inode 35 --partition 1048576",
        ),
    )(cat)
    app.command(
        "triage",
        epilog=example(
            "exhibit triage EX-001 --actor asmith",
            "exhibit triage EX-001 --plugins sms_android,photos_exif --hash md5,sha256",
        ),
    )(triage_command)
    app.command(
        "findings", epilog=example("exhibit findings EX-001 --kind chat", "exhibit findings EX-001 --json")
    )(findings)
    app.command(
        "export",
        epilog=example(
            "exhibit export EX-001 /DCIM/IMG_0001.JPG /data/mmssms.db --to ./exports --actor asmith"
        ),
    )(export)
    app.command("runs", epilog=example("exhibit runs EX-001", "exhibit runs --json"))(runs)
    plugins_app.command("list", epilog=example("exhibit plugins list", "exhibit plugins list --json"))(
        plugins_list
    )
    app.add_typer(plugins_app, name="plugins")
