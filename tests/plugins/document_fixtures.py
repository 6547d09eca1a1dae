"""Documents built for the document-plugin tests: OOXML and ODF packages, PDFs, OLE2 compound files.

No public corpus holds an ODF file, a PDF with XMP, an encrypted Office file or the hostile inputs
(billion laughs, external entities, zip bombs, reference loops), so they are written here from the
formats' specifications: ECMA-376 part 2 (OPC) for OOXML, OASIS ODF 1.2 part 3 (packages) and
part 1 section 4 (meta.xml) for ODF, ISO 32000-1 section 7 (file structure) for PDF, and
[MS-CFB] (compound file binary format) with [MS-OLEPS] (property sets) for OLE2.
"""

from __future__ import annotations

import io
import struct
import zipfile

CORE_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>Quarterly figures</dc:title><dc:subject>Shipments</dc:subject><dc:creator>Jane Roe</dc:creator>
<cp:keywords>cargo; port</cp:keywords><dc:description>draft</dc:description>
<cp:lastModifiedBy>John Doe</cp:lastModifiedBy><cp:revision>7</cp:revision>
<cp:lastPrinted>2021-03-04T05:06:07Z</cp:lastPrinted>
<dcterms:created xsi:type="dcterms:W3CDTF">2021-01-02T03:04:05Z</dcterms:created>
<dcterms:modified xsi:type="dcterms:W3CDTF">2021-02-03T04:05:06Z</dcterms:modified>
</cp:coreProperties>"""

APP_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
 xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">
<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>
<Company>Acme Shipping Ltd</Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>
<HyperlinksChanged>false</HyperlinksChanged><AppVersion>16.0300</AppVersion></Properties>"""

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>"""

RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
</Relationships>"""

META_XML = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
 office:version="1.2"><office:meta>
<meta:initial-creator>Jane Roe</meta:initial-creator><dc:creator>John Doe</dc:creator>
<meta:creation-date>2022-05-06T07:08:09.120000000</meta:creation-date><dc:date>2022-06-07T08:09:10Z</dc:date>
<meta:print-date>2022-06-08T09:10:11</meta:print-date>
<dc:title>Manifest</dc:title><dc:subject>Containers</dc:subject><dc:description>list</dc:description>
<meta:keyword>cargo</meta:keyword><meta:keyword>port</meta:keyword>
<meta:editing-cycles>5</meta:editing-cycles><meta:editing-duration>PT1H2M3S</meta:editing-duration>
<meta:generator>LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2</meta:generator>
<meta:document-statistic meta:table-count="0" meta:image-count="0" meta:object-count="0" meta:page-count="2"
 meta:paragraph-count="4" meta:word-count="30" meta:character-count="170"/>
</office:meta></office:document-meta>"""

ODF_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"{enc}
</manifest:manifest>"""

ENCRYPTION_DATA = """><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AAAA">
<manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="AAAA"/>
<manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:iteration-count="1024" manifest:salt="AAAA"/>
</manifest:encryption-data></manifest:file-entry>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>&lol9;</dc:creator></cp:coreProperties>"""


def external_entity(target: str) -> bytes:
    """core.xml whose creator is an external entity pointing at ``target`` (a local file)."""
    return f"""<?xml version="1.0"?>
<!DOCTYPE cp:coreProperties [<!ENTITY xxe SYSTEM "file://{target}">]>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>&xxe;</dc:creator></cp:coreProperties>""".encode()


def ooxml(core: bytes | str | None = CORE_XML, app: bytes | str | None = APP_XML) -> bytes:
    """A minimal OOXML spreadsheet package (no workbook part: only what metadata readers need)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        if core is not None:
            zf.writestr("docProps/core.xml", core)
        if app is not None:
            zf.writestr("docProps/app.xml", app)
    return buf.getvalue()


def odf(meta: str | bytes = META_XML, *, encrypted: bool = False) -> bytes:
    """An ODF text package: ``mimetype`` first and stored, then manifest, meta.xml, content.xml."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED
        )
        enc = ENCRYPTION_DATA if encrypted else "/>"
        zf.writestr("META-INF/manifest.xml", ODF_MANIFEST.format(enc=enc))
        zf.writestr("meta.xml", meta)
        zf.writestr("content.xml", b"\x8f\x11" * 64 if encrypted else "<office:document-content/>")
    return buf.getvalue()


