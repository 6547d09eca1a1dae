"""Rewrite triage/roothelp.py: the text Typer prints for ``exhibit --help``, kept so that
``exhibit --help`` answers without importing Typer (triage/launch.py).

    .venv/bin/python scripts/write_root_help.py

Run it after adding, renaming or re-describing a top-level command; tests/test_startup.py
fails until the copy equals what Typer prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def typer_root_help() -> str:
    """What the full CLI (Typer) prints for ``exhibit --help`` on a terminal of 80 columns or more."""
    env = {**os.environ, "COLUMNS": "80", "EXHIBIT_NO_FAST_HELP": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "triage.launch", "--help"], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


def main() -> None:
    text = typer_root_help()
    module = (
        '"""What ``exhibit --help`` prints: a copy of Typer\'s output, written by scripts/write_root_help.py\n'
        '(tests/test_startup.py checks it still equals what Typer prints)."""\n\n'
        f"ROOT_HELP = {text!r}\n"
    )
    (ROOT / "triage" / "roothelp.py").write_text(module, encoding="utf-8")


if __name__ == "__main__":
    main()
