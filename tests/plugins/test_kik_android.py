"""Kik Messenger on Android (``kikDatabase.db``), on fixture databases.

No real ``kikDatabase.db`` is in the corpus, nor in any public test set found: every database here
is **built by this test** from the app's published schema, with rows made up for it. Sources of
the schema (facts only: table and column names, types, units, meanings):

- the app's own table definitions, the ``CREATE TABLE`` text of Kik for Android as decompiled in
  public repositories (found with the code search): database version 20 (class
  ``com.kik.storage.aj$a``: ``messagesTable`` with ``markdown_body``, ``KIKcontactsTable`` with
  ``group_size`` and ``direct_messaging_disabled``, ``memberTable (group_id, member_jid,
  is_admin, is_banned, permission_level, is_dm_disabled)``, ``KIKContentTable (content_id,
  content_type, content_name, content_string)``) and an older version (``messagesTable`` with
  ``encryption_key`` and without ``server_sig``, ``KIKcontactsTable`` without
  ``user_permission_level``);
- ALEAPP's Kik artifact (abrignoni/ALEAPP ``scripts/artifacts/kikMessenger.py``, added in commit
  c4fe3017, 2026-08-06): the ``<core id>.kikDatabase.db`` name of recent versions, ``timestamp``
  and ``photo_timestamp`` in Unix milliseconds, ``was_me`` 1 for the owner's messages,
  ``read_state`` kept as a number, ``bin_id`` the chat, the ``KIKContentTable`` property names
  (``file-name``, ``file-size``, ``file-url``, ``app-name``...), the messages joined to the
  contacts on ``partner_jid = jid``;
- anparser (anparser/anparser, ``kik_android``): the same three tables and their columns, the
  message time in Unix milliseconds;
- Andriller (den4uk/andriller, ``andriller/decoders.py``, ``KikMessagesDecoder``): the
  ``*.kikDatabase.db`` name, ``was_me`` set for sent messages, ``timestamp`` in Unix
  milliseconds, ``partner_jid`` joined to ``KIKcontactsTable.jid`` for the display name, and
  ``read_state`` 500 on the messages it lists (the value used for received rows here);
- group chats keyed by the group's JID in ``bin_id`` with ``partner_jid`` the member who wrote:
  the query of a public script reading a Kik group's messages (found with the code search; its
  repository not identified) ``... FROM messagesTable m, KIKcontactsTable c WHERE m.bin_id =
  <group> AND m.partner_jid = c.jid``, and group JIDs of the form ``<number>_g@groups.kik.com``
  as in the corpus ``chats/kik_ios.sqlite`` (plaso's test data). How the owner's own messages in
  a group set ``partner_jid`` is not published: the fixture gives them the group's JID.

The expected values below are the fixture's own rows, so these tests check the reading, the
conversions and the tolerance, not agreement with a real phone.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from plugins.chat.kik_android import (
    KikAndroidContact,
    KikAndroidGroupMember,
    KikAndroidMessage,
    KikAndroidPlugin,
)
from tests.plugins.android_fixtures import check_bad_copies, fingerprint, run
from tests.plugins.triage_e2e import exhibit, triaged_folder
from triage.plugin import FileItem
from triage.plugin.records import label_for, record_to_dict

APP_DIR = "data/data/kik.android/databases"
CORE_ID = "51c54d5d-cfda-4355-8ac2-9470dcecd5b2"

# Database version 20 of the app (the decompiled CREATE TABLE statements, columns in their order).
SCHEMA_V20 = """
CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid VARCHAR, display_name VARCHAR,
  local_name VARCHAR, user_name VARCHAR, in_roster BOOLEAN,photo_url VARCHAR, photo_timestamp VARCHAR,
  is_stub BOOLEAN,is_group BOOLEAN,is_blocked BOOLEAN,is_ignored BOOLEAN,pending_convo_clear BOOLEAN,
  pending_in_roster BOOLEAN,pending_is_blocked BOOLEAN,appear_in_convos_list BOOLEAN,
  roster_operation_attempts INT,verified BOOLEAN,public_key BLOB,is_public_key_resolved BOOLEAN,
  is_user_admin BOOLEAN,user_permission_level VARCHAR,group_hashtag VARCHAR,is_user_removed BOOLEAN,
  content_links BLOB,description VARCHAR,tags_array VARCHAR,group_size INT,direct_messaging_disabled BOOLEAN);
CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, markdown_body VARCHAR,
  partner_jid VARCHAR, was_me INT, read_state INT, uid VARCHAR, length INTEGER, timestamp LONG, bin_id VARCHAR,
  sys_msg VARCHAR, stat_msg VARCHAR, stat_user_jid VARCHAR, stat_special_visibility BOOLEAN,
  req_read_reciept BOOLEAN, content_id VARCHAR, app_id VARCHAR, message_retry_count INT,
  encryption_failure BOOLEAN, render_instructions VARCHAR, friend_attr_id INT , server_sig VARCHAR ,
  mentioned_contact_id VARCHAR,core_message_proto_bytes BLOB,is_latest_from_correspondent_in_bin BOOL,
  is_big_emoji BOOL);
CREATE TABLE memberTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, group_id VARCHAR, member_jid VARCHAR,
  is_admin BOOLEAN, is_banned BOOLEAN, permission_level VARCHAR, is_dm_disabled BOOLEAN);
CREATE TABLE KIKContentTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, content_id VARCHAR, content_type INT,
  content_name VARCHAR, content_string VARCHAR);
"""

# An older version: messagesTable before server_sig, contacts before user_permission_level and
# group_size; no memberTable (a copy without it must still be read).
SCHEMA_OLD = """
CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid VARCHAR, display_name VARCHAR,
  local_name VARCHAR, user_name VARCHAR, in_roster BOOLEAN,photo_url VARCHAR, photo_timestamp VARCHAR,
  is_stub BOOLEAN,is_group BOOLEAN,is_blocked BOOLEAN,is_ignored BOOLEAN,pending_convo_clear BOOLEAN,
  pending_in_roster BOOLEAN,pending_is_blocked BOOLEAN,appear_in_convos_list BOOLEAN,
  roster_operation_attempts INT,verified BOOLEAN,public_key BLOB,is_public_key_resolved BOOLEAN,
  is_user_admin BOOLEAN,group_hashtag VARCHAR,is_user_removed BOOLEAN,content_links BLOB,description VARCHAR,
  tags_array VARCHAR);
CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, partner_jid VARCHAR,
  was_me INT, read_state INT, uid VARCHAR, length INTEGER, timestamp LONG, bin_id VARCHAR, sys_msg VARCHAR,
  stat_msg VARCHAR, stat_user_jid VARCHAR, stat_special_visibility BOOLEAN,req_read_reciept BOOLEAN,
  content_id VARCHAR, app_id VARCHAR, message_retry_count INT, encryption_failure BOOLEAN,
  render_instructions VARCHAR, friend_attr_id INT , encryption_key BLOB);
CREATE TABLE KIKContentTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, content_id VARCHAR, content_type INT,
  content_name VARCHAR, content_string VARCHAR);
