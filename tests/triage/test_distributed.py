"""Distributed triage against the real Redis and RabbitMQ of this machine (issue 11, section 1).

Real ``exhibit worker`` processes (subprocesses, each on a queue of its own test) read a real
ext4 image built from corpus files (for the comparison with a local run, also a zip holding a
zip, and a deleted photo to carve from free space); the coordinator is this process. No mocks,
no eager mode.
A test-only plugin, installed for the test as a real distribution on the workers' PYTHONPATH
(an ``exhibit.plugins`` entry point), makes some files slow to read, so a worker can be killed
while it holds a job.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from custody.actors import add_actor
from custody.case import Case, init_case, open_case
from custody.items import DERIVE, acquire
from custody.verify import verify_case
from tests.conftest import CORPUS, need, need_tool
from tests.triage.test_engine import build_ext4
from tests.triage.test_nested import zip_bytes
from triage.engine.run import RunSummary, TriageOptions, run_triage
from triage.errors import DistributedError
from triage.views.findings import list_runs

pytestmark = pytest.mark.slow

EXHIBIT = str(Path(sys.executable).with_name("exhibit"))
REDIS = "redis://127.0.0.1:6379/13"
RABBIT = "amqp://guest:guest@127.0.0.1:5672//"

SLOW_PLUGIN = '''
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from triage.plugin import FileItem, Option, ParseContext, Plugin, Record, Targets


@dataclass(frozen=True, kw_only=True)
class SlowNote(Record):
    record_type: ClassVar[str] = "test/slow-note"
    text: str = ""
    related: str = ""


class SlowPlugin(Plugin):
    """Test only: reads a .slow or .note file's first line, and names the .note files it finds as
    related files; waits ``ms`` milliseconds first for a .slow file and, with ``marker``, leaves
    a file named after its worker there (which worker holds a job)."""

    name = "slow_test"
    version = "1"
    description = "test plugin: slow on purpose"
    targets = Targets(globs=("**/*.slow", "**/*.note"))
    emits = (SlowNote,)
    options = (
        Option("ms", "int", "milliseconds to wait per file"),
        Option("marker", "text", "folder where a started file leaves a marker"),
    )

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        slow = item.name.endswith(".slow")
        marker = ctx.options.get("marker")
        if marker and slow:
            name = item.source.path.rsplit("/", 1)[-1]
            Path(marker, f"{os.getppid()}-{os.getpid()}-{name}").touch()
        if slow:
            time.sleep(ctx.options.get("ms", 0) / 1000)
        related = ",".join(sorted(found.path for found in item.find("/**/*.note")))
        with item.open() as f:
            yield SlowNote(
                source=item.source, locator="line 1", text=f.readline().decode().strip(), related=related
            )
'''


def _reachable(url: str) -> str | None:
    host, port = ("127.0.0.1", 6379) if url.startswith("redis") else ("127.0.0.1", 5672)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        return f"{url.split('://')[0]} broker not reachable at {host}:{port}: {exc}"
    return None


@pytest.fixture(params=[REDIS, RABBIT], ids=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> str:
    why = _reachable(request.param)
    if why:
        pytest.skip(why)
    url: str = request.param
    return url


@pytest.fixture
def slow_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The slow plugin as an installed distribution: on this process's path and the workers'."""
    folder = tmp_path / "plugins"
    info = folder / "exhibit_slow_test-1.dist-info"
    info.mkdir(parents=True)
    (folder / "exhibit_slow_test.py").write_text(SLOW_PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: exhibit-slow-test\nVersion: 1\n")
    (info / "entry_points.txt").write_text("[exhibit.plugins]\nslow_test = exhibit_slow_test:SlowPlugin\n")
    monkeypatch.syspath_prepend(str(folder))
    return folder


def _slow_notes(folder: str, prefix: str, count: int) -> dict[str, bytes]:
    return {f"{folder}/{prefix}{n:02}.slow": f"note {prefix}{n}\nmore\n".encode() for n in range(count)}


def _phone_zip(slow: int) -> bytes:
    """A phone extraction as a zip (real contacts database, real GPS photo, ``slow`` notes named
    ``mNN.slow``) holding another zip (a real photo, a text): members, and members of a member."""
    corpus = need(CORPUS)
    inner = zip_bytes(
        {
            "DCIM/DSCN0025.jpg": (corpus / "images/gps/DSCN0025.jpg").read_bytes(),
            "notes/inner.note": b"the boat leaves at six\n",
        }
    )
    return zip_bytes(
        {
            "data/data/com.android.providers.contacts/databases/contacts2.db": (
                corpus / "chats/contacts2.db"
            ).read_bytes(),
            "sdcard/DCIM/DSCN0021.jpg": (corpus / "images/gps/DSCN0021.jpg").read_bytes(),
            "sdcard/backup/old-phone.zip": inner,
            "sdcard/notes/phone.note": b"call back\n",
            **_slow_notes("sdcard/notes", "m", slow),
        }
    )


def _deleted(image: Path, path: str) -> Path:
    """``image`` with ``path`` deleted by debugfs (its blocks freed, their bytes left to carve)."""
    debugfs = need_tool("debugfs")
    image.chmod(0o644)
    subprocess.run([debugfs, "-w", "-R", f"rm {path}", str(image)], check=True, capture_output=True)
    image.chmod(0o444)
    return image


def _phone_files() -> dict[str, bytes]:
    """A small 'phone': the real SMS database, real photos, text, and eight .slow notes."""
    corpus = need(CORPUS)
    files = {
        "data/data/com.android.providers.telephony/databases/mmssms.db": (
            corpus / "chats/mmssms.db"
        ).read_bytes(),
        "DCIM/Camera/DSCN0010.jpg": (corpus / "images/gps/DSCN0010.jpg").read_bytes(),
        "system/lib/libcamera.dll": (corpus / "images/Canon_40D.jpg").read_bytes(),
        "notes/todo.txt": b"meet at the harbour\n",
        "empty.bin": b"",
    }
    files.update(_slow_notes("slow", "", 8))
    return files


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """The small 'phone' as an ext4 image (its files only: the walk's round)."""
    return build_ext4(tmp_path / "image", _phone_files())


@pytest.fixture
def rich_image(tmp_path: Path) -> Path:
    """The small 'phone' with every round: a phone extraction zip holding another zip, another
    zip, and a real photo deleted (carved from free space). The .note files in the evidence and
    in the zips are related files of each other (the slow test plugin names them)."""
    corpus = need(CORPUS)
    files = {
        **_phone_files(),
        "DCIM/Camera/DSCN0012.jpg": (corpus / "images/gps/DSCN0012.jpg").read_bytes(),
        "notes/top.note": b"the harbour\n",
        "Download/phone-extraction.zip": _phone_zip(slow=0),
        "Download/other-phone.zip": zip_bytes({"other.note": b"another phone\n"}),
    }
    return _deleted(build_ext4(tmp_path / "rich-image", files), "/DCIM/Camera/DSCN0012.jpg")


def _case(root: Path, image: Path, db_url: str | None = None) -> Case:
    c = init_case(root, case_number="2026/11", title="distributed", db_url=db_url)
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    acquire(c, image, exhibit="EX-001", actor="asmith", description="phone")
    return c


class Workers:
    """``exhibit worker`` subprocesses on one queue, each in its own process group.

    Node names carry a tag of this set of workers: tests running at the same time on the same
    broker must not have two nodes of one name (Celery's answers to a broadcast are keyed by node
    name, so one node's answer would hide the other's)."""

    def __init__(self, broker: str, queue: str, plugins: Path, logs: Path) -> None:
        self.broker, self.queue, self.plugins, self.logs = broker, queue, plugins, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.tag = uuid.uuid4().hex[:6]

    def node(self, name: str) -> str:
        """The node name of the worker started as ``name``."""
        return f"{name}-{self.tag}@{socket.gethostname()}"

    def start(self, name: str, prefix: Sequence[str] = (), **env: str) -> None:
        """Start worker ``name``, through a command ``prefix`` (a mount namespace, say) and with
        more ``env`` when given."""
        base = {**os.environ, "PYTHONPATH": f"{self.plugins}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        log = open(self.logs / f"{name}-{self.tag}.log", "wb")  # noqa: SIM115 - closed with the process
        args = ["worker", "--broker", self.broker, "--queue", self.queue, "--concurrency", "1"]
        self.procs[self.node(name)] = subprocess.Popen(
            [*prefix, EXHIBIT, *args, "--name", f"{name}-{self.tag}@%h"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**base, **env},
            start_new_session=True,
        )
        log.close()

    def wait_listening(self, timeout: float = 25.0) -> None:
        from triage.distributed.app import listening, make_app, release

        app = make_app(self.broker)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                for node, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise AssertionError(f"worker {node} exited: {self.log_of(node)}")
                if set(listening(app, self.queue, timeout=0.5)) >= set(self.procs):
                    return
        finally:
            release(app)  # this process forks local runs: no broker socket left open
        raise AssertionError(f"workers not listening after {timeout} s")

    def log_of(self, node: str) -> str:
        return (self.logs / f"{node.split('@')[0]}.log").read_text(errors="replace")[-3000:]

    def kill(self, node: str) -> None:
        os.killpg(self.procs[node].pid, signal.SIGKILL)
        self.procs[node].wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture
def workers(broker: str, slow_plugin: Path, tmp_path: Path) -> Iterator[Workers]:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = Workers(broker, f"test-{uuid.uuid4().hex[:10]}", slow_plugin, logs)
    try:
        yield w
    finally:
        w.stop()


def _canonical(case: Case) -> dict[str, Any]:
    """What a run stored, without run ids, row ids and times of the run (SQLite or PostgreSQL)."""

    def value(v: Any) -> Any:
        return int(v) if isinstance(v, bool) else v  # PostgreSQL's booleans, SQLite's 0 and 1

    def rows(table: str) -> list[tuple[Any, ...]]:
        with case.engine.connect() as conn:
            found = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
        keep = [tuple((k, value(r[k])) for k in sorted(r) if k not in ("id", "run_id")) for r in found]
        return sorted(keep, key=repr)

    stored: dict[str, Any] = {
        "files": rows("triage_files"),
        "findings": rows("triage_findings"),
        # the order of warnings follows the order jobs finished in: compared as a multiset
        "warnings": rows("triage_warnings"),
    }
    derived = []
    for entry in case.ledger.entries(exhibit="EX-001", kinds=[DERIVE]):
        data = dict(entry.data)
        data.pop("run")
        derived.append(json.dumps(data, sort_keys=True))
    stored["derived"] = sorted(derived)
    return stored


def _jobs(case: Case) -> dict[str, Any]:
    """The ``triage_jobs`` rows of the case by the path of the job's first file: worker, attempts,
    and that file's ``fs_type`` and ``parent`` (an archive member has one)."""
    with case.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT f.path, j.worker, j.attempts, f.fs_type, f.parent FROM triage_jobs j "
                "JOIN triage_files f ON j.id = j.run_id || '/' || f.key"
            )
        ).mappings()
        return {r["path"]: dict(r) for r in found}


