"""``exhibit report`` (issue 10, sections 1-3) on a real small case, read back with real tools.

The case: a folder acquired as EX-001 holding an Android SMS database (the published ``sms``
table, made here with SQLite) and two photos written by Pillow with EXIF, one of them with a
hostile file name (a control character, a right-to-left override and ``<b>``); seal, hand-over
with a hostile reason, unseal, a correction, then ``exhibit triage``. A chat body and the reason
hold ``<script>document.title='x'</script><img src=x onerror=alert(1)>``.

Checked: the HTML folder in Debian's headless chromium (``--dump-dom``: the title unchanged, no
element made from evidence text; ``--screenshot``: a page of the window's size, not blank), no
URL leaving the folder; the PDF with ``pdftotext`` (every section title, the case number in the
header of every page, "Page 1 of N") and ``pdftoppm``; the ``report.write`` ledger entry (the
hashes of the files written, the manifest recipe of the verification appendix run in bash) and
``custody verify`` accepting it; byte-identical output on a second run; the refusal when a stored
finding was edited; and, with ``--redact``, that no listed value survives in the PDF's text, its
metadata, or any byte of any file of the HTML folder.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.conftest import need_tool
from tests.plugins.triage_e2e import Ran, acquired_case, exhibit

HOSTILE_BODY = "<script>document.title='x'</script><img src=x onerror=alert(1)>"
HOSTILE_NAME = "evil\x07\u202egpj.exe<b>bold.jpg"
SMS_DIR = "data/data/com.android.providers.telephony/databases"
REDACT = (
    "region: GB\nname: Alice Smith; number: 07700 900123; account: alice.s@example.com\nname: Bo Jensen\n"
)
CASE_NUMBER = "2026/99"

pytestmark = pytest.mark.slow  # the case is triaged and reported once for the module: ~12 s


@dataclass
class Built:
    root: Path
    config: Path
    case: Path
    html: Path
    pdf: Path
    html_run: Ran
    pdf_run: Ran


def _sms_database(path: Path) -> None:
    """The columns Android's telephony provider stores (and sms_android reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, "
        "date_sent INTEGER, type INTEGER, read INTEGER, seen INTEGER, status INTEGER, subject TEXT, "
        "body TEXT, service_center TEXT)"
    )
    rows = [
        (1, 1, "+447700900123", 1767261600000, 1767261598000, 1, 1, 1, -1, None, HOSTILE_BODY, None),
        (2, 1, "+447700900123", 1767261900000, 0, 2, 1, 1, -1, None, "Alice Smith: call 07700-900-123", None),
        (
            3,
            2,
            "+4520123456",
            1767262000000,
            0,
            1,
            1,
            1,
            -1,
            None,
            "ALICE SMITH mails alice.s@example.com",
            None,
        ),
    ]
    db.executemany("INSERT INTO sms VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


def _photo(path: Path, shade: int) -> None:
    image = Image.new("RGB", (64, 48), (shade, 90, 200 - shade))
    exif = Image.Exif()
    exif[0x010F] = "Exhibit test"  # Make
    exif[0x0110] = "Report camera"  # Model
    exif[0x0132] = "2026:01:01 10:00:00"  # DateTime
    image.save(path, "JPEG", exif=exif)


def _setup_env(monkeypatch: pytest.MonkeyPatch, built: Built) -> None:
    monkeypatch.setenv("EXHIBIT_CONFIG_DIR", str(built.config))
    monkeypatch.setenv("EXHIBIT_CASE", str(built.case))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")


def _make_case(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    evidence = root / "evidence"
    _sms_database(evidence / SMS_DIR / "mmssms.db")
    (evidence / "DCIM").mkdir()
    _photo(evidence / "DCIM" / HOSTILE_NAME, 40)
    _photo(evidence / "DCIM" / "alice_smith_447700900123.jpg", 120)
    case = acquired_case(root, monkeypatch, {"EX-001": evidence}, title="report <i>test</i>")
    for args in (
        ("actor", "add", "jdoe", "--name", "Jane Doe", "--role", "evidence-officer"),
        ("custody", "seal", "EX-001", "--seal", "S-1", "--actor", "asmith"),
        ("custody", "transfer", "EX-001", "--to", "jdoe", "--reason", f"for Bo Jensen {HOSTILE_BODY}"),
        ("custody", "unseal", "EX-001", "--seal", "S-1", "--actor", "jdoe"),
        ("custody", "move", "EX-001", "--location", "Locker 7", "--actor", "jdoe"),
        ("custody", "correct", "EX-001", "--entry", "7", "--reason", "it was locker 8", "--actor", "jdoe"),
        ("triage", "EX-001", "--plugins", "sms_android,photos_exif", "--workers", "1"),
    ):
        ran = exhibit(*args)
        assert ran.code == 0, (args, ran.out, ran.err)
    return case


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("report")
    config = root / "config"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXHIBIT_CONFIG_DIR", str(config))
        case = _make_case(root, mp)
        (root / "out").mkdir()
        html_run = exhibit("report", "--format", "html", "--out", str(root / "out" / "report"), "--json")
        pdf_run = exhibit("report", "--format", "pdf", "--out", str(root / "out" / "report.pdf"), "--json")
    yield Built(root, config, case, root / "out" / "report", root / "out" / "report.pdf", html_run, pdf_run)


def _ledger(built: Built, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    _setup_env(monkeypatch, built)
    return json.loads(exhibit("custody", "log", "--json").out)


# -- HTML --------------------------------------------------------------------------------------


def test_html_folder_is_self_contained(built: Built) -> None:
    assert built.html_run.code == 0, built.html_run.out + built.html_run.err
    names = {p.relative_to(built.html).as_posix() for p in built.html.rglob("*") if p.is_file()}
    expected = {"index.html", "style.css", "exhibits.html", "custody.html", "methodology.html"}
    assert expected <= names and "derived.html" in names and "verification.html" in names
    for path in built.html.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        external = re.search(rb"(?i)(?:https?|ftp|file|wss?):/|data:[a-z]+/|url\(|@import|<script", data)
        assert external is None, (path, external)
        if path.suffix == ".html":
            text = data.decode("utf-8")
            for ref in re.findall(r'(?:href|src)="([^"]*)"', text):
                assert ":" not in ref and not ref.startswith("/"), (path.name, ref)
                assert (built.html / ref.split("#")[0]).is_file(), (path.name, ref)
    index = (built.html / "index.html").read_text(encoding="utf-8")
    for section in ("exhibits", "custody", "methodology", "derived", "verification"):
        assert f'href="{section}.html"' in index


def test_html_shows_hostile_text_as_text(built: Built) -> None:
    custody = (built.html / "custody.html").read_text(encoding="utf-8")
    assert (
        "&lt;script&gt;document.title=&#39;x&#39;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in custody
    )
    derived = (built.html / "derived.html").read_text(encoding="utf-8")
    assert "evil\\x07\\u202egpj.exe&lt;b&gt;bold.jpg" in derived  # visible escapes, no markup
    assert "\u202e" not in derived and "\x07" not in derived
    # the custody problems in plain words: the correction is flagged on the entry it corrects
    assert "corrected by entry" in custody and "it was locker 8" in custody


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return name
    pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.mark.slow
def test_html_in_a_real_browser(built: Built, tmp_path: Path) -> None:
    browser = _chromium()
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    for page in ("custody.html", "derived.html", "index.html"):
        url = (built.html / page).as_uri()
        dom = subprocess.run(
            [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        title = re.search(r"<title>(.*?)</title>", dom, re.S)
        assert title and title.group(1) != "x" and "case 2026/99" in title.group(1), page
        assert not re.search(r"<img[^>]*src=\"?x", dom), page  # no element made of evidence text
        assert "<script" not in dom.replace("&lt;script", ""), page
    assert "document.title='x'" in subprocess.run(
        [*flags, "--dump-dom", (built.html / "custody.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.replace("&#39;", "'")
    shot = tmp_path / "custody.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1280,1600", (built.html / "custody.html").as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1600)
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 20  # text, table lines, the header bar: not a blank page
    white = max(count for count, colour in colours if colour == (255, 255, 255))
    assert white < 0.97 * 1280 * 1600


# -- PDF ---------------------------------------------------------------------------------------


def _pdftotext(path: Path) -> str:
    need_tool("pdftotext")
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf_read_back(built: Built, tmp_path: Path) -> None:
    assert built.pdf_run.code == 0, built.pdf_run.out + built.pdf_run.err
    result = json.loads(built.pdf_run.out)
    data = built.pdf.read_bytes()
    assert b".partial" not in data and str(built.root).encode() not in data  # no path of this computer
    reader = PdfReader(built.pdf)
    pages = len(reader.pages)
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 2  # the photos' thumbnails, fetched from the report's own media
    assert result["pages"] == pages and pages >= 7
    text = _pdftotext(built.pdf)
    sheets = text.split("\f")[:pages]
    for number, sheet in enumerate(sheets, 1):
        assert f"Case {CASE_NUMBER}" in sheet, number  # the running header
        assert f"Page {number} of {pages}" in sheet, number
    index = (built.html / "index.html").read_text(encoding="utf-8")
    titles = re.findall(r'<td><a href="[a-z0-9-]+\.html">(.*?)</a></td>', index)
    assert len(titles) >= 6
    flat = " ".join(text.split())
    for title in titles:
        assert title.replace("&#39;", "'") in flat, title
    assert "Contents" in flat and "Forensic examination report".upper() in flat.upper()
    need_tool("pdftoppm")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "2", str(built.pdf), str(tmp_path / "p")],
        check=True,
    )
    for png in sorted(tmp_path.glob("p-*.png")):
        image = Image.open(png).convert("L")
        assert abs(image.size[0] - 413) <= 1 and abs(image.size[1] - 585) <= 1  # A4 at 50 dots per inch
        dark = sum(image.histogram()[:128])
        assert dark > 500, png


def test_pdf_text_stays_on_the_page(built: Built) -> None:
    """Every word pdftotext finds lies inside the page (was: the chain of custody's last columns,
    Authority, Seal and Signed by, ran off the right edge of A4)."""
    need_tool("pdftotext")
    done = subprocess.run(
        ["pdftotext", "-bbox", str(built.pdf), "-"], capture_output=True, text=True, check=True
    )
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', done.stdout, re.S)
    assert pages
    outside = []
    for width, body in pages:
        for x_max, word in re.findall(
            r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>', body
        ):
            if float(x_max) > float(width) - 20:  # 15 mm margins: nothing within 7 mm of the edge
                outside.append(word)
    assert not outside, outside[:20]
    assert "Signed" in done.stdout and "Authority" in done.stdout


def test_pdf_words_are_never_printed_over_each_other(built: Built) -> None:
    """No two words of a line overlap (review: the derived files' SHA-256 column ran under "Read
    by", its widths being inline styles the pages' own Content-Security-Policy refuses), and no
    page of the HTML report carries an inline style the policy would refuse."""
    need_tool("pdftotext")
    done = subprocess.run(
        ["pdftotext", "-bbox", str(built.pdf), "-"], capture_output=True, text=True, check=True
    )
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>')
    overlaps = []
    for number, body in enumerate(re.findall(r"<page [^>]*>(.*?)</page>", done.stdout, re.S), 1):
        words = [(float(a), float(b), float(c), text) for a, b, c, text in word.findall(body)]
        for i, (x0, y0, x1, text) in enumerate(words):
            for u0, v0, _u1, other in words[i + 1 : i + 60]:
                if abs(y0 - v0) < 2 and x0 < u0 < x1 - 1.5:
                    overlaps.append((number, text, other))
    assert not overlaps, overlaps[:10]
    assert ">Read</word>" in done.stdout  # the derived files table is in the report
    for page in built.html.glob("*.html"):
        assert " style=" not in page.read_text(encoding="utf-8"), page.name


def test_pdf_outline_and_metadata(built: Built) -> None:
    reader = PdfReader(built.pdf)
    outline = [o.title for o in reader.outline]
    assert (
        outline[:3] == ["Exhibits", "Chain of custody", "Methodology"]
        and "Appendix B: verification" in outline
    )
    meta = reader.metadata
    assert meta is not None and meta["/Title"] == "Case 2026/99: report <i>test</i>"
    assert meta["/CreationDate"].startswith("D:20") and meta["/CreationDate"] == meta["/ModDate"]


class _Anchored(HTMLParser):
    """The short text pieces (4 to 25 characters) inside each element that has an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, list[str]] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "br", "meta", "link", "wbr", "input"):
            return
        ident = dict(attrs).get("id")
        self._open.append(ident)
        if ident:
            self.texts.setdefault(ident, [])

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("img", "br", "meta", "link", "wbr", "input") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        piece = " ".join(data.split())
        if 4 <= len(piece) <= 25:
            for ident in self._open:
                if ident:
                    self.texts[ident].append(piece)


def _anchor_texts(folder: Path) -> dict[str, list[str]]:
    parser = _Anchored()
    for page in sorted(folder.glob("*.html")):
        parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser.texts


def _links(pdf: Path) -> list[tuple[int, str, int]]:
    """Every link annotation: (page it is on, what it names, page it lands on; -1: nowhere)."""
    reader = PdfReader(pdf)
    named = reader.named_destinations
    found = []
    for number, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            annotation = ref.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A")
            if action is not None and "/URI" in action.get_object():
                found.append((number, "URI " + str(action.get_object()["/URI"]), -1))
                continue
            dest = annotation.get("/Dest")
            if dest is None and action is not None:
                dest = action.get_object().get("/D")
            if isinstance(dest, str):
                lands = reader.get_destination_page_number(named[dest]) if dest in named else -1
                found.append((number, dest, lands))
            else:
                found.append((number, f"explicit {dest}", -1))
    return found


@pytest.mark.parametrize("chunk", [None, 1])
def test_pdf_links_land_on_their_targets(
    built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chunk: int | None
) -> None:
    """Every link of the PDF (contents -> sections, conversation index <-> threads) is a named
    destination of the document on the page where pdftotext finds its target's text (the texts of
    the element with that id in the HTML report); none is a file: or report URI. With chunks of one
    character every section page is laid out alone, so every link crosses chunks; the pages are
    the same (a section page always starts a page)."""
    pdf = built.pdf
    if chunk is not None:
        _setup_env(monkeypatch, built)
        monkeypatch.setattr("triage.report.pdf.CHUNK_CHARS", chunk)
        pdf = tmp_path / built.pdf.name
        assert exhibit("report", "--format", "pdf", "--out", str(pdf)).code == 0
        assert len(PdfReader(pdf).pages) == len(PdfReader(built.pdf).pages)
    links = _links(pdf)
    targets = _anchor_texts(built.html)
    sheets = [" ".join(sheet.split()) for sheet in _pdftotext(pdf).split("\f")]
    assert not [name for _, name, _ in links if name.startswith("URI ")]  # no file: or report URI
    assert {name for _, name, _ in links} >= {"exhibits", "custody", "threads", "conversation-1"}
    assert any(name.startswith("index-conversation-") for _, name, _ in links)
    for on, name, lands in links:
        assert lands >= 0, (on, name)
        kind = name.rstrip("0123456789")  # the oracle: a text that no other target of its kind has
        others = [t for n, v in targets.items() if n != name and n.rstrip("0123456789") == kind for t in v]
        texts = [t for t in targets[name] if t not in others][:1]
        assert texts, name
        for text in texts:
            assert text in sheets[lands], (name, lands, text)
        if name.startswith("conversation-") or name.startswith("index-"):
            assert lands != on, name  # the index and the threads are different section pages


# -- the ledger ------------------------------------------------------------------------------


def test_report_is_recorded(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = _ledger(built, monkeypatch)
    written = [e["body"] for e in entries if e["body"]["kind"] == "report.write"]
    html, pdf = written[0]["data"], written[1]["data"]
    assert (
        html["format"] == "html"
        and html["file"] == "report"
        and html["redaction"] == {"applied": False, "file_sha256": None}
    )
    assert (
        pdf["sha256"] == hashlib.sha256(built.pdf.read_bytes()).hexdigest()
        and pdf["size"] == built.pdf.stat().st_size
    )
    assert html["sha256"] == hashlib.sha256((built.html / "index.html").read_bytes()).hexdigest()
    # the recipe of the verification appendix, run in bash, gives the recorded manifest hash
    recipe = (
        "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | while IFS= read -r p; do "
        'printf \'%s  %s  %s\\n\' "$(sha256sum < "$p" | cut -d\' \' -f1)" "$(stat -c %s "$p")" "$p"; '
        "done | sha256sum"
    )
    out = subprocess.run(
        ["bash", "-c", recipe], cwd=built.html, capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[0] == html["manifest_sha256"]
    assert html["exhibits"] == ["EX-001"] and html["covers"]["tree_size"] == pdf["covers"]["tree_size"]
    verify = exhibit("custody", "verify", "--json")
    assert verify.code == 0, verify.out
    assert json.loads(verify.out)["problems"] == []


def test_verify_report_checks_every_page_of_a_folder(
    built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found in review: only index.html's SHA-256 was checkable, and a seal number changed in
    another page of the HTML report went unseen. verify-report checks a folder by the manifest
    of all its files (the one report.write signs), a file by its SHA-256."""
    _setup_env(monkeypatch, built)
    for path in (built.pdf, built.html):
        ran = exhibit("verify-report", str(path))
        assert ran.code == 0 and ran.out.startswith(f"OK: {path}: its "), ran.out + ran.err
    copy = tmp_path / "report"
    shutil.copytree(built.html, copy)
    page = next(p for p in sorted(copy.rglob("*.html")) if p.name != "index.html")
    page.write_bytes(page.read_bytes().replace(b"EX-001", b"EX-00l", 1))
    changed = exhibit("verify-report", str(copy), "--json")
    found = json.loads(changed.out)
    assert changed.code == 1 and not found["ok"] and found["kind"] == "folder", found
    assert [n["file"] for n in found["named"]] == ["report"]  # the entry of that name signed another
    assert exhibit("verify-report", str(copy / "index.html")).code == 1  # index.html is not the report
    assert exhibit("verify-report", str(tmp_path / "nope")).code == 2


@pytest.mark.slow
def test_same_case_state_same_bytes(built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _setup_env(monkeypatch, built)
    again = tmp_path / "again"
    again.mkdir()
    assert exhibit("report", "--format", "html", "--out", str(again / "report")).code == 0
    assert exhibit("report", "--format", "pdf", "--out", str(again / "report.pdf")).code == 0
    assert (again / "report.pdf").read_bytes() == built.pdf.read_bytes()
    compared = filecmp.dircmp(built.html, again / "report")
    assert not compared.left_only and not compared.right_only and not compared.diff_files
    for name in compared.common_files:
        assert (built.html / name).read_bytes() == (again / "report" / name).read_bytes(), name
    # a new custody event is a new case state: another report
    assert exhibit("custody", "examine", "EX-001", "--actor", "jdoe").code == 0
    assert exhibit("report", "--format", "pdf", "--out", str(tmp_path / "report.pdf")).code == 0
    assert (tmp_path / "report.pdf").read_bytes() != built.pdf.read_bytes()


def test_refuses_edited_triage_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evidence = tmp_path / "evidence"
    _sms_database(evidence / SMS_DIR / "mmssms.db")
    case = acquired_case(tmp_path, monkeypatch, {"EX-001": evidence}, title="refusal")
    assert exhibit("triage", "EX-001", "--plugins", "sms_android", "--workers", "1").code == 0
    run = json.loads(exhibit("runs", "EX-001", "--json").out)[0]["run"]
    db = sqlite3.connect(case / "case.sqlite")
    db.execute(
        "UPDATE triage_findings SET data = replace(data, 'Alice', 'Alfred') WHERE locator = 'sms._id=2'"
    )
    db.commit()
    db.close()
    before = len(json.loads(exhibit("custody", "log", "--json").out))
    for fmt, name in (("pdf", "r.pdf"), ("html", "r")):
        ran = exhibit("report", "--format", fmt, "--out", str(tmp_path / name))
        assert ran.code == 2, ran.out + ran.err
        message = " ".join(ran.err.split())
        assert "EX-001" in message and run in message and "triage_findings" in message and "edited" in message
        assert "Traceback" not in ran.err
        assert not (tmp_path / name).exists()
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert len(json.loads(exhibit("custody", "log", "--json").out)) == before  # nothing recorded


def test_bad_options(built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _setup_env(monkeypatch, built)
    ran = exhibit("report", "--format", "docx", "--out", str(tmp_path / "x"))
    assert ran.code == 2 and "unknown format" in ran.err
    ran = exhibit("report", "--format", "pdf", "--out", str(built.pdf))
    assert ran.code == 2 and "already exists" in ran.err
    ran = exhibit("report", "--format", "pdf", "--out", str(tmp_path / "y.pdf"), "--exhibit", "EX-404")
    assert ran.code == 2 and "EX-404" in ran.err and "EX-001" in ran.err
    bad = tmp_path / "list.txt"
    bad.write_text("colour: red\n")
    ran = exhibit("report", "--format", "pdf", "--out", str(tmp_path / "z.pdf"), "--redact", str(bad))
    assert ran.code == 2 and "line 1" in ran.err and "list.txt" in ran.err
    ran = exhibit("report", "--format", "pdf", "--out", str(tmp_path / "k.pdf"), "--kind", "nosuch")
    assert ran.code == 2 and "no record type is or lies below 'nosuch'" in ran.err  # not a report of nothing
    # found in review: "does not exist"
    ran = exhibit("report", "--format", "pdf", "--out", str(bad / "r.pdf"))
    assert ran.code == 2 and f"{bad} is a file, not a folder" in ran.err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere; /proc refuses even root
        ran = exhibit("report", "--format", "pdf", "--out", str(locked / "r.pdf"))
        assert (
            ran.code == 2 and f"cannot write in the folder {locked}" in ran.err and ".partial" not in ran.err
        )
    ran = exhibit("report", "--format", "pdf", "--out", "/proc/r.pdf")
    assert ran.code == 2 and "cannot write in the folder /proc" in ran.err and ".partial" not in ran.err, (
        ran.err
    )
    assert not list(tmp_path.glob("*.pdf"))


# -- redaction ---------------------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    """Listed values found in ``text`` (case-insensitive; numbers with any separators)."""
    low = text.lower()
    found = [
        v
        for v in ("alice smith", "alice_smith", "alice-smith", "alice.s@example.com", "bo jensen")
        if v in low
    ]
    digits = re.sub(r"(?<=\d)[\s\-.()/\u00a0]+(?=\d)", "", low)
    found += [n for n in ("7700900123",) if n in digits]
    return found


@pytest.mark.slow
def test_redaction_leaves_no_listed_value(
    built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _setup_env(monkeypatch, built)
    listed = tmp_path / "victims.txt"
    listed.write_text(REDACT, encoding="utf-8")
    html, pdf = tmp_path / "redacted", tmp_path / "redacted.pdf"
    assert exhibit("report", "--format", "html", "--out", str(html), "--redact", str(listed)).code == 0
    assert exhibit("report", "--format", "pdf", "--out", str(pdf), "--redact", str(listed)).code == 0
    # the values are in the unredacted report (the test would prove nothing otherwise)
    plain = "".join(p.read_text(encoding="utf-8", errors="replace") for p in built.html.rglob("*.html"))
    assert {"alice_smith", "bo jensen", "7700900123"} <= set(_leaks(plain))
    for path in html.rglob("*"):
        if path.is_file():
            assert _leaks(path.read_bytes().decode("utf-8", "replace")) == [], path
    assert "V1" in (html / "derived.html").read_text(encoding="utf-8")
    assert "V2" in (html / "custody.html").read_text(encoding="utf-8")
    text = _pdftotext(pdf)
    assert _leaks(" ".join(text.split())) == [] and _leaks(text) == []
    reader = PdfReader(pdf)
    assert _leaks(json.dumps({k: str(v) for k, v in (reader.metadata or {}).items()})) == []
    assert _leaks(" ".join(o.title for o in reader.outline)) == []
    for page in reader.pages:  # the text as pypdf extracts it, too
        assert _leaks(page.extract_text()) == []
    data = [e["body"]["data"] for e in _ledger(built, monkeypatch) if e["body"]["kind"] == "report.write"][-1]
    assert data["redaction"] == {
        "applied": True,
        "file_sha256": hashlib.sha256(listed.read_bytes()).hexdigest(),
    }
    assert _leaks(json.dumps(data)) == []


def test_e01_exhibit_against_ewfinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An E01's header values, stored hash and its comparison, as ``ewfinfo`` reads them, and the
    file system ``fsstat`` finds, in the exhibits section."""
    from tests.conftest import CORPUS, need

    image = need(CORPUS / "disk" / "dfvfs" / "ext2.E01", "(the shared corpus)")
    ewfinfo = subprocess.run(
        [need_tool("ewfinfo"), str(image)], capture_output=True, text=True, check=True
    ).stdout
    fields = dict(re.findall(r"^\t([A-Za-z0-9 ]+):\t+(.*)$", ewfinfo, re.M))
    acquired_case(tmp_path, monkeypatch, {"EX-001": image}, title="e01")
    assert exhibit("triage", "EX-001", "--plugins", "photos_exif", "--workers", "1").code == 0
    ran = exhibit("report", "--format", "html", "--out", str(tmp_path / "r"))
    assert ran.code == 0, ran.out + ran.err
    page = (tmp_path / "r" / "exhibits.html").read_text(encoding="utf-8")
    rows = dict(re.findall(r"<tr><td>([a-z_]+)</td><td>(.*?)</td></tr>", page))
    assert rows["case_number"] == fields["Case number"] and rows["examiner_name"] == fields["Examiner name"]
    assert rows["description"] == fields["Description"] and rows["notes"] == fields["Notes"]
    md5 = fields["MD5"]
    stored = re.search(
        r"<td>md5</td><td><code class=\"hash\">(\w+)</code></td><td><code class=\"hash\">(\w+)</code></td><td>yes</td>",
        page,
    )
    assert stored and stored.group(1) == stored.group(2) == md5
    fs = subprocess.run(
        [need_tool("fsstat"), "-i", "ewf", str(image)], capture_output=True, text=True, check=True
    ).stdout
    fs_type = re.search(r"File System Type: (\w+)", fs)
    assert fs_type and f"File system at byte 0</b> ({fs_type.group(1).lower()})" in page
