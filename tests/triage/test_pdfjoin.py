"""The PDF join (triage/report/pdfjoin.py) on documents WeasyPrint lays out here: pages in order,
"Page X of Y" on each (pdftotext), links across the joined files landing on the page of their
target (pypdf reads the destinations back), the outline, the fixed /ID, poppler reading the file
without a complaint, and the same bytes twice."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from tests.conftest import need_tool
from triage.report.media import BASE
from triage.report.pdfjoin import Bookmark, JoinError, join, link_target

IDENTIFIER = bytes(range(16))


def test_link_target() -> None:
    assert link_target(BASE + "threads-2.html#conversation-5") == "conversation-5"
    assert link_target(BASE + "threads-2.html") == "threads-p2"
    assert link_target(BASE + "threads.html") == "threads"
    assert link_target("#a") == "a"
    assert link_target("https://example.com/x.html#a") is None


def _chunks(folder: Path) -> list[Path]:
    """Two files: the first links to an anchor of the second and to its second section page."""
    first = (
        '<p><a href="two.html#target">to the target</a></p><p><a href="two-2.html">to page two</a></p>'
        '<p id="here"><a href="#here">to itself</a></p>'
        '<p style="break-before: page">first file, second page</p>'
    )
    second = (
        '<section id="two"><p>second file, first page</p></section>'
        '<section id="two-p2" style="break-before: page"><p>second file, second page</p>'
        '<p id="target">the target paragraph</p><p><a href="#two">back</a></p></section>'
    )
    paths = []
    for n, body in enumerate((first, second)):
        path = folder / f"chunk-{n}.pdf"
        HTML(string=f"<html><body>{body}</body></html>", base_url=BASE).write_pdf(
            path, pdf_identifier=IDENTIFIER
        )
        paths.append(path)
    return paths


def _joined(chunks: list[Path]) -> bytes:
    out = io.BytesIO()
    pages = join(
        out,
        chunks,
        4,
        {"target", "two-p2", "here", "two"},
        [Bookmark("First", 0), Bookmark("Second", 2)],
        {"Title": "joined", "CreationDate": "D:20260101000000+00'00'"},
        IDENTIFIER,
    )
    assert pages == 4
    return out.getvalue()


def test_join(tmp_path: Path) -> None:
    need_tool("pdftotext")
    data = _joined(_chunks(tmp_path))
    assert data == _joined(_chunks(tmp_path))  # same chunks, same bytes
    pdf = tmp_path / "joined.pdf"
    pdf.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert info.stderr == "" and "Pages:           4" in info.stdout
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    sheets = text.split("\f")
    for number, words in enumerate(
        ["to the target", "first file, second page", "second file, first page", "the target paragraph"]
    ):
        assert words in sheets[number] and f"Page {number + 1} of 4" in sheets[number]
    reader = PdfReader(pdf)
    assert f"/ID [<{IDENTIFIER.hex()}> <{IDENTIFIER.hex()}>]".encode() in data
    assert reader.metadata is not None
    assert reader.metadata["/Title"] == "joined"
    assert [(o.title, reader.get_destination_page_number(o)) for o in reader.outline] == [
        ("First", 0),
        ("Second", 2),
    ]
    named = reader.named_destinations
    landed = {}
    for number, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            link = ref.get_object()
            assert "/A" not in link  # no URI left
            landed[str(link["/Dest"])] = (
                number,
                reader.get_destination_page_number(named[str(link["/Dest"])]),
            )
    assert landed == {"target": (0, 3), "two-p2": (0, 3), "here": (0, 0), "two": (3, 2)}


def test_join_refuses_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    with pytest.raises(JoinError):
        join(io.BytesIO(), [bad], 1, set(), [], {}, IDENTIFIER)