"""

KIKTEAM = "kikteam@talk.kik.com"
KEN = "ken.doh_khv@talk.kik.com"
JANE = "jane.roe_a1b@talk.kik.com"
SPAM = "hotgirl23_x9z@talk.kik.com"
STRANGER = "stranger_zz1@talk.kik.com"
OWNER = "jon.doh2015_q1w@talk.kik.com"
GROUP = "1100024090445_g@groups.kik.com"
PHOTO = "a7160843-c595-4afb-a359-4151dcd79157"

CONTACTS = [  # (jid, display_name, user_name, in_roster, photo_timestamp, is_group, is_blocked, extra columns)
    {"jid": KIKTEAM, "display_name": "Kik Team", "user_name": "kikteam", "in_roster": 0, "verified": 1},
    {
        "jid": KEN,
        "display_name": "Ken Doh",
        "user_name": "ken.doh",
        "in_roster": 1,
        "photo_url": "https://profilepics.cf.kik.com/ken",
        "photo_timestamp": "1435656370961",
        "is_group": 0,
        "is_blocked": 0,
    },
    {
        "jid": JANE,
        "display_name": "Jane Roe",
        "user_name": "jane.roe",
        "in_roster": 1,
        "local_name": "Jane R.",
    },
    {"jid": SPAM, "display_name": "hotgirl23", "user_name": "hotgirl23", "in_roster": 0, "is_blocked": 1},
    {
        "jid": GROUP,
        "display_name": "EveryoneButRoss",
        "user_name": None,
        "is_group": 1,
        "group_hashtag": "#everyonebutross",
        "group_size": 3,
        "is_user_admin": 0,
    },
]

MESSAGES = [  # _id from 1, in this order
    {"body": "Welcome to Kik!", "partner_jid": KIKTEAM, "bin_id": KIKTEAM, "was_me": 0, "read_state": 500,
     "timestamp": 1435580700000, "uid": "5e1c3f0a-0001-4c8e-9d1a-000000000001"},
    {"body": "Hello", "partner_jid": KEN, "bin_id": KEN, "was_me": 1, "read_state": 400,
     "timestamp": 1435580771584, "uid": "5e1c3f0a-0002-4c8e-9d1a-000000000002", "length": 5},
    {"body": "Hi Jon", "partner_jid": KEN, "bin_id": KEN, "was_me": 0, "read_state": 500,
     "timestamp": 1435580802000},
    {"body": "Who is coming on Saturday?", "partner_jid": JANE, "bin_id": GROUP, "was_me": 0, "read_state": 500,
     "timestamp": 1435655935795},
    {"body": "Me", "partner_jid": GROUP, "bin_id": GROUP, "was_me": 1, "read_state": 400,
     "timestamp": 1435656000000},
    {"body": None, "partner_jid": GROUP, "bin_id": GROUP, "was_me": 0, "read_state": 500,
     "timestamp": 1435656010000, "stat_msg": "Ken Doh has joined the chat", "stat_user_jid": KEN},
    {"body": None, "partner_jid": KEN, "bin_id": KEN, "was_me": 0, "read_state": 500,
     "timestamp": 1435656370000, "content_id": PHOTO, "app_id": "com.kik.ext.gallery"},
    {"body": "are you there?", "partner_jid": STRANGER, "bin_id": STRANGER, "was_me": 0, "read_state": 500,
     "timestamp": 1435700000000},
]  # fmt: skip
FILLER = 150  # more of Ken and the owner, so the tables span several pages

MEMBERS = [(GROUP, KEN, 1, 0, "2"), (GROUP, JANE, 0, 0, None), (GROUP, OWNER, 0, 0, None)]
CONTENT = [  # one row per property of the photo; preview and icon are not read
    (PHOTO, 2, "file-name", "IMG_20150630_092610.jpg"),
    (PHOTO, 2, "file-size", "48213"),
    (PHOTO, 2, "app-name", "Gallery"),
    (PHOTO, 2, "file-url", f"https://platform.kik.com/content/files/{PHOTO}"),
    (PHOTO, 3, "preview", "cGljdHVyZSBkYXRh"),
    (PHOTO, 3, "icon", "gallery-icon"),
]


def _insert(con: sqlite3.Connection, table: str, row: dict[str, object]) -> None:
    names = ", ".join(row)
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


def build(path: Path, schema: str = SCHEMA_V20, *, filler: int = FILLER) -> Path:
    """A kikDatabase.db at ``path`` with the rows above (the member table when the schema has one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(schema)
        have = {r[1] for r in con.execute("SELECT * FROM pragma_table_info('KIKcontactsTable')")}
        for contact in CONTACTS:
            _insert(con, "KIKcontactsTable", {k: v for k, v in contact.items() if k in have})
        for message in MESSAGES:
            _insert(con, "messagesTable", message)
        for n in range(filler):
            mine = n % 2 == 0
            _insert(
                con,
                "messagesTable",
                {"body": f"message {n} " + "x" * 80, "partner_jid": KEN, "bin_id": KEN, "was_me": int(mine),
                 "read_state": 400 if mine else 500, "timestamp": 1435700000000 + n * 60_000},
            )  # fmt: skip
        if "memberTable" in schema:
            for member in MEMBERS:
                keys = ("group_id", "member_jid", "is_admin", "is_banned", "permission_level")
                _insert(con, "memberTable", dict(zip(keys, member, strict=True)))
        for content in CONTENT:
            keys = ("content_id", "content_type", "content_name", "content_string")
            _insert(con, "KIKContentTable", dict(zip(keys, content, strict=True)))
        con.commit()
    finally:
        con.close()
    return path


def _read(path: Path, tmp_path: Path) -> tuple[list[KikAndroidMessage], list[KikAndroidContact], list[KikAndroidGroupMember], list[tuple[str, str | None, str]]]:  # fmt: skip
    item = FileItem.from_path(path, fs_path=f"/{APP_DIR}/{path.name}")
    records, warnings = run([KikAndroidPlugin()], item, tmp_path)
    return (
        [r for r in records if isinstance(r, KikAndroidMessage)],
        [r for r in records if isinstance(r, KikAndroidContact)],
        [r for r in records if isinstance(r, KikAndroidGroupMember)],
        warnings,
    )


def test_messages_contacts_and_members_of_version_20(tmp_path: Path) -> None:
    path = build(tmp_path / "phone" / f"{CORE_ID}.kikDatabase.db")
    before = fingerprint(path)
    messages, contacts, members, warnings = _read(path, tmp_path)
    assert warnings == []
    assert (len(messages), len(contacts), len(members)) == (len(MESSAGES) + FILLER, 5, 3)
    by_id = {m.rowid: m for m in messages}

    welcome = by_id[1]
    assert (welcome.from_me, welcome.sender, welcome.recipients, welcome.party, welcome.conversation) == (
        False,
        "kikteam",
        (),
        KIKTEAM,
        KIKTEAM,
    )
    assert (welcome.conversation_title, welcome.status, welcome.uid) == (
        "Kik Team",
        500,
        "5e1c3f0a-0001-4c8e-9d1a-000000000001",
    )

    hello = by_id[2]  # the owner's message: no sender recorded, the chat is the recipient
    assert (hello.body, hello.from_me, hello.sender, hello.recipients, hello.party) == (
        "Hello",
        True,
        None,
        (KEN,),
        KEN,
    )
    assert (hello.was_me, hello.message_status, hello.length, hello.username, hello.display_name) == (
        1,
        400,
        5,
        "ken.doh",
        "Ken Doh",
    )
    assert hello.timestamp is not None
    assert (hello.timestamp.utc, hello.timestamp.raw, hello.timestamp.encoding) == (
        "2015-06-29T12:26:11.584000Z",
        1435580771584,
        "unix_ms",
    )
    assert label_for(KikAndroidMessage, "was_me", 1) == "sent"
    assert label_for(KikAndroidMessage, "was_me", 0) == "received"
    assert hello.account is None  # the owner's name is in kikCoreDatabase.db, not read here

    group = by_id[4]  # Jane writing in the group: the chat is the group, the sender Jane
    assert (group.conversation, group.party, group.sender, group.conversation_title, group.partner_jid) == (
        GROUP,
        None,
        "jane.roe",
        "EveryoneButRoss",
        JANE,
    )
    assert group.timestamp is not None and group.timestamp.utc == "2015-06-30T09:18:55.795000Z"
    mine = by_id[5]
    assert (mine.from_me, mine.sender, mine.recipients, mine.party) == (True, None, (GROUP,), None)
    status = by_id[6]  # a status line: no body, its text and whom it is about kept
    assert (status.body, status.status_message, status.status_user_jid, status.system_message) == (
        None,
        "Ken Doh has joined the chat",
        KEN,
        None,
    )

    photo = by_id[7]
    assert [(a.name, a.recorded_path) for a in photo.attachments] == [("IMG_20150630_092610.jpg", PHOTO)]
    assert (photo.content_id, photo.app_id, photo.body) == (PHOTO, "com.kik.ext.gallery", None)
    assert dict(photo.attachment_properties) == {
        "file-name": "IMG_20150630_092610.jpg",
        "file-size": "48213",
        "app-name": "Gallery",
        "file-url": f"https://platform.kik.com/content/files/{PHOTO}",
    }
    stranger = by_id[8]  # not in the contacts: the JID stands for the sender
    assert (stranger.sender, stranger.username, stranger.conversation_title) == (STRANGER, None, None)
    assert all(not m.attachments for m in messages if m.rowid != 7)
    assert sum(1 for m in messages if m.from_me) == 2 + FILLER // 2

    people = {c.jid: c for c in contacts}
    ken = people[KEN]
    assert (ken.name, ken.username, ken.account_ids, ken.in_roster, ken.is_blocked, ken.is_group) == (
        "Ken Doh",
        "ken.doh",
        ("ken.doh", KEN),
        1,
        0,
        False,
    )
    assert ken.profile_pic_time is not None and ken.profile_pic_time.utc == "2015-06-30T09:26:10.961000Z"
    assert ken.profile_pic_time.raw == "1435656370961"
    assert people[SPAM].is_blocked == 1 and people[KIKTEAM].verified == 1
    assert people[JANE].local_name == "Jane R." and people[JANE].profile_pic_time is None
    group_contact = people[GROUP]
    assert (group_contact.is_group, group_contact.name, group_contact.account_ids) == (
        True,
        "EveryoneButRoss",
        (GROUP,),
    )
    assert (group_contact.group_hashtag, group_contact.group_size, group_contact.members) == (
        "#everyonebutross",
        3,
        (KEN, JANE, OWNER),
    )
    assert [
        (m.group_jid, m.group_title, m.member_jid, m.username, m.is_admin, m.is_banned, m.permission_level)
        for m in members
    ] == [
        (GROUP, "EveryoneButRoss", KEN, "ken.doh", 1, 0, "2"),
        (GROUP, "EveryoneButRoss", JANE, "jane.roe", 0, 0, None),
        (GROUP, "EveryoneButRoss", OWNER, None, 0, 0, None),
    ]
    assert members[0].locator == "memberTable._id=1"
    assert record_to_dict(hello)["record_type"] == "chat/android/kik/message"
    assert hello.locator == "messagesTable._id=2" and people[KEN].locator == "KIKcontactsTable._id=2"
    assert fingerprint(path) == before


def test_an_older_schema_without_member_table(tmp_path: Path) -> None:
    path = build(tmp_path / "old" / "kikDatabase.db", SCHEMA_OLD, filler=0)
    messages, contacts, members, warnings = _read(path, tmp_path)
    assert warnings == [] and members == []
    assert len(messages) == len(MESSAGES) and len(contacts) == 5
    group = next(c for c in contacts if c.jid == GROUP)
    assert (group.is_group, group.members, group.group_size, group.user_permission_level) == (
        True,
        (),
        None,
        None,
    )
    assert [a.name for m in messages for a in m.attachments] == ["IMG_20150630_092610.jpg"]


def test_a_database_without_kik_tables_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "other" / "kikDatabase.db"
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY, body VARCHAR)")
    con.commit()
    con.close()
    item = FileItem.from_path(path, fs_path=f"/{APP_DIR}/kikDatabase.db")
    records, warnings = run([KikAndroidPlugin()], item, tmp_path, expect_match=False)
    assert records == []
    assert warnings == [  # named as Kik's database: said, not passed over
        (
            "kik_android",
            None,
            "database skipped by kik_android: it lacks the tables and columns the plugin reads:"
            " table KIKcontactsTable(_id, display_name, jid, user_name);"
            " messagesTable: no column partner_jid, timestamp, was_me",
        )
    ]


