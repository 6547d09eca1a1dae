"""The ``identifiers`` analyzer (plugins/indicator/identifiers.py) and ``exhibit links`` over its indicators.

No corpus file holds wallet addresses or IBANs, so the evidence is built here with ``sqlite3``:
an Android ``mmssms.db`` (the ``sms`` table's columns as in tests/triage/test_views.py, from
AOSP's TelephonyProvider) and a Chrome ``History`` (``urls`` and ``visits`` as in
tests/plugins/test_browser_chrome.py, from Chromium's history schema). The addresses and IBAN
are published test vectors (BIP-173's first segwit address, the SWIFT IBAN registry's German
example), each written in a different form in each exhibit.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from custody.actors import add_actor
from custody.case import init_case
from custody.items import acquire
from plugins.indicator.identifiers import IdentifiersAnalyzer, Indicator, find_identifiers
from plugins.indicator.text_identifiers import TextIdentifiersPlugin
from tests.plugins.triage_e2e import exhibit
from triage.plugin import AnalysisContext, SourceRef, StoredRecord
from triage.plugin.analyzer import analyzer_problems
from triage.plugin.options import OptionError, parse_options

SMS_DIR = "data/data/com.android.providers.telephony/databases"
CHROME_DIR = "data/data/com.android.chrome/app_chrome/Default"
SMS_SCHEMA = (
    "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER,"
    " type INTEGER, read INTEGER, seen INTEGER, status INTEGER, subject TEXT, body TEXT, service_center TEXT)"
)
CHROME_SCHEMA = """
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,
  visit_duration INTEGER DEFAULT 0 NOT NULL, incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL,
  opener_visit INTEGER, originator_cache_guid TEXT);
