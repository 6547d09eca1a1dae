"""Document metadata (OOXML, ODF, PDF, OLE2 Office) compared with exiftool; hostile and damaged input.

Oracle: exiftool. The corpus documents (``documents/Document.doc`` and ``Document.docx``, plaso's
test data) are compared with exiftool 12.57's reading stored in
``groundtruth/documents-exiftool.json``; the documents built here (tests/plugins/document_fixtures.py:
no public ODF, PDF-with-XMP or OLE2 spreadsheet is in the corpus) are compared with the exiftool
installed by scripts/setup.sh (Debian's ``libimage-exiftool-perl``), run on them in the test.

Every field a record reports is compared; ``FIELD_TAGS`` below is the mapping from the record's
field to exiftool's tag, per format. Not compared, because they are not document values: ``format``,
``encrypted``, ``locator``. Known differences, handled in the comparison: ODF ``meta:keyword``
repeated (one element per keyword) is joined by the plugin with ", ", exiftool keeps the first
only; exiftool splits PDF ``/Keywords`` at commas into a list, the plugin keeps the stored text.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from plugins.document._common import MAX_PART_BYTES, DocumentMetadata
from plugins.document.odf import OdfPlugin
from plugins.document.ole_office import OleOfficePlugin
from plugins.document.ooxml import OoxmlPlugin
from plugins.document.pdf import PdfPlugin
from tests.conftest import need
from tests.plugins import document_fixtures as fx
from tests.plugins.triage_e2e import exhibit, triaged_folder
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, Plugin, TimeValue
from triage.plugin.scratch import Scratch

PLUGINS: tuple[Plugin, ...] = (OoxmlPlugin(), OdfPlugin(), PdfPlugin(), OleOfficePlugin())

#: record field -> exiftool tag, per record type
FIELD_TAGS: dict[str, dict[str, str]] = {
    "document/ooxml": {
        "title": "Title",
        "subject": "Subject",
        "creator": "Creator",
        "keywords": "Keywords",
        "description": "Description",
        "last_modified_by": "LastModifiedBy",
        "revision": "RevisionNumber",
        "created": "CreateDate",
        "modified": "ModifyDate",
        "printed": "LastPrinted",
        "application": "Application",
        "app_version": "AppVersion",
        "company": "Company",
        "template": "Template",
        "total_edit_time": "TotalEditTime",
        "pages": "Pages",
        "words": "Words",
        "characters": "Characters",
        "characters_with_spaces": "CharactersWithSpaces",
        "lines": "Lines",
        "paragraphs": "Paragraphs",
    },
    "document/odf": {
        "title": "Title",
        "subject": "Subject",
        "description": "Description",
        "keywords": "Keyword",
        "creator": "Initial-creator",
        "last_modified_by": "Creator",
        "created": "Creation-date",
        "modified": "Date",
        "printed": "Print-date",
        "application": "Generator",
        "revision": "Editing-cycles",
        "total_edit_time": "Editing-duration",
        "pages": "Document-statisticPage-count",
        "words": "Document-statisticWord-count",
        "characters": "Document-statisticCharacter-count",
        "paragraphs": "Document-statisticParagraph-count",
    },
    "document/pdf": {
        "title": "Title",
        "creator": "Author",
        "subject": "Subject",
        "keywords": "Keywords",
        "application": "Creator",
        "producer": "Producer",
        "created": "CreateDate",
        "modified": "ModifyDate",
        "pages": "PageCount",
        "pdf_version": "PDFVersion",
    },
    "document/ole2": {
        "title": "Title",
        "subject": "Subject",
        "creator": "Author",
        "keywords": "Keywords",
        "description": "Comments",
        "template": "Template",
        "last_modified_by": "LastModifiedBy",
        "revision": "RevisionNumber",
        "total_edit_time": "TotalEditTime",
        "printed": "LastPrinted",
        "created": "CreateDate",
        "modified": "ModifyDate",
        "pages": "Pages",
        "words": "Words",
        "characters": "Characters",
        "application": "Software",
        "lines": "Lines",
        "paragraphs": "Paragraphs",
        "company": "Company",
        "characters_with_spaces": "CharCountWithSpaces",
        "app_version": "AppVersion",
    },
}
#: exiftool groups (``-G1``) to look a tag up in, per record type, first match wins
GROUPS = {
    "document/ooxml": ("XMP-dc", "XML"),
    "document/odf": ("XMP-meta", "XMP-dc"),
    "document/pdf": ("PDF",),
    "document/ole2": ("FlashPix",),
}
NOT_COMPARED = {"source", "locator", "recovered", "format", "encrypted"}


def _run(item: FileItem, tmp_path: Path) -> tuple[list[DocumentMetadata], list[str], list[str]]:
    """Records, warning texts and the outcomes of the plugins that claim ``item``."""
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        chosen = match_plugins(item, list(PLUGINS), ctx)
        result = run_plugins(item, chosen, ctx)
    records = [r for r in result.records if isinstance(r, DocumentMetadata)]
    warnings = [f"{w.plugin}: {w.path}: {w.message}" for w in result.warnings]
    return records, warnings, [f"{r.plugin}={r.outcome}" for r in result.runs]


def _exif_time(tv: TimeValue) -> str | int:
    """The time as exiftool prints it (``YYYY:MM:DD HH:MM:SS`` + the zone as stored)."""
    raw = tv.raw
    if tv.encoding == "filetime":
        if raw == 0:
            return 0
        assert tv.utc is not None
        return tv.utc[:19].replace("-", ":", 2).replace("T", " ")  # FILETIME is UTC, whole seconds
    assert isinstance(raw, str)
    if tv.encoding == "w3cdtf":
        return raw.replace("-", ":", 2).replace("T", " ")
    assert tv.encoding == "pdf_date"
    wall = tv.local or tv.utc
    assert wall is not None
    text = wall[:19].replace("-", ":", 2).replace("T", " ")
    if raw.endswith("Z"):
        return text + "Z"
    return text + (tv.offset or "")


def _time_span(value: str, fmt: str) -> str | int:
    """exiftool's ConvertTimeSpan of a stored editing time (OOXML minutes, OLE2 100 ns ticks).

    Whole units when the stored unit is at least the printed one (OOXML minutes: "6 minutes"),
    else one decimal ("23.1 hours", "5.0 minutes").
    """
    unit_seconds = 60 if fmt == "document/ooxml" else 1
    seconds = int(value) * 60 if fmt == "document/ooxml" else int(value) // 10_000_000
    if seconds == 0:
        return 0
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            number = f"{seconds // size}" if unit_seconds >= size else f"{seconds / size:.1f}"
            return f"{number} {unit}"
    return f"{seconds} seconds"


def _as_exiftool(rec: DocumentMetadata, field: str, value: Any) -> Any:
    if isinstance(value, TimeValue):
        return _exif_time(value)
    if field == "total_edit_time" and rec.record_type in ("document/ooxml", "document/ole2"):
        return _time_span(value, rec.record_type)
    if field == "keywords" and rec.record_type == "document/odf":
        return value.split(", ")[0]  # exiftool keeps the first meta:keyword only
    return value


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, list):  # exiftool splits PDF Keywords at commas; the plugin keeps the text
        theirs = ", ".join(str(t) for t in theirs)
    if isinstance(theirs, int | float) and not isinstance(ours, TimeValue):
        try:
            return float(ours) == float(theirs)
        except (TypeError, ValueError):
            return False
    return str(ours) == str(theirs)


def _compare(rec: DocumentMetadata, tags: dict[str, Any], grouped: bool) -> int:
    """Assert every reported field equals exiftool's tag; returns how many fields were compared."""
    mapping = FIELD_TAGS[rec.record_type]
    compared = 0
    for field, value in vars(rec).items():
        if field in NOT_COMPARED or value is None:
            continue
        assert field in mapping, f"{rec.record_type}.{field} reported but not mapped to an exiftool tag"
        tag = mapping[field]
        if grouped:
            keys = [f"{g}:{tag}" for g in GROUPS[rec.record_type] if f"{g}:{tag}" in tags]
            assert keys, f"exiftool has no {tag} for {rec.source.path} (we say {value!r})"
            theirs = tags[keys[0]]
        else:
            assert tag in tags, f"exiftool has no {tag} for {rec.source.path} (we say {value!r})"
            theirs = tags[tag]
        ours = _as_exiftool(rec, field, value)
        assert _same(ours, theirs), f"{rec.source.path} {field}: {ours!r} != exiftool {tag} {theirs!r}"
        compared += 1
    return compared


