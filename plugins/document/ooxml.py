"""Office Open XML documents (Word ``.docx``, Excel ``.xlsx``, PowerPoint ``.pptx`` and their macro forms).

An OOXML file is a zip. Two parts hold who wrote it and when (ECMA-376 part 2, Open Packaging
Conventions, and part 1 section 22.2, extended properties):

- ``docProps/core.xml``: ``dc:title``, ``dc:subject``, ``dc:creator``, ``cp:keywords``,
  ``dc:description``, ``cp:lastModifiedBy``, ``cp:revision``, ``dcterms:created``,
  ``dcterms:modified``, ``cp:lastPrinted``. The dates are W3C date-time text, normally in UTC with
  ``Z``; they are kept as stored, with the UTC instant when the text carries a zone.
- ``docProps/app.xml``: ``Application``, ``AppVersion``, ``Company``, ``Template``,
  ``TotalTime`` (minutes of editing, kept as the stored text), ``Pages``, ``Words``,
  ``Characters``, ``CharactersWithSpaces``, ``Lines``, ``Paragraphs``.

Every member is read through a cap of :data:`~plugins.document._common.MAX_PART_BYTES`
decompressed bytes (a zip bomb is a warning), and parsed with defusedxml (a DTD declaring entities,
or any external reference, is refused with a warning). A password-protected OOXML file is not a zip
but an OLE2 file with an ``EncryptedPackage`` stream: the ``ole_office`` plugin reports it.

Expected on the public corpus (``documents/Document.docx``, from plaso's test data): creator and
last modified by "Nides", revision 3, created 2012-11-07T23:29:00Z, modified 2013-08-25T22:18:00Z,
application "Microsoft Office Word", 1 page, 2 words, as exiftool 12.57 reads it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from plugins.document._common import (
    OoxmlMetadata,
    PartTooLarge,
    UnsafeXml,
    from_w3cdtf,
    int_of,
    parse_xml,
    read_capped,
    text_of,
)
from triage.plugin import FileItem, NotMyFormat, ParseContext, Plugin, Targets

ZIP_MAGIC = b"PK\x03\x04"
CORE = "docProps/core.xml"
APP = "docProps/app.xml"

CORE_NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}
APP_NS = {"ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"}


def read_member(zf: zipfile.ZipFile, name: str, ctx: ParseContext) -> bytes | None:
    """A zip member's bytes (capped), or None with a warning when it cannot be read."""
    try:
        with zf.open(name) as fh:
            return read_capped(fh, name)
    except PartTooLarge as exc:
        ctx.warn(str(exc), locator=name)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: unknown compression method
        ctx.warn(f"{name} unreadable: {type(exc).__name__}: {exc}", locator=name)
    return None


def open_zip(item: FileItem, ctx: ParseContext) -> zipfile.ZipFile | None:
    """The zip of ``item``, or None with a warning when its directory cannot be read."""
    fh = item.open()
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        fh.close()
        ctx.warn(f"damaged zip: {type(exc).__name__}: {exc}")
        return None


class OoxmlPlugin(Plugin):
    """Reads core and extended properties of OOXML documents into one ``document/ooxml`` record."""

    name = "ooxml_properties"
    version = "1.0.0"
    description = "OOXML (docx/xlsx/pptx) core and app properties: author, dates, application, counts"
    targets = Targets(
        globs=tuple(
            f"**/*.{ext}" for ext in ("docx", "docm", "dotx", "xlsx", "xlsm", "xltx", "pptx", "pptm", "potx")
        ),
        mime_types=(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
    )
    emits = (OoxmlMetadata,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return head.startswith(ZIP_MAGIC)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[OoxmlMetadata]:
        if not self.claims(item.head, item.size):  # the one check of the first bytes
            raise NotMyFormat(f"{item.path} is not a zip")
        zf = open_zip(item, ctx)
        if zf is None:
            return
        with zf:
            names = set(zf.namelist())
            if CORE not in names and APP not in names:
                if "[Content_Types].xml" not in names:
                    raise NotMyFormat(f"{item.path} is a zip without OOXML parts")
                return  # an OOXML package without document properties
            fields: dict[str, object] = {}
            locator: str | None = None
            for part, reader in ((CORE, _core), (APP, _app)):
                if part not in names:
                    continue
                data = read_member(zf, part, ctx)
                if data is None:
                    continue
                try:
                    fields.update(reader(parse_xml(data, part)))
                    locator = locator or part
                except UnsafeXml as exc:
                    ctx.warn(str(exc), locator=part)
        if fields:
            yield OoxmlMetadata(source=item.source, locator=locator, format="ooxml", **fields)  # type: ignore[arg-type]


def _core(root: object) -> dict[str, object]:
    def t(path: str) -> str | None:
        return text_of(root, path, CORE_NS)

    return {
        "title": t("dc:title"),
        "subject": t("dc:subject"),
        "creator": t("dc:creator"),
        "keywords": t("cp:keywords"),
        "description": t("dc:description"),
        "last_modified_by": t("cp:lastModifiedBy"),
        "revision": t("cp:revision"),
        "created": from_w3cdtf(t("dcterms:created")),
        "modified": from_w3cdtf(t("dcterms:modified")),
        "printed": from_w3cdtf(t("cp:lastPrinted")),
    }


def _app(root: object) -> dict[str, object]:
    def t(name: str) -> str | None:
        return text_of(root, f"ep:{name}", APP_NS)

    return {
        "application": t("Application"),
        "app_version": t("AppVersion"),
        "company": t("Company"),
        "template": t("Template"),
        "total_edit_time": t("TotalTime"),
        "pages": int_of(t("Pages")),
        "words": int_of(t("Words")),
        "characters": int_of(t("Characters")),
        "characters_with_spaces": int_of(t("CharactersWithSpaces")),
        "lines": int_of(t("Lines")),
        "paragraphs": int_of(t("Paragraphs")),
    }