def _local_run(tmp_path: Path, image: Path, option_values: list[str]) -> dict[str, Any]:
    c = _case(tmp_path / "local-case", image)
    try:
        summary = run_triage(
            c, "EX-001", actor="asmith", options=TriageOptions(workers=2, option_values=option_values)
        )
        assert summary.status == "complete"
        return _canonical(c)
    finally:
        c.close()


def test_two_workers_store_exactly_what_a_local_run_stores(
    tmp_path: Path, rich_image: Path, workers: Workers, request: pytest.FixtureRequest
) -> None:
    """Every round on the workers (the walk's files, the zips' members, the carved photo) stores
    exactly what a local run stores."""
    image = rich_image
    from triage.distributed.runner import CeleryRunner

    options = ["slow_test.ms=150"]
    expected = _local_run(tmp_path, image, options)
    assert any("test/slow-note" in repr(f) for f in expected["findings"])  # the slow plugin did run
    # what the comparison covers: members of the zip and of the zip in it, with findings (EXIF
    # and contacts), and the deleted photo carved from free space, with its EXIF finding
    deep = "/Download/phone-extraction.zip!/sdcard/backup/old-phone.zip!/DCIM/DSCN0025.jpg"
    files = [dict(r) for r in expected["files"]]
    assert any(f["path"] == deep and f["parent"] and f["sha256"] for f in files)
    carved = [f for f in files if f["fs_type"] == "carved"]
    assert carved and all(f["sha256"] for f in carved)
    paths = repr(expected["findings"])
    assert "old-phone.zip!/DCIM/DSCN0025.jpg" in paths and "contacts2.db" in paths
    assert any(f"'{c['path']}'" in paths and "photo/" in paths for c in carved)
    # the related files of a member: the evidence's and its own outermost archive's, not another's
    related = {
        f["path"].rsplit("/", 1)[1]: json.loads(f["data"])["related"]
        for f in map(dict, expected["findings"])
        if f["path"].endswith(".note")
    }
    assert related["inner.note"] == "/Download/phone-extraction.zip!/sdcard/notes/phone.note,/notes/top.note"
    assert related["other.note"] == "/notes/top.note"

    workers.start("w1")
    workers.start("w2")
    workers.wait_listening()
    # with Redis, the case of the distributed run is on PostgreSQL (the lab's case store)
    db_url = request.getfixturevalue("pg_database") if workers.broker == REDIS else None
    c = _case(tmp_path / "remote-case", image, db_url)
    try:
        runner = CeleryRunner(workers.broker, queue=workers.queue, job_files=2)
        summary = run_triage(
            c, "EX-001", actor="asmith", options=TriageOptions(option_values=options, runner=runner)
        )
        assert summary.status == "complete"
        assert _canonical(c) == expected
        assert verify_case(c).ok
        [run] = list_runs(c.engine, "EX-001")
        assert set(run["workers"]) == set(workers.procs)  # both read some of the jobs
        # every file read was read by a worker: the walk's, the archives' members, the carved ones
        assert sum(w["files"] for w in run["workers"].values()) == summary.counts["files"]
        jobs = _jobs(c)
        deep = "/Download/phone-extraction.zip!/sdcard/backup/old-phone.zip!/"
        assert any(j["parent"] for j in jobs.values()), "no job of archive members"
        assert any(p.startswith(deep) for p in jobs), "no job of a zip's zip's members"
        assert any(j["fs_type"] == "carved" for j in jobs.values()), "no job of carved files"
        assert {j["worker"] for j in jobs.values()} <= set(workers.procs)
        assert run["arguments"]["distributed"]["queue"] == workers.queue
        assert "guest:guest" not in json.dumps(run["arguments"])  # the broker's password is not recorded
    finally:
        c.close()


