"""Android provider databases for the SMS, MMS, call log and contacts tests, built from SQL text.

The corpus has real ``mmssms.db`` (SMS only) and ``contacts2.db`` (call log only) files; every
other case is built here from the schemas the Android Open Source Project publishes, copied as
the providers create them (column names, order and defaults), so a fixture is the database a
phone of that version would hold:

- ``mmssms.db``: ``MmsSmsDatabaseHelper`` of ``platform/packages/providers/TelephonyProvider``
  (database version 69: ``sub_id`` and ``creator`` columns, ``partMidIndex``/``addrMsgIdIndex``),
  and the Android 4.x layout (version 57: no ``sub_id``/``creator``), which is the schema of the
  corpus ``chats/mmssms.db``;
- ``calllog.db``: ``CallLogDatabaseHelper`` of ``platform/packages/providers/ContactsProvider``
  (version 12), and version 10 as in that project's test asset
  ``tests/assets/phoneAccountHandleMigration/calllog_oldversion.db``; the Android 4.x ``calls`` of
  ``contacts2.db`` is the corpus file's;
- ``contacts2.db``: ``ContactsDatabaseHelper`` (``accounts``, ``contacts``, ``raw_contacts``,
  ``mimetypes``, ``data``) as in the test asset ``tests/assets/phoneAccountHandleMigration/
  contacts2_oldversion.db`` (version 1603), and the Android 4.0 layout (version 625, before the
  ``accounts`` table: ``account_name``/``account_type`` on ``raw_contacts``).

Only facts are taken from those sources (names, types, values); the rows are made up here, except
where a test says it reproduces an AOSP test asset's rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, Plugin, Record
from triage.plugin.scratch import Scratch

TELEPHONY = "data/user_de/0/com.android.providers.telephony"
CONTACTS = "data/data/com.android.providers.contacts"
CALLLOG = "data/user_de/0/com.android.providers.contacts"

# --- mmssms.db ----------------------------------------------------------------------------------

SMS_V69 = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,
  date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,type INTEGER,
  reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,locked INTEGER DEFAULT 0,
  sub_id INTEGER DEFAULT -1, error_code INTEGER DEFAULT -1, creator TEXT,seen INTEGER DEFAULT 0);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT,sub_id INTEGER DEFAULT -1);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,message_count INTEGER DEFAULT 0,
  recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,read INTEGER DEFAULT 1,archived INTEGER DEFAULT 0,
  type INTEGER DEFAULT 0,error INTEGER DEFAULT 0,has_attachment INTEGER DEFAULT 0,sub_id INTEGER DEFAULT -1);
"""

MMS_V69 = """
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT,thread_id INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,
  msg_box INTEGER,read INTEGER DEFAULT 0,m_id TEXT,sub TEXT,sub_cs INTEGER,ct_t TEXT,ct_l TEXT,exp INTEGER,
  m_cls TEXT,m_type INTEGER,v INTEGER,m_size INTEGER,pri INTEGER,rr INTEGER,rpt_a INTEGER,resp_st INTEGER,
  st INTEGER,tr_id TEXT,retr_st INTEGER,retr_txt TEXT,retr_txt_cs INTEGER,read_status INTEGER,ct_cls INTEGER,
  resp_txt TEXT,d_tm INTEGER,d_rpt INTEGER,locked INTEGER DEFAULT 0,sub_id INTEGER DEFAULT -1, seen INTEGER DEFAULT 0,
  creator TEXT,text_only INTEGER DEFAULT 0);
CREATE TABLE addr (_id INTEGER PRIMARY KEY,msg_id INTEGER,contact_id INTEGER,address TEXT,type INTEGER,
  charset INTEGER,sub_id INTEGER DEFAULT -1);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT,mid INTEGER,seq INTEGER DEFAULT 0,ct TEXT,name TEXT,
  chset INTEGER,cd TEXT,fn TEXT,cid TEXT,cl TEXT,ctt_s INTEGER,ctt_t TEXT,_data TEXT,text TEXT,
  sub_id INTEGER DEFAULT -1);
CREATE INDEX IF NOT EXISTS partMidIndex ON part (mid);
CREATE INDEX IF NOT EXISTS addrMsgIdIndex ON addr (msg_id);
"""

