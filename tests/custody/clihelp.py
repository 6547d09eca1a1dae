"""Running the real ``exhibit`` CLI for the hardening tests: in this process (fast) through
``custody.cli.main`` and its error handling, or as a child process with a time and memory limit
for inputs that would hang or exhaust memory in a broken version (FIFOs, ``/dev/zero``)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass

import pytest

from custody.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """stderr with line wrapping undone (the console wraps at 80 columns)."""
        return " ".join(self.err.split())

    @property
    def clean_failure(self) -> bool:
        """A usage failure with a message: exit 2, 'error:' and no traceback or internal error."""
        return (
            self.code == 2
            and "error:" in self.err
            and "Traceback" not in self.err
            and "internal error" not in self.err
        )


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    # Encode as a real process does in a UTF-8 locale (non-UTF-8 names in argv arrive as surrogates).
    for stream, errors in ((sys.stdout, "surrogateescape"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=errors)
    try:
        main(list(args))
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    else:  # main() always exits
        code = -1
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def _limit_memory() -> None:
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def cli_child(*args: str, timeout: float = 60) -> Result:
    """``python -m triage.launch ARGS`` with 1 GiB of address space; a hang fails the test."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "triage.launch", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "COLUMNS": "200"},
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"exhibit {' '.join(args)} did not finish in {timeout} s (hung)")
    return Result(done.returncode, done.stdout, done.stderr)
