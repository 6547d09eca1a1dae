"""``exhibit worker``, ``exhibit broker set|show|clear`` (the case's broker, triage/distributed/setting.py)
and the options ``exhibit triage`` takes to fan a run out to workers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from custody.cli import ActorOpt, CaseOpt, JsonOpt, emit_json, err, example, opened, out, utf8_text
from custody.console import LiteralTable
from custody.safetext import escape

if TYPE_CHECKING:
    from triage.distributed.setting import Change

BrokerOpt = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="Read the files on Celery workers through this broker (redis://HOST:6379/0 or "
        "amqp://USER:PASSWORD@HOST:5672//) instead of local processes (default: the case's broker, "
        "'exhibit broker set'); see docs/lab.md.",
    ),
]
LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local", help="Read the files in this machine's processes even when the case has a broker."
    ),
]
QueueOpt = Annotated[
    str | None,
    typer.Option(
        "--queue", help="The broker queue the workers listen on (default: the case's setting, else exhibit)."
    ),
]
JobFilesOpt = Annotated[
    int | None,
    typer.Option(
        "--job-files",
        min=1,
        help="On workers: files per job sent to a worker (smaller jobs spread a small exhibit "
        "over more workers; default: the case's setting, else 1024).",
    ),
]


def worker(
    broker: Annotated[
        str,
        typer.Option("--broker", help="The broker: redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672//."),
    ],
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, help="Processes reading jobs at once (default: one per core)."),
    ] = None,
    queue: Annotated[str, typer.Option("--queue", help="The queue to take jobs from.")] = "exhibit",
    name: Annotated[
        str | None,
        typer.Option("--name", help="This worker's node name, NAME@HOST (default: exhibit@this host)."),
    ] = None,
    scratch: Annotated[
        Path | None,
        typer.Option("--scratch", help="Folder for the jobs' scratch copies (default: the system's temp)."),
    ] = None,
) -> None:
    """Start a triage worker: take jobs of 'exhibit triage EX --broker URL' runs from the queue.

    The worker reads the evidence at the path recorded at acquisition (shared storage, mounted
    read-only at the same path on every worker) and sends back hashes and findings; the
    coordinator alone writes to the case. Stop it with Ctrl-C or SIGTERM (jobs in hand finish).
    """
    from triage.distributed.worker import run_worker

    run_worker(broker, queue=queue, concurrency=concurrency, name=name, scratch=scratch)


broker_app = typer.Typer(
    help="The case's broker: where 'exhibit triage' reads the files when not given --broker.",
    epilog=example(
        "exhibit broker set redis://10.0.0.5:6379/0 --password-env EXHIBIT_BROKER_PASSWORD --actor asmith",
        "exhibit broker show",
    ),
    no_args_is_help=True,
)


def broker_set(
    url: Annotated[
        str,
        typer.Argument(
            help="The broker, without its password: redis://HOST:6379/0 or amqp://USER@HOST:5672//.",
            callback=utf8_text,
        ),
    ],
    actor: ActorOpt,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue", help="The queue the workers listen on (default: exhibit).", callback=utf8_text
        ),
    ] = None,
    job_files: Annotated[
        int | None, typer.Option("--job-files", min=1, help="Files per job sent to a worker (default: 1024).")
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="The environment variable that holds the broker's password on the examiner's machine.",
            callback=utf8_text,
        ),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="A file whose first line is the broker's password (read when a run starts).",
        ),
    ] = None,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set the case's broker: 'exhibit triage EX' then reads the files on its workers.

    The password is never stored in the case database: a URL with one is refused; say where it is
    read instead (--password-env or --password-file). Each change is kept with who made it and
    when ('exhibit broker show --all'); the latest applies. 'exhibit triage EX --local' still reads
    on this machine, --broker URL uses another broker.
    """
    from custody.actors import get_actor
    from triage.distributed.setting import set_broker

    with opened(case) as c:
        get_actor(c, actor)
        change = set_broker(
            c.engine,
            url,
            actor=actor,
            queue=queue,
            job_files=job_files,
            password_env=password_env,
            password_file=password_file,
        )
    if as_json:
        emit_json(change.as_dict())
        return
    out.print(escape(f"Broker set (change {change.id}): {_describe(change)}"))


