"""Telegram for Android (``cache4.db``) on fixtures: no public copy of a real cache exists.

The databases are built from the app's own schema (the ``CREATE TABLE`` statements of
``MessagesStorage.java``/``DatabaseMigrationHelper.createTables`` in Telegram's open-source Android
client, DrKLO/Telegram; the older ``messages`` table as created before database version 84). Their
blobs are written by ``tests/plugins/telegram_tl_writer.py`` from the published TL schema lines
(and, for Android's own pre-layer-54 and secret-chat forms, from the app's ``TLRPC.java``), so the
expected values below are the ones the fixture put in: each test states the row and value it
checks, and counts are checked against the database itself with sqlite3.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from plugins.chat.telegram_android import (
    MAX_BLOB_WARNINGS,
    TelegramAndroidCall,
    TelegramAndroidContact,
    TelegramAndroidMessage,
    TelegramAndroidPlugin,
)
from tests.plugins import telegram_tl_writer as w
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, Record
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import SqliteTablePlugin

FS_PATH = "/data/data/org.telegram.messenger/files/cache4.db"

# MessagesStorage.java / DatabaseMigrationHelper.createTables (app 10.x-11.x), the tables read here
# and two more for realism; PRIMARY KEY (mid, uid) makes messages_v2 a rowid table keyed on both.
SCHEMA_V2 = """
CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER,
  data BLOB, out INTEGER, ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER, mention INTEGER,
  forwards INTEGER, replies_data BLOB, thread_reply_id INTEGER, is_channel INTEGER, reply_to_message_id INTEGER,
  custom_params BLOB, group_id INTEGER, reply_to_story_id INTEGER, PRIMARY KEY(mid, uid));
CREATE INDEX uid_date_mid_idx_messages_v2 ON messages_v2(uid, date, mid);
CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, last_mid INTEGER,
  inbox_max INTEGER, outbox_max INTEGER, last_mid_i INTEGER, unread_count_i INTEGER, pts INTEGER,
  date_i INTEGER, pinned INTEGER, flags INTEGER, folder_id INTEGER, data BLOB, unread_reactions INTEGER,
  last_mid_group INTEGER, ttl_period INTEGER);
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
CREATE TABLE enc_chats(uid INTEGER PRIMARY KEY, user INTEGER, name TEXT, data BLOB, g BLOB, authkey BLOB,
  ttl INTEGER, layer INTEGER, seq_in INTEGER, seq_out INTEGER, use_count INTEGER, exchange_id INTEGER,
  key_date INTEGER, fprint INTEGER, fauthkey BLOB, khash BLOB, in_seq_no INTEGER, admin_id INTEGER,
  mtproto_seq INTEGER);
CREATE TABLE media_v4(mid INTEGER, uid INTEGER, date INTEGER, type INTEGER, data BLOB, PRIMARY KEY(mid, uid, type));
CREATE TABLE params(id INTEGER PRIMARY KEY, seq INTEGER, pts INTEGER, date INTEGER, qts INTEGER, lsv INTEGER,
  sg INTEGER, pbytes BLOB);
PRAGMA user_version = 153;
"""

# the message table of app versions before 8.0 (database version < 84), dropped by the migration
SCHEMA_V1_MESSAGES = """
CREATE TABLE messages(mid INTEGER PRIMARY KEY, uid INTEGER, read_state INTEGER, send_state INTEGER,
  date INTEGER, data BLOB, out INTEGER, ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER,
  mention INTEGER, forwards INTEGER, replies_data BLOB, thread_reply_id INTEGER);
