"""Issue 8, section 5, "one schema, four views": exhibit chats, calls, contacts, timeline and links.

Real pipelines, no mocks: two folder extractions are acquired into a case and triaged by the real
engine, and every command runs through the real ``exhibit`` command line (in this process):

* EX-001, a phone extraction holding the corpus's ``chats/mmssms.db``,
  ``chats/whatsapp_ios_ChatStorage.sqlite`` and ``chats/contacts2.db`` (copied, never written in
  the corpus) at the paths they have on the devices, and a corpus photo;
* EX-002, a second phone whose SMS and call-log databases are built here from SQL: it shares the
  WhatsApp partner's number and the call log's number with EX-001 (so ``links`` finds them) and
  holds hostile text (escape sequences, bidi overrides, Rich markup) in bodies and names.

No built-in plugin emits calls or contacts yet: the add-on in tests/triage/views_plugin.py reads
Android's call log and is installed as a third-party plugin would be, through an
``exhibit.plugins`` entry point (the registry's ``entry_points`` is patched for this module).

Expected values come from the databases themselves, read with ``sqlite3`` (immutable, read-only),
never from the views' own output.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as real_entry_points
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

import triage.plugin.registry as registry
from custody import cli
from custody.actors import add_actor
from custody.case import Case, init_case, open_case
from custody.items import acquire
from custody.safetext import escape
from tests.conftest import CORPUS, need
from tests.test_hostile_text import BODIES, ESC_CLEAR, RAW_FORBIDDEN, RLO
from triage.engine.run import TriageOptions, run_triage
from triage.views.conversations import app_of, schema
from triage.views.spool import sort_key

SMS_DIR = "data/data/com.android.providers.telephony/databases"
CONTACTS_DIR = "data/data/com.android.providers.contacts/databases"
WHATSAPP_DIR = "private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8"
PHOTO = "sdcard/DCIM/Camera/IMG_0001.jpg"

#: EX-002's shared identifiers: the WhatsApp partner of EX-001 and the number of EX-001's call log.
PARTNER_SMS = "+1 919-888-7386"  # 19198887386@s.whatsapp.net in EX-001
BARNEY_CALL = "(540) 456-1685"  # 5404561685 in EX-001's calls (needs --region US)
HOSTILE_ADDRESS = f"+1555[b]{RLO}"
HOSTILE_NAME = f"Barney [/] {ESC_CLEAR}{RLO}x"
HOSTILE_EMAIL_SMS = "Ops\x07Desk@Example.COM"  # an e-mail-to-SMS sender, with a BEL inside
HOSTILE_EMAIL_CALL = "ops\x07desk@example.com"  # the same address dialled as a VoIP call
T0 = 1767261600000  # 2026-01-01T10:00:00Z in Unix milliseconds

EX2_SMS = [  # _id, address, date, date_sent, type, body
    (1, PARTNER_SMS, T0, T0 - 2000, 1, "Saw your WhatsApp. Call me."),
    (2, PARTNER_SMS, T0 + 60_000, 0, 2, BODIES[0]),
    *((3 + i, HOSTILE_ADDRESS, T0 + 120_000 + i, 0, 1, body) for i, body in enumerate(BODIES[1:])),
    (10, HOSTILE_EMAIL_SMS, T0 + 300_000, T0 + 299_000, 1, "from the ops desk"),
]
EX2_CALLS = [  # _id, number, date, duration, type, name
    (1, BARNEY_CALL, T0 + 600_000, 30, 1, HOSTILE_NAME),
    (2, "+19198887386", T0 + 700_000, 0, 3, "DFIR Two"),
    (3, HOSTILE_EMAIL_CALL, T0 + 800_000, 12, 2, None),
]
CALLS_SCHEMA = (
    "CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,date INTEGER,duration INTEGER,"
    "type INTEGER,new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,voicemail_uri TEXT,"
    "is_read INTEGER,geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,normalized_number TEXT,"
    "photo_id INTEGER NOT NULL DEFAULT 0,formatted_number TEXT,_data TEXT,has_content INTEGER,mime_type TEXT,"
    "source_data TEXT,source_package TEXT,state INTEGER)"
)
SMS_SCHEMA = (
    "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER,"
    " type INTEGER, read INTEGER, seen INTEGER, status INTEGER, subject TEXT, body TEXT, service_center TEXT)"
)

TEST_PLUGIN = EntryPoint(
    name="calllog_test", value="tests.triage.views_plugin:CallLogPlugin", group=registry.ENTRY_POINT_GROUP
)


def install_test_plugin(mp: pytest.MonkeyPatch) -> None:
    """Make the call-log add-on an installed third-party plugin (an ``exhibit.plugins`` entry point)."""

    def entry_points(*, group: str) -> list[EntryPoint]:
        found = list(real_entry_points(group=group))
        return [*found, TEST_PLUGIN] if group == registry.ENTRY_POINT_GROUP else found

    mp.setattr(registry, "entry_points", entry_points)


# -- the evidence and the case ---------------------------------------------------------------------


def ro(path: Path) -> sqlite3.Connection:
    """The oracle: a database opened immutable (nothing is ever written, not even a -shm)."""
    con = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    con.row_factory = sqlite3.Row
    return con


def build_phone_a(root: Path) -> None:
    for folder, name, target in (
        (SMS_DIR, "mmssms.db", "mmssms.db"),
        (CONTACTS_DIR, "contacts2.db", "contacts2.db"),
        (WHATSAPP_DIR, "whatsapp_ios_ChatStorage.sqlite", "ChatStorage.sqlite"),
    ):
        (root / folder).mkdir(parents=True)
        shutil.copy(need(CORPUS / "chats" / name), root / folder / target)
    (root / PHOTO).parent.mkdir(parents=True)
    shutil.copy(need(CORPUS / "images" / "Canon_40D.jpg"), root / PHOTO)


def build_phone_b(root: Path) -> None:
    (root / SMS_DIR).mkdir(parents=True)
    con = sqlite3.connect(root / SMS_DIR / "mmssms.db")
    con.execute(SMS_SCHEMA)
    con.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, date_sent, type, read, seen, status, body)"
        " VALUES (?, ?, ?, ?, ?, ?, 1, 1, -1, ?)",
        [
            (i, 1 if a == PARTNER_SMS else 2 if a == HOSTILE_ADDRESS else 3, a, d, s, t, b)
            for i, a, d, s, t, b in EX2_SMS
        ],
    )
    con.commit()
    con.close()
    (root / CONTACTS_DIR).mkdir(parents=True)
    con = sqlite3.connect(root / CONTACTS_DIR / "contacts2.db")
    con.execute(CALLS_SCHEMA)
    con.executemany(
        "INSERT INTO calls (_id, number, date, duration, type, name) VALUES (?, ?, ?, ?, ?, ?)", EX2_CALLS
    )
    con.commit()
    con.close()


@dataclass
class Views:
    case: Case
    root: Path
    phone_a: Path
    phone_b: Path

    def db(self, exhibit: str, relative: str) -> sqlite3.Connection:
        return ro((self.phone_a if exhibit == "EX-001" else self.phone_b) / relative)


VIEW_PLUGINS = ["sms_android", "whatsapp_ios", "photos_exif", "calllog_test"]


@pytest.fixture(scope="module")
def views_case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Views]:
    need(CORPUS, "(the shared corpus sits beside the repository as ../shared/corpus)")
    root = tmp_path_factory.mktemp("views")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXHIBIT_CONFIG_DIR", str(root / "config"))
        install_test_plugin(mp)
        build_phone_a(root / "phone-a")
        build_phone_b(root / "phone-b")
        case = init_case(root / "case", case_number="2026/8", title="one schema, four views")
        try:
            add_actor(case, "asmith", name="Alan Smith", role="examiner")
            for exhibit, folder in (("EX-001", "phone-a"), ("EX-002", "phone-b")):
                acquire(case, root / folder, exhibit=exhibit, actor="asmith", description=folder)
                # the plugins these expectations were written for: the built-in call-log and contacts
                # plugins (which came later) would add their own records of the same rows
                summary = run_triage(
                    case, exhibit, actor="asmith", options=TriageOptions(workers=1, plugins=VIEW_PLUGINS)
                )
                assert summary.counts["errors"] == 0 and not summary.warnings, summary
            yield Views(case, root, root / "phone-a", root / "phone-b")
        finally:
            case.close()


@pytest.fixture
def views(views_case: Views, monkeypatch: pytest.MonkeyPatch) -> Views:
    """The case of the two phones, as the current case ($EXHIBIT_CASE) of the commands."""
    monkeypatch.setenv("EXHIBIT_CASE", str(views_case.root / "case"))
    return views_case


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict[str, Any]]:
        assert self.code == 0, self.err
        return [json.loads(line) for line in self.out.splitlines()]


def exhibit(*args: str) -> Ran:
    """Run ``exhibit ARGS`` in this process, as the ``exhibit`` script would (stdout as UTF-8 bytes)."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
    out.flush()
    return Ran(code, raw.getvalue().decode("utf-8"), err.getvalue())


