"""``exhibit bundle`` and ``exhibit verify-bundle``: thin commands over triage.bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from custody.cli import CaseOpt, JsonOpt, emit_json, err, example, opened, out, utf8_text
from custody.safetext import escape


def bundle_command(
    out_file: Annotated[
        Path, typer.Option("--out", help="The zip to write (an existing file is never replaced).")
    ],
    exhibit: Annotated[
        list[str] | None,
        typer.Option(
            "--exhibit", help="Only this exhibit (repeatable; default: every one).", callback=utf8_text
        ),
    ] = None,
    report: Annotated[
        list[Path] | None, typer.Option("--report", help="A report file to include (repeatable).")
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the verification bundle: one zip a defence expert can check without Exhibit.

    It holds the ledger export, the latest checkpoint, inclusion and consistency proofs, each
    exhibit's signed findings digest with the rows it covers, the hash lists of the evidence and
    the exported files (sha256sum -c), the reports given, a README and a MANIFEST. The evidence
    is not copied. The same case state gives the same bytes.
    """
    from triage.bundle.build import build_bundle

    with opened(case) as c:
        built = build_bundle(
            c,
            out_file,
            exhibit or [],
            report or [],
            progress=lambda step: err.print(escape(f"bundle: {step}")) if err.is_terminal else None,
        )
    if as_json:
        emit_json(built.as_dict())
        return
    out.print(
        escape(
            f"Wrote {built.path}: case {built.case_number}, exhibits {', '.join(built.exhibits)}, "
            f"{len(built.reports)} report(s), {len(built.members)} files; "
            f"ledger of {built.tree_size} entries, root {built.root}; sha256 {built.sha256}"
        )
    )


def verify_bundle_command(
    bundle: Annotated[Path, typer.Argument(help="The bundle zip.")],
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A checkpoint file you kept since ('exhibit custody checkpoint --out'): the bundle's "
            "ledger must hold it, else it was cut short or rewritten after it.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every part of a bundle from the zip alone, offline: signatures, hash chain, Merkle
    root and checkpoint, each proof, each findings digest recomputed from its rows, the hash lists
    against the ledger, the reports, the MANIFEST.

    One line per part, OK or FAILED with the reason. Exit status 0 when every part verified,
    1 when one failed, 2 when the file is refused (not a zip, path traversal, a zip bomb).
    """
    from triage.bundle.verify import print_report, verify_bundle

    report = verify_bundle(bundle, against=against)
    if as_json:
        emit_json(report.as_dict())
    else:
        print_report(report, lambda line: out.print(escape(line)))
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.command(
        "bundle",
        epilog=example(
            "exhibit bundle --out bundle-2026-017.zip",
            "exhibit bundle --out EX-001.zip --exhibit EX-001 --report report.pdf",
        ),
    )(bundle_command)
    app.command(
        "verify-bundle",
        epilog=example(
            "exhibit verify-bundle bundle-2026-017.zip",
            "exhibit verify-bundle bundle-2026-017.zip --against checkpoint-2026-017.json",
            "exhibit verify-bundle bundle.zip --json",
        ),
    )(verify_bundle_command)