def coordinate_in_background(
    case: Case, broker: str, queue: str, slow_ms: int, marker: Path
) -> tuple[threading.Thread, dict[str, Any]]:
    """``run_triage`` of EX-001 through ``broker``, one file a job, the slow test plugin taking
    ``slow_ms`` a file and leaving a name in ``marker`` as it starts one; in a thread, so the test
    can break something while it runs. The dict gets ``summary`` or ``error`` when it ends."""
    from triage.distributed.runner import CeleryRunner

    outcome: dict[str, Any] = {}

    def coordinate() -> None:
        runner = CeleryRunner(broker, queue=queue, job_files=1)
        options = TriageOptions(
            option_values=[f"slow_test.ms={slow_ms}", f"slow_test.marker={marker}"], runner=runner
        )
        try:
            outcome["summary"] = run_triage(case, "EX-001", actor="asmith", options=options)
        except BaseException as exc:
            outcome["error"] = exc

    coordinator = threading.Thread(target=coordinate)
    coordinator.start()
    return coordinator, outcome


def _kill_a_holder(marker: Path, workers: Workers, prefix: str = "") -> tuple[str, str]:
    """SIGKILL the worker that started a slow file named ``prefix``... (its marker: ``<worker
    pid>-<process pid>-<file name>``) while it reads it; that worker's node and the file's name."""
    pids = {proc.pid: node for node, proc in workers.procs.items()}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for started in marker.iterdir():
            worker, _, name = started.name.split("-", 2)
            if name.startswith(prefix) and int(worker) in pids:
                workers.kill(pids[int(worker)])  # the whole worker, while it reads the slow file
                return pids[int(worker)], name
        time.sleep(0.05)
    raise AssertionError(f"no worker started a slow file named {prefix}...")