"""
BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173
IBAN = "DE89370400440532013000"  # SWIFT IBAN registry, Germany
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55

EX1_BODIES = [
    "send the money to BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4 today",  # upper case, as in QR codes
    "or by bank: iban de89 3704 0044 0532 0130 00, ref 77",  # print format, lower case
    "the shop is at hxxps://shop[.]example[.]com/pay; mail Boss@Example.ORG",
]
EX2_BODIES = [
    # decoys: a bech32 address with its last character changed, an IBAN with wrong check digits,
    # a Luhn-invalid card number, an EIP-55 address with one letter's case changed
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5 DE88370400440532013000 4111 1111 1111 1112"
    " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    f"wallet {ETH.lower()} card 4111-1111-1111-1111 write to boss@example.org",
]


def _sms(path: Path, bodies: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute(SMS_SCHEMA)
    con.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, date_sent, type, read, seen, status, body)"
        " VALUES (?, 1, '+442079460958', ?, 0, 1, 1, 1, -1, ?)",
        [(i + 1, 1700000000000 + i * 1000, b) for i, b in enumerate(bodies)],
    )
    con.commit()
    con.close()


def _chrome(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(CHROME_SCHEMA)
    con.execute(
        "INSERT INTO urls VALUES (1, ?, ?, 1, 1, 13300000000000000, 0)",
        (f"https://blockstream.info/address/{BTC}", f"Invoice 12: pay to {IBAN} or {ETH}"),
    )
    con.execute("INSERT INTO visits (id, url, visit_time, transition) VALUES (1, 1, 13300000000000000, 1)")
    con.commit()
    con.close()


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    one, two = tmp_path / "phone1", tmp_path / "phone2"
    _sms(one / SMS_DIR / "mmssms.db", EX1_BODIES)
    _sms(two / SMS_DIR / "mmssms.db", EX2_BODIES)
    _chrome(two / CHROME_DIR / "History")
    c = init_case(tmp_path / "case", case_number="2026/98", title="identifiers end to end")
    try:
        add_actor(c, "asmith", name="Alan Smith", role="examiner")
        acquire(c, one, exhibit="EX-001", actor="asmith", description="phone one")
        acquire(c, two, exhibit="EX-002", actor="asmith", description="phone two")
    finally:
        c.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")
    for ex in ("EX-001", "EX-002"):
        ran = exhibit("triage", ex, "--workers", "1")
        assert ran.code == 0, ran.out + ran.err
        assert "Traceback" not in ran.out + ran.err
    return tmp_path / "case"


def test_analyzer_honours_the_contract() -> None:
    assert analyzer_problems(IdentifiersAnalyzer) == []


def test_two_exhibits_are_linked_by_a_bitcoin_address_and_an_iban_in_different_forms(case: Path) -> None:
    links = {(x["kind"], x["value"]): x for x in exhibit("links", "--json").lines()}
    btc = links[("bitcoin", BTC)]
    assert btc["exhibits"] == ["EX-001", "EX-002"] and btc["apps"] == ["chrome", "sms"]
    assert set(btc["raw"]) == {BTC.upper(), BTC}
    iban = links[("iban", IBAN)]
    assert iban["exhibits"] == ["EX-001", "EX-002"] and iban["apps"] == ["chrome", "sms"]
    assert set(iban["raw"]) == {"de89 3704 0044 0532 0130 00", IBAN}
    eth = links[("ethereum", ETH)]  # lower case in EX-002's SMS, EIP-55 in its web history
    assert eth["exhibits"] == ["EX-002"] and eth["apps"] == ["chrome", "sms"]
    assert set(eth["raw"]) == {ETH, ETH.lower()}
    mail = links[("email", "boss@example.org")]
    assert mail["exhibits"] == ["EX-001", "EX-002"]
    # the decoys validate as nothing
    assert ("iban", "DE88370400440532013000") not in links
    assert not any(v.endswith("kv8f3t5") for _, v in links)


def test_indicator_records_carry_value_raw_context_and_provenance(case: Path) -> None:
    ran = exhibit("findings", "EX-001", "--kind", "indicator", "--json")
    assert ran.code == 0, ran.out + ran.err
    rows = json.loads(ran.out)  # one JSON array
    got = {(r["data"]["kind"], r["data"]["value"], r["data"]["raw"]) for r in rows}
    assert got == {
        ("bitcoin", BTC, BTC.upper()),
        ("iban", IBAN, "de89 3704 0044 0532 0130 00"),
        ("url", "https://shop.example.com/pay", "hxxps://shop[.]example[.]com/pay"),
        ("email", "boss@example.org", "Boss@Example.ORG"),
    }
    btc = next(r for r in rows if r["data"]["kind"] == "bitcoin")
    assert btc["data"]["source_type"] == "chat/android/sms" and btc["data"]["field"] == "body"
    assert btc["data"]["detail"] == "segwit-v0" and btc["data"]["context"] == EX1_BODIES[0]
    assert btc["source"]["path"] == f"/{SMS_DIR}/mmssms.db" and btc["data"]["source_locator"] == "sms._id=1"
    assert btc["locator"] == "sms._id=1#body@18" and btc["data"]["offset"] == 18


def _stored(record_type: str, data: dict[str, Any]) -> StoredRecord:
    return StoredRecord(
        record_type=record_type,
        data=data,
        source=SourceRef(item="EX-9", path="/db", sha256="0" * 64),
        locator="sms:1",
        plugin="sms_android",
    )


def test_analyze_one_record() -> None:
    ctx = AnalysisContext(exhibit="EX-9", run_id="r", analyzer="identifiers", options={"region": "US"})
    records = [
        _stored("chat/android/sms", {"body": f"call (202) 456-1111 or pay {BTC} / {BTC}"}),
        _stored("browser/chrome/visit", {"url": "https://example.org/", "title": "no identifiers"}),
    ]
    out = list(IdentifiersAnalyzer().analyze(records, ctx))
    assert all(isinstance(r, Indicator) for r in out)
    got = {(r.kind, r.value, r.raw, r.field) for r in out if isinstance(r, Indicator)}
    assert got == {("phone", "+12024561111", "(202) 456-1111", "body"), ("bitcoin", BTC, BTC, "body")}
    btc = next(r for r in out if isinstance(r, Indicator) and r.kind == "bitcoin")
    assert btc.source_type == "chat/android/sms" and btc.source_locator == "sms:1"
    assert btc.source_plugin == "sms_android" and btc.source.path == "/db"
    assert btc.detail == "segwit-v0" and btc.offset == 27 and btc.locator == "sms:1#body@27"
    assert btc.context == f"call (202) 456-1111 or pay {BTC} / {BTC[:37]}…"  # 40 characters either side
    assert ctx.warnings == []


def test_the_region_is_checked_before_the_run() -> None:
    """``--option identifiers.region=ZZ`` (or ``text_identifiers.region``) is refused before
    anything runs, as ``--region ZZ`` of the views is; a known one reaches the plugin upper-cased."""
    for plugin in (IdentifiersAnalyzer, TextIdentifiersPlugin):
        with pytest.raises(OptionError, match="is not a two-letter country code") as refused:
            parse_options([plugin], [f"{plugin.name}.region=ZZ"])
        assert refused.value.hint
        assert parse_options([plugin], [f"{plugin.name}.region= gb"]).of(plugin.name) == {"region": "GB"}


def test_find_identifiers_in_text() -> None:
    text = (
        "IBAN BE68 5390 0754 7034 from Bob; card 3782 822463 10005; visit hxxp://x[.]com. "
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    )
    got = [(f.kind, f.value, f.raw) for f in find_identifiers(text)]
    assert got == [
        ("iban", "BE68539007547034", "BE68 5390 0754 7034"),
        ("card", "378282246310005", "3782 822463 10005"),
        ("url", "http://x.com", "hxxp://x[.]com"),
        ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    ]


def test_odd_fields_are_skipped_and_a_giant_body_is_cut_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plugins.indicator import identifiers

    monkeypatch.setattr(identifiers, "MAX_TEXT", 100)
    ctx = AnalysisContext(exhibit="EX-9", run_id="r", analyzer="identifiers")
    records = [
        _stored("chat/x/y", {"body": 12345, "title": None, "url": ["not", "text"]}),
        _stored("chat/x/y", {"body": f"{BTC} " + "x" * 200 + f" {IBAN}"}),
    ]
    out = [r for r in IdentifiersAnalyzer().analyze(records, ctx) if isinstance(r, Indicator)]
    assert [(r.kind, r.value) for r in out] == [("bitcoin", BTC)]  # the IBAN is past the cut
    assert [w.message for w in ctx.warnings] == ["body of 266 characters: only the first 100 searched"]


def test_without_a_region_plus_less_text_skips_the_phone_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a region phonenumbers parses only numbers written with a plus sign, so text without
    one is not given to its (slow) matcher: the answer is the matcher's own, nothing."""
    import phonenumbers

    text = "call 0044 20 7946 0958, 07700 900123 or (202) 555-0147; fax 011 44 7700 900123"
    real = phonenumbers.PhoneNumberMatcher
    leniency = phonenumbers.Leniency.VALID
    assert list(real(text, None, leniency=leniency)) == []  # the oracle: nothing to find
    assert [m.raw_string for m in real(text, "GB", leniency=leniency)]  # numbers are there for a region
    calls: list[str | None] = []

    def counting(text: str, region: str | None, **kw: object) -> object:
        calls.append(region)
        return real(text, region, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", counting)
    assert [f for f in find_identifiers(text) if f.kind == "phone"] == []
    assert calls == []
    assert [f.value for f in find_identifiers(text, "GB") if f.kind == "phone"]
    assert calls == ["GB"]
    assert [f.value for f in find_identifiers("+44 20 7946 0958") if f.kind == "phone"] == ["+442079460958"]
    assert [f.value for f in find_identifiers("\uff0b44 20 7946 0958") if f.kind == "phone"] == [
        "+442079460958"
    ]
    assert calls == ["GB", None, None]


def test_what_only_looks_like_an_e_mail_address_is_not_one() -> None:
    """Review: picture names of web text (``logo@2x.png``), a one-letter top-level domain, and the
    user and password of a URL (``http://user:pass@host/``) were stored as e-mail addresses, and an
    address in a URL's query came with the query before it (``//x.example/?to=ann@...``)."""
    text = (
        "see logo@2x.png and icon@3x.webp, a@b.c, http://user:pass@host.example.com/x and "
        "http://bob@host.example.org/ but mail jane.roe@example.com, https://x.example/?to=ann@example.net, "
        "o'brien+tag@example.ie, mailto:max@example.de and the .zip TLD: user@files.zip"
    )
    found = [(i.kind, i.value) for i in find_identifiers(text)]
    assert [v for k, v in found if k == "email"] == [
        "jane.roe@example.com",
        "ann@example.net",
        "o'brien+tag@example.ie",
        "max@example.de",
        "user@files.zip",
    ]
    assert ("url", "http://user:pass@host.example.com/x") in found  # the URL itself is still one
