"""The extension-mismatch flag is the same on every machine and in every process.

Python's ``mimetypes`` functions read the machine's ``/etc/mime.types`` (Debian's ``media-types``)
once something calls ``mimetypes.init()``; the flag used them, so a ``.ogg`` holding Ogg video
(libmagic: ``video/ogg``) was flagged in a process that had initialised ``mimetypes`` on a machine
with that file (where ``.ogg`` is ``audio/ogg``) and not flagged elsewhere. The examiner's
walkthrough (docs/examiner.md) failed that way after an unrelated change of import order.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from triage.sources import filetype
from triage.sources.filetype import extension_mismatch

MIME_TYPES = Path("/etc/mime.types")


def test_same_flags_before_and_after_the_machine_table_is_read(tmp_path: Path) -> None:
    cases = {
        ("movie-hello.ogg", "video/ogg"): False,  # Ogg video may be named .ogg
        ("song.ogg", "audio/ogg"): False,
        ("a-text.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"): False,
        ("a-text.odt", "application/vnd.oasis.opendocument.text"): False,
        ("a-text.docx", "application/vnd.oasis.opendocument.text"): True,
        ("invoice.pdf", "image/jpeg"): True,  # the examiner's walkthrough: a JPEG named .pdf
        ("photo.jpg", "image/jpeg"): False,
        ("notes.txt", "text/plain"): False,
        ("setup.exe", "image/png"): True,
    }
    before = {key: extension_mismatch(*key) for key in cases}
    # what any library may do in the same process: read the system table, or a table of its own
    table = tmp_path / "mime.types"
    table.write_text("audio/ogg ogg oga\napplication/x-made-up jpg pdf\n", encoding="utf-8")
    mimetypes.init([str(table), *([str(MIME_TYPES)] if MIME_TYPES.exists() else [])])
    try:
        # as in a process whose first file came after that: the tables are built anew
        filetype._known_extensions.cache_clear()
        filetype._all_claimed_extensions.cache_clear()
        after = {key: extension_mismatch(*key) for key in cases}
    finally:
        mimetypes.init()
    assert before == after == cases
