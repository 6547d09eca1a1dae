"""The case's broker setting (``exhibit broker set|show|clear``) and ``exhibit triage`` using it.

Real ``exhibit`` commands in subprocesses, a real ``exhibit worker`` on the shared Redis (its own
queue), a private Redis with a password for the password tests (tests/private_broker.py), SQLite
and the shared PostgreSQL server. The workers, the ext4 image and the case come from
tests/triage/test_distributed.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from custody import cli
from custody.actors import add_actor
from custody.case import init_case, open_case
from custody.items import acquire
from custody.store.db import alembic_config
from tests.conftest import pg_connect
from tests.docs_runner import _run_inprocess
from tests.private_broker import private_redis
from tests.triage.test_distributed import EXHIBIT, REDIS, Workers, _case, _reachable
from tests.triage.test_engine import build_ext4
from tests.triage.test_lab_bad_conditions import _env
from triage.store import HEAD, MIGRATIONS


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A tiny ext4 image (three files, five with the folders): a run takes a moment."""
    files = {"notes/todo.txt": b"meet at the harbour\n", "notes/van.txt": b"white van\n", "empty.bin": b""}
    return build_ext4(tmp_path / "image", files)


def _exhibit(
    case: Path, plugins: Path, *args: str, code: int = 0, **env: str
) -> subprocess.CompletedProcess[str]:
    """``exhibit ARGS --case CASE`` in a new process (what a run on the workers needs)."""
    done = subprocess.run(
        [EXHIBIT, *args, "--case", str(case)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(plugins, COLUMNS="200", **env),
    )
    assert done.returncode == code, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


class Cli:
    """``exhibit ARGS --case CASE`` in this process (tests/docs_runner.py), for the quick commands."""

    def __init__(self, case: Path, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
        self.case, self.monkeypatch, self.stdout = case, monkeypatch, folder / "stdout.bin"
        monkeypatch.setenv("EXHIBIT_KEY_PASSPHRASE", "")
        cli._load_subcommands()
        monkeypatch.setattr(cli, "_load_subcommands", lambda: None)

    def __call__(self, *args: str, code: int = 0) -> str:
        """Everything the command wrote (stdout, then stderr), runs of white space made one space
        (the console wraps long lines at its width)."""
        done, err = _run_inprocess([*args, "--case", str(self.case)], self.stdout, self.monkeypatch)
        said = self.stdout.read_text(encoding="utf-8", errors="replace") + err  # stdout went to the file
        assert done == code, (args, said)
        assert "Traceback" not in said, said
        return " ".join(said.split())

    def json(self, *args: str) -> Any:
        self(*args, "--json")
        return json.loads(self.stdout.read_text(encoding="utf-8"))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    """An empty plugin folder for the subprocesses: workers and coordinator have the installed
    plugins only (the same on both)."""
    folder = tmp_path / "no-plugins"
    folder.mkdir()
    return folder


def _new_case(root: Path, db_url: str | None = None) -> Path:
    """A case with one registered examiner and no exhibit (the setting needs no evidence)."""
    c = init_case(root, case_number="2026/11", title="broker setting", db_url=db_url)
    try:
        add_actor(c, "asmith", name="Alan Smith", role="examiner")
    finally:
        c.close()
    return root


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(_new_case(tmp_path / "case"), monkeypatch, tmp_path)


def test_set_show_clear_and_every_change_kept(
    run: Cli, tmp_path: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "No broker is set" in run("broker", "show")
    assert run.json("broker", "show") is None
    assert run.json("broker", "show", "--all") == []

    monkeypatch.chdir(tmp_path)
    made = run.json(
        "broker", "set", "amqp://lab@127.0.0.1:5672//", "--queue", "room-2", "--job-files", "8",
        "--password-file", "broker.pw", "--actor", "asmith",
    )  # fmt: skip
    assert (made["url"], made["queue"], made["job_files"]) == ("amqp://lab@127.0.0.1:5672//", "room-2", 8)
    assert made["password_file"] == str(tmp_path / "broker.pw")  # absolute: read on the coordinator
    assert made["password_env"] is None and made["actor"] == "asmith" and made["id"] == 1
    assert run.json("broker", "show") == made
    shown = run("broker", "show")
    assert "amqp://lab@127.0.0.1:5672//, queue room-2, 8 files per job, password from the file" in shown
    assert "Set by asmith at " in shown

    second = run.json("broker", "set", REDIS, "--password-env", "LAB_PW", "--actor", "asmith")
    assert (second["url"], second["queue"], second["job_files"], second["password_env"]) == (
        REDIS, None, None, "LAB_PW"
    )  # fmt: skip
    assert "queue exhibit (default), 1024 files per job (default)" in run("broker", "show")

    assert "Broker cleared (change 3)" in run("broker", "clear", "--actor", "asmith")
    assert run.json("broker", "show") is None
    assert "nothing to clear" in run("broker", "clear", "--actor", "asmith")  # and no fourth change

    changes = run.json("broker", "show", "--all")
    assert [(c["id"], c["url"], c["actor"]) for c in changes] == [
        (1, made["url"], "asmith"), (2, REDIS, "asmith"), (3, None, "asmith")
    ]  # fmt: skip
    assert [c["changed_utc"] for c in changes] == sorted(c["changed_utc"] for c in changes)
    table = _exhibit(run.case, plugins, "broker", "show", "--all").stdout  # 200 columns: not wrapped
    assert "(cleared)" in table and "environment variable LAB_PW" in table and "room-2" in table


def test_what_the_setting_refuses(run: Cli) -> None:
    secret = "s3cr3t-" + uuid.uuid4().hex
    said = run("broker", "set", f"redis://:{secret}@10.0.0.5:6379/0", "--actor", "asmith", code=2)
    assert "holds a password" in said and "--password-env" in said and secret not in said
    assert "redis://:***@10.0.0.5:6379/0" in said
    for args, message in (
        (("http://10.0.0.5/", "--actor", "asmith"), "is not a Redis or RabbitMQ URL"),
        ((REDIS, "--actor", "nobody"), "actor 'nobody' is not registered"),
        ((REDIS, "--password-env", "A", "--password-file", "f", "--actor", "asmith"), "not both"),
        ((REDIS, "--password-env", "no such=name", "--actor", "asmith"), "not the name of an environment variable"),
        ((REDIS, "--queue", "", "--actor", "asmith"), "a queue name has 1 to 255 characters"),
    ):  # fmt: skip
        assert message in run("broker", "set", *args, code=2), args
    assert "actor 'nobody' is not registered" in run("broker", "clear", "--actor", "nobody", code=2)
    assert run.json("broker", "show", "--all") == []  # nothing refused was stored


def test_contradicting_triage_options_are_refused_before_anything_is_recorded(run: Cli) -> None:
    for args, message in (
        (("--local", "--broker", REDIS), "give --broker URL or --local, not both"),
        (("--local", "--queue", "q"), "not with --local"),
        (("--job-files", "2"), "give --broker URL too"),  # no broker given and none set
    ):
        said = run("triage", "EX-001", "--actor", "asmith", *args, code=2)
        assert message in said and "nothing was recorded" in said, (args, said)


@pytest.fixture
def worker(plugins: Path, tmp_path: Path) -> Iterator[Workers]:
    """One ``exhibit worker`` on the shared Redis, on a queue of its own."""
    why = _reachable(REDIS)
    if why:
        pytest.skip(why)
    logs = tmp_path / "logs"
    logs.mkdir()
    w = Workers(REDIS, f"test-{uuid.uuid4().hex[:10]}", plugins, logs)
    try:
        w.start("s1")
        w.wait_listening()
        yield w
    finally:
        w.stop()


def _case_of_three(root: Path, image: Path) -> Path:
    """EX-001 to EX-003: the same image acquired three times (a run each)."""
    c = _case(root, image)
    try:
        for n in (2, 3):
            acquire(c, image, exhibit=f"EX-00{n}", actor="asmith", description="phone")
    finally:
        c.close()
    return root


@pytest.mark.slow
def test_triage_reads_on_the_workers_of_the_case_setting(
    tmp_path: Path, image: Path, plugins: Path, worker: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _case_of_three(tmp_path / "case", image)
    run = Cli(case, monkeypatch, tmp_path)
    [node] = worker.procs
    run("broker", "set", REDIS, "--queue", worker.queue, "--job-files", "2", "--actor", "asmith")

    # no --broker: the case's broker
    done = _exhibit(case, plugins, "triage", "EX-001", "--actor", "asmith")
    assert f"reading on the workers at {REDIS} (from the case setting)" in done.stderr, done.stderr
    [first] = run.json("runs", "EX-001")
    assert first["status"] == "complete"
    assert first["arguments"]["distributed"] == {
        "broker": REDIS, "queue": worker.queue, "job_files": 2, "broker_from": "case setting", "setting": 1,
    }  # fmt: skip
    assert set(first["workers"]) == {node} and first["workers"][node]["files"] == first["counts"]["files"] > 0
    assert node in _exhibit(case, plugins, "runs", "EX-001").stdout  # 200 columns: not wrapped

    # a setting whose broker is down: the run says so, names the setting, records nothing
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    run("broker", "set", down, "--queue", worker.queue, "--actor", "asmith")
    failed = _exhibit(case, plugins, "triage", "EX-003", "--actor", "asmith", code=2)
    assert f"the broker at {down} does not answer" in failed.stderr, failed.stderr
    assert "(the case's broker setting)" in failed.stderr and "exhibit broker show" in failed.stderr
    assert "nothing was recorded" in failed.stderr
    assert run.json("runs", "EX-003") == []
    # --local: this machine, whatever the setting (this one's broker is never asked)
    local = _exhibit(case, plugins, "triage", "EX-002", "--actor", "asmith", "--local")
    assert f"reading on this machine (--local; the case's broker {down} is not used)" in local.stderr
    [second] = run.json("runs", "EX-002")
    assert second["status"] == "complete" and "distributed" not in second["arguments"]
    assert second["workers"] == {}
    # --broker: another broker than the setting's (its own queue and job size, not the setting's)
    over = _exhibit(
        case, plugins, "triage", "EX-003", "--actor", "asmith", "--broker", REDIS, "--queue", worker.queue
    )
    assert f"reading on the workers at {REDIS} (--broker)" in over.stderr
    [third] = run.json("runs", "EX-003")
    assert third["status"] == "complete"
    assert third["arguments"]["distributed"] == {
        "broker": REDIS, "queue": worker.queue, "job_files": 1024, "broker_from": "--broker",
    }  # fmt: skip
    assert set(third["workers"]) == {node}
    assert "OK" in run("custody", "verify")


@pytest.fixture
def locked_redis() -> Iterator[tuple[str, str]]:
    """A private Redis (tests/private_broker.py) that asks for a password: its URL without the
    password, and the password (with characters a URL must percent-encode)."""
    import redis

    password = "pw-" + uuid.uuid4().hex + "/+@:x"
    with private_redis() as server:
        client = redis.Redis(host="127.0.0.1", port=server.port)
        client.config_set("requirepass", password)
        client.close()
        yield server.url, password


@pytest.mark.slow
def test_the_password_is_read_where_the_setting_says_and_never_shown(
    tmp_path: Path, image: Path, plugins: Path, locked_redis: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bare, password = locked_redis
    encoded = quote(password, safe="")
    shown = bare.replace("redis://", "redis://:***@")
    logs = tmp_path / "logs"
    logs.mkdir()
    w = Workers(
        bare.replace("redis://", f"redis://:{encoded}@"), f"test-{uuid.uuid4().hex[:10]}", plugins, logs
    )
    case = _case_of_three(tmp_path / "case", image)
    cli_run = Cli(case, monkeypatch, tmp_path)
    said: list[str] = []

    def run(*args: str, code: int = 0) -> str:
        said.append(cli_run(*args, code=code))
        return said[-1]

    def triage(exhibit: str, code: int = 0, **env: str) -> str:
        done = _exhibit(case, plugins, "triage", exhibit, "--actor", "asmith", code=code, **env)
        said.append(done.stdout + done.stderr)
        return said[-1]

    try:
        w.start("p1")
        w.wait_listening()
        run("broker", "set", bare, "--queue", w.queue, "--password-env", "LAB_BROKER_PW", "--actor", "asmith")

        assert "environment variable LAB_BROKER_PW, which is not set" in triage("EX-001", code=2)
        assert cli_run.json("runs", "EX-001") == []  # nothing recorded
        wrong = triage("EX-001", code=2, LAB_BROKER_PW="not-it")
        assert (  # the broker said no: not "start the broker" (found in review)
            f"the broker at {shown} refused the login" in wrong and "not-it" not in wrong
        )
        assert "start the broker" not in wrong and "check the user and password" in " ".join(wrong.split())
        assert f"reading on the workers at {shown} (from the case setting)" in triage(
            "EX-001", LAB_BROKER_PW=password
        )

        pw_file = tmp_path / "broker.pw"
        pw_file.write_text(password + "\n", encoding="utf-8")
        run("broker", "set", bare, "--queue", w.queue, "--password-file", str(pw_file), "--actor", "asmith")
        triage("EX-002")
        pw_file.unlink()
        assert f"cannot read the broker's password from {pw_file}" in triage("EX-003", code=2)

        runs = cli_run.json("runs")
        assert [(r["exhibit"], r["status"]) for r in runs] == [("EX-001", "complete"), ("EX-002", "complete")]
        assert [r["arguments"]["distributed"]["setting"] for r in runs] == [1, 2]
        for r in runs:
            assert r["arguments"]["distributed"]["broker"] == shown  # a password was used, not which
            assert set(r["workers"]) == set(w.procs)
        said.append(json.dumps(runs))
        run("runs")
        said.append(json.dumps(cli_run.json("broker", "show", "--all")))
        run("broker", "show", "--all")
        said.append(json.dumps(cli_run.json("custody", "log")))
        # the password is in no output and nowhere in the case folder (database, WAL, keys)
        assert not [s for s in said if password in s or encoded in s]
        for f in case.rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                assert password.encode() not in data and encoded.encode() not in data, f
    finally:
        w.stop()


def _old_case(root: Path, db_url: str | None) -> Path:
    """A case whose triage tables were made by the release before the setting (revision t0006)."""
    from alembic import command

    _new_case(root, db_url)
    c = open_case(root)
    try:
        with c.engine.begin() as conn:
            command.upgrade(alembic_config(conn, MIGRATIONS), "t0006")
    finally:
        c.close()
    return root


def _version(case: Path) -> list[str]:
    c = open_case(case)
    try:
        with c.engine.connect() as conn:
            return list(conn.execute(text("SELECT version_num FROM triage_alembic_version")).scalars())
    finally:
        c.close()


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_case_from_before_the_setting_is_upgraded(
    tmp_path: Path, store: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = request.getfixturevalue("pg_database") if store == "postgresql" else None
    case = _old_case(tmp_path / "case", db_url)
    run = Cli(case, monkeypatch, tmp_path)
    assert _version(case) == ["t0006"]
    assert run.json("broker", "show") is None  # read without changing the case
    assert _version(case) == ["t0006"]
    made = run.json("broker", "set", REDIS, "--queue", "q", "--actor", "asmith")
    assert _version(case) == [HEAD] == ["t0009"]
    assert run.json("broker", "show") == made
    if db_url is not None:  # per-person logins (the examiner role) can set and read it too
        with pg_connect(db_url.rsplit("/", 1)[-1]) as conn:
            granted = conn.execute(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = 'exhibit_examiner' AND table_name = 'triage_broker_settings'"
            ).fetchall()
        assert {"SELECT", "INSERT"} <= {p for (p,) in granted}


def test_the_setting_on_postgresql_from_a_new_case(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Cli(_new_case(tmp_path / "case", pg_database), monkeypatch, tmp_path)
    run("broker", "set", REDIS, "--password-env", "LAB_PW", "--actor", "asmith")
    run("broker", "clear", "--actor", "asmith")
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT url, password_env, actor FROM triage_broker_settings ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(REDIS, "LAB_PW", "asmith"), (None, None, "asmith")]
    assert [c["url"] for c in run.json("broker", "show", "--all")] == [REDIS, None]
