"""The text layer (triage/text): folding with its map back, byte views, document text.

Oracles: Python's own codecs (the byte offsets of UTF-8, UTF-16 and Latin-1 encodings of a known
text), Unicode's NFKC + casefold (every equivalence the folding claims is checked against
``unicodedata``), and for documents poppler's ``pdftotext`` (Debian's poppler-utils, run as a
program) on the LibreOffice documents of Debian's forensics-samples exFAT image, whose .docx and
.odt hold the same text as its .pdf.
"""

from __future__ import annotations

import io
import lzma
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FORENSICS_SAMPLES, need, need_tool
from triage.text import Folded, TextLimits, clean, document_kind, extract_text, fold, views


def nfkc_casefold(s: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ﬁsh", "fish"),  # the ligature U+FB01
        ("Straße", "STRASSE"),
        ("ẞ", "ss"),  # capital sharp s
        ("Ｆｉｒｓｔ", "first"),  # full-width
        ("café", "cafe\u0301"),  # precomposed and decomposed
        ("İstanbul", "i\u0307stanbul"),  # Turkish dotted capital I folds to i + combining dot
        ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),  # final sigma folds to sigma
    ],
)
def test_fold_equivalences_are_those_of_nfkc_casefold(a: str, b: str) -> None:
    assert fold(a) == fold(b)
    assert nfkc_casefold(a) == nfkc_casefold(b)  # the oracle agrees: the same equivalence


@pytest.mark.parametrize(("a", "b"), [("istanbul", "İstanbul"), ("ı", "i"), ("cafe", "café")])
def test_fold_keeps_apart_what_nfkc_casefold_keeps_apart(a: str, b: str) -> None:
    """Noted: without Turkish rules, plain ``i`` is not ``İ`` and dotless ``ı`` is not ``i``."""
    assert fold(a) != fold(b)
    assert nfkc_casefold(a) != nfkc_casefold(b)


def test_folded_positions_map_back_to_the_original_characters() -> None:
    original = "Die Straße: ﬁrst İ, Ｆｉｎｅ"
    f = Folded.of(original)
    assert not f.identity
    for word, expected in [("strasse", "Straße"), ("first", "ﬁrst"), ("fine", "Ｆｉｎｅ"), ("ss", "ß")]:
        at = f.text.index(word)
        a, b = f.source_span(at, at + len(word))
        assert original[a:b] == expected
    ascii_text = Folded.of("Plain ASCII")
    assert ascii_text.identity and ascii_text.source_span(2, 5) == (2, 5)


def test_lone_surrogates_fold_to_replacement_characters() -> None:
    raw = b"ab\xffcd".decode("utf-8", "surrogateescape")
    assert fold(raw) == "ab\udcffcd"  # kept: it matches no term (see the keyword tests)
    assert clean(raw) == "ab\ufffdcd"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "latin-1"])
def test_views_give_the_byte_offset_of_every_character(encoding: str) -> None:
    text = "Zoë met Ærø at 10:00" if encoding == "latin-1" else "Zoë met 李雷 at 10:00 🙂 ok"
    data = b"\x00\x01\x02" + text.encode(encoding) + b"\xff"
    name = {"utf-16-le": "utf-16le", "utf-16-be": "utf-16be"}.get(encoding, encoding)
    found = False
    for view in views(data, base=1000, always_utf16=True):
        if view.encoding != name or text not in view.text:
            continue
        at = view.text.index(text)
        for i in range(len(text) + 1):
            expected = 1000 + 3 + len(text[:i].encode(encoding))
            assert view.byte_offset(at + i) == expected, (encoding, i)
        found = True
    assert found, f"no {name} view holds the text"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "latin-1"])
