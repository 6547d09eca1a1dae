"""Build the Quick start's two phone extractions: folders laid out as full file-system extractions.

Real phone data cannot ship with the project, so this writes two small, made-up phones whose
databases are created from the apps' own schemas (the SQL text in tests/plugins/app_schemas.py,
the same the plugin tests use) and filled with a short, fictional story:

- ``android/``: Kai's Android phone (Android 7 or later: SMS and the call log in device-protected
  storage under ``data/user_de/0``, contacts and WhatsApp under ``data/data``):
  ``com.android.providers.telephony/databases/mmssms.db`` (SMS), ``com.android.providers.contacts/
  databases/calllog.db`` (calls) and ``contacts2.db`` (contacts), ``com.whatsapp/databases/
  msgstore.db`` (messages) and ``wa.db`` (WhatsApp contacts), with the app's preferences naming
  Kai's own account (``com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml``);
- ``iphone/``: Dani's iPhone (iOS 16 or later): ``private/var/mobile/Library/SMS/sms.db``
  (SMS and iMessage) and ``private/var/mobile/Library/AddressBook/AddressBook.sqlitedb``.

The story: Dani recruits workers, Kai drives them, "V" (Viktor) pays per head. Kai and Dani's SMS
conversation is on both phones; each phone writes the other's number its own way (Kai's phone
``07700900456``, Dani's ``+447700900123`` and ``+44 7700 900123``), and both talk to V
(``12025550147@s.whatsapp.net`` on WhatsApp, ``+12025550147`` on iMessage), so ``exhibit links
--region GB`` links the two exhibits by three numbers. Every number is fictional: Ofcom's drama
range 07700 900xxx and the North American 555-01xx range. Times are UTC, stored in each app's own
encoding (Unix milliseconds on Android, nanoseconds since 2001 in sms.db, seconds since 2001 in
the address book). The same input always gives the same rows.

Usage: ``.venv/bin/python scripts/make_phone_extraction.py OUT`` writes ``OUT/android`` and
``OUT/iphone`` (neither may exist yet). Standard library only.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

# the repository root on the path, for the schemas the plugin tests share
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.plugins.app_schemas import (
    ADDRESSBOOK,
    CALLS_V12,
    CONTACTS_V1603,
    IMESSAGE_MODERN,
    MIMETYPES,
    MMS_V69,
    SMS_V69,
    WHATSAPP_MEDIA,
    WHATSAPP_MSGSTORE,
    WHATSAPP_WA_CONTACTS,
    mimetype_id,
)

KAI = "+447700900123"  # the Android phone's owner (the driver)
DANI = "+447700900456"  # the iPhone's owner (the recruiter)
VIKTOR = "+12025550147"  # "V", who pays
LENA = "+447700900789"  # a worker's sister
VIKTOR_JID = "12025550147@s.whatsapp.net"
KAI_JID = "447700900123@s.whatsapp.net"
DANI_JID = "447700900456@s.whatsapp.net"

#: Kai and Dani's SMS conversation: (UTC time, sent by Kai, text). On both phones.
SMS_THREAD = (
    ("2026-03-12T18:30:00", False, "Friday 05:30, car park behind Unit 4, Harbour Road. Six people."),
    ("2026-03-12T18:41:00", True, "OK. Van is fuelled. 2400 total?"),
    ("2026-03-12T18:43:00", False, "2400. Cash to me, not to V."),
    ("2026-03-12T18:44:00", True, "Understood."),
    ("2026-03-13T05:41:00", True, "Here. Where are they?"),
    ("2026-03-13T05:43:00", False, "Two minutes. Stay in the van."),
)
#: Kai and V on WhatsApp (Android): (UTC time, sent by Kai, text).
WHATSAPP_CHAT = (
    ("2026-03-10T19:02:00", False, "Six workers this week. You drive Friday."),
    ("2026-03-10T19:04:30", True, "Same price as last time?"),
    ("2026-03-10T19:05:10", False, "£400 a head. Cash when they are at the farm."),
    ("2026-03-10T19:06:00", True, "OK"),
)
#: Dani and V on iMessage (iPhone): (UTC time, sent by Dani, text).
IMESSAGE_CHAT = (
    ("2026-03-11T09:15:00", False, "Kai drives Friday. Have them ready at 5."),
    ("2026-03-11T09:17:20", True, "Six ready. I keep the passports until the debt is paid."),
    ("2026-03-11T09:18:05", False, "Good. Nobody talks to the farmer."),
)
#: Lena and Dani by SMS (iPhone).
LENA_CHAT = (
    ("2026-03-14T20:12:00", False, "Where is my sister? Her phone is off since Friday."),
    ("2026-03-14T20:30:00", True, "She is working. She will call on Sunday."),
)

COCOA_EPOCH = 978307200  # 2001-01-01T00:00:00Z in Unix seconds


def unix_ms(utc: str) -> int:
    """``2026-03-12T18:30:00`` (UTC) in Unix milliseconds."""
    return int(datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp() * 1000)


def cocoa_ns(utc: str) -> int:
    """The same instant in nanoseconds since 2001-01-01 UTC (sms.db from iOS 11)."""
    return (unix_ms(utc) // 1000 - COCOA_EPOCH) * 1_000_000_000


def cocoa_s(utc: str) -> int:
    """Seconds since 2001-01-01 UTC (the address book's CreationDate)."""
    return unix_ms(utc) // 1000 - COCOA_EPOCH


def database(path: Path, schema: str) -> sqlite3.Connection:
    """A new database at ``path`` (folders made) created from ``schema``; the caller commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(schema)
    return con


def insert(con: sqlite3.Connection, table: str, **columns: object) -> int:
    """One row by column name; its rowid."""
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    cursor = con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(columns.values()))
    return cursor.lastrowid or 0


def close(con: sqlite3.Connection) -> None:
    con.commit()
    con.close()


# --- Kai's Android phone ----------------------------------------------------------------------------


def android_sms(root: Path) -> None:
    """mmssms.db: one thread with Dani, whose number Kai's phone stores the national way."""
    con = database(
        root / "data/user_de/0/com.android.providers.telephony/databases/mmssms.db", SMS_V69 + MMS_V69
    )
    insert(con, "canonical_addresses", _id=1, address="07700900456")
    last, _, last_text = SMS_THREAD[-1]
    insert(
        con,
        "threads",
        _id=1,
        date=unix_ms(last),
        message_count=len(SMS_THREAD),
        recipient_ids="1",
        snippet=last_text,
        read=1,
    )
    for rowid, (utc, from_kai, text) in enumerate(SMS_THREAD, start=1):
        sent = unix_ms(utc)
        insert(
            con,
            "sms",
            _id=rowid,
            thread_id=1,
            address="07700900456",
            date=sent if from_kai else sent + 2000,  # a received SMS: stored 2 s after the network sent it
            date_sent=0 if from_kai else sent,
            protocol=None if from_kai else 0,
            read=1,
            status=-1,
            type=2 if from_kai else 1,  # 2 sent, 1 inbox
            reply_path_present=None if from_kai else 0,
            body=text,
            service_center=None if from_kai else "+447700900000",
            sub_id=1,
            error_code=0 if from_kai else -1,
            creator="com.google.android.apps.messaging",
            seen=1,
        )
    close(con)


def android_calls(root: Path) -> None:
    """calllog.db: Kai calls Dani on Friday morning; a missed call from V later."""
    con = database(root / "data/user_de/0/com.android.providers.contacts/databases/calllog.db", CALLS_V12)
    calls = (
        ("2026-03-13T05:22:00", "07700900456", 2, 38, "Dani", DANI),  # outgoing, 38 s
        ("2026-03-13T07:55:00", "+12025550147", 3, 0, "V", VIKTOR),  # missed
    )
    for rowid, (utc, number, kind, seconds, name, e164) in enumerate(calls, start=1):
        insert(
            con,
            "calls",
            _id=rowid,
            number=number,
            presentation=1,
            date=unix_ms(utc),
            duration=seconds,
            type=kind,
            subscription_component_name="com.android.phone/com.android.services.telephony.TelephonyConnectionService",
            subscription_id="89440000000000000123",
            phone_account_address=KAI,
            sub_id=1,
            new=0,
            name=name,
            numbertype=2,
            countryiso="GB",
            is_read=1,
            normalized_number=e164,
            last_modified=unix_ms(utc) + seconds * 1000,
        )
    close(con)


def android_contacts(root: Path) -> None:
    """contacts2.db: Dani and V in the phone's local account, as Kai typed their numbers."""
    con = database(root / "data/data/com.android.providers.contacts/databases/contacts2.db", CONTACTS_V1603)
    for rowid, mimetype in enumerate(MIMETYPES, start=1):
        insert(con, "mimetypes", _id=rowid, mimetype=mimetype)
    insert(con, "accounts", _id=1)  # the phone's local account: no name, no type
    people = (
        (1, "Dani", "07700 900456", DANI, "2026-02-20T14:00:00"),
        (2, "V", "+1 202-555-0147", VIKTOR, "2026-01-05T10:30:00"),
    )
    data_id = 0
    for rowid, name, number, e164, added in people:
        insert(
            con,
            "contacts",
            _id=rowid,
            name_raw_contact_id=rowid,
            has_phone_number=1,
            contact_last_updated_timestamp=unix_ms(added),
        )
        insert(
            con,
            "raw_contacts",
            _id=rowid,
            account_id=1,
            contact_id=rowid,
            display_name=name,
            display_name_alt=name,
            display_name_source=40,
            sort_key=name,
        )
        data_id += 1
        insert(
            con,
            "data",
            _id=data_id,
            mimetype_id=mimetype_id("vnd.android.cursor.item/name"),
            raw_contact_id=rowid,
            data1=name,
            data2=name,
        )
        data_id += 1
        insert(
            con,
            "data",
            _id=data_id,
            mimetype_id=mimetype_id("vnd.android.cursor.item/phone_v2"),
            raw_contact_id=rowid,
            data1=number,
            data2="2",
            data4=e164,
        )  # data2 2: mobile
    close(con)


def android_whatsapp(root: Path) -> None:
    """msgstore.db (2021 layout) with the chat with V, wa.db with V and Dani, and the app's
    preferences with Kai's own account (the SharedPreferences keys the app writes)."""
    databases = root / "data/data/com.whatsapp/databases"
    prefs = root / "data/data/com.whatsapp/shared_prefs/com.whatsapp_preferences_light.xml"
    prefs.parent.mkdir(parents=True)
    prefs.write_text(
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
        f'    <string name="registration_jid">{KAI_JID}</string>\n'
        '    <string name="cc">44</string>\n    <string name="ph">7700900123</string>\n'
        '    <string name="push_name">Kai</string>\n</map>\n',
        encoding="utf-8",
    )
    con = database(databases / "msgstore.db", WHATSAPP_MSGSTORE + WHATSAPP_MEDIA)
    insert(
        con,
        "jid",
        _id=1,
        user=VIKTOR_JID.split("@")[0],
        server="s.whatsapp.net",
        agent=0,
        device=0,
        type=0,
        raw_string=VIKTOR_JID,
    )
    last = len(WHATSAPP_CHAT)
    insert(
        con,
        "chat",
        _id=1,
        jid_row_id=1,
        hidden=0,
        created_timestamp=unix_ms(WHATSAPP_CHAT[0][0]),
        display_message_row_id=last,
        last_message_row_id=last,
        archived=0,
        sort_timestamp=unix_ms(WHATSAPP_CHAT[-1][0]),
    )
    for rowid, (utc, from_kai, text) in enumerate(WHATSAPP_CHAT, start=1):
        sent = unix_ms(utc)
        insert(
            con,
            "message",
            _id=rowid,
            chat_row_id=1,
            from_me=int(from_kai),
            key_id=f"3EB0C4D1A2B3C4D5E6F7{rowid:02d}",
            sender_jid_row_id=0,
            status=13 if from_kai else 0,
            broadcast=0,
            recipient_count=0,
            origin=0,
            timestamp=sent,
            received_timestamp=0 if from_kai else sent + 900,
            receipt_server_timestamp=sent + 700 if from_kai else 0,
            message_type=0,
            text_data=text,
            starred=0,
            lookup_tables=0,
            sort_id=rowid,
        )
    close(con)
    con = database(databases / "wa.db", WHATSAPP_WA_CONTACTS)
    for rowid, jid, number, name in (
        (1, VIKTOR_JID, "+1 202-555-0147", "V"),
        (2, DANI_JID, "07700 900456", "Dani"),
    ):
        insert(
            con,
            "wa_contacts",
            _id=rowid,
            jid=jid,
            is_whatsapp_user=1,
            number=number,
            raw_contact_id=rowid,
            display_name=name,
            phone_type=2,
            given_name=name,
            sort_name=name,
        )
    close(con)


# --- Dani's iPhone ----------------------------------------------------------------------------------


def iphone_messages(root: Path) -> None:
    """sms.db: the SMS conversation with Kai, iMessage with V, SMS with Lena."""
    con = database(root / "private/var/mobile/Library/SMS/sms.db", IMESSAGE_MODERN)
    chats = (
        (KAI, "SMS", SMS_THREAD, lambda from_kai: not from_kai),
        (VIKTOR, "iMessage", IMESSAGE_CHAT, lambda from_dani: from_dani),
        (LENA, "SMS", LENA_CHAT, lambda from_dani: from_dani),
    )
    message_id = 0
    for chat_id, (number, service, rows, dani_sent) in enumerate(chats, start=1):
        insert(
            con,
            "handle",
            ROWID=chat_id,
            id=number,
            country="gb",
            service=service,
            uncanonicalized_id=None,
            person_centric_id=None,
        )
        insert(
            con,
            "chat",
            ROWID=chat_id,
            guid=f"{service};-;{number}",
            style=45,
            state=3,
            account_id=f"A1B2C3D4-0000-4000-8000-{chat_id:012d}",
            chat_identifier=number,
            service_name=service,
            account_login=f"P:{DANI}",
            last_addressed_handle=DANI,
        )
        insert(con, "chat_handle_join", chat_id=chat_id, handle_id=chat_id)
        for utc, flag, text in rows:
            message_id += 1
            from_dani = dani_sent(flag)
            date = cocoa_ns(utc)
            insert(
                con,
                "message",
                ROWID=message_id,
                guid=f"5F0C1E2D-3B4A-4C5D-8E6F-{message_id:012d}",
                text=text,
                handle_id=chat_id,
                service=service,
                account=f"P:{DANI}",
                account_guid=f"A1B2C3D4-0000-4000-8000-{chat_id:012d}",
                date=date,
                date_read=0 if from_dani else date + 60_000_000_000,
                date_delivered=0,
                is_delivered=1,
                is_finished=1,
                is_from_me=int(from_dani),
                is_read=int(not from_dani),
                is_sent=int(from_dani),
                destination_caller_id=DANI,
                part_count=1,
            )
            insert(con, "chat_message_join", chat_id=chat_id, message_id=message_id, message_date=date)
    close(con)


def iphone_contacts(root: Path) -> None:
    """AddressBook.sqlitedb: Kai and Viktor, with Apple's built-in "mobile" label."""
    con = database(root / "private/var/mobile/Library/AddressBook/AddressBook.sqlitedb", ADDRESSBOOK)
    insert(con, "ABStore", ROWID=1, Name="Local", Type=0, Enabled=1)
    insert(con, "ABMultiValueLabel", rowid=1, value="_$!<Mobile>!$_")
    people = (
        (1, "Kai", None, "+44 7700 900123", "2026-02-20T13:55:00"),
        (2, "Viktor", None, "+1 (202) 555-0147", "2025-11-02T08:10:00"),
    )
    for rowid, first, last, number, added in people:
        insert(
            con,
            "ABPerson",
            ROWID=rowid,
            First=first,
            Last=last,
            Kind=0,
            CreationDate=cocoa_s(added),
            ModificationDate=cocoa_s(added),
            StoreID=1,
            FirstSort=first,
        )
        insert(
            con, "ABMultiValue", UID=rowid, record_id=rowid, property=3, identifier=0, label=1, value=number
        )
    close(con)


def build(out: Path) -> tuple[Path, Path]:
    """Write ``out/android`` and ``out/iphone``; their paths."""
    android, iphone = out / "android", out / "iphone"
    for folder in (android, iphone):
        if folder.exists():
            raise SystemExit(f"error: {folder} exists: give a new folder")
    android_sms(android)
    android_calls(android)
    android_contacts(android)
    android_whatsapp(android)
    iphone_messages(iphone)
    iphone_contacts(iphone)
    return android, iphone


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write android/ and iphone/ into")
    args = parser.parse_args(argv)
    for folder in build(args.out):
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        print(f"wrote {folder}: {len(files)} files, {sum(p.stat().st_size for p in files)} bytes")


if __name__ == "__main__":
    main()
