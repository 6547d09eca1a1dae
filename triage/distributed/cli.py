"""``exhibit worker`` and the options ``exhibit triage`` takes to fan a run out to workers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from custody.cli import example

BrokerOpt = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="Read the files on Celery workers through this broker (redis://HOST:6379/0 or "
        "amqp://USER:PASSWORD@HOST:5672//) instead of local processes; see docs/lab.md.",
    ),
]
QueueOpt = Annotated[str, typer.Option("--queue", help="The broker queue the workers listen on.")]
JobFilesOpt = Annotated[
    int,
    typer.Option(
        "--job-files",
        min=1,
        help="With --broker: files per job sent to a worker (smaller jobs spread a small exhibit "
        "over more workers).",
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


def register(app: typer.Typer) -> None:
    app.command(
        "worker",
        epilog=example(
            "exhibit worker --broker redis://127.0.0.1:6379/0",
            "exhibit worker --broker amqp://guest:guest@10.0.0.5:5672// --concurrency 8 --queue lab",
        ),
    )(worker)
