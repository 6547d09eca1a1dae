"""Triage sub-commands of ``exhibit``: ls, cat, triage, findings, export, runs, plugins list, and the
views chats, calls, contacts, timeline and links.

Registered through the ``exhibit.cli`` entry point; each command is a thin layer over a library
call (triage.sources.walk, triage.engine.run, triage.views.findings, triage.views.export, triage.plugin.registry,
triage.views.conversations, triage.views.timeline, triage.views.links).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from custody.errors import UserError
from custody.safetext import escape
from triage.distributed.cli import BrokerOpt, JobFilesOpt, LocalOpt, QueueOpt
from triage.views.listing import evidence_of, is_member_path, member_listing, run_listing, stdout_bytes

if TYPE_CHECKING:
    from custody.case import Case
    from triage.distributed.chosen import ChosenRunner

plugins_app = typer.Typer(
    help="The artifact plugins.",
    epilog=example("exhibit plugins list", "exhibit plugins list --json"),
    no_args_is_help=True,
)

ShowKnownOpt = Annotated[
    bool,
    typer.Option("--show-known", help="Also list files in known-good hash sets (hidden by default)."),
]
PartitionOpt = Annotated[
    int | None, typer.Option("--partition", help="Byte offset of the file system (see 'exhibit ls --json').")
]
EvidenceOptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        help="What opening the evidence needs, NAME=VALUE (repeatable): backup.password=... for an "
        "encrypted iTunes backup.",
    ),
]
EvidenceOptionsFileOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--options-file",
        help="A TOML file with a [backup] table (password = ...): keeps the password out of shell history.",
    ),
]


def _evidence_options(option: list[str] | None, options_file: list[Path] | None) -> dict[str, object]:
    """The evidence's options (a backup's password), checked like triage's --option."""
    from triage.engine.options import evidence_options

    return evidence_options(option or [], options_file or [])


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
    option: EvidenceOptionOpt = None,
    options_file: EvidenceOptionsFileOpt = None,
    archives: Annotated[
        bool,
        typer.Option(
            "--archives",
            help="With -r: also list the members of zip and tar files in the evidence, as "
            "ARCHIVE!/MEMBER (list one archive with 'exhibit ls EX ARCHIVE!').",
        ),
    ] = False,
    show_known: ShowKnownOpt = False,
    case: CaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the entries of an exhibit like fls: deleted ones included and marked with '*'.

    After a triage run, --json also gives each file's sha256, MIME type and extension mismatch flag.
    Files in a known-good hash set are left out (--show-known lists them); known-bad ones are
    marked [known-bad] ("hashset": "known-bad" in --json).
    """
    options = _evidence_options(option, options_file)
    source_path, kind, known = evidence_of(case, exhibit, with_known=True)
    hashes = _hash_status(case, exhibit) if known else None
    if (is_member_path(path) or (archives and recursive)) and not deleted and not mismatch:
        member_listing(
            case, source_path, kind, known, path, recursive, partition, as_json, write=sys.stdout.write
        )
        return
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
        options=options,
        hashes=hashes,
        show_known=show_known,
    )


def _hash_status(case: Path | None, exhibit: str) -> Any:
    """The hash-set status of a triaged exhibit's files (None when no file matched a set)."""
    from triage.hashsets.known import load_known

    with opened(case) as c:
        found = load_known(c.engine, [exhibit])
    return found or None


def cat(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    path: Annotated[str | None, typer.Argument(help="Path of the file inside the evidence.")] = None,
    inode: Annotated[
        int | None, typer.Option("--inode", help="Meta address instead of a path (like icat).")
    ] = None,
    partition: PartitionOpt = None,
    option: EvidenceOptionOpt = None,
    options_file: EvidenceOptionsFileOpt = None,
    case: CaseOpt = None,
) -> None:
    """Write a file's raw content to stdout, like icat."""
    from triage.sources.carve import CARVED_DIR
    from triage.sources.lookup import find_entry
    from triage.sources.open import open_source

    if (path is None) == (inode is None):
        raise UserError(
            "give a PATH or --inode N (one of them)", hint="exhibit cat EX-001 /Users/a/notes.txt"
        )
    options = _evidence_options(option, options_file)
    source_path, kind, _ = evidence_of(case, exhibit, with_known=False)
    if path is not None and "!/" in path:  # a member of an archive in the evidence (nested.MARK)
        _cat_member(case, source_path, kind, path, partition, options)
        return
    if path is not None and path.startswith(f"{CARVED_DIR}/"):  # carved from free space by triage
        _cat_carved(case, exhibit, source_path, kind, path, partition, options)
        return
    with open_source(source_path, kind, options=options) as source:
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


