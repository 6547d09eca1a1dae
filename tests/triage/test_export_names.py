"""Exported names follow the raw name bytes, component by component, and stay distinct."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import Case, init_case
from custody.items import acquire
from triage.errors import SourceUnreadable
from triage.sources.lookup import find_entry
from triage.sources.open import open_source
from triage.views.export import export_files


def _case(tmp_path: Path, evidence: Path) -> Case:
    case = init_case(tmp_path / "case", case_number="N-1", title="names")
    add_actor(case, "ex", name="Ex Aminer", role="examiner")
    acquire(case, evidence, exhibit="EV-1", actor="ex", description="names")
    return case


def _put(folder: Path, raw: bytes, content: bytes) -> None:
    path = os.path.join(os.fsencode(folder), raw)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content)


def test_names_come_from_raw_bytes_and_stay_distinct(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    files = {
        b"bs_\x08.txt": b"backspace",
        b"back\\slash.txt": b"one file with a backslash in its name",
        b"back/slash.txt": b"a real folder and file",
        b"\xe2\x80\xaegnp.exe": b"right-to-left override",
        b"zero\xe2\x80\x8bwidth.txt": b"zero-width space",
        b"a.txt": b"lower",
        b"A.TXT": b"upper",
        b"CON": b"device name",
        b"_CON": b"what CON becomes",
    }
    for raw, content in files.items():
        _put(evidence, raw, content)
    case = _case(tmp_path, evidence)
    try:
        with open_source(evidence) as src:
            paths = [e.path for e in src.entries(None, recursive=True) if e.type == "file"]
        out = tmp_path / "out"
        exported = export_files(case, "EV-1", paths, out, actor="ex")
        by_path = {e["path"]: e for e in exported}
        written = sorted(p for p in out.rglob("*") if p.is_file())
        assert len(written) == len(files)  # nothing overwritten, nothing lost
        assert by_path["/bs_\\x08.txt"]["exported_as"] == "bs_%08.txt"
        assert by_path["/back\\\\slash.txt"]["exported_as"] == "back%5Cslash.txt"
        assert by_path["/back/slash.txt"]["exported_as"] == "back/slash.txt"
        rtl = next(e for e in exported if e["path"].endswith("gnp.exe"))
        assert rtl["exported_as"] == "%E2%80%AEgnp.exe"  # shown for what it is, not "exe.png"
        zw = next(e for e in exported if e["path"].endswith("width.txt"))
        assert zw["exported_as"] == "zero%E2%80%8Bwidth.txt"
        # contents went to the right names
        expected = {_display(raw): content for raw, content in files.items()}
        assert sorted(by_path) == sorted(expected)
        for e in exported:
            assert (out / e["exported_as"]).read_bytes() == expected[e["path"]]
        # a.txt / A.TXT and CON / _CON would be one file on Windows or macOS: a suffix keeps them apart
        renamed = {e["path"]: e for e in exported if "renamed_from" in e}
        assert set(renamed) == {"/a.txt", "/_CON"} or set(renamed) == {"/A.TXT", "/_CON"}
        for e in renamed.values():
            assert e["exported_as"] != e["renamed_from"]
            assert "~" in e["exported_as"]
        [entry] = [x for x in case.ledger.entries(exhibit="EV-1") if x.kind == "item.export"]
        assert entry.data["files"] == exported  # the suffixes are in the signed record
        # the same export into a fresh folder gives the same names (deterministic)
        again = export_files(case, "EV-1", paths, tmp_path / "out2", actor="ex")
        assert [e["exported_as"] for e in again] == [e["exported_as"] for e in exported]
    finally:
        case.close()


def _display(raw: bytes) -> str:
    from triage.sanitize import display_name

    return "/" + "/".join(display_name(p) for p in raw.split(b"/"))


def test_failed_export_removes_what_it_copied(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    _put(evidence, b"first.txt", b"1")
    _put(evidence, b"second.txt", b"2")
    case = _case(tmp_path, evidence)
    try:
        out = tmp_path / "out"
        out.mkdir()
        (out / "second.txt").write_bytes(b"already here")
        with pytest.raises(Exception, match="already exists"):
            export_files(case, "EV-1", ["/first.txt", "/second.txt"], out, actor="ex")
        assert sorted(p.name for p in out.iterdir()) == ["second.txt"]  # first.txt removed again
        assert (out / "second.txt").read_bytes() == b"already here"
        assert not [x for x in case.ledger.entries(exhibit="EV-1") if x.kind == "item.export"]
    finally:
        case.close()


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_archive_members_with_the_same_name_are_both_listed(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / f"dup.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("dir/a.txt", b"first")
            zf.writestr("dir/a.txt", b"second")
    else:
        import io

        with tarfile.open(archive, "w") as tf:
            for data in (b"first", b"second"):
                info = tarfile.TarInfo("dir/a.txt")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    with open_source(archive) as src:
        files = [e for e in src.entries(None, recursive=True) if e.type == "file"]
        assert [(e.path, e.stream) for e in files] == [("/dir/a.txt", None), ("/dir/a.txt:#2", "#2")]
        assert b"".join(src.read(find_entry(src, "/dir/a.txt"))) == b"first"
        assert b"".join(src.read(find_entry(src, "/dir/a.txt:#2"))) == b"second"
        [warning] = src.warnings
        assert "same name" in warning.problem and "/dir/a.txt:#2" in warning.problem
    case = _case(tmp_path, archive)
    try:
        exported = export_files(case, "EV-1", ["/dir/a.txt", "/dir/a.txt:#2"], tmp_path / "out", actor="ex")
        assert [e["exported_as"] for e in exported] == ["dir/a.txt", "dir/a.txt%3A#2"]
        assert (tmp_path / "out" / "dir" / "a.txt%3A#2").read_bytes() == b"second"
    finally:
        case.close()


def test_zip_member_beyond_the_expansion_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.sources.logical import EXPANSION_ENV

    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("zeros.bin", bytes(64 * 1024 * 1024))  # bzip2: ~45 bytes for 64 MB
    with open_source(archive) as src:
        [entry] = [e for e in src.entries(None, recursive=True) if e.type == "file"]
        with pytest.raises(SourceUnreadable, match="expands to more than 1100 times"):
            for _ in src.read(entry):
                pass
    monkeypatch.setenv(EXPANSION_ENV, "10000000")
    with open_source(archive) as src:
        [entry] = [e for e in src.entries(None, recursive=True) if e.type == "file"]
        assert sum(len(c) for c in src.read(entry)) == 64 * 1024 * 1024


def test_sparse_writes_and_the_scratch_budget(tmp_path: Path) -> None:
    from triage.plugin.scratch import Scratch, ScratchFull, parse_size, write_sparse

    path = tmp_path / "sparse"
    with path.open("wb") as out:
        assert write_sparse(out, bytes(1 << 20)) == 0
        assert write_sparse(out, b"x" + bytes(8191)) == 4096  # the zero block after it is a hole
        assert write_sparse(out, bytes(1 << 20)) == 0
        out.truncate()
    data = path.read_bytes()
    assert (
        len(data) == (1 << 20) * 2 + 8192 and data[(1 << 20)] == ord("x") and data.count(0) == len(data) - 1
    )
    assert path.stat().st_blocks * 512 <= 64 * 1024
    assert parse_size("512M") == 512 << 20 and parse_size("8G") == 8 << 30 and parse_size("100") == 100
    with pytest.raises(Exception, match="not a size"):
        parse_size("lots")
    with Scratch(tmp_path, limit=1000) as scratch:
        scratch.charge(900, "first")
        with pytest.raises(ScratchFull, match="second: needs more than the scratch limit of 1000 bytes"):
            scratch.charge(200, "second")
        scratch.uncharge(900)
        scratch.charge(1000, "third")


def _overlapping_zip(path: Path) -> None:
    """Two central-directory entries pointing at the same compressed data (a zip bomb's trick)."""
    import struct

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.bin", bytes(1 << 20))
    data = path.read_bytes()
    eocd = data.rindex(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])
    entry = data[cd_offset : cd_offset + cd_size]
    name_len = struct.unpack("<H", entry[28:30])[0]
    twin = entry[:46] + b"b.bin" + entry[46 + name_len :]
    directory = entry + twin
    end = data[eocd : eocd + 8] + struct.pack("<HHII", 2, 2, len(directory), cd_offset) + data[eocd + 20 :]
    path.write_bytes(data[:cd_offset] + directory + end)


def test_overlapping_zip_members_are_not_inflated(tmp_path: Path) -> None:
    archive = tmp_path / "overlap.zip"
    _overlapping_zip(archive)
    with open_source(archive) as src:
        files = [e for e in src.entries(None, recursive=True) if e.type == "file"]
        assert [e.path for e in files] == ["/a.bin", "/b.bin"]
        assert any("zip bomb construction" in w.problem for w in src.warnings)
        for entry in files:
            with pytest.raises(SourceUnreadable, match="shares its compressed data"):
                for _ in src.read(entry):
                    pass
