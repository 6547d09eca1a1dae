"""bench/fuzz_triage.py: it runs the real triage, says how much it did, stays quiet when nothing is
wrong and reports (and saves for replay) a planted crash, hang and segfault.

The planted failures come from a throw-away distribution the script writes into its own work
folder (an ``exhibit.plugins`` entry point); nothing in Exhibit knows about them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO, need

SCRIPT = REPO / "bench" / "fuzz_triage.py"


HANG_LIMIT = 15  # seconds per execution in the planted-failure tests


def fuzz(tmp_path: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    need(CORPUS / "images" / "Canon_40D.jpg", "(the fuzz script mutates corpus files)")
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(tmp_path / "out"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def summary_numbers(output: str) -> dict[str, float]:
    line = next(ln for ln in output.splitlines() if ln.startswith("executions:"))
    return {k: float(v) for k, v in re.findall(r"([a-z/]+): ([0-9.]+)", line)}


def test_clean_inputs_report_executions_and_exit_0(tmp_path: Path) -> None:
    result = fuzz(tmp_path, "--no-mutate", "--only", "Canon_40D", "--max-execs", "2", "--minutes", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    numbers = summary_numbers(result.stdout)
    assert numbers["executions"] == 2
    assert numbers["crashes"] == 0 and numbers["hangs"] == 0 and numbers["memory"] == 0
    assert numbers["executions/s"] > 0
    # every command really ran on the photo, the findings table too
    assert "'triage': 2" in result.stdout and "'findings': 2" in result.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["executions"] == 2 and summary["findings"] == []


def test_mutating_runs_and_describes_each_case(tmp_path: Path) -> None:
    """A few mutated executions: whatever they find, the summary line is there and each saved
    finding carries the input, the mutations and the output."""
    result = fuzz(tmp_path, "--only", "photo", "--max-execs", "3", "--minutes", "2", "--seed", "3")
    assert result.returncode in (0, 1), result.stderr
    assert summary_numbers(result.stdout)["executions"] == 3
    for case in (tmp_path / "out").glob("*/case.json"):
        desc = json.loads(case.read_text())
        assert desc["mutations"] and (case.parent / "output.txt").exists()


@pytest.mark.parametrize(
    ("fault", "kind", "expected"),
    [
        ("raise", "internal-error", "PlantedCrash"),
        ("segv", "crash", "SIGSEGV"),
        ("hang", "hang", "no answer within"),
    ],
)
def test_planted_failure_is_reported_saved_and_replayed(
    tmp_path: Path, fault: str, kind: str, expected: str
) -> None:
    # the limit leaves room for a loaded machine (an execution takes ~1 s quiet, 5 s at load 12):
    # a planted hang never answers, so only the hang case waits it out
    result = fuzz(tmp_path, "--self-test", fault, "--max-execs", "1", "--timeout", str(HANG_LIMIT))
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert summary_numbers(result.stdout)["executions"] == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    [finding] = [f for f in summary["findings"] if f["kind"] == kind]
    assert "fuzz_selftest_plugin.py" in finding["key"]  # located in the planted plugin's frame
    saved = Path(finding["saved"])
    assert (saved / "evidence").is_dir() and (saved / "output.txt").read_text()
    replayed = fuzz(
        tmp_path, "--self-test", fault, "--timeout", str(HANG_LIMIT), "--replay", str(saved / "case.json")
    )
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert f"FOUND {kind}" in replayed.stdout