def test_damaged_copies_give_warnings_not_tracebacks(tmp_path: Path) -> None:
    good = build(tmp_path / "good" / "kikDatabase.db")
    found = check_bad_copies(KikAndroidPlugin(), good, "/" + APP_DIR, tmp_path)
    assert found["truncated"] == [
        "database skipped by kik_android: unreadable SQLite database: database disk image is malformed"
        "; neither its rows nor its deleted records were read (copy it out with 'exhibit export' for a repair tool)"
    ]


def test_rows_of_the_wrong_types_give_warnings_and_the_rest_is_read(tmp_path: Path) -> None:
    path = build(tmp_path / "hostile" / "kikDatabase.db")
    con = sqlite3.connect(path)
    con.executescript(
        f"""
        UPDATE messagesTable SET timestamp = 'soon', was_me = 'yes' WHERE _id = 2;
        UPDATE messagesTable SET body = CAST(X'48FF' AS TEXT) WHERE _id = 3;
        UPDATE messagesTable SET partner_jid = X'00', read_state = 4.5 WHERE _id = 4;
        UPDATE messagesTable SET body = X'0102', content_id = X'07' WHERE _id = 7;
        UPDATE KIKcontactsTable SET user_name = X'00', photo_timestamp = 'later' WHERE _id = 2;
        UPDATE memberTable SET is_admin = 'yes' WHERE _id = 1;
        UPDATE KIKContentTable SET content_string = X'00' WHERE content_name = 'file-name';
        INSERT INTO messagesTable (body, partner_jid, was_me, timestamp) VALUES ('late', '{KEN}', 0, X'01');
        """
    )
    con.commit()
    con.close()
    messages, contacts, members, warnings = _read(path, tmp_path)
    by_id = {m.rowid: m for m in messages}
    total = len(MESSAGES) + FILLER + 1
    assert sorted(by_id) == [i for i in range(1, total + 1) if i != 3]  # 3 skipped, the rest read
    by_locator: dict[str | None, list[str]] = {}
    for plugin, locator, message in warnings:
        assert plugin == "kik_android"
        by_locator.setdefault(locator, []).append(message)
    assert by_locator.pop("messagesTable._id=3") == ["row skipped: text that is not UTF-8 in body (48ff)"]
    assert by_locator.pop("messagesTable._id=2") == [
        "was_me is not an integer (str): not read",
        "timestamp is not a number: 'soon'",
    ]
    assert by_id[2].from_me is None and by_id[2].body == "Hello"
    assert by_id[2].timestamp is not None and by_id[2].timestamp.utc is None
    assert by_locator.pop("messagesTable._id=4") == [
        "partner_jid is not text (bytes): not read",
        "read_state is not an integer (float): not read",
    ]
    assert (by_id[4].conversation, by_id[4].sender, by_id[4].status) == (GROUP, None, None)
    assert by_locator.pop("messagesTable._id=7") == [
        "body is not text (bytes): not read",
        "content_id is not text (bytes): not read",
    ]
    assert by_id[7].attachments == ()
    assert by_locator.pop(f"messagesTable._id={total}") == ["timestamp is not a number (bytes): no time"]
    assert by_locator.pop("KIKcontactsTable._id=2") == [
        "user_name is not text (bytes): not read",
        "photo_timestamp is not a number: 'later'",
    ]
    assert by_locator.pop("memberTable._id=1") == ["is_admin is not an integer (str): not read"]
    assert by_locator.pop("KIKContentTable._id=1") == [
        "content_string is not text (bytes): property not read"
    ]
    assert by_locator == {}
    assert len(contacts) == 5 and len(members) == 3
    assert by_id[2].username is None  # Ken's user name was not text: not read
    assert by_id[1].sender == "kikteam"