def assert_literal(ran: Ran) -> str:
    both = ran.out + ran.err
    assert ran.code == 0, both
    assert "Traceback" not in both and "internal error" not in both, both
    for ch in RAW_FORBIDDEN:
        assert ch not in both, (ch, both)
    return both


# -- the oracle's conversions --------------------------------------------------------------------


def unix_ms(value: int) -> str | None:
    return (
        None
        if not value
        else (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
    )


def cocoa(value: float | int | None) -> str | None:
    if not value:
        return None
    micro = value * 1_000_000 if isinstance(value, int) else round(value * 1_000_000)
    return (datetime(2001, 1, 1, tzinfo=UTC) + timedelta(microseconds=micro)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )


def e164(raw: str | None, region: str | None = "US") -> str | None:
    if raw is None:
        return None
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(raw, region), phonenumbers.PhoneNumberFormat.E164
        )
    except phonenumbers.NumberParseException:
        return None


# -- schema ---------------------------------------------------------------------------------------


def test_the_schema_comes_from_the_registry(views: Views) -> None:
    known = schema()
    assert known.kinds["chat/android/sms"] == "message" and known.apps["chat/android/sms"] == "sms"
    assert known.apps["chat/ios/whatsapp/message"] == "whatsapp"  # app not set: third segment
    assert known.kinds["call/android/calllog"] == "call" and known.apps["call/android/calllog"] == "phone"
    assert (
        known.kinds["contact/android/calllog"] == "contact"
        and known.apps["contact/android/calllog"] == "calllog"
    )
    assert "browser/chrome/visit" not in known.kinds
    assert app_of(known.classes["call/android/calllog"]) == "phone"


# -- chats ----------------------------------------------------------------------------------------

CHAT_FIELDS = {
    "id", "exhibit", "record_type", "app", "account", "account_e164", "conversation", "conversation_title",
    "party", "party_e164", "sender", "sender_e164", "sender_field", "recipients", "recipients_e164",
    "direction", "timestamp", "time", "sent_timestamp", "body", "body_other", "location", "attachments", "status", "deleted", "recovered", "source",
    "locator", "plugin", "plugin_version",
}  # fmt: skip
SOURCE_FIELDS = {"item", "path", "partition", "inode", "stream", "sha256"}


