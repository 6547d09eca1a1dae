"""The ``exhibit`` command line: the root app and the custody sub-commands.

Each command is a thin layer over a library call. Other packages add their own commands
through the ``exhibit.cli`` entry-point group (a ``register(app)`` callable), so imports keep
flowing plugins -> triage -> custody.
"""

from __future__ import annotations

import copy
import getpass
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from custody import events as events_mod
from custody import timefmt, tool_version
from custody.console import LiteralConsole, LiteralTable, label_column, styled
from custody.errors import UserError, environment_error
from custody.safetext import escape, is_utf8, json_visible


class _Lazy(ModuleType):
    """A module imported the first time one of its attributes is used."""

    def __getattr__(self, attr: str) -> Any:
        import importlib

        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


if TYPE_CHECKING:
    from rich import progress as bars
    from typer.models import CommandInfo

    from custody import actors as actors_mod
    from custody import case as case_mod
    from custody import exports, items, proofs, timestamps, verify
    from custody.case import Case
else:
    # Loaded on first use: 'exhibit ls' or '--help' need neither cryptography nor the ORM, and a
    # command that shows no progress bar no rich.progress (36 ms of a custody event's start-up).
    actors_mod, case_mod, exports, items, proofs, timestamps, verify = (
        _Lazy(f"custody.{name}")
        for name in ("actors", "case", "exports", "items", "proofs", "timestamps", "verify")
    )
    bars = _Lazy("rich.progress")

PASSPHRASE_ENV = "EXHIBIT_KEY_PASSPHRASE"  # custody.keys.PASSPHRASE_ENV (a test keeps them equal)


def example(*lines: str) -> str:
    """A command's or a group's examples for its ``--help`` epilog. Each is one line however
    narrow the terminal (``\\b`` keeps Click from re-wrapping it), so a pasted line is the whole
    command."""
    return "Example:\n\n" + "\n\n".join(f"\b\n  $ {line}" for line in lines)


