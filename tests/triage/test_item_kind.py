"""One decision of what an evidence item is: the kind recorded at acquisition opens it in triage.

Found in review: custody (``custody.media.detect_source``) and triage (``is_logical``,
``_looks_logical``) decided with different rules, so an old-style v7 tar was acquired as "tar" and
then walked by triage as a disk image (no file system: nothing triaged), and a file acquired on its
own could not be triaged at all. Now every command opens an item by its recorded kind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from custody.media import detect_source
from tests.conftest import CORPUS, need
from triage.engine.run import run_triage
from triage.sources.open import open_source
from triage.views.findings import iter_findings


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    c = init_case(tmp_path / "case", case_number="2026/8", title="item kinds")
    add_actor(c, "asmith", name="Alan Smith", role="examiner")
    try:
        yield c
    finally:
        c.close()


def v7_tar(path: Path, members: dict[str, bytes]) -> Path:
    """An old-style (pre-POSIX, v7) tar: no ``ustar`` magic, as old Unix tools and some phone
    extraction tools wrote them. tarfile writes ustar; the magic and version are blanked and the
    header checksum recomputed, which is exactly what a v7 header is."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    offset = 0
    while offset + 512 <= len(raw) and any(raw[offset : offset + 512]):
        header = raw[offset : offset + 512]
        header[257:265] = bytes(8)  # magic "ustar\0" and version "00"
        header[148:156] = b" " * 8
        header[148:156] = b"%06o\0 " % sum(header)
        raw[offset : offset + 512] = header
        size = int(header[124:136].rstrip(b"\0 ") or b"0", 8)
        offset += 512 + (size + 511) // 512 * 512
    path.write_bytes(bytes(raw))
    assert b"ustar" not in path.read_bytes()
    return path


def test_an_old_v7_tar_is_triaged_as_the_tar_it_was_acquired_as(case: Case, tmp_path: Path) -> None:
    archive = v7_tar(tmp_path / "extraction.tar", {"sdcard/notes.txt": b"meet at pier 7\n"})
    item, _ = acquire(case, archive, exhibit="EX-001", actor="asmith", description="old tar")
    assert item.kind == "tar"
    summary = run_triage(case, "EX-001", actor="asmith")
    assert summary.counts["files"] == 1, summary
    with open_source(archive, item.kind) as source:
        [entry] = [e for e in source.entries(recursive=True) if e.type == "file"]
        assert entry.path == "/sdcard/notes.txt"
        assert b"".join(source.read(entry)) == b"meet at pier 7\n"


def test_a_file_acquired_on_its_own_is_triaged_by_its_plugin(case: Case) -> None:
    """A loose ``mmssms.db`` (as an examiner receives one from a colleague) is one file: listed
    as ``/mmssms.db`` and given to the SMS plugin, never walked as a disk image."""
    db = need(CORPUS / "chats/mmssms.db")
    before = (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns)
    item, _ = acquire(case, db, exhibit="EX-002", actor="asmith", description="loose SMS database")
    assert item.kind == "file"
    summary = run_triage(case, "EX-002", actor="asmith")
    assert summary.counts["files"] == 1 and summary.counts["errors"] == 0, summary
    bodies = list(iter_findings(case.engine, "EX-002", "chat/android/sms"))
    assert len(bodies) == 9  # the corpus README: 9 SMS rows
    assert {f.path for f in bodies} == {"/mmssms.db"}
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before


@pytest.mark.parametrize("kind", ["folder", "zip", "tar", "v7-tar", "tar.gz", "file"])
def test_open_source_decides_as_acquisition_does(tmp_path: Path, kind: str) -> None:
    """Without a recorded kind (a library caller), open_source asks custody's detect_source."""
    path = tmp_path / "evidence"
    if kind == "folder":
        path.mkdir()
        (path / "a.txt").write_bytes(b"a")
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.txt", b"a")
    elif kind == "tar":
        with tarfile.open(path, "w") as tf:
            tf.add(_one_file(tmp_path), arcname="a.txt")
    elif kind == "v7-tar":
        path = v7_tar(tmp_path / "evidence.tar", {"a.txt": b"a"})
    elif kind == "tar.gz":
        with tarfile.open(path, "w:gz") as tf:
            tf.add(_one_file(tmp_path), arcname="a.txt")
    else:
        path.write_bytes(b"just some notes, not a container\n")
    recorded = detect_source(path)
    assert recorded == {"v7-tar": "tar", "tar.gz": "tar"}.get(kind, kind)
    with open_source(path) as source:
        assert source.kind == recorded
        files = [e for e in source.entries(recursive=True) if e.type == "file"]
        assert len(files) == 1
        assert b"".join(source.read(files[0])) in (b"a", path.read_bytes() if kind == "file" else b"a")


def _one_file(tmp_path: Path) -> Path:
    f = tmp_path / "a.txt"
    f.write_bytes(b"a")
    os.utime(f, (1_700_000_000, 1_700_000_000))
    return f
