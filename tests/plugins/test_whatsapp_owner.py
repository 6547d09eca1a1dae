"""The device owner's WhatsApp account, read from the app's preferences beside its databases.

msgstore.db and ChatStorage.sqlite do not hold the owner's own JID, so an outgoing message has no
recorded sender. The app keeps the account in its preferences: on Android a SharedPreferences XML
file (``shared_prefs/com.whatsapp_preferences_light.xml``: ``registration_jid``, else ``cc`` and
``ph``; ``push_name``), on iOS the app group's ``group.net.whatsapp.WhatsApp.shared.plist``
(``OwnJabberID``, else ``LastOwnJabberID``; ``FullUserName``). No such file is in the corpus, so
each is built here from those published key names (the ones ALEAPP's and IPED's WhatsApp modules
read). The iOS test uses the corpus's real ChatStorage.sqlite with, as the owner, the JID that
store's own received rows name as their recipient (``ZTOJID``, iLEAPP's "To ID").
"""

from __future__ import annotations

import json
import plistlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from plugins.chat.whatsapp_android import WhatsAppAndroidCall, WhatsAppAndroidMessage, WhatsAppAndroidPlugin
from plugins.chat.whatsapp_ios import (
    WhatsAppIosCall,
    WhatsAppIosCallsPlugin,
    WhatsAppIosMessage,
    WhatsAppIosPlugin,
)
from tests.conftest import need
from tests.plugins.test_whatsapp_android import DB_DIR, MEDIA_SCHEMA, NEW_ROWS, NEW_SCHEMA, _phone
from tests.plugins.test_whatsapp_ios import APP_GROUP, CALL_ROWS, CALLS_SCHEMA, OWNER
from tests.plugins.test_whatsapp_ios import _run_all as _run
from tests.plugins.triage_e2e import exhibit, triaged_folder
from triage.plugin import FileItem, Record

PREFS = "data/data/com.whatsapp/shared_prefs"
ME = "447700900999@s.whatsapp.net"


def _prefs(*entries: tuple[str, str]) -> str:
    strings = "".join(f'    <string name="{k}">{v}</string>\n' for k, v in entries)
    return (
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
        '    <boolean name="input_enter_send" value="false" />\n'
        f"{strings}</map>\n"
    )


def _android(tmp_path: Path, files: dict[str, str]) -> tuple[list[Record], list[str]]:
    root = _phone(tmp_path, NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS)
    for name, text in files.items():
        path = root / PREFS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    item = FileItem.from_path(root / DB_DIR / "msgstore.db", fs_path=f"/{DB_DIR}/msgstore.db", root=root)
    return _run(item, tmp_path, WhatsAppAndroidPlugin())


def test_android_owner_from_the_registration_jid(tmp_path: Path) -> None:
    records, warnings = _android(
        tmp_path,
        {
            "com.whatsapp_preferences_light.xml": _prefs(
                ("push_name", "Ivan &amp; Co"), ("registration_jid", ME), ("cc", "1"), ("ph", "5550100")
            )
        },
    )
    assert warnings == ["chat 99 not found"]
    chats = [r for r in records if isinstance(r, WhatsAppAndroidMessage | WhatsAppAndroidCall)]
    assert len(chats) == 10  # 8 messages and 2 calls, every one of them the owner's device
    where = f"/{PREFS}/com.whatsapp_preferences_light.xml"
    assert {(r.account, r.account_name, r.account_from) for r in chats} == {(ME, "Ivan & Co", where)}
    back = next(r for r in chats if isinstance(r, WhatsAppAndroidMessage) and r.from_me)
    assert back.sender is None  # the database records no sender; the views derive it (below)


def test_android_owner_from_country_code_and_number_of_the_older_file(tmp_path: Path) -> None:
    """The first file naming an account wins; a file that names none is passed over."""
    records, warnings = _android(
        tmp_path,
        {
            "com.whatsapp_preferences_light.xml": _prefs(("push_name", "nobody")),
            "com.whatsapp_preferences.xml": _prefs(("cc", "44"), ("ph", "7700900999")),
        },
    )
    assert warnings == ["chat 99 not found"]
    assert {(r.account, r.account_name) for r in records} == {(ME, None)}  # type: ignore[attr-defined]


def test_android_without_preferences_has_no_owner(tmp_path: Path) -> None:
    records, warnings = _android(tmp_path, {})
    assert warnings == ["chat 99 not found"]
    assert {r.account for r in records} == {None}  # type: ignore[attr-defined]
    assert {r.account_from for r in records} == {None}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text, problem",
    [
        (
            '<?xml version="1.0"?><!DOCTYPE map [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<map><string name="registration_jid">&b;</string></map>',
            "not a preferences file",
        ),
        ("<map><string name='registration_jid'>447700900999", "not a preferences file"),
    ],
    ids=["entity-expansion", "truncated"],
)
def test_android_hostile_preferences_are_a_warning_and_the_messages_are_read(
    tmp_path: Path, text: str, problem: str
) -> None:
    records, warnings = _android(tmp_path, {"com.whatsapp_preferences_light.xml": text})
    where = f"/{PREFS}/com.whatsapp_preferences_light.xml"
    [said] = [w for w in warnings if where in w]
    assert said.startswith(f"owner's account not read from {where}: {problem}")
    assert len([r for r in records if isinstance(r, WhatsAppAndroidMessage)]) == 8
    assert {r.account for r in records} == {None}  # type: ignore[attr-defined]


