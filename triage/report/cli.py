"""``exhibit report``: a court report of the case as PDF or as an HTML folder (entry point
``exhibit.cli``). A thin layer over :func:`triage.report.build.write_report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

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
from custody.console import label_column
from custody.safetext import escape

__all__ = ["register", "report", "verify_report"]


def report(
    fmt: Annotated[
        str, typer.Option("--format", help="pdf (one file) or html (a folder that opens offline).")
    ],
    out_path: Annotated[
        Path, typer.Option("--out", help="The PDF file or HTML folder to write (must not exist).")
    ],
    actor: ActorOpt,
    exhibit: Annotated[
        list[str] | None,
        typer.Option(
            "--exhibit", help="Only this exhibit (repeatable; default: every exhibit).", callback=utf8_text
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Only findings of this record type or prefix, e.g. chat (repeatable).",
            callback=utf8_text,
        ),
    ] = None,
    redact: Annotated[
        Path | None,
        typer.Option(
            "--redact", help="A list of names, numbers, accounts and pictures to replace by pseudonyms."
        ),
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a court report: cover, exhibits, chain of custody, methodology, findings and a
    verification appendix, from the signed ledger and the triage results.

    The triage results are first checked against the digests their runs signed; a difference
    refuses the report (exit status 2), naming the exhibit and the run. The report's SHA-256 is
    recorded in the ledger (a report.write entry). The same case state and options give the
    same bytes again.
    """
    from custody.actors import signing_keys
    from triage.report.build import write_report

    progress = Progress(
        SpinnerColumn(),
        label_column(),
        TextColumn("{task.fields[page]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with opened(case) as c:
        keys = signing_keys(c, [actor], ask_passphrase)
        with progress:
            task = progress.add_task("Report", total=None, page="")

            def step(title: str, page: int) -> None:
                progress.update(task, description=escape(title), page=f"page {page}")

            result = write_report(
                c, fmt, out_path, exhibit or [], kind or None, redact, actor, keys=keys, progress=step
            )
    if as_json:
        emit_json(result.as_dict())
        return
    what = f"{result.pages} pages" if result.pages is not None else f"{result.files} files"
    out.print(f"Wrote {result.path} ({result.format}, {what}) as entry {result.seq}")
    label = "sha256 (index.html)" if result.format == "html" else "sha256"
    out.print(f"  {label} {result.sha256}")
    if result.manifest_sha256:
        out.print(f"  manifest sha256 {result.manifest_sha256}")
    if result.redacted:
        out.print("  redacted: listed values replaced by pseudonyms (the key stays in the case)")


def verify_report(
    path: Annotated[Path, typer.Argument(help="A report file, or an HTML report folder.")],
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check that a report is one the ledger records, unchanged: a file by its SHA-256, an HTML
    report folder by the manifest of every file in it (index.html alone covers no other page).
    Exit status 0 when a signed report.write entry records it, 1 when none does."""
    from triage.report.check import check_report

    with opened(case) as c:
        found = check_report(c, path)
    if as_json:
        emit_json(found.as_dict())
    else:
        what = f"manifest of {found.files} files" if found.kind == "folder" else "SHA-256"
        for r in found.recorded:
            out.print(
                escape(
                    f"OK: {path}: its {what} {found.sha256} is the one report.write entry {r['seq']} signed ({r['actor']}, {r['format']})"
                )
            )
        if not found.recorded:
            out.print(
                escape(
                    f"NOT RECORDED: {path}: its {what} {found.sha256} is in no report.write entry of this case"
                )
            )
            for r in found.named:
                if r["format"] == "html" and found.kind == "file":
                    said = f"  it is the index.html of the HTML report of entry {r['seq']}: give the whole folder"
                else:
                    said = f"  entry {r['seq']} recorded a report named {r['file']} with another one: changed since, or another report"
                out.print(escape(said))
    raise typer.Exit(0 if found.ok else 1)


def register(app: typer.Typer) -> None:
    """Add ``report`` to the ``exhibit`` app (entry point ``exhibit.cli``)."""
    app.command(
        "report",
        epilog=example(
            "exhibit report --format pdf --out report-2026-017.pdf --actor asmith",
            "exhibit report --format html --out report-2026-017 --exhibit EX-001 --kind chat --redact victims.txt --actor asmith",
        ),
    )(report)
    app.command(
        "verify-report",
        epilog=example(
            "exhibit verify-report report-2026-017.pdf", "exhibit verify-report report-2026-017 --json"
        ),
    )(verify_report)
