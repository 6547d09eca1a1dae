"""A small phone case with real triage data, for the report's findings tests.

Kai's Android phone of the Quick start (``scripts/make_phone_extraction.py``: SMS, calls,
contacts, WhatsApp, from the apps' published schemas) with, added here:

- two WhatsApp messages to V: one whose body is hostile HTML (:data:`HOSTILE`), one carrying a
  photo (``message_media``) whose file is in the extraction under ``sdcard/WhatsApp/Media``: the
  corpus photo ``gps/DSCN0010.jpg``;
- an SMS sent and then deleted (SQLite ``secure_delete`` off, as on phones), so ``sms_android``
  recovers it from the database's free space;
- the corpus photos (``images/gps/*.jpg`` with positions, ``Canon_40D.jpg`` without) under
  ``sdcard/DCIM/Camera``, and ``Kodak_CX7530.jpg`` there under a hostile name (:data:`HOSTILE_NAME`); the corpus Chrome ``History`` under the Chrome profile;

then triaged with every plugin, searched for two keywords (``exhibit search``) and matched
against a known-bad hash set holding the SHA-256 of ``DSCN0025.jpg`` (``exhibit hashset``), all
through the real command line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sqlite3
from pathlib import Path

import pytest

from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire
from tests.conftest import CORPUS, need
from tests.plugins.triage_e2e import exhibit

REPO = Path(__file__).resolve().parents[2]
HOSTILE = "<script>document.title='x'</script><img src=x onerror=alert(1)>"
DELETED_SMS = "Burn this phone after Friday."
CAMERA = "sdcard/DCIM/Camera"
WA_IMAGE = "sdcard/WhatsApp/Media/WhatsApp Images/IMG-20260310-WA0005.jpg"
BAD_PHOTO = "DSCN0025.jpg"
KEYWORDS = ("Harbour Road", "passports")
#: A photo file name made of HTML's special characters (the corpus Kodak_CX7530.jpg, no GPS).
HOSTILE_NAME = "a<b>&\"c'<script>x.jpg"


def builder():  # type: ignore[no-untyped-def]
    """scripts/make_phone_extraction.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "make_phone_extraction", REPO / "scripts" / "make_phone_extraction.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _whatsapp_extras(android: Path, make) -> None:  # type: ignore[no-untyped-def]
    con = sqlite3.connect(android / "data/data/com.whatsapp/databases/msgstore.db")
    for rowid, utc, text in ((5, "2026-03-10T19:07:00", HOSTILE), (6, "2026-03-10T19:08:00", "the van")):
        make.insert(
            con,
            "message",
            _id=rowid,
            chat_row_id=1,
            from_me=0,
            key_id=f"3EB0C4D1A2B3C4D5E6F7{rowid:02d}",
            sender_jid_row_id=0,
            status=0,
            broadcast=0,
            recipient_count=0,
            origin=0,
            timestamp=make.unix_ms(utc),
            received_timestamp=make.unix_ms(utc) + 900,
            receipt_server_timestamp=0,
            message_type=1 if rowid == 6 else 0,
            text_data=text,
            starred=0,
            lookup_tables=0,
            sort_id=rowid,
        )
    make.insert(
        con,
        "message_media",
        message_row_id=6,
        chat_row_id=1,
        file_path="Media/WhatsApp Images/IMG-20260310-WA0005.jpg",
        file_size=(CORPUS / "images/gps/DSCN0010.jpg").stat().st_size,
        mime_type="image/jpeg",
    )
    con.commit()
    con.close()
    target = android / WA_IMAGE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "images/gps/DSCN0010.jpg", target)


def _deleted_sms(android: Path, make) -> None:  # type: ignore[no-untyped-def]
    db = android / "data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA secure_delete=OFF")
    con.execute(
        "INSERT INTO sms (_id, thread_id, address, date, type, read, body) VALUES (7, 1, ?, ?, 2, 1, ?)",
        ("07700900456", make.unix_ms("2026-03-13T06:00:00"), DELETED_SMS),
    )
    con.execute("DELETE FROM sms WHERE _id = 7")
    con.close()


def photos() -> list[Path]:
    images = need(CORPUS / "images", "(the shared corpus sits beside the repository)")
    return [*sorted((images / "gps").glob("*.jpg")), images / "Canon_40D.jpg"]


def build_case(root: Path) -> tuple[Path, Path]:
    """The case folder and the evidence folder (see the module docstring)."""
    make = builder()
    android, _iphone = make.build(root / "phones")
    _whatsapp_extras(android, make)
    _deleted_sms(android, make)
    camera = android / CAMERA
    camera.mkdir(parents=True)
    for photo in photos():
        shutil.copy(photo, camera / photo.name)
    shutil.copy(CORPUS / "images" / "Kodak_CX7530.jpg", camera / HOSTILE_NAME)
    chrome = android / "data/data/com.android.chrome/app_chrome/Default/History"
    chrome.parent.mkdir(parents=True)
    shutil.copy(need(CORPUS / "browsers" / "chrome_History"), chrome)

    folder = root / "case"
    terms = root / "terms.txt"
    terms.write_text("\n".join(KEYWORDS) + "\n", encoding="utf-8")
    bad = root / "bad.sha256"
    bad.write_text(hashlib.sha256((camera / BAD_PHOTO).read_bytes()).hexdigest() + "\n")
    with pytest.MonkeyPatch.context() as mp:  # works in a module-scoped fixture too
        mp.setenv("EXHIBIT_CONFIG_DIR", str(root / "config"))
        case = init_case(folder, case_number="2026/42", title="report findings")
        try:
            add_actor(case, "asmith", name="Alan Smith", role="examiner")
            acquire(case, android, exhibit="EX-001", actor="asmith", description="Kai's phone")
        finally:
            case.close()
        mp.setenv("EXHIBIT_CASE", str(folder))
        mp.setenv("EXHIBIT_ACTOR", "asmith")
        for args in (
            ("triage", "EX-001", "--workers", "1"),
            ("search", "EX-001", "--keywords", str(terms), "--workers", "1"),
            ("hashset", "import", str(bad), "--name", "bad-photos", "--kind", "known-bad"),
            ("hashset", "match", "EX-001"),
        ):
            ran = exhibit(*args)
            assert ran.code == 0, (args, ran.out, ran.err)
    return folder, android