"""

OWNER, BOB, CAROL, DAVE, EVE = 1001, 1002, 1003, 1004, 1005
FAMILY, NEWS = 2001, 3001
SECRET_CHAT = 77
SECRET_DIALOG = (1 << 62) | SECRET_CHAT  # DialogObject.makeEncryptedDialogId
T0 = 1700000100  # 2023-11-14T22:15:00Z
UNKNOWN = 0x12345678


@dataclass
class Row:
    mid: int
    uid: int
    out: int
    data: bytes | None
    date: int = T0
    read_state: int = 3
    send_state: int = 0
    ttl: int = 0


@dataclass
class Fixture:
    rows: list[Row] = field(default_factory=list)

    def add(self, mid: int, uid: int, out: int, data: bytes | None, **kw: int) -> None:
        self.rows.append(Row(mid, uid, out, data, **kw))


def _users(con: sqlite3.Connection) -> None:
    users = [
        (
            OWNER,
            "alice owner;;;alice",
            0,
            w.user_l228(
                OWNER,
                first="Alice",
                last="Owner",
                username="alice",
                phone="447700900001",
                flag_bits=(w.SELF,),
            ),
        ),
        (
            BOB,
            "bob builder;;;bob_b",
            1700000000,
            w.user_l228(
                BOB,
                first="Bob",
                last="Builder",
                username="bob_b",
                phone="447700900002",
                flag_bits=(w.CONTACT, w.MUTUAL),
            ),
        ),
        (CAROL, "carol;;;", -100, w.user_l133(CAROL, first="Carol", phone="447700900003")),
        (DAVE, "dave;;;dave99", -102, w.u32(UNKNOWN) + b"\x00" * 12),
        (EVE, "eve old;;;", 0, w.user_l66(EVE, first="Eve", last="Old")),
    ]
    con.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", users)
    con.executemany(
        "INSERT INTO chats VALUES (?, ?, ?)",
        [
            (FAMILY, "family", w.chat_l133(FAMILY, "Family")),
            (NEWS, "news channel", w.channel_l228(NEWS, "News Channel", "newsch")),
        ],
    )
    con.execute(
        "INSERT INTO enc_chats (uid, user, name, data, authkey) VALUES (?, ?, ?, ?, ?)",
        (SECRET_CHAT, BOB, "bob builder;;;bob_b", b"\x00" * 8, b"\x11" * 256),
    )
    con.executemany(
        "INSERT INTO dialogs (did, date) VALUES (?, ?)",
        [(BOB, T0), (-FAMILY, T0), (-NEWS, T0), (SECRET_DIALOG, T0)],
    )


def rich_fixture() -> Fixture:
    """Every kind of row the plugin distinguishes, in rowid order (the order records come out)."""
    f = Fixture()
    me, bob = w.peer_user(OWNER), w.peer_user(BOB)
    # 1: layer 228 incoming text with entities and views, plus Android's trailing attach path
    f.add(
        10,
        BOB,
        0,
        w.message_l228(
            msg_id=10,
            peer=bob,
            from_id=bob,
            date=T0,
            text="Hello from Bob",
            entities=[w.entity_bold(0, 5)],
            views=3,
        )
        + w.attach_path(),
        read_state=3,
        date=T0,
    )
    # 2: layer 181 outgoing reply to 10
    f.add(
        11,
        BOB,
        1,
        w.message_l181(
            msg_id=11,
            peer=bob,
            from_id=me,
            date=T0 + 100,
            text="Hi Bob",
            out=True,
            reply=w.reply_header_l167(reply_to_msg_id=10),
        )
        + w.attach_path(),
        read_state=1,
        date=T0 + 100,
    )
    # 3: layer 133, forwarded from the channel's post 55
    f.add(
        12,
        BOB,
        0,
        w.message_l133(
            msg_id=12,
            peer=bob,
            from_id=bob,
            date=T0 + 200,
            text="forwarded news",
            fwd=w.fwd_header_l119(date=1690000000, from_id=w.peer_channel(NEWS), channel_post=55),
        ),
        date=T0 + 200,
    )
    # 4: outgoing location
    f.add(
        13,
        BOB,
        1,
        w.message_l228(
            msg_id=13,
            peer=bob,
            from_id=me,
            out=True,
            date=T0 + 300,
            text="",
            media=w.media_geo(w.geo_point(51.5007, -0.1246, accuracy=20)),
        ),
        date=T0 + 300,
    )
    # 5: group message with a venue, from Carol
    f.add(
        14,
        -FAMILY,
        0,
        w.message_l228(
            msg_id=14,
            peer=w.peer_chat(FAMILY),
            from_id=w.peer_user(CAROL),
            date=T0 + 400,
            text="meet here",
            media=w.media_venue(w.geo_point(51.5008, -0.1247), "Big Ben", "Westminster"),
        ),
        date=T0 + 400,
    )
    # 6: group service message, renamed by Dave
    f.add(
        15,
        -FAMILY,
        0,
        w.message_service_l228(
            msg_id=15,
            peer=w.peer_chat(FAMILY),
            from_id=w.peer_user(DAVE),
            date=T0 + 500,
            action=w.action_chat_edit_title("Family"),
        ),
        date=T0 + 500,
    )
    # 7: outgoing video call, 125 s, hung up
    f.add(
        16,
        BOB,
        1,
        w.message_service_l228(
            msg_id=16,
            peer=bob,
            from_id=me,
            out=True,
            date=T0 + 600,
            action=w.action_phone_call(9001, reason=w.REASON_HANGUP, duration=125, video=True),
        ),
        date=T0 + 600,
    )
    # 8: missed incoming call (layer 124 service form, no duration)
    f.add(
        17,
        BOB,
        0,
        w.message_service_l124(
            msg_id=17,
            peer=bob,
            date=T0 + 700,
            action=w.action_phone_call(9002, reason=w.REASON_MISSED, duration=None),
        ),
        date=T0 + 700,
    )
    # 9: voice note
    f.add(
        18,
        BOB,
        0,
        w.message_l228(
            msg_id=18,
            peer=bob,
            from_id=bob,
            date=T0 + 800,
            text="",
            media=w.media_document(
                w.document(501, T0, "audio/ogg", 12345, [w.attr_audio(7, voice=True)]), voice=True
            ),
        ),
        read_state=2,
        date=T0 + 800,
    )
    # 10: a PDF with a caption
    f.add(
        19,
        BOB,
        1,
        w.message_l228(
            msg_id=19,
            peer=bob,
            from_id=me,
            out=True,
            date=T0 + 900,
            text="the report",
            media=w.media_document(
                w.document(502, T0, "application/pdf", 2048, [w.attr_filename("report.pdf")])
            ),
        ),
        date=T0 + 900,
    )
    # 11, 12: unknown constructor, twice (one warning for both)
    f.add(20, BOB, 0, w.u32(UNKNOWN) + b"\x01\x02\x03\x04" * 6)
    f.add(21, BOB, 1, w.u32(UNKNOWN) + b"\x05" * 16)
    # 13: truncated in the middle of its text
    whole = w.message_l228(
        msg_id=22, peer=bob, from_id=bob, date=T0 + 1000, text="this text is cut short by damage"
    )
    f.add(22, BOB, 0, whole[:-12])
    # 14: a channel post of layer 73 (app 4.x) with an old-style photo caption (media of layers 70-74)
    f.add(
        23,
        -NEWS,
        0,
        w.message_l73(
            msg_id=23,
            to_id=w.peer_channel_int(NEWS),
            date=T0 + 1100,
            text="",
            media=w.media_photo_l70(w.photo(777, T0), "old caption"),
        ),
        date=T0 + 1100,
    )
    # 15: secret chat message (Android's own form), replying by random id
    f.add(
        -5,
        SECRET_DIALOG,
        0,
        w.message_android_secret(
            msg_id=-5,
            ttl=10,
            from_id=BOB,
            to_id=w.peer_user(OWNER),
            date=T0 + 1200,
            text="secret hi",
            media=w.media_empty(),
            reply_to_random_id=123456789,
        ),
        ttl=10,
        date=T0 + 1200,
    )
    # 16: a reply quoting another chat's link preview: its text lies beyond a part-read constructor
    f.add(
        25,
        BOB,
        0,
        w.message_l228(
            msg_id=25,
            peer=bob,
            from_id=bob,
            date=T0 + 1300,
            text="unreachable",
            reply=w.reply_header_l167(
                reply_to_peer_id=w.peer_user(EVE),
                reply_media=w.media_web_page(w.web_page("https://x.example", "X")),
            ),
        ),
        date=T0 + 1300,
    )
    # 17: shared contact
    f.add(
        26,
        BOB,
        0,
        w.message_l228(
            msg_id=26,
            peer=bob,
            from_id=bob,
            date=T0 + 1400,
            text="",
            media=w.media_contact("447700900009", "Zed", "Zulu", 0),
        ),
        date=T0 + 1400,
    )
    # 18: Android's pre-layer-54 message form (TL_message_old2)
    f.add(
        27,
        BOB,
        0,
        w.message_android_old2(
            msg_id=27,
            from_id=BOB,
            to_id=w.peer_user_int(OWNER),
            date=T0 + 1500,
            text="very old",
            media=w.media_empty(),
        ),
        date=T0 + 1500,
    )
    # 19: an empty message (deleted placeholder)
    f.add(28, BOB, 0, w.message_empty(msg_id=28, peer=bob))
    # 20: a known message whose attachment has an unknown constructor: text kept
    f.add(
        29,
        BOB,
        0,
        w.message_l228(
            msg_id=29,
            peer=bob,
            from_id=bob,
            date=T0 + 1600,
            text="look at this",
            media=w.u32(0x0BADF00D) + b"\x00" * 8,
        ),
        date=T0 + 1600,
    )
    # 21: no blob at all
    f.add(30, BOB, 0, None)
    # 22: link preview
    f.add(
        31,
        BOB,
        1,
        w.message_l228(
            msg_id=31,
            peer=bob,
            from_id=me,
            out=True,
            date=T0 + 1700,
            text="https://example.org/a",
            media=w.media_web_page(w.web_page("https://example.org/a", "Title A")),
        ),
        date=T0 + 1700,
    )
    return f


def without_messages_v2() -> str:
    """The schema with ``messages_v2`` and its index left out."""
    return ";".join(stmt for stmt in SCHEMA_V2.split(";") if "messages_v2" not in stmt)


def build(path: Path, fixture: Fixture, *, legacy: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    schema = without_messages_v2() if legacy else SCHEMA_V2
    con.executescript(schema)
    if legacy:
        con.executescript(SCHEMA_V1_MESSAGES + "PRAGMA user_version = 83;")
    _users(con)
    table = "messages" if legacy else "messages_v2"
    con.executemany(
        f"INSERT INTO {table} (mid, uid, read_state, send_state, date, data, out, ttl) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.mid, r.uid, r.read_state, r.send_state, r.date, r.data, r.out, r.ttl) for r in fixture.rows],
    )
    con.commit()
    con.close()
    return path


def run(item: FileItem, tmp_path: Path) -> tuple[list[Record], list[str], list[str | None]]:
    plugin = TelegramAndroidPlugin()
    (tmp_path / "scratch").mkdir(parents=True, exist_ok=True)
    with Scratch(tmp_path / "scratch") as scratch:
        ctx = ParseContext(scratch=scratch)
        matched = match_plugins(item, [plugin], ctx)
        result = run_plugins(item, matched, ctx)
        warnings = [*ctx.warnings, *result.warnings]
    assert result.failed == []
    return result.records, [x.message for x in warnings], [x.locator for x in warnings]


def by_type(
    records: list[Record],
) -> tuple[list[TelegramAndroidMessage], list[TelegramAndroidCall], list[TelegramAndroidContact]]:
    return (
        [r for r in records if isinstance(r, TelegramAndroidMessage)],
        [r for r in records if isinstance(r, TelegramAndroidCall)],
        [r for r in records if isinstance(r, TelegramAndroidContact)],
    )


@pytest.fixture
def rich(tmp_path: Path) -> tuple[Path, list[Record], list[str], list[str | None]]:
    db = build(tmp_path / "evidence" / "cache4.db", rich_fixture())
    records, warnings, locators = run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    return db, records, warnings, locators


def test_every_row_becomes_one_record_checked_against_the_database(rich: tuple) -> None:
    db, records, _, _ = rich
    messages, calls, contacts = by_type(records)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute("SELECT rowid, mid, uid, date, out FROM messages_v2 ORDER BY rowid").fetchall()
    users = con.execute("SELECT uid FROM users ORDER BY uid").fetchall()
    con.close()
    assert len(messages) + len(calls) == len(rows) == 22
    assert len(contacts) == len(users) == 5
    by_locator = {r.locator: r for r in [*messages, *calls]}
    for rowid, mid, uid, date, out in rows:
        rec = by_locator[f"messages_v2.rowid={rowid}"]
        assert (rec.mid, rec.dialog_id, rec.from_me) == (mid, uid, bool(out))
        assert rec.timestamp is not None and rec.timestamp.raw == date and rec.timestamp.encoding == "unix_s"
    assert [c.user_id for c in contacts] == [u for (u,) in users]
    for rec in records:
        record_to_dict(rec)  # every field has a JSON form


def test_time_is_unix_seconds_at_a_known_instant(rich: tuple) -> None:
    messages, _, contacts = by_type(rich[1])
    first = messages[0]
    assert first.timestamp is not None
    assert first.timestamp.utc == "2023-11-14T22:15:00.000000Z"  # 1700000100
    fwd = next(m for m in messages if m.message_id == 12)
    assert fwd.fwd_date is not None and fwd.fwd_date.utc == "2023-07-22T04:26:40.000000Z"  # 1690000000
    bob = next(c for c in contacts if c.user_id == BOB)
    assert bob.last_seen is not None and bob.last_seen.utc == "2023-11-14T22:13:20.000000Z"  # 1700000000


def test_text_sender_and_conversation_of_current_layers(rich: tuple) -> None:
    messages = by_type(rich[1])[0]
    hello, reply = messages[0], messages[1]
    assert (
        hello.body == "Hello from Bob" and hello.tl_name == "message" and hello.tl_constructor == "0x7600b9d3"
    )
    assert hello.tl_layers is not None and "228" in hello.tl_layers
    assert (hello.sender, hello.sender_name, hello.from_peer, hello.peer) == (
        "1002",
        "Bob Builder",
        "user:1002",
        "user:1002",
    )
    assert (hello.party, hello.conversation, hello.conversation_title, hello.account) == (
        "1002",
        "1002",
        "Bob Builder",
        "1001",
    )
    assert hello.recipients == ("1001",) and hello.decode_problem is None
    assert hello.read_state == 3 and label_for(TelegramAndroidMessage, "read_state", 3) == "read"
    assert reply.body == "Hi Bob" and reply.reply_to_msg_id == 10 and reply.tl_constructor == "0x94345242"
    assert (reply.from_me, reply.sender, reply.sender_name, reply.recipients) == (
        True,
        "1001",
        "Alice Owner",
        ("1002",),
    )
    assert reply.status == 0 and label_for(TelegramAndroidMessage, "status", 0) == "sent"


def test_forward_reply_and_old_layers(rich: tuple) -> None:
    messages = {m.message_id: m for m in by_type(rich[1])[0]}
    fwd = messages[12]
    assert (
        fwd.body == "forwarded news" and fwd.fwd_from == "channel:3001" and fwd.tl_constructor == "0x85d6cbe2"
    )
    post = messages[23]  # layer 73: to_id, int peer, caption inside the photo (layers 70-74)
    assert post.body == "old caption" and post.media_kind == "photo" and post.peer == "channel:3001"
    assert (post.conversation, post.conversation_title, post.party) == ("-3001", "News Channel", None)
    assert len(post.attachments) == 1 and post.tl_constructor == "0x44f9b43d"
    old = messages[27]  # Android's own pre-layer-54 form
    assert old.body == "very old" and old.from_peer == "user:1002" and old.tl_constructor == "0x567699b3"
    assert old.media_kind is None and old.tl_layers == "android TL_message_old2"


def test_locations_contacts_documents_and_links(rich: tuple) -> None:
    messages = {m.message_id: m for m in by_type(rich[1])[0]}
    geo = messages[13]
    assert (geo.media_kind, geo.latitude, geo.longitude, geo.body) == ("geo", 51.5007, -0.1246, None)
    venue = messages[14]
    assert (venue.latitude, venue.longitude, venue.media_title, venue.venue_address) == (
        51.5008,
        -0.1247,
        "Big Ben",
        "Westminster",
    )
    assert (venue.sender, venue.sender_name, venue.conversation_title, venue.party) == (
        "1003",
        "Carol",
        "Family",
        None,
    )
    assert venue.recipients == ()
    voice = messages[18]
    assert (voice.media_kind, voice.document_type, voice.media_size, voice.media_duration) == (
        "document",
        "voice",
        12345,
        7,
    )
    assert voice.attachments[0].mime == "audio/ogg" and voice.read_state == 2
    pdf = messages[19]
    assert pdf.body == "the report" and pdf.document_type == "file"
    assert (pdf.attachments[0].name, pdf.attachments[0].mime, pdf.media_size) == (
        "report.pdf",
        "application/pdf",
        2048,
    )
    contact = messages[26]
    assert (contact.media_kind, contact.contact_name, contact.contact_phone) == (
        "contact",
        "Zed Zulu",
        "447700900009",
    )
    link = messages[31]
    assert (link.media_kind, link.media_url, link.media_title) == (
        "web_page",
        "https://example.org/a",
        "Title A",
    )


def test_service_messages_and_calls(rich: tuple) -> None:
    messages, calls, _ = by_type(rich[1])
    rename = next(m for m in messages if m.message_id == 15)
    assert (rename.action, rename.action_title, rename.body, rename.sender_name) == (
        "chat_edit_title",
        "Family",
        None,
        "dave",
    )
    video, missed = calls
    assert (video.call_id, video.duration, video.video, video.status, video.from_me) == (
        9001,
        125,
        True,
        "hangup",
        True,
    )
    assert (video.party, video.party_name, video.account) == ("1002", "Bob Builder", "1001")
    assert video.timestamp is not None and video.timestamp.raw == T0 + 600
    assert (missed.call_id, missed.duration, missed.video, missed.status, missed.from_me) == (
        9002,
        None,
        False,
        "missed",
        False,
    )
    assert missed.locator == "messages_v2.rowid=8"


def test_secret_chat_is_named_through_enc_chats(rich: tuple) -> None:
    secret = next(m for m in by_type(rich[1])[0] if m.message_id == -5)
    assert secret.body == "secret hi" and secret.tl_constructor == "0x555555fa" and secret.ttl == 10
    assert (secret.secret_chat_id, secret.party, secret.conversation_title) == (
        SECRET_CHAT,
        "1002",
        "Bob Builder",
    )
    assert secret.conversation == str(SECRET_DIALOG) and secret.reply_to_random_id == 123456789
    assert secret.sender == "1002" and secret.recipients == ("1001",)


def test_contacts_from_users(rich: tuple) -> None:
    contacts = {c.user_id: c for c in by_type(rich[1])[2]}
    alice = contacts[OWNER]
    assert (alice.name, alice.phones, alice.account_ids, alice.is_self) == (
        "Alice Owner",
        ("447700900001",),
        ("1001", "alice"),
        True,
    )
    bob = contacts[BOB]
    assert (bob.is_contact, bob.is_mutual_contact, bob.is_self, bob.account) == (True, True, False, "1001")
    assert bob.search_name == "bob builder;;;bob_b" and bob.tl_constructor == "0xb1b8cc83"
    carol = contacts[CAROL]
    assert (carol.name, carol.phones, carol.status, carol.last_seen) == (
        "Carol",
        ("447700900003",),
        -100,
        None,
    )
    assert label_for(TelegramAndroidContact, "status", -100) == "last seen recently"
    dave = contacts[DAVE]  # unknown User constructor: the search name stands in
    assert dave.name == "dave" and dave.phones == () and dave.decode_problem is not None
    assert "0x12345678" in dave.decode_problem and dave.account_ids == ("1004",)
    eve = contacts[EVE]  # layer 66-104 form, 32-bit id
    assert eve.name == "Eve Old" and eve.tl_constructor == "0x2e13f4c3"


def test_unknown_constructors_are_counted_once_per_file(rich: tuple) -> None:
    _, records, warnings, locators = rich
    messages = {m.mid: m for m in by_type(records)[0]}
    unknown = [x for x in warnings if "0x12345678" in x and "messages_v2" in x]
    assert unknown == [
        "2 messages in messages_v2 with unknown Message constructor 0x12345678 "
        "(first at messages_v2.rowid=11: mid 20, dialog 1002)"
    ]
    for mid in (20, 21):
        rec = messages[mid]
        assert rec.body is None and rec.tl_constructor is None and rec.dialog_id == BOB
        assert rec.timestamp is not None and rec.timestamp.raw == T0
        assert rec.decode_problem == "unknown constructor 0x12345678 for Message at message"
    assert messages[21].from_me is True
    media = [x for x in warnings if "0x0badf00d" in x]
    assert media == [
        "1 message in messages_v2 with unknown MessageMedia constructor 0x0badf00d in media; "
        "the fields before it are kept (first at messages_v2.rowid=20: mid 29, dialog 1002)"
    ]
    assert messages[29].body == "look at this" and messages[29].media_kind is None
    user = [x for x in warnings if "users" in x and "0x12345678" in x]
    assert user == ["1 user in users with unknown User constructor 0x12345678 (first at users.uid=1004)"]
    assert warnings.count(unknown[0]) == 1 and None in locators  # summaries carry no row locator


def test_damaged_blobs_are_one_warning_each_and_the_rest_is_read(rich: tuple) -> None:
    _, records, warnings, locators = rich
    messages = {m.mid: m for m in by_type(records)[0]}
    cut = messages[22]
    assert cut.body is None and cut.message_id == 22 and cut.peer == "user:1002"  # fields before the damage
    assert cut.decode_problem is not None and cut.decode_problem.startswith("undecodable message blob: ")
    damaged = [(m, loc) for m, loc in zip(warnings, locators, strict=True) if m.startswith("undecodable")]
    assert len(damaged) == 1 and damaged[0][1] == "messages_v2.rowid=13"
    assert "message.message" in damaged[0][0]  # names the field it stopped in
    blobless = [(m, loc) for m, loc in zip(warnings, locators, strict=True) if "no data blob" in m]
    assert blobless == [("message row has no data blob: its data column holds NULL", "messages_v2.rowid=21")]
    assert messages[30].body is None and messages[30].timestamp is not None
    unreachable = messages[25]
    assert unreachable.body is None and unreachable.reply_to_peer == "user:1005"
    assert (
        unreachable.decode_problem
        == "text not reached: message.reply_to.reply_media.webpage is read only in part"
    )
    assert messages[28].tl_name == "messageEmpty" and messages[28].decode_problem is None
    assert (
        "1 message in messages_v2 whose text was not decoded: it follows reply_to.reply_media.webpage, "
        "which this reader reads only in part (first at messages_v2.rowid=16: mid 25, dialog 1002)"
    ) in warnings
    assert (
        len(warnings) == 6
    )  # 3 counted constructors, 1 text not reached, 1 damaged blob, 1 row without blob


def test_legacy_messages_table(tmp_path: Path) -> None:
    """App versions before 8.0: ``messages`` keyed by mid; a secret chat's dialog is chat id << 32."""
    f = Fixture()
    f.add(
        5,
        BOB,
        0,
        w.message_l73(
            msg_id=5,
            to_id=w.peer_user_int(OWNER),
            from_id=BOB,
            date=T0,
            text="from 2018",
            reply_to_msg_id=4,
            fwd=w.fwd_header_l97(date=1500000000, channel_id=NEWS, channel_post=9),
        ),
    )
    f.add(
        -3,
        SECRET_CHAT << 32,
        1,
        w.message_android_secret(
            msg_id=-3,
            ttl=0,
            from_id=OWNER,
            to_id=w.peer_user(BOB),
            date=T0,
            text="old secret",
            media=w.media_empty(),
            out=True,
        ),
    )
    db = build(tmp_path / "evidence" / "cache4.db", f, legacy=True)
    records, warnings, _ = run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    messages, calls, contacts = by_type(records)
    assert [m.locator for m in messages] == ["messages.mid=-3", "messages.mid=5"]
    secret, old = messages
    assert (secret.secret_chat_id, secret.party, secret.conversation_title, secret.from_me) == (
        SECRET_CHAT,
        "1002",
        "Bob Builder",
        True,
    )
    assert (old.body, old.reply_to_msg_id, old.fwd_from, old.from_peer) == (
        "from 2018",
        4,
        "channel:3001",
        "user:1002",
    )
    assert old.table == "messages" and len(contacts) == 5 and calls == []
    assert warnings == ["1 user in users with unknown User constructor 0x12345678 (first at users.uid=1004)"]


