"""The redaction list of ``exhibit report --redact`` (triage/report/redact.py), on its own.

Parsing (every kind, comments, errors naming the line), matching (names in file-name spellings,
a number in every way people write it and only as a whole number, accounts as written; never
the digits inside a SHA-256), pseudonyms kept in a real case database (one person keeps their
pseudonym across reports, a new person gets the next one), pictures and the blur.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, select

from triage.report.env import environment
from triage.report.redact import RedactionError, Redactor, obscure, parse_file, parse_text
from triage.store.models import Pseudonym

LIST = """\
# victims of case 2026/017
region: GB
name: Alice Smith; name: Ali; number: 07700 900123; account: alice.s@example.com
name: Bo Jensen   # a comment after a value
blur: EX-002:/DCIM/Camera/IMG_0042.jpg
hide: sdcard/DCIM/IMG_0007.jpg # part of the name: picture lines keep ' #'
blur: 2026/EX-3:/DCIM/a.jpg
"""


def _redactor(tmp_path: Path, text: str = LIST) -> Redactor:
    engine = create_engine(f"sqlite:///{tmp_path / 'case.sqlite'}")
    try:
        return Redactor.for_case(engine, parse_text(text))
    finally:
        engine.dispose()


def test_parse_every_kind() -> None:
    parsed = parse_text(LIST)
    assert parsed.region == "GB"
    alice, bo = parsed.people
    assert alice.values == (
        ("name", "alice smith"),
        ("name", "ali"),
        ("number", "+447700900123"),
        ("account", "alice.s@example.com"),
    )
    assert alice.line == 3 and bo.values == (("name", "bo jensen"),)
    assert parsed.pictures == (
        ("EX-002", "/DCIM/Camera/IMG_0042.jpg", "blur"),
        (None, "/sdcard/DCIM/IMG_0007.jpg # part of the name: picture lines keep ' #'", "hide"),
        ("2026/EX-3", "/DCIM/a.jpg", "blur"),  # exhibit numbers may hold '/'
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name Alice\n", "line 1: expected 'kind: value'"),
        ("colour: red\n", "unknown kind 'colour'"),
        ("name: A; phone: 1\n", "'phone: 1' is not 'name|number|account: value'"),
        ("\nnumber: 12\n", "line 2: number '12' has fewer than 5 digits"),
        ("region: GBR\n", "region must be a two-letter country code"),
        ("name:\n", "expected 'kind: value'"),
    ],
)
def test_bad_lines_are_named(text: str, words: str) -> None:
    with pytest.raises(RedactionError) as caught:
        parse_text(text, where="victims.txt")
    assert "victims.txt" in str(caught.value) and words in str(caught.value)


def test_parse_file(tmp_path: Path) -> None:
    good = tmp_path / "list.txt"
    good.write_bytes(b"\xef\xbb\xbf" + LIST.encode())  # a BOM, as Windows editors write it
    parsed = parse_file(good)
    assert parsed.source_sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
    assert len(parsed.people) == 2
    latin = tmp_path / "latin.txt"
    latin.write_bytes("name: Zoë\n".encode("latin-1"))
    with pytest.raises(RedactionError, match="not UTF-8"):
        parse_file(latin)
    big = tmp_path / "big.txt"
    big.write_bytes(b"# x\n" * 300_000)
    with pytest.raises(RedactionError, match="larger than 1 MiB"):
        parse_file(big)
    with pytest.raises(RedactionError, match="cannot read"):
        parse_file(tmp_path / "absent.txt")


@pytest.mark.parametrize(
    "written",
    [
        "+44 7700 900123",
        "+44 (0)7700 900123",
        "0044 7700 900 123",
        "07700 900123",
        "07700-900-123",
        "(07700) 900.123",
        "7700900123",
        "447700900123@s.whatsapp.net",
        "+447700900123",
    ],
)
def test_a_number_in_any_formatting(tmp_path: Path, written: str) -> None:
    r = _redactor(tmp_path)
    out = r.text(f"call {written} now")
    digits = "".join(ch for ch in out if ch.isdigit())
    assert "7700900123" not in digits and "V1" in out, out


def test_only_whole_numbers_and_never_inside_a_hash(tmp_path: Path) -> None:
    r = _redactor(tmp_path)
    assert r.text("order 177009001234") == "order 177009001234"  # longer number: another one
    sha = "ab" * 10 + "447700900123" + "cd" * 20
    assert r.text(f"sha256 {sha}") == f"sha256 {sha}"
    assert r.text("id x447700900123y") == "id xV1y"  # glued to letters that are not a hash


def test_names_and_accounts(tmp_path: Path) -> None:
    r = _redactor(tmp_path)
    assert r.text("ALICE SMITH wrote to alice_smith.jpg and Alice-Smith") == "V1 wrote to V1.jpg and V1"
    assert r.text("Ali met Alison and Bo  Jensen") == "V1 met Alison and V2"  # whole words only
    assert r.text("mail Alice.S@Example.com, not xalice.s@example.com") == "mail V1, not xalice.s@example.com"
    assert r.text("") == "" and Redactor.none().text("Alice Smith") == "Alice Smith"


def test_pseudonyms_stay_with_the_case(tmp_path: Path) -> None:
    first = _redactor(tmp_path)
    assert (
        first.pseudonyms[("name", "alice smith")] == "V1" and first.pseudonyms[("name", "bo jensen")] == "V2"
    )
    # a later list: Bo first, a new person, and Alice known by her number only
    later = _redactor(tmp_path, "name: Bo Jensen\nname: Cy Rao\nnumber: +44 7700 900123; name: A. Smith\n")
    assert later.pseudonyms[("name", "bo jensen")] == "V2"
    assert later.pseudonyms[("name", "cy rao")] == "V3"
    assert later.pseudonyms[("name", "a. smith")] == "V1"  # same line as a known value: same person
    engine = create_engine(f"sqlite:///{tmp_path / 'case.sqlite'}")
    with engine.connect() as conn:
        rows = conn.execute(select(Pseudonym.c.value, Pseudonym.c.pseudonym)).all()
    engine.dispose()
    assert ("a. smith", "V1") in rows and len(rows) == 7


def test_pictures(tmp_path: Path) -> None:
    r = _redactor(tmp_path)
    assert r.picture("/DCIM/Camera/IMG_0042.jpg", "EX-002") == "blur"
    assert r.picture("/DCIM/Camera/IMG_0042.jpg", "EX-001") == "show"  # another exhibit's file
    assert r.picture("/DCIM/a.jpg", "2026/EX-3") == "blur"
    hidden = "/sdcard/DCIM/IMG_0007.jpg # part of the name: picture lines keep ' #'"
    assert r.picture(hidden, "EX-009") == "hide"
    (tmp_path / "other").mkdir()
    both = _redactor(tmp_path / "other", "blur: /p.jpg\nhide: /p.jpg\n")
    assert both.picture("/p.jpg") == "hide" and both.active and both.listed_count == 2


def test_obscure_leaves_no_detail() -> None:
    face = Image.new("RGB", (240, 160), "white")
    draw = ImageDraw.Draw(face)
    for x in range(0, 240, 4):  # fine stripes: detail a blur must remove
        draw.line([(x, 0), (x, 159)], fill="black")
    blurred = obscure(face)
    assert blurred.size == face.size
    column = [blurred.getpixel((x, 80)) for x in range(100, 140)]
    assert max(p[0] for p in column) - min(p[0] for p in column) < 16  # the stripes are gone


def test_every_printed_value_is_redacted_and_visible(tmp_path: Path) -> None:
    r = _redactor(tmp_path)
    env = environment(text=r.text)
    template = env.from_string(
        "{{ a }}|{{ names|join(', ') }}|{{ path }}|{% macro m(x) %}<i>{{ x }}</i>{% endmacro %}{{ m(b) }}"
    )
    out = template.render(
        a="<b>Alice Smith</b>", names=["Bo Jensen", "Cy"], path="gpj.\u202eexe\x07.jpg", b="07700 900123"
    )
    assert out == "&lt;b&gt;V1&lt;/b&gt;|V2, Cy|gpj.\\u202eexe\\x07.jpg|<i>V1</i>"


def test_what_the_review_found_left_in_clear(tmp_path: Path) -> None:
    """A review wrote a victim's name and number every way evidence holds them into a case and
    searched the reports for them. Each form it found in clear, now replaced: dashes other than
    the hyphen-minus (U+2010, en dash), full-width and Arabic-Indic digits, the name decomposed
    (``e`` and U+0308), without its accent, with no gap or a URL's ``%20``, percent-encoded."""
    r = _redactor(tmp_path, "region: GB\nname: Zoë Smith; name: Zoë; number: +44 7700 900123\n")
    for written in (
        "07700\u2013900\u2013123",
        "07700\u2010900\u2010123",
        "\uff10\uff17\uff17\uff10\uff10\uff19\uff10\uff10\uff11\uff12\uff13",
        "\u0660\u0667\u0667\u0660\u0660\u0669\u0660\u0660\u0661\u0662\u0663",
        "\uff0b44 7700 900123",
    ):
        assert r.text(f"call {written} now") == "call V1 now", written
    for written in (
        "Zoe\u0308 Smith",
        "Zoe Smith",
        "ZOE SMITH",
        "ZoeSmith",
        "zoe.smith",
        "Zo%C3%AB%20Smith",
    ):
        assert r.text(f"to {written}!") == "to V1!", written
    assert r.text("#ZoeSmith") == "#V1"
    assert r.text("statement_zoe-smith_07700900123.docx") == "statement_V1_V1.docx"
    # not her: another country's number with the same digits, another person, a longer number
    for other in ("+1 770-090-0123", "+1 (770) 090-0123", "+33 7700900123", "+44 7700 900124", "Chloë Smith"):
        assert r.text(f"see {other}") == f"see {other}", other


def test_a_list_that_would_leak_or_merge_people_is_refused(tmp_path: Path) -> None:
    """Review: a national number listed without 'region:' matched only its national form (the
    '+44 ...' form stayed in clear, under a new pseudonym); a value on two lines gave two
    people one pseudonym. Both refused, naming the line; a name typed decomposed is the same key."""
    with pytest.raises(RedactionError, match=r"line 1: number '07700 900123' cannot be read") as err:
        parse_text("number: 07700 900123\n")
    assert err.value.hint and "region: GB" in err.value.hint
    with pytest.raises(RedactionError, match=r"line 3: name 'mo' is also on line 2: one line is one person"):
        parse_text("region: GB\nname: Mo; number: 07700 900111\nname: Mo; number: 07700 900222\n")
    first = _redactor(tmp_path, "name: Zoë Smith\n")
    again = _redactor(tmp_path, "name: Zoe\u0308 Smith\n")
    assert first.pseudonyms == again.pseudonyms == {("name", "zoë smith"): "V1"}
