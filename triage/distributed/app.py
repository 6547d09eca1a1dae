"""The Celery application both sides use: its settings, the broker check, who listens.

At-least-once delivery: a job's message is acknowledged only when its task has finished
(``task_acks_late``), and given back to the queue when the worker process running it dies
(``task_reject_on_worker_lost``); each worker process takes one job at a time
(``worker_prefetch_multiplier=1``), so a worker that dies holds no other job. The coordinator
resends the job of a worker that stopped answering, stores the first result of each job and
ignores any later one (triage/distributed/runner.py).

Results come back through the result backend: the Redis broker's own server, or for RabbitMQ
Celery's ``rpc://`` backend (replies on the broker itself). JSON only, compressed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import kombu.pools
from celery import Celery
from kombu.exceptions import OperationalError

from triage.errors import DistributedError

_T = TypeVar("_T")

TASK = "exhibit.triage.read_job"
DEFAULT_QUEUE = "exhibit"
CONNECT_TIMEOUT = 3.0  # seconds: a broker that does not answer by then is reported down
#: A job still running after this long is ended by its worker and fails the run, naming the worker
#: (a local run's stall watch, triage/engine/stall.py, is not there on a worker: this bounds a
#: read stuck in The Sleuth Kit instead of letting the run wait for ever). The coordinator gives
#: each job its run's limit (``EXHIBIT_JOB_TIMEOUT_SECONDS``, triage/distributed/runner.py); this
#: one is the worker's own, for a job that came without.
JOB_TIME_LIMIT = 3600
JOB_TIMEOUT_ENV = "EXHIBIT_JOB_TIMEOUT_SECONDS"
SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")


def redacted(url: str) -> str:
    """``url`` without its password (what messages, the run's record and logs show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def check_url(url: str) -> str:
    """``url`` when it names a broker this tool speaks to; DistributedError otherwise."""
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise DistributedError(
            f"{redacted(url)!r} is not a Redis or RabbitMQ URL",
            hint="use redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672//",
        )
    return url


def result_backend(broker: str) -> str:
    """Where results come back: the Redis server of a Redis broker, else replies on the broker."""
    return broker if urlsplit(broker).scheme in ("redis", "rediss") else "rpc://"


def make_app(broker: str, backend: str | None = None) -> Celery:
    """The Celery application on ``broker`` (results through ``backend`` or the default)."""
    from triage.distributed import tasks  # the task body; workers run it

    check_url(broker)
    backend = backend or result_backend(broker)
    app = Celery("exhibit", broker=broker, backend=backend, set_as_current=False)
    if not backend.startswith("rpc://"):  # rpc:// replies cannot be compressed
        app.conf.result_compression = "zlib"
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=24 * 3600,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,  # the coordinator sees which worker holds a job
        task_time_limit=JOB_TIME_LIMIT,
        worker_prefetch_multiplier=1,
        task_default_queue=DEFAULT_QUEUE,
        broker_connection_timeout=CONNECT_TIMEOUT,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # Redis: a job not acknowledged after this long is given to another worker (a job of
        # 1024 files or 128 MiB takes well under it); the coordinator resends sooner when it
        # sees its worker gone
        broker_transport_options={"visibility_timeout": 3600},
        redis_socket_connect_timeout=CONNECT_TIMEOUT,
        redis_socket_timeout=30,
    )
    app.task(name=TASK, bind=True)(tasks.read_job)
    return app


#: What brokers answer to a wrong user or password: RabbitMQ's ``ACCESS_REFUSED`` (amqp's
#: ``AccessRefused``), Redis's ``WRONGPASS``/``NOAUTH`` (redis-py's ``AuthenticationError``).
_LOGIN_REFUSED = (
    "ACCESS_REFUSED",
    "WRONGPASS",
    "NOAUTH",
    "invalid username-password",
    "Authentication required",
)


