"""A file named as a plugin's format whose content is not that format costs no more than the
plugin's magic check: no plugin opens it, and no scratch copy or SQLite connection is made.

Disks are full of such files (``.db`` caches that are not SQLite, ``.jpg`` that are encrypted, a
``.pdf`` of random bytes): every built-in plugin is offered random bytes under every name its
globs accept, as the engine offers them (dispatch.match_plugins, then run_plugins), and must
decide from the first bytes the engine already holds.
"""

from __future__ import annotations

import io
import random
import re
import sqlite3
from pathlib import Path

import pytest

from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext
from triage.plugin.item import HEAD_SIZE
from triage.plugin.records import SourceRef
from triage.plugin.registry import load_plugins
from triage.plugin.scratch import Scratch


def _path_for(glob: str) -> str:
    """A path the glob matches: ``**`` as two folders, ``*`` as a word, ``?`` and ``[..]`` as one letter."""
    p = glob.replace("\\", "/").replace("**/", "data/app/").replace("**", "data/app/x")
    p = re.sub(r"\[!?([^\]])[^\]]*\]", r"\1", p).replace("*", "f0").replace("?", "a")
    return p if p.startswith("/") else "/" + p


def _random_content(plugins: list, size: int) -> bytes:  # type: ignore[type-arg]
    """Random bytes that start like no plugin's magic and hold a zero byte early (binary)."""
    rng = random.Random(12)
    while True:
        data = rng.randbytes(size)
        if 0 not in data[:64]:
            continue
        if not any(data[off : off + len(sig)] == sig for p in plugins for off, sig in p.targets.magic):
            return data


@pytest.mark.parametrize("size", [700, 20_000])
def test_random_bytes_under_every_plugins_name_are_never_opened(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = [cls() for cls in load_plugins().plugins]
    content = _random_content(plugins, size)
    copies: list[str] = []
    connections: list[str] = []
    real_copy, real_connect = Scratch.copy_in, sqlite3.connect

    def copy_in(self: Scratch, item: FileItem, dest: Path) -> int:
        copies.append(item.path)
        return real_copy(self, item, dest)

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        connections.append(str(args[0]) if args else "")
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Scratch, "copy_in", copy_in)
    monkeypatch.setattr(sqlite3, "connect", connect)
    offered = 0
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        for plugin in plugins:
            for glob in plugin.targets.globs:
                path = _path_for(glob)
                opened: list[str] = []

                def opener(path: str = path, opened: list[str] = opened) -> io.BytesIO:
                    opened.append(path)
                    return io.BytesIO(content)

                item = FileItem(
                    source=SourceRef(item="EX", path=path, sha256="0" * 64),
                    size=len(content),
                    opener=opener,
                    head=content[:HEAD_SIZE],
                )
                chosen = match_plugins(item, plugins, ctx)
                result = run_plugins(item, chosen, ctx)
                offered += len(chosen)
                assert plugin in chosen or plugin.targets.sqlite is not None, (plugin.name, path)
                assert not result.failed, (path, [w.message for w in result.warnings])
                for run in result.runs:
                    assert run.count == 0, (run.plugin, path)
                assert opened == [], (path, [run.plugin for run in result.runs])
                scratch.release(item)
                ctx.warnings.clear()
    assert offered > 20  # the names did reach plugins: their magic checks were what said no
    assert copies == [] and connections == []
