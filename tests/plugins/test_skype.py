"""Skype classic ``main.db``.

Real data: the corpus ``chats/skype_main.db`` (plaso's test file ``skype_main.db``), compared with
the database itself (read with sqlite3, immutable) and with plaso's ``skype`` plugin test
(log2timeline/plaso, tests/parsers/sqlite_plugins/skype.py), which publishes for this very file:
24 events, 0 warnings; 15 chat, 1 SMS, 1 account, 4 file-transfer and 3 call events; and exact
values of its events 1, 14, 16, 17, 18 and 22 (the indices are plaso's storage order: the order
of its queries, chats joined with messages, then accounts, SMSes, transfers, calls).

plaso's events are built here from our records by plaso's rules (a chat event per message whose
``chatname`` is a chat; an account event per non-zero account time, of which this file has the
profile time only; for a transfer of status 8 its start, accept and finish times, for status 2
its start; for a call its begin, its member's start, and start + call duration), so the counts
and values below are those plaso reports. Where our record differs on purpose it is said.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugins import BUILTIN_PLUGINS
from plugins.chat.skype import (
    SkypeAccount,
    SkypeCall,
    SkypeChat,
    SkypeContact,
    SkypeConversation,
    SkypeMessage,
    SkypePlugin,
    SkypeSms,
    SkypeTransfer,
    plain_text,
)
from tests.plugins.android_fixtures import check_bad_copies, fingerprint, ro, run
from tests.plugins.triage_e2e import exhibit, triaged_folder
from triage.plugin import FileItem, Record
from triage.plugin.records import label_for, record_to_dict

FS_PATH = "/Users/gberinger/Library/Application Support/Skype/gen.beringer/main.db"
WINDOWS_DIR = "Users/gberinger/AppData/Roaming/Skype/gen.beringer"

# plaso tests/parsers/sqlite_plugins/skype.py, for skype_main.db
PLASO_EVENTS = 24
PLASO_COUNTS = {"chat": 15, "sms": 1, "account": 1, "transferfile": 4, "call": 3}
PLASO_EVENT_17 = ("transferfile", "2013-10-24 21:49:32", "SENDSOLICITUDE", "secret-project.pdf")
PLASO_EVENT_16 = (
    "sms",
    "2013-07-01 22:14:22",
    "+34123456789",
    "If you want I can copy some documents for you, if you can pay it... ;)",
)
PLASO_EVENT_18 = (
    "transferfile",
    "2013-10-24 21:49:35",
    "GETSOLICITUDE",
    "secret-project.pdf",
    "/Users/gberinger/Desktop/secret-project.pdf",
    69986,
)
PLASO_EVENT_1 = (
    "chat",
    "2013-07-30 21:27:11",
    "Gen Beringer <gen.beringer>",
    "need to know if you got it this time.",
    "European Competitor | need to know if you got it..",
    "european.bbq.competitor",
)
PLASO_EVENT_14 = (
    "chat",
    "2013-10-27 15:29:19",
    "European Competitor <european.bbq.competitor>",
    "He is our new employee",
    "European Competitor, Echo123",
    "gen.beringer, echo123",
)
PLASO_EVENT_22 = ("call", "2013-07-01 22:12:17", "gen.beringer", "european.bbq.competitor")


def _plaso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _of(records: list[Record], cls: type[Record]) -> list[Record]:
    return [r for r in records if type(r) is cls]


def plaso_events(records: list[Record]) -> list[tuple[object, ...]]:
    """plaso's events for this file, in its storage order, from our records (see the docstring)."""
    chats = {c.name: c for c in records if isinstance(c, SkypeChat)}
    chat_ids = {c.name: c.rowid for c in chats.values()}
    events: list[tuple[object, ...]] = []
    messages = [m for m in records if isinstance(m, SkypeMessage) and m.chatname in chats]
    for m in sorted(messages, key=lambda m: (chat_ids[m.chatname], m.rowid)):
        chat = chats[m.chatname]
        assert m.timestamp is not None and isinstance(m.timestamp.raw, int)
        others = [p for p in chat.participants if p != m.author]
        to = ", ".join(others) or m.dialog_partner or "Unknown User"
        events.append(
            ("chat", _plaso_time(m.timestamp.raw), f"{m.from_dispname} <{m.author}>", m.body_xml, chat.friendlyname, to)
        )  # fmt: skip
    for a in records:
        if isinstance(a, SkypeAccount):
            for when in (a.profile_time, a.lastonline_time, a.lastused_time):
                if when is not None and when.utc is not None and isinstance(when.raw, int):
                    events.append(("account", _plaso_time(when.raw), a.skypename))
    for s in records:
        if isinstance(s, SkypeSms):
            assert s.timestamp is not None and isinstance(s.timestamp.raw, int)
            events.append(
                ("sms", _plaso_time(s.timestamp.raw), (s.target_numbers or "").replace(" ", ""), s.body)
            )
    for t in records:
        if not isinstance(t, SkypeTransfer):
            continue
        extra = (t.filename, t.filepath, t.filesize)
        times = {"start": t.timestamp, "accept": t.accept_time, "finish": t.finish_time}
        raw = {k: v.raw if v is not None and v.utc is not None else None for k, v in times.items()}
        if t.transfer_status == 8:
            for action, key in (("GETSOLICITUDE", "start"), ("ACCEPTED", "accept"), ("FINISHED", "finish")):
                stamp = raw[key]
                if isinstance(stamp, int):
                    events.append(("transferfile", _plaso_time(stamp), action, *extra))
        elif t.transfer_status == 2 and isinstance(raw["start"], int):
            events.append(("transferfile", _plaso_time(raw["start"]), "SENDSOLICITUDE", *extra))
    for c in records:
        if not isinstance(c, SkypeCall):
            continue
        assert c.timestamp is not None and isinstance(c.timestamp.raw, int)
        src, dst = c.member_guids[0].split("-")[:2]
        events.append(("call", _plaso_time(c.timestamp.raw), src, dst))
        if c.accept_time is not None and isinstance(c.accept_time.raw, int):
            events.append(("call", _plaso_time(c.accept_time.raw), src, dst))
            if c.member_durations[0]:
                events.append(("call", _plaso_time(c.accept_time.raw + c.member_durations[0]), src, dst))
    return events


