"""The ``identifiers_text`` plugin: identifiers in document text and small text files.

No corpus document or text file holds a phone number, wallet or IBAN (the forensics-samples
documents and the corpus Word files were checked: the plugin finds nothing in them, which
``test_corpus_documents_hold_no_identifier`` keeps true), so the evidence is built here: text
files in UTF-8, UTF-16 with and without a byte-order mark and Latin-1, a docx and an xlsx (the
OOXML part names and namespaces of ECMA-376), an OpenDocument text (ODF 1.2 ``content.xml``) and
a PDF whose page draws the text with a standard font (ISO 32000 content stream). The values are
published test vectors: BIP-173's segwit address, EIP-55's address, the SWIFT IBAN registry's
German and British examples, the Visa test card, and a UK drama number from Ofcom's range.
Every byte offset reported for a text file must point at the identifier's bytes in the file.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from plugins.indicator.text_identifiers import MAX_TEXT_FILE, TextIdentifier, TextIdentifiersPlugin
from tests.conftest import CORPUS, need
from tests.plugins import document_fixtures as fx
from tests.plugins.android_fixtures import run
from tests.plugins.triage_e2e import acquired_case, exhibit
from triage.plugin import FileItem, plugin_problems

BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55
IBAN_DE = "DE89370400440532013000"  # SWIFT IBAN registry, Germany
IBAN_GB = "GB82WEST12345698765432"  # SWIFT IBAN registry, United Kingdom
CARD = "4111111111111111"  # Visa test number
PHONE = "+442079460958"  # Ofcom's drama range, London
NOTE = (
    f"Café meeting notes — pay {BTC} or to IBAN GB82 WEST 1234 5698 7654 32.\n"
    "Call +44 20 7946 0958, mail ops@example.org, shop at hxxps://pay[.]example[.]com/x\n"
    f"eth {ETH} card 4111 1111 1111 1111 and again {BTC}\n"
)


def _parse(data: bytes, path: str, tmp_path: Path) -> tuple[list[TextIdentifier], list[tuple[str, str, str]]]:
    records, warnings = run([TextIdentifiersPlugin()], FileItem.from_bytes(data, path=path), tmp_path / "run")
    return [r for r in records if isinstance(r, TextIdentifier)], warnings


def test_plugin_honours_the_contract() -> None:
    assert plugin_problems(TextIdentifiersPlugin) == []


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16le", b"\xff\xfe"),
        ("utf-16be", b"\xfe\xff"),
        ("utf-16le", b""),
        ("latin-1", b""),
    ],
)
def test_text_file_identifiers_point_at_their_bytes(encoding: str, prefix: bytes, tmp_path: Path) -> None:
    text = NOTE.replace("—", "-") if encoding == "latin-1" else NOTE
    data = prefix + text.encode(encoding)
    found, warnings = _parse(data, "/sdcard/Documents/notes.txt", tmp_path)
    assert warnings == []
    values = {(r.kind, r.value) for r in found}
    assert values == {
        ("bitcoin", BTC),
        ("iban", IBAN_GB),
        ("phone", PHONE),
        ("email", "ops@example.org"),
        ("url", "https://pay.example.com/x"),
        ("ethereum", ETH),
        ("card", CARD),
    }
    assert len(found) == len(values)  # the address written twice is one record
    for r in found:
        # the reported byte offset holds the identifier as written, in the file's encoding
        raw = r.raw.encode(encoding)
        assert data[r.offset : r.offset + len(raw)] == raw, (r.kind, r.offset)
        assert r.locator == f"offset={r.offset}" and r.part == "" and r.source_type == "file/text"
        assert r.raw in r.context.replace("…", "")
    assert {r.encoding for r in found} == {encoding}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16le"])
def test_many_identifiers_are_placed_in_one_pass_over_the_text(
    encoding: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text file of 2,000 distinct URLs between non-ASCII words: every byte offset points at
    its URL, and the characters measured to place them all are at most the text's length (each
    offset taken from the last one: placing each from the start of the text measured ~2,000
    times as much, quadratic in the file's size)."""
    from triage.text import decode

    measured = 0
    size = decode.ByteOffsets._size

    def counting(self: decode.ByteOffsets, piece: str) -> int:
        nonlocal measured
        measured += len(piece)
        return size(self, piece)

    monkeypatch.setattr(decode.ByteOffsets, "_size", counting)
    text = "".join(f"Grüße {i} — see https://host{i}.example.org/page.\n" for i in range(2000))
    data = text.encode(encoding)
    found, warnings = _parse(data, "/home/u/links.txt", tmp_path)
    assert warnings == [] and len(found) == 2000
    for r in found:
        raw = r.raw.encode(encoding)
        assert data[r.offset : r.offset + len(raw)] == raw, (r.raw, r.offset)
    assert 0 < measured <= len(text), measured


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx() -> bytes:
    body = (
        b"<w:document " + W + b"><w:body>"
        b"<w:p><w:r><w:t>Invoice 12. Transfer to </w:t></w:r><w:r><w:t>DE89 3704 0044 0532 0130 00</w:t></w:r></w:p>"
        b"<w:p><w:r><w:t>Questions: +44 20 7946 0958</w:t></w:r></w:p></w:body></w:document>"
    )
    return _zip({"[Content_Types].xml": TYPES, "word/document.xml": body})


