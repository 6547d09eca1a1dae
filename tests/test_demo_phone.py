"""The Quick start's phones: what ``./scripts/demo.sh`` prints about them, so the demo cannot rot.

The demo builds two phone extractions with ``scripts/make_phone_extraction.py`` (made-up rows in
the apps' real schemas, tests/plugins/app_schemas.py), acquires them as EX-002 (Android) and
EX-003 (iPhone), triages them and runs three views. This test does the same through the real
command line (in this process, as tests/plugins/triage_e2e.py does) in a new case, then runs the
``exhibit chats``, ``exhibit links`` and ``exhibit timeline`` lines *read from demo.sh itself*
and compares what they print with the story the builder writes: every message of the
conversation, the three numbers that link the phones and the forms each phone stored them in.
What differs from the demo's own run is masked: the finding ids (the demo's case also holds the
USB stick's findings) and the databases' SHA-256 (the SQLite library writes its version number
into each file).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.triage_e2e import exhibit

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "scripts" / "demo.sh"
EXAMINER = REPO / "docs" / "examiner.md"
BUILDER = REPO / "scripts" / "make_phone_extraction.py"

SMS = "/data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
CONVERSATION = [
    '== EX-002 | sms | conversation 1 "07700900456"',
    f"   source: EX-002 {SMS} sha256 <sha256> (sms_android@1.2.0)",
    "2026-03-12T18:30:02.000000Z  <-  07700900456 (+447700900456): Friday 05:30, car park behind Unit 4, Harbour Road. Six people.  [sms._id=1]",
    "2026-03-12T18:41:00.000000Z  ->  (owner): OK. Van is fuelled. 2400 total?  [sms._id=2]",
    "2026-03-12T18:43:02.000000Z  <-  07700900456 (+447700900456): 2400. Cash to me, not to V.  [sms._id=3]",
    "2026-03-12T18:44:00.000000Z  ->  (owner): Understood.  [sms._id=4]",
    "2026-03-13T05:41:00.000000Z  ->  (owner): Here. Where are they?  [sms._id=5]",
    "2026-03-13T05:43:02.000000Z  <-  07700900456 (+447700900456): Two minutes. Stay in the van.  [sms._id=6]",
    "",
    "6 messages in 1 conversation",
]
LINKS = [
    "phone    +12025550147  exhibits: EX-002, EX-003  apps: addressbook, contacts, imessage, phone, whatsapp  "
    "records: 11 (findings <ids>)  as stored: +1 (202) 555-0147, +1 202-555-0147, +12025550147, "
    "12025550147@s.whatsapp.net",
    "phone    +447700900123  exhibits: EX-002, EX-003  apps: addressbook, imessage, phone, whatsapp  "
    "records: 13 (findings <ids>)  as stored: +44 7700 900123, +447700900123, 447700900123@s.whatsapp.net",
    "phone    +447700900456  exhibits: EX-002, EX-003  apps: contacts, imessage, phone, sms, whatsapp  "
    "records: 20 (findings <ids>)  as stored: +447700900456, 07700 900456, 07700900456, "
    "447700900456@s.whatsapp.net",
    "3 linked identifiers",
]
CALLLOG = "/data/user_de/0/com.android.providers.contacts/databases/calllog.db"
IOS_SMS = "/private/var/mobile/Library/SMS/sms.db"
TIMELINE = [
    f"2026-03-13T05:22:00.000000Z         chat/android/phone/call timestamp    EX-002  Dani  [{CALLLOG} calls._id=1]",
    f"2026-03-13T05:41:00.000000Z         chat/android/sms timestamp           EX-002  Here. Where are they?  [{SMS} sms._id=5]",
    f"2026-03-13T05:41:00.000000Z         chat/ios/imessage/message timestamp  EX-003  Here. Where are they?  [{IOS_SMS} message.ROWID=5]",
    f"2026-03-13T05:42:00.000000Z         chat/ios/imessage/message read_time  EX-003  Here. Where are they?  [{IOS_SMS} message.ROWID=5]",
    f"2026-03-13T05:43:00.000000Z         chat/android/sms sent_time           EX-002  Two minutes. Stay in the van.  [{SMS} sms._id=6]",
    f"2026-03-13T05:43:00.000000Z         chat/ios/imessage/message timestamp  EX-003  Two minutes. Stay in the van.  [{IOS_SMS} message.ROWID=6]",
    f"2026-03-13T05:43:02.000000Z         chat/android/sms timestamp           EX-002  Two minutes. Stay in the van.  [{SMS} sms._id=6]",
]


def _demo_views() -> dict[str, list[str]]:
    """The ``exhibit chats|links|timeline`` lines of demo.sh, as argument lists, by command."""
    views: dict[str, list[str]] = {}
    for line in DEMO.read_text(encoding="utf-8").splitlines():
        if line.startswith(("exhibit chats ", "exhibit links ", "exhibit timeline ")):
            words = shlex.split(line)
            assert words[1] not in views, f"demo.sh runs exhibit {words[1]} twice"
            views[words[1]] = words[1:]
    return views


def _build(out: Path) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages, so the builder (and the schemas it imports) must be standard library only
    return subprocess.run(
        [sys.executable, "-S", str(BUILDER), str(out)], capture_output=True, text=True, timeout=120
    )


def _masked(text: str) -> list[str]:
    text = re.sub(r"sha256 [0-9a-f]{64}", "sha256 <sha256>", text)
    return re.sub(r"\(findings [\d, .]+\)", "(findings <ids>)", text).splitlines()


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's phones built, acquired as EX-002 and EX-003 and triaged in a new case."""
    work = tmp_path_factory.mktemp("demo-phone")
    built = _build(work / "phones")
    assert built.returncode == 0, built.stdout + built.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXHIBIT_CONFIG_DIR", str(work / "config"))
        mp.setenv("EXHIBIT_CASE", str(work / "case"))
        steps = [
            ("init", str(work / "case"), "--case-number", "2026/001", "--title", "Quick start"),
            ("actor", "add", "jdoe", "--name", "Jane Doe", "--role", "evidence-officer"),
            ("actor", "add", "asmith", "--name", "Alan Smith", "--role", "examiner"),
            (
                "acquire",
                str(work / "phones/android"),
                "--exhibit",
                "EX-002",
                "--description",
                "Android phone",
                "--actor",
                "jdoe",
            ),
            (
                "acquire",
                str(work / "phones/iphone"),
                "--exhibit",
                "EX-003",
                "--description",
                "iPhone",
                "--actor",
                "jdoe",
            ),
        ]
        for step in steps:
            ran = exhibit(*step)
            assert ran.code == 0, ran.out + ran.err
        for ex, findings in (("EX-002", 17), ("EX-003", 13)):
            ran = exhibit("triage", ex, "--actor", "asmith", "--workers", "1")
            summary = " ".join(ran.out.split())
            assert ran.code == 0 and f"{findings} new findings" in summary, ran.out + ran.err
            assert summary.endswith(", 0 warnings"), summary
    return work