def test_byte_offsets_walked_in_any_order_agree_with_each_from_the_start(encoding: str) -> None:
    """One ``ByteOffsets`` asked for many positions in random order (forwards and backwards, the
    same position twice) gives what ``byte_offset`` gives for each from the start of the text:
    UTF-8 with undecodable bytes (lone surrogates), UTF-16 in both orders with characters beyond
    U+FFFF and at the odd alignment, Latin-1."""
    import random

    from triage.text import ByteOffsets

    rng = random.Random(12)
    text = "Zoë met Ærø" if encoding == "latin-1" else "Zoë met 李雷 🙂 at 10:00, 𝄞 and ok"
    data = b"\x07" + (text * 20).encode(encoding) + (b"\xff\xfe" if encoding == "utf-8" else b"")
    checked = 0
    for view in views(data, base=500, always_utf16=True):
        offsets = ByteOffsets(view)
        positions = [rng.randrange(len(view.text) + 1) for _ in range(300)]
        positions += positions[:20]
        for i in positions:
            assert offsets(i) == view.byte_offset(i), (view.encoding, view.start, i)
            checked += 1
    assert checked >= 320


def test_a_pure_ascii_window_has_one_view() -> None:
    assert [v.encoding for v in views(b"plain text")] == ["utf-8"]
    assert {v.encoding for v in views("abc".encode("utf-16le"))} == {"utf-8", "utf-16le", "utf-16be"}
    assert {v.encoding for v in views("abc".encode("utf-16be"))} == {"utf-8", "utf-16le", "utf-16be"}
    assert [v.encoding for v in views(b"ab\x00\x00\x00\x01")] == ["utf-8"]  # no UTF-16 text there
    assert [v.encoding for v in views(bytes(4096))] == ["utf-8"]  # zeros: nothing in UTF-16 either
    assert [v.encoding for v in views("naïve".encode("latin-1"))] == ["utf-8", "latin-1"]