def test_corpus_matches_the_database_and_plaso(corpus: Path, tmp_path: Path) -> None:
    path = corpus / "chats" / "skype_main.db"
    if not path.exists():
        pytest.skip(f"test data absent: {path}")
    before = fingerprint(path)
    records, warnings = run([SkypePlugin()], FileItem.from_path(path, fs_path=FS_PATH), tmp_path)
    assert warnings == []  # plaso: number_of_warnings 0

    counts = {cls: len(_of(records, cls)) for cls in SkypePlugin.emits}
    assert counts == {
        SkypeMessage: 15,
        SkypeSms: 1,
        SkypeCall: 1,
        SkypeTransfer: 2,
        SkypeChat: 5,
        SkypeConversation: 2,
        SkypeAccount: 1,
        SkypeContact: 2,
    }
    # the database itself: every row of each table, in key order, raw values as stored
    con = ro(path)
    rows = con.execute(
        "SELECT id, author, timestamp, body_xml, chatname FROM Messages ORDER BY id"
    ).fetchall()
    messages = [m for m in records if isinstance(m, SkypeMessage)]
    assert [(m.rowid, m.author, m.timestamp.raw if m.timestamp else None, m.body_xml or "", m.chatname)
            for m in messages] == [(r["id"], r["author"], r["timestamp"], r["body_xml"] or "", r["chatname"])
                                   for r in rows]  # fmt: skip
    assert [c.rowid for c in records if isinstance(c, SkypeChat)] == [
        r[0] for r in con.execute("SELECT id FROM Chats ORDER BY id")
    ]
    con.close()

    # plaso: its 24 events, its counts per kind and its published values
    events = plaso_events(records)
    assert len(events) == PLASO_EVENTS
    assert {k: sum(1 for e in events if e[0] == k) for k in PLASO_COUNTS} == PLASO_COUNTS
    assert events[17][:4] == PLASO_EVENT_17
    assert events[16] == PLASO_EVENT_16
    assert events[18] == PLASO_EVENT_18
    assert events[1] == PLASO_EVENT_1
    assert events[14] == PLASO_EVENT_14
    assert events[22] == PLASO_EVENT_22

    # our records: the same facts with their raw values and our fields
    by_id = {m.rowid: m for m in messages}
    m43 = by_id[43]
    assert m43.timestamp is not None and m43.timestamp.utc == "2013-07-30T21:27:11.000000Z"
    assert m43.timestamp.encoding == "unix_s"
    assert (m43.sender, m43.from_me, m43.recipients, m43.party) == (
        "gen.beringer",
        True,
        ("european.bbq.competitor",),
        "european.bbq.competitor",
    )
    assert (m43.conversation, m43.conversation_title, m43.account) == (
        "european.bbq.competitor",
        "European Competitor",
        "gen.beringer",
    )
    assert (m43.message_type, m43.chatmsg_type, m43.chatmsg_status, m43.sending_status) == (61, 3, 1, 2)
    assert label_for(SkypeMessage, "message_type", 61) == "text"
    assert label_for(SkypeMessage, "chatmsg_status", m43.chatmsg_status) == "sending"
    # entities and markup resolved in body, kept in body_xml
    assert by_id[52].body_xml == "I&apos;m here" and by_id[52].body == "I'm here"
    assert by_id[52].from_me is False and by_id[52].sender == "european.bbq.competitor"
    assert by_id[54].body == "https://www.dropbox.com/s/3t95y5d8j64azsj/Recipes.docx"
    assert by_id[54].body_xml is not None and by_id[54].body_xml.startswith("<a href=")
    # the SMS message: the text of its <sms alt=...> (this file's own text lacks the "I"), its
    # recipient the number; its timestamp is stored as 13727168620 (hand-edited: the year 2404)
    sms_message = by_id[61]
    assert sms_message.body == "f you want I can copy some documents for you, if you can pay it... ;)"
    assert sms_message.recipients == ("+34123456789",) and sms_message.message_type == 64
    assert sms_message.timestamp is not None and sms_message.timestamp.raw == 13727168620
    assert sms_message.timestamp.utc == "2404-12-30T06:23:40.000000Z"
    group = by_id[62]
    assert (group.conversation, group.party, group.conversation_title) == (
        "#european.bbq.competitor/$gen.beringer;b1a38279a3452341",  # convo 34 is not in Conversations
        None,
        "European Competitor, Echo123",
    )

    [sms] = _of(records, SkypeSms)
    assert isinstance(sms, SkypeSms)
    assert (sms.from_me, sms.party, sms.chatmsg_id, sms.sms_status) == (True, "+34123456789", 61, 6)
    assert label_for(SkypeSms, "sms_status", sms.sms_status) == "delivered"

    [call] = _of(records, SkypeCall)
    assert isinstance(call, SkypeCall)
    assert call.timestamp is not None and call.timestamp.utc == "2013-07-01T22:12:17.000000Z"
    assert (call.duration, call.party, call.members, call.host_identity) == (
        646,
        "european.bbq.competitor",
        ("european.bbq.competitor",),
        "gen.beringer",
    )
    # plaso's user_start_call is False because it compares is_incoming with the text '0'; the
    # column holds the integer 0 (an outgoing call, hosted by the owner): from_me is true here
    assert call.is_incoming == 0 and call.from_me is True and call.video is None

    t1090, t1094 = (t for t in records if isinstance(t, SkypeTransfer))
    assert isinstance(t1090, SkypeTransfer) and isinstance(t1094, SkypeTransfer)
    assert (t1090.rowid, t1090.transfer_status, t1090.partner_handle, t1090.pk_id) == (
        1090,
        2,
        "gen.beringer",
        23445435,
    )
    assert (t1094.parent_id, t1094.filesize, t1094.bytes_transferred) == (23445435, 69986, 69986)
    assert t1094.finish_time is not None and t1094.finish_time.utc == "2013-10-24T21:49:37.000000Z"
    [attachment] = t1094.attachments
    assert (attachment.name, attachment.recorded_path, attachment.path) == (
        "secret-project.pdf",
        "/Users/gberinger/Desktop/secret-project.pdf",
        None,
    )
    assert label_for(SkypeTransfer, "transfer_status", 8) == "completed"

    [account] = _of(records, SkypeAccount)
    assert isinstance(account, SkypeAccount)
    assert (account.skypename, account.name, account.emails, account.birthday) == (
        "gen.beringer",
        "Gen Beringer",
        ("genberinger@gmail.com",),
        0,
    )
    contacts = [c for c in records if isinstance(c, SkypeContact) and not isinstance(c, SkypeAccount)]
    assert [c.account_ids for c in contacts] == [("echo123",), ("european.bbq.competitor",)]
    conversations = [c for c in records if isinstance(c, SkypeConversation)]
    assert [(c.identity, c.participants) for c in conversations] == [
        ("echo123", ("echo123", "gen.beringer")),
        ("european.bbq.competitor", ("european.bbq.competitor", "gen.beringer")),
    ]
    assert record_to_dict(call)["record_type"] == "chat/skype/call"
    assert fingerprint(path) == before


