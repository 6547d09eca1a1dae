"""Apple Messages: the real chat.db of the corpus against the database itself and plaso's assertions;
fixtures from published schemas (see imessage_fixtures.py) for iOS 3 to 5, iOS 10 and iOS 16+."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from plugins.chat._typedstream import TypedStreamError, attributed_string_text
from plugins.chat.imessage import (
    IMessagePlugin,
    IosLegacyMessage,
    IosMessage,
    MacMessage,
    attachment_candidates,
)
from tests.conftest import need
from tests.plugins.imessage_fixtures import (
    COCOA,
    IOS4_SCHEMA,
    IOS5_SCHEMA,
    IOS10_SCHEMA,
    MODERN_SCHEMA,
    Row,
    archive,
    build,
)
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, ParseWarning, Record
from triage.plugin.records import label_for, record_to_dict
from triage.plugin.scratch import Scratch
from triage.plugin.sqlite_table import SqliteTablePlugin

IOS_DB = "/private/var/mobile/Library/SMS/sms.db"
MAC_DB = "/Users/ken/Library/Messages/chat.db"


def _run(item: FileItem, tmp_path: Path, *, offered: bool = True) -> tuple[list[Record], list[ParseWarning]]:
    plugin = IMessagePlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, [plugin], ctx)
        assert chosen == ([plugin] if offered else [])
        result = run_plugins(item, chosen, ctx)
    assert result.failed == [], [w.traceback for w in result.warnings]
    return result.records, ctx.warnings + result.warnings


def _ffs(tmp_path: Path, sql: str, rows: dict[str, list[Row]], fs_path: str = IOS_DB) -> FileItem:
    """A database placed at ``fs_path`` under a folder standing for the extraction's root."""
    root = tmp_path / "extraction"
    db = build(root / fs_path.lstrip("/"), sql, rows)
    return FileItem.from_path(db, fs_path=fs_path, root=root)


def _put(tmp_path: Path, fs_path: str, data: bytes) -> None:
    target = tmp_path / "extraction" / fs_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _sha256_and_mtime(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


# --- the real database --------------------------------------------------------------------------------


@pytest.mark.parametrize(("fs_path", "cls"), [(MAC_DB, MacMessage), (IOS_DB, IosMessage)], ids=["mac", "ios"])
def test_corpus_chat_db_against_the_database_and_plaso(
    corpus: Path, tmp_path: Path, fs_path: str, cls: type[IosMessage]
) -> None:
    db = need(corpus / "chats" / "imessage_chat.db")
    before = _sha256_and_mtime(db)
    records, warnings = _run(FileItem.from_path(db, fs_path=fs_path), tmp_path)
    assert warnings == []
    assert all(type(r) is cls for r in records)
    messages = [r for r in records if isinstance(r, IosMessage)]

    # oracle 1: the database itself, read-only
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    expected = con.execute(
        """SELECT m.ROWID, m.guid, m.text, m.date, m.date_read, m.is_from_me, m.service, h.id,
                  c.guid, m.is_read FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id
           LEFT JOIN chat_message_join j ON j.message_id = m.ROWID LEFT JOIN chat c ON c.ROWID = j.chat_id
           ORDER BY m.ROWID"""
    ).fetchall()
    con.close()
    assert len(expected) == len(messages) == 10
    for rec, (rowid, guid, text, date, date_read, from_me, service, handle, chat, is_read) in zip(
        messages, expected, strict=True
    ):
        where = rec.locator
        assert rec.locator == f"message.ROWID={rowid}" and rec.rowid == rowid and rec.guid == guid
        assert rec.body == text and rec.body_source == "text", where
        assert rec.timestamp is not None and rec.timestamp.raw == date and rec.timestamp.encoding == "cocoa_s"
        assert rec.timestamp.utc is not None
        assert rec.read_time is not None and rec.read_time.raw == date_read
        assert rec.from_me is bool(from_me) and rec.service == service and rec.is_read == is_read, where
        assert rec.handle == handle and rec.conversation == chat, where
        assert rec.party == handle and rec.chat_style == 45, where  # one-to-one chats
        if rec.from_me:
            assert rec.sender == "ken.doh@icloud.com" and rec.recipients == (handle,), where
        else:
            assert rec.sender == handle and rec.recipients == (), where
        assert rec.account == "ken.doh@icloud.com" and rec.message_account == "e:ken.doh@icloud.com"
        assert rec.time_basis is not None and rec.time_basis.startswith("magnitude")
        assert rec.attachments == ()  # the one attachment row belongs to message 21, which is gone
    assert [r.rowid for r in messages if r.conversation == "iMessage;-;+447775446518"] == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        10,
    ]
    assert messages[0].timestamp is not None and messages[0].timestamp.utc == "2015-11-22T18:09:46.000000Z"

    # oracle 2: plaso's imessage test asserts 10 events; events[7] is this one
    eighth = messages[7]
    assert eighth.body == "Did you try to send me a message?"
    assert eighth.handle == "xxxxxx2015@icloud.com" and eighth.sender == "xxxxxx2015@icloud.com"
    assert eighth.service == "iMessage" and eighth.is_read == 1 and eighth.message_type == 0
    assert eighth.timestamp is not None and eighth.timestamp.raw == 470573320
    assert eighth.timestamp.utc == "2015-11-30T10:48:40.000000Z"

    # the two edited rows: text kept as the body, the archive's other words beside it
    edited = {r.rowid: r for r in messages if r.attributed_body_text is not None}
    assert sorted(edited) == [6, 10]
    for rec in edited.values():
        assert rec.body is not None and "Open Office" in rec.body and "Microsoft Office" not in rec.body
        assert "Microsoft Office" in rec.attributed_body_text  # type: ignore[operator]
        assert rec.attributed_body_text == rec.body.replace("Open Office", "Microsoft Office")
    assert all(r.attributed_body_note is None for r in messages)

    data = record_to_dict(eighth)
    assert data["record_type"] == cls.record_type and data["timestamp"]["encoding"] == "cocoa_s"
    assert _sha256_and_mtime(db) == before  # evidence untouched