def _run(case: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> str:
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(case / "config"))
    monkeypatch.setenv("EXHIBIT_CASE", str(case / "case"))
    monkeypatch.setenv("COLUMNS", "400")  # no wrapping: the lines as a wide terminal shows them
    ran = exhibit(*args)
    assert ran.code == 0 and "Traceback" not in ran.out + ran.err, ran.out + ran.err
    return ran.out


def test_the_demo_builds_acquires_and_triages_the_two_phones() -> None:
    text = DEMO.read_text(encoding="utf-8")
    assert 'scripts/make_phone_extraction.py "$DEMO/evidence/phones"' in text
    for folder, ex in (("android", "EX-002"), ("iphone", "EX-003")):
        assert re.search(rf'exhibit acquire "\$DEMO/evidence/phones/{folder}" --exhibit {ex} ', text), ex
        assert f"exhibit triage {ex} " in text, ex
    assert set(_demo_views()) == {"chats", "links", "timeline"}


def test_the_conversation_the_demo_prints(demo_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _masked(_run(demo_case, monkeypatch, _demo_views()["chats"])) == CONVERSATION


def test_the_links_the_demo_prints(demo_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each phone wrote the numbers its own way; in E.164 (--region GB) three link the two phones."""
    args = _demo_views()["links"]
    assert _masked(_run(demo_case, monkeypatch, args)) == LINKS
    found = [json.loads(line) for line in _run(demo_case, monkeypatch, [*args, "--json"]).splitlines()]
    seen = {(link["value"], s["exhibit"], s["app"]): s["records"] for link in found for s in link["seen"]}
    assert seen == {
        # V: WhatsApp chat, wa.db and contacts2.db contact, missed call; iMessage chat and address book
        ("+12025550147", "EX-002", "whatsapp"): 5,
        ("+12025550147", "EX-002", "contacts"): 1,
        ("+12025550147", "EX-002", "phone"): 1,
        ("+12025550147", "EX-003", "imessage"): 3,
        ("+12025550147", "EX-003", "addressbook"): 1,
        # Kai: the owner's line on his own call log, his WhatsApp account (the app's preferences)
        # on every WhatsApp message; Dani's SMS thread and address book
        ("+447700900123", "EX-002", "phone"): 2,
        ("+447700900123", "EX-002", "whatsapp"): 4,
        ("+447700900123", "EX-003", "imessage"): 6,
        ("+447700900123", "EX-003", "addressbook"): 1,
        # Dani: Kai's SMS thread, call, contacts, wa.db; the owner's account on every iPhone message
        ("+447700900456", "EX-002", "sms"): 6,
        ("+447700900456", "EX-002", "phone"): 1,
        ("+447700900456", "EX-002", "contacts"): 1,
        ("+447700900456", "EX-002", "whatsapp"): 1,
        ("+447700900456", "EX-003", "imessage"): 11,
    }
    # Lena wrote to the iPhone only, in one app: she links nothing
    assert all(link["value"] != "+447700900789" for link in found)
    # without the region, the numbers Kai's phone stored the national way are a number of their own
    plain = _masked(_run(demo_case, monkeypatch, [a for a in args if a not in ("--region", "GB")]))
    assert plain[0] == (
        "number   07700900456  exhibits: EX-002  apps: contacts, phone, sms, whatsapp  "
        "records: 9 (findings <ids>)  as stored: 07700 900456, 07700900456"
    )


def test_the_timeline_the_demo_prints(demo_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Friday morning on both phones: the call, then each SMS as both phones stored it."""
    assert _run(demo_case, monkeypatch, _demo_views()["timeline"]).splitlines() == TIMELINE


def test_the_calls_and_contacts_docs_examiner_shows(demo_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/examiner.md section 11 shows ``exhibit calls``/``contacts`` on the demo's case in a
    ```text block (not run by tests/test_docs_pages.py: it needs the repository's demo folder)."""
    page = EXAMINER.read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"^```text\n(.*?)^```$", page, re.M | re.S) if "demo/case" in b]
    commands = re.split(r"^\$ ", block, flags=re.M)[1:]
    assert commands[0] == "export EXHIBIT_CASE=$PWD/demo/case\n"
    assert len(commands) == 3
    for command in commands[1:]:
        line, _, shown = command.partition("\n")
        args = shlex.split(line)
        assert args[0] == "exhibit" and args[1] in ("calls", "contacts"), line
        assert _masked(_run(demo_case, monkeypatch, args[1:])) == _masked(shown.rstrip("\n")), line


def test_the_builder_never_overwrites(tmp_path: Path) -> None:
    assert _build(tmp_path).returncode == 0
    again = _build(tmp_path)
    assert again.returncode != 0 and "exists: give a new folder" in again.stderr