def test_corpus_is_offered_to_skype_only(corpus: Path, tmp_path: Path) -> None:
    from triage.engine.dispatch import match_plugins
    from triage.plugin import ParseContext
    from triage.plugin.scratch import Scratch

    path = corpus / "chats" / "skype_main.db"
    if not path.exists():
        pytest.skip(f"test data absent: {path}")
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(
            FileItem.from_path(path, fs_path="/x/renamed.db"), [c() for c in BUILTIN_PLUGINS], ctx
        )
    assert [p.name for p in chosen] == ["skype"]  # found by its tables, whatever its name
    assert ctx.warnings == []


@pytest.mark.parametrize(
    ("xml", "text"),
    [
        ("plain", "plain"),
        ("Tom &amp; Jerry &lt;3 &apos;x&apos; &quot;y&quot;", "Tom & Jerry <3 'x' \"y\""),
        ('see <a href="http://e.x/">http://e.x/</a> now', "see http://e.x/ now"),
        ('hi <ss type="smile">:)</ss>!', "hi :)!"),
        ('<quote author="a"><legacyquote>[1] a: </legacyquote>old<legacyquote>\n</legacyquote></quote>new',
         "[1] a: old\nnew"),
        ('<files alt="sent file x.pdf"><file size="1">x.pdf</file></files>', "sent file x.pdf"),
        ("R&D <b>bold", "R&D bold"),  # not XML: tags stripped, entities unescaped
        ("&#x41;&#66;", "AB"),
    ],
)  # fmt: skip
def test_plain_text(xml: str, text: str) -> None:
    assert plain_text(xml) == text