# -- the corpus, against exiftool's stored reading ------------------------------------------------


def test_corpus_documents_match_exiftool(corpus: Path, tmp_path: Path) -> None:
    truth = json.loads(need(corpus / "groundtruth" / "documents-exiftool.json").read_text(encoding="utf-8"))
    assert len(truth) == 2
    for row in truth:
        path = need(corpus / row["SourceFile"])
        records, warnings, outcomes = _run(
            FileItem.from_path(path, fs_path=f"/Users/x/{path.name}"), tmp_path
        )
        assert warnings == [], path.name
        [rec] = records
        compared = _compare(rec, row, grouped=False)
        if path.suffix == ".docx":
            assert outcomes == ["ooxml_properties=ok"]
            assert rec.record_type == "document/ooxml" and compared == 16
            assert rec.created is not None and rec.created.utc == "2012-11-07T23:29:00.000000Z"
        else:
            assert outcomes == ["ole_office=ok"]
            assert rec.record_type == "document/ole2" and compared == 19
            assert rec.created == TimeValue(
                utc="2012-12-10T18:38:00.000000Z",
                raw=129996382800000000,
                encoding="filetime",
                offset="+00:00",
            )
            assert rec.printed is None  # no property 11 in SummaryInformation (exiftool's comes from the DOP)
        assert not rec.encrypted


