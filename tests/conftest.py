"""Shared fixtures: where the real test corpus lives, and an isolated user config folder."""

from __future__ import annotations

import shutil
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
