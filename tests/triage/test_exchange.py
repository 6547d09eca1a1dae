"""``exhibit export-case --format kml|timesketch`` (triage/views/exchange.py), through the real CLI.

KML: the corpus photos (exif-py's samples) triaged from a folder; every photo that exiftool says
has a GPS position (``groundtruth/exif/exif-summary.tsv``, ``exiftool -n``) is one placemark at
exactly that position (longitude first, as KML writes it), and no other. A file whose name holds
XML's special characters is named as it is and the document still parses.

Timesketch: the corpus ``mmssms.db`` (plaso's test data: 9 SMS, the first sent 2013-10-29
16:56:28.038 UTC); every line carries the three fields Timesketch requires (``message``,
``datetime``, ``timestamp_desc``), one line per UTC event of ``exhibit timeline``, and the events
whose time has no known offset (EXIF dates without an offset) are left out and counted.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from defusedxml import ElementTree

from tests.conftest import CORPUS, need
from tests.plugins.triage_e2e import acquired_case, exhibit

KML = "{http://www.opengis.net/kml/2.2}"
HOSTILE = "a<b>&\"c'.jpg"


def _gps_oracle() -> dict[str, tuple[float, float]]:
    """name -> (latitude, longitude) of every corpus photo exiftool gives a position."""
    rows = need(CORPUS / "groundtruth" / "exif" / "exif-summary.tsv").read_text(encoding="utf-8").splitlines()
    out = {}
    for row in rows:
        if row.startswith("#"):
            continue
        cols = row.split("\t")
        if cols[4] != "-" and cols[5] != "-" and cols[0].startswith("exif-py/jpg/"):
            out[Path(cols[0]).name] = (float(cols[4]), float(cols[5]))
    return out


@pytest.fixture
def photos_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[float, float]]:
    oracle = _gps_oracle()
    folder = tmp_path / "evidence" / "DCIM"
    folder.mkdir(parents=True)
    images = need(CORPUS / "images", "(the shared corpus sits beside the repository)")
    for path in [*images.glob("*.jpg"), *(images / "gps").glob("*.jpg")]:
        shutil.copy(path, folder / path.name)
    shutil.copy(images / "gps" / "DSCN0010.jpg", folder / HOSTILE)
    oracle[HOSTILE] = oracle["DSCN0010.jpg"]
    acquired_case(tmp_path, monkeypatch, {"EX-001": tmp_path / "evidence"}, title="exchange")
    ran = exhibit("triage", "EX-001", "--plugins", "photos_exif", "--workers", "1")
    assert ran.code == 0, ran.out + ran.err
    return oracle


def test_kml_has_every_gps_photo_at_exiftools_position(
    photos_case: dict[str, tuple[float, float]], tmp_path: Path
) -> None:
    out = tmp_path / "positions.kml"
    ran = exhibit("export-case", "--format", "kml", "--out", str(out))
    assert ran.code == 0, ran.out + ran.err
    assert f"{len(photos_case)} placemarks" in ran.err
    root = ElementTree.parse(out).getroot()
    assert root.tag == f"{KML}kml"
    seen = {}
    for mark in root.iter(f"{KML}Placemark"):
        name = mark.findtext(f"{KML}name")
        assert name and name.startswith("EX-001 /DCIM/")
        lon, lat = (float(v) for v in mark.findtext(f"{KML}Point/{KML}coordinates").split(","))
        seen[name.removeprefix("EX-001 /DCIM/")] = (lat, lon)
        assert "media/photo/exif" in mark.findtext(f"{KML}description")
    assert set(seen) == set(photos_case)
    for name, (lat, lon) in photos_case.items():
        assert abs(seen[name][0] - lat) < 1e-6 and abs(seen[name][1] - lon) < 1e-6, name


def test_an_existing_file_is_never_replaced(
    photos_case: dict[str, tuple[float, float]], tmp_path: Path
) -> None:
    out = tmp_path / "keep.kml"
    out.write_text("mine")
    ran = exhibit("export-case", "--format", "kml", "--out", str(out))
    assert ran.code == 2 and "already exists" in ran.err and "Traceback" not in ran.err
    assert out.read_text() == "mine"
    bad = exhibit("export-case", "--format", "shp", "--out", str(tmp_path / "x"))
    assert bad.code == 2 and "unknown format" in bad.err and not (tmp_path / "x").exists()


def test_timesketch_lines_are_the_utc_events_of_the_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = need(CORPUS / "chats" / "mmssms.db", "(the shared corpus sits beside the repository)")
    folder = tmp_path / "phone" / "data/data/com.android.providers.telephony/databases"
    folder.mkdir(parents=True)
    shutil.copy(db, folder / "mmssms.db")
    (tmp_path / "phone" / "DCIM").mkdir()
    shutil.copy(CORPUS / "images" / "Canon_40D.jpg", tmp_path / "phone" / "DCIM" / "Canon_40D.jpg")
    acquired_case(tmp_path, monkeypatch, {"EX-001": tmp_path / "phone"}, title="timesketch")
    assert exhibit("triage", "EX-001", "--plugins", "sms_android,photos_exif", "--workers", "1").code == 0
    out = tmp_path / "timeline.jsonl"
    ran = exhibit("export-case", "--format", "timesketch", "--out", str(out), "--exhibit", "EX-001")
    assert ran.code == 0, ran.out + ran.err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    events = exhibit("timeline", "EX-001", "--json").lines()
    utc = [e for e in events if not e["time_local"]]
    local = [e for e in events if e["time_local"]]
    assert local, "the Canon's EXIF date has no offset: a local-time event"
    assert len(lines) == len(utc) and f"{len(local)} event" in ran.err and "left out" in ran.err
    for line in lines:
        assert {"message", "datetime", "timestamp_desc"} <= set(line)
        assert line["datetime"].endswith("Z") and isinstance(line["timestamp"], int)
    first = next(x for x in lines if "Yo Fred this is my new number." in x["message"])
    assert first["datetime"] == "2013-10-29T16:56:28.038000Z" and first["timestamp"] == 1383065788038000
    assert first["timestamp_desc"] == "chat/android/sms timestamp" and first["locator"].startswith("sms.")
    assert first["path"] == "/data/data/com.android.providers.telephony/databases/mmssms.db"
    assert (
        sum(
            1
            for x in lines
            if x["record_type"] == "chat/android/sms" and x["timestamp_desc"].endswith("timestamp")
        )
        == 9
    )


def test_dfxml_lists_the_files_fiwalk_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DFTT #6 (FAT16, deleted files) publishes fiwalk's DFXML of the image: every regular file
    fiwalk lists (name, inode, size, allocated or not) is in Exhibit's DFXML the same, with the
    SHA-256 triage computed; the XML parses."""
    from tests.triage.images import Workspace

    published = need(CORPUS / "disk" / "dftt" / "6-fat-undel.dd.xml")
    ns = "{http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML}"

    def files(path: Path) -> dict[str, tuple[str, str, str]]:
        out = {}
        for fo in ElementTree.parse(path).getroot().iter(f"{ns}fileobject"):
            if fo.findtext(f"{ns}name_type") != "r" or (fo.findtext(f"{ns}filename") or "").startswith("$"):
                continue
            alloc = fo.findtext(f"{ns}alloc")
            if alloc is None:  # fiwalk: alloc_inode and alloc_name
                alloc = "1" if fo.findtext(f"{ns}alloc_name") == "1" else "0"
            out[fo.findtext(f"{ns}filename") or ""] = (
                fo.findtext(f"{ns}inode"),
                fo.findtext(f"{ns}filesize"),
                alloc,
            )
        return out

    image = Workspace(tmp_path / "images").get("dftt6-fat").path
    acquired_case(tmp_path, monkeypatch, {"EX-001": image}, title="dfxml")
    assert exhibit("triage", "EX-001", "--workers", "1", "--no-carve").code == 0
    out = tmp_path / "EX-001.xml"
    ran = exhibit("export-case", "--format", "dfxml", "--out", str(out), "--exhibit", "EX-001")
    assert ran.code == 0, ran.out + ran.err
    theirs, ours = files(published), files(out)
    assert len(theirs) >= 8  # 7 files, live and deleted, and the volume label entry
    missing = {name: v for name, v in theirs.items() if ours.get(name) != v}
    assert not missing, {name: (v, ours.get(name)) for name, v in missing.items()}
    digests = [
        h.text for h in ElementTree.parse(out).getroot().iter(f"{ns}hashdigest") if h.get("type") == "sha256"
    ]
    assert len(digests) >= len(theirs) and all(d and len(d) == 64 for d in digests)