def test_plain_text_never_expands_declared_entities() -> None:
    """A body with its own DTD (a "billion laughs") is not XML content: nothing is expanded."""
    bomb = '<!DOCTYPE b [<!ENTITY a "xxxxxxxxxx"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><b>&b;</b>'
    out = plain_text(bomb)
    assert "xxxxxxxxxx" not in out and len(out) < len(bomb)
    external = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert "root:" not in plain_text(external)


def test_damaged_copies_give_warnings_not_tracebacks(corpus: Path, tmp_path: Path) -> None:
    path = corpus / "chats" / "skype_main.db"
    if not path.exists():
        pytest.skip(f"test data absent: {path}")
    good = tmp_path / "good" / "main.db"  # the name the globs know: a broken copy is reported
    good.parent.mkdir()
    shutil.copy(path, good)
    found = check_bad_copies(SkypePlugin(), good, "/" + WINDOWS_DIR, tmp_path)
    # half the pages: SQLite finds the copy malformed; one warning, no record, no traceback
    assert found["truncated"] == [
        "database skipped by skype: unreadable SQLite database: database disk image is malformed"
        "; neither its rows nor its deleted records were read (copy it out with 'exhibit export' for a repair tool)"
    ]


def test_rows_of_the_wrong_types_give_warnings_and_the_rest_is_read(corpus: Path, tmp_path: Path) -> None:
    """A hostile copy: text where numbers belong, a blob where text belongs, a body that is not
    UTF-8, a call member pointing at no call."""
    path = corpus / "chats" / "skype_main.db"
    if not path.exists():
        pytest.skip(f"test data absent: {path}")
    copy = tmp_path / "hostile" / "main.db"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    con = sqlite3.connect(copy)
    con.executescript(
        """
        UPDATE Messages SET timestamp = 'garbage', author = X'00FF' WHERE id = 43;
        UPDATE Messages SET body_xml = CAST(X'48FF' AS TEXT) WHERE id = 52;
        UPDATE Messages SET convo_id = 'thirty-three', type = 6.5 WHERE id = 53;
        UPDATE Calls SET is_incoming = 'yes', begin_timestamp = X'01' WHERE id = 110;
        UPDATE Transfers SET filesize = 'big' WHERE id = 1090;
        UPDATE Contacts SET birthday = X'00', emails = X'07' WHERE id = 27;
        INSERT INTO CallMembers (id, call_db_id, identity) VALUES (999, 'nowhere', 'ghost');
        """
    )
    con.commit()
    con.close()
    records, warnings = run([SkypePlugin()], FileItem.from_path(copy, fs_path=FS_PATH), tmp_path)
    messages = {m.rowid: m for m in records if isinstance(m, SkypeMessage)}
    assert sorted(messages) == [39, 43, 47, 51, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62]  # 52 skipped
    by_locator: dict[str | None, list[str]] = {}
    for plugin, locator, message in warnings:
        assert plugin == "skype"
        by_locator.setdefault(locator, []).append(message)
    assert by_locator["Messages.id=52"] == ["row skipped: text that is not UTF-8 in body_xml (48ff)"]
    assert "author is not text (bytes): not read" in by_locator["Messages.id=43"]
    assert "timestamp is not a number: 'garbage'" in by_locator["Messages.id=43"]
    m43 = messages[43]
    assert m43.author is None and m43.timestamp is not None and m43.timestamp.utc is None
    assert m43.body == "need to know if you got it this time."
    assert any("convo_id is not an integer" in w for w in by_locator["Messages.id=53"])
    assert any("type is not an integer (float)" in w for w in by_locator["Messages.id=53"])
    [call] = [c for c in records if isinstance(c, SkypeCall)]
    assert call.from_me is None and call.timestamp is not None and call.timestamp.utc is None
    assert any("begin_timestamp is not a number (bytes)" in w for w in by_locator["Calls.id=110"])
    transfers = [t for t in records if isinstance(t, SkypeTransfer)]
    assert transfers[0].filesize is None and any("filesize" in w for w in by_locator["Transfers.id=1090"])
    [echo] = [c for c in records if isinstance(c, SkypeContact) and c.rowid == 27]
    assert echo.birthday is None and echo.emails == ()
    assert len([r for r in records if isinstance(r, SkypeChat)]) == 5  # the other tables are read


