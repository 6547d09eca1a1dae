"""Shared fixtures: where the real test corpus lives, and an isolated user config folder."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
FORENSICS_SAMPLES = Path("/usr/share/forensics-samples")


def need(path: Path, why: str = "") -> Path:
    """Return ``path`` or skip the test, saying what is missing."""
    if not path.exists():
        pytest.skip(f"test data absent: {path} {why}".strip())
    return path


def need_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (apt-get install sleuthkit ewf-tools ...)")
    return found


@pytest.fixture
def corpus() -> Path:
    """The shared corpus folder (../shared/corpus beside the repo); skips when absent."""
    return need(CORPUS, "(the shared corpus sits beside the repository as ../shared/corpus)")


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep private keys and settings of every test out of the real user's config folder."""
    home = tmp_path_factory.mktemp("exhibit-config")
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(home))
    monkeypatch.delenv("EXHIBIT_CASE", raising=False)
    monkeypatch.delenv("EXHIBIT_ACTOR", raising=False)
    monkeypatch.delenv("EXHIBIT_KEY_PASSPHRASE", raising=False)
    return home


# -- PostgreSQL: a fresh database per test ------------------------------------------------------

PG_ADMIN = os.environ.get("EXHIBIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_connect(dbname: str | None = None):  # type: ignore[no-untyped-def]
    import psycopg

    url = PG_ADMIN if dbname is None else PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def pg_available() -> str | None:
    try:
        with pg_connect() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: not here
        return f"PostgreSQL not reachable at {PG_ADMIN}: {exc}"
    return None


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database URL, dropped after the test."""
    why = pg_available()
    if why:
        pytest.skip(why)
    name = f"exhibit_test_{uuid.uuid4().hex[:12]}"
    with pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sendable(text: str) -> str:
    """``text`` with characters UTF-8 cannot encode (surrogates) written as escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A report holding undecodable evidence bytes (output or a log line read with
    surrogateescape) gets them escaped: pytest-xdist cannot send such a string to the controller
    and ended the whole run with an INTERNALERROR instead of reporting the test. Its failure
    message and its captured sections (log, output; passed reports carry them too)."""
    report: pytest.TestReport = yield
    if report.failed and report.longrepr is not None:
        text = str(report.longrepr)
        if _sendable(text) is not text:
            report.longrepr = _sendable(text)
    report.sections = [(title, _sendable(body)) for title, body in report.sections]
    return report