# Android 4.x (database version 57), as in the corpus mmssms.db.
MMS_V57 = """
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT,thread_id INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,
  msg_box INTEGER,read INTEGER DEFAULT 0,m_id TEXT,sub TEXT,sub_cs INTEGER,ct_t TEXT,ct_l TEXT,exp INTEGER,
  m_cls TEXT,m_type INTEGER,v INTEGER,m_size INTEGER,pri INTEGER,rr INTEGER,rpt_a INTEGER,resp_st INTEGER,
  st INTEGER,tr_id TEXT,retr_st INTEGER,retr_txt TEXT,retr_txt_cs INTEGER,read_status INTEGER,ct_cls INTEGER,
  resp_txt TEXT,d_tm INTEGER,d_rpt INTEGER,locked INTEGER DEFAULT 0,seen INTEGER DEFAULT 0,text_only INTEGER DEFAULT 0);
CREATE TABLE addr (_id INTEGER PRIMARY KEY,msg_id INTEGER,contact_id INTEGER,address TEXT,type INTEGER,charset INTEGER);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT,mid INTEGER,seq INTEGER DEFAULT 0,ct TEXT,name TEXT,
  chset INTEGER,cd TEXT,fn TEXT,cid TEXT,cl TEXT,ctt_s INTEGER,ctt_t TEXT,_data TEXT,text TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,
  date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,type INTEGER,
  reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,locked INTEGER DEFAULT 0,
  error_code INTEGER DEFAULT 0,seen INTEGER DEFAULT 0);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,message_count INTEGER DEFAULT 0,
  recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,read INTEGER DEFAULT 1,type INTEGER DEFAULT 0,
  error INTEGER DEFAULT 0,has_attachment INTEGER DEFAULT 0);
"""

# --- calllog.db / contacts2.db calls -------------------------------------------------------------

CALLS_V12 = """
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,
  post_dial_digits TEXT NOT NULL DEFAULT '',via_number TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,
  data_usage INTEGER,type INTEGER,features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,
  subscription_id TEXT,phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,
  sub_id INTEGER DEFAULT -1,new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,
  voicemail_uri TEXT,is_read INTEGER,geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,
  normalized_number TEXT,photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,
  add_for_all_users INTEGER NOT NULL DEFAULT 1,last_modified INTEGER DEFAULT 0,call_screening_component_name TEXT,
  call_screening_app_name TEXT,block_reason INTEGER NOT NULL DEFAULT 0,missed_reason INTEGER NOT NULL DEFAULT 0,
  priority INTEGER NOT NULL DEFAULT 0,subject TEXT,location TEXT,composer_photo_uri TEXT,
  is_phone_account_migration_pending INTEGER NOT NULL DEFAULT 0,is_business_call INTEGER NOT NULL DEFAULT 0,
  asserted_display_name TEXT,_data TEXT,has_content INTEGER,mime_type TEXT,source_data TEXT,source_package TEXT,
  transcription TEXT,transcription_state INTEGER NOT NULL DEFAULT 0,state INTEGER,dirty INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,backed_up INTEGER NOT NULL DEFAULT 0,restored INTEGER NOT NULL DEFAULT 0,
  archived INTEGER NOT NULL DEFAULT 0,is_omtp_voicemail INTEGER NOT NULL DEFAULT 0);
CREATE TABLE voicemail_status (_id INTEGER PRIMARY KEY AUTOINCREMENT,source_package TEXT NOT NULL,
  phone_account_component_name TEXT,phone_account_id TEXT);
CREATE TABLE properties (property_key TEXT PRIMARY KEY, property_value TEXT);
"""