def _app_group(tmp_path: Path, plist: bytes | None) -> Path:
    root = tmp_path / "extraction"
    group = root / APP_GROUP.lstrip("/")
    (group / "Library/Preferences").mkdir(parents=True)
    if plist is not None:
        (group / "Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist").write_bytes(plist)
    return root


def test_ios_owner_on_the_corpus_store(corpus: Path, tmp_path: Path) -> None:
    db = need(corpus / "chats" / "whatsapp_ios_ChatStorage.sqlite")
    plist = plistlib.dumps(
        {"OwnJabberID": OWNER, "FullUserName": "Local User", "OwnPhoneNumber": b"\x00obfuscated"},
        fmt=plistlib.FMT_BINARY,
    )
    root = _app_group(tmp_path, plist)
    shutil.copy(db, root / APP_GROUP.lstrip("/") / "ChatStorage.sqlite")
    item = FileItem.from_path(
        root / APP_GROUP.lstrip("/") / "ChatStorage.sqlite",
        fs_path=f"{APP_GROUP}/ChatStorage.sqlite",
        root=root,
    )
    records, warnings = _run(item, tmp_path, WhatsAppIosPlugin())
    assert warnings == []
    messages = [r for r in records if isinstance(r, WhatsAppIosMessage)]
    assert len(messages) == 32
    where = f"{APP_GROUP}/Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist"
    assert {(m.account, m.account_name, m.account_from) for m in messages} == {(OWNER, "Local User", where)}
    # the owner named by the preferences is the one the store's received rows were sent to
    assert {m.to_jid for m in messages if m.from_me is False and m.to_jid} == {OWNER}


def _calls(tmp_path: Path, plist: bytes) -> tuple[list[Record], list[str]]:
    """CallHistory.sqlite (the calls tests' fixture) in an app group whose preferences are ``plist``."""
    root = _app_group(tmp_path, plist)
    db = root / APP_GROUP.lstrip("/") / "CallHistory.sqlite"
    con = sqlite3.connect(db)
    con.executescript(CALLS_SCHEMA + CALL_ROWS)
    con.close()
    item = FileItem.from_path(db, fs_path=f"{APP_GROUP}/CallHistory.sqlite", root=root)
    return _run(item, tmp_path, WhatsAppIosCallsPlugin())


def test_ios_owner_from_the_last_jid_of_an_xml_plist_for_calls(tmp_path: Path) -> None:
    records, _ = _calls(tmp_path, plistlib.dumps({"LastOwnJabberID": "19195794674"}, fmt=plistlib.FMT_XML))
    calls = [r for r in records if isinstance(r, WhatsAppIosCall)]
    assert len(calls) == 5 and {c.account for c in calls} == {OWNER}  # a bare number gets its server


def test_ios_a_plist_that_is_not_one_is_a_warning(tmp_path: Path) -> None:
    records, warnings = _calls(tmp_path, b"bplist00\xff\xff\xff not really")
    where = f"{APP_GROUP}/Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist"
    assert any(w.startswith(f"owner's account not read from {where}: not a property list") for w in warnings)
    assert len(records) == 5 and {r.account for r in records} == {None}  # type: ignore[attr-defined]


def test_chats_show_the_owner_as_the_sender_of_outgoing_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the engine and ``exhibit chats --json``: the owner is the derived sender of the
    owner's messages (``sender_field`` says so), and an account of every message."""
    root = _phone(tmp_path / "build", NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS, media=False)
    prefs = root / PREFS / "com.whatsapp_preferences_light.xml"
    prefs.parent.mkdir(parents=True)
    prefs.write_text(_prefs(("registration_jid", ME), ("push_name", "Ivan")), encoding="utf-8")
    files = {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}
    with triaged_folder(tmp_path, monkeypatch, files, "whatsapp_android"):
        lines = exhibit("chats", "EX-001", "--json").lines()
    assert len(lines) == 8 and {line["account"] for line in lines} == {ME}
    out = [line for line in lines if line["direction"] == "outgoing"]
    assert out and {(line["sender"], line["sender_field"]) for line in out} == {(ME, "account")}
    assert {line["account_e164"] for line in lines} == {"+447700900999"}


def test_a_row_warning_names_its_row_when_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found in review: the row a plugin's warning is about (its locator) was dropped on the way
    to the examiner; ``exhibit runs --json`` and the run's output now carry it in the message."""
    root = _phone(tmp_path / "build", NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS, media=False)
    files = {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}
    with triaged_folder(tmp_path, monkeypatch, files, "whatsapp_android") as ran:
        said = " ".join((ran.out + ran.err).split())
        [run] = json.loads(exhibit("runs", "EX-001", "--json").out)
    assert "chat 99 not found (at message._id=8)" in said, said
    assert any(w["message"] == "chat 99 not found (at message._id=8)" for w in run["warnings"]), run[
        "warnings"
    ]
