"""The case's broker setting: where ``exhibit triage EX`` reads the files when not given ``--broker``.

A lab sets its broker once per case (``exhibit broker set URL``) rather than on every examiner's
command line. The setting lives in the case database, table ``triage_broker_settings``: each change
is a new row with who made it and when, nothing is edited, and the latest row applies (a row
without a URL means the setting was cleared), like the case's TSA setting (custody/timestamps.py).

The broker's password is never stored: the case database is shared by every examiner of the case
(and its tables can be read by every per-person login). A URL holding a password is refused; the
setting names instead where the coordinator finds the password when a run starts, an environment
variable (``--password-env``) or a file (``--password-file``) on the examiner's machine.

The change is not a ledger entry: it does not touch any evidence, and what matters to a third
party repeating a run is where that run's files were read, which the run's own ``triage.run``
entry records (``arguments.distributed``: the broker without password, the queue, the job size
and ``broker_from``, the option or the setting it came from; :func:`choose`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import Engine, insert, inspect, select

from custody import timefmt
from triage.errors import DistributedError
from triage.store.models import BrokerChange

TABLE = BrokerChange.name
FROM_OPTION = "--broker"  # ``broker_from`` of a run given --broker
FROM_SETTING = "case setting"  # ... of a run that used the case's setting
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
MAX_QUEUE = 255


@dataclass(frozen=True)
class Change:
    """One row of ``triage_broker_settings``: a setting made, or (``url`` None) cleared."""

    id: int
    url: str | None
    queue: str | None
    job_files: int | None
    password_env: str | None
    password_file: str | None
    actor: str
    changed_utc: str
    changed_offset: str

    @property
    def password_from(self) -> str | None:
        """Where the password is read, in words (None: the broker needs none)."""
        if self.password_env:
            return f"environment variable {self.password_env}"
        if self.password_file:
            return f"file {self.password_file}"
        return None

    def as_dict(self) -> dict[str, Any]:
        """The row as ``exhibit broker show --json`` prints it (the URL redacted, in case a row
        written by other means holds a password)."""
        return {
            "id": self.id,
            "url": None if self.url is None else _shown(self.url),
            "queue": self.queue,
            "job_files": self.job_files,
            "password_env": self.password_env,
            "password_file": self.password_file,
            "actor": self.actor,
            "changed_utc": self.changed_utc,
            "changed_offset": self.changed_offset,
        }


def _shown(url: str) -> str:
    from triage.distributed.app import redacted

    return redacted(url)


def _change(row: Any) -> Change:
    return Change(
        id=int(row.id),
        url=row.url,
        queue=row.queue,
        job_files=None if row.job_files is None else int(row.job_files),
        password_env=row.password_env,
        password_file=row.password_file,
        actor=row.actor,
        changed_utc=row.changed_utc,
        changed_offset=row.changed_offset,
    )


def history(engine: Engine) -> list[Change]:
    """Every change, oldest first (none in a case whose triage tables predate the setting)."""
    if not inspect(engine).has_table(TABLE):
        return []
    t = BrokerChange
    with engine.connect() as conn:
        return [_change(r) for r in conn.execute(select(t).order_by(t.c.id))]


def current(engine: Engine) -> Change | None:
    """The setting in force: the latest change, unless it cleared the setting."""
    if not inspect(engine).has_table(TABLE):  # a case not migrated yet has never had one
        return None
    t = BrokerChange
    with engine.connect() as conn:
        row = conn.execute(select(t).order_by(t.c.id.desc()).limit(1)).first()
    if row is None or row.url is None:
        return None
    return _change(row)


def _check_setting(
    url: str, queue: str | None, job_files: int | None, password_env: str | None, password_file: Path | None
) -> None:
    from triage.distributed.app import check_url

    check_url(url)
    if urlsplit(url).password is not None:
        raise DistributedError(
            f"the broker URL {_shown(url)} holds a password: the case database does not keep it",
            hint="give the URL without the password and say where this machine reads it: "
            "--password-env NAME (an environment variable) or --password-file PATH (docs/lab.md)",
        )
    if password_env is not None and password_file is not None:
        raise DistributedError(
            "give --password-env or --password-file, not both", hint="the password is read from one place"
        )
    if password_env is not None and not _ENV_NAME.fullmatch(password_env):
        raise DistributedError(
            f"{password_env!r} is not the name of an environment variable",
            hint="e.g. --password-env EXHIBIT_BROKER_PASSWORD (the name, not the password)",
        )
    if queue is not None and not 0 < len(queue) <= MAX_QUEUE:
        raise DistributedError(f"a queue name has 1 to {MAX_QUEUE} characters", hint="e.g. --queue lab")
    if job_files is not None and job_files < 1:
        raise DistributedError(f"--job-files must be at least 1, not {job_files}")


def set_broker(
    engine: Engine,
    url: str,
    *,
    actor: str,
    queue: str | None = None,
    job_files: int | None = None,
    password_env: str | None = None,
    password_file: Path | None = None,
) -> Change:
    """Record a new setting (the caller has checked that ``actor`` is registered)."""
    from triage.store import ensure_schema

    _check_setting(url, queue, job_files, password_env, password_file)
    ensure_schema(engine)
    return _append(
        engine,
        url=url,
        queue=queue,
        job_files=job_files,
        password_env=password_env,
        password_file=None if password_file is None else str(password_file.expanduser().absolute()),
        actor=actor,
    )


def clear_broker(engine: Engine, *, actor: str) -> Change | None:
    """Record that the case has no broker any more; None (nothing recorded) when it had none."""
    from triage.store import ensure_schema

    if current(engine) is None:
        return None
    ensure_schema(engine)
    return _append(
        engine, url=None, queue=None, job_files=None, password_env=None, password_file=None, actor=actor
    )


def _append(engine: Engine, **values: Any) -> Change:
    stamp = timefmt.stamp()
    t = BrokerChange
    with engine.begin() as conn:
        new = conn.execute(
            insert(BrokerChange).values(**values, changed_utc=stamp.utc, changed_offset=stamp.offset)
        ).inserted_primary_key
        assert new is not None
        row = conn.execute(select(t).where(t.c.id == new[0])).one()
    return _change(row)


def with_password(setting: Change, environ: Mapping[str, str] | None = None) -> str:
    """The setting's URL with the password read from where the setting says (the URL alone when
    it names no place). DistributedError naming the variable or the file, never the password."""
    assert setting.url is not None
    environ = os.environ if environ is None else environ
    again = "; nothing was recorded"
    if setting.password_env:
        password = environ.get(setting.password_env, "")
        if not password:
            raise DistributedError(
                f"the case's broker setting reads the broker's password from the environment variable "
                f"{setting.password_env}, which is not set on this machine",
                hint=f"set {setting.password_env}, give --broker URL, or --local to read on this machine{again}",
            )
    elif setting.password_file:
        try:
            lines = Path(setting.password_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise DistributedError(
                f"cannot read the broker's password from {setting.password_file} (the case's broker "
                f"setting): {why}",
                hint=f"make the file readable on this machine, give --broker URL, or --local{again}",
            ) from None
        password = lines[0] if lines else ""
        if not password:
            raise DistributedError(
                f"{setting.password_file} (the case's broker setting) holds no password on its first line",
                hint=f"write the password on its first line, give --broker URL, or --local{again}",
            )
    else:
        return setting.url
    parts = urlsplit(setting.url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""  # as written in the URL (already percent-encoded)
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Chosen:
    """The broker a run reads its files through, and what its record says about where it came from."""

    url: str  # with its password: never printed (``shown`` is)
    shown: str
    queue: str
    job_files: int
    origin: dict[str, Any]  # added to the run's ``arguments.distributed``

    @property
    def source(self) -> str:
        return str(self.origin["broker_from"])


def check_flags(*, broker: str | None, local: bool, queue: str | None, job_files: int | None) -> None:
    """The triage options that contradict each other, refused before the case is even opened."""
    if local and broker is not None:
        raise DistributedError(
            "give --broker URL or --local, not both",
            hint="--local reads the files in this machine's processes, --broker on workers; nothing was recorded",
        )
    if local and (queue is not None or job_files is not None):
        raise DistributedError(
            "--queue and --job-files are for runs on workers, not with --local",
            hint="leave them out, or give --broker URL instead of --local; nothing was recorded",
        )


def choose(
    engine: Engine,
    *,
    broker: str | None,
    local: bool,
    queue: str | None,
    job_files: int | None,
    environ: Mapping[str, str] | None = None,
) -> Chosen | None:
    """Where a run reads its files: the workers of ``--broker``, else those of the case's setting
    (unless ``--local``), else local processes (None). Raises DistributedError, before anything is
    recorded, for contradicting options or a setting whose password cannot be read."""
    check_flags(broker=broker, local=local, queue=queue, job_files=job_files)
    if local:
        return None
    if broker is None:
        setting = current(engine)
        if setting is None:
            if queue is not None or job_files is not None:
                raise DistributedError(
                    "--queue and --job-files are for runs on workers: give --broker URL too",
                    hint="or set the case's broker: exhibit broker set URL --actor ID (docs/lab.md); "
                    "nothing was recorded",
                )
            return None  # local processes: Celery is not imported at all
    # Celery (through app) only for a run on workers
    from triage.distributed.app import DEFAULT_QUEUE, check_url, redacted
    from triage.engine.workers import CHUNK_FILES

    if broker is not None:
        check_url(broker)
        return Chosen(
            broker,
            redacted(broker),
            queue or DEFAULT_QUEUE,
            job_files or CHUNK_FILES,
            {"broker_from": FROM_OPTION},
        )
    assert setting is not None and setting.url is not None
    origin: dict[str, Any] = {"broker_from": FROM_SETTING, "setting": setting.id}
    url = with_password(setting, environ)
    return Chosen(
        url,
        redacted(url),  # redis://:***@HOST/0 when a password is used
        queue or setting.queue or DEFAULT_QUEUE,
        job_files or setting.job_files or CHUNK_FILES,
        origin,
    )