def zip_bomb_ooxml(size: int) -> bytes:
    """An OOXML package whose core.xml inflates to ``size`` bytes (spaces after a valid start)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        with zf.open("docProps/core.xml", "w", force_zip64=True) as fh:
            fh.write(b"<?xml version='1.0'?><a>")
            block = b" " * (1 << 20)
            for _ in range(size >> 20):
                fh.write(block)
    return buf.getvalue()


# -- PDF --------------------------------------------------------------------------------------


def pdf(objects: list[bytes], *, trailer: bytes, version: str = "1.7") -> bytes:
    """A PDF of ``objects`` (object i+1 is objects[i], without ``obj``/``endobj``) with a correct xref."""
    out = bytearray(f"%PDF-{version}\n%\xe2\xe3\xcf\xd3\n".encode("latin-1"))
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" " + trailer + b" >>\n"
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length " + str(len(data)).encode() + b" " + extra + b" >>\nstream\n" + data + b"\nendstream"


XMP_PACKET = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/" pdf:Producer="XMP Producer 1.0">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Bill of lading</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>Jane Roe</rdf:li></rdf:Seq></dc:creator>
<xmp:CreatorTool>Writer 9</xmp:CreatorTool>
<xmp:CreateDate>2023-04-05T06:07:08+02:00</xmp:CreateDate>
<xmp:ModifyDate>2023-04-06T07:08:09+02:00</xmp:ModifyDate>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def pdf_with_info(info: bytes, *, xmp: bytes | None = None) -> bytes:
    """One empty page; ``info`` is the Info dictionary's body (``/Author (x) ...``)."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R" + (b" /Metadata 5 0 R" if xmp is not None else b"") + b" >>"
    objects = [
        catalog,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< " + info + b" >>",
    ]
    if xmp is not None:
        objects.append(pdf_stream(xmp, b"/Type /Metadata /Subtype /XML"))
    return pdf(objects, trailer=b"/Root 1 0 R /Info 4 0 R")


# -- OLE2 compound file -------------------------------------------------------------------------

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def ole2(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file (512-byte sectors) holding ``streams`` at the root.

    Every stream is padded with NULs to at least 4096 bytes (the mini-stream cutoff), so all live in
    regular sectors and no mini FAT is needed (the padding is harmless after a property set). One FAT
    sector (128 entries) and one directory sector (4 entries: root + up to 3 streams) suffice.
    """
    assert len(streams) <= 3
    names = list(streams)
    bodies = [streams[n].ljust(max(4096, -(-len(streams[n]) // 512) * 512), b"\x00") for n in names]
    fat = [FATSECT, ENDOFCHAIN]  # sector 0: the FAT; sector 1: the directory
    starts = []
    for body in bodies:
        first = len(fat)
        count = len(body) // 512
        starts.append(first)
        fat += [first + i + 1 for i in range(count - 1)] + [ENDOFCHAIN]
    assert len(fat) <= 128
    fat += [FREESECT] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return (
            raw.ljust(64, b"\x00")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", NOSTREAM, right, child)
            + b"\x00" * 16
            + b"\x00" * 4
            + b"\x00" * 16
            + struct.pack("<IQ", start, size)
        )

    directory = entry("Root Entry", 5, 1 if names else NOSTREAM, NOSTREAM, ENDOFCHAIN, 0)
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else NOSTREAM
        directory += entry(name, 2, NOSTREAM, right, starts[i], len(bodies[i]))
    directory = directory.ljust(512, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREESECT) * 108
    )
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + b"".join(bodies)


SUMMARY_FMTID = bytes.fromhex("e0859ff2f94f6810ab9108002b27b3d9")


def property_set(props: list[tuple[int, int, bytes]], fmtid: bytes = SUMMARY_FMTID) -> bytes:
    """An [MS-OLEPS] property set stream with one section: (property id, VT type, value bytes)."""
    values = b""
    index = b""
    header_len = 8 + 8 * len(props)
    for pid, vtype, value in props:
        index += struct.pack("<II", pid, header_len + len(values))
        body = struct.pack("<HH", vtype, 0) + value
        values += body.ljust(-(-len(body) // 4) * 4, b"\x00")
    section = struct.pack("<II", header_len + len(values), len(props)) + index + values
    head = struct.pack("<HHI", 0xFFFE, 0, 0x00020006) + b"\x00" * 16 + struct.pack("<I", 1)
    return head + fmtid + struct.pack("<I", 48) + section


def lpstr(text: str, codec: str = "cp1252") -> bytes:
    raw = text.encode(codec) + b"\x00"
    return struct.pack("<I", len(raw)) + raw


def filetime(ticks: int) -> bytes:
    return struct.pack("<Q", ticks)
