"""custody.media against real images: the dfvfs corpus, and split/E01 sets made by real tools."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from custody.errors import EvidenceError
from custody.media import (
    E01Info,
    EwfReader,
    RawReader,
    SplitRawReader,
    detect_source,
    e01_info,
    open_image,
)
from tests.conftest import need, need_tool

MEDIA_MD5 = "196066add11fb71c4c49cf1bb50d6d24"
MEDIA_SIZE = 4 * 1024 * 1024


def dfvfs(corpus: Path, name: str) -> Path:
    return need(corpus / "disk" / "dfvfs" / name)


def read_all(reader: object) -> bytes:
    assert isinstance(reader, RawReader | SplitRawReader | EwfReader)
    return reader.read_at(0, reader.size)


def make_e01(tmp: Path, data: bytes, name: str, *args: str) -> Path:
    """Write ``data`` to a source file and image it with the real ``ewfacquire`` (no compression)."""
    need_tool("ewfacquire")
    src = tmp / f"{name}.src"
    src.write_bytes(data)
    subprocess.run(
        ["ewfacquire", "-u", "-q", "-t", str(tmp / name), "-c", "none", *args, str(src)],
        check=True,
        capture_output=True,
    )
    return tmp / f"{name}.E01"


def payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


# ------------------------------------------------------------------------------------- corpus


@pytest.mark.parametrize(
    ("name", "kind", "segments"),
    [
        ("ext2.E01", "e01", ["ext2.E01"]),
        ("ext2.split.E01", "e01", ["ext2.split.E01", "ext2.split.E02"]),
        ("ext2.split.E02", "e01", ["ext2.split.E01", "ext2.split.E02"]),  # any segment finds the set
        ("ext2.splitraw.000", "split-raw", ["ext2.splitraw.000", "ext2.splitraw.001"]),
        ("ext2.splitraw.001", "split-raw", ["ext2.splitraw.000", "ext2.splitraw.001"]),
    ],
)
def test_corpus_images_give_the_published_media_md5(
    corpus: Path, name: str, kind: str, segments: list[str]
) -> None:
    reader = open_image(dfvfs(corpus, name))
    try:
        assert reader.kind == kind
        assert [p.name for p in reader.segments] == segments
        assert reader.size == MEDIA_SIZE
        assert hashlib.md5(read_all(reader)).hexdigest() == MEDIA_MD5
        assert reader.read_at(MEDIA_SIZE - 10, 100) == read_all(reader)[-10:]  # short only at the end
        assert reader.read_at(MEDIA_SIZE, 10) == b""
    finally:
        reader.close()


def test_random_reads_agree_across_containers_and_segment_boundaries(corpus: Path) -> None:
    """Split raw (boundary at 2 MiB) and E01 split (own chunk layout) return the same bytes anywhere."""
    whole = (dfvfs(corpus, "ext2.splitraw.000").read_bytes()) + dfvfs(
        corpus, "ext2.splitraw.001"
    ).read_bytes()
    readers = [open_image(dfvfs(corpus, n)) for n in ("ext2.splitraw.000", "ext2.split.E01", "ext2.E01")]
    rng = random.Random(1)
    boundary = 2 * 1024 * 1024
    spots = [(boundary - 1, 2), (boundary - 4096, 8192), (0, 1), (boundary, 1)]
    spots += [(rng.randrange(MEDIA_SIZE), rng.randrange(1, 70000)) for _ in range(40)]
    try:
        for offset, length in spots:
            for reader in readers:
                assert reader.read_at(offset, length) == whole[offset : offset + length], (
                    reader.kind,
                    offset,
                )
    finally:
        for reader in readers:
            reader.close()


def parse_ewfinfo(text: str) -> dict[str, str]:
    labels = {
        "Case number": "case_number",
        "Description": "description",
        "Examiner name": "examiner_name",
        "Evidence number": "evidence_number",
        "Notes": "notes",
        "Acquisition date": "acquiry_date",
        "System date": "system_date",
        "Operating system used": "acquiry_operating_system",
        "Software version used": "acquiry_software_version",
        "MD5": "md5",
        "Bytes per sector": "bytes_per_sector",
        "Media size": "media_size",
    }
    out: dict[str, str] = {}
    for line in text.splitlines():
        label, sep, value = line.strip().partition(":")
        if sep and label in labels:
            out[labels[label]] = value.strip()
    return out


@pytest.mark.parametrize("name", ["ext2.E01", "ext2.split.E01"])
def test_e01_info_matches_groundtruth_ewfinfo(corpus: Path, name: str) -> None:
    truth = parse_ewfinfo(need(corpus / "groundtruth" / "dfvfs" / f"{name}.ewfinfo.txt").read_text())
    info = e01_info(dfvfs(corpus, name))
    assert isinstance(info, E01Info)
    for key in (
        "case_number",
        "description",
        "examiner_name",
        "evidence_number",
        "notes",
        "acquiry_date",
        "system_date",
        "acquiry_operating_system",
        "acquiry_software_version",
    ):
        assert info.headers[key] == truth[key], key
    assert info.stored_hashes == {"md5": truth["md5"]} == {"md5": MEDIA_MD5}
    assert info.bytes_per_sector == int(truth["bytes_per_sector"])
    assert f"({info.media_size} bytes)" in truth["media_size"]


def test_detect_source_on_corpus(corpus: Path) -> None:
    assert detect_source(dfvfs(corpus, "ext2.E01")) == "e01"
    assert detect_source(dfvfs(corpus, "ext2.split.E02")) == "e01"
    assert detect_source(dfvfs(corpus, "ext2.splitraw.001")) == "split-raw"
    assert detect_source(dfvfs(corpus, "iso9660.raw")) == "raw"
    assert detect_source(dfvfs(corpus, "ímynd.dd")) == "raw"
    assert detect_source(dfvfs(corpus, "bogus.001")) == "raw"
    assert detect_source(need(corpus / "images" / "Canon_40D.jpg")) == "file"
    assert detect_source(corpus / "images") == "folder"
    assert detect_source(need(corpus / "disk" / "dftt" / "5-fat-daylight.zip")) == "zip"


def test_bogus_001_is_a_one_segment_raw_image(corpus: Path) -> None:
    """bogus.001 has no siblings, so it is a 51 200-byte raw image; "no file system" is triage's call.

    A raw image can hold any bytes: refusing it here would also refuse wiped or encrypted media.
    """
    path = dfvfs(corpus, "bogus.001")
    with open_image(path) as reader:  # type: ignore[attr-defined]
        assert reader.kind == "raw"
        assert reader.size == path.stat().st_size == 51200
        assert reader.read_at(0, reader.size) == path.read_bytes()
    forced = open_image(path, kind="split-raw")
    assert forced.kind == "split-raw" and [p.name for p in forced.segments] == ["bogus.001"]
    forced.close()
    with pytest.raises(EvidenceError, match="not an EWF file"):
        open_image(path, kind="e01")


# ------------------------------------------------------------------------------- split raw sets


@pytest.mark.parametrize(
    ("split_args", "prefix", "names"),
    [
        (["-d", "-a", "3"], "img.", ["img.000", "img.001", "img.002", "img.003"]),
        (["--numeric-suffixes=1", "-a", "3"], "img.", ["img.001", "img.002", "img.003", "img.004"]),
        ([], "img.", ["img.aa", "img.ab", "img.ac", "img.ad"]),
        (["-d", "-a", "3"], "disk.raw.", ["disk.raw.000", "disk.raw.001", "disk.raw.002", "disk.raw.003"]),
    ],
)
def test_split_schemes_made_by_coreutils_split(
    tmp_path: Path, split_args: list[str], prefix: str, names: list[str]
) -> None:
    need_tool("split")
    data = payload(4096 * 3 + 1000)
    (tmp_path / "src").mkdir()
    src = tmp_path / "src" / "img"
    src.write_bytes(data)
    subprocess.run(["split", "-b", "4096", *split_args, str(src), str(tmp_path / prefix)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == names
    for name in names:  # any segment opens the whole set
        reader = open_image(tmp_path / name)
        try:
            assert reader.kind == "split-raw"
            assert [p.name for p in reader.segments] == names
            assert reader.size == len(data)
            assert read_all(reader) == data
            assert reader.read_at(4090, 20) == data[4090:4110]
            assert reader.read_at(4000, 9000) == data[4000:13000]  # spans three segments
        finally:
            reader.close()
    assert detect_source(tmp_path / names[1]) == "split-raw"
    with open_image(tmp_path / names[0], kind="raw") as only:  # type: ignore[attr-defined]
        assert only.kind == "raw" and only.size == 4096


def test_split_missing_middle_segment_is_named(tmp_path: Path) -> None:
    data = payload(4096 * 4)
    for i in range(4):
        (tmp_path / f"img.{i:03d}").write_bytes(data[i * 4096 : (i + 1) * 4096])
    (tmp_path / "img.002").unlink()
    for name in ("img.000", "img.003"):
        with pytest.raises(EvidenceError, match=r"img\.002: segment missing") as err:
            open_image(tmp_path / name)
        assert err.value.hint
        with pytest.raises(EvidenceError, match=r"img\.002"):
            detect_source(tmp_path / name)


def test_a_split_segment_cut_short_or_too_long_is_named(tmp_path: Path) -> None:
    """Found in review: a set whose middle segment was cut short (a copy interrupted) was read as
    one image, every byte after the cut shifted. Segments are all as long as the first (split -b,
    dc3dd, FTK Imager, ewfexport) but the last, which may be shorter, never longer."""
    data = payload(4096 * 3 + 100)
    for i in range(4):
        (tmp_path / f"img.{i:03d}").write_bytes(data[i * 4096 : (i + 1) * 4096])
    assert open_image(tmp_path / "img.000").size == len(data)  # the last segment shorter: fine
    (tmp_path / "img.001").write_bytes(data[4096:4196])
    for name in ("img.000", "img.003"):
        with pytest.raises(
            EvidenceError, match=r"img\.001: 100 bytes in a split raw set whose segments are 4096"
        ) as err:
            open_image(tmp_path / name)
        assert err.value.hint and "copy it again" in err.value.hint
        with pytest.raises(EvidenceError, match=r"img\.001: 100 bytes"):
            detect_source(tmp_path / name)
    (tmp_path / "img.001").write_bytes(data[4096:8192])
    (tmp_path / "img.003").write_bytes(data[12288:] + payload(8000))
    with pytest.raises(EvidenceError, match=r"img\.003: .* longer than the other segments"):
        open_image(tmp_path / "img.000")
    with open_image(tmp_path / "img.001", kind="raw") as alone:  # type: ignore[attr-defined]
        assert alone.size == 4096  # each file alone, as the hint says
    for suffix, size in (("aa", 4096), ("ab", 1000), ("ac", 4096)):  # the letters' scheme too
        (tmp_path / f"z.{suffix}").write_bytes(payload(size))
    with pytest.raises(EvidenceError, match=r"z\.ab: 1000 bytes in a split raw set"):
        open_image(tmp_path / "z.ac")


def test_split_missing_first_segment_is_named(tmp_path: Path) -> None:
    for i in (2, 3):
        (tmp_path / f"img.{i:03d}").write_bytes(b"x" * 512)
    with pytest.raises(EvidenceError, match=r"img\.001: first segment"):
        open_image(tmp_path / "img.003")


def test_unrelated_files_are_not_siblings(tmp_path: Path) -> None:
    """Same stem but another suffix shape (or width) is not part of the set."""
    (tmp_path / "img.000").write_bytes(b"a" * 512)
    (tmp_path / "img.0001").write_bytes(b"b" * 512)
    (tmp_path / "img.ab").write_bytes(b"c" * 512)
    (tmp_path / "other.001").write_bytes(b"d" * 512)
    reader = open_image(tmp_path / "img.000")
    assert reader.kind == "raw" and reader.size == 512
    reader.close()


# ----------------------------------------------------------------------------------------- E01


@pytest.fixture(scope="module")
def e01_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A single-segment E01 (with SHA-1) and a 3-segment one (1 MiB segments), by ewfacquire."""
    tmp = tmp_path_factory.mktemp("e01")
    data = payload(3 * 1024 * 1024)
    return {
        "data": tmp / "single.src",
        "single": make_e01(tmp, data, "single", "-d", "sha1", "-C", "C-42", "-e", "Ex Aminer", "-N", "n"),
        "multi": make_e01(tmp, data, "multi", "-S", "1048576"),
    }