def _exfat(tmp_path: Path) -> Path:
    src = need(FORENSICS_SAMPLES / "fs.exfat.xz", "(apt-get install forensics-samples-exfat)")
    out = tmp_path / "fs.exfat"
    with lzma.open(src) as fin, open(out, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    return out


def _icat(image: Path, inode: int) -> bytes:
    return subprocess.run(
        [need_tool("icat"), "-o", "2048", str(image), str(inode)], check=True, capture_output=True
    ).stdout


def _words(text: str) -> list[str]:
    return text.split()


def test_document_text_matches_pdftotext(tmp_path: Path) -> None:
    """a-text.pdf page by page against pdftotext; a-text.docx and .odt (the same document from
    LibreOffice) give the same words; d-text.docx (deleted) has one more sentence; the PDF with a
    user password is reported, not read."""
    pdftotext = need_tool("pdftotext")
    image = _exfat(tmp_path)
    files = {
        name: _icat(image, inode)
        for name, inode in [
            ("a-text.pdf", 1086857),
            ("a-text.docx", 1086851),
            ("a-text.odt", 1086854),
            ("a-text-pass-peanuts.pdf", 1086860),
            ("d-text.docx", 1089539),
        ]
    }
    (tmp_path / "a.pdf").write_bytes(files["a-text.pdf"])
    pages = subprocess.run(
        [pdftotext, "-layout", str(tmp_path / "a.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout.split("\f")
    oracle = [_words(p) for p in pages if p.strip()]

    def parts(name: str) -> tuple[list[tuple[str, str]], list[str]]:
        warnings: list[str] = []
        data = files[name]
        got = [(p.part, p.text) for p in extract_text(io.BytesIO(data), data[:8192], name, warnings.append)]
        return got, warnings

    pdf, warnings = parts("a-text.pdf")
    assert not warnings
    assert [p for p, _ in pdf] == ["page=1", "page=2"]
    assert [_words(t) for _, t in pdf] == oracle
    everything = [w for page in oracle for w in page]
    for name, body in [("a-text.docx", "word/document.xml"), ("a-text.odt", "content.xml")]:
        got, warnings = parts(name)
        assert not warnings
        assert _words(dict(got)[body]) == everything, name
        meta = dict(got)["docProps/core.xml" if name.endswith("docx") else "meta.xml"]
        assert "Eriberto Mota" in meta.splitlines()  # one property a line
    deleted, _ = parts("d-text.docx")
    assert _words(dict(deleted)["word/document.xml"]) == [*everything, "This", "file", "was", "deleted..."]
    none, warnings = parts("a-text-pass-peanuts.pdf")
    assert none == [] and warnings == [
        "a-text-pass-peanuts.pdf: PDF is encrypted with a password: text not read"
    ]


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


DOCX_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx(document: bytes) -> bytes:
    return _zip({"[Content_Types].xml": DOCX_TYPES, "word/document.xml": document})


def test_docx_runs_join_and_paragraphs_break() -> None:
    doc = _docx(
        b"<w:document " + W + b"><w:body><w:p><w:r><w:t>Pass</w:t></w:r><w:r><w:t>port</w:t></w:r></w:p>"
        b"<w:p><w:r><w:t xml:space='preserve'>second </w:t></w:r><w:r><w:tab/><w:t>line</w:t></w:r></w:p>"
        b"</w:body></w:document>"
    )
    assert document_kind(doc[:8192]) == "zip"
    got = list(extract_text(io.BytesIO(doc), doc[:8192], "x.docx", pytest.fail))
    assert got[0].part == "word/document.xml"
    assert got[0].text == "Passport\nsecond \tline\n"


def test_xlsx_shared_strings_not_cell_indices() -> None:
    xlsx = _zip(
        {
            "[Content_Types].xml": DOCX_TYPES,
            "xl/sharedStrings.xml": b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<si><t>Container 7</t></si><si><t>Rotterdam</t></si></sst>",
            "xl/worksheets/sheet1.xml": b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row><c t="s"><v>0</v></c><c t="inlineStr"><is><t>inline</t></is></c></row></sheetData></worksheet>',
        }
    )
    got = {p.part: p.text for p in extract_text(io.BytesIO(xlsx), xlsx[:8192], "x.xlsx", pytest.fail)}
    assert got["xl/sharedStrings.xml"].split("\n")[:2] == ["Container 7", "Rotterdam"]
    assert "0" not in got["xl/worksheets/sheet1.xml"] and "inline" in got["xl/worksheets/sheet1.xml"]


def test_zip_bomb_member_is_refused_with_a_warning() -> None:
    """A 64 MiB run of zeros deflates to about 64 KiB: over the ratio cap, so never inflated."""
    bomb = _docx(
        b"<w:document "
        + W
        + b"><w:body><w:p><w:r><w:t>"
        + b"0" * (64 << 20)
        + b"</w:t></w:r></w:p></w:body></w:document>"
    )
    assert len(bomb) < 1 << 20
    warnings: list[str] = []
    assert list(extract_text(io.BytesIO(bomb), bomb[:8192], "bomb.docx", warnings.append)) == []
    assert len(warnings) == 1 and warnings[0].startswith("bomb.docx!word/document.xml: text not read:")
    assert "(a zip bomb?)" in warnings[0]
    # a member whose header understates its size is still stopped at the cap
    small = TextLimits(part_bytes=1000, ratio_floor=1 << 30)
    doc = _docx(b"<w:document " + W + b">" + b"x" * 5000 + b"</w:document>")
    warnings = []
    assert list(extract_text(io.BytesIO(doc), doc[:8192], "big.docx", warnings.append, small)) == []
    assert "over the 1000-byte cap" in warnings[0]


def test_xml_with_entities_is_refused() -> None:
    laughs = _docx(b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><d>&b;</d>')
    warnings: list[str] = []
    assert list(extract_text(io.BytesIO(laughs), laughs[:8192], "l.docx", warnings.append)) == []
    assert warnings and "XML refused" in warnings[0]


def test_damaged_documents_warn() -> None:
    warnings: list[str] = []
    data = b"PK\x03\x04" + b"\x00" * 100
    assert list(extract_text(io.BytesIO(data), data, "cut.docx", warnings.append)) == []
    assert warnings[0].startswith("cut.docx: document text not read: not a readable zip")
    warnings = []
    data = b"%PDF-1.7\n1 0 obj <<"
    assert list(extract_text(io.BytesIO(data), data, "cut.pdf", warnings.append)) == []
    assert warnings and warnings[0].startswith("cut.pdf:")
    plain = _zip({"a.txt": b"hello"})
    assert list(extract_text(io.BytesIO(plain), plain[:8192], "plain.zip", pytest.fail)) == []