def expected_sms(views: Views, exhibit: str) -> list[dict[str, Any]]:
    """The SMS of an exhibit as its database holds them, in the order of a thread view."""
    rows = views.db(exhibit, f"{SMS_DIR}/mmssms.db").execute(
        "SELECT * FROM sms ORDER BY thread_id, date, _id"
    )
    found = []
    for r in rows:
        incoming = r["type"] == 1
        found.append(
            {
                "conversation": str(r["thread_id"]),
                "timestamp": unix_ms(r["date"]),
                "body": r["body"],
                "direction": "incoming" if incoming else "outgoing",
                "sender": r["address"] if incoming else None,
                "party": r["address"],
                "locator": f"sms._id={r['_id']}",
            }
        )
    return found


def expected_whatsapp(views: Views) -> list[dict[str, Any]]:
    rows = views.db("EX-001", f"{WHATSAPP_DIR}/ChatStorage.sqlite").execute(
        "SELECT m.Z_PK, m.ZISFROMME, m.ZMESSAGEDATE, m.ZTEXT, s.ZCONTACTJID FROM ZWAMESSAGE m"
        " JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION"
    )
    found = [
        {
            "conversation": r["ZCONTACTJID"],
            "timestamp": cocoa(r["ZMESSAGEDATE"]),
            "body": r["ZTEXT"],
            "direction": "outgoing" if r["ZISFROMME"] else "incoming",
            "sender": None if r["ZISFROMME"] else r["ZCONTACTJID"],
            # whatsapp_ios 1.1: a group chat has no single other party
            "party": None if r["ZCONTACTJID"].endswith("@g.us") else r["ZCONTACTJID"],
            "locator": f"ZWAMESSAGE.Z_PK={r['Z_PK']}",
            "_order": (r["ZCONTACTJID"], r["ZMESSAGEDATE"], r["Z_PK"]),
        }
        for r in rows
    ]
    found.sort(key=lambda m: m.pop("_order"))
    return found


def test_chats_give_every_message_of_the_databases_in_thread_order(views: Views) -> None:
    messages = exhibit("chats", "--json", "--region", "US").lines()
    keys = ["conversation", "timestamp", "body", "direction", "sender", "party", "locator"]
    got = {
        (ex, app): [{k: m[k] for k in keys} for m in messages if (m["exhibit"], m["app"]) == (ex, app)]
        for ex, app in (("EX-001", "sms"), ("EX-001", "whatsapp"), ("EX-002", "sms"))
    }
    assert got[("EX-001", "sms")] == expected_sms(views, "EX-001")
    assert got[("EX-001", "whatsapp")] == expected_whatsapp(views)
    assert got[("EX-002", "sms")] == expected_sms(views, "EX-002")
    assert len(messages) == 9 + 32 + len(EX2_SMS)  # the corpus README: 9 SMS, 32 WhatsApp messages
    groups = [(m["exhibit"], m["app"], m["conversation"]) for m in messages]
    assert groups == sorted(groups)  # grouped: each conversation is one run of lines


def test_chats_json_has_the_common_fields_exactly(views: Views) -> None:
    messages = exhibit("chats", "EX-001", "--json", "--region", "US").lines()
    for m in messages:
        assert set(m) == CHAT_FIELDS, set(m) ^ CHAT_FIELDS
        assert set(m["source"]) == SOURCE_FIELDS
    sms_db = views.phone_a / SMS_DIR / "mmssms.db"
    [first] = [m for m in messages if m["locator"] == "sms._id=1"]
    row = ro(sms_db).execute("SELECT * FROM sms WHERE _id = 1").fetchone()
    assert first["record_type"] == "chat/android/sms" and first["plugin"] == "sms_android"
    assert first["timestamp"] == unix_ms(row["date"]) == "2013-10-29T16:56:28.038000Z"
    assert first["time"]["raw"] == row["date"] and first["time"]["encoding"] == "unix_ms"
    assert first["direction"] == "outgoing" and first["sender"] is None and first["sender_field"] is None
    assert first["source"] == {
        "item": "EX-001",
        "path": f"/{SMS_DIR}/mmssms.db",
        "partition": None,
        "inode": None,
        "stream": None,
        "sha256": hashlib.sha256((CORPUS / "chats" / "mmssms.db").read_bytes()).hexdigest(),
    }
    [received] = [m for m in messages if m["locator"] == "sms._id=3"]
    # sms_android 1.1 records the sender of a received SMS itself (its address)
    assert received["sender"] == received["party"] == "15555215554" and received["sender_field"] == "sender"
    assert received["sender_e164"] == received["party_e164"] == e164("15555215554") == "+15555215554"
    assert received["recipients"] == [] and received["recipients_e164"] == []
    wa = [m for m in messages if m["app"] == "whatsapp" and m["direction"] == "incoming"]
    assert {m["sender_e164"] for m in wa if m["conversation"].endswith("@s.whatsapp.net")} == {"+19198887386"}
    assert {m["sender_e164"] for m in wa if m["conversation"].endswith("@g.us")} == {
        None
    }  # a group is no phone
    assert {m["time"]["encoding"] for m in wa} == {"cocoa_s"}
    # without --region only international forms are normalised: the JID still is, the bare number not
    plain = exhibit("chats", "EX-001", "--json").lines()
    [again] = [m for m in plain if m["locator"] == "sms._id=3"]
    assert again["sender_e164"] is None and again["sender"] == "15555215554"
    assert {
        m["sender_e164"] for m in plain if (m["party"] or "").endswith("@s.whatsapp.net") and m["sender"]
    } == {"+19198887386"}


