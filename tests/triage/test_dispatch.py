"""Dispatch: target matching from cheap to dear, and failure isolation when running plugins."""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from triage.engine.dispatch import cheap_match, glob_matches, match_plugins, run_plugins
from triage.plugin import (
    SQLITE_MAGIC,
    FileItem,
    NotMyFormat,
    ParseContext,
    Plugin,
    SqliteSignature,
    Targets,
)
from triage.plugin.records import Record
from triage.plugin.scratch import Scratch


@dataclass(frozen=True, kw_only=True)
class Thing(Record):
    """A test record."""

    record_type: ClassVar[str] = "test/thing"
    n: int


@dataclass(frozen=True, kw_only=True)
class Other(Record):
    """A record type no test plugin declares."""

    record_type: ClassVar[str] = "test/other"


class _Base(Plugin):
    """Test plugin base."""

    version = "0"
    description = "test"
    targets = Targets(globs=("**/*.thing",))
    emits = (Thing,)


class Good(_Base):
    """Yields two records."""

    name = "good"

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        ctx.warn("row 2 odd", locator="row=2")
        yield Thing(source=item.source, n=1)
        yield Thing(source=item.source, n=2)


class Crashes(_Base):
    """Yields one record then fails."""

    name = "crashes"

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        yield Thing(source=item.source, n=1)
        raise KeyError("boom")


class NotMine(_Base):
    """Decides the file is not its format."""

    name = "notmine"

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        yield Thing(source=item.source, n=1)
        raise NotMyFormat("nope")


class Sneaky(_Base):
    """Emits an undeclared record type."""

    name = "sneaky"

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        yield Other(source=item.source)
        yield Thing(source=item.source, n=3)


class SqliteOnly(Plugin):
    """Wants databases with table t(a, b)."""

    name = "sqlite_only"
    version = "0"
    description = "test"
    targets = Targets(magic=(SQLITE_MAGIC,), sqlite=SqliteSignature.of(t=("a", "B")))
    emits = (Thing,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        con = ctx.open_sqlite(item)
        for (n,) in con.execute("SELECT a FROM t"):
            yield Thing(source=item.source, n=n)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ParseContext]:
    with Scratch(tmp_path) as scratch:
        yield ParseContext(scratch=scratch)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/mmssms.db", "/data/data/com.android.providers.telephony/databases/mmssms.db", True),
        ("**/mmssms.db", "/mmssms.db", True),
        ("**/mmssms.db", "/data/xmmssms.db", False),
        ("/data/*/mmssms.db", "/DATA/x/MMSSMS.DB", True),
        ("/data/*/mmssms.db", "/data/x/y/mmssms.db", False),
        ("/data/**/mmssms.db", "/data/mmssms.db", True),
        ("/data/**/mmssms.db", "/sdcard/data/mmssms.db", False),  # anchored at the root
        ("**/*.jp[e]g", "/DCIM/a.JPEG", True),
        ("**/History", "C:\\Users\\a\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\History", True),
        ("**/History", "/x/History-journal", False),
        ("/data/file?.db", "/data/file1.db", True),
    ],
)
def test_glob(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches(pattern, path) is expected


def test_cheap_filters_any_of() -> None:
    jpeg = FileItem.from_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100, path="/renamed.bin")
    assert cheap_match(Targets(magic=((0, b"\xff\xd8\xff"),)), jpeg)
    assert not cheap_match(Targets(magic=((1, b"\xff\xd8\xff"),)), jpeg)
    assert not cheap_match(Targets(globs=("**/*.jpg",)), jpeg)
    assert cheap_match(Targets(globs=("**/*.jpg",), magic=((0, b"\xff\xd8"),)), jpeg)
    text = FileItem.from_bytes(b"hello world\n", path="/a.txt")
    assert cheap_match(Targets(mime_types=("TEXT/PLAIN",)), text)
    assert not cheap_match(Targets(), text)


def _db(path: Path, sql: str) -> Path:
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.commit()
    con.close()
    return path


def test_sqlite_signature_subset_match(tmp_path: Path, ctx: ParseContext) -> None:
    yes = FileItem.from_path(
        _db(tmp_path / "y.db", "CREATE TABLE T (A, b, c); INSERT INTO t VALUES (7, 0, 0);")
    )
    no = FileItem.from_path(_db(tmp_path / "n.db", "CREATE TABLE t (a, c);"))
    plugin = SqliteOnly()
    assert match_plugins(yes, [plugin], ctx) == [plugin]
    assert match_plugins(no, [plugin], ctx) == []
    assert [r.n for r in run_plugins(yes, [plugin], ctx).records if isinstance(r, Thing)] == [7]