app = typer.Typer(
    name="exhibit",
    help="Exhibit: digital-evidence chain of custody and forensic triage.",
    epilog=example(
        "exhibit init case-2026-017 --case-number 2026/017 --title 'Harbour'",
        "exhibit actor add jdoe --name 'Jane Doe' --role evidence-officer",
        "exhibit acquire usb.dd --exhibit EX-001 --description 'USB stick' --actor jdoe",
        "exhibit triage EX-001 --actor asmith",
        "exhibit chats EX-001",
        "exhibit custody verify --rehash",
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(tool_version() + "\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print Exhibit's version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    pass


actor_app = typer.Typer(
    help="Register the people who record entries.",
    epilog=example("exhibit actor add jdoe --name 'Jane Doe' --role evidence-officer", "exhibit actor list"),
    no_args_is_help=True,
)
custody_app = typer.Typer(
    help="Record custody events; log, export, prove and verify the ledger.",
    epilog=example(
        "exhibit custody transfer EX-001 --to asmith --reason 'analysis' --actor jdoe",
        "exhibit custody log EX-001",
        "exhibit custody verify --rehash",
    ),
    no_args_is_help=True,
)
app.add_typer(actor_app, name="actor")
app.add_typer(custody_app, name="custody")

# Every value reaches the terminal as literal, escaped text (custody.console, custody.safetext).
# Not on a terminal: 160 columns, unless $COLUMNS says otherwise (Rich reads it when width is None).
out = LiteralConsole(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
err = LiteralConsole(stderr=True)


def utf8_text(value: Any) -> Any:
    """Typer callback: refuse text that is not UTF-8 (a usage error, exit 2), naming it escaped.

    Linux hands Python arguments that are not valid UTF-8 with lone surrogates in them
    (``exhibit ls $'\\xff'``); such a value can be neither stored nor looked up, and without this
    check it fails deep inside SQLite or the JSON encoder. Paths are not checked: a file name
    may be any bytes.
    """
    for v in value if isinstance(value, list | tuple) else [value]:
        if isinstance(v, str) and not is_utf8(v):
            raise typer.BadParameter(
                f"{escape(v)} is not UTF-8 text: exhibit numbers, names and notes are stored as "
                "UTF-8 (check the terminal's or the script's character encoding)"
            )
    return value


CaseOpt = Annotated[
    Path | None,
    typer.Option("--case", help="Case folder (default: $EXHIBIT_CASE, else the current folder upwards)."),
]
ActorOpt = Annotated[
    str,
    typer.Option(
        "--actor",
        envvar="EXHIBIT_ACTOR",
        help="Who records this (default: $EXHIBIT_ACTOR).",
        callback=utf8_text,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output: one JSON document.")]


def ask_passphrase(actor_id: str) -> str | None:
    """$EXHIBIT_KEY_PASSPHRASE for scripts; otherwise ask, but only when a person is there."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if sys.stdin.isatty():
        return getpass.getpass(f"Passphrase for {actor_id}'s key: ") or None
    return None


def emit_json(value: Any) -> None:
    """``value`` as indented JSON on stdout, every character a terminal acts on or hides written
    as its ``\\u`` escape (:func:`custody.safetext.json_visible`, a line at a time)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    sys.stdout.write("\n".join(json_visible(line) for line in text.split("\n")) + "\n")


@contextmanager
def opened(case_dir: Path | None) -> Iterator[Case]:
    case = case_mod.open_case(case_dir)
    try:
        yield case
    finally:
        for notice in case.notices:
            err.print(styled(("warning:", "bold yellow"), f" {notice}"))
        case.close()


@contextmanager
def byte_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar (bytes done so far, throughput, ETA); silent when stderr is not a terminal."""
    progress = bars.Progress(
        label_column(),
        bars.BarColumn(),
        bars.DownloadColumn(),
        bars.TransferSpeedColumn(),
        bars.TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(escape(label), total=total)
        yield lambda done: progress.update(task, completed=done)


NewPassphraseOpt = Annotated[
    bool,
    typer.Option("--passphrase", help=f"Protect a new private key with a passphrase (or ${PASSPHRASE_ENV})."),
]


def _new_passphrase(asked: bool) -> str | None:
    """The passphrase for a new key: $EXHIBIT_KEY_PASSPHRASE, else typed twice when ``asked``."""
    secret = os.environ.get(PASSPHRASE_ENV) or None
    if asked and not secret:
        secret = getpass.getpass("New passphrase: ")
        if secret != getpass.getpass("Repeat passphrase: "):
            raise UserError("the passphrases differ", hint="run the command again")
    return secret


# -- init -----------------------------------------------------------------------------------------


@app.command(epilog=example('exhibit init ./case-2026-017 --case-number 2026/017 --title "Op. Harbour"'))
def init(
    directory: Annotated[Path, typer.Argument(help="Case folder to create.")],
    case_number: Annotated[str, typer.Option("--case-number", help="The case's reference number.")],
    title: Annotated[str, typer.Option("--title", help="Short title of the case.")],
    agency: Annotated[str | None, typer.Option("--agency", help="Agency or lab in charge.")] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="SQLAlchemy URL (default: a SQLite file inside the case folder)."),
    ] = None,
    tsa: Annotated[
        str | None,
        typer.Option("--tsa", help="RFC 3161 Time-Stamp Authority URL: time-stamp every checkpoint."),
    ] = None,
    tsa_ca: Annotated[
        Path | None, typer.Option("--tsa-ca", help="PEM CA certificate the TSA's certificate chains to.")
    ] = None,
) -> None:
    """Create a case folder and its ledger database."""
    ca_pem = _tsa_options(tsa, tsa_ca)
    case = case_mod.init_case(directory, case_number=case_number, title=title, agency=agency, db_url=db)
    try:
        if tsa is not None and ca_pem is not None:
            timestamps.configure(case.database, tsa, ca_pem, auto=True)
        out.print(
            f"Created case {case.identity.case_number} in {case.root} (ledger {case.identity.ledger_id})"
        )
        if tsa is not None:
            out.print(f"Every checkpoint will be time-stamped by {tsa}")
    finally:
        case.close()


def _tsa_options(tsa: str | None, tsa_ca: Path | None) -> str | None:
    """The CA certificate's PEM when --tsa and --tsa-ca are given together (checked before any work)."""
    if (tsa is None) != (tsa_ca is None):
        raise UserError(
            "--tsa and --tsa-ca go together",
            hint="give the TSA's URL and the PEM file of its CA certificate",
        )
    if tsa_ca is None:
        return None
    return timestamps.load_ca(tsa_ca)


# -- actors ---------------------------------------------------------------------------------------


@actor_app.command(
    "add",
    epilog=example('exhibit actor add jdoe --name "Jane Doe" --role evidence-officer --org "City Police"'),
)
def actor_add(
    actor_id: Annotated[str, typer.Argument(help="Short ID, e.g. jdoe.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    role: Annotated[str, typer.Option("--role", help="examiner, evidence-officer, prosecutor, ...")],
    org: Annotated[str | None, typer.Option("--org", help="Organisation.")] = None,
    passphrase: NewPassphraseOpt = False,
    case: CaseOpt = None,
) -> None:
    """Register a person: create their Ed25519 key pair and record the public key."""
    secret = _new_passphrase(passphrase)
    with opened(case) as c:
        actor, entry, created = actors_mod.add_actor(
            c, actor_id, name=name, role=role, org=org, passphrase=secret
        )
        alike = actors_mod.look_alikes(c, actor.id, actor.name)
    where = "new key created" if created else "existing key reused"
    out.print(f"Registered {actor.id} ({actor.name}, {actor.role}) as entry {entry.seq}; {where}")
    for why in alike:
        err.print(f"warning: {actor.id}: {why}: check that this is the person meant")


@actor_app.command("list", epilog=example("exhibit actor list --json"))
def actor_list(case: CaseOpt = None, as_json: JsonOpt = False) -> None:
    """List the registered actors and their public keys."""
    with opened(case) as c:
        found = actors_mod.list_actors(c)
    if as_json:
        emit_json([a.as_dict() for a in found])
        return
    table = LiteralTable("ID", "Name", "Role", "Org", "Public key", "Entry")
    for a in found:
        key = a.public_key[:16] + "…"
        if a.revoked_seq is not None:
            key += f" (revoked at entry {a.revoked_seq})"
        elif a.key_seq != a.registered_seq:
            key += f" (since entry {a.key_seq})"
        table.add_row(a.id, a.name, a.role, a.org or "", key, str(a.registered_seq))
    out.print(table)


@actor_app.command(
    "rotate-key",
    epilog=example("exhibit actor rotate-key jdoe", "exhibit actor rotate-key jdoe --passphrase"),
)
def actor_rotate_key(
    actor_id: Annotated[str, typer.Argument(help="The actor whose key pair is replaced.")],
    passphrase: NewPassphraseOpt = False,
    case: CaseOpt = None,
) -> None:
    """Replace an actor's key pair: a new key, recorded in an entry signed by the old key (and the
    new key's proof); entries signed before still verify with the old key."""
    secret = _new_passphrase(passphrase)
    with opened(case) as c:
        before = actors_mod.get_actor(c, actor_id).public_key
        actor, entry, retired = actors_mod.rotate_key(c, actor_id, secret)
    out.print(
        f"Rotated the key of {actor.id} as entry {entry.seq}: {before[:16]}… -> {actor.public_key[:16]}…; "
        f"the old private key is kept as {retired}"
    )


@actor_app.command(
    "revoke",
    epilog=example(
        'exhibit actor revoke jdoe --reason "laptop stolen" --actor asmith',
        'exhibit actor revoke jdoe --reason "key file copied" --from 2026-03-02T08:00+01:00 --actor jdoe',
    ),
)
def actor_revoke(
    actor_id: Annotated[str, typer.Argument(help="The actor whose key must no longer be trusted.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (lost, stolen, copied, left the lab ...).")],
    actor: ActorOpt,
    since: Annotated[
        str | None,
        typer.Option(
            "--from", help="Distrust entries recorded from this time, ISO 8601 with offset (default: now)."
        ),
    ] = None,
    case: CaseOpt = None,
) -> None:
    """Revoke an actor's key: entries signed with it and recorded from --from on are flagged by
    'exhibit custody verify' (KEY_REVOKED), and the actor signs nothing more."""
    effective = timefmt.parse_stamp(since, option="--from") if since else None
    with opened(case) as c:
        revoked, entry = actors_mod.revoke_key(c, actor_id, by=actor, reason=reason, effective=effective)
    out.print(
        f"Revoked the key of {revoked.id} ({revoked.public_key[:16]}…) from {revoked.revoked_from} as entry {entry.seq}"
    )


# -- items ----------------------------------------------------------------------------------------


@app.command(
    epilog=example(
        'exhibit acquire /evidence/phone.E01 --exhibit EX-001 --description "Samsung phone image" '
        "--serial R58M12 --location 'Lab 2' --actor jdoe"
    )
)
def acquire(
    path: Annotated[
        Path, typer.Argument(help="Image (raw, split, E01), file, folder, iTunes/Finder backup, zip or tar.")
    ],
    exhibit: Annotated[
        str, typer.Option("--exhibit", help="Exhibit number, unique in the case.", callback=utf8_text)
    ],
    description: Annotated[str, typer.Option("--description", help="What the item is.")],
    actor: ActorOpt,
    make: Annotated[str | None, typer.Option("--make")] = None,
    model: Annotated[str | None, typer.Option("--model")] = None,
    serial: Annotated[str | None, typer.Option("--serial")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Where it was acquired.")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Force the source kind: raw, split-raw, e01, file, folder, ios-backup, zip, tar."
        ),
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hash an evidence item (MD5, SHA-1, SHA-256 in one read pass) and record it."""
    from custody import early_read

    # The read pass runs while the case opens and the key is unlocked (custody.early_read): the
    # one `exhibit` began before loading this CLI, or a new one. Taken only once every check has
    # passed; cancelled, and its thread joined, whenever the command ends without taking it.
    early = early_read.begin(path, kind) if early_read.wanted() else None
    try:
        with opened(case) as c:
            actors_mod.signing_keys(c, [actor], ask_passphrase)  # unlock before recording
            with byte_progress(f"Acquiring {exhibit}", items.estimate_size(path, kind)) as advance:
                item, entry = items.acquire(
                    c,
                    path,
                    exhibit=exhibit,
                    actor=actor,
                    description=description,
                    make=make,
                    model=model,
                    serial=serial,
                    location=location,
                    notes=notes,
                    kind=kind,
                    progress=advance,
                    early=early,
                )
            twins = [
                other
                for other in items.list_items(c)
                if other.exhibit != item.exhibit and other.hashes.get("sha256") == item.hashes.get("sha256")
            ]
    finally:
        if early is not None:
            early.cancel()  # nothing to stop when its result was taken
    for other in twins:  # found in review: the same evidence under a second number passed unsaid
        err.print(
            escape(
                f"warning: {item.exhibit} has the SHA-256 of {other.exhibit} ({other.description}): "
                "the same evidence acquired twice, or an exact copy of it"
            )
        )
    if as_json:
        emit_json({**item.as_dict(), "entry_hash": entry.entry_hash})
        return
    out.print(f"Acquired {item.exhibit} ({item.kind}, {item.size} bytes) as entry {entry.seq}")
    for algorithm in ("md5", "sha1", "sha256"):
        out.print(f"  {algorithm:6} {item.hashes.get(algorithm)}")
    for algorithm, ok in (item.data["acquisition"].get("e01_hash_match") or {}).items():
        if ok:
            out.print(f"  E01 stored {algorithm} matches the media")
        else:
            err.print(
                styled(
                    (f"WARNING: the {algorithm} stored in the E01 does NOT match the media data", "bold red")
                )
            )


@app.command("items", epilog=example("exhibit items", "exhibit items --json"))
def items_list(case: CaseOpt = None, as_json: JsonOpt = False) -> None:
    """List the acquired exhibits with their hashes."""
    with opened(case) as c:
        found = items.list_items(c)
    if as_json:
        emit_json([i.as_dict() for i in found])
        return
    table = LiteralTable("Exhibit", "Kind", "Size", "SHA-256", "Description")
    for i in found:
        table.add_row(i.exhibit, i.kind, str(i.size), i.hashes.get("sha256", ""), i.description)
    out.print(table)


# -- custody events -------------------------------------------------------------------------------

LocationOpt = Annotated[
    str | None, typer.Option("--location", help="Where it happened / storage location.", callback=utf8_text)
]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why (purpose of the event).", callback=utf8_text)
]
AuthorityOpt = Annotated[
    str | None, typer.Option("--authority", help="Authority, e.g. a warrant reference.", callback=utf8_text)
]
ConditionOpt = Annotated[
    str | None, typer.Option("--condition", help="Condition and packaging notes.", callback=utf8_text)
]
NotesOpt = Annotated[str | None, typer.Option("--notes", callback=utf8_text)]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="When it happened, ISO 8601 with offset (default: now).")
]

EVENT_EXAMPLES = {
    "check-out": "exhibit custody check-out EX-001 --reason 'imaging' --location 'Store B' --actor jdoe",
    "check-in": "exhibit custody check-in EX-001 --location 'Store B' --condition 'bag intact' --actor jdoe",
    "transfer": "exhibit custody transfer EX-001 --to asmith --reason 'analysis' --authority W-2026-118 --actor jdoe",
    "seal": "exhibit custody seal EX-001 --seal S-000123 --actor jdoe",
    "unseal": "exhibit custody unseal EX-001 --seal S-000123 --actor asmith",
    "move": "exhibit custody move EX-001 --location 'Vault 3, shelf 2' --actor jdoe",
    "examine": "exhibit custody examine EX-001 --reason 'triage' --actor asmith",
    "verify": "",
    "return": "exhibit custody return EX-001 --reason 'case closed' --notes 'to owner' --actor jdoe",
    "dispose": "exhibit custody dispose EX-001 --authority 'Court order 44/2027' --method shredding --actor jdoe",
    "correct": "exhibit custody correct EX-001 --entry 7 --reason 'wrong shelf recorded' --location 'Shelf 3' --actor jdoe",
}


def _event_command(event: str) -> Callable[..., None]:
    spec = events_mod.EVENTS[event]

    def command(
        exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
        actor: ActorOpt,
        location: LocationOpt = None,
        reason: ReasonOpt = None,
        authority: AuthorityOpt = None,
        condition: ConditionOpt = None,
        notes: NotesOpt = None,
        at: AtOpt = None,
        to: Annotated[
            str | None, typer.Option("--to", help="transfer: the receiving actor (signs too).")
        ] = None,
        seal: Annotated[str | None, typer.Option("--seal", help="seal/unseal: the seal number.")] = None,
        entry: Annotated[
            int | None, typer.Option("--entry", help="correct: sequence number corrected.")
        ] = None,
        method: Annotated[str | None, typer.Option("--method", help="dispose: how.")] = None,
        case: CaseOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        with opened(case) as c:
            stored = events_mod.record_event(
                c,
                event,
                exhibit,
                actor=actor,
                location=location,
                reason=reason,
                authority=authority,
                condition=condition,
                notes=notes,
                at=at,
                receiver=to,
                seal=seal,
                corrects=entry,
                method=method,
                prompt=ask_passphrase,
            )
            # the custody logic of the new entry (other packages' checks never concern it)
            checked = verify.verify_case(c, exhibit, extensions=False)
            problems = [p for p in checked.problems if p.seq == stored.seq]
        if as_json:
            emit_json({**stored.as_dict(), "problems": [p.as_dict() for p in problems]})
        else:
            out.print(f"Recorded {event} of {exhibit} as entry {stored.seq}")
        for p in problems:
            err.print(styled(("warning", "bold yellow"), f" {p.code}: {p.detail}"))

    command.__doc__ = spec.summary[0].upper() + spec.summary[1:] + "."
    return command


for _event in events_mod.EVENTS:
    if _event == "verify":
        continue  # 'custody verify' verifies, and with --record also records the result
    custody_app.command(_event, epilog=example(EVENT_EXAMPLES[_event]))(_event_command(_event))


@custody_app.command(
    "verify",
    epilog=example(
        "exhibit custody verify",
        "exhibit custody verify EX-001 --rehash --json",
        "exhibit custody verify --against checkpoint-2026-11-22.json",
        "exhibit custody verify EX-001 --rehash --record --actor jdoe",
        "exhibit custody verify EX-004 --rehash --options-file ~/case/backup-password.toml",
    ),
)
def custody_verify(
    exhibit: Annotated[
        str | None, typer.Argument(help="Only this exhibit's custody and evidence.", callback=utf8_text)
    ] = None,
    rehash: Annotated[
        bool, typer.Option("--rehash", help="Re-read the evidence and compare every hash.")
    ] = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="A checkpoint file the ledger must still extend.")
    ] = None,
    record: Annotated[bool, typer.Option("--record", help="Record the result as a 'verify' entry.")] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", envvar="EXHIBIT_ACTOR", help="Who records the result.")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="What re-reading an exhibit's files needs with --rehash, NAME=VALUE (repeatable): "
            "backup.password=... for an encrypted iTunes backup.",
        ),
    ] = None,
    options_file: Annotated[
        list[Path] | None,
        typer.Option("--options-file", help="A TOML file with a [backup] table (password = ...)."),
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify signatures, hash chain, Merkle checkpoints, custody logic and (--rehash) evidence.

    Exit code 0 only when everything holds.
    """
    with opened(case) as c:
        if exhibit is not None:
            items.get_item(c, exhibit)  # an unknown exhibit is an error, not a clean bill
        total = c.ledger.count()
        progress = bars.Progress(
            bars.TextColumn("Verifying"),
            bars.BarColumn(),
            bars.TextColumn("{task.completed}/{task.total} entries"),
            bars.TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        )
        with progress:
            task = progress.add_task("verify", total=total)
            report = verify.verify_case(
                c,
                exhibit,
                rehash=rehash,
                against=against,
                progress=lambda n: progress.advance(task, n),
                options=option or [],
                options_files=options_file or [],
            )
        if record:
            if exhibit is None or actor is None:
                raise UserError(
                    "--record needs an exhibit and --actor",
                    hint="exhibit custody verify EX-001 --record --actor jdoe",
                )
            events_mod.record_event(
                c,
                "verify",
                exhibit,
                actor=actor,
                method="rehash" if rehash else "ledger",
                extra={"result": {"ok": report.ok, "codes": sorted({p.code for p in report.problems})}},
                prompt=ask_passphrase,
            )
    if as_json:
        emit_json(report.as_dict())
    else:
        for p in report.problems:
            where = f"entry {p.seq}" if p.seq is not None else "ledger"
            err.print(styled((p.code, "red"), f" {where} {p.exhibit or ''}: {p.detail}"))
        for o in report.open_checkouts:
            out.print(f"note: {o['exhibit']} is checked out (entry {o['seq']}) and not yet checked in")
        for note in report.notes:
            out.print(f"note: {note}")
        verdict = (
            styled(("OK", "green"))
            if report.ok
            else styled(("FAILED", "red"), f" ({len(report.problems)} problems)")
        )
        out.print(
            styled(
                verdict,
                f": {report.entries} entries, {report.checkpoints} checkpoints"
                + (f", rehashed {', '.join(report.rehashed)}" if report.rehashed else ""),
            )
        )
    raise typer.Exit(0 if report.ok else 1)


@custody_app.command(
    "log",
    epilog=example(
        "exhibit custody log EX-001", "exhibit custody log EX-001 --all", "exhibit custody log --json"
    ),
)
def custody_log(
    exhibit: Annotated[str | None, typer.Argument(help="Only this exhibit.", callback=utf8_text)] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="One row per derived item too (by default one row per triage run).")
    ] = False,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the chronology of entries.

    The derived items a triage run records (one per file a plugin read: thousands for a phone) are
    shown as one row per run, so the hand-overs stay readable; --all shows each, and --json always
    gives every entry.
    """
    with opened(case) as c:
        if exhibit is not None:
            items.get_item(c, exhibit)
        entries = list(c.ledger.entries(exhibit=exhibit))
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return
    table = LiteralTable("Seq", "Recorded (UTC)", "Offset", "Event", "Exhibit", "Actor", "Details")
    pending: list[Any] = []  # consecutive derived items of one run, shown as one row

    def flush() -> None:
        if not pending:
            return
        first, last = pending[0], pending[-1]
        seqs = str(first.seq) if first is last else f"{first.seq}-{last.seq}"
        table.add_row(
            seqs,
            first.parsed["recorded"]["utc"],
            first.parsed["recorded"]["offset"],
            f"item.derive x{len(pending)}",
            first.exhibit or "",
            first.actor,
            f"run={first.data.get('run')}, {len(pending)} derived item{'s' if len(pending) != 1 else ''} "
            "(--all lists each)",
        )
        pending.clear()

    for e in entries:
        if not show_all and e.kind == "item.derive":
            if pending and (pending[-1].data.get("run"), pending[-1].exhibit) != (
                e.data.get("run"),
                e.exhibit,
            ):
                flush()
            pending.append(e)
            continue
        flush()
        body = e.parsed
        data = e.data
        details = ", ".join(
            f"{k}={v}"
            for k, v in data.items()
            if k
            in (
                "location",
                "reason",
                "authority",
                "seal",
                "received_by",
                "corrects",
                "condition",
                "name",
                "role",
                "path",
                "run",
                "to",
            )
            and v
        )
        table.add_row(
            str(e.seq),
            body["recorded"]["utc"],
            body["recorded"]["offset"],
            e.kind,
            e.exhibit or "",
            e.actor,
            details,
        )
    flush()
    out.print(table)


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to a file that must not exist yet: an exported ledger or checkpoint kept
    outside the lab is evidence of its own, never replaced by the next export. A device or a
    pipe that exists (``/dev/stdout``, a FIFO) is written to, as a stream."""
    import stat

    try:
        handle = path.open("x", encoding="utf-8")
        made = True
    except FileExistsError:
        if path.is_dir():
            raise UserError(
                f"{path} is a folder", hint="give the name of a new file (inside it, for instance)"
            ) from None
        try:
            streams = not stat.S_ISREG(path.stat().st_mode)
        except OSError:
            streams = False
        if not streams:
            raise UserError(
                f"{path} already exists", hint="give the name of a new file: nothing is overwritten"
            ) from None
        handle, made = path.open("w", encoding="utf-8"), False
    try:
        with handle:
            handle.write(text)
    except BaseException:
        if made:
            path.unlink(missing_ok=True)  # no half-written file keeps the name
        raise


@custody_app.command(
    "export",
    epilog=example(
        "exhibit custody export --format json --out ledger.json", "exhibit custody export --format csv"
    ),
)
def custody_export(
    fmt: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
    out_file: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
    case: CaseOpt = None,
) -> None:
    """Export every item with its hashes and every entry."""
    if fmt not in ("json", "csv"):
        raise UserError(f"unknown format {fmt!r}", hint="use --format json or --format csv")
    with opened(case) as c:
        text = exports.export_json(c) if fmt == "json" else exports.export_csv(c)
    if out_file is None:
        sys.stdout.write(text)
    else:
        _write_new(out_file, text)
        err.print(f"Wrote {out_file}")


@custody_app.command("proof", epilog=example("exhibit custody proof EX-001 > EX-001-proofs.json"))
def custody_proof(
    exhibit: Annotated[str, typer.Argument(help="Exhibit number.", callback=utf8_text)],
    case: CaseOpt = None,
) -> None:
    """Print inclusion proofs of an exhibit's entries against the latest checkpoint (JSON)."""
    with opened(case) as c:
        result = proofs.inclusion_proofs(c, exhibit)
    emit_json(result)
    raise typer.Exit(0 if result["ok"] else 1)


@custody_app.command(
    "checkpoint", epilog=example("exhibit custody checkpoint --out checkpoint-2026-11-22.json")
)
def custody_checkpoint(
    out_file: Annotated[Path, typer.Option("--out", help="File to write the signed checkpoint to.")],
    case: CaseOpt = None,
) -> None:
    """Export the latest signed checkpoint, to keep outside the database."""
    with opened(case) as c:
        data = verify.export_checkpoint(c)
    _write_new(out_file, json.dumps(data, indent=2) + "\n")
    cp = data["checkpoint"]
    out.print(f"Wrote {out_file}: tree size {cp['tree_size']}, root {cp['root']}")


@custody_app.command(
    "timestamp",
    epilog=example(
        "exhibit custody timestamp --tsa http://tsa.lab.example/tsr --tsa-ca tsa-ca.pem",
        "exhibit custody timestamp",
        "exhibit custody timestamp --list --json",
    ),
)
def custody_timestamp(
    tsa: Annotated[
        str | None, typer.Option("--tsa", help="RFC 3161 TSA URL (default: the case's, from 'init --tsa').")
    ] = None,
    tsa_ca: Annotated[
        Path | None, typer.Option("--tsa-ca", help="PEM CA certificate the TSA's certificate chains to.")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the stored time-stamps instead.")] = False,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Time-stamp the latest checkpoint with an RFC 3161 Time-Stamp Authority (the TSA signs, with
    its own clock, that the checkpoint existed then); --list shows the stored time-stamps."""
    ca_pem = _tsa_options(tsa, tsa_ca)
    with opened(case) as c:
        if list_:
            found = timestamps.stored(c.database)
            if as_json:
                emit_json([t.as_dict() for t in found])
                return
            table = LiteralTable("Checkpoint", "TSA time (UTC)", "TSA", "CA SHA-256")
            for t in found:
                table.add_row(
                    str(t.tree_size), t.gen_time, t.tsa_url, timestamps.ca_fingerprint(t.ca_pem)[:16] + "…"
                )
            out.print(table)
            return
        if tsa is None or ca_pem is None:
            config = c.tsa()
            if config is None:
                raise UserError(
                    "the case has no Time-Stamp Authority",
                    hint="give --tsa URL --tsa-ca CA.pem (or create the case with 'exhibit init --tsa')",
                )
            tsa, ca_pem = config.url, config.ca_pem
        checkpoint = c.ledger.latest_checkpoint()
        if checkpoint is None:
            raise UserError("the ledger has no checkpoint yet", hint="record something first")
        token = timestamps.timestamp_checkpoint(c.database, checkpoint, tsa, ca_pem)
    if as_json:
        emit_json(token.as_dict())
        return
    out.print(
        f"Checkpoint {token.tree_size} (root {token.root[:16]}…) time-stamped by {token.tsa_url} "
        f"at {token.gen_time}"
    )


# -- entry point ----------------------------------------------------------------------------------


_loaded: set[str] = set()  # the "module:function" targets already added (main() may run more than once)


def _add_commands(name: str, target: str) -> None:
    """Call the ``register(app)`` function ``target`` ("module:function") of an add-on."""
    if target in _loaded:
        return
    _loaded.add(target)
    module, _, function = target.partition(":")
    try:
        getattr(importlib.import_module(module), function)(app)
    except Exception as exc:  # a broken add-on must not take the whole CLI down
        err.print(f"warning: could not load commands from {name} ({target}): {exc}")


def _load_subcommands() -> None:
    """Add the commands of every ``exhibit.cli`` entry point (the add-ons: triage's commands)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="exhibit.cli"):
        _add_commands(ep.name, ep.value)


def _command_name(command: CommandInfo) -> str:
    if command.name:
        return command.name
    assert command.callback is not None
    return typer.main.get_command_name(command.callback.__name__)


def _command_names(root: typer.Typer) -> list[str]:
    names = [_command_name(c) for c in root.registered_commands]
    return names + [g.name for g in root.registered_groups if isinstance(g.name, str)]


def _only(group: typer.Typer, words: list[str]) -> typer.Typer:
    """``group`` holding only the command ``words`` name (a sub-group: only its sub-command the
    next word names, if any): Typer builds the parser of every command it holds before it runs
    one, about 0.1 s for all of Exhibit's."""
    word, rest = words[0], words[1:]
    pruned = copy.copy(group)
    pruned.registered_commands = [c for c in group.registered_commands if _command_name(c) == word]
    pruned.registered_groups = []
    for info in group.registered_groups:
        if info.name == word and info.typer_instance is not None:
            sub = info.typer_instance
            if rest and rest[0] in _command_names(sub):
                info = copy.copy(info)
                info.typer_instance = _only(sub, rest)
            pruned.registered_groups.append(info)
    return pruned


def _app_for(args: list[str], commands: Mapping[str, str] | None) -> typer.Typer:
    """The app to run ``args`` with, loading only the add-on that adds the command they name.

    ``commands`` maps an add-on command to the ``register`` function that adds it (triage.launch
    gives its registry); a command line that names none of custody's commands nor one of those
    (a root option, a typo, a third-party add-on) loads every ``exhibit.cli`` entry point.
    """
    word = args[0] if args and not args[0].startswith("-") else None
    if word is not None and word not in _command_names(app) and commands and word in commands:
        _add_commands(word, commands[word])
    if word is None or word not in _command_names(app):
        _load_subcommands()
        if word is None or word not in _command_names(app):
            return app  # a root option, or an unknown command (click names it, with the full list)
    return _only(app, args)


def _show_usage_error(exc: Exception) -> None:
    """Print a usage error of Typer's click the way click does, with the values it quotes escaped.

    click's own ``show()`` writes the message raw (an option typed as ``--x$'\\x1b[2J'`` would
    reach the terminal) and strips ANSI sequences when not on a terminal, hiding what was typed.
    """
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        for line in ctx.get_usage().splitlines():  # click's own text; values only in the message
            err.print(line)
        if ctx.command.get_help_option(ctx) is not None:
            err.print(f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.")
        err.print("")
    format_message = getattr(exc, "format_message", None)
    err.print(f"Error: {format_message() if callable(format_message) else exc}")


def _print_user_error(exc: UserError) -> None:
    err.print(styled(("error:", "bold red"), f" {exc}"))
    if exc.hint:
        err.print(f"hint: {exc.hint}")


def main(argv: list[str] | None = None, commands: Mapping[str, str] | None = None) -> None:
    """Run the CLI (``argv``: the arguments, default ``sys.argv[1:]``); always ends in ``sys.exit``.

    ``commands``: which ``register`` function ("module:function") adds each add-on command, so
    that a command loads only its own module (triage.launch's registry); without it every
    ``exhibit.cli`` entry point is loaded.

    Exit status: 0 done, 1 verification found problems, 2 the command could not run (bad input,
    a full disk, ...: a message and a hint, never a traceback), 70 a bug in Exhibit, 130 Ctrl-C.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = _app_for(args, commands)(args=args, prog_name="exhibit", standalone_mode=False)
        if code == 130:  # Typer turns Ctrl-C into a quiet exit 130
            err.print("interrupted: nothing was recorded for the unfinished step")
        sys.exit(code if isinstance(code, int) else 0)
    except UserError as exc:
        _print_user_error(exc)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was recorded for the unfinished step")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except Exception as exc:
        if os.environ.get("EXHIBIT_DEBUG"):
            raise
        show = getattr(exc, "show", None)  # usage errors of Typer's (vendored) click
        if callable(show):
            _show_usage_error(exc)
            sys.exit(int(getattr(exc, "exit_code", 2)))
        known = environment_error(exc)  # a full disk, an unusable path, non-UTF-8 input: not bugs
        if known is not None:
            _print_user_error(known)
            sys.exit(2)
        err.print(styled(("internal error:", "bold red"), f" {type(exc).__name__}: {exc}"))
        err.print("This is a bug in Exhibit; rerun with EXHIBIT_DEBUG=1 for details and report it.")
        sys.exit(70)


if __name__ == "__main__":
    main()