def test_a_placemark_has_the_time_the_chats_give_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: a WhatsApp iOS location message's placemark took its ``sent_time`` (first in field
    order) while ``exhibit chats`` and CASE give its ``timestamp``; a folder's file was described
    with "partition None, inode None"."""
    store = need(CORPUS / "chats" / "whatsapp_ios_ChatStorage.sqlite")
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(store, folder / "ChatStorage.sqlite")
    acquired_case(tmp_path, monkeypatch, {"EX-001": folder}, title="placemarks")
    assert exhibit("triage", "EX-001", "--plugins", "whatsapp_ios", "--workers", "1").code == 0
    chats = {c["locator"]: c for c in exhibit("chats", "--json").lines() if c["location"]}
    out = tmp_path / "positions.kml"
    assert exhibit("export-case", "--format", "kml", "--out", str(out)).code == 0
    marks = list(ElementTree.parse(out).getroot().iter(f"{KML}Placemark"))
    assert len(marks) == len(chats) > 0
    stored = json.loads(exhibit("findings", "EX-001", "--json").out)
    sent = {f["locator"]: (f["data"].get("sent_time") or {}).get("utc") for f in stored}
    differs = 0
    for mark in marks:
        description = mark.findtext(f"{KML}description") or ""
        locator = description.split(" at ", 1)[1].split(" (", 1)[0]
        assert mark.findtext(f"{KML}TimeStamp/{KML}when") == chats[locator]["timestamp"], locator
        assert "None" not in description and "partition -, inode -" in description
        differs += sent[locator] not in (None, chats[locator]["timestamp"])
    assert differs > 0  # the corpus has a location message whose sent time is another time


def test_exports_carry_names_as_the_text_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review: DFXML's ``filename`` and CASE's ``fileName``/``filePath`` held Exhibit's display
    form (a real backslash doubled, U+202E as six characters ``\\u202e``), though the same CASE
    file carries U+202E as itself in message text. Now the names as text, as ``os.listdir``
    gives them; a name whose bytes are not UTF-8 keeps its display form, said in CASE."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    names = ["back\\slash.txt", "inv\u202egpj.txt"]
    text = b"write to ann@example.net\n"  # a text a plugin reads: CASE lists the files plugins read
    for name in names:
        (folder / name).write_bytes(text)
    (folder / os.fsdecode(b"bad\xff.txt")).write_bytes(text)
    acquired_case(tmp_path, monkeypatch, {"EX-001": folder}, title="names")
    assert exhibit("triage", "EX-001", "--workers", "1").code == 0
    out = tmp_path / "EX-001.xml"
    assert exhibit("export-case", "--format", "dfxml", "--out", str(out), "--exhibit", "EX-001").code == 0
    ns = "{http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML}"
    listed = {fo.findtext(f"{ns}filename") for fo in ElementTree.parse(out).getroot().iter(f"{ns}fileobject")}
    assert set(names) <= listed and "bad\\xff.txt" in listed, listed
    case_out = tmp_path / "case.jsonld"
    assert exhibit("export-case", "--format", "case", "--out", str(case_out)).code == 0
    graph = json.loads(case_out.read_text(encoding="utf-8"))["@graph"]
    files = {}
    for node in graph:
        for facet in node.get("uco-core:hasFacet", []):
            if facet.get("@type") == "uco-observable:FileFacet":
                files[facet["uco-observable:fileName"]] = (facet["uco-observable:filePath"], node)
    for name in names:
        assert files[name][0] == f"/{name}", files.keys()
    path, node = files["bad\\xff.txt"]
    assert path == "/bad\\xff.txt" and "display form" in node["uco-core:description"]