def _cat_carved(
    case: Path | None,
    exhibit: str,
    source_path: Path | str,
    kind: str,
    path: str,
    partition: int | None,
    options: dict[str, object],
) -> None:
    """``exhibit cat`` of a file carved from free space: read from the image by its extents."""
    from triage.sources.open import open_source
    from triage.views.carved import carved_file

    with (
        opened(case) as c,
        c.engine.connect() as conn,
        open_source(source_path, kind, options=options) as top,
    ):
        source, entry = carved_file(conn, exhibit, top, path, partition)
        sink = sys.stdout.buffer
        for chunk in source.read(entry):
            sink.write(chunk)
        sink.flush()


def _cat_member(
    case: Path | None,
    source_path: str,
    kind: str,
    path: str,
    partition: int | None,
    options: dict[str, object],
) -> None:
    """``exhibit cat`` of ``/a/chat.zip!/msgstore.db``: the archives on the way are opened from
    the evidence, big ones spooled in the case's scratch folder (triage/sources/nested.py)."""
    from custody.case import open_case
    from triage.plugin.scratch import Scratch
    from triage.sources.nested import NestedSource
    from triage.sources.open import open_source

    c = open_case(case)
    try:
        scratch_parent = c.scratch_dir
    finally:
        c.close()
    scratch_parent.mkdir(parents=True, exist_ok=True)
    with open_source(source_path, kind, options=options) as top, Scratch(scratch_parent) as scratch:
        source = NestedSource(top, scratch=scratch)
        try:
            entry = source.locate(path, partition)
            sink = sys.stdout.buffer
            for chunk in source.read(entry):
                sink.write(chunk)
            sink.flush()
        finally:
            source.close_archives()
        # what is about this member or the archives on its way as a whole, not about their other
        # members (found in review: every cat of a member printed all of its archive's warnings):
        # an archive's own warnings name its path (or "/", its root), a member's its inner path
        parts = ("/" + path.strip("/")).split("!/")
        about = {"/", *("!/".join(parts[: i + 1]) for i in range(len(parts)))}
        about |= {"/" + part.strip("/") for part in parts[1:]}
        for w in source.warnings:
            if getattr(w, "path", "/") in about:
                err.print(f"warning: {w}")