def test_a_database_without_message_tables_is_an_unsupported_schema(tmp_path: Path) -> None:
    db = tmp_path / "evidence" / "cache4.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.executescript(without_messages_v2())
    con.close()
    records, warnings, _ = run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert records == []
    assert len(warnings) == 1 and warnings[0].startswith("unsupported schema: ")
    assert FS_PATH in warnings[0] and "telegram_android" in warnings[0]


def test_a_dropped_table_zero_filled_or_encrypted_file_is_a_warning(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    dropped = build(evidence / "a" / "cache4.db", rich_fixture())
    con = sqlite3.connect(dropped)
    con.execute("DROP TABLE users")
    con.commit()
    con.close()
    zeros = evidence / "b" / "cache4.db"
    zeros.parent.mkdir()
    zeros.write_bytes(b"\0" * 8192)
    encrypted = evidence / "c" / "cache4.db"
    encrypted.parent.mkdir()
    encrypted.write_bytes(hashlib.sha512(b"key").digest() * 128)  # what a SQLCipher file looks like: noise
    for path in (dropped, zeros, encrypted):
        records, warnings, _ = run(FileItem.from_path(path, fs_path=FS_PATH), tmp_path / path.parent.name)
        assert records == []
        assert len(warnings) == 1 and warnings[0].startswith("database skipped by telegram_android: ")


def test_a_truncated_database_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    """A copy cut short (an interrupted extraction): a warning naming the damage, never a failure;
    whatever rows are read are whole ones (here SQLite refuses the file: "malformed")."""
    f = Fixture()
    bob = w.peer_user(BOB)
    for mid in range(1, 3001):
        f.add(mid, BOB, 0, w.message_l228(msg_id=mid, peer=bob, date=T0, text=f"{mid:05d} " + "t" * 200))
    db = build(tmp_path / "evidence" / "cache4.db", f)
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.truncate(size * 6 // 10 // 4096 * 4096)
    records, warnings, _ = run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)  # no plugin failure
    messages = by_type(records)[0]
    assert len(messages) < 3000
    assert any("damaged" in x or "skipped" in x or "malformed" in x for x in warnings), warnings
    assert all(m.body is not None and m.body.endswith("t" * 200) for m in messages)


def test_a_wal_without_its_database_is_not_offered(tmp_path: Path) -> None:
    wal = tmp_path / "evidence" / "cache4.db-wal"
    wal.parent.mkdir()
    wal.write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 28)
    item = FileItem.from_path(wal, fs_path=FS_PATH + "-wal")
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [TelegramAndroidPlugin()], ctx) == []
        assert ctx.warnings == []