def _completed_without(
    victim: str,
    case: Case,
    coordinator: threading.Thread,
    outcome: dict[str, Any],
    workers: Workers,
    expected: dict[str, Any],
) -> str:
    """Check the run of ``coordinate_in_background`` completed after ``victim`` was killed, storing
    what a local run stores, its ledger verifying; the survivor's node."""
    coordinator.join(60)
    assert not coordinator.is_alive(), "the run did not finish after a worker was lost"
    assert "error" not in outcome, outcome.get("error")
    summary: RunSummary = outcome["summary"]
    assert summary.status == "complete"
    assert _canonical(case) == expected
    assert verify_case(case).ok  # the ledger verifies (exhibit custody verify)
    [run] = list_runs(case.engine, "EX-001")
    survivor = next(n for n in workers.procs if n != victim)
    assert run["status"] == "complete" and survivor in run["workers"]
    return survivor


def test_a_worker_killed_in_the_middle_loses_nothing(tmp_path: Path, image: Path, workers: Workers) -> None:

    marker = tmp_path / "started"
    marker.mkdir()
    expected = _local_run(tmp_path, image, ["slow_test.ms=0"])  # the wait changes no stored row

    workers.start("k1")
    workers.start("k2")
    workers.wait_listening()
    c = _case(tmp_path / "remote-case", image)
    coordinator, outcome = coordinate_in_background(c, workers.broker, workers.queue, 1200, marker)
    try:
        victim, held = _kill_a_holder(marker, workers)
        survivor = _completed_without(victim, c, coordinator, outcome, workers, expected)
        # the job the victim held (one file a job) was stored as the survivor read it: given
        # back by the broker (RabbitMQ, at once) or sent again by the coordinator (Redis)
        job = _jobs(c)[f"/slow/{held}"]
        assert job["worker"] == survivor
        assert job["attempts"] >= 1 if workers.broker.startswith("amqp") else job["attempts"] >= 2
    finally:
        coordinator.join(60)
        c.close()