def test_sqlite_schema_read_once_per_file(
    tmp_path: Path, ctx: ParseContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = FileItem.from_path(_db(tmp_path / "y.db", "CREATE TABLE t (a, b);"))
    opened: list[str] = []
    real = Scratch.open_sqlite

    def counting(self: Scratch, it: FileItem) -> sqlite3.Connection:
        opened.append(it.path)
        return real(self, it)

    monkeypatch.setattr(Scratch, "open_sqlite", counting)
    assert len(match_plugins(item, [SqliteOnly(), SqliteOnly()], ctx)) == 2
    assert len(match_plugins(item, [SqliteOnly()], ctx)) == 1
    assert opened == [item.path]  # one schema read for three checks


def test_not_a_database_does_not_match_sqlite_plugin(ctx: ParseContext) -> None:
    broken = FileItem.from_bytes(b"SQLite format 3\x00" + b"\xff" * 200, path="/broken.db")
    assert match_plugins(broken, [SqliteOnly()], ctx) == []


def test_run_isolates_failures(ctx: ParseContext) -> None:
    item = FileItem.from_bytes(b"x", path="/a/b.thing")
    plugins: list[Plugin] = [Crashes(), Good(), NotMine(), Sneaky()]
    assert match_plugins(item, plugins, ctx) == plugins
    result = run_plugins(item, plugins, ctx)
    outcomes = {run.plugin: (run.outcome, len(run.records)) for run in result.runs}
    assert outcomes == {
        "crashes": ("failed", 1),
        "good": ("ok", 2),
        "notmine": ("not-my-format", 0),
        "sneaky": ("ok", 1),
    }
    assert result.failed == ["crashes"]
    by_plugin = {w.plugin: w for w in result.warnings}
    assert set(by_plugin) == {"crashes", "good", "sneaky"}  # NotMyFormat: no warning
    crash = by_plugin["crashes"]
    assert crash.path == "/a/b.thing"
    assert "KeyError: 'boom'" in crash.message and "after 1 record" in crash.message
    assert crash.traceback is not None and "raise KeyError" in crash.traceback
    assert by_plugin["good"].locator == "row=2"
    assert "Other" in by_plugin["sneaky"].message
    assert len(result.records) == 4


class Noisy(_Base):
    """Calls a library that warns, as Pillow does on a file it finds odd (twice), then yields."""

    name = "noisy"

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        for _ in range(2):
            warnings.warn("odd header", UserWarning, stacklevel=1)  # the same words for every file
        warnings.warn("an old call", DeprecationWarning, stacklevel=1)  # ignored, as Python's default
        yield Thing(source=item.source, n=1)


class NoisyNotMine(_Base):
    """Warns, then finds the file is not its format."""

    name = "noisy-not-mine"

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        warnings.warn("odd header", UserWarning, stacklevel=1)
        raise NotMyFormat("not mine")


def test_library_warnings_are_the_plugins_warnings_for_the_file(
    ctx: ParseContext, capfd: pytest.CaptureFixture[str]
) -> None:
    """A Python warning raised while a plugin reads a file is that plugin's warning for that file
    (each file's, not only the first's: Python's default shows one once per place in the code),
    counted once; nothing reaches the terminal; a file the plugin declines gets none; a warning
    raised outside a plugin's run is shown as before."""
    with warnings.catch_warnings():
        warnings.resetwarnings()  # as a user's process starts, not pytest's "always" for this test
        warnings.simplefilter("ignore", DeprecationWarning)
        shown: list[str] = []  # the process's own hook: what would print
        warnings.showwarning = lambda message, *_args, **_kw: shown.append(str(message))
        for path in ("/a/one.thing", "/a/two.thing"):
            result = run_plugins(FileItem.from_bytes(b"x", path=path), [Noisy(), NoisyNotMine()], ctx)
            assert [r.outcome for r in result.runs] == ["ok", "not-my-format"]
            assert [(w.plugin, w.path, w.message) for w in result.warnings] == [
                ("noisy", path, "test_dispatch warned: odd header (UserWarning), 2 times")
            ]
        assert capfd.readouterr().err == "" and shown == []
        warnings.warn("outside any plugin", UserWarning, stacklevel=1)
        assert shown == ["outside any plugin"]