def test_chats_filter_by_exhibit_conversation_and_app(views: Views) -> None:
    jid = "19198887386@s.whatsapp.net"
    (count,) = (
        views.db("EX-001", f"{WHATSAPP_DIR}/ChatStorage.sqlite")
        .execute(
            "SELECT COUNT(*) FROM ZWAMESSAGE m JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION"
            " WHERE s.ZCONTACTJID = ?",
            (jid,),
        )
        .fetchone()
    )
    one = exhibit("chats", "--conversation", jid, "--json").lines()
    assert len(one) == count == 22 and {m["conversation"] for m in one} == {jid}
    sms = exhibit("chats", "--app", "sms", "--json").lines()
    assert {(m["exhibit"], m["app"]) for m in sms} == {("EX-001", "sms"), ("EX-002", "sms")}
    assert len(sms) == 9 + len(EX2_SMS)
    only_b = exhibit("chats", "EX-002", "--json").lines()
    assert {m["exhibit"] for m in only_b} == {"EX-002"} and len(only_b) == len(EX2_SMS)
    assert exhibit("chats", "--app", "telegram", "--json").lines() == []
    missing = exhibit("chats", "EX-404")
    assert missing.code == 2 and "no exhibit 'EX-404'" in missing.err
    bad_region = exhibit("chats", "--region", "XX")
    assert bad_region.code == 2 and "unknown region" in bad_region.err


def test_filters_that_name_nothing_are_refused(views: Views) -> None:
    """Found in review: a misspelt --app or --kind, or --from after --to, printed nothing (or "0
    messages") with exit 0, as if the case held no such thing. Each names what it takes instead;
    a kind the case holds none of yet (keyword hits before any search) is still a question."""
    for args, says, hint in (
        (("chats", "--app", "nosuchapp"), "no app named 'nosuchapp' has messages", "sms"),
        (("calls", "--app", "sms"), "no app named 'sms' has calls", "whatsapp"),
        (("contacts", "--app", "nosuchapp"), "no app named 'nosuchapp' has contacts", "whatsapp"),
        (
            ("findings", "EX-001", "--kind", "nosuchkind"),
            "no record type is or lies below 'nosuchkind'",
            "chat",
        ),
        (
            ("timeline", "--kind", "chat/nosuch"),
            "no record type is or lies below 'chat/nosuch'",
            "plugins list",
        ),
        (
            ("timeline", "--from", "2026-03-01T00:00Z", "--to", "2026-01-01T00:00Z"),
            "--from 2026-03-01T00:00Z is after --to 2026-01-01T00:00Z",
            "swap",
        ),
    ):
        done = exhibit(*args)
        said = " ".join(done.err.split())
        assert done.code == 2 and says in said and hint in said.split("hint:", 1)[1], (args, said)
    for kind in ("keyword", "hash/hit", "chat/android", "indicator/identifier"):
        assert exhibit("findings", "EX-001", "--kind", kind).code == 0, kind


def test_chats_read_like_a_thread(views: Views) -> None:
    shown = assert_literal(exhibit("chats", "EX-001", "--region", "US"))
    lines = shown.splitlines()
    headers = [line for line in lines if line.startswith("== ")]
    wa = ro(views.phone_a / WHATSAPP_DIR / "ChatStorage.sqlite")
    (sessions,) = wa.execute("SELECT COUNT(DISTINCT ZCHATSESSION) FROM ZWAMESSAGE").fetchone()
    (threads,) = (
        ro(views.phone_a / SMS_DIR / "mmssms.db")
        .execute("SELECT COUNT(DISTINCT thread_id) FROM sms")
        .fetchone()
    )
    assert len(headers) == sessions + threads
    # the title: the thread's participants (threads.recipient_ids -> canonical_addresses)
    assert headers[0] == '== EX-001 | sms | conversation 1 "1 555-521-5554"'
    sms_lines = lines[lines.index(headers[0]) + 2 : lines.index(headers[0]) + 11]
    assert lines[lines.index(headers[0]) + 1] == (
        f"   source: EX-001 /{SMS_DIR}/mmssms.db sha256 "
        f"{hashlib.sha256((CORPUS / 'chats' / 'mmssms.db').read_bytes()).hexdigest()} (sms_android@1.2.0)"
    )
    for line, expected in zip(sms_lines, expected_sms(views, "EX-001"), strict=True):
        arrow = "->" if expected["direction"] == "outgoing" else "<-"
        who = (
            "(owner)" if expected["sender"] is None else f"{expected['sender']} ({e164(expected['sender'])})"
        )
        assert line == f"{expected['timestamp']}  {arrow}  {who}: {expected['body']}  [{expected['locator']}]"
    assert lines[-1] == f"41 messages in {sessions + threads} conversations"


# -- calls and contacts --------------------------------------------------------------------------


def test_calls_give_every_call_of_the_call_logs(views: Views) -> None:
    calls = exhibit("calls", "--json", "--region", "US").lines()
    expected = []
    for ex in ("EX-001", "EX-002"):
        for r in views.db(ex, f"{CONTACTS_DIR}/contacts2.db").execute(
            "SELECT * FROM calls ORDER BY date, _id"
        ):
            expected.append(
                {
                    "exhibit": ex,
                    "app": "phone",
                    "party": r["number"],
                    "party_e164": e164(r["number"]) if "@" not in r["number"] else None,
                    "timestamp": unix_ms(r["date"]),
                    "duration": r["duration"],
                    "status": r["type"],
                    "direction": {1: "incoming", 2: "outgoing", 3: "incoming"}[r["type"]],
                    "locator": f"calls._id={r['_id']}",
                }
            )
    assert [{k: c[k] for k in expected[0]} for c in calls] == expected
    fields = {
        "id", "exhibit", "record_type", "app", "account", "account_e164", "party", "party_e164", "direction",
        "timestamp", "time", "duration", "video", "status", "deleted", "recovered", "source", "locator", "plugin", "plugin_version",
    }  # fmt: skip
    assert all(set(c) == fields and set(c["source"]) == SOURCE_FIELDS for c in calls)
    shown = assert_literal(exhibit("calls", "EX-001", "--region", "US"))
    assert "<-  5404561685 (+15404561685)  0 s  status 3 (missed)  [calls._id=714]" in shown
    assert shown.splitlines()[-1] == "3 calls"