# Version 10, as the AOSP test asset calllog_oldversion.db (no is_business_call and later columns).
CALLS_V10 = """
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,
  post_dial_digits TEXT NOT NULL DEFAULT '',via_number TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,
  data_usage INTEGER,type INTEGER,features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,
  subscription_id TEXT,phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,
  sub_id INTEGER DEFAULT -1,new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,
  voicemail_uri TEXT,is_read INTEGER,geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,
  normalized_number TEXT,photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,
  add_for_all_users INTEGER NOT NULL DEFAULT 1,last_modified INTEGER DEFAULT 0,call_screening_component_name TEXT,
  call_screening_app_name TEXT,block_reason INTEGER NOT NULL DEFAULT 0,_data TEXT,has_content INTEGER,
  mime_type TEXT,source_data TEXT,source_package TEXT,transcription TEXT,
  transcription_state INTEGER NOT NULL DEFAULT 0,state INTEGER,dirty INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,backed_up INTEGER NOT NULL DEFAULT 0,restored INTEGER NOT NULL DEFAULT 0,
  archived INTEGER NOT NULL DEFAULT 0,is_omtp_voicemail INTEGER NOT NULL DEFAULT 0,
  missed_reason INTEGER NOT NULL DEFAULT 0, priority INTEGER NOT NULL DEFAULT 0, subject TEXT, location TEXT,
  composer_photo_uri TEXT);
"""

# --- contacts2.db ---------------------------------------------------------------------------------

CONTACTS_V1603 = """
CREATE TABLE accounts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_name TEXT, account_type TEXT, data_set TEXT,
  sim_slot_index INTEGER, sim_ef_type INTEGER, ungrouped_visible INTEGER NOT NULL DEFAULT 0,
  should_sync INTEGER NOT NULL DEFAULT 1,x_is_default INTEGER NOT NULL DEFAULT 0);
CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,name_raw_contact_id INTEGER REFERENCES raw_contacts(_id),
  photo_id INTEGER REFERENCES data(_id),photo_file_id INTEGER REFERENCES photo_files(_id),custom_ringtone TEXT,
  send_to_voicemail INTEGER NOT NULL DEFAULT 0,x_times_contacted INTEGER NOT NULL DEFAULT 0,
  x_last_time_contacted INTEGER,times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,
  starred INTEGER NOT NULL DEFAULT 0,pinned INTEGER NOT NULL DEFAULT 0,has_phone_number INTEGER NOT NULL DEFAULT 0,
  lookup TEXT,status_update_id INTEGER REFERENCES data(_id),contact_last_updated_timestamp INTEGER);
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_id INTEGER REFERENCES accounts(_id),
  sourceid TEXT,backup_id TEXT,raw_contact_is_read_only INTEGER NOT NULL DEFAULT 0,version INTEGER NOT NULL DEFAULT 1,
  dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,metadata_dirty INTEGER NOT NULL DEFAULT 0,
  contact_id INTEGER REFERENCES contacts(_id),aggregation_mode INTEGER NOT NULL DEFAULT 0,
  aggregation_needed INTEGER NOT NULL DEFAULT 1,custom_ringtone TEXT,send_to_voicemail INTEGER NOT NULL DEFAULT 0,
  x_times_contacted INTEGER NOT NULL DEFAULT 0,x_last_time_contacted INTEGER,
  times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,starred INTEGER NOT NULL DEFAULT 0,
  pinned INTEGER NOT NULL DEFAULT 0,display_name TEXT,display_name_alt TEXT,
  display_name_source INTEGER NOT NULL DEFAULT 0,phonetic_name TEXT,phonetic_name_style TEXT,
  sort_key TEXT,phonebook_label TEXT,phonebook_bucket INTEGER,sort_key_alt TEXT,phonebook_label_alt TEXT,
  phonebook_bucket_alt INTEGER,name_verified INTEGER NOT NULL DEFAULT 0,sync1 TEXT, sync2 TEXT, sync3 TEXT,
  sync4 TEXT );
CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT,mimetype TEXT NOT NULL);
CREATE UNIQUE INDEX mime_type ON mimetypes (mimetype);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT,package_id INTEGER REFERENCES package(_id),
  mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,raw_contact_id INTEGER REFERENCES raw_contacts(_id) NOT NULL,
  hash_id TEXT,is_read_only INTEGER NOT NULL DEFAULT 0,is_primary INTEGER NOT NULL DEFAULT 0,
  is_super_primary INTEGER NOT NULL DEFAULT 0,data_version INTEGER NOT NULL DEFAULT 0,data1 TEXT,data2 TEXT,
  data3 TEXT,data4 TEXT,data5 TEXT,data6 TEXT,data7 TEXT,data8 TEXT,data9 TEXT,data10 TEXT,data11 TEXT,
  data12 TEXT,data13 TEXT,data14 TEXT,data15 TEXT,data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT,
  data_sync4 TEXT, carrier_presence INTEGER NOT NULL DEFAULT 0, preferred_phone_account_component_name TEXT,
  preferred_phone_account_id TEXT );
CREATE INDEX data_raw_contact_id ON data (raw_contact_id);
"""

