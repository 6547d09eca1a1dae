"""Fixtures of the triage tests."""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS, need
from tests.triage.images import Workspace


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    need(CORPUS, "(the shared corpus sits beside the repository as ../shared/corpus)")
    return Workspace(tmp_path_factory.mktemp("oracle-images"))
