"""Run the walk-throughs in docs/examiner.md and docs/prosecutor.md, so their commands cannot rot.

Same convention as tests/custody/test_docs.py (see tests/docs_runner.py): every ``$ `` line of a
```console block runs, in order, in one temporary folder, and must exit with status 0 unless the
line ends with ``# exit status N``. ``exhibit ...`` lines run in this process (fast); the others
run in ``bash -c``. Each command's output is compared with the lines the page shows, after the
normalisation tests/docs_runner.py describes (IDs, keys, hashes, times of the run and paths
differ on every run); a few checks below also look into the files the pages write.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FORENSICS_SAMPLES
from tests.docs_runner import Ran, documented_commands, run_page, saved_files

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMINER = DOCS / "examiner.md"
PROSECUTOR = DOCS / "prosecutor.md"


def _need_tools(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(
                f"{tool} is not installed (the page uses it; apt-get install sleuthkit sqlite3 jq xz-utils)"
            )


def _need_samples(*names: str) -> None:
    for name in names:
        path = FORENSICS_SAMPLES / name
        if not path.exists():
            pytest.skip(
                f"sample image absent: {path} (apt-get install forensics-samples-ntfs forensics-samples-vfat)"
            )


def _output_of(ran: list[Ran], line_start: str) -> str:
    """Output of the first command starting with ``line_start``, whitespace runs made one space
    (the CLI wraps long lines at the console width)."""
    found = [r.output for r in ran if r.command.shell.startswith(line_start)]
    assert found, f"no command starting with {line_start!r} ran"
    return " ".join(found[0].split())


def test_pages_parse() -> None:
    assert len(documented_commands(EXAMINER.read_text(encoding="utf-8"))) > 50
    prosecutor = PROSECUTOR.read_text(encoding="utf-8")
    assert len(documented_commands(prosecutor)) > 25
    assert "check_proof.py" in saved_files(prosecutor)


def test_examiner_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_tools("bash", "unxz", "sha256sum", "fls", "icat", "mmls", "sqlite3", "jq", "cmp", "head")
    _need_samples("fs.ntfs.xz", "fs.vfat.xz")
    work = tmp_path / "lantern"
    work.mkdir()
    ran = run_page(EXAMINER, work, monkeypatch)

    first = _output_of(ran, "exhibit triage EX-001 --hash md5,sha256")
    assert "113 entries, 86 files hashed" in first and "29 derived items recorded" in first
    # 5 photos with EXIF, 2 videos, PDQ hashes of 13 pictures, 8 documents (2 of them encrypted
    # PDFs); 6 carved files: 3 photos with EXIF, 5 pictures with PDQ hashes, 1 PDF
    assert "43 new findings" in first
    rerun = [" ".join(r.output.split()) for r in ran if r.command.shell == "exhibit triage EX-001"]
    assert rerun and "86 already done, 0 new findings, 0 derived items" in rerun[0]
    assert _output_of(ran, 'sqlite3 case-2026-031/case.sqlite "SELECT exhibit, path, mime').strip() == (
        "EX-003|/Download/invoice.pdf|image/jpeg"
    )
    photos = json.loads((work / "photos.json").read_text(encoding="utf-8"))
    [deleted_photo] = [p for p in photos if p["source"]["inode"] == 92]
    assert deleted_photo["source"]["path"] == "/pic2/IMG_20200608_111614.jpg"
    assert deleted_photo["data"]["taken"]["utc"] is None and deleted_photo["data"]["taken"]["local"]
    videos = {
        v["source"]["path"]: v["data"] for v in json.loads((work / "videos.json").read_text(encoding="utf-8"))
    }
    phone = videos["/movie1/VID_20191220_170832.mp4"]
    assert (phone["latitude"], phone["longitude"], phone["created"]["utc"]) == (
        -15.8355,
        -48.0153,
        "2019-12-20T20:08:34.000000Z",
    )
    pdq = json.loads((work / "pdq.json").read_text(encoding="utf-8"))
    assert len(pdq) == 18 and all(len(f["data"]["pdq"]) == 64 for f in pdq)  # 13 named, 5 carved
    fat = json.loads((work / "fat-pic1.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert fat["times_local"] is True and not fat["mtime"].endswith("Z")
    log = json.loads((work / "log-EX-001.json").read_text(encoding="utf-8"))
    kinds = [e["body"]["kind"] for e in log]
    assert kinds.count("item.derive") == 29 and kinds.count("triage.run") == 3 and kinds[-1] == "item.export"
    assert "rehashed EX-001, EX-002, EX-003" in _output_of(ran, "exhibit custody verify --rehash")
    # section 8: the log shows the run's 29 derived items as one row; --all lists each
    [grouped_text] = [r.output for r in ran if r.command.shell == "exhibit custody log EX-001"]
    # (a narrow terminal may wrap "item.derive x29" inside its cell)
    assert grouped_text.count("item.derive") == 1 and "x29" in grouped_text, grouped_text
    assert _output_of(ran, "grep -c 'item.derive ' log-all.txt").strip() == "29"

    # section 3, carved files: the deleted pictures and PDF of the NTFS stick, published hashes
    carved = json.loads((work / "carved.json").read_text(encoding="utf-8"))
    assert {c["sha256"] for c in carved} >= {
        "653193b3238e0c056cc834c8144aa9801419516e751f8682daa425d7f3dacc5c",  # pic2/IMG_20191224_234846.jpg
        "850048a1eb65a2147ea05927976aa927c03926c85f880c2f9d2196380bf10403",  # pic2/IMG_20200124_231153.jpg
        "1f23a3bd64e685f9364046b1ff05b2953071c18e90b2bfb3f9a1e0d6ad234bf5",  # pic2/IMG_20200608_111614.jpg
        "da6ae48fbcde42dcef2d6795bb169da5a62d9d54c98df2a5e33df90e93a62e2f",  # pic2/d-debian.jpg
        "8f6144fd20a9e8a977ff8fc3ea8a8ddab287171444e1e0676ea7bf7e7a2355a9",  # text2/d-text.pdf
    }
    assert all(c["status"] == "valid" and c["extents"][0][0] == c["offset"] for c in carved)
    assert sum(1 for c in carved if c["exif"] and c["exif"].get("make") == "Xiaomi") == 3

    # section 11, exchange formats: every GPS finding a placemark, the timeline for Timesketch
    kml = _output_of(ran, "exhibit export-case --format kml --out positions.kml")
    placemarks = (work / "positions.kml").read_text(encoding="utf-8").count("<Placemark")
    assert f"wrote positions.kml: {placemarks} placemarks" in kml and placemarks >= 8
    sketch = [json.loads(x) for x in (work / "timeline.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sketch and all(x["exhibit"] == "EX-005" and x["datetime"].endswith("Z") for x in sketch)
    dfxml = _output_of(ran, "exhibit export-case --format dfxml")
    # the 48 file-system entries `exhibit ls EX-002 -r` lists (not the zip members nor the carved files)
    assert "wrote EX-002.xml: 48 file objects" in dfxml
    assert (work / "EX-002.xml").read_text(encoding="utf-8").count("<fileobject>") == 48

    # section 11: the views across exhibits
    chats = _output_of(ran, "exhibit chats EX-003 EX-005 --region NL")
    assert "<- 0612345678 (+31612345678): Boat is late. Saturday now. [sms._id=1]" in chats
    assert chats.endswith("5 messages in 3 conversations")
    first = json.loads((work / "chats.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["sender_e164"] == "+31612345678" and first["sender_field"] == "sender"
    assert _output_of(ran, "exhibit timeline --from").count("chat/android/sms timestamp EX-005") == 2
    fat = (work / "timeline-EX-002.txt").read_text(encoding="utf-8").splitlines()
    # FAT and EXIF dates: no zone, never converted; the EXIF GPS time is UTC by definition
    assert fat and all(("(local)" in line) != (" gps_time " in line) for line in fat)
    assert any(" gps_time " in line and line.split()[0].endswith("Z") for line in fat)
    assert _output_of(ran, "exhibit links --region NL").startswith(
        "phone +31612345678 exhibits: EX-003, EX-005"
    )
    assert [r.output for r in ran if r.command.shell == "exhibit links"] == ["0 linked identifiers\n"]
    assert _output_of(ran, "grep -c '<node ' links.graphml") == "3"

    # section 12: keywords (UTF-16LE, Latin-1 and UTF-8 files; SMS bodies searched after the fact)
    hits = json.loads((work / "hits.json").read_text(encoding="utf-8"))
    found = {
        (h["source"]["path"], h["data"]["matched"], h["data"]["offset"], h["data"]["encoding"]) for h in hits
    }
    assert ("/Documents/notiz.txt", "Hafenstraße", 24, "utf-16le") in found
    assert ("/Downloads/lieferung.txt", "Hafenstraße", 11, "latin-1") in found
    search = json.loads((work / "search.json").read_text(encoding="utf-8"))
    records = {
        (h["data"]["source_locator"], h["data"]["term"])
        for h in search["hits"]
        if h["data"]["area"] == "record"
    }
    assert records == {
        ("sms._id=1", "saturday"),
        ("sms._id=2", "pier"),
        ("sms._id=3", "saturday"),
        ("sms._id=3", "re:\\b[0-2]\\d:[0-5]\\d\\b"),
    }


def test_prosecutor_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_tools("bash", "sqlite3", "jq", "sha256sum", "python3")
    work = tmp_path / "harbour"
    work.mkdir()
    ran = run_page(PROSECUTOR, work, monkeypatch)

    codes = json.loads((work / "verify-tampered.json").read_text(encoding="utf-8"))
    assert {p["code"] for p in codes["problems"]} >= {"ITEM_HASH_MISMATCH"}
    assert "RESULT: all entries proven" in _output_of(ran, "python3 check_proof.py EX-001-proofs.json")

    # section 7: the bundle verifies, its README's script recomputes the digest roots, an edited
    # row is caught and named
    assert _output_of(ran, "exhibit verify-bundle bundle-2026-017.zip").endswith(
        "bundle OK: 15 parts verified"
    )
    assert _output_of(ran, "cd bundle && python3 digest_root.py").count("= signed") == 3
    altered = json.loads((work / "verify-bundle.json").read_text(encoding="utf-8"))
    assert altered["failed"] == ["exhibits/EX-001/triage_findings.jsonl"]

    # The same independent check through a real process, as the defence expert would run it.
    last = next(r for r in ran if r.command.shell.startswith("python3 check_proof.py") and r.code == 0)
    done = subprocess.run(
        [sys.executable, *last.command.shell.split()[1:]],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == last.code, done.stdout + done.stderr