def test_contacts_give_the_names_the_call_logs_cached(views: Views) -> None:
    contacts = exhibit("contacts", "--json", "--region", "US").lines()
    expected = set()
    for ex in ("EX-001", "EX-002"):
        for r in views.db(ex, f"{CONTACTS_DIR}/contacts2.db").execute(
            "SELECT DISTINCT name, number FROM calls WHERE name IS NOT NULL AND name != ''"
        ):
            expected.add((ex, r["name"], r["number"], e164(r["number"])))
    assert {(c["exhibit"], c["name"], c["phones"][0], c["phones_e164"][0]) for c in contacts} == expected
    assert {c["app"] for c in contacts} == {"calllog"}  # the record class leaves app empty
    fields = {
        "id", "exhibit", "record_type", "app", "account", "account_e164", "name", "phones", "phones_e164",
        "emails", "account_ids", "deleted", "recovered", "source", "locator", "plugin", "plugin_version",
    }  # fmt: skip
    assert all(set(c) == fields for c in contacts)


# -- hostile text ---------------------------------------------------------------------------------


def test_views_print_evidence_text_literally(views: Views) -> None:
    chats = assert_literal(exhibit("chats", "EX-002"))
    for body in BODIES:
        assert escape(body) in chats, body
    assert (
        "Meet [at pier 7] 22:00, bring [cash]" in chats
        and "[link=https://evil.example]click here[/link]" in chats
    )
    assert escape(HOSTILE_ADDRESS) + ": " + escape(BODIES[1]) in chats
    assert "Ops\\x07Desk@Example.COM: from the ops desk" in chats
    calls = assert_literal(exhibit("calls", "EX-002", "--region", "US"))
    assert "ops\\x07desk@example.com" in calls
    contacts = assert_literal(exhibit("contacts", "EX-002"))
    assert escape(HOSTILE_NAME) in contacts and "Barney [/] \\x1b[2J\\x1b[H\\u202ex" in contacts
    timeline = assert_literal(exhibit("timeline", "EX-002"))
    assert escape(BODIES[3]) in timeline and escape(HOSTILE_NAME) in timeline
    links = assert_literal(exhibit("links", "--region", "US"))
    assert "email    ops\\x07desk@example.com" in links
    # --json carries the real values
    bodies = {m["body"] for m in exhibit("chats", "EX-002", "--json").lines()}
    assert set(BODIES) <= bodies
    names = {c["name"] for c in exhibit("contacts", "EX-002", "--json").lines()}
    assert HOSTILE_NAME in names