def test_typedstream_reader_on_the_corpus_archives(corpus: Path) -> None:
    """Every archive of the corpus decodes; eight equal their ``text`` (the database as oracle)."""
    db = need(corpus / "chats" / "imessage_chat.db")
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    rows = con.execute("SELECT ROWID, text, attributedBody FROM message ORDER BY ROWID").fetchall()
    con.close()
    same = [rowid for rowid, text, blob in rows if attributed_string_text(blob) == text]
    assert same == [1, 2, 3, 4, 5, 7, 8, 9]
    # row 1 is 336 bytes long: its length is the two-byte form (0x81)
    assert len(attributed_string_text(rows[0][2]).encode()) == 336


def test_chats_show_both_texts_where_the_database_holds_two(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows 6 and 10 of the corpus database say "Open Office" in ``text`` and "Microsoft Office" in
    ``attributedBody`` (the oracle: the two columns read here). Found in review: ``exhibit chats``
    showed only the first; both are in its --json (``body_other``) and its listing."""
    import json

    from tests.plugins.triage_e2e import exhibit, triaged_folder

    db = need(corpus / "chats" / "imessage_chat.db")
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    differ = {
        text: attributed_string_text(blob)
        for _rowid, text, blob in con.execute(
            "SELECT ROWID, text, attributedBody FROM message ORDER BY ROWID"
        )
        if blob is not None and attributed_string_text(blob) != text
    }
    con.close()
    assert len(differ) == 2 and all("Open Office" in t for t in differ)
    with triaged_folder(tmp_path, monkeypatch, {"Library/SMS/sms.db": db}, "imessage"):
        lines = [json.loads(x) for x in exhibit("chats", "--json").out.splitlines()]
        listing = exhibit("chats").out
    shown = {m["body"]: m["body_other"] for m in lines if m["body_other"]}
    assert shown == {text: {"field": "attributed_body_text", "text": other} for text, other in differ.items()}
    assert sum(m["body_other"] is None for m in lines) == len(lines) - 2
    for other in differ.values():
        assert f"the database's attributed_body_text differs: {other}" in " ".join(listing.split())


# --- the typedstream reader ---------------------------------------------------------------------------


def test_typedstream_reader_layouts_and_lengths() -> None:
    for text in ("", "hi", "é" * 100, "x" * 40000, "emoji 😀 and \ufffc object"):
        assert attributed_string_text(archive(text)) == text
        assert attributed_string_text(archive(text, mutable=False)) == text


@pytest.mark.parametrize(
    ("blob", "why"),
    [
        (b"", "archive ends early"),
        (b"bplist00\xd1\x01\x02", "not a typedstream"),
        (b"\x04\x0bstreamtypeX\x81\xe8\x03", "not a typedstream"),
        (archive("hello")[:-120], "runs past the end"),
        (
            archive("hello")
            .replace(b"NSMutableString", b"NSMutableNumber")
            .replace(b"\x08NSString", b"\x08NSNumber"),
            "holds no string",
        ),
        (archive("h\xe9llo").replace("h\xe9llo".encode(), b"h\xe9llo"), "not UTF-8"),
    ],
    ids=["empty", "plist", "signature", "truncated", "not-a-string", "bad-utf8"],
)
def test_typedstream_reader_says_why_it_cannot_read(blob: bytes, why: str) -> None:
    with pytest.raises(TypedStreamError, match=why):
        attributed_string_text(blob)


def test_typedstream_reader_only_ever_raises_its_own_error() -> None:
    """Hostile input: every prefix and 20,000 seeded mutations give text or TypedStreamError."""
    blob = archive("Meet at pier 7 at ten, bring the papers")
    rng = random.Random(8)
    samples = [blob[:i] for i in range(len(blob))]
    for _ in range(20000):
        mutated = bytearray(blob)
        for _ in range(rng.randint(1, 6)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        samples.append(bytes(mutated))
    for sample in samples:
        with contextlib.suppress(TypedStreamError):
            attributed_string_text(sample)


# --- iOS 16+: nanoseconds, text in attributedBody only, groups, attachments ---------------------------

T0 = 704735807_221498000  # 2023-05-02T15:56:47.221498Z in nanoseconds since 2001


def _attachment(
    rowid: int, filename: str, mime: str, size: int, uti: str = "public.data"
) -> dict[str, object]:
    return {
        "ROWID": rowid,
        "guid": f"A-{rowid}",
        "original_guid": f"A-{rowid}",
        "created_date": 704735900 + rowid,  # seconds, as the corpus's attachment rows
        "filename": filename,
        "uti": uti,
        "mime_type": mime,
        "transfer_state": 5,
        "is_outgoing": 1,
        "transfer_name": filename.rsplit("/", 1)[-1],
        "total_bytes": size,
    }


def _modern_rows() -> dict[str, list[Row]]:
    def message(rowid: int, **values: object) -> dict[str, object]:
        return {"ROWID": rowid, "guid": f"G-{rowid}", "service": "iMessage", **values}

    return {
        "handle": [
            (1, "+447700900001", "GB", "iMessage", None, None),
            (2, "+447700900002", "GB", "iMessage", None, None),
            (3, "ana@example.org", "GB", "iMessage", None, None),
        ],
        "chat": [
            {
                "ROWID": 1,
                "guid": "iMessage;+;chat1000",
                "style": 43,
                "chat_identifier": "chat1000",
                "service_name": "iMessage",
                "room_name": "chat1000",
                "account_login": "E:me@example.org",
                "display_name": "Harbour crew",
            },
            {
                "ROWID": 2,
                "guid": "iMessage;-;ana@example.org",
                "style": 45,
                "chat_identifier": "ana@example.org",
                "service_name": "iMessage",
                "account_login": "E:me@example.org",
                "display_name": "",
            },
        ],
        "chat_handle_join": [(1, 1), (1, 2), (1, 3), (2, 3)],
        "message": [
            # 1: incoming in the group, text only in the archive (iOS 16+), edited
            message(
                1,
                handle_id=2,
                attributedBody=archive("ship leaves at 6"),
                date=T0,
                date_edited=T0 + 5 * 10**9,
            ),
            # 2: outgoing to the group with a photo, from the owner's phone number
            message(
                2, text="\ufffc", is_from_me=1, date=T0 + 60 * 10**9, destination_caller_id="+447700900099"
            ),
            # 3: a tapback on message 1, and a reply thread
            message(
                3,
                text="Loved “ship leaves at 6”",
                handle_id=1,
                date=T0 + 120 * 10**9,
                associated_message_guid="p:0/G-1",
                associated_message_type=2000,
                thread_originator_guid="G-1",
            ),
            # 4: one-to-one, outgoing, two attachments (one absent from the extraction), read
            message(
                4, text="docs", handle_id=3, is_from_me=1, date=T0 + 180 * 10**9, date_read=T0 + 200 * 10**9
            ),
            # 5: an archive that cannot be read, and no text
            message(5, handle_id=3, attributedBody=b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84", date=T0),
        ],
        "chat_message_join": [(1, 1, T0), (1, 2, T0), (1, 3, T0), (2, 4, T0), (2, 5, T0), (9, 77, 0)],
        "attachment": [
            _attachment(
                1, "~/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC", "image/heic", 11, "public.heic"
            ),
            _attachment(
                2, "/var/mobile/Library/SMS/Attachments/cd/12/A-2/contract.pdf", "application/pdf", 9
            ),
            _attachment(3, "~/Library/SMS/Attachments/ef/13/A-3/gone.jpg", "image/jpeg", 5000),
        ],
        "message_attachment_join": [(2, 1), (4, 2), (4, 3)],
    }


def test_ios16_nanoseconds_archives_groups_and_attachments(tmp_path: Path) -> None:
    item = _ffs(tmp_path, MODERN_SCHEMA, _modern_rows())
    _put(tmp_path, "/private/var/mobile/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC", b"heic image!")
    _put(tmp_path, "/private/var/mobile/Library/SMS/Attachments/cd/12/A-2/contract.pdf", b"%PDF-1.7")
    records, warnings = _run(item, tmp_path)
    by_id = {r.rowid: r for r in records if isinstance(r, IosMessage)}
    assert sorted(by_id) == [1, 2, 3, 4, 5]
    assert [(w.locator, w.message.split(":")[0]) for w in warnings] == [
        ("message.ROWID=5", "attributedBody not read")
    ]

    one = by_id[1]
    assert one.body == "ship leaves at 6" and one.body_source == "attributedBody"
    assert one.attributed_body_text is None  # nothing to compare with: text is NULL
    assert one.timestamp is not None and one.timestamp.utc == "2023-05-02T15:56:47.221498Z"
    assert one.timestamp.encoding == "cocoa_ns" and one.timestamp.raw == T0
    assert one.edited_time is not None and one.edited_time.utc == "2023-05-02T15:56:52.221498Z"
    assert (
        one.time_basis
        == "schema: message.thread_originator_guid exists (after iOS 11): nanoseconds since 2001"
    )
    assert one.conversation == "iMessage;+;chat1000" and one.conversation_title == "Harbour crew"
    assert one.party is None and one.sender == "+447700900002" and one.from_me is False
    assert label_for(IosMessage, "chat_style", one.chat_style) == "group"

    two = by_id[2]
    assert two.from_me is True and two.account == "+447700900099" and two.sender == "+447700900099"
    assert two.recipients == ("+447700900001", "+447700900002", "ana@example.org")
    [photo] = two.attachments
    assert (photo.name, photo.mime) == ("IMG_0001.HEIC", "image/heic")
    assert photo.recorded_path == "~/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC"
    assert photo.path == "/private/var/mobile/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC"
    assert photo.size == 11 and photo.sha256 is None
    [details] = two.attachment_details
    assert details["guid"] == "A-1" and details["total_bytes"] == 11 and details["uti"] == "public.heic"
    assert details["created"].utc == "2023-05-02T15:58:21.000000Z"  # seconds, by magnitude

    three = by_id[3]
    assert label_for(IosMessage, "associated_message_type", three.associated_message_type) == "loved"
    assert three.thread_originator_guid == "G-1" and three.associated_message_guid == "p:0/G-1"

    four = by_id[4]
    assert four.party == "ana@example.org" and four.recipients == ("ana@example.org",)
    assert four.conversation_title is None  # "" in the database: no title
    assert four.read_time is not None and four.read_time.utc == "2023-05-02T16:00:07.221498Z"
    pdf, gone = four.attachments
    assert pdf.recorded_path == "/var/mobile/Library/SMS/Attachments/cd/12/A-2/contract.pdf"
    assert pdf.path == "/private/var/mobile/Library/SMS/Attachments/cd/12/A-2/contract.pdf" and pdf.size == 8
    assert gone.name == "gone.jpg" and gone.path is None and gone.size is None

    five = by_id[5]
    assert five.body is None and five.attributed_body_note is not None
    assert "archive ends early" in five.attributed_body_note


def test_seconds_and_nanoseconds_by_magnitude_without_a_telling_column(tmp_path: Path) -> None:
    """An iOS 6 to 13 schema says nothing about the unit: each value decides (1e11 boundary)."""
    seconds = 470573320  # iOS 10: 2015-11-30T10:48:40Z
    nanos = 470573320 * 10**9 + 999  # the same instant as iOS 11 to 13 store it
    rows = {
        "handle": [(1, "+15555550123", "US", "SMS", None)],
        "message": [
            {
                "ROWID": 1,
                "guid": "G1",
                "text": "old",
                "handle_id": 1,
                "service": "SMS",
                "date": seconds,
                "date_read": 0,
            },
            {
                "ROWID": 2,
                "guid": "G2",
                "text": "new",
                "handle_id": 1,
                "service": "SMS",
                "date": nanos,
                "date_read": 0,
            },
        ],
    }
    records, warnings = _run(_ffs(tmp_path, IOS10_SCHEMA, rows), tmp_path)
    assert warnings == []
    old, new = records
    assert isinstance(old, IosMessage) and isinstance(new, IosMessage)
    assert old.timestamp is not None and old.timestamp.encoding == "cocoa_s"
    assert new.timestamp is not None and new.timestamp.encoding == "cocoa_ns" and new.timestamp.raw == nanos
    assert old.timestamp.utc == new.timestamp.utc == "2015-11-30T10:48:40.000000Z"
    assert old.time_basis == new.time_basis and old.time_basis is not None
    assert old.time_basis.startswith("magnitude")
    assert old.read_time is not None and old.read_time.utc is None  # 0: no time stored
    assert old.conversation is None and old.party == "+15555550123"  # no chat joined: the handle


def test_attachments_of_a_backup_are_found_in_its_media_domain(tmp_path: Path) -> None:
    rows = _modern_rows()
    item = _ffs(tmp_path, MODERN_SCHEMA, rows, fs_path="/HomeDomain/Library/SMS/sms.db")
    _put(tmp_path, "/MediaDomain/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC", b"heic image!")
    records, _ = _run(item, tmp_path)
    two = next(r for r in records if isinstance(r, IosMessage) and r.rowid == 2)
    assert two.attachments[0].path == "/MediaDomain/Library/SMS/Attachments/ab/11/A-1/IMG_0001.HEIC"


def test_where_attachments_are_looked_for() -> None:
    assert attachment_candidates(IOS_DB, "~/Library/SMS/Attachments/a/b/x.jpg") == [
        "/private/var/mobile/Library/SMS/Attachments/a/b/x.jpg",
    ]
    assert attachment_candidates("/HomeDomain/Library/SMS/sms.db", "~/Library/SMS/Attachments/x.jpg") == [
        "/HomeDomain/Library/SMS/Attachments/x.jpg",
        "/MediaDomain/Library/SMS/Attachments/x.jpg",
    ]
    assert attachment_candidates(MAC_DB, "~/Library/Messages/Attachments/89/09/G/sslsplit.der") == [
        "/Users/ken/Library/Messages/Attachments/89/09/G/sslsplit.der",
    ]
    # a database exported on its own, beside its Attachments folder
    assert attachment_candidates("/export/sms.db", "~/Library/SMS/Attachments/x.jpg") == [
        "/export/Attachments/x.jpg"
    ]
    assert attachment_candidates(IOS_DB, "/var/mobile/Library/SMS/Attachments/x.jpg") == [
        "/var/mobile/Library/SMS/Attachments/x.jpg",
        "/private/var/mobile/Library/SMS/Attachments/x.jpg",
    ]
    # never above the evidence's root, whatever the database recorded
    assert attachment_candidates(IOS_DB, "~/../../../../../etc/passwd") == ["/etc/passwd"]


# --- iOS 3 to 5 -------------------------------------------------------------------------------------

# StackOverflow 10746562: on iOS 5 an SMS sent at 1318470904 (Unix seconds) was answered by an
# iMessage at 340164736 (seconds since 2001) "less than an hour" later: 2011-10-13 01:55:04 and
# 02:12:16 UTC.
SMS_DATE = 1318470904
IMESSAGE_DATE = 340164736


def _ios5_rows() -> dict[str, list[Row]]:
    def message(rowid: int, **values: object) -> dict[str, object]:
        return {"ROWID": rowid, **values}

    participants = b"".join(
        [
            b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><array>',
            b"<string>+447700900001</string><string>ana@example.org</string></array></plist>",
        ]
    )
    return {
        "msg_group": [(1, 0, 3, 0, 11), (2, 1, 5, 0, 12)],
        "group_member": [
            (1, 1, "+447700900001", "gb"),
            (2, 2, "+447700900001", "gb"),
            (3, 2, "+447700900002", "gb"),
        ],
        "madrid_chat": [
            (
                1,
                43,
                3,
                None,
                None,
                "chat55",
                "iMessage",
                "iMessage;+;chat55",
                "chat55",
                "e:me@example.org",
                participants,
            )
        ],
        "message": [
            message(1, address="+447700900001", date=SMS_DATE, text="on my way", flags=3, group_id=1, read=1),
            message(
                2,
                date=IMESSAGE_DATE,
                text="see you there",
                flags=0,
                group_id=1,
                is_madrid=1,
                madrid_handle="+447700900001",
                madrid_flags=12289,
                madrid_service="iMessage",
                madrid_account="p:+447700900099",
                madrid_guid="M-2",
                madrid_date_read=IMESSAGE_DATE + 60,
            ),
            message(
                3,
                date=IMESSAGE_DATE + 120,
                flags=0,
                is_madrid=1,
                madrid_attributedBody=archive("photo attached"),
                madrid_roomname="chat55",
                madrid_flags=36869,
                madrid_service="iMessage",
                madrid_account="e:me@example.org",
            ),
            message(4, address="+447700900002", date=SMS_DATE + 300, text="group sms", flags=2, group_id=2),
            message(5, address="+447700900002", date=SMS_DATE + 400, flags=2, group_id=2),  # an MMS
            message(6, address="+447700900003", date=SMS_DATE + 500, text="?", flags=99),
        ],
        "madrid_attachment": [
            {
                "ROWID": 1,
                "attachment_guid": "AT-1",
                "created_date": IMESSAGE_DATE,
                "filename": "/var/mobile/Library/SMS/Attachments/1a/01/AT-1.jpg",
                "uti_type": "public.jpeg",
                "mime_type": "image/jpeg",
                "transfer_state": 5,
                "is_incoming": 0,
                "message_id": 3,
            },
        ],
        "msg_pieces": [
            (1, 5, None, 0, 0, "application/smil", 0, 1, 0, "smil", "smil.xml", None),
            (2, 5, b"...", 1, 0, "image/jpeg", 0, 1, 0, "img", "IMG_0042.jpg", None),
        ],
    }


def test_ios5_sms_in_unix_seconds_imessage_in_seconds_since_2001(tmp_path: Path) -> None:
    item = _ffs(tmp_path, IOS5_SCHEMA, _ios5_rows())
    _put(tmp_path, "/private/var/mobile/Library/SMS/Attachments/1a/01/AT-1.jpg", b"\xff\xd8\xff")
    records, warnings = _run(item, tmp_path)
    assert warnings == []
    by_id = {r.rowid: r for r in records if isinstance(r, IosLegacyMessage)}
    assert sorted(by_id) == [1, 2, 3, 4, 5, 6]

    sms, imessage, photo, group_sms, mms, odd = (by_id[i] for i in range(1, 7))
    assert sms.timestamp is not None and sms.timestamp.encoding == "unix_s"
    assert sms.timestamp.utc == "2011-10-13T01:55:04.000000Z" and sms.timestamp.raw == SMS_DATE
    assert sms.time_basis == "schema: iOS 5 SMS row (is_madrid = None): Unix seconds"
    assert sms.from_me is True and sms.party == "+447700900001" and sms.conversation == "1"
    assert sms.recipients == ("+447700900001",) and label_for(IosLegacyMessage, "flags", sms.flags) == "sent"

    assert imessage.timestamp is not None and imessage.timestamp.encoding == "cocoa_s"
    assert imessage.timestamp.utc == "2011-10-13T02:12:16.000000Z"
    assert imessage.timestamp.raw + COCOA - SMS_DATE == 1032  # 17 minutes after the SMS it answers
    assert imessage.time_basis == "schema: iOS 5 iMessage row (is_madrid = 1): seconds since 2001"
    assert imessage.read_time is not None and imessage.read_time.utc == "2011-10-13T02:13:16.000000Z"
    assert imessage.from_me is False and imessage.sender == "+447700900001" and imessage.conversation == "1"
    assert imessage.account == "+447700900099" and imessage.madrid_account == "p:+447700900099"
    assert label_for(IosLegacyMessage, "madrid_flags", imessage.madrid_flags) == "received"

    assert photo.body == "photo attached" and photo.body_source == "attributedBody"
    assert photo.from_me is True and photo.party is None and photo.conversation == "chat55"
    assert photo.recipients == ("+447700900001", "ana@example.org")  # madrid_chat.participants
    [jpeg] = photo.attachments
    assert jpeg.path == "/private/var/mobile/Library/SMS/Attachments/1a/01/AT-1.jpg" and jpeg.size == 3

    assert group_sms.party is None and group_sms.group_type == 1 and group_sms.from_me is False
    assert mms.body is None and [(a.name, a.mime) for a in mms.attachments] == [
        ("IMG_0042.jpg", "image/jpeg")
    ]
    assert odd.from_me is None and odd.status == 99  # a flags value nobody documents: direction unknown


def test_ios4_without_madrid_columns_is_all_unix_seconds(tmp_path: Path) -> None:
    rows = {"message": [(1, "+15555550100", 1262304000, "happy new year", 2, 0, None, 0, 0, 0, 0, 0)]}
    records, warnings = _run(_ffs(tmp_path, IOS4_SCHEMA, rows), tmp_path)
    assert warnings == []
    [rec] = records
    assert isinstance(rec, IosLegacyMessage)
    assert rec.timestamp is not None and rec.timestamp.utc == "2010-01-01T00:00:00.000000Z"
    assert rec.time_basis == "schema: no madrid columns (iOS 4 or older, SMS only): Unix seconds"
    assert rec.from_me is False and rec.party == "+15555550100" and rec.conversation == "+15555550100"


# --- bad input ----------------------------------------------------------------------------------------


def test_unsupported_schema_named_like_messages_is_reported(tmp_path: Path) -> None:
    sql = "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, date INTEGER, text TEXT, sender TEXT);"
    item = _ffs(tmp_path, sql, {"message": [(1, 5, "x", "y")]})
    records, warnings = _run(item, tmp_path)
    assert records == []
    [warning] = warnings
    assert warning.plugin == "imessage" and warning.path == IOS_DB
    assert warning.message.startswith(f"unsupported schema: {IOS_DB} is named like a Messages database")
    # the same table in a database named otherwise is simply not Messages: no warning
    other = FileItem.from_path(tmp_path / "extraction" / IOS_DB.lstrip("/"), fs_path="/data/app.db")
    records, warnings = _run(other, tmp_path)
    assert records == [] and warnings == []


def _named(tmp_path: Path, data: bytes) -> FileItem:
    path = tmp_path / "extraction" / IOS_DB.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return FileItem.from_path(path, fs_path=IOS_DB)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (random.Random(3).randbytes(65536), "not a SQLite 3 database"),  # encrypted or random
        (bytes(65536), "not a SQLite 3 database"),  # zero-filled
    ],
    ids=["encrypted", "zero-filled"],
)
def test_unreadable_files_named_sms_db_are_a_warning(tmp_path: Path, data: bytes, problem: str) -> None:
    records, warnings = _run(_named(tmp_path, data), tmp_path, offered=False)
    assert records == []
    [warning] = warnings
    assert warning.plugin == "imessage" and warning.path == IOS_DB
    assert warning.message.startswith("database skipped by imessage: ") and problem in warning.message


def test_truncated_database_is_a_warning(corpus: Path, tmp_path: Path) -> None:
    data = need(corpus / "chats" / "imessage_chat.db").read_bytes()
    records, warnings = _run(_named(tmp_path, data[:200_000]), tmp_path, offered=False)
    assert records == []
    [warning] = warnings
    assert (
        warning.path == IOS_DB
        and "database skipped by imessage: unreadable SQLite database" in warning.message
    )


def test_a_wal_without_its_database_is_not_offered(tmp_path: Path) -> None:
    wal = tmp_path / "extraction" / "sms.db-wal"
    wal.parent.mkdir(parents=True)
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(28) + b"frame" * 100)
    records, warnings = _run(FileItem.from_path(wal, fs_path=IOS_DB + "-wal"), tmp_path, offered=False)
    assert records == [] and warnings == []


def test_a_dropped_message_table_is_a_warning(tmp_path: Path) -> None:
    sql = MODERN_SCHEMA + "DROP TABLE message;"
    records, warnings = _run(_ffs(tmp_path, sql, {}), tmp_path, offered=False)
    assert records == []
    [warning] = warnings
    assert warning.message.startswith("database skipped by imessage: it lacks the tables and columns")
    assert "message(date, text)" in warning.message


def test_a_dropped_handle_table_still_gives_the_messages(tmp_path: Path) -> None:
    rows = _modern_rows()
    del rows["handle"]
    records, warnings = _run(_ffs(tmp_path, MODERN_SCHEMA + "DROP TABLE handle;", rows), tmp_path)
    assert len(records) == 5
    assert [w.message for w in warnings] == [
        "table handle is missing: senders and recipients are not named",
        "attributedBody not read: archive ends early at byte 20",  # message 5, as with the table
    ]
    assert all(isinstance(r, IosMessage) and r.handle is None for r in records)


def test_one_corrupt_row_among_good_ones(tmp_path: Path) -> None:
    rows = _modern_rows()
    rows["message"][2] = {"ROWID": 3, "guid": "G-3", "text": b"\xff\xfebad", "date": T0}  # a BLOB for now
    path = _ffs(tmp_path, MODERN_SCHEMA, rows).source.path
    db = tmp_path / "extraction" / path.lstrip("/")
    con = sqlite3.connect(db)
    con.execute("UPDATE message SET text = CAST(text AS TEXT) WHERE ROWID = 3")  # text, not UTF-8
    con.commit()
    con.close()
    records, warnings = _run(FileItem.from_path(db, fs_path=IOS_DB, root=tmp_path / "extraction"), tmp_path)
    assert [r.rowid for r in records if isinstance(r, IosMessage)] == [1, 2, 4, 5]
    bad = [w for w in warnings if w.locator == "message.ROWID=3"]
    assert len(bad) == 1 and bad[0].message.startswith("row skipped: text that is not UTF-8 in text")


# --- a million-row table -----------------------------------------------------------------------------

ROWS = 50_000


@pytest.mark.slow
def test_a_big_message_table_is_streamed_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50,000 messages, each joined to a chat and half with an attachment: memory stays bounded."""
    # the live rows only: recovery's memory is bounded by the database size (test_recovered_rows.py)
    monkeypatch.setattr(SqliteTablePlugin, "recover_max_bytes", 0)
    db = tmp_path / "evidence" / "sms.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.executescript(IOS10_SCHEMA)
    con.execute("INSERT INTO handle VALUES (1, '+15555550100', 'US', 'SMS', NULL)")
    con.execute("INSERT INTO chat (ROWID, guid, style) VALUES (1, 'SMS;-;+15555550100', 45)")
    con.executemany(
        "INSERT INTO message (ROWID, guid, text, handle_id, date, is_from_me) VALUES (?, ?, ?, 1, ?, ?)",
        ((i, f"G{i}", f"{i:08d}" + "m" * 92, 400_000_000 + i, i % 2) for i in range(1, ROWS + 1)),
    )
    con.executemany("INSERT INTO chat_message_join VALUES (1, ?)", ((i,) for i in range(1, ROWS + 1)))
    con.executemany(
        "INSERT INTO attachment (ROWID, guid, filename, transfer_name) VALUES (?, ?, ?, ?)",
        ((i, f"A{i}", f"~/Library/SMS/Attachments/{i}.jpg", f"{i}.jpg") for i in range(1, ROWS // 2 + 1)),
    )
    con.executemany(
        "INSERT INTO message_attachment_join VALUES (?, ?)", ((2 * i, i) for i in range(1, ROWS // 2 + 1))
    )
    con.commit()
    con.close()
    bound = ROWS * 100 // 50  # 2% of the message text
    plugin = IMessagePlugin()
    item = FileItem.from_path(db, fs_path=IOS_DB)  # not under an extraction root: nothing to find
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch).for_plugin(plugin.name, item)
        ctx.open_sqlite(item)
        tracemalloc.start()
        try:
            count = 0
            with_files = 0
            for record in plugin.parse(item, ctx):
                count += 1
                with_files += bool(record.attachments)  # type: ignore[attr-defined]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == ROWS and with_files == ROWS // 2
    assert ctx.warnings == []
    assert peak < bound
