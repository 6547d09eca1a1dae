"""The findings sections of the court report (triage/report/findings), rendered as the report does.

A real small case (tests/triage/report_case.py: Kai's Android phone of the Quick start built from
the apps' schemas, the corpus photos with GPS, the corpus Chrome history, a deleted SMS, a hostile
chat body, keyword hits and a known-bad hash-set hit, all triaged through the real command line)
is rendered section by section with the report's Jinja2 environment and the skeleton's page frame
(templates/page.html.j2) into a folder, pictures going to a folder too (:class:`FolderMedia`).
Oracles: the builder's own story (every message body, in order), exiftool (positions of the
photos; no metadata left in a thumbnail), the documented map projection, Chromium (the hostile
body runs nothing). The scale tests insert synthetic SMS findings straight into
``triage_findings`` (shaped as ``sms_android`` stores them; triaging a database that large would
take minutes) and measure the rendering with tracemalloc.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
import tracemalloc
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from PIL import Image

from custody.case import Case, init_case, open_case
from tests.conftest import CORPUS
from tests.triage.report_case import (
    BAD_PHOTO,
    CAMERA,
    DELETED_SMS,
    HOSTILE,
    HOSTILE_NAME,
    WA_IMAGE,
    build_case,
    builder,
)
from tests.triage.synthetic_findings import insert_findings, sms_row
from triage.report.context import ReportContext
from triage.report.env import environment
from triage.report.findings import CSS, finding_sections
from triage.report.findings.geomap import Frame
from triage.report.redact import Redactor, parse_text
from triage.report.sections import PAGE_ROWS, Section
from triage.store import ensure_schema
from triage.store.models import Finding

EXIFTOOL = shutil.which("exiftool")
CORPUS_GPS = CORPUS / "images" / "gps"
CHROMIUM = shutil.which("chromium")
MB = 1024 * 1024


class FolderMedia:
    """The test's MediaSink: each picture once, named by its SHA-256, in ``media/`` of the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "media"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.added = 0

    def add(self, data: bytes, suffix: str) -> str:
        self.added += 1
        name = hashlib.sha256(data).hexdigest() + suffix
        target = self.folder / name
        if not target.exists():
            target.write_bytes(data)
        return f"media/{name}"


def page_name(section: Section, n: int) -> str:
    return f"{section.id}.html" if n == 1 else f"{section.id}-{n}.html"


def render(
    case: Case, out: Path, redactor: Redactor | None = None, kinds: tuple[str, ...] | None = None
) -> dict[str, list[Path]]:
    """Every findings section, page by page, as HTML files in ``out``: section id -> page files."""
    redactor = redactor or Redactor.none()
    ctx = ReportContext(case, (), kinds, FolderMedia(out), redactor)
    env = environment(redactor.text if redactor.active else None)
    frame = env.get_template("page.html.j2")
    pages: dict[str, list[Path]] = {}
    for section in finding_sections(ctx):
        files = pages.setdefault(section.id, [])
        for n, page in enumerate(section.pages(), 1):
            target = out / page_name(section, n)
            target.write_text(
                frame.render(**page, section=section, page_number=n, page_count=None), encoding="utf-8"
            )
            files.append(target)
    return pages


