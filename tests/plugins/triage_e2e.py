"""The whole engine once, for plugin tests: a folder holding databases is acquired into a new case,
``exhibit triage`` runs on it (through the real command line, in this process), and the views
(``exhibit chats``/``calls``/``contacts --json``) are read back as JSON lines.

The case is made with the library calls ``exhibit case init``/``actor add``/``acquire`` use, as
tests/triage/test_views.py does; triage and the views go through ``custody.cli.main``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from custody import cli
from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict[str, Any]]:
        assert self.code == 0, self.out + self.err
        return [json.loads(line) for line in self.out.splitlines()]


def exhibit(*args: str) -> Ran:
    """Run ``exhibit ARGS`` in this process, as the ``exhibit`` script would (stdout as UTF-8)."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    out.flush()
    return Ran(code, raw.getvalue().decode("utf-8"), err.getvalue())


def acquired_case(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exhibits: Mapping[str, Path],
    *,
    title: str = "end to end",
    actor: str = "asmith",
) -> Path:
    """A new case at ``tmp_path/case`` with ``actor`` (an examiner) and each evidence path of
    ``exhibits`` (exhibit number -> file, folder or image) acquired; made the current case and
    actor ($EXHIBIT_CASE, $EXHIBIT_ACTOR) for the rest of the test. Returns the case folder."""
    folder = tmp_path / "case"
    case = init_case(folder, case_number="2026/99", title=title)
    try:
        add_actor(case, actor, name="Alan Smith", role="examiner")
        for number, evidence in exhibits.items():
            acquire(case, evidence, exhibit=number, actor=actor, description=f"{title}: {evidence.name}")
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(folder))
    monkeypatch.setenv("EXHIBIT_ACTOR", actor)
    return folder


@contextlib.contextmanager
def triaged_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: Mapping[str, Path], plugins: str
) -> Iterator[Ran]:
    """Copy ``files`` (relative path in the folder -> source) into a folder, acquire it as EX-001
    of a new case, run ``exhibit triage EX-001 --plugins PLUGINS``; the case is the current one
    ($EXHIBIT_CASE) while the block runs. Yields what ``exhibit triage`` printed."""
    folder = tmp_path / "evidence"
    for relative, source in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    case = init_case(tmp_path / "case", case_number="2026/99", title="plugin end to end")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, folder, exhibit="EX-001", actor="asmith", description="a folder")
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")
    ran = exhibit("triage", "EX-001", "--plugins", plugins, "--workers", "1")
    assert ran.code == 0, ran.out + ran.err
    assert "Traceback" not in ran.out + ran.err
    yield ran
