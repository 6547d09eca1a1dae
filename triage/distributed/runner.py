"""The coordinator's side: the run's jobs sent as Celery tasks, their results collected.

:class:`CeleryRunner` is the :class:`~triage.engine.remote.RemoteRunner` of a run given
``--broker``. It cuts the run's files into the engine's jobs (triage/engine/workers.py:
``chunks``), keeps about two jobs per worker process in the queue, and hands each job's results
to the run as they finish; the run stores them (it stays the only writer of rows and ledger).
Every round of a run goes this way: the walk's files, then the archives' members, then the
carved files (their jobs say where those files are: triage/distributed/codec.py).

Delivery is at least once, so a job can finish twice (a worker lost after finishing, a job
resent): the first result of each job is the one handed on, any later one is dropped. A worker
that stops answering (killed, its machine gone) while it holds a job has that job sent again at
once; the broker also gives the job back to the queue itself (RabbitMQ when the connection
drops, Redis after its visibility timeout), whichever comes first is used.

The broker itself can go away in the middle of a run (restarted, its machine rebooted). A broker
that does not keep its queues (Redis without persistence, the usual setting) comes back empty:
the jobs in its queue, the ones the workers held and their results are gone. So when a request
to the broker fails, or the broker answers as another server than before (Redis's ``run_id``),
the coordinator waits for it to answer again (``broker_wait`` seconds, then the run stops with
an error saying so and how to resume), and sends every job not yet collected again. The workers
reconnect by themselves. A job whose first send finishes after all is collected once as above.

A job's message can also be lost without a worker the coordinator saw holding it: one a killed
worker had taken but not yet started (no worker is recorded as its holder), which Redis would
give back only after its visibility timeout (an hour). So when nothing was collected for
``STALL_SECONDS`` while every worker answers that it runs and holds nothing, the jobs sent
before that and not collected are sent again (found in review: a run waited on such a job).
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from celery.result import AsyncResult

from triage.distributed.app import (
    DEFAULT_QUEUE,
    JOB_TIME_LIMIT,
    JOB_TIMEOUT_ENV,
    TASK,
    answering,
    broker_identity,
    check_broker,
    connection_errors,
    listening,
    make_app,
    occupied,
    redacted,
    release,
    seconds_from_env,
)
from triage.distributed.codec import decode_result, encode_job, encode_setup
from triage.engine.per_file import FileJob
from triage.engine.remote import RemoteFinished, Whereabouts
from triage.engine.workers import CHUNK_BYTES, CHUNK_FILES, WorkerSetup, chunks
from triage.errors import DistributedError

LIVENESS_SECONDS = 2.0  # how often the workers known to listen are pinged
DISCOVER_SECONDS = 10.0  # how often the queue's listeners are looked for anew (workers added)
NO_WORKER_SECONDS = 60.0  # a run with jobs left and no worker for this long fails
MAX_ATTEMPTS = 5  # sends of one job (a job that kills every worker it is given is not sent forever)
BROKER_WAIT_SECONDS = 60.0  # a broker gone in the middle of a run is waited for this long
BROKER_WAIT_ENV = "EXHIBIT_BROKER_WAIT_SECONDS"  # ... or for this many seconds
POLL_SECONDS = 0.05
#: Nothing collected for this long while every worker is idle: the jobs outstanding were lost.
STALL_SECONDS = 15.0


@dataclass
class _Job:
    start: int
    stop: int
    tasks: list[AsyncResult] = field(default_factory=list)
    holders: dict[str, str] = field(default_factory=dict)  # task id -> worker that started it
    lost: set[str] = field(default_factory=set)  # task ids whose worker was lost
    resent: int = 0  # sends because the broker lost the job (not counted against MAX_ATTEMPTS)
    sent_at: float = 0.0  # monotonic time of the last send


class CeleryRunner:
    """Reads a run's files on the Celery workers listening on ``queue`` at ``broker``."""

    def __init__(
        self,
        broker: str,
        queue: str = DEFAULT_QUEUE,
        job_files: int = CHUNK_FILES,
        backend: str | None = None,
        broker_wait: float | None = None,
        job_timeout: float | None = None,
    ) -> None:
        if job_files < 1:
            raise DistributedError(f"--job-files must be at least 1, not {job_files}")
        self.broker = broker
        self.queue = queue
        self.job_files = job_files
        self.broker_wait = (
            seconds_from_env(BROKER_WAIT_ENV, BROKER_WAIT_SECONDS) if broker_wait is None else broker_wait
        )
        # a job still running after this long is ended by its worker, and the run stops
        self.job_timeout = (
            seconds_from_env(JOB_TIMEOUT_ENV, JOB_TIME_LIMIT) if job_timeout is None else job_timeout
        )
        self.app: Celery = make_app(broker, backend)
        self.errors = connection_errors(self.app)  # what a broker or result store gone raises
        self.workers: dict[str, int] = {}  # node name -> processes, as last seen

    @property
    def alive(self) -> int:
        """Workers listening on the queue when last asked (the progress bar shows it)."""
        return len(self.workers)

    def check(self) -> None:
        try:
            check_broker(self.app)
            self.workers = listening(self.app, self.queue)
        finally:
            release(self.app)  # the run forks next (the walk): no broker socket open meanwhile
        if not self.workers:
            raise DistributedError(
                f"no exhibit worker listens on queue {self.queue!r} at {redacted(self.broker)}",
                hint=f"start one: exhibit worker --broker {redacted(self.broker)} --queue {self.queue}; "
                "nothing was recorded",
            )

    def describe(self) -> dict[str, Any]:
        return {"broker": redacted(self.broker), "queue": self.queue, "job_files": self.job_files}

    @contextmanager
    def processing(
        self, run_id: str, jobs: Sequence[FileJob], setup: WorkerSetup, where: Whereabouts | None = None
    ) -> Iterator[Iterator[RemoteFinished]]:
        run = _Fanout(self, run_id, jobs, setup, where)
        try:
            yield run.finished()
        finally:
            try:
                run.close()
            finally:
                release(self.app)  # before the run forks (the next round's walk, carving)


