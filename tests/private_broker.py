"""A Redis server of a test's own (Debian's ``redis-server`` on a free port, nothing saved to disk),
for tests that stop or restart the broker in the middle of a run: the shared server at
127.0.0.1:6379 is never touched."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """A server a test stops and starts again, ``down`` seconds apart."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def restart(self, down: float = 0.0) -> None:
        self.stop()
        time.sleep(down)
        self.start()


@dataclass
class PrivateRedis(_Server):
    binary: str
    folder: Path
    port: int
    proc: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - the server keeps it
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")

    def stop(self) -> None:
        """Gone at once, as a crashed or rebooted server: everything it held (queues, results) is lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="exhibit-redis-"))
    server = PrivateRedis(binary, folder, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


@dataclass
class PrivateRabbit(_Server):
    """A RabbitMQ node of a test's own: its own node name, ports and folders (queues kept on disk
    across its restarts, as a lab's server keeps them), no plugins; the shared node and its
    Erlang port mapper are left alone."""

    folder: Path
    name: str
    port: int
    dist_port: int
    as_user: list[str]
    proc: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        import os

        f = self.folder
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(f / "mnesia"),
            "RABBITMQ_LOG_BASE": str(f / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(f / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(f / "pid"),
            "RABBITMQ_CONFIG_FILE": str(f / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(f / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(f / "rabbitmq-env.conf"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(f / "feature_flags"),
        }

    def start(self, timeout: float = 120.0) -> None:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the server keeps it
        self.proc = subprocess.Popen(
            [*self.as_user, str(RABBIT_SERVER)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self._env(),
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise AssertionError(
            f"rabbitmq-server did not start: {(self.folder / 'server.log').read_text()[-3000:]}"
        )

    def stop(self) -> None:
        """Killed (a crash or a power cut): its clients see the connections drop."""
        import os
        import signal

        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None


@contextmanager
def private_rabbitmq() -> Iterator[PrivateRabbit]:
    import os

    if not RABBIT_SERVER.exists():
        pytest.skip("rabbitmq-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="exhibit-rabbit-"))
    (folder / "enabled_plugins").write_text("[].\n")
    as_user: list[str] = []
    if os.geteuid() == 0:  # RabbitMQ runs as its own user (it keeps the Erlang cookie)
        for p in (folder, folder / "enabled_plugins"):
            shutil.chown(p, "rabbitmq")
        as_user = ["runuser", "-u", "rabbitmq", "--"]
    server = PrivateRabbit(
        folder, f"exhibit-test-{folder.name[-8:]}@localhost", free_port(), free_port(), as_user
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