def _names(given: str, option: str, example: str) -> list[str]:
    """The comma-separated names of ``option``; an empty one (``--plugins ''`` from an unset shell
    variable, ``md5,,sha1``) is refused rather than read as "all" or skipped."""
    names = [n.strip() for n in given.split(",")]
    if not all(names):
        raise UserError(
            f"{option} {given!r} holds an empty name",
            hint=f"give names separated by commas, e.g. {option} {example}",
        )
    return names


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
        int | None, typer.Option("--workers", min=1, help="Worker processes (default: one per core).")
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
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="A plugin's or the evidence's option, PLUGIN.NAME=VALUE (repeatable), "
            "e.g. backup.password=... for an encrypted iTunes backup.",
        ),
    ] = None,
    options_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--options-file",
            help="A TOML file of options, one [plugin] table each (keeps secrets out of shell history).",
        ),
    ] = None,
    archive_depth: Annotated[
        int | None,
        typer.Option(
            "--archive-depth",
            min=0,
            help="How deep zip and tar files inside the evidence are opened and walked "
            "(1: only those in the evidence itself; 0: none; default: 3).",
        ),
    ] = None,
    carve: Annotated[
        bool,
        typer.Option(
            "--carve/--no-carve",
            help="Carve JPEG, PNG, GIF and PDF files from the free space of disk images "
            "(default: on; 'exhibit carved EX' lists them).",
        ),
    ] = True,
    keywords: Annotated[
        Path | None,
        typer.Option(
            "--keywords",
            help="Keyword file (one term a line, 're:' for a regular expression): search every file, "
            "document text, record and, for a disk image, every byte (docs/examiner.md, Keywords).",
        ),
    ] = None,
    pdq_distance: Annotated[
        int,
        typer.Option(
            "--pdq-distance",
            min=0,
            max=256,
            help="Hash sets: a PDQ hash within this many differing bits of a known-bad one is a hit.",
        ),
    ] = 31,
    broker: BrokerOpt = None,
    local: LocalOpt = False,
    queue: QueueOpt = None,
    job_files: JobFilesOpt = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk every entry, hash every file, run the plugins, store findings with provenance.

    Files handed to plugins are recorded in the custody ledger as derived items (one batch per run).
    An interrupted run is resumed by running the same command again. Every file hashed is
    matched against the case's hash sets ('exhibit hashset import'). With --broker, or when the
    case has a broker ('exhibit broker set') and --local is not given, the files are read by
    'exhibit worker' processes on other machines (docs/lab.md).
    """
    from custody.actors import signing_keys
    from triage.distributed.setting import check_flags
    from triage.engine.run import TriageOptions, run_triage
    from triage.keywords.terms import load_keywords
    from triage.plugin.scratch import parse_size
    from triage.sources.nested import NestLimits

    check_flags(broker=broker, local=local, queue=queue, job_files=job_files)
    options = TriageOptions(
        plugins=None if plugins is None else _names(plugins, "--plugins", "sms_android,photos_exif"),
        hashes=_names(hashes, "--hash", "md5,sha1,sha256"),
        workers=workers,
        fresh=fresh,
        scratch_limit=None if scratch_limit is None else parse_size(scratch_limit),
        option_values=option or [],
        option_files=options_file or [],
        nested=None if archive_depth is None else NestLimits(depth=archive_depth),
        carve=carve,
        keywords=None if keywords is None else load_keywords(keywords),
        pdq_distance=pdq_distance,
    )
    progress = Progress(
        label_column(),
        BarColumn(),
        TextColumn("{task.fields[files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[workers]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with opened(case) as c:
        runner = _runner(c, broker, local, queue, job_files)
        options.runner = runner
        signing_keys(c, [actor], ask_passphrase)
        with progress:
            task = progress.add_task(escape(f"Triage {exhibit}"), total=None, files="0", workers="")

            def on_total(files: int, size: int) -> None:
                progress.update(task, total=size, files=f"0/{files}")

            def advance(files: int, done: int) -> None:
                total = progress.tasks[0].fields.get("files", "0").split("/")[-1]
                alive = "" if runner is None else f"{runner.alive} workers"
                progress.update(task, completed=done, files=f"{files}/{total}", workers=alive)

            carving: dict[int, Any] = {}

            def carve_progress(partition: int, done: int, size: int) -> None:
                if partition not in carving:
                    carving[partition] = progress.add_task(
                        escape(f"Carving free space @{partition}"), total=size, files="", workers=""
                    )
                progress.update(carving[partition], completed=done)

            options.carve_progress = carve_progress
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


def _runner(
    case: Case, broker: str | None, local: bool, queue: str | None, job_files: int | None
) -> ChosenRunner | None:
    """The workers' runner of ``exhibit triage``: --broker, else the case's broker unless --local
    (triage/distributed/setting.py), else None (local processes); says on stderr which."""
    from triage.distributed.setting import FROM_SETTING, choose, current

    chosen = choose(case.engine, broker=broker, local=local, queue=queue, job_files=job_files)
    if chosen is None:
        if local:
            setting = current(case.engine)
            if setting is not None:
                shown = setting.as_dict()["url"]
                err.print(escape(f"reading on this machine (--local; the case's broker {shown} is not used)"))
        return None
    from triage.distributed.chosen import ChosenRunner

    where = "from the case setting" if chosen.source == FROM_SETTING else "--broker"
    err.print(escape(f"reading on the workers at {chosen.shown} ({where})"))
    return ChosenRunner(chosen)


def findings(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    kind: Annotated[
        str | None, typer.Option("--kind", help="Record type or namespace, e.g. chat or chat/android/sms.")
    ] = None,
    show_known: ShowKnownOpt = False,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List what the plugins found, with the provenance of each finding.

    Findings of files in a known-good hash set are hidden (--show-known shows them); those of
    known-bad files are marked [known-bad] (in --json: "hashset": "known-bad").
    """
    from custody.items import get_item
    from triage.hashsets.known import load_known
    from triage.views.findings import check_kinds, iter_findings, labels_for, unfinished

    with opened(case) as c:
        get_item(c, exhibit)
        check_kinds(c.engine, [kind] if kind else None)
        known = load_known(c.engine, [exhibit])
        found = []
        hidden = 0
        for f in iter_findings(c.engine, exhibit, kind):
            status = (
                known.finding_status(
                    f.exhibit, f.record_type, f.partition, f.inode, f.path, f.locator, f.data
                )
                if known
                else None
            )
            if known.hides(status) and not show_known:
                hidden += 1
                continue
            found.append((f, status))
        unsigned = unfinished(c.engine, (f for f, _ in found))
    for run_id, (state, n) in sorted(unsigned.items()):  # a triage stopped part-way: partial, not signed
        err.print(
            escape(
                f"note: {n} of these findings come from run {run_id} ({state}), not signed yet: "
                f"'exhibit triage {exhibit}' completes the run and signs them"
            )
        )
    if as_json:
        emit_json([{**f.as_dict(), **({"hashset": status} if status else {})} for f, status in found])
        return
    table = LiteralTable("ID", "Type", "Path", "Locator", "Summary")
    for f, status in found:
        labels = labels_for(f.record_type, f.data)
        summary = ", ".join(
            f"{k}={_short(v)}" + (f" ({labels[k]})" if k in labels else "")
            for k, v in f.data.items()
            if k not in ("record_type", "source", "locator") and v not in (None, "")
        )
        mark = f"[{status}] " if status else ""
        table.add_row(str(f.id), f.record_type, f.path, f.locator or "", mark + summary)
    out.print(table)
    out.print(
        f"{len(found)} findings"
        + (f" ({hidden} more hidden as known-good: --show-known lists them)" if hidden else "")
    )


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
    option: EvidenceOptionOpt = None,
    options_file: EvidenceOptionsFileOpt = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy files out of the evidence, re-check their hashes and record the export in the ledger."""
    from triage.views.export import export_files

    options = _evidence_options(option, options_file)
    with opened(case) as c:
        exported = export_files(c, exhibit, paths, to, actor=actor, partition=partition, options=options)
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
    from custody.items import get_item
    from triage.views.findings import list_runs

    with opened(case) as c:
        if exhibit is not None:
            get_item(c, exhibit)  # an exhibit the case does not hold is named, not an empty list
        found = list_runs(c.engine, exhibit)
    if as_json:
        emit_json(found)
        return
    distributed = any(r["workers"] for r in found)
    columns = ["Run", "Exhibit", "Status", "Started (UTC)", "Files", "Findings", "Warnings"]
    table = LiteralTable(*columns, *(["Workers (jobs/files)"] if distributed else []))
    for r in found:
        n = r["counts"]
        row = [
            r["run"],
            r["exhibit"],
            r["status"],
            r["started_utc"],
            str(n.get("files", "")),
            str(n.get("findings", "")),
            str(n.get("warnings", "")),
        ]
        if distributed:  # which Celery worker read how much (a local run: "local")
            done = r["workers"]
            lines = "\n".join(escape(f"{w} {d['jobs']}/{d['files']}") for w, d in sorted(done.items()))
            row.append(Text(lines or "local"))  # one worker a line: our own newlines
        table.add_row(*row)
    out.print(table)


ExhibitsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Exhibit numbers (default: every exhibit of the case).", callback=utf8_text),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="Country whose phone numbers are written without a country code, as a two-letter "
        "code (US, GB, NL): used to give each number its E.164 form.",
    ),
]
LinesOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def _write_lines(lines: Iterable[str]) -> None:
    """Write lines to stdout; a reader that goes away (``| head``) ends the output quietly."""
    write = sys.stdout.write
    try:
        for line in lines:
            write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _who(raw: str | None, e164: str | None, missing: str) -> str:
    if raw is None:
        return missing
    return escape(raw) + (f" ({e164})" if e164 and e164 != raw else "")


def _when(view: dict[str, Any]) -> str:
    if view["timestamp"]:
        return escape(view["timestamp"])
    time = view["time"] or {}
    if time.get("local"):
        return escape(f"{time['local']} (local)")
    return escape(f"no time (raw {time.get('raw')!r})") if time else "no time"


_ARROWS = {"outgoing": "->", "incoming": "<-", None: "--"}


def _source_line(view: dict[str, Any]) -> str:
    """Where the following lines came from: exhibit, file (and stream), its SHA-256, plugin@version."""
    src = view["source"]
    where = src["path"] + (f":{src['stream']}" if src.get("stream") else "")
    digest = f" sha256 {src['sha256']}" if src.get("sha256") else ""
    line = escape(f"   source: {src['item']} {where}{digest} ({view['plugin']}@{view['plugin_version']})")
    return line + "".join("\n" + escape(f"   within: {text}") for text in _within(src))


def _within(src: dict[str, Any]) -> Iterator[str]:
    """The archives a source file was read from, innermost first: path (and partition), sha256."""
    parent = src.get("parent")
    while isinstance(parent, dict):
        at = f"partition {parent['partition']} " if parent.get("partition") is not None else ""
        yield f"{parent.get('item')} {at}{parent.get('path')} sha256 {parent.get('sha256')}"
        parent = parent.get("parent")


def _listing(
    found: Iterable[dict[str, Any]],
    group_of: Callable[[dict[str, Any]], tuple[Any, ...]],
    header: Callable[[dict[str, Any]], str],
    line: Callable[[dict[str, Any]], Iterator[str]],
) -> Iterator[str]:
    """Plain lines of a view: a header per group, a source line whenever the source file changes
    (so every line below it came from that file), then the lines of each record."""
    group: tuple[Any, ...] | None = None
    source = None
    for view in found:
        if group_of(view) != group:
            if group is not None:
                yield ""
            group, source = group_of(view), None
            yield header(view)
        if _source_line(view) != source:
            source = _source_line(view)
            yield source
        yield from line(view)
        if view.get("recovered"):
            where = view["locator"] or "an unknown place"
            yield escape(f"    deleted, recovered from the database's {view['recovered']} space: {where}")
        elif view["deleted"]:
            yield "    deleted: marked deleted by the app, its row still in the database"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _at(view: dict[str, Any]) -> str:
    return f"  [{escape(view['locator'])}]" if view["locator"] else ""


def _attachment(a: dict[str, Any]) -> str:
    parts = [str(a.get("name") or a.get("recorded_path") or a.get("path") or "(unnamed)")]
    if a.get("mime"):
        parts.append(f"[{a['mime']}]")
    if a.get("recorded_path"):
        parts.append(f"recorded as {a['recorded_path']}")
    if a.get("path"):
        parts.append(f"found at {a['path']}" + (f" sha256 {a['sha256']}" if a.get("sha256") else ""))
    else:
        parts.append("not found in the exhibit")
    if a.get("hashset"):
        parts.append(f"[{a['hashset']}]")
    return escape("    attachment: " + " ".join(parts))


def _chat_lines(found: Iterable[dict[str, Any]]) -> Iterator[str]:
    counts = {"messages": 0, "conversations": 0}

    def header(m: dict[str, Any]) -> str:
        counts["conversations"] += 1
        title = f' "{m["conversation_title"]}"' if m["conversation_title"] else ""
        account = f" (account {_who(m['account'], m['account_e164'], '')})" if m["account"] else ""
        conversation = m["conversation"] if m["conversation"] is not None else "(none)"
        return escape(f"== {m['exhibit']} | {m['app']} | conversation {conversation}{title}") + account

    def line(m: dict[str, Any]) -> Iterator[str]:
        counts["messages"] += 1
        sender = _who(
            m["sender"], m["sender_e164"], "(owner)" if m["direction"] == "outgoing" else "(unknown)"
        )
        where = m.get("location")
        body = (
            escape(m["body"])
            if m["body"] is not None
            else f"(location {where['latitude']}, {where['longitude']})"
            if where
            else "(no text)"
        )
        mark = f"[{m['hashset']}] " if m.get("hashset") else ""
        yield f"{_when(m):<27}  {_ARROWS[m['direction']]}  {mark}{sender}: {body}{_at(m)}"
        other = m.get("body_other")
        if other:  # the database holds a second, different text of this message
            yield escape(f"   the database's {other['field']} differs: {other['text']}")
        for a in m["attachments"]:
            yield _attachment(a)

    group = lambda m: (m["exhibit"], m["app"], m["account"], m["conversation"])  # noqa: E731
    yield from _listing(found, group, header, line)
    if counts["messages"]:
        yield ""
    yield f"{_n(counts['messages'], 'message')} in {_n(counts['conversations'], 'conversation')}"


def chats(
    exhibits: ExhibitsArg = None,
    conversation: Annotated[
        str | None, typer.Option("--conversation", help="Only this conversation id.", callback=utf8_text)
    ] = None,
    app: Annotated[
        str | None, typer.Option("--app", help="Only this app (sms, whatsapp ...).", callback=utf8_text)
    ] = None,
    region: RegionOpt = None,
    case: CaseOpt = None,
    as_json: LinesOpt = False,
) -> None:
    """Read the messages of every app as threads: one schema for SMS, WhatsApp and the rest.

    Each conversation gets a header (exhibit, app, conversation id and title), then its messages in
    time order (UTC), with direction (-> sent by the owner, <- received, -- unknown), sender and
    text, attachments, a note for deleted messages and where each one came from.
    """
    from triage.views.conversations import messages

    with opened(case) as c:
        found = messages(c, exhibits, conversation=conversation, app=app, region=region)
        _note_unsigned(c, exhibits)
        _write_lines(found.json_lines() if as_json else _chat_lines(found))


def _grouped(
    found: Iterable[dict[str, Any]], line: Callable[[dict[str, Any]], str], noun: str
) -> Iterator[str]:
    """Calls or contacts: a header per exhibit and app, one line each (see :func:`_listing`)."""
    count = 0

    def lines(view: dict[str, Any]) -> Iterator[str]:
        nonlocal count
        count += 1
        yield line(view) + _at(view)

    yield from _listing(
        found,
        lambda v: (v["exhibit"], v["app"]),
        lambda v: escape(f"== {v['exhibit']} | {v['app']}"),
        lines,
    )
    if count:
        yield ""
    yield _n(count, noun)


def _note_unsigned(c: Any, exhibits: Sequence[str] | None) -> None:
    """A note on stderr for each run that stored rows and did not complete: what a view lists
    then includes rows no signed digest covers yet (found in review: only ``exhibit findings``
    said so)."""
    from triage.views.findings import unsigned_runs

    for run_id, (exhibit, state, n) in sorted(unsigned_runs(c.engine, exhibits).items()):
        err.print(
            escape(
                f"note: {n} findings of run {run_id} of {exhibit} ({state}) are listed but not signed yet: "
                f"'exhibit triage {exhibit}' completes the run and signs them"
            )
        )


def calls(
    exhibits: ExhibitsArg = None,
    app: Annotated[str | None, typer.Option("--app", help="Only this app.", callback=utf8_text)] = None,
    region: RegionOpt = None,
    case: CaseOpt = None,
    as_json: LinesOpt = False,
) -> None:
    """List the calls of every app: time (UTC), direction, other party, duration, where each came from."""
    from triage.views.conversations import calls as find_calls
    from triage.views.conversations import schema

    known = schema()

    def line(v: dict[str, Any]) -> str:
        status = "" if v["status"] is None else f"  status {escape(v['status'])}"
        label = known.label(v["record_type"], "status", v["status"])
        status += f" ({escape(label)})" if label else ""
        duration = "" if v["duration"] is None else f"  {escape(v['duration'])} s"
        video = "  video" if v["video"] else ""
        party = _who(v["party"], v["party_e164"], "(unknown)")
        return f"{_when(v):<27}  {_ARROWS[v['direction']]}  {party}{duration}{status}{video}"

    with opened(case) as c:
        found = find_calls(c, exhibits, app=app, region=region, known=known)
        _note_unsigned(c, exhibits)
        _write_lines(found.json_lines() if as_json else _grouped(found, line, "call"))


def contacts(
    exhibits: ExhibitsArg = None,
    app: Annotated[str | None, typer.Option("--app", help="Only this app.", callback=utf8_text)] = None,
    region: RegionOpt = None,
    case: CaseOpt = None,
    as_json: LinesOpt = False,
) -> None:
    """List the contacts of every app: name, phone numbers (with E.164), e-mails and account ids."""
    from triage.views.conversations import contacts as find_contacts

    def line(v: dict[str, Any]) -> str:
        parts = [escape(v["name"]) if v["name"] is not None else "(no name)"]
        phones = [_who(p, e, "") for p, e in zip(v["phones"], v["phones_e164"], strict=True)]
        if phones:
            parts.append("phones: " + ", ".join(phones))
        if v["emails"]:
            parts.append("e-mails: " + ", ".join(escape(e) for e in v["emails"]))
        if v["account_ids"]:
            parts.append("ids: " + ", ".join(escape(i) for i in v["account_ids"]))
        return "  ".join(parts)

    with opened(case) as c:
        found = find_contacts(c, exhibits, app=app, region=region)
        _note_unsigned(c, exhibits)
        _write_lines(found.json_lines() if as_json else _grouped(found, line, "contact"))


def timeline(
    exhibits: ExhibitsArg = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="Only events at or after this time, ISO 8601 with offset.", callback=utf8_text
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", help="Only events at or before this time, ISO 8601 with offset.", callback=utf8_text
        ),
    ] = None,
    kinds: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Only findings of this record type or family (repeatable), e.g. chat.",
            callback=utf8_text,
        ),
    ] = None,
    files: Annotated[
        bool,
        typer.Option(
            "--files", help="Add the file-system times (mtime, atime, ctime, crtime) of every entry."
        ),
    ] = False,
    show_known: ShowKnownOpt = False,
    case: CaseOpt = None,
    as_json: LinesOpt = False,
) -> None:
    """Every dated record of the case in time order: one event per time of a record.

    Each line: time (UTC; local times of unknown zone, such as FAT's, are marked "(local)" and
    never converted), kind (record type and the time's field), exhibit, a short summary and the
    source. Events are sorted on disk in the case's scratch folder, so memory stays small.
    Files in a known-good hash set are left out (--show-known keeps them); known-bad ones are marked.
    """
    from triage.views.timeline import timeline as find_events

    def line(e: dict[str, Any]) -> str:
        when = e["time"] + (" (local)" if e["time_local"] else "")
        src = e["source"]
        where = src["path"] + (f" {e['locator']}" if e["locator"] else "")
        mark = f"[{e['hashset']}] " if e.get("hashset") else ""
        return escape(f"{when:<34}  {e['kind']:<35}  {e['exhibit']}  {mark}{e['summary']}  [{where}]")

    with opened(case) as c:
        found = find_events(
            c, exhibits, start=start, end=end, kinds=kinds, files=files, show_known=show_known
        )
        _note_unsigned(c, exhibits)
        _write_lines(found.json_lines() if as_json else (line(e) for e in found))


def links(
    graphml: Annotated[
        Path | None,
        typer.Option("--graphml", help="Also write the links as a GraphML graph to this new file."),
    ] = None,
    region: RegionOpt = None,
    case: CaseOpt = None,
    as_json: LinesOpt = False,
) -> None:
    """Find the phone numbers, e-mails and app accounts seen in more than one exhibit or app.

    Numbers are compared in E.164 (a WhatsApp JID 15551234567@s.whatsapp.net is +15551234567),
    e-mails lower-cased. --graphml writes identifier and exhibit nodes and their edges (app,
    number of records) for Gephi or Cytoscape.
    """
    from triage.views.links import Links, write_graphml
    from triage.views.spool import json_line

    def line(link: dict[str, Any]) -> str:
        more = "" if link["records_total"] <= len(link["records"]) else ", ..."
        ids = ", ".join(str(r) for r in link["records"][:10]) + (
            ", ..." if len(link["records"]) > 10 else more
        )
        return escape(
            f"{link['kind']:<8} {link['value']}  exhibits: {', '.join(link['exhibits'])}  "
            f"apps: {', '.join(link['apps'])}  records: {link['records_total']} (findings {ids})  "
            f"as stored: {', '.join(link['raw'])}"
        )

    def lines(found: Links) -> Iterator[str]:
        count = 0
        for link in found:
            count += 1
            yield line(link)
        yield f"{_n(count, 'linked identifier')}"

    with opened(case) as c, Links(c, region=region) as found:
        _note_unsigned(c, None)
        if graphml is not None:
            nodes = write_graphml(found, graphml)
            err.print(f"wrote {graphml}: {_n(nodes, 'identifier')}, {_n(len(found.exhibits()), 'exhibit')}")
        _write_lines((json_line(link) for link in found) if as_json else lines(found))


def export_case(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="kml (GPS positions), timesketch (the timeline as JSON lines), dfxml (the file listing) "
            "or case (CASE/UCO JSON-LD).",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="The new file to write (an existing one is never replaced).")
    ],
    exhibit: Annotated[
        list[str] | None, typer.Option("--exhibit", help="Only this exhibit (repeatable; default: all).")
    ] = None,
    case: CaseOpt = None,
) -> None:
    """Write the case in a format other tools read: every GPS position as KML, the timeline as JSON
    lines for Timesketch, each triaged exhibit's file listing as DFXML (fiwalk's names), or the
    exhibits, custody, triage runs, files and messages as CASE/UCO JSON-LD."""
    from triage.views.exchange import export_case as write

    with opened(case) as c:
        done = write(c, fmt, out, exhibit or None)
    noun = {"kml": "placemark", "timesketch": "event", "dfxml": "file object", "case": "node"}[done.format]
    left = f" ({_n(done.left_out, 'event')} left out: {done.left_out_why})" if done.left_out else ""
    detail = f" ({done.detail})" if done.detail else ""
    err.print(escape(f"wrote {done.path}: {_n(done.written, noun)}{detail}{left}"))


def carved(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the files carved from the free space of a triaged disk image.

    Each with its byte offset in the image (and the file system's), length, type, validity
    (valid, truncated or invalid, and why), hashes and, for photos, camera, capture time and GPS.
    """
    from custody.items import get_item
    from triage.views.carved import list_carved

    with opened(case) as c:
        get_item(c, exhibit)
        found = list_carved(c.engine, exhibit)
    if as_json:
        emit_json(found)
        return
    table = LiteralTable("Offset", "Partition", "Length", "Type", "Status", "SHA-256", "EXIF / notes")
    for f in found:
        notes = [f"{k}={_short(v)}" for k, v in (f["exif"] or {}).items()]
        if f["detail"]:
            notes.append(str(f["detail"]))
        if f["same_as"]:
            notes.append("same bytes as " + ", ".join(f["same_as"]))
        if len(f["extents"] or []) > 1:
            notes.append(f"{len(f['extents'])} extents")
        table.add_row(
            str(f["offset"]),
            str(f["partition"]),
            str(f["length"]),
            str(f["type"]),
            str(f["status"]),
            str(f["sha256"] or ""),
            "; ".join(notes),
        )
    out.print(table)
    valid = sum(1 for f in found if f["status"] == "valid")
    out.print(f"{len(found)} carved files ({valid} valid)")