class Elements(HTMLParser):
    """Tags (with attributes) and the text of elements of chosen classes, in document order."""

    def __init__(self, classes: tuple[str, ...] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, str]] = []
        self._classes = classes
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("img", "br", "meta", "link"):
            return
        wanted = next((c for c in self._classes if c in (attributes.get("class") or "").split()), None)
        self._open.append((tag, wanted, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, wanted, text = self._open.pop()
            if wanted is not None:
                self.texts.append((wanted, "".join(text)))
            if self._open:
                self._open[-1][2].extend(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


def parsed(path: Path, *classes: str) -> Elements:
    parser = Elements(classes)
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(case folder, evidence folder) of tests/triage/report_case.py, built once for this module."""
    return build_case(tmp_path_factory.mktemp("report-case"))


@pytest.fixture(scope="module")
def plain(
    built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, list[Path]]]:
    """The findings sections rendered without redaction: (folder, pages)."""
    out = tmp_path_factory.mktemp("plain")
    with open_case(built[0]) as case:
        return out, render(case, out)


def _figure_of(gallery: Path, name: str) -> str:
    """The HTML of the gallery's figure of the picture named ``name``."""
    html = gallery.read_text(encoding="utf-8")
    for figure in re.findall(r'<figure class="f-picture".*?</figure>', html, re.S):
        title = re.search(r'<p class="f-picture-title">\d+\. (.*?) <span', figure)
        if title and unescape(title.group(1)) == name:
            return figure
    raise AssertionError(f"{name} is not in the gallery")


def test_sections_in_order_each_only_with_rows(plain: tuple[Path, dict[str, list[Path]]]) -> None:
    _out, pages = plain
    assert list(pages) == [
        "conversations",
        "threads",
        "calls",
        "contacts",
        "gallery",
        "web-history",
        "identifiers",
        "keyword-hits",
        "hash-hits",
        "other-records",
        "timeline",
    ]
    for section, files in pages.items():
        assert len(files) == 1, section
        html = files[0].read_text(encoding="utf-8")
        if section != "conversations":  # the index links to the threads, which carry provenance
            assert 'class="f-prov"' in html and "Source:</span> EX-001" in html, section
    assert (Path(__file__).parents[2] / "triage/report/templates" / CSS).is_file()


def test_kind_keeps_only_the_sections_asked_for(built: tuple[Path, Path], tmp_path: Path) -> None:
    with open_case(built[0]) as case:
        pages = render(case, tmp_path, kinds=("chat",))
    assert list(pages) == ["conversations", "threads", "calls", "contacts", "timeline"]
    timeline = pages["timeline"][0].read_text(encoding="utf-8")
    assert "chat/android/sms timestamp" in timeline and "media/photo/exif" not in timeline


def test_every_message_of_a_thread_in_order(plain: tuple[Path, dict[str, list[Path]]]) -> None:
    """The builder's SMS and WhatsApp conversations, each in its thread in time order (with the
    deleted SMS flagged as recovered, and the index linking to each thread)."""
    _out, pages = plain
    story = builder()
    page = parsed(pages["threads"][0], "f-thread-title", "f-body")
    threads: list[tuple[str, list[str]]] = []
    for kind, text in page.texts:
        if kind == "f-thread-title":
            threads.append((text, []))
        else:
            threads[-1][1].append(text)
    expected = {
        "1. sms: 07700900456": [t for _u, _k, t in story.SMS_THREAD] + [DELETED_SMS],
        "2. whatsapp: V": [t for _u, _k, t in story.WHATSAPP_CHAT] + [HOSTILE, "the van"],
    }
    assert dict(threads) == expected
    html = pages["threads"][0].read_text(encoding="utf-8")
    deleted = re.search(r'<li class="f-msg[^"]*f-msg-deleted"[^>]*>(.*?)</li>', html, re.S)
    assert deleted and DELETED_SMS in deleted.group(1)
    assert re.search(
        r"Deleted: recovered from the database's (unallocated|freeblock) space \(sms\._id=", deleted.group(1)
    )
    index = parsed(pages["conversations"][0])
    links = [a["href"] for tag, a in index.tags if tag == "a"]
    assert "threads.html#conversation-1" in links and "threads.html#conversation-2" in links
    ids = {a.get("id") for _tag, a in page.tags}
    assert {"conversation-1", "conversation-2"} <= ids
    back = [a["href"] for tag, a in page.tags if tag == "a"]
    assert back == ["conversations.html#index-conversation-1", "conversations.html#index-conversation-2"]
    assert {"index-conversation-1", "index-conversation-2"} <= {a.get("id") for _tag, a in index.tags}
    # times: UTC beside the stored value and its encoding
    assert '2026-03-12T18:41:00.000000Z</time> <span class="f-raw">(raw 1773340860000, unix_ms' in html


def test_hostile_body_is_text(plain: tuple[Path, dict[str, list[Path]]]) -> None:
    _out, pages = plain
    threads = pages["threads"][0]
    html = threads.read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=&#39;x&#39;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    tags = parsed(threads).tags
    assert not [t for t, _a in tags if t == "script"]
    images = [a for t, a in tags if t == "img"]
    assert images and all((a.get("src") or "").startswith("media/") and "onerror" not in a for a in images)
    gallery = pages["gallery"][0]
    assert not [t for t, _a in parsed(gallery).tags if t == "script"]
    assert "a&lt;b&gt;&amp;&#34;c&#39;&lt;script&gt;x.jpg" in gallery.read_text(encoding="utf-8")
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", threads.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "<title>Messages</title>" in dom and "onerror" not in dom.replace("onerror=alert(1)&gt;", "")
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in dom


def test_thumbnails_small_upright_and_without_metadata(plain: tuple[Path, dict[str, list[Path]]]) -> None:
    if EXIFTOOL is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    out, pages = plain
    gallery = pages["gallery"][0]
    thumbs = sorted((out / "media").glob("*.jpg"))
    # Canon_40D, the Kodak under a hostile name and four of the five GPS photos (DSCN0025 is
    # known-bad); the WhatsApp copy of DSCN0010 has the same thumbnail as the camera's
    assert len(thumbs) == 6
    for thumb in thumbs:
        with Image.open(thumb) as image:
            assert max(image.size) <= 160 and image.format == "JPEG"
            assert "exif" not in image.info
    found = json.loads(
        subprocess.run(
            [EXIFTOOL, "-j", "-G", "-a", "-EXIF:all", "-GPS:all", "-XMP:all", "-MakerNotes:all",
             "-ICC_Profile:all", "-IPTC:all", *map(str, thumbs)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert [sorted(entry) for entry in found] == [["SourceFile"]] * len(thumbs)
    for name in ("Canon_40D.jpg", "DSCN0010.jpg", "DSCN0027.jpg", HOSTILE_NAME):
        figure = _figure_of(gallery, name)
        src = re.search(r'<img class="f-thumb" src="(media/[0-9a-f]{64}\.jpg)"', figure)
        assert src and (out / src.group(1)).is_file(), name
    bad = _figure_of(gallery, BAD_PHOTO)
    assert "<img" not in bad and "known-bad hash set" in bad
    evidence_hash = hashlib.sha256((CORPUS_GPS / "DSCN0010.jpg").read_bytes()).hexdigest()
    assert f'IMG-20260310-WA0005.jpg</span> (161713 bytes) <span class="f-hash">SHA-256 {evidence_hash}' in (
        pages["threads"][0].read_text(encoding="utf-8")
    )
    attachment = re.search(
        r'<div class="f-attachment"><img class="f-thumb" src="(media/[^"]+)"', pages["threads"][0].read_text()
    )
    assert attachment and attachment.group(1) in _figure_of(gallery, "DSCN0010.jpg")


def _exiftool_positions(paths: list[Path]) -> dict[str, tuple[float, float]]:
    assert EXIFTOOL is not None
    rows = json.loads(
        subprocess.run(
            [EXIFTOOL, "-j", "-n", "-GPSLatitude", "-GPSLongitude", *map(str, paths)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return {
        Path(r["SourceFile"]).name: (float(r["GPSLatitude"]), float(r["GPSLongitude"]))
        for r in rows
        if "GPSLatitude" in r and "GPSLongitude" in r
    }


def test_map_has_one_point_per_position_where_exiftool_puts_it(
    built: tuple[Path, Path], plain: tuple[Path, dict[str, list[Path]]]
) -> None:
    if EXIFTOOL is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    out, pages = plain
    evidence = built[1]
    oracle = _exiftool_positions([*sorted((evidence / CAMERA).glob("*.jpg")), evidence / WA_IMAGE])
    # five GPS photos, the WhatsApp copy of one and the Kodak (in Kenya); Canon_40D has none
    assert len(oracle) == 7
    html = pages["gallery"][0].read_text(encoding="utf-8")
    numbers = {
        unescape(name): int(n)
        for n, name in re.findall(r'<p class="f-picture-title">(\d+)\. (.*?) <span', html)
    }
    assert set(oracle) <= set(numbers) and len(numbers) == 8
    maps = re.findall(r'<figure class="f-map"><img src="(media/[0-9a-f]{64}\.svg)"', html)
    assert len(maps) == 1  # one page: no separate overview
    svg = ElementTree.parse(out / maps[0]).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    frame = Frame(
        float(svg.get("data-west")),
        float(svg.get("data-east")),
        float(svg.get("data-south")),
        float(svg.get("data-north")),
        int(svg.get("width")),
        int(svg.get("height")),
    )
    assert frame.height <= 360 and frame.width == 480
    points = {int(c.get("data-n")): (float(c.get("cx")), float(c.get("cy"))) for c in svg.iter(f"{ns}circle")}
    assert sorted(points) == sorted(numbers[name] for name in oracle)
    for name, (lat, lon) in oracle.items():
        x = (lon - frame.west) / (frame.east - frame.west) * frame.width
        y = (frame.north - lat) / (frame.north - frame.south) * frame.height
        cx, cy = points[numbers[name]]
        assert abs(cx - x) < 0.01 and abs(cy - y) < 0.01, name
        assert 0 < cx < frame.width and 0 < cy < frame.height
    # the scale is the same both ways at the middle latitude (equirectangular, scaled)
    middle = math.cos(math.radians((frame.north + frame.south) / 2))
    px_per_km_x = frame.width / ((frame.east - frame.west) * 111.32 * middle)
    px_per_km_y = frame.height / ((frame.north - frame.south) * 111.32)
    assert abs(px_per_km_x / px_per_km_y - 1) < 0.01
    assert not [t for t in svg.iter(f"{ns}text") if re.search(r"[A-Za-z]{3}", t.text or "")]  # no names


def test_redaction_leaves_no_listed_value_and_treats_pictures(
    built: tuple[Path, Path], plain: tuple[Path, dict[str, list[Path]]], tmp_path: Path
) -> None:
    """Dani (a name) and her number (stored as 07700900456, 07700 900456, a WhatsApp JID ...)
    appear in the plain rendering and nowhere in the redacted one (pages and media); the blurred
    photo's thumbnail differs from the plain one; the hidden one has none."""
    plain_out, plain_pages = plain
    number = re.compile(r"[\s\-.()/]{0,3}".join("7700900456") + r"(?!\d)")
    name = re.compile(r"\bdani\b", re.I)

    def text_of(folder: Path) -> str:
        files = [*folder.glob("*.html"), *(folder / "media").glob("*.svg")]
        return "\n".join(unescape(p.read_text(encoding="utf-8")) for p in files)

    before = text_of(plain_out)
    assert number.search(before) and name.search(before)
    listed = parse_text(
        "region: GB\n"
        "name: Dani; number: 07700 900456\n"
        f"blur: EX-001:/{CAMERA}/DSCN0012.jpg\n"
        f"hide: /{CAMERA}/DSCN0021.jpg\n"
    )
    with open_case(built[0]) as case:
        redactor = Redactor.for_case(case.engine, listed)
        pages = render(case, tmp_path, redactor)
    after = text_of(tmp_path)
    assert not number.search(after) and not name.search(after)
    assert re.search(r"\bV1\b", after)
    gallery, plain_gallery = pages["gallery"][0], plain_pages["gallery"][0]
    blurred = re.search(r'src="(media/[^"]+)"', _figure_of(gallery, "DSCN0012.jpg"))
    original = re.search(r'src="(media/[^"]+)"', _figure_of(plain_gallery, "DSCN0012.jpg"))
    assert blurred and original
    with Image.open(tmp_path / blurred.group(1)) as a, Image.open(plain_out / original.group(1)) as b:
        assert a.size == b.size
        difference = sum(
            abs(p - q) for p, q in zip(a.convert("L").tobytes(), b.convert("L").tobytes(), strict=True)
        )
        assert difference / (a.size[0] * a.size[1]) > 5  # grey levels per pixel, on average
    assert "blurred (redaction list)" in _figure_of(gallery, "DSCN0012.jpg")
    hidden = _figure_of(gallery, "DSCN0021.jpg")
    assert "<img" not in hidden and "picture withheld (redaction list)" in hidden
    assert "<img" in _figure_of(plain_gallery, "DSCN0021.jpg")


# --- a large thread ---------------------------------------------------------------------------


def one_thread_case(root: Path, messages: int, *, conversations: int = 1, db_url: str | None = None) -> Path:
    """A case whose triage_findings hold ``messages`` SMS (inserted out of time order), shaped as
    ``sms_android`` stores them (tests/triage/synthetic_findings.py: not real data): one
    conversation, or message ``i`` in conversation ``i % conversations``."""
    case = init_case(root, case_number="2026/43", title="one long thread", db_url=db_url)
    try:
        ensure_schema(case.engine)

        def rows() -> Iterator[dict[str, Any]]:
            for n in range(messages):
                i = (n * 7919) % messages  # the message's place in time
                body = f"message {i + 1:06d}: the container is at pier {i % 7}, bring the papers"
                party, conversation = f"+1555555{i % conversations:04d}", str(1 + i % conversations)
                yield sms_row(i, party, conversation, body, fingerprint=f"{n}")

        with case.engine.begin() as conn:
            insert_findings(conn, rows())
    finally:
        case.close()
    return root


def _thread_pages(case_folder: Path, out: Path, rendered: int | None) -> Iterator[tuple[int, list[int], str]]:
    """The threads section's pages one at a time: the numbers of the messages on each (read from
    the page's mapping) and its HTML (the first ``rendered`` pages only; ``None``: all)."""
    with open_case(case_folder) as case:
        ctx = ReportContext(case, (), None, FolderMedia(out), Redactor.none())
        frame = environment().get_template("page.html.j2")
        section = next(s for s in finding_sections(ctx) if s.id == "threads")
        for n, page in enumerate(section.pages(), 1):
            numbers = [int(msg["body"][8:14]) for b in page["blocks"] for msg in b["messages"]]
            html = ""
            if rendered is None or n <= rendered:
                html = frame.render(**page, section=section, page_number=n, page_count=None)
            yield n, numbers, html


def _render_large(root: Path, messages: int, traced: int | None = None) -> int:
    """Render a thread of ``messages``; check every message is there once, in order, at most
    PAGE_ROWS a page; return the peak traced memory of the rendering. With ``traced``, only the
    first ``traced`` pages are rendered and traced (they include the sort of the whole thread, on
    the first page); the others are checked from their mappings."""
    one_thread_case(root / "case", messages)
    body = re.compile(r'<p class="f-body">message (\d{6}):')
    expected = 1
    pages = 0
    peak = 0
    tracemalloc.start()
    try:
        for n, numbers, html in _thread_pages(root / "case", root / "out", traced):
            pages = n
            assert 0 < len(numbers) <= PAGE_ROWS
            assert numbers == list(range(expected, expected + len(numbers))), n
            if html:
                assert [int(m) for m in body.findall(html)] == numbers
                assert ("(continued)" in html) == (n > 1)
            expected += len(numbers)
            if n == traced:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
        if tracemalloc.is_tracing():
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert expected == messages + 1 and pages == math.ceil(messages / PAGE_ROWS)
    return peak


def test_a_20000_message_thread_renders_page_by_page(tmp_path: Path) -> None:
    """40 pages of 500 messages, every message once and in order. Memory is traced over the sort
    of the whole thread and the first five pages (a section that read the thread into a list
    would hold it all by then): about 27 MB, where the 20,000 messages' pages are 15 MB of HTML
    and their dicts several times that."""
    peak = _render_large(tmp_path, 20_000, traced=5)
    assert peak < 48 * MB, f"peak {peak / MB:.1f} MB"


def render_all_pages(case_folder: str, out: str) -> None:
    """Run in a fresh interpreter by the test below: render every page of the threads section,
    check the messages are all there once and in order, and print the process's peak RSS."""
    import resource

    expected, pages = 1, 0
    for n, numbers, html in _thread_pages(Path(case_folder), Path(out), None):
        assert numbers == list(range(expected, expected + len(numbers))), n
        assert html.count('<p class="f-body">') == len(numbers)
        expected, pages = expected + len(numbers), n
    print(expected - 1, pages, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


@pytest.mark.slow
def test_a_100000_message_thread_in_bounded_memory(tmp_path: Path) -> None:
    """Ten times the messages, every page rendered, in two fresh processes (no tracing, which
    would cost minutes): the peak resident memory of 100,000 messages is within 30 MB of that of
    10,000 (the view sorts on disk; a page is dropped once rendered). A section that kept the
    thread or its pages would hold tens of MB more: 100,000 messages' pages are 75 MB of HTML."""
    import sys

    peaks = {}
    for messages in (10_000, 100_000):
        root = tmp_path / str(messages)
        one_thread_case(root / "case", messages)
        code = (
            "import sys; from tests.triage.test_report_findings import render_all_pages as r; "
            "r(sys.argv[1], sys.argv[2])"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(root / "case"), str(root / "out")],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[2],
            timeout=1200,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        count, pages, peak = (int(v) for v in proc.stdout.split()[-3:])
        assert count == messages and pages == math.ceil(messages / PAGE_ROWS)
        peaks[messages] = peak
    print({k: f"{v / MB:.0f} MB" for k, v in peaks.items()})
    assert peaks[100_000] - peaks[10_000] < 30 * MB, peaks


def test_the_sections_lay_out_as_pdf(plain: tuple[Path, dict[str, list[Path]]]) -> None:
    """The threads and the gallery, in one document with findings.css, through WeasyPrint: pdftotext
    reads every message body of the story in order (the hostile one as text) and every provenance
    line; pdftoppm renders the first page."""
    if not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
        pytest.skip("poppler-utils is not installed (scripts/setup.sh installs it)")
    from weasyprint import CSS as Sheet
    from weasyprint import HTML

    out, pages = plain
    bodies = []
    for section in ("threads", "gallery"):
        html = pages[section][0].read_text(encoding="utf-8")
        match = re.search(r"<body>(.*)</body>", html, re.S)
        assert match
        bodies.append(match.group(1))
    document = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body>'
    document += "".join(bodies) + "</body></html>"
    pdf = out / "findings.pdf"
    sheet = Sheet(filename=str(Path(__file__).parents[2] / "triage/report/templates" / CSS))
    HTML(string=document, base_url=str(out) + "/").write_pdf(str(pdf), stylesheets=[sheet])
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    story = builder()
    at = 0
    for body in (
        [t for _u, _k, t in story.SMS_THREAD] + [DELETED_SMS] + [t for _u, _k, t in story.WHATSAPP_CHAT]
    ):
        found = flat.find(body, at)
        assert found >= 0, body
        at = found
    assert HOSTILE in flat
    assert flat.count("Source: EX-001") == 13 + 8  # every message and every picture
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(out / "page")], check=True
    )
    with Image.open(next(out.glob("page*.png"))) as first:
        assert first.size[0] > 100 and first.getextrema() != ((255, 255), (255, 255), (255, 255))


@pytest.mark.postgres
def test_postgresql_case_pages_as_sqlite(tmp_path: Path, pg_database: str) -> None:
    """On PostgreSQL: 1,201 messages of three conversations give three conversations over three
    pages, each conversation's messages in time order, the index linking to the page each thread
    starts on; keyset pages of 50 rows give the findings in ``ORDER BY`` order."""
    from sqlalchemy import select

    from triage.report.findings.stream import findings_in_order

    one_thread_case(tmp_path / "case", 1201, conversations=3, db_url=pg_database)
    with open_case(tmp_path / "case") as case:
        ctx = ReportContext(case, (), None, FolderMedia(tmp_path), Redactor.none())
        sections = {s.id: s for s in finding_sections(ctx)}
        assert list(sections) == ["conversations", "threads", "timeline"]
        seen: dict[str, list[int]] = {}
        starts: dict[str, int] = {}
        for n, page in enumerate(sections["threads"].pages(), 1):
            for block in page["blocks"]:
                header = block["header"]
                if not block["continued"]:
                    starts[header["anchor"]] = n
                seen.setdefault(header["conversation"], []).extend(
                    int(msg["body"][8:14]) for msg in block["messages"]
                )
        assert n == 3
        for conversation, numbers in seen.items():
            assert numbers == list(range(int(conversation), 1202, 3))
        index = [row for page in sections["conversations"].pages() for row in page["conversations"]]
        assert [(c["conversation"], c["messages"]) for c in index] == [("1", 401), ("2", 400), ("3", 400)]
        for c in index:
            page = starts[c["anchor"]]
            assert c["href"] == (
                f"threads.html#{c['anchor']}" if page == 1 else f"threads-{page}.html#{c['anchor']}"
            )
        with case.engine.connect() as conn:
            ids = [
                r[0] for r in conn.execute(select(Finding.c.id).order_by(Finding.c.record_type, Finding.c.id))
            ]
        paged = [
            f.id for f in findings_in_order(case.engine, None, {"chat/android/sms"}, order="type", batch=50)
        ]
        assert paged == ids


def test_markup_is_redacted_between_its_tags_and_never_escaped_twice() -> None:
    """A macro's output and ``join``'s result are Markup: their text is redacted, their tags kept."""
    redactor = Redactor(pseudonyms={("name", "dani"): "V1"})
    env = environment(redactor.text)
    template = env.from_string(
        '{% macro who(x) %}<b title="{{ x }}">{{ x }} &amp; co</b>{% endmacro %}'
        "{{ who(name) }}|{{ [name, '<i>'] | join(', ') }}|{{ name }}"
    )
    assert (
        template.render(name="Dani's")
        == '<b title="V1&#39;s">V1&#39;s &amp; co</b>|V1&#39;s, &lt;i&gt;|V1&#39;s'
    )


def test_a_gallery_of_230_pictures_in_pages_of_100(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """230 JPEGs made with Pillow (each with a GPS position, 16 x 16 pixels: only the paging is
    tested), triaged by the real ``photos_exif`` plugin: the gallery has three pages of 100, 100
    and 30 pictures, each picture once and in path order; the first page alone has the overview
    map of all 230 positions, and every page has its own map of its own pictures."""
    import io

    from PIL import ExifTags

    from tests.plugins.triage_e2e import acquired_case, exhibit
    from triage.report.findings.gallery import GALLERY_ROWS

    assert GALLERY_ROWS == 100
    folder = tmp_path / "evidence" / "DCIM"
    folder.mkdir(parents=True)
    for n in range(230):
        exif = Image.Exif()
        exif[0x010F] = "PagingCam"
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[1], gps[3] = "N", "E"
        gps[2] = (52.0, float(n % 60), 0.0)
        gps[4] = (4.0, float(n // 60), 0.0)
        out = io.BytesIO()
        Image.new("RGB", (16, 16), (n % 256, 0, 0)).save(out, "JPEG", exif=exif)
        (folder / f"IMG_{n:04d}.jpg").write_bytes(out.getvalue())
    case_folder = acquired_case(tmp_path, monkeypatch, {"EX-001": tmp_path / "evidence"})
    ran = exhibit("triage", "EX-001", "--plugins", "photos_exif")
    assert ran.code == 0, ran.err
    with open_case(case_folder) as case:
        ctx = ReportContext(case, (), None, FolderMedia(tmp_path / "out"), Redactor.none())
        section = next(s for s in finding_sections(ctx) if s.id == "gallery")
        pages = list(section.pages())
    assert [len(p["pictures"]) for p in pages] == [100, 100, 30]
    assert [pic["n"] for p in pages for pic in p["pictures"]] == list(range(1, 231))
    assert [pic["name"] for p in pages for pic in p["pictures"]] == [f"IMG_{n:04d}.jpg" for n in range(230)]
    assert [p["overview"] is not None for p in pages] == [True, False, False]
    assert [p["overview_points"] for p in pages] == [230, 230, 230]
    assert [p["map_points"] for p in pages] == [100, 100, 30]