# Android 4.0 (database version 625): account columns on raw_contacts, no accounts table.
CONTACTS_V625 = """
CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,name_raw_contact_id INTEGER REFERENCES raw_contacts(_id),
  photo_id INTEGER REFERENCES data(_id),photo_file_id INTEGER REFERENCES photo_files(_id),custom_ringtone TEXT,
  send_to_voicemail INTEGER NOT NULL DEFAULT 0,times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,
  starred INTEGER NOT NULL DEFAULT 0,has_phone_number INTEGER NOT NULL DEFAULT 0,lookup TEXT,
  status_update_id INTEGER REFERENCES data(_id));
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_name STRING DEFAULT NULL,
  account_type STRING DEFAULT NULL, data_set STRING DEFAULT NULL, sourceid TEXT,
  raw_contact_is_read_only INTEGER NOT NULL DEFAULT 0,version INTEGER NOT NULL DEFAULT 1,
  dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,contact_id INTEGER REFERENCES contacts(_id),
  aggregation_mode INTEGER NOT NULL DEFAULT 0,aggregation_needed INTEGER NOT NULL DEFAULT 1,custom_ringtone TEXT,
  send_to_voicemail INTEGER NOT NULL DEFAULT 0,times_contacted INTEGER NOT NULL DEFAULT 0,
  last_time_contacted INTEGER,starred INTEGER NOT NULL DEFAULT 0,display_name TEXT,display_name_alt TEXT,
  display_name_source INTEGER NOT NULL DEFAULT 0,phonetic_name TEXT,phonetic_name_style TEXT,sort_key TEXT,
  sort_key_alt TEXT,name_verified INTEGER NOT NULL DEFAULT 0,sync1 TEXT, sync2 TEXT, sync3 TEXT, sync4 TEXT );
CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT,mimetype TEXT NOT NULL);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT,package_id INTEGER REFERENCES package(_id),
  mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,raw_contact_id INTEGER REFERENCES raw_contacts(_id) NOT NULL,
  is_primary INTEGER NOT NULL DEFAULT 0,is_super_primary INTEGER NOT NULL DEFAULT 0,
  data_version INTEGER NOT NULL DEFAULT 0,data1 TEXT,data2 TEXT,data3 TEXT,data4 TEXT,data5 TEXT,data6 TEXT,
  data7 TEXT,data8 TEXT,data9 TEXT,data10 TEXT,data11 TEXT,data12 TEXT,data13 TEXT,data14 TEXT,data15 TEXT,
  data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT );
"""

#: The mimetypes table of the AOSP test asset contacts2_oldversion.db, in its id order.
MIMETYPES = (
    "vnd.android.cursor.item/email_v2",
    "vnd.android.cursor.item/im",
    "vnd.android.cursor.item/nickname",
    "vnd.android.cursor.item/organization",
    "vnd.android.cursor.item/phone_v2",
    "vnd.android.cursor.item/sip_address",
    "vnd.android.cursor.item/name",
    "vnd.android.cursor.item/postal-address_v2",
    "vnd.android.cursor.item/identity",
    "vnd.android.cursor.item/photo",
    "vnd.android.cursor.item/group_membership",
    "vnd.android.cursor.item/note",
    "vnd.android.cursor.item/contact_event",
    "vnd.android.cursor.item/website",
    "vnd.android.cursor.item/relation",
    "vnd.com.google.cursor.item/contact_misc",
)


def mimetype_id(mimetype: str) -> int:
    return MIMETYPES.index(mimetype) + 1


# --- helpers --------------------------------------------------------------------------------------