# -- documents built here, against the installed exiftool ---------------------------------------


def _exiftool(path: Path) -> dict[str, Any]:
    tool = shutil.which("exiftool")
    if tool is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    out = subprocess.run([tool, "-j", "-G1", "-a", str(path)], check=True, capture_output=True, timeout=60)
    [tags] = json.loads(out.stdout)
    return dict(tags)


def _ole_summary() -> bytes:
    return fx.property_set(
        [
            (1, 0x02, struct.pack("<h", 1252)),
            (2, 0x1E, fx.lpstr("Frachtbrief é")),
            (4, 0x1E, fx.lpstr("Jane Roe")),
            (8, 0x1E, fx.lpstr("John Doe")),
            (9, 0x1E, fx.lpstr("12")),
            (10, 0x40, fx.filetime(3_000_000_000)),  # 300 s of editing
            (11, 0x40, fx.filetime(132539328000000000)),
            (12, 0x40, fx.filetime(132539328123456789)),
            (13, 0x40, fx.filetime(0)),
            (14, 0x03, struct.pack("<i", 3)),
            (18, 0x1E, fx.lpstr("Microsoft Excel")),
        ]
    )


PDF_INFO = (
    b"/Title (Invoice) /Author (Jane Roe) /Subject (Cargo) /Keywords (port, ship) /Creator (Writer)"
    b" /Producer (LibreOffice 7.4) /CreationDate (D:20230405060708+02'00') /ModDate (D:20230406070809Z)"
)


def built_documents() -> dict[str, bytes]:
    return {
        "sheet.xlsx": fx.ooxml(),
        "notes.odt": fx.odf(),
        "invoice.pdf": fx.pdf_with_info(PDF_INFO, xmp=fx.XMP_PACKET),
        "ledger.xls": fx.ole2({"\x05SummaryInformation": _ole_summary()}),
    }