def _xlsx() -> bytes:
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>wallet</t></si><si><t>" + BTC.encode() + b"</t></si></sst>"
    )
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row></sheetData></worksheet>'
    )
    return _zip(
        {"[Content_Types].xml": TYPES, "xl/sharedStrings.xml": strings, "xl/worksheets/sheet1.xml": sheet}
    )


def _odt() -> bytes:
    content = (
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        b"<text:p>Write to ops@example.org about " + ETH.encode() + b"</text:p>"
        b"</office:text></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", b"<manifest/>", zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _pdf() -> bytes:
    stream = b"BT /F1 12 Tf 72 720 Td (Pay GB82 WEST 1234 5698 7654 32 by Friday) Tj ET"
    return fx.pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            fx.pdf_stream(stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ],
        trailer=b"/Root 1 0 R",
    )


def test_documents_give_the_part_and_character_offset(tmp_path: Path) -> None:
    cases = {
        "/d/invoice.docx": (
            _docx(),
            "file/ooxml",
            {("iban", IBAN_DE), ("phone", PHONE)},
            "word/document.xml",
        ),
        "/d/book.xlsx": (_xlsx(), "file/ooxml", {("bitcoin", BTC)}, "xl/sharedStrings.xml"),
        "/d/letter.odt": (
            _odt(),
            "file/odf",
            {("email", "ops@example.org"), ("ethereum", ETH)},
            "content.xml",
        ),
        "/d/bill.pdf": (_pdf(), "file/pdf", {("iban", IBAN_GB)}, "page=1"),
    }
    for path, (data, source_type, expected, part) in cases.items():
        found, warnings = _parse(data, path, tmp_path / path.rsplit("/", 1)[1])
        assert warnings == [], path
        assert {(r.kind, r.value) for r in found} == expected, path
        for r in found:
            assert r.part == part and r.source_type == source_type, (path, r)
            assert r.locator == f"{part}@char={r.offset}"
            assert r.encoding is None


def test_renamed_document_is_found_by_its_content(tmp_path: Path) -> None:
    found, _ = _parse(_pdf(), "/d/holiday.jpg.bak", tmp_path)
    assert {(r.kind, r.value) for r in found} == {("iban", IBAN_GB)}


def test_binary_and_oversized_files_are_not_text(tmp_path: Path) -> None:
    # random-looking bytes named .txt: not this plugin's format (no record, no warning)
    found, warnings = _parse(bytes(range(256)) * 64, "/d/blob.txt", tmp_path / "a")
    assert found == [] and warnings == []
    big = tmp_path / "huge.log"
    with big.open("wb") as fh:  # sparse, over the cap: left to keyword search, nothing read
        fh.write(f"call {PHONE}\n".encode())
        fh.truncate(MAX_TEXT_FILE + 1)
    records, warnings = run(
        [TextIdentifiersPlugin()], FileItem.from_path(big, fs_path="/var/log/huge.log"), tmp_path / "b"
    )
    assert records == [] and warnings == []