def test_a_reader_that_goes_away_ends_the_output_quietly(views: Views) -> None:
    """``exhibit timeline | head -n 1``: the broken pipe is no error (the real script, in bash)."""
    done = subprocess.run(
        [
            "bash",
            "-c",
            f"{shlex.quote(sys.executable)} -m triage.launch timeline --json | head -n 1; exit ${{PIPESTATUS[0]}}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert json.loads(done.stdout)["time"]


# -- timeline -------------------------------------------------------------------------------------


def expected_events(views: Views) -> set[tuple[str, str, str, str]]:
    """(exhibit, time, kind, locator) of every dated row of the message and call databases."""
    found = set()
    for ex in ("EX-001", "EX-002"):
        for r in views.db(ex, f"{SMS_DIR}/mmssms.db").execute("SELECT _id, date, date_sent FROM sms"):
            for field, value in (("timestamp", r["date"]), ("sent_time", r["date_sent"])):
                if unix_ms(value):
                    found.add((ex, unix_ms(value), f"chat/android/sms {field}", f"sms._id={r['_id']}"))
        for r in views.db(ex, f"{CONTACTS_DIR}/contacts2.db").execute("SELECT _id, date FROM calls"):
            found.add((ex, unix_ms(r["date"]), "call/android/calllog timestamp", f"calls._id={r['_id']}"))
    wa = views.db("EX-001", f"{WHATSAPP_DIR}/ChatStorage.sqlite")
    for r in wa.execute("SELECT Z_PK, ZMESSAGEDATE, ZSENTDATE FROM ZWAMESSAGE"):
        for field, value in (("timestamp", r["ZMESSAGEDATE"]), ("sent_time", r["ZSENTDATE"])):
            if cocoa(value):
                kind = f"chat/ios/whatsapp/message {field}"
                found.add(("EX-001", cocoa(value), kind, f"ZWAMESSAGE.Z_PK={r['Z_PK']}"))
    return found


def test_timeline_has_one_event_per_stored_time_in_time_order(views: Views) -> None:
    events = exhibit("timeline", "--json").lines()
    ordered = [sort_key(e["time"]) for e in events]
    assert None not in ordered and ordered == sorted(ordered)  # type: ignore[type-var]
    dated = {
        (e["exhibit"], e["time"], e["kind"], e["locator"])
        for e in events
        if e["record_type"] != "media/photo/exif"
    }
    assert dated == expected_events(views)
    assert len(events) == len({(e["finding"], e["field"]) for e in events})  # one event per time value
    photo = [e for e in events if e["record_type"] == "media/photo/exif"]
    assert photo and all(e["time_local"] and not e["time"].endswith("Z") for e in photo)  # EXIF: no zone
    assert all(e["time_value"]["local"] == e["time"] for e in photo)
    sms = next(e for e in events if e["locator"] == "sms._id=1" and e["exhibit"] == "EX-001")
    assert sms["summary"] == "Yo Fred this is my new number." and sms["time_value"]["raw"] == 1383065788038
    fields = {
        "time", "time_local", "kind", "record_type", "field", "exhibit", "summary", "source", "locator",
        "finding", "plugin", "plugin_version", "time_value",
    }  # fmt: skip
    assert all(set(e) == fields for e in events)
    shown = assert_literal(exhibit("timeline"))
    assert len(shown.splitlines()) == len(events)
    assert "(local)" in shown and "chat/android/sms sent_time" in shown


def test_timeline_from_to_and_kind_filter_the_same_events(views: Views) -> None:
    events = exhibit("timeline", "--json").lines()
    utc = [e for e in events if not e["time_local"]]
    low, high = utc[5]["time"], utc[-5]["time"]  # bounds on event times: both are inclusive
    within = exhibit("timeline", "--from", low, "--to", high, "--json").lines()
    lo, hi = sort_key(low), sort_key(high)
    assert lo is not None and hi is not None
    assert within == [e for e in events if lo <= (sort_key(e["time"]) or "") <= hi]
    assert within[0]["time"] == low and within[-1]["time"] == high
    # an offset is honoured: 12:00+02:00 is 10:00Z, the first message of EX-002
    around = exhibit(
        "timeline", "EX-002", "--from", "2026-01-01T12:00:00+02:00", "--to", "2026-01-01T10:00:00Z", "--json"
    )
    assert [e["locator"] for e in around.lines()] == ["sms._id=1"]
    sms = exhibit("timeline", "--kind", "chat/android/sms", "--json").lines()
    assert sms == [e for e in events if e["record_type"] == "chat/android/sms"]
    two = exhibit("timeline", "--kind", "call", "--kind", "media", "--json").lines()
    assert {e["record_type"] for e in two} == {"call/android/calllog", "media/photo/exif"}
    bad = exhibit("timeline", "--from", "2026-01-01")
    assert bad.code == 2 and "no UTC offset" in bad.err and "--from" in bad.err


def test_timeline_files_adds_the_file_system_times(views: Views) -> None:
    with_files = exhibit("timeline", "EX-002", "--files", "--json").lines()
    files = [e for e in with_files if e["record_type"] == "file"]
    oracle = sqlite3.connect(f"file:{views.root / 'case' / 'case.sqlite'}?mode=ro", uri=True)
    expected = {
        (path, field, value)
        for path, *times in oracle.execute(
            "SELECT path, mtime, atime, ctime, crtime FROM triage_files WHERE exhibit = 'EX-002'"
        )
        for field, value in zip(("mtime", "atime", "ctime", "crtime"), times, strict=True)
        if value is not None
    }
    oracle.close()
    assert expected and {(e["source"]["path"], e["field"], e["time"]) for e in files} == expected
    assert all(e["kind"] == f"file {e['field']}" and not e["time_local"] for e in files)  # a folder: UTC
    ordered = [sort_key(e["time"]) for e in with_files]
    assert ordered == sorted(ordered)  # type: ignore[type-var]
    assert [e for e in with_files if e["record_type"] != "file"] == exhibit(
        "timeline", "EX-002", "--json"
    ).lines()


def test_fat_times_stay_local_on_the_timeline(
    workspace: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DFTT #5 (a FAT12 floppy made to test daylight saving): FAT stores wall-clock time of no zone."""
    image = workspace.get("dftt5-fat12").path
    case = init_case(tmp_path / "case", case_number="2026/9", title="fat times")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, image, exhibit="EX-1", actor="asmith", description="floppy")
        run_triage(case, "EX-1", actor="asmith", options=TriageOptions(workers=1))
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    events = exhibit("timeline", "--files", "--json").lines()
    oracle = sqlite3.connect(f"file:{tmp_path / 'case' / 'case.sqlite'}?mode=ro", uri=True)
    stored = {
        (path, field, value)
        for path, local, *times in oracle.execute(
            "SELECT path, times_local, mtime, atime, ctime, crtime FROM triage_files"
        )
        for field, value in zip(("mtime", "atime", "ctime", "crtime"), times, strict=True)
        if value is not None and local
    }
    oracle.close()
    assert stored and {(e["source"]["path"], e["field"], e["time"]) for e in events} == stored
    assert all(e["time_local"] and not e["time"].endswith("Z") for e in events)  # never converted
    shown = assert_literal(exhibit("timeline", "--files"))
    assert all(" (local)" in line for line in shown.splitlines())


# -- links ----------------------------------------------------------------------------------------


def test_links_find_the_numbers_two_phones_share(views: Views) -> None:
    links = {
        (link["kind"], link["value"]): link for link in exhibit("links", "--json", "--region", "US").lines()
    }
    assert set(links) == {
        ("phone", "+19198887386"),  # EX-001's WhatsApp partner, who texted and called EX-002
        ("phone", "+15404561685"),  # in both call logs
        ("email", "ops\x07desk@example.com"),  # in EX-002's SMS and call log
    }
    partner = links[("phone", "+19198887386")]
    assert partner["exhibits"] == ["EX-001", "EX-002"] and partner["apps"] == [
        "calllog",
        "phone",
        "sms",
        "whatsapp",
    ]
    # the oracle: every row naming the partner, in each database
    (wa,) = (
        views.db("EX-001", f"{WHATSAPP_DIR}/ChatStorage.sqlite")
        .execute(
            "SELECT COUNT(*) FROM ZWAMESSAGE m JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION"
            " WHERE s.ZCONTACTJID = '19198887386@s.whatsapp.net'"
        )
        .fetchone()
    )
    (sms,) = (
        views.db("EX-002", f"{SMS_DIR}/mmssms.db")
        .execute("SELECT COUNT(*) FROM sms WHERE address = ?", (PARTNER_SMS,))
        .fetchone()
    )
    calls = (
        views.db("EX-002", f"{CONTACTS_DIR}/contacts2.db")
        .execute("SELECT COUNT(*), COUNT(DISTINCT name) FROM calls WHERE number = '+19198887386'")
        .fetchone()
    )
    assert partner["records_total"] == wa + sms + calls[0] + calls[1] == len(partner["records"])
    assert {(s["exhibit"], s["app"], s["records"]) for s in partner["seen"]} == {
        ("EX-001", "whatsapp", wa),
        ("EX-002", "sms", sms),
        ("EX-002", "phone", calls[0]),
        ("EX-002", "calllog", calls[1]),
    }
    assert set(partner["raw"]) == {"19198887386@s.whatsapp.net", PARTNER_SMS, "+19198887386"}
    barney = links[("phone", "+15404561685")]
    (a_calls,) = (
        views.db("EX-001", f"{CONTACTS_DIR}/contacts2.db").execute("SELECT COUNT(*) FROM calls").fetchone()
    )
    assert barney["exhibits"] == ["EX-001", "EX-002"] and set(barney["raw"]) == {"5404561685", BARNEY_CALL}
    assert barney["records_total"] == a_calls + 1 + 1 + 1  # + EX-001's contact, EX-002's call and contact
    email = links[("email", "ops\x07desk@example.com")]
    assert email["exhibits"] == ["EX-002"] and email["apps"] == ["phone", "sms"]  # one exhibit, two apps
    # without a region, numbers without a country code are compared by their digits (kind "number")
    loose = {(link["kind"], link["value"]) for link in exhibit("links", "--json").lines()}
    assert ("phone", "+19198887386") in loose and ("number", "5404561685") in loose
    shown = assert_literal(exhibit("links", "--region", "US"))
    assert shown.splitlines()[-1] == "3 linked identifiers"


def test_links_cap_the_record_list_and_give_the_total(views: Views) -> None:
    from triage.views.links import Links

    with Links(views.case, region="US", record_cap=2) as found:
        partner = next(link for link in found if link["value"] == "+19198887386")
    assert len(partner["records"]) == 2 and partner["records_total"] > 2
    assert not list((views.root / "case" / "scratch").glob("view-*"))  # the scratch database is gone


def test_graphml_opens_in_networkx_with_the_right_nodes_and_edges(views: Views, tmp_path: Path) -> None:
    nx = pytest.importorskip("networkx")
    target = tmp_path / "links.graphml"
    ran = exhibit("links", "--region", "US", "--json", "--graphml", str(target))
    links = ran.lines()
    assert f"wrote {target}: 3 identifiers, 2 exhibits" in " ".join(ran.err.split())
    graph = nx.read_graphml(target)
    identifiers = {n: d for n, d in graph.nodes(data=True) if d["type"] == "identifier"}
    exhibits = {d["label"]: n for n, d in graph.nodes(data=True) if d["type"] == "exhibit"}
    assert set(exhibits) == {"EX-001", "EX-002"}
    assert {(d["kind"], d["value"]) for d in identifiers.values()} == {
        (link["kind"], link["value"].replace("\x07", "\\x07")) for link in links
    }  # the BEL XML cannot carry is written as its visible escape
    edges = {
        (
            identifiers[u]["value"] if u in identifiers else identifiers[v]["value"],
            graph.nodes[v if u in identifiers else u]["label"],
            d["app"],
            d["count"],
        )
        for u, v, d in graph.edges(data=True)
    }
    assert edges == {
        (link["value"].replace("\x07", "\\x07"), s["exhibit"], s["app"], s["records"])
        for link in links
        for s in link["seen"]
    }
    assert all(d["records"] == next(x["records_total"] for x in links if x["kind"] == d["kind"]
               and x["value"].replace("\x07", "\\x07") == d["value"]) for d in identifiers.values())  # fmt: skip
    again = exhibit("links", "--graphml", str(target))
    assert again.code == 2 and "already exists" in again.err and graph.number_of_nodes() == 5


# -- PostgreSQL -----------------------------------------------------------------------------------


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("id", "finding", "records")} for r in rows]