@pytest.mark.parametrize("name", sorted(built_documents()))
def test_built_documents_match_exiftool(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(built_documents()[name])
    tags = _exiftool(path)
    records, warnings, _ = _run(FileItem.from_path(path), tmp_path)
    assert warnings == []
    [rec] = records
    assert _compare(rec, tags, grouped=True) >= 8


def test_times_keep_raw_values_and_never_guess_a_zone(tmp_path: Path) -> None:
    [odt], _, _ = _run(FileItem.from_bytes(fx.odf(), path="/d/notes.odt"), tmp_path)
    assert odt.created == TimeValue(
        utc=None,
        raw="2022-05-06T07:08:09.120000000",
        encoding="w3cdtf",
        local="2022-05-06T07:08:09.120000",
        note="local time, UTC offset unknown",
    )
    assert odt.modified is not None and odt.modified.utc == "2022-06-07T08:09:10.000000Z"
    [pdf], _, _ = _run(FileItem.from_bytes(built_documents()["invoice.pdf"], path="/d/i.pdf"), tmp_path)
    assert pdf.created is not None
    assert (pdf.created.utc, pdf.created.offset) == ("2023-04-05T04:07:08.000000Z", "+02:00")
    assert pdf.title == "Invoice"  # the Info dictionary wins over XMP's "Bill of lading"
    [xls], _, _ = _run(FileItem.from_bytes(built_documents()["ledger.xls"], path="/d/l.xls"), tmp_path)
    assert xls.created is not None and xls.created.utc == "2021-01-01T00:00:12.345678Z"
    assert xls.created.raw == 132539328123456789  # the exact ticks, not olefile's whole seconds
    assert xls.modified == TimeValue(
        utc=None, raw=0, encoding="filetime", note="no time stored (null or zero)"
    )


def test_pdf_xmp_fills_what_info_lacks(tmp_path: Path) -> None:
    data = fx.pdf_with_info(b"/Producer (P)", xmp=fx.XMP_PACKET)
    [rec], warnings, _ = _run(FileItem.from_bytes(data, path="/d/x.pdf"), tmp_path)
    assert warnings == []
    assert (rec.title, rec.creator, rec.application, rec.producer) == (
        "Bill of lading",
        "Jane Roe",
        "Writer 9",
        "P",
    )
    assert rec.created is not None and rec.created.utc == "2023-04-05T04:07:08.000000Z"
    assert rec.created.encoding == "w3cdtf"


# -- real documents: the forensics-samples NTFS image, against the installed exiftool -------------

#: inode -> name of the documents in /text1 (live) and /text2 (deleted) of Debian's fs.ntfs
NTFS_DOCUMENTS = {
    98: "a-text.docx",
    99: "a-text.odt",
    100: "a-text.pdf",
    101: "a-text-pass-peanuts.pdf",
    102: "a-text-pass-A5d.pdf",
    104: "d-text.docx",
    105: "d-text.odt",
    106: "d-text.pdf",
}


def test_forensics_samples_documents_match_exiftool(tmp_path: Path) -> None:
    """LibreOffice 7.0 documents (docx, odt, pdf; two PDFs with a user password) of forensics-samples."""
    import lzma

    from tests.conftest import FORENSICS_SAMPLES, need_tool

    icat = need_tool("icat")
    packed = need(FORENSICS_SAMPLES / "fs.ntfs.xz", "(apt-get install forensics-samples-ntfs)")
    image = tmp_path / "fs.ntfs"
    with lzma.open(packed) as src, image.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    compared = 0
    for inode, name in NTFS_DOCUMENTS.items():
        path = tmp_path / name
        with path.open("wb") as out:
            subprocess.run([icat, "-o", "2048", str(image), str(inode)], check=True, stdout=out, timeout=60)
        tags = _exiftool(path)
        [rec], warnings, _ = _run(FileItem.from_path(path), tmp_path)
        compared += _compare(rec, tags, grouped=True)
        if "-pass-" in name:
            assert rec.encrypted and rec.creator is None
            assert warnings == [
                f"pdf_metadata: {path}: encrypted PDF: a password is needed to read its metadata"
            ]
        else:
            assert warnings == [] and rec.creator == "Eriberto Mota" and not rec.encrypted
    assert compared == 2 * (16 + 11 + 6) + 2  # docx, odt, pdf fields; the locked PDFs' version


# -- XML attacks --------------------------------------------------------------------------------


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    item = FileItem.from_bytes(fx.ooxml(core=fx.BILLION_LAUGHS), path="/d/lol.xlsx")
    started = time.monotonic()
    records, warnings, outcomes = _run(item, tmp_path)
    assert time.monotonic() - started < 5
    assert outcomes == ["ooxml_properties=ok"]
    assert warnings == [
        "ooxml_properties: /d/lol.xlsx: docProps/core.xml: XML refused (EntitiesForbidden: "
        "EntitiesForbidden(name='lol', system_id=None, public_id=None))"
    ]
    [rec] = records  # app.xml is still read
    assert rec.creator is None and rec.application == "Microsoft Excel"


def test_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    for data, name in (
        (fx.ooxml(core=fx.external_entity(str(secret)), app=None), "/d/xxe.docx"),
        (fx.odf(meta=fx.external_entity(str(secret))), "/d/xxe.odt"),
        (fx.pdf_with_info(b"/Producer (P)", xmp=fx.external_entity(str(secret))), "/d/xxe.pdf"),
    ):
        records, warnings, _ = _run(FileItem.from_bytes(data, path=name), tmp_path)
        assert len(warnings) == 1 and "XML refused (EntitiesForbidden" in warnings[0], warnings
        assert name in warnings[0]
        assert "TOP-SECRET-VALUE" not in repr(records)


# -- encrypted documents ------------------------------------------------------------------------


def test_encrypted_ooxml_is_reported_as_encrypted(tmp_path: Path) -> None:
    """An OLE2 wrapper with EncryptionInfo and EncryptedPackage, as Office writes a protected .docx."""
    data = fx.ole2(
        {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x00" * 5000}
    )
    records, warnings, outcomes = _run(FileItem.from_bytes(data, path="/d/secret.docx"), tmp_path)
    assert outcomes == ["ooxml_properties=not-my-format", "ole_office=ok"]
    assert warnings == []
    [rec] = records
    assert (rec.record_type, rec.format, rec.encrypted, rec.locator) == (
        "document/ole2",
        "ooxml",
        True,
        "EncryptedPackage",
    )


def test_encrypted_word_binary_is_reported(tmp_path: Path) -> None:
    # FibBase ([MS-DOC] 2.5.2): wIdent, nFib, unused, lid, pnNext, then the flags word with fEncrypted
    fib = struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0x0409, 0, 0x0100 | 0x0200)
    data = fx.ole2({"WordDocument": fib, "\x05SummaryInformation": _ole_summary()})
    [rec], warnings, _ = _run(FileItem.from_bytes(data, path="/d/locked.doc"), tmp_path)
    assert warnings == [] and rec.encrypted and rec.creator == "Jane Roe"


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    def write(user: str) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(100, 100)
        writer.add_metadata({"/Author": "Jane Roe", "/CreationDate": "D:20240102030405Z"})
        writer.encrypt(user_password=user, owner_password="owner", algorithm="AES-128")
        out = tmp_path / f"enc-{user or 'empty'}.pdf"
        writer.write(out)
        return out.read_bytes()

    [locked], warnings, outcomes = _run(FileItem.from_bytes(write("secret"), path="/d/locked.pdf"), tmp_path)
    assert outcomes == ["pdf_metadata=ok"]
    assert locked.encrypted and locked.creator is None and locked.locator == "Encrypt"
    assert warnings == [
        "pdf_metadata: /d/locked.pdf: encrypted PDF: a password is needed to read its metadata"
    ]
    [opened], warnings, _ = _run(FileItem.from_bytes(write(""), path="/d/open.pdf"), tmp_path)
    assert warnings == []
    assert opened.encrypted and opened.creator == "Jane Roe"
    assert opened.created is not None and opened.created.utc == "2024-01-02T03:04:05.000000Z"


def test_encrypted_odf_keeps_meta_readable(tmp_path: Path) -> None:
    [rec], warnings, _ = _run(FileItem.from_bytes(fx.odf(encrypted=True), path="/d/p.odt"), tmp_path)
    assert warnings == [] and rec.encrypted and rec.creator == "Jane Roe"


# -- bad input: bombs, loops, truncation --------------------------------------------------------


def test_zip_bomb_member_is_capped(tmp_path: Path) -> None:
    data = fx.zip_bomb_ooxml(256 << 20)  # 256 MiB of XML in a few hundred KiB
    assert len(data) < 1 << 20
    started = time.monotonic()
    records, warnings, outcomes = _run(FileItem.from_bytes(data, path="/d/bomb.docx"), tmp_path)
    assert time.monotonic() - started < 5
    assert outcomes == ["ooxml_properties=ok"] and records == []
    assert warnings == [
        f"ooxml_properties: /d/bomb.docx: docProps/core.xml is larger than {MAX_PART_BYTES} bytes "
        "once decompressed: not read"
    ]


def test_pdf_reference_loops_warn(tmp_path: Path) -> None:
    """Info whose Title points at an object that points at itself; a page tree whose Kids is its own node."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
        b"<< /Author (Jane Roe) /Title 4 0 R >>",
        b"4 0 R",
    ]
    data = fx.pdf(objects, trailer=b"/Root 1 0 R /Info 3 0 R")
    started = time.monotonic()
    records, warnings, outcomes = _run(FileItem.from_bytes(data, path="/d/loop.pdf"), tmp_path)
    assert time.monotonic() - started < 5
    assert outcomes == ["pdf_metadata=ok"]
    [rec] = records
    assert rec.creator == "Jane Roe" and rec.title is None
    assert any("/Title" in w for w in warnings), warnings
    assert all(w.startswith("pdf_metadata: /d/loop.pdf: ") for w in warnings)


def test_two_gigabyte_file_named_pdf_is_bounded(tmp_path: Path) -> None:
    """Sparse 2 GiB files: zeros after a PDF header, then the same with a startxref to nowhere.

    pypdf, left alone, searches the first backwards for %%EOF and rebuilds the second's xref by
    reading the whole file: minutes and gigabytes. Both must be a warning within seconds.
    """
    size = 2 << 30
    zeros = tmp_path / "zeros.pdf"
    with zeros.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.truncate(size)
    pointer = tmp_path / "pointer.pdf"
    with pointer.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.seek(size)
        fh.write(b"\nstartxref\n999\n%%EOF\n")
    for path in (zeros, pointer):
        started = time.monotonic()
        records, warnings, outcomes = _run(FileItem.from_path(path, sha256="0" * 64), tmp_path)
        assert time.monotonic() - started < 20, path.name
        assert outcomes == ["pdf_metadata=ok"]
        assert warnings and all(w.startswith(f"pdf_metadata: {path}: ") for w in warnings), warnings
        assert all(r.creator is None for r in records)
    assert "too large to scan" in _run(FileItem.from_path(zeros, sha256="0" * 64), tmp_path)[1][0]


@pytest.mark.parametrize("name", ["sheet.xlsx", "notes.odt", "invoice.pdf", "ledger.xls"])
def test_truncated_documents_warn(name: str, tmp_path: Path) -> None:
    whole = built_documents()[name]
    for cut in (len(whole) // 2, 600, 100):
        item = FileItem.from_bytes(whole[:cut], path=f"/d/{name}")
        started = time.monotonic()
        records, warnings, outcomes = _run(item, tmp_path)
        assert time.monotonic() - started < 5
        assert all(o.endswith(("=ok", "=not-my-format")) for o in outcomes), outcomes
        assert records or warnings, (name, cut)
        assert all(f": /d/{name}: " in w for w in warnings)


def test_corpus_truncated_word_document_warns(corpus: Path, tmp_path: Path) -> None:
    data = need(corpus / "documents" / "Document.doc").read_bytes()[:20000]
    records, warnings, outcomes = _run(FileItem.from_bytes(data, path="/d/Document.doc"), tmp_path)
    assert records == []
    assert outcomes == ["ole_office=ok"]
    assert warnings == ["ole_office: /d/Document.doc: damaged OLE2 file: OleFileError: incomplete OLE sector"]


def test_not_documents_are_not_my_format(tmp_path: Path) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    records, warnings, outcomes = _run(FileItem.from_bytes(buf.getvalue(), path="/d/a.docx"), tmp_path)
    assert (records, warnings, outcomes) == ([], [], ["ooxml_properties=not-my-format"])


# -- the whole engine once ----------------------------------------------------------------------


def test_exhibit_triage_then_findings(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = tmp_path / "built"
    built.mkdir()
    files: dict[str, Path] = {}
    for name, data in built_documents().items():
        (built / name).write_bytes(data)
        files[f"Documents/{name}"] = built / name
    for name in ("Document.doc", "Document.docx"):
        files[f"Documents/{name}"] = need(corpus / "documents" / name)
    plugins = "ooxml_properties,odf_meta,pdf_metadata,ole_office"
    with triaged_folder(tmp_path, monkeypatch, files, plugins):
        ran = exhibit("findings", "EX-001", "--json")
        assert ran.code == 0, ran.out + ran.err
        findings = json.loads(ran.out)
    by_path = {f["source"]["path"].rsplit("/", 1)[-1]: f for f in findings}
    assert set(by_path) == {
        "sheet.xlsx",
        "notes.odt",
        "invoice.pdf",
        "ledger.xls",
        "Document.doc",
        "Document.docx",
    }
    doc = by_path["Document.doc"]
    assert doc["record_type"] == "document/ole2" and doc["plugin"] == "ole_office"
    assert doc["data"]["creator"] == "DAVID NIDES" and doc["data"]["company"] == "KPMG"
    assert doc["data"]["created"]["utc"] == "2012-12-10T18:38:00.000000Z"
    assert doc["data"]["created"]["raw"] == 129996382800000000
    docx = by_path["Document.docx"]
    assert docx["record_type"] == "document/ooxml" and docx["data"]["last_modified_by"] == "Nides"
    assert by_path["invoice.pdf"]["data"]["producer"] == "LibreOffice 7.4"
    assert by_path["notes.odt"]["data"]["application"].startswith("LibreOffice/7.4")


def test_impossible_offsets_keep_the_record_and_z00_is_utc(tmp_path: Path) -> None:
    """Review: an offset of +25'00' (PDF) or +25:00 (OOXML) raised from ``datetime.timezone`` and
    the document's whole record was lost ("damaged PDF"); ``Z00'00'``, UTC written with its zero
    offset as many producers do, was "not a PDF date". exiftool reads all of it (checked here)."""
    pdf = tmp_path / "odd.pdf"
    pdf.write_bytes(
        fx.pdf_with_info(
            b"/Author (Jane Roe) /CreationDate (D:20200101120000Z00'00') /ModDate (D:20200101120000+25'00')"
        )
    )
    oracle = _exiftool(pdf)
    assert oracle["PDF:Author"] == "Jane Roe" and oracle["PDF:CreateDate"].startswith("2020:01:01 12:00:00")
    [rec], warnings, _ = _run(FileItem.from_path(pdf, fs_path="/d/odd.pdf"), tmp_path)
    assert warnings == [] and rec.creator == "Jane Roe"
    assert rec.created is not None and rec.created.utc == "2020-01-01T12:00:00.000000Z"
    assert rec.modified is not None and rec.modified.utc is None
    assert rec.modified.local == "2020-01-01T12:00:00.000000"
    assert rec.modified.note is not None and "'+25:00' is not a valid offset" in rec.modified.note
    core = fx.CORE_XML.replace("2021-01-02T03:04:05Z", "2020-01-01T12:00:00+25:00")
    docx = tmp_path / "odd.xlsx"
    docx.write_bytes(fx.ooxml(core=core))
    [sheet], warnings, _ = _run(FileItem.from_path(docx, fs_path="/d/odd.xlsx"), tmp_path)
    assert warnings == [] and sheet.creator == "Jane Roe"
    assert sheet.created is not None and sheet.created.utc is None
    assert sheet.created.note is not None and "is not a valid offset" in sheet.created.note
    assert sheet.modified is not None and sheet.modified.utc == "2021-02-03T04:05:06.000000Z"