def test_random_bytes_without_a_zero_are_not_text(tmp_path: Path) -> None:
    # Random bytes hold a zero byte about once in 256: a small random file often has none, and was
    # read as Latin-1 "text" by every identifier search. About one byte in ten of random data is
    # a control character; such a file is binary even with an address in it.
    import random

    rng = random.Random(12)
    noise = bytes(rng.randrange(1, 256) for _ in range(3000))
    data = noise[:1500] + b" contact ops@example.org now " + noise[1500:]
    found, warnings = _parse(data, "/var/log/f000123.log", tmp_path / "a")
    assert found == [] and warnings == []
    # text with what logs and old files hold: terminal colours (ESC), backspaces, form feeds,
    # tabs, a DOS end-of-file mark and one stray control byte is still text
    log = (
        b"\x1b[32mINFO\x1b[0m\tcall +442079460958 now\r\n\x0c"
        + b"ok line\x08\n" * 60
        + b"\x01 contact ops@example.org\n\x1a"
    )
    found, warnings = _parse(log, "/var/log/app.log", tmp_path / "b")
    assert warnings == []
    assert {(r.kind, r.value) for r in found} == {("phone", PHONE), ("email", "ops@example.org")}
    # UTF-8 (ASCII) text is text whatever control characters it holds: a short DOS note ending
    # in ^Z, a note padded with ^Z, SOH-separated FIX fields, OSC-8 links ended by BEL
    for n, text in enumerate(
        (
            b"mail ops@example.org\x1a",
            b"call +442079460958 now\r\n" + b"\x1a" * 100,
            b"8=FIX.4.2\x0135=D\x0158=ops@example.org\x01" * 3,
            b"\x1b]8;;https://pay.example.com/x\x07pay\x1b]8;;\x07\n",
        )
    ):
        found, warnings = _parse(text, f"/var/log/t{n}.log", tmp_path / f"c{n}")
        assert warnings == [] and found, text
    # text that is not UTF-8 (Latin-1) with a control character or two is still text
    latin = ("Straße 12, Köln; write to ops@example.org\r\n" * 4 + "\x1a").encode("latin-1")
    found, warnings = _parse(latin, "/d/note.txt", tmp_path / "d")
    assert {(r.kind, r.value) for r in found} == {("email", "ops@example.org")}


def test_damaged_document_is_a_warning_naming_the_problem(tmp_path: Path) -> None:
    buf = io.BytesIO()  # a docx whose body inflates to 256 MiB
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", TYPES)
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(b"<w:document " + W + b"><w:body>")
            for _ in range(256):
                fh.write(b" " * (1 << 20))
    found, warnings = _parse(buf.getvalue(), "/d/bomb.docx", tmp_path)
    assert found == []
    assert warnings and all(w[0] == "identifiers_text" and "word/document.xml" in w[2] for w in warnings), (
        warnings
    )


def test_corpus_documents_hold_no_identifier(tmp_path: Path) -> None:
    for name in ("Document.docx",):
        path = need(CORPUS / "documents" / name, "(the shared corpus sits beside the repository)")
        records, warnings = run(
            [TextIdentifiersPlugin()], FileItem.from_path(path, fs_path=f"/d/{name}"), tmp_path / name
        )
        assert records == [] and warnings == [], name


def test_links_join_a_note_a_document_and_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notes file and a docx on a laptop (EX-001), an SMS on a phone (EX-002): the IBAN and the
    phone number link the two exhibits, across apps (text file, Word document, SMS)."""
    from tests.plugins.test_indicator_identifiers import SMS_DIR, _sms

    laptop, phone = tmp_path / "laptop", tmp_path / "phone"
    (laptop / "Users" / "x").mkdir(parents=True)
    (laptop / "Users" / "x" / "notes.txt").write_text(NOTE, encoding="utf-8")
    (laptop / "Users" / "x" / "invoice.docx").write_bytes(_docx())
    _sms(phone / SMS_DIR / "mmssms.db", ["the account is DE89370400440532013000, call +44 20 7946 0958"])
    before = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in laptop.rglob("*") if p.is_file()}
    acquired_case(tmp_path, monkeypatch, {"EX-001": laptop, "EX-002": phone}, title="identifiers")
    for ex in ("EX-001", "EX-002"):
        ran = exhibit("triage", ex, "--workers", "1")
        assert ran.code == 0 and "Traceback" not in ran.out + ran.err, ran.out + ran.err
    links = {(x["kind"], x["value"]): x for x in exhibit("links", "--json").lines()}
    iban = links[("iban", IBAN_DE)]
    assert iban["exhibits"] == ["EX-001", "EX-002"] and iban["apps"] == ["ooxml", "sms"]
    phone_link = links[("phone", PHONE)]
    assert phone_link["exhibits"] == ["EX-001", "EX-002"]
    assert {"ooxml", "text"} <= set(phone_link["apps"])
    assert before == {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in laptop.rglob("*") if p.is_file()}


def test_xml_namespaces_are_not_urls(tmp_path: Path) -> None:
    """An XML namespace names a schema, not a place: only the link in the text is a URL."""
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b"<text>order at https://shop.example.net/item/7</text></svg>"
    )
    found, warnings = _parse(svg, "/sdcard/Download/flyer.xml", tmp_path)
    assert warnings == []
    assert [(r.kind, r.value) for r in found] == [("url", "https://shop.example.net/item/7")]