def make_db(path: Path, sql: str, rows: dict[str, list[tuple[object, ...]]] | None = None) -> Path:
    """A database at ``path`` (folders made) from ``sql``, then ``rows`` inserted per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(sql)
        for table, values in (rows or {}).items():
            for value in values:
                marks = ", ".join("?" * len(value))
                con.execute(f"INSERT INTO {table} VALUES ({marks})", value)
        con.commit()
    finally:
        con.close()
    return path


def insert(path: Path, table: str, **columns: object) -> None:
    """One row into ``table`` of the database at ``path``, by column name."""
    con = sqlite3.connect(path)
    try:
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(columns.values()))
        con.commit()
    finally:
        con.close()


def run(
    plugins: list[Plugin], item: FileItem, tmp_path: Path, *, expect_match: bool = True
) -> tuple[list[Record], list[tuple[str, str | None, str]]]:
    """``match_plugins`` + ``run_plugins`` as the engine does; records and (plugin, locator, message)."""
    where = tmp_path / "scratch"
    where.mkdir(parents=True, exist_ok=True)
    with Scratch(where) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, plugins, ctx)
        if expect_match:
            assert [p.name for p in chosen] == [p.name for p in plugins]
        result = run_plugins(item, chosen, ctx)
        assert result.failed == []
    warnings = [(w.plugin, w.locator, w.message) for w in [*ctx.warnings, *result.warnings]]
    return result.records, warnings


def fingerprint(path: Path) -> tuple[str, int, int]:
    """SHA-256, modification time (ns) and size: what reading evidence must leave unchanged."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_size


def ro(path: Path) -> sqlite3.Connection:
    """A read-only, immutable connection (the oracle queries never touch the file)."""
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    con.row_factory = sqlite3.Row
    return con


def bad_copies(good: Path, where: Path) -> dict[str, Path]:
    """Broken copies of the database ``good``, each under its own folder with the same file name.

    ``encrypted``: random bytes (what a SQLCipher or file-based-encrypted copy looks like);
    ``zero-filled``: zeros, as a wiped or never-written extent; ``truncated``: the first half of
    the file (pages past the cut are gone); ``wal-only``: a ``-wal`` file whose database is absent.
    """
    import random

    data = good.read_bytes()
    made: dict[str, Path] = {}
    variants = {
        "encrypted": random.Random(8).randbytes(len(data)),
        "zero-filled": bytes(len(data)),
        "truncated": data[: len(data) // 2],
    }
    for kind, content in variants.items():
        path = where / kind / good.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        made[kind] = path
    wal = where / "wal-only" / (good.name + "-wal")
    wal.parent.mkdir(parents=True, exist_ok=True)
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(28))  # a WAL header's magic, nothing else
    made["wal-only"] = wal
    return made


def check_bad_copies(plugin: Plugin, good: Path, fs_dir: str, tmp_path: Path) -> dict[str, list[str]]:
    """Run ``plugin`` on each of :func:`bad_copies` as the engine would; nothing may fail.

    Returns the warnings' messages per kind, after checking that each names the plugin and the
    file, that an unreadable copy gives no record, and that the WAL alone is offered to no one.
    """
    out: dict[str, list[str]] = {}
    for kind, path in bad_copies(good, tmp_path / "bad").items():
        fs_path = f"{fs_dir}/{path.name}"
        item = FileItem.from_path(path, fs_path=fs_path)
        where = tmp_path / "scratch" / kind
        where.mkdir(parents=True, exist_ok=True)
        with Scratch(where) as scratch:
            ctx = ParseContext(scratch=scratch)
            chosen = match_plugins(item, [plugin], ctx)
            result = run_plugins(item, chosen, ctx)
        assert result.failed == [], kind
        warnings = [*ctx.warnings, *result.warnings]
        assert all(w.plugin == plugin.name and w.path == fs_path for w in warnings), (kind, warnings)
        out[kind] = [w.message for w in warnings]
        if kind == "wal-only":
            assert chosen == [] and warnings == [], kind
        elif kind in ("encrypted", "zero-filled"):
            assert result.records == [], kind
            assert any("database skipped by " + plugin.name in m for m in out[kind]), (kind, out[kind])
        else:
            assert out[kind], f"{kind}: read without a warning"
    return out
