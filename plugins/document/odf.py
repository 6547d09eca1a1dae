"""OpenDocument files (``.odt``, ``.ods``, ``.odp``, ``.odg`` and templates): the ``meta.xml`` part.

An ODF package is a zip whose first member, stored uncompressed, is ``mimetype``
(``application/vnd.oasis.opendocument.text``, ...). ``meta.xml`` (OASIS ODF 1.2 part 1, section 4)
holds ``office:meta`` with ``dc:title``, ``dc:subject``, ``dc:description``, ``meta:keyword``
(one element per keyword, joined here with ``", "``), ``meta:initial-creator`` (the author),
``dc:creator`` (who saved it last), ``meta:creation-date``, ``dc:date`` (last saved),
``meta:print-date``, ``meta:generator`` (the application), ``meta:editing-cycles`` (the
revision), ``meta:editing-duration`` (ISO 8601 duration, kept as text) and
``meta:document-statistic`` (``meta:page-count``, ``meta:word-count``,
``meta:character-count``, ``meta:paragraph-count``). Dates are ISO 8601 text, usually without a
zone (LibreOffice writes local time): the UTC instant is then unknown and not guessed.

The same caps and defusedxml parsing as the OOXML plugin apply. An encrypted ODF document keeps
``meta.xml`` in clear (only content parts are encrypted, listed with ``manifest:encryption-data``
in ``META-INF/manifest.xml``): it is read and reported with ``encrypted`` set.

No public corpus file: the tests build ODF packages as LibreOffice writes them.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugins.document._common import (
    OdfMetadata,
    UnsafeXml,
    from_w3cdtf,
    int_of,
    parse_xml,
    text_of,
)
from plugins.document.ooxml import ZIP_MAGIC, open_zip, read_member
from triage.plugin import FileItem, NotMyFormat, ParseContext, Plugin, Targets

META = "meta.xml"
MANIFEST = "META-INF/manifest.xml"
ODF_MIME_PREFIX = b"application/vnd.oasis.opendocument."

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}
_M = "{" + NS["meta"] + "}"


class OdfPlugin(Plugin):
    """Reads ``meta.xml`` of OpenDocument files into one ``document/odf`` record."""

    name = "odf_meta"
    version = "1.0.0"
    description = "OpenDocument (odt/ods/odp) meta.xml: author, dates, generator, statistics"
    targets = Targets(
        globs=tuple(f"**/*.{ext}" for ext in ("odt", "ods", "odp", "odg", "ott", "ots", "otp", "fodt")),
        magic=((30, b"mimetypeapplication/vnd.oasis.opendocument."),),
    )
    emits = (OdfMetadata,)

    @classmethod
    def claims(cls, head: bytes, size: int) -> bool:
        return head.startswith(ZIP_MAGIC)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[OdfMetadata]:
        if not self.claims(item.head, item.size):  # the one check of the first bytes
            raise NotMyFormat(f"{item.path} is not a zip")
        zf = open_zip(item, ctx)
        if zf is None:
            return
        with zf:
            names = set(zf.namelist())
            if "mimetype" not in names and META not in names:
                raise NotMyFormat(f"{item.path} is a zip without ODF parts")
            encrypted = False
            if MANIFEST in names:
                data = read_member(zf, MANIFEST, ctx)
                if data is not None:
                    try:
                        manifest = parse_xml(data, MANIFEST)
                        encrypted = manifest.find(".//manifest:encryption-data", NS) is not None
                    except UnsafeXml as exc:
                        ctx.warn(str(exc), locator=MANIFEST)
            if META not in names:
                if encrypted:
                    yield OdfMetadata(source=item.source, locator=MANIFEST, format="odf", encrypted=True)
                return
            data = read_member(zf, META, ctx)
        if data is None:
            return
        try:
            root = parse_xml(data, META)
        except UnsafeXml as exc:
            ctx.warn(str(exc), locator=META)
            return
        meta = root.find("office:meta", NS)
        if meta is None:
            ctx.warn("meta.xml has no office:meta element", locator=META)
            return

        def t(path: str) -> str | None:
            return text_of(meta, path, NS)

        keywords = [("".join(k.itertext())) for k in meta.findall("meta:keyword", NS)]
        stats = meta.find("meta:document-statistic", NS)

        def stat(name: str) -> int | None:
            return None if stats is None else int_of(stats.get(_M + name))

        yield OdfMetadata(
            source=item.source,
            locator=META,
            format="odf",
            encrypted=encrypted,
            title=t("dc:title"),
            subject=t("dc:subject"),
            description=t("dc:description"),
            keywords=", ".join(keywords) if keywords else None,
            creator=t("meta:initial-creator"),
            last_modified_by=t("dc:creator"),
            created=from_w3cdtf(t("meta:creation-date")),
            modified=from_w3cdtf(t("dc:date")),
            printed=from_w3cdtf(t("meta:print-date")),
            application=t("meta:generator"),
            revision=t("meta:editing-cycles"),
            total_edit_time=t("meta:editing-duration"),
            pages=stat("page-count"),
            words=stat("word-count"),
            characters=stat("character-count"),
            paragraphs=stat("paragraph-count"),
        )