def refused_login(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a broker refusing the credentials, not a broker away."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if name in ("AccessRefused", "AuthenticationError", "AuthenticationWrongNumberOfArgsError") or any(
            marker in str(current) for marker in _LOGIN_REFUSED
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def check_broker(
    app: Celery, timeout: float = CONNECT_TIMEOUT, after: str = "; nothing was recorded"
) -> None:
    """Connect to the broker (and a Redis result backend) once, within ``timeout`` seconds;
    DistributedError saying which and what to do when it does not answer (``after`` ends the hint)."""
    url = str(app.conf.broker_url)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as exc:  # kombu, socket and driver errors alike: the broker is not there
        if refused_login(exc):  # it is there and said no (found in review: "start the broker")
            raise DistributedError(
                f"the broker at {redacted(url)} refused the login: {type(exc).__name__}: {exc}",
                hint="check the user and password of --broker, or the secret --password-env or "
                f"--password-file names (docs/lab.md){after}",
            ) from exc
        raise DistributedError(
            f"the broker at {redacted(url)} does not answer: {type(exc).__name__}: {exc}",
            hint=f"start the broker (docs/lab.md) or give the right --broker URL{after}",
        ) from exc
    backend = str(app.conf.result_backend)
    if backend.startswith(("redis://", "rediss://")):
        try:
            app.backend.client.ping()
        except Exception as exc:
            if refused_login(exc):
                raise DistributedError(
                    f"the result backend at {redacted(backend)} refused the login: {type(exc).__name__}: {exc}",
                    hint=f"check the Redis user and password of the result backend (docs/lab.md){after}",
                ) from exc
            raise DistributedError(
                f"the result backend at {redacted(backend)} does not answer: {type(exc).__name__}: {exc}",
                hint=f"start Redis (docs/lab.md){after}",
            ) from exc


def release(app: Celery) -> None:
    """Close every broker connection this process holds for ``app``, and kombu's pools.

    Called when the coordinator is done with the broker and before it forks local processes
    (a disk image's guarded walk, the keyword search of its bytes): a forked child inherits the
    open sockets, and the after-fork clean-up of kombu and Celery in the child shuts them down
    (``shutdown(2)`` acts on the parent's socket too), so the coordinator's next use of a pooled
    connection would fail.
    """
    consumer = getattr(app.backend, "result_consumer", None)
    if consumer is not None and getattr(consumer, "_connection", None) is not None:
        with contextlib.suppress(Exception):
            consumer.stop()
        consumer._connection = consumer._consumer = None
    with contextlib.suppress(Exception):
        app.pool.force_close_all()
    kombu.pools.reset()
    # the next use makes new pools (what Celery does after a fork)
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def _retried(app: Celery, call: Callable[[], _T]) -> _T:
    """``call()``, once more (on a new connection) when the first attempt's connection failed."""
    try:
        return call()
    except (OSError, OperationalError):
        return call()


def listening(app: Celery, queue: str, timeout: float = 1.0) -> dict[str, int]:
    """The workers that consume ``queue`` now, by node name, with their number of processes.
    Takes ``timeout`` seconds (a broadcast cannot know how many will answer)."""
    queues: dict[str, Any] = _retried(app, lambda: app.control.inspect(timeout=timeout).active_queues()) or {}
    nodes = [node for node, qs in queues.items() if any(q.get("name") == queue for q in qs or ())]
    if not nodes:
        return {}
    inspect = app.control.inspect(timeout=timeout, destination=nodes, limit=len(nodes))
    stats: dict[str, Any] = _retried(app, inspect.stats) or {}
    out = {}
    for node in nodes:
        pool = (stats.get(node) or {}).get("pool") or {}
        out[node] = int(pool.get("max-concurrency") or 1)
    return out


def answering(app: Celery, nodes: list[str], timeout: float = 1.0) -> set[str]:
    """Which of ``nodes`` answer a ping (at once when all do; ``timeout`` when one does not)."""
    if not nodes:
        return set()
    replies = _retried(app, lambda: app.control.ping(destination=nodes, timeout=timeout, limit=len(nodes)))
    return {node for reply in replies or [] for node in reply}


def occupied(app: Celery, nodes: list[str], timeout: float = 1.0) -> set[str] | None:
    """The ids of the tasks ``nodes`` run or hold reserved now; None unless every node answered
    (a node that does not answer may hold anything)."""
    if not nodes:
        return set()
    inspect = app.control.inspect(timeout=timeout, destination=nodes, limit=len(nodes))
    active: dict[str, Any] | None = _retried(app, inspect.active)
    reserved: dict[str, Any] | None = _retried(app, inspect.reserved)
    if not active or not reserved or set(active) != set(nodes) or set(reserved) != set(nodes):
        return None
    return {
        str(task.get("id"))
        for replies in (active, reserved)
        for tasks in replies.values()
        for task in tasks or ()
        if isinstance(task, dict)
    }


def connection_errors(app: Celery) -> tuple[type[Exception], ...]:
    """What a request raises when the broker or the result store is gone (or restarting)."""
    with app.connection_for_write() as conn:  # not connected: only its transport's error classes
        errors = (*conn.connection_errors, *conn.channel_errors)
    backend = tuple(getattr(app.backend, "connection_errors", ()) or ())
    return tuple(dict.fromkeys((OSError, OperationalError, *errors, *backend)))


def broker_identity(app: Celery) -> str | None:
    """Which server answers as the Redis result store (its ``run_id``, new at every start of the
    server): a change means it restarted and lost what it held. None for RabbitMQ's replies."""
    if not str(app.conf.result_backend).startswith(("redis://", "rediss://")):
        return None
    info: dict[str, Any] = app.backend.client.info("server")
    return str(info.get("run_id"))


def seconds_from_env(name: str, default: float) -> float:
    """A number of seconds from the environment variable ``name`` (``default`` when unset); a value
    that is not a positive number is an error of the command, not a reason to use the default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):  # also false for NaN
        raise DistributedError(
            f"{name}={raw!r} is not a positive number of seconds",
            hint=f"set {name} to e.g. {default:.0f} or unset it (docs/lab.md)",
        )
    return value