def test_a_job_lost_without_a_holder_is_sent_again_when_the_workers_are_idle(
    tmp_path: Path, image: Path, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: a run waited (an hour, Redis's visibility timeout) on a job whose message was lost
    with a killed worker before any worker was seen starting it. Here the first send of the third
    job goes where no worker listens (its message lost as such a worker loses it); the workers go
    idle, the coordinator sends it again, and the run stores what a local run stores."""
    from triage.distributed import runner as runner_module

    expected = _local_run(tmp_path, image, ["slow_test.ms=0"])
    monkeypatch.setattr(runner_module, "STALL_SECONDS", 3.0)
    real_send = runner_module._Fanout._send
    lost: list[int] = []

    def send(self: Any, job: Any) -> None:
        if job.start == 2 and not lost:
            lost.append(job.start)
            job.sent_at = time.monotonic()
            job.tasks.append(
                self.app.send_task(runner_module.TASK, args=["lost"], queue="nobody-listens-here")
            )
            return
        real_send(self, job)

    monkeypatch.setattr(runner_module._Fanout, "_send", send)
    workers.start("s1")
    workers.wait_listening()
    c = _case(tmp_path / "remote-case", image)
    marker = tmp_path / "started"
    marker.mkdir()
    started = time.monotonic()
    coordinator, outcome = coordinate_in_background(c, workers.broker, workers.queue, 0, marker)
    try:
        coordinator.join(90)
        assert not coordinator.is_alive(), "the run waited on the lost job"
        assert lost == [2] and "error" not in outcome, outcome.get("error")
        assert outcome["summary"].status == "complete"
        assert _canonical(c) == expected
        assert verify_case(c).ok
        assert time.monotonic() - started < 60
    finally:
        coordinator.join(60)
        c.close()


@pytest.fixture
def zip_image(tmp_path: Path) -> Path:
    """An ext4 holding a phone extraction zip alone, four slow notes among its members: the slow
    part of a run is its second round."""
    return build_ext4(tmp_path / "zip-image", {"Download/phone-extraction.zip": _phone_zip(slow=4)})


def test_a_worker_killed_while_reading_archive_members_loses_nothing(
    tmp_path: Path, zip_image: Path, workers: Workers
) -> None:
    marker = tmp_path / "started"
    marker.mkdir()
    expected = _local_run(tmp_path, zip_image, ["slow_test.ms=0"])
    workers.start("a1")
    workers.start("a2")
    workers.wait_listening()
    c = _case(tmp_path / "remote-case", zip_image)
    coordinator, outcome = coordinate_in_background(c, workers.broker, workers.queue, 800, marker)
    try:
        victim, held = _kill_a_holder(marker, workers, prefix="m")
        survivor = _completed_without(victim, c, coordinator, outcome, workers, expected)
        job = _jobs(c)[f"/Download/phone-extraction.zip!/sdcard/notes/{held}"]
        assert job["worker"] == survivor and job["parent"]  # a member, read again by the survivor
    finally:
        coordinator.join(60)
        c.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_a_wrong_rabbitmq_password_is_a_refused_login_not_a_broker_away(tmp_path: Path, image: Path) -> None:
    """Review: the real RabbitMQ's ACCESS_REFUSED to a wrong password was reported as a broker
    that "does not answer", with the hint to start it."""
    c = _case(tmp_path / "case", image)
    c.close()
    done = subprocess.run(
        [EXHIBIT, "triage", "EX-001", "--actor", "asmith", "--case", str(tmp_path / "case"),
         "--broker", "amqp://guest:not-the-password@127.0.0.1:5672//"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "EXHIBIT_KEY_PASSPHRASE": ""},
    )  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 2 and "refused the login" in said and "check the user and password" in said, (
        said
    )
    assert "start the broker" not in said and "not-the-password" not in said and "Traceback" not in said


@pytest.mark.parametrize("scheme", ["redis://127.0.0.1:{}/0", "amqp://guest:guest@127.0.0.1:{}//"])
def test_a_broker_that_is_down_is_a_clear_error_and_nothing_is_recorded(
    tmp_path: Path, image: Path, scheme: str
) -> None:
    c = _case(tmp_path / "case", image)
    before = len(list(c.ledger.entries()))
    c.close()
    url = scheme.format(_closed_port())
    started = time.monotonic()
    done = subprocess.run(
        [EXHIBIT, "triage", "EX-001", "--actor", "asmith", "--broker", url, "--case", str(tmp_path / "case")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "EXHIBIT_KEY_PASSPHRASE": ""},
    )
    assert done.returncode != 0
    assert "does not answer" in done.stderr and "nothing was recorded" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert "guest:guest" not in done.stderr  # the password is not printed
    assert time.monotonic() - started < 20
    c = open_case(tmp_path / "case")
    try:
        assert len(list(c.ledger.entries())) == before
        assert list_runs(c.engine, "EX-001") == []
    finally:
        c.close()


def test_no_worker_on_the_queue_is_a_clear_error_before_anything_is_recorded(
    tmp_path: Path, image: Path, broker: str
) -> None:
    from triage.distributed.runner import CeleryRunner

    c = _case(tmp_path / "case", image)
    try:
        before = len(list(c.ledger.entries()))
        runner = CeleryRunner(broker, queue=f"nobody-{uuid.uuid4().hex[:8]}")
        with pytest.raises(DistributedError, match="no exhibit worker listens on queue") as info:
            run_triage(c, "EX-001", actor="asmith", options=TriageOptions(runner=runner))
        assert "exhibit worker --broker" in (info.value.hint or "")
        assert len(list(c.ledger.entries())) == before
        assert list_runs(c.engine, "EX-001") == []
    finally:
        c.close()
