"""The suite's own reporting: a failure whose message holds undecodable bytes (command output read
with surrogateescape, as tests of hostile evidence do) is reported as a failure under pytest-xdist,
not an INTERNALERROR that ends the run (CI once stopped at 1,569 tests that way); so is a passing
test whose captured log holds such bytes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_a_failure_with_surrogates_is_reported_under_xdist(tmp_path: Path) -> None:
    (tmp_path / "none.ini").write_text("[pytest]\n")
    (tmp_path / "test_undecodable.py").write_text(
        "import logging\n"
        "def test_undecodable() -> None:\n"
        "    out = b'ab\\xff\\x1b'.decode('utf-8', 'surrogateescape')\n"
        "    assert '\\x1b' not in out, out\n"
        "def test_logs_undecodable_and_passes() -> None:\n"
        "    logging.getLogger('evidence').warning('name %s', b'cd\\xfe'.decode('utf-8', 'surrogateescape'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(tmp_path), "-c", str(tmp_path / "none.ini"), str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "INTERNALERROR" not in result.stdout + result.stderr, result.stdout[-2000:]
    assert result.returncode == 1 and "1 failed, 1 passed" in result.stdout, result.stdout[-2000:]
    assert "ab\\udcff" in result.stdout  # the bytes shown escaped