def test_rows_only_in_the_wal_are_read_and_evidence_is_unchanged(tmp_path: Path) -> None:
    db = build(tmp_path / "evidence" / "cache4.db", Fixture())
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute(
        "INSERT INTO messages_v2 (mid, uid, date, data, out) VALUES (?, ?, ?, ?, ?)",
        (40, BOB, T0, w.message_l228(msg_id=40, peer=w.peer_user(BOB), date=T0, text="only in the WAL"), 0),
    )
    writer.commit()
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 0
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) for p in (db, wal)}
    records, _, _ = run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert [m.body for m in by_type(records)[0]] == ["only in the WAL"]
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) for p in (db, wal)}
    assert after == before
    writer.close()


def test_many_damaged_blobs_are_listed_up_to_a_cap(tmp_path: Path) -> None:
    f = Fixture()
    for mid in range(1, MAX_BLOB_WARNINGS + 6):
        f.add(mid, BOB, 0, w.u32(0x7600B9D3) + b"\x00\x00")  # a known constructor, then nothing
    db = build(tmp_path / "evidence" / "cache4.db", f)
    records, warnings, _ = run(FileItem.from_path(db, fs_path=FS_PATH), tmp_path)
    assert len(by_type(records)[0]) == MAX_BLOB_WARNINGS + 5
    listed = [x for x in warnings if x.startswith("undecodable message blob")]
    assert len(listed) == MAX_BLOB_WARNINGS
    assert (
        f"table messages_v2: 5 more undecodable blob(s) not listed (the first {MAX_BLOB_WARNINGS} are)"
        in warnings
    )


ROWS = 50_000


@pytest.mark.slow
def test_a_big_message_table_is_streamed_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50,000 messages of about 120 bytes of text: reading them never holds more than a few."""
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    db = build(tmp_path / "evidence" / "cache4.db", Fixture())
    con = sqlite3.connect(db)
    bob = w.peer_user(BOB)
    con.executemany(
        "INSERT INTO messages_v2 (mid, uid, date, data, out) VALUES (?, ?, ?, ?, ?)",
        (
            (
                i,
                BOB,
                T0 + i,
                w.message_l228(msg_id=i, peer=bob, from_id=bob, date=T0 + i, text=f"{i:08d}" + "m" * 112),
                0,
            )
            for i in range(1, ROWS + 1)
        ),
    )
    con.commit()
    con.close()
    bound = ROWS * 120 // 50  # 2% of the messages' text
    plugin = TelegramAndroidPlugin()
    item = FileItem.from_path(db, fs_path=FS_PATH)
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch).for_plugin(plugin.name, item)
        ctx.open_sqlite(item)  # the scratch copy is made before measuring
        tracemalloc.start()
        try:
            count = sum(1 for _ in plugin.parse(item, ctx))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == ROWS + 5  # and the five users
    assert peak < bound, peak