def test_exhibit_triage_then_chats_calls_contacts(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole engine: a folder holding main.db where Windows keeps it, triaged, then the views."""
    path = corpus / "chats" / "skype_main.db"
    if not path.exists():
        pytest.skip(f"test data absent: {path}")
    with triaged_folder(tmp_path, monkeypatch, {f"{WINDOWS_DIR}/main.db": path}, "skype"):
        chats = exhibit("chats", "--json").lines()
        calls = exhibit("calls", "--json").lines()
        contacts = exhibit("contacts", "--json").lines()
    assert {m["app"] for m in chats} == {"skype"} and {m["plugin"] for m in chats} == {"skype"}
    kinds = sorted(m["record_type"] for m in chats)
    assert kinds == ["chat/skype/message"] * 15 + ["chat/skype/sms"] + ["chat/skype/transfer"] * 2
    [m43] = [m for m in chats if m["locator"] == "Messages.id=43"]
    assert (m43["conversation"], m43["sender"], m43["direction"], m43["body"]) == (
        "european.bbq.competitor",
        "gen.beringer",
        "outgoing",
        "need to know if you got it this time.",
    )
    assert m43["source"]["path"] == f"/{WINDOWS_DIR}/main.db"
    [transfer] = [m for m in chats if m["locator"] == "Transfers.id=1094"]
    assert [a["name"] for a in transfer["attachments"]] == ["secret-project.pdf"]
    [call] = calls
    assert (call["record_type"], call["party"], call["duration"], call["direction"]) == (
        "chat/skype/call",
        "european.bbq.competitor",
        646,
        "outgoing",
    )
    assert sorted(c["record_type"] for c in contacts) == ["chat/skype/account"] + ["chat/skype/contact"] * 2
