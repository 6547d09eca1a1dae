"""Plugin.claims: a plugin offered a file by name whose first bytes rule it out costs that check.

The engine asks each offered plugin's ``claims(head, size)`` before it builds an item; a plugin
that says no gets the not-my-format outcome its ``parse`` would have given, in the same place
among the file's outcomes, without its ``parse`` being called or the content being kept for it.
Every built-in ``claims`` is checked against its own ``parse``: wherever it says no, ``parse``
raises NotMyFormat at once (no warning, no record), on real files of every kind, random bytes
and signatures cut short.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import CORPUS
from triage.engine import per_file
from triage.engine.per_file import FileJob, FileProcessor
from triage.plugin import FileItem, NotMyFormat, ParseContext, Plugin, SqliteSignature, Targets
from triage.plugin.item import HEAD_SIZE
from triage.plugin.records import Record, SourceRef
from triage.plugin.registry import builtin_plugins
from triage.plugin.scratch import Scratch
from triage.sources.open import open_source


class _Counting(Plugin):
    version = "1.0.0"
    description = "test plugin"
    targets = Targets(globs=("**/*.pk",))
    emits: ClassVar[tuple[type[Record], ...]] = ()
    parsed: ClassVar[list[str]]

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        type(self).parsed.append(item.path)
        if not item.head.startswith(b"PICK"):
            raise NotMyFormat("not mine")
        yield from ()


class Picky(_Counting):
    """Claims only files that start with PICK."""

    name = "picky"
    parsed: ClassVar[list[str]] = []

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return head.startswith(b"PICK")


class Trusting(_Counting):
    """Claims every file it is offered (the default) and reads any."""

    name = "trusting"
    parsed: ClassVar[list[str]] = []

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        type(self).parsed.append(item.path)
        yield from ()


class Picky2(Picky):
    name = "picky2"
    parsed: ClassVar[list[str]] = []


class Broken(_Counting):
    """Its claims raises: the plugin's failure, not the evidence's."""

    name = "broken"
    parsed: ClassVar[list[str]] = []

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return head[100_000] == 0  # IndexError on any head


class SqlitePicky(_Counting):
    """A SQLite plugin that would decline everything: its signature decides, claims is not asked."""

    name = "sqlite_picky"
    targets = Targets(globs=("**/*.pk",), sqlite=SqliteSignature.of(t=("a",)))
    parsed: ClassVar[list[str]] = []

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        raise AssertionError("claims asked of a plugin with a SQLite signature")


def test_a_plugin_that_does_not_claim_a_file_is_not_given_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offered by name, a plugin whose claims says no is recorded not-my-format, in its place
    among the outcomes, its parse never called; when no offered plugin claims the file, its
    content is not kept (no spool) at all."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "real.pk").write_bytes(b"PICK" + bytes(5000))
    (folder / "fake.pk").write_bytes(random.Random(1).randbytes(5000))
    (folder / "empty.pk").write_bytes(b"")
    for cls in (Picky, Trusting, Picky2):
        cls.parsed = []
    spools: list[str] = []
    real_spool = per_file.Spool

    def counting_spool(*args: object, **kwargs: object) -> per_file.Spool:
        spools.append(str(args[1]))
        return real_spool(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(per_file, "Spool", counting_spool)

    def outcomes(plugins: list[Plugin]) -> dict[str, list[tuple[str, str]]]:
        source = open_source(folder)
        processor = FileProcessor(source, "EX-1", ("sha256",), plugins)
        found = {}
        with Scratch(tmp_path) as scratch:
            ctx = ParseContext(scratch=scratch)
            for entry in source.entries(recursive=True):
                if entry.type == "file":
                    result = processor.process(FileJob(entry.path, entry, {}), ctx, scratch)
                    found[entry.name] = [(o.plugin, str(o.outcome)) for o in result.plugins]
        return found

    got = outcomes([Picky(), Trusting(), Picky2()])
    assert got["real.pk"] == [("picky", "ok"), ("trusting", "ok"), ("picky2", "ok")]
    assert got["fake.pk"] == [("picky", "not-my-format"), ("trusting", "ok"), ("picky2", "not-my-format")]
    assert got["empty.pk"] == []  # no content: no plugin is offered it, as before
    assert Picky.parsed == ["/real.pk"] and Picky2.parsed == ["/real.pk"]
    assert sorted(Trusting.parsed) == ["/fake.pk", "/real.pk"]
    assert sorted(spools) == ["/fake.pk", "/real.pk"]

    # a claims that raises: a warning naming the plugin, the file still read in full and given
    # to its parse; a SQLite plugin's claims is never asked (its schema decides)
    source = open_source(folder)
    processor = FileProcessor(source, "EX-1", ("sha256",), [Broken(), SqlitePicky(), Trusting()])
    entry = next(e for e in source.entries(recursive=True) if e.name == "fake.pk")
    Broken.parsed, Trusting.parsed = [], []
    with Scratch(tmp_path) as scratch:
        result = processor.process(FileJob(entry.path, entry, {}), ParseContext(scratch=scratch), scratch)
    assert result.error is None and result.bytes_read == 5000
    assert result.sha256 == hashlib.sha256((folder / "fake.pk").read_bytes()).hexdigest()
    assert [(o.plugin, o.outcome) for o in result.plugins] == [
        ("broken", "not-my-format"),
        ("trusting", "ok"),
    ]
    assert Broken.parsed == ["/fake.pk"]
    assert [w.plugin for w in result.warnings if "claims failed" in w.message] == ["broken"]

    spools.clear()
    Picky.parsed = []
    got = outcomes([Picky(), Picky2()])
    assert got["fake.pk"] == [("picky", "not-my-format"), ("picky2", "not-my-format")]
    assert Picky.parsed == ["/real.pk"]
    assert spools == ["/real.pk"]  # the fake one's content was never kept for a plugin


# -- every built-in claims agrees with its parse ------------------------------------------------------


def _overriding() -> list[type[Plugin]]:
    return [cls for cls in builtin_plugins() if cls.claims.__func__ is not Plugin.claims.__func__]  # type: ignore[attr-defined]


def test_the_builtin_plugins_that_check_first_bytes_say_so() -> None:
    names = {cls.name for cls in _overriding()}
    assert {
        "pdq",
        "photos_exif",
        "video_meta",
        "pdf_metadata",
        "ooxml_properties",
        "odf_meta",
        "ole_office",
        "identifiers_text",
    } <= names, names


def _contents() -> Iterator[tuple[str, bytes]]:
    rng = random.Random(7)
    for size in (0, 1, 3, 7, 11, 100, 4095, 4096, 4097, 9000, 70_000):
        yield f"random-{size}", rng.randbytes(size)
    signatures = [
        b"\xff\xd8\xff\xe0",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"RIFF\0\0\0\0WEBPVP8 ",
        b"II*\0",
        b"MM\0*",
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
        b"\0\0\0\x18ftypisom\0\0\0\0isommp42",
        b"\0\0\0\x08moov",
        b"PK\x03\x04",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"%PDF-1.7\n",
        b"SQLite format 3\0",
        b"<html><body>mail me: someone@example.org</body></html>",
    ]
    for sig in signatures:
        for cut in (1, 4, len(sig)):
            yield f"cut-{sig[:8]!r}-{cut}", sig[:cut]
        yield f"sig-{sig[:8]!r}", sig + rng.randbytes(3000)
        yield f"sig-{sig[:8]!r}-text", sig + b"hello, world\n" * 400
    yield "pdf-late", rng.randbytes(500) + b"%PDF-1.4\n" + rng.randbytes(3000)  # a header after junk
    yield "pdf-too-late", rng.randbytes(1100) + b"%PDF-1.4\n" + rng.randbytes(3000)
    yield "text", b"call +44 20 7946 0958 or write to a@b.example\n" * 50
    yield "big-text", b"x" * 100 + b"\n"
    if CORPUS.is_dir():
        files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.stat().st_size <= 4 << 20)
        for p in random.Random(8).sample(files, min(len(files), 400)):
            yield str(p.relative_to(CORPUS)), p.read_bytes()


@pytest.mark.parametrize("cls", _overriding(), ids=lambda c: c.name)
def test_where_claims_says_no_parse_says_not_my_format(cls: type[Plugin], tmp_path: Path) -> None:
    """Over real files of every kind (the corpus), random bytes and signatures cut short: each
    head ``claims`` rules out, ``parse`` rejects at once, with no warning and no record."""
    plugin = cls()
    declined = 0
    with Scratch(tmp_path) as scratch:
        for label, data in _contents():
            sizes = [len(data)] + ([20 << 20] if cls.name == "identifiers_text" else [])
            for size in sizes:  # a size over a plugin's own cap is part of what it checks
                head = data[:HEAD_SIZE]
                if cls.claims(head, size):
                    continue
                declined += 1
                item = FileItem(
                    source=SourceRef(item="EX-1", path=f"/{label}", sha256="0" * 64),
                    size=size,
                    opener=functools.partial(io.BytesIO, data),
                    head=head,
                )
                ctx = ParseContext(scratch=scratch, plugin=cls.name, path=item.path)
                with pytest.raises(NotMyFormat):
                    next(iter(plugin.parse(item, ctx)))
                assert not ctx.warnings, (label, ctx.warnings)
    assert declined, "claims said no to nothing: the check had nothing to compare"