def test_exhibit_triage_then_chats_and_contacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole engine: a folder holding the database where Android keeps it, triaged, then the views."""
    path = build(tmp_path / "made" / f"{CORE_ID}.kikDatabase.db", filler=0)
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    fs_path = f"/{APP_DIR}/{CORE_ID}.kikDatabase.db"
    with triaged_folder(tmp_path, monkeypatch, {fs_path.lstrip("/"): copy}, "kik_android"):
        chats = exhibit("chats", "--json").lines()
        contacts = exhibit("contacts", "--json").lines()
    assert len(chats) == len(MESSAGES) and {(m["app"], m["plugin"], m["record_type"]) for m in chats} == {
        ("kik", "kik_android", "chat/android/kik/message")
    }
    assert {m["conversation"] for m in chats} == {KIKTEAM, KEN, GROUP, STRANGER}
    [hello] = [m for m in chats if m["locator"] == "messagesTable._id=2"]
    assert (hello["conversation"], hello["direction"], hello["body"], hello["source"]["path"]) == (
        KEN,
        "outgoing",
        "Hello",
        fs_path,
    )
    assert hello["timestamp"] == "2015-06-29T12:26:11.584000Z" and hello["recipients"] == [KEN]
    [group] = [m for m in chats if m["locator"] == "messagesTable._id=4"]
    assert (group["sender"], group["sender_field"], group["direction"], group["conversation_title"]) == (
        "jane.roe",
        "sender",
        "incoming",
        "EveryoneButRoss",
    )
    [photo] = [m for m in chats if m["locator"] == "messagesTable._id=7"]
    assert [a["name"] for a in photo["attachments"]] == ["IMG_20150630_092610.jpg"]
    assert len(contacts) == 5 and {c["record_type"] for c in contacts} == {"chat/android/kik/contact"}
    assert {c["app"] for c in contacts} == {"kik"}
    [ken] = [c for c in contacts if c["name"] == "Ken Doh"]
    assert ken["account_ids"] == ["ken.doh", KEN]


def test_a_damaged_page_in_the_messages_keeps_the_rows_before_it(tmp_path: Path) -> None:
    """The last leaf page of messagesTable is overwritten: the rows of the pages before it are read,
    one warning says where the table ended, and the contacts and members are read all the same."""
    path = build(tmp_path / "damaged" / "kikDatabase.db")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    leaves = con.execute(
        "SELECT pageno, ncell FROM dbstat WHERE name = 'messagesTable' AND pagetype = 'leaf' ORDER BY pageno"
    ).fetchall()
    con.close()
    last = leaves[-1][0]
    before = sum(n for _, n in leaves[:-1])  # rows on the leaf pages before the last (filled in key order)
    assert len(leaves) > 2 and 0 < before < len(MESSAGES) + FILLER
    data = bytearray(path.read_bytes())
    data[(last - 1) * page_size : last * page_size] = b"\xff" * page_size
    path.write_bytes(bytes(data))
    messages, contacts, members, warnings = _read(path, tmp_path)
    assert [m.rowid for m in messages] == list(range(1, before + 1))
    assert (len(contacts), len(members)) == (5, 3)
    assert warnings == [
        (
            "kik_android",
            None,
            f"damaged Kik message database: reading table messagesTable stopped after {before} row(s):"
            " database disk image is malformed",
        )
    ]