@pytest.mark.postgres
def test_the_views_read_a_postgresql_case_as_they_read_sqlite(
    views: Views, tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same two phones in a PostgreSQL case database: the same output, line for line (ids aside)."""
    commands = [
        ("chats", "--json", "--region", "US"),
        ("calls", "--json", "--region", "US"),
        ("contacts", "--json"),
        ("timeline", "--json"),  # not --files: a folder's host times change as it is read again
        ("timeline", "--json", "--kind", "chat/android", "--kind", "call"),
        ("links", "--json", "--region", "US"),
    ]
    on_sqlite = [exhibit(*command).lines() for command in commands]
    case = init_case(tmp_path / "pg", case_number="2026/8", title="postgres", db_url=pg_database)
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        for ex, folder in (("EX-001", views.phone_a), ("EX-002", views.phone_b)):
            acquire(case, folder, exhibit=ex, actor="asmith", description=folder.name)
            run_triage(case, ex, actor="asmith", options=TriageOptions(workers=1, plugins=VIEW_PLUGINS))
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "pg"))
    for command, expected in zip(commands, on_sqlite, strict=True):
        assert _without_ids(exhibit(*command).lines()) == _without_ids(expected), command


def test_attachments_and_recovered_messages_are_shown_under_their_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One finding row inserted straight into ``triage_findings``, shaped as ``record_to_dict``
    stores a record: attachments, and a message recovered from a freelist page (the engine run
    of a real recovery is in tests/plugins/test_recovered_rows.py)."""
    from sqlalchemy import insert

    from plugins.chat.sms_android import AndroidSms
    from triage.plugin.records import Attachment, SourceRef, record_to_dict
    from triage.plugin.timeconv import from_unix_ms
    from triage.store import ensure_schema
    from triage.store.models import Finding

    path = "/data/data/com.android.providers.telephony/databases/mmssms.db"
    record = AndroidSms(
        source=SourceRef(item="EX-1", path=path, sha256="ab" * 32),
        locator="sms._id=7@freelist:page=12,offset=300,area=cell",
        rowid=7,
        timestamp=from_unix_ms(T0),
        body=f"photo of the [boat] {RLO}",
        from_me=True,
        party="+31612345678",
        conversation="4",
        deleted=True,
        recovered="freelist",
        attachments=(
            Attachment(name="IMG_1.jpg", mime="image/jpeg", recorded_path="app_parts/PART_1.jpg"),
            Attachment(
                name="IMG_2.jpg", mime="image/jpeg", recorded_path="app_parts/PART_2.jpg",
                path="/data/data/com.android.providers.telephony/app_parts/PART_2.jpg", size=10, sha256="cd" * 32,
            ),
        ),
    )  # fmt: skip
    case = init_case(tmp_path / "case", case_number="2026/11", title="attachments")
    try:
        ensure_schema(case.engine)
        with case.engine.begin() as conn:
            conn.execute(
                insert(Finding),
                [_sms_row(record, "f" * 64, json.dumps(record_to_dict(record), sort_keys=True))],
            )
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    [message] = exhibit("chats", "--json").lines()
    assert (
        message["deleted"] is True and message["locator"] == "sms._id=7@freelist:page=12,offset=300,area=cell"
    )
    assert message["attachments"] == [a.as_dict() for a in record.attachments]
    lines = assert_literal(exhibit("chats")).splitlines()
    assert lines[2:6] == [
        "2026-01-01T10:00:00.000000Z  ->  (owner): photo of the [boat] \\u202e  [sms._id=7@freelist:page=12,offset=300,area=cell]",
        "    attachment: IMG_1.jpg [image/jpeg] recorded as app_parts/PART_1.jpg not found in the exhibit",
        "    attachment: IMG_2.jpg [image/jpeg] recorded as app_parts/PART_2.jpg found at "
        f"/data/data/com.android.providers.telephony/app_parts/PART_2.jpg sha256 {'cd' * 32}",
        "    deleted, recovered from the database's freelist space: sms._id=7@freelist:page=12,offset=300,area=cell",
    ]


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_chats_of_one_conversation_are_found_by_the_database_and_checked_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, store: str
) -> None:
    """``--conversation`` lets the database leave out the messages whose stored text cannot
    mention the id (a million-message case: 20 s -> a few), then checks the field exactly: ids
    with LIKE's wildcards, ids differing only in case (SQLite's LIKE ignores ASCII case) and ids
    stored escaped (an accented id, written with ``ensure_ascii``) are each found exactly."""
    from sqlalchemy import insert

    from plugins.chat.sms_android import AndroidSms
    from triage.plugin.records import SourceRef, record_to_dict
    from triage.plugin.timeconv import from_unix_ms
    from triage.store import ensure_schema
    from triage.store.models import Finding

    db_url = request.getfixturevalue("pg_database") if store == "postgresql" else None
    path = "/data/data/com.android.providers.telephony/databases/mmssms.db"
    ids = ["a_b%c", "A_B%C", "axbyc", "Zoë's chat", 'say "hi"', "a_b%c-and-more"]
    rows = []
    for n, conversation in enumerate(ids * 2):
        record = AndroidSms(
            source=SourceRef(item="EX-1", path=path, sha256="ab" * 32),
            locator=f"sms._id={n}",
            rowid=n,
            timestamp=from_unix_ms(T0 + n),
            body=f"message {n}",
            from_me=True,
            conversation=conversation,
        )
        ascii_only = n % 2 == 0  # half written with non-ASCII escaped, half as record_json does
        data = json.dumps(record_to_dict(record), sort_keys=True, ensure_ascii=ascii_only)
        rows.append(_sms_row(record, f"{n:064x}", data))
    case = init_case(tmp_path / "case", case_number="2026/11", title="conversations", db_url=db_url)
    try:
        ensure_schema(case.engine)
        with case.engine.begin() as conn:
            conn.execute(insert(Finding), rows)
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    for conversation in ids:
        shown = exhibit("chats", "--conversation", conversation, "--json").lines()
        assert {m["conversation"] for m in shown} == {conversation}, conversation
        assert len(shown) == 2, conversation
    # the database itself leaves out what cannot mention the id (wildcards taken literally); an
    # id that may be stored escaped leaves nothing out
    from triage.views.findings import stream_findings

    case = open_case(tmp_path / "case")
    try:
        given = {f.data["conversation"] for f in stream_findings(case.engine, mentioning="a_b%c")}
        everything = {f.data["conversation"] for f in stream_findings(case.engine, mentioning="Zoë's chat")}
    finally:
        case.close()
    assert {"a_b%c", "a_b%c-and-more"} <= given <= {"a_b%c", "A_B%C", "a_b%c-and-more"}
    assert everything == set(ids)


def _sms_row(record: Any, fingerprint: str, data: str) -> dict[str, Any]:
    """The ``triage_findings`` row of an SMS record of EX-1 written straight into the table."""
    return {
        "fingerprint": fingerprint,
        "exhibit": "EX-1",
        "record_type": record.record_type,
        "plugin": "sms_android",
        "plugin_version": "1.0.0",
        "path": record.source.path,
        "file_sha256": record.source.sha256,
        "locator": record.locator,
        "data": data,
        "run_id": "synthetic",
    }