def test_e01_made_by_ewfacquire(e01_sets: dict[str, Path]) -> None:
    data = e01_sets["data"].read_bytes()
    info = e01_info(e01_sets["single"])
    assert info.stored_hashes == {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
    }
    assert info.headers["case_number"] == "C-42"
    assert info.headers["examiner_name"] == "Ex Aminer"
    assert info.media_size == len(data)
    with EwfReader(e01_sets["multi"]) as reader:
        assert [p.name for p in reader.segments] == ["multi.E01", "multi.E02", "multi.E03", "multi.E04"]
        assert reader.read_at(0, reader.size) == data
    with EwfReader(e01_sets["multi"].with_suffix(".E04")) as reader:  # opened by its last segment
        assert reader.segments[0].name == "multi.E01"


def test_e01_reads_from_threads_are_serialised(e01_sets: dict[str, Path]) -> None:
    data = e01_sets["data"].read_bytes()
    reader = open_image(e01_sets["multi"])
    bad: list[int] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            off, n = rng.randrange(len(data)), rng.randrange(1, 200_000)
            if reader.read_at(off, n) != data[off : off + n]:
                bad.append(off)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader.close()
    assert bad == []


@pytest.mark.parametrize(("removed", "missing"), [("E02", "multi.E02"), ("E04", "multi.E04")])
def test_e01_missing_segment_is_named_not_a_crash(
    e01_sets: dict[str, Path], tmp_path: Path, removed: str, missing: str
) -> None:
    for seg in ("E01", "E02", "E03", "E04"):
        if seg != removed:
            shutil.copy(e01_sets["multi"].with_suffix("." + seg), tmp_path)
    with pytest.raises(EvidenceError, match=rf"{missing}: segment \d of EWF set .* is missing") as err:
        open_image(tmp_path / "multi.E01")
    assert err.value.hint