class _Fanout:
    """One round of a run on the workers: jobs queued, watched, collected once each."""

    def __init__(
        self,
        runner: CeleryRunner,
        run_id: str,
        jobs: Sequence[FileJob],
        setup: WorkerSetup,
        where: Whereabouts | None = None,
    ) -> None:
        self.runner = runner
        self.app = runner.app
        self.jobs = jobs
        self.where = where
        self.settings = encode_setup(run_id, setup)
        self.todo = deque(_Job(a, b) for a, b in chunks(jobs, runner.job_files, CHUNK_BYTES))
        self.pending: list[_Job] = []
        self.ready: deque[RemoteFinished] = deque()  # collected, not yet handed to the run
        self.identity: str | None = None  # which server: a restart changes it
        with contextlib.suppress(*runner.errors):  # gone already: the first request rides it out
            self.identity = broker_identity(self.app)
        self.checked = self.discovered = time.monotonic()
        self.no_worker_since: float | None = None
        self.misses: dict[str, int] = {}  # worker holding a job -> liveness checks it missed in a row
        self.collected_at = time.monotonic()  # when a job was last collected (or the round began)
        self.stall = STALL_SECONDS

    def _send(self, job: _Job) -> None:
        if len(job.tasks) - job.resent >= MAX_ATTEMPTS:
            first = self.jobs[job.start].entry.path
            raise DistributedError(
                f"the job of {job.stop - job.start} file(s) from {first} was sent {MAX_ATTEMPTS} times "
                "and every worker given it was lost",
                hint="look at the workers' logs (a file that crashes the reader, memory)",
            )
        message = encode_job(self.settings, self.jobs[job.start : job.stop], self.where)
        job.sent_at = time.monotonic()
        job.tasks.append(
            self.app.send_task(
                TASK, args=[message], queue=self.runner.queue, time_limit=self.runner.job_timeout
            )
        )

    def _window(self) -> int:
        return max(2, 2 * sum(self.runner.workers.values()))

    def finished(self) -> Iterator[RemoteFinished]:
        while self.todo or self.pending or self.ready:
            try:
                self._step()
            except self.runner.errors as exc:
                self._ride_out(exc)
            while self.ready:  # collected before a failed request too: none is lost
                yield self.ready.popleft()

    def _step(self) -> None:
        """Fill the queue, collect what finished (into ``ready``), watch the workers and broker."""
        while self.todo and len(self.pending) < self._window():
            job = self.todo.popleft()
            self.pending.append(job)
            self._send(job)
        progressed = False
        for job in list(self.pending):
            done = self._collect(job)
            if done is not None:
                self.pending.remove(job)
                results = [decode_result(r) for r in done[1]["results"]]
                self.ready.append(
                    (self.jobs[job.start : job.stop], results, str(done[1]["worker"]), len(job.tasks))
                )
                progressed = True
                self.collected_at = time.monotonic()
                self._drop_others(job, done[0])
        if time.monotonic() - self.checked >= LIVENESS_SECONDS:
            self._watch_workers()
            self._rescue_idle()
            identity = broker_identity(self.app)
            if identity != self.identity:
                self._resend_all()  # restarted between two requests: it holds none of our jobs
                self.identity = identity
        if not progressed:
            time.sleep(POLL_SECONDS)

    def _ride_out(self, error: Exception) -> None:
        """The broker (or the result store) stopped answering: wait for it, then send again
        every job not collected, or stop the run saying how to resume."""
        url = redacted(self.runner.broker)
        since = time.monotonic()
        while True:
            release(self.app)  # the pooled connections are dead: new ones
            try:
                check_broker(self.app, after="")
                self.identity = broker_identity(self.app)
                break
            except Exception as exc:
                if not isinstance(exc, (DistributedError, *self.runner.errors)):
                    raise
                if time.monotonic() - since >= self.runner.broker_wait:
                    raise DistributedError(
                        f"lost the broker at {url} in the middle of the run "
                        f"({type(error).__name__}: {error}) and it did not come back within "
                        f"{self.runner.broker_wait:.0f} s",
                        hint="what was stored is kept; start the broker, then run the same command "
                        "again to resume (the files already stored are not read again)",
                    ) from error
                time.sleep(1.0)
        self._resend_all()

    def _resend_all(self) -> None:
        """Send again every job sent and not collected (the broker may have lost them)."""
        for job in self.pending:
            job.lost.update(task.id for task in job.tasks)  # their failures no longer stop the run
            job.resent += 1
            self._send(job)
        self.misses = {}

    def _collect(self, job: _Job) -> tuple[AsyncResult, dict[str, Any]] | None:
        """The first finished task of ``job`` with its payload; None while none has finished.
        A task lost with its worker process (WorkerLostError) is sent again."""
        for task in list(job.tasks):
            state = task.state
            if state == "SUCCESS":
                payload: dict[str, Any] = task.get(timeout=10, propagate=False)
                if "error" in payload:  # a job the worker could not do (triage/distributed/tasks.py)
                    raise DistributedError(
                        str(payload["error"]),
                        hint=f"{payload.get('hint') or 'look at the worker'}; the run stopped: fix or stop "
                        f"{payload['worker']}, then run the same command again to resume",
                    )
                return task, payload
            if state == "STARTED":
                info = task.info
                if isinstance(info, dict) and info.get("hostname"):
                    job.holders[task.id] = str(info["hostname"])
            elif state == "FAILURE":
                error = task.result
                if type(error).__name__ == "WorkerLostError" and task.id not in job.lost:
                    job.lost.add(task.id)
                    self._send(job)
                    continue
                if task.id in job.lost:
                    continue
                holder = job.holders.get(task.id, "a worker")
                if type(error).__name__ == "TimeLimitExceeded":
                    raise DistributedError(
                        f"{holder} did not finish the job of {job.stop - job.start} file(s) from "
                        f"{self.jobs[job.start].entry.path} within {self.runner.job_timeout:g} s: it ended the job",
                        hint=f"the run stopped; a damaged file system can keep a read going for long: give the "
                        f"jobs more time ({JOB_TIMEOUT_ENV}, {JOB_TIME_LIMIT} by default) or fewer files "
                        "(--job-files), then run the same command again to resume",
                    )
                raise DistributedError(
                    f"{holder} failed on the job of files from {self.jobs[job.start].entry.path}: {error}",
                    hint="the run stopped; fix the worker and run the same command again to resume",
                )
        return None

    def _watch_workers(self) -> None:
        """Ask who listens; send again the jobs held by a worker that no longer answers."""
        now = self.checked = time.monotonic()
        if now - self.discovered >= DISCOVER_SECONDS or not self.runner.workers:
            self.discovered = now
            alive = listening(self.app, self.runner.queue)
        else:
            known = self.runner.workers
            alive = {node: known[node] for node in answering(self.app, list(known))}
        self.runner.workers = alive
        missing = {holder for job in self.pending for holder in job.holders.values()} - alive.keys()
        self.misses = {node: self.misses.get(node, 0) + 1 for node in missing}
        for job in self.pending:
            for task_id, holder in list(job.holders.items()):
                # two answers missed in a row: one reply lost in a busy moment is not a lost worker
                if self.misses.get(holder, 0) >= 2 and task_id not in job.lost:
                    job.lost.add(task_id)
                    self._send(job)
        if alive:
            self.no_worker_since = None
        elif self.no_worker_since is None:
            self.no_worker_since = time.monotonic()
        elif time.monotonic() - self.no_worker_since > NO_WORKER_SECONDS:
            raise DistributedError(
                f"no worker has listened on queue {self.runner.queue!r} for {NO_WORKER_SECONDS:.0f} s "
                f"with {len(self.pending) + len(self.todo)} job(s) left",
                hint="start workers (exhibit worker) and run the same command again to resume",
            )

    def _rescue_idle(self) -> None:
        """Jobs outstanding while every worker is idle were lost (see the module docstring):
        send them again, not counted against MAX_ATTEMPTS (no worker failed on them)."""
        now = time.monotonic()
        if not self.pending or not self.runner.workers or now - self.collected_at < self.stall:
            return
        busy = occupied(self.app, list(self.runner.workers))
        if busy is None or busy:  # a worker did not answer, or one is still at work
            return
        for job in self.pending:
            if now - job.sent_at >= self.stall:
                job.lost.update(task.id for task in job.tasks)
                job.resent += 1
                self._send(job)
        self.collected_at = now

    def _drop_others(self, job: _Job, kept: AsyncResult) -> None:
        """The other tasks of a finished job: revoked (not run if not started), results forgotten."""
        for task in job.tasks:
            if task.id != kept.id:
                self.app.control.revoke(task.id)
            _forget(task)

    def close(self) -> None:
        """Leaving (done, an error, Ctrl-C): revoke what was sent and not collected."""
        for job in self.pending:
            for task in job.tasks:
                # best effort while the run ends: a job finished late is ignored anyway
                with contextlib.suppress(Exception):
                    self.app.control.revoke(task.id)
                _forget(task)
        self.pending = []


def _forget(task: AsyncResult) -> None:
    with contextlib.suppress(Exception):  # rpc:// keeps nothing to forget
        task.forget()