def plugins_list(as_json: JsonOpt = False) -> None:
    """List the available plugins, then the analyzers: name, version, targets and record types."""
    from triage.plugin.registry import catalogue

    infos, warnings = catalogue()
    if as_json:
        emit_json([i.as_dict() for i in infos])
        return
    table = LiteralTable("Name", "Version", "Record types", "Targets", "Origin")
    for i in infos:
        targets = ", ".join(f"{k}: {v}" for k, v in i.targets.items() if v)
        record_types = "\n".join(escape(t) for t in i.record_types)  # one per line: our own newlines
        table.add_row(i.name, i.version, Text(record_types), targets[:80], i.origin)
    out.print(table)
    options = [(i.name, o) for i in infos for o in i.options]
    if options:
        out.print("Options (exhibit triage EX --option PLUGIN.NAME=VALUE, or an --options-file):")
        for name, o in options:
            kind = o["kind"] + (", secret" if o["secret"] else "")
            choices = f" (one of {', '.join(o['choices'])})" if o["choices"] else ""
            out.print(f"  {name}.{o['name']} ({kind}): {o['help']}{choices}")
    for w in warnings:
        err.print(f"warning: {escape(w)}")


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
            "exhibit triage EX-002 --options-file ~/case-2026-8/options.toml",
            "exhibit triage EX-003 --actor asmith --keywords terms.txt",
            "exhibit triage EX-004 --actor asmith --broker redis://10.0.0.5:6379/0",
            "exhibit triage EX-005 --actor asmith --local",
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
    app.command(
        "chats",
        epilog=example(
            "exhibit chats EX-001",
            "exhibit chats EX-001 EX-002 --app whatsapp --region US",
            "exhibit chats --conversation 1 --json",
        ),
    )(chats)
    app.command("calls", epilog=example("exhibit calls EX-001 --region GB", "exhibit calls --json"))(calls)
    app.command("contacts", epilog=example("exhibit contacts EX-001", "exhibit contacts --json"))(contacts)
    app.command(
        "timeline",
        epilog=example(
            "exhibit timeline",
            "exhibit timeline EX-001 --from 2026-01-01T00:00Z --to 2026-01-31T23:59:59Z --kind chat",
            "exhibit timeline EX-002 --files --json",
        ),
    )(timeline)
    app.command(
        "links",
        epilog=example("exhibit links --region US", "exhibit links --json --graphml links.graphml"),
    )(links)
    app.command("carved", epilog=example("exhibit carved EX-001", "exhibit carved EX-001 --json"))(carved)
    app.command(
        "export-case",
        epilog=example(
            "exhibit export-case --format kml --out positions.kml",
            "exhibit export-case --format timesketch --out timeline.jsonl --exhibit EX-001",
            "exhibit export-case --format dfxml --out EX-001.xml --exhibit EX-001",
            "exhibit export-case --format case --out case.jsonld",
        ),
    )(export_case)
    plugins_app.command("list", epilog=example("exhibit plugins list", "exhibit plugins list --json"))(
        plugins_list
    )
    app.add_typer(plugins_app, name="plugins")
    from triage.bundle.cli import register as register_bundle
    from triage.cli_hashsets import register as register_hashsets
    from triage.distributed.cli import register as register_distributed

    register_distributed(app)

    register_hashsets(app)
    register_bundle(app)