def _describe(change: Change) -> str:
    """One line: URL (redacted), queue, job size, where the password is read."""
    from triage.distributed.app import DEFAULT_QUEUE
    from triage.engine.workers import CHUNK_FILES

    url = change.as_dict()["url"]
    queue = change.queue or f"{DEFAULT_QUEUE} (default)"
    files = (
        f"{change.job_files} files per job" if change.job_files else f"{CHUNK_FILES} files per job (default)"
    )
    password = f", password from the {change.password_from}" if change.password_from else ""
    return f"{url}, queue {queue}, {files}{password}"


def broker_show(
    every: Annotated[
        bool, typer.Option("--all", help="Every change, oldest first, with who made it and when.")
    ] = False,
    case: CaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the case's broker setting (never a password), or with --all every change of it.

    --json prints the setting as an object (null when none is set), with --all a list of changes
    (a change with a null url cleared the setting).
    """
    from triage.distributed.setting import current, history

    with opened(case) as c:
        changes = history(c.engine) if every else []
        now = None if every else current(c.engine)
    if as_json:
        emit_json([ch.as_dict() for ch in changes] if every else (now.as_dict() if now else None))
        return
    if not every:
        if now is None:
            out.print(
                "No broker is set: 'exhibit triage' reads the files on this machine unless given --broker."
            )
            return
        out.print(escape(f"Broker: {_describe(now)}"))
        out.print(escape(f"Set by {now.actor} at {now.changed_utc} (change {now.id})"))
        return
    table = LiteralTable("Change", "Changed (UTC)", "Actor", "Broker", "Queue", "Job files", "Password from")
    for ch in changes:
        shown = ch.as_dict()
        table.add_row(
            str(ch.id),
            ch.changed_utc,
            ch.actor,
            shown["url"] or "(cleared)",
            ch.queue or "",
            "" if ch.job_files is None else str(ch.job_files),
            ch.password_from or "",
        )
    out.print(table)


def broker_clear(actor: ActorOpt, case: CaseOpt = None) -> None:
    """Clear the case's broker: 'exhibit triage EX' reads the files on this machine again.

    The earlier settings stay listed ('exhibit broker show --all').
    """
    from custody.actors import get_actor
    from triage.distributed.setting import clear_broker

    with opened(case) as c:
        get_actor(c, actor)
        change = clear_broker(c.engine, actor=actor)
    if change is None:
        err.print("No broker was set: nothing to clear.")
        return
    out.print(f"Broker cleared (change {change.id}): 'exhibit triage' reads the files on this machine.")


def register(app: typer.Typer) -> None:
    app.command(
        "worker",
        epilog=example(
            "exhibit worker --broker redis://127.0.0.1:6379/0",
            "exhibit worker --broker amqp://guest:guest@10.0.0.5:5672// --concurrency 8 --queue lab",
        ),
    )(worker)
    broker_app.command(
        "set",
        epilog=example(
            "exhibit broker set redis://10.0.0.5:6379/0 --password-env EXHIBIT_BROKER_PASSWORD --actor asmith",
            "exhibit broker set amqp://exhibit@10.0.0.5:5672// --password-file /etc/exhibit/broker.pw "
            "--queue lab --actor asmith",
        ),
    )(broker_set)
    broker_app.command("show", epilog=example("exhibit broker show", "exhibit broker show --all --json"))(
        broker_show
    )
    broker_app.command("clear", epilog=example("exhibit broker clear --actor asmith"))(broker_clear)
    app.add_typer(broker_app, name="broker")