def test_e01_missing_first_segment(e01_sets: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(e01_sets["multi"].with_suffix(".E02"), tmp_path)
    with pytest.raises(EvidenceError, match=r"multi\.E01: first segment of EWF set is missing"):
        open_image(tmp_path / "multi.E02")


def test_e01_name_without_signature(tmp_path: Path) -> None:
    fake = tmp_path / "fake.E01"
    fake.write_bytes(b"\0" * 4096)
    with pytest.raises(EvidenceError, match="not an EWF file"):
        open_image(fake)
    with pytest.raises(EvidenceError, match="not an EWF file"):
        detect_source(fake)
    with open_image(fake, kind="raw") as reader:  # type: ignore[attr-defined]
        assert reader.size == 4096


def test_truncated_e01_is_refused(e01_sets: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.E01"
    cut.write_bytes(e01_sets["single"].read_bytes()[:-200])
    with pytest.raises(EvidenceError, match=r"cut\.E01"):
        open_image(cut)


# -------------------------------------------------------------------------------------- others


def test_detect_source_archives_and_lookalikes(tmp_path: Path) -> None:
    import tarfile
    import zipfile

    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("x", "y")
    with tarfile.open(tmp_path / "a.tar", "w") as tf:
        tf.add(tmp_path / "a.zip", arcname="a.zip")
    with tarfile.open(tmp_path / "a.tgz", "w:gz") as tf:
        tf.add(tmp_path / "a.zip", arcname="a.zip")
    with tarfile.open(tmp_path / "a.tar.xz", "w:xz") as tf:
        tf.add(tmp_path / "a.zip", arcname="a.zip")
    (tmp_path / "zeros.dat").write_bytes(b"\0" * 65536)  # tarfile.is_tarfile() says True to this
    (tmp_path / "disk.img").write_bytes(b"\0" * 65536)
    (tmp_path / "notes.txt").write_text("hello")
    assert detect_source(tmp_path / "a.zip") == "zip"
    assert detect_source(tmp_path / "a.tar") == "tar"
    assert detect_source(tmp_path / "a.tgz") == "tar"
    assert detect_source(tmp_path / "a.tar.xz") == "tar"
    assert detect_source(tmp_path / "zeros.dat") == "file"
    assert detect_source(tmp_path / "disk.img") == "raw"
    assert detect_source(tmp_path / "notes.txt") == "file"
    with pytest.raises(EvidenceError, match="no such file"):
        detect_source(tmp_path / "absent")


def test_open_image_rejects_non_image_kinds_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(EvidenceError, match="not a disk image kind"):
        open_image(tmp_path / "f", kind="zip")
    with pytest.raises(EvidenceError, match="no such file"):
        open_image(tmp_path / "nope.dd")


def test_alphabetic_lookalikes_are_not_split_sets(tmp_path: Path) -> None:
    """Two-letter extensions are everywhere; only a run from ``.aa`` is a split set."""
    (tmp_path / "x.gz").write_bytes(b"g" * 100)
    (tmp_path / "x.py").write_bytes(b"p" * 100)
    with open_image(tmp_path / "x.gz") as reader:  # type: ignore[attr-defined]
        assert reader.kind == "raw"
    assert detect_source(tmp_path / "x.py") == "file"
    (tmp_path / "y.aa").write_bytes(b"a" * 512)
    (tmp_path / "y.ab").write_bytes(b"b" * 100)  # short: the natural last segment
    (tmp_path / "y.md").write_bytes(b"notes")
    with open_image(tmp_path / "y.ab") as reader:  # type: ignore[attr-defined]
        assert [p.name for p in reader.segments] == ["y.aa", "y.ab"]
    with open_image(tmp_path / "y.md") as reader:  # type: ignore[attr-defined]
        assert reader.kind == "raw"  # not in the run


def test_alphabetic_gap_is_named(tmp_path: Path) -> None:
    for suffix in ("aa", "ab", "ad"):
        (tmp_path / f"z.{suffix}").write_bytes(b"s" * 4096)
    with pytest.raises(EvidenceError, match=r"z\.ac: segment missing"):
        open_image(tmp_path / "z.aa")


def test_e_extensions_that_are_not_ewf(tmp_path: Path) -> None:
    for name in ("setup.exe", "figure.eps", "mail.eml"):
        (tmp_path / name).write_bytes(b"MZ not an image")
        assert detect_source(tmp_path / name) == "file"
        with open_image(tmp_path / name) as reader:  # type: ignore[attr-defined]
            assert reader.kind == "raw"


def test_e01_stale_segment_of_another_set(e01_sets: dict[str, Path], tmp_path: Path) -> None:
    """A complete one-segment set with a foreign .E02 beside it: refused, not silently mixed."""
    shutil.copy(e01_sets["single"], tmp_path / "multi.E01")
    shutil.copy(e01_sets["multi"].with_suffix(".E02"), tmp_path / "multi.E02")
    with pytest.raises(EvidenceError, match=r"multi\.E01: ends the EWF set, yet multi\.E02 follows"):
        open_image(tmp_path / "multi.E01")
