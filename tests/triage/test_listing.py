"""The C walk (triage.sources._fastwalk) prints exactly what the pytsk3 walk prints, on every corpus image.

The pytsk3 walk is the reference: tests/triage/test_oracle.py holds it to real ``fls``/``icat``. Here
the lines ``exhibit ls`` prints through each path must be byte-identical: JSON and plain, all entries
and ``--deleted``, whole file systems and sub-folders, with and without what triage stored.
"""

from __future__ import annotations

import io
import lzma
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import FORENSICS_SAMPLES, need
from tests.triage.images import IMAGES, Workspace
from triage.sources.open import list_entries
from triage.views.listing import NULL_SUFFIX, Known, fast_walk_available, write_listing


@pytest.fixture
def fast() -> None:
    if not fast_walk_available():
        pytest.skip("triage.sources._fastwalk is not built (apt-get install libtsk-dev; pip install -e .)")


def listing(
    image: Path,
    *,
    fast: bool,
    as_json: bool = True,
    path: str | None = None,
    recursive: bool = True,
    deleted_only: bool = False,
    partition: int | None = None,
    known: Known | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    out = io.StringIO()
    warnings: list = []
    write_listing(
        image,
        path,
        recursive=recursive,
        deleted_only=deleted_only,
        partition=partition,
        as_json=as_json,
        known=known or {},
        write=out.write,
        warnings=warnings,
        fast=fast,
    )
    # TSK's message is worded by each binding ("Directory_Con: ... Unable to open directory: ...");
    # what was hit, and where, must agree.
    return out.getvalue(), [(w.path, w.problem.split(":")[0]) for w in warnings]


def test_c_walk_is_built_where_libtsk_is_installed() -> None:
    if not Path("/usr/include/tsk/libtsk.h").exists():
        pytest.skip("libtsk-dev is not installed, so the C walk is not built; ls uses the pytsk3 walk")
    assert fast_walk_available(), (
        "libtsk-dev is installed but triage.sources._fastwalk is missing: pip install -e ."
    )


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "plain"])
def test_c_walk_prints_what_the_python_walk_prints(
    workspace: Workspace, image_id: str, as_json: bool, fast: None
) -> None:
    prep = workspace.get(image_id)
    for deleted_only in (False, True):
        kw = {"as_json": as_json, "deleted_only": deleted_only, "partition": prep.offset}
        c = listing(prep.path, fast=True, **kw)  # type: ignore[arg-type]
        py = listing(prep.path, fast=False, **kw)  # type: ignore[arg-type]
        assert c[0].splitlines() == py[0].splitlines()
        assert c == py
        assert c[0] or deleted_only, "nothing listed"


@pytest.mark.parametrize("image_id", ["dftt6-fat", "dftt7-ntfs", "fs-ntfs", "fs-vfat", "dfvfs-imynd"])
def test_sub_folders_list_the_same(workspace: Workspace, image_id: str, fast: None) -> None:
    prep = workspace.get(image_id)
    dirs = [e.path for e in list_entries(prep.path, recursive=True, partition=prep.offset) if e.type == "dir"]
    assert dirs, "the image has folders"
    for d in dirs[:6]:
        for recursive in (False, True):
            kw = {"path": d, "recursive": recursive, "partition": prep.offset}
            assert listing(prep.path, fast=True, **kw) == listing(prep.path, fast=False, **kw), d  # type: ignore[arg-type]


def test_what_triage_stored_is_added_the_same_way(workspace: Workspace, fast: None) -> None:
    prep = workspace.get("fs-ntfs")
    entries = list(list_entries(prep.path, recursive=True, partition=prep.offset))
    known: Known = {}
    for i, e in enumerate(x for x in entries if x.type == "file"):
        if i % 3 == 0:
            key = (e.partition, e.inode, e.attr_type, e.attr_id, e.path)
            known[key] = (f"{i:064x}", "application/x-exhibit-test", i % 2 == 0)
    c = listing(prep.path, fast=True, known=known, partition=prep.offset)
    assert c == listing(prep.path, fast=False, known=known, partition=prep.offset)
    lines = c[0].splitlines()
    assert sum('"mime": "application/x-exhibit-test"' in line for line in lines) == len(known)
    assert sum(line.endswith(NULL_SUFFIX.strip()) for line in lines) == len(lines) - len(known)


@pytest.mark.parametrize(("name", "keep"), [("ntfs", 0.5), ("vfat", 0.3), ("exfat", 0.4)])
def test_truncated_images_warn_alike(tmp_path: Path, name: str, keep: float, fast: None) -> None:
    src = need(FORENSICS_SAMPLES / f"fs.{name}.xz", "(apt-get install forensics-samples-*)")
    image = tmp_path / f"fs.{name}"
    with lzma.open(src) as fin, open(image, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    os.truncate(image, int(image.stat().st_size * keep))
    c = listing(image, fast=True)
    assert c == listing(image, fast=False)
    assert c[1], "a cut image must produce warnings"


@pytest.mark.parametrize("image_id", [i.id for i in IMAGES])
def test_c_walk_yields_the_same_entries(workspace: Workspace, image_id: str, fast: None) -> None:
    """What triage walks (ImageSource.entries, C by default) is the pytsk3 walk's FileEntry list,
    field for field, name bytes and warnings included."""
    from triage.sources.image_source import ImageSource

    prep = workspace.get(image_id)
    walked = []
    for fast_walk in (True, False):
        with ImageSource(prep.path, fast_walk=fast_walk) as src:
            entries = list(src.entries(recursive=True, partition=prep.offset))
            walked.append((entries, [(w.path, w.problem.split(":")[0]) for w in src.warnings]))
    assert walked[0] == walked[1]
    assert walked[0][0]


def test_triage_walks_in_c_when_it_is_built(workspace: Workspace, fast: None) -> None:
    from triage.sources.image_source import ImageSource

    prep = workspace.get("fs-ntfs")
    with ImageSource(prep.path) as src:
        fs = src.filesystem(prep.offset)
        assert src._fast_entries(fs, None, True, False) is not None
