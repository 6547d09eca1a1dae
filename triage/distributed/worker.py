"""``exhibit worker``: a Celery worker that reads triage jobs from a queue.

It checks the broker first (a clear error, not Celery's retry loop, when it is down), then runs
Celery's worker with this project's settings (triage/distributed/app.py): one job at a time per
process, acknowledged when done. Each process dies with the worker (a ``kill -9`` of the worker
never leaves a process reading the evidence and writing results nobody waits for).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from celery.signals import worker_process_init

from triage.distributed import tasks
from triage.distributed.app import DEFAULT_QUEUE, check_broker, make_app
from triage.engine.workers import die_with_parent


def default_name(queue: str) -> str:
    """``exhibit-QUEUE@HOST`` (``exhibit@HOST`` for the default queue): one worker per queue and
    machine; give ``--name`` to run more on one machine."""
    prefix = "exhibit" if queue == DEFAULT_QUEUE else f"exhibit-{queue}"
    return f"{prefix}@{socket.gethostname()}"


def run_worker(
    broker: str,
    *,
    queue: str = DEFAULT_QUEUE,
    concurrency: int | None = None,
    name: str | None = None,
    scratch: Path | None = None,
    backend: str | None = None,
    loglevel: str = "INFO",
) -> None:
    """Run a worker until it is stopped (SIGTERM or Ctrl-C: the jobs in hand are finished first)."""
    app = make_app(broker, backend)
    check_broker(app, after="")
    processes = concurrency or os.cpu_count() or 1
    tasks.config = tasks.WorkerConfig(scratch or tasks.config.scratch, processes)
    parent = os.getpid()

    def _die_with_worker(**_: object) -> None:
        die_with_parent(parent)

    worker_process_init.connect(_die_with_worker, weak=False)
    app.worker_main(
        [
            "worker",
            f"--queues={queue}",
            f"--concurrency={processes}",
            f"--hostname={name or default_name(queue)}",
            f"--loglevel={loglevel}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
        ]
    )
