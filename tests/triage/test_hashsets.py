"""Hash sets (issue 9, section 6): import, list, remove, matching during triage and after it.

Oracles and fixtures:

* plain lists are written by the real ``md5sum``, ``sha1sum`` and ``sha256sum`` (and
  ``sha256sum --tag`` for the BSD form) over real files; the values Exhibit matches are those tools';
* ``hashdeep`` is not packaged on the build machine: its fixture follows the published output
  format (the ``%%%% HASHDEEP-1.0`` header, ``%%%% size,md5,sha256,filename``, ``##`` comment
  lines, CSV rows), with the hashes computed by hashlib;
* NSRL RDSv3: a SQLite database built from the published RDSv3 schema (``FILE`` table: sha256,
  sha1, md5, file_name, file_size, package_id, with its composite primary key), and the
  "minimal" variant where ``FILE`` is a view;
* Project VIC: fixtures built from the published VICS data-model shapes: VICS 1.3
  (``odata.metadata`` ``http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media``, media with
  ``odata.id``, ``MediaID``, ``Category``, ``MD5``, ``SHA1``, ``MediaSize``, ``Series``,
  ``MediaFiles``) and VICS 2.0 (``@odata.context`` ``.../VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/
  US/$metadata#Media``, and the ``#Cases`` form whose cases carry a ``Media`` array, flags as the
  strings "true"/"false"); the values are synthetic;
* WhatsApp: a msgstore.db built from the app's schema (tests/plugins/app_schemas.py) whose
  ``message_media.file_hash`` is the base64 SHA-256 of a file that is NOT in the evidence;
* PDQ: distances are checked against a pure-Python popcount; ``media/image/pdq`` records are
  constructed (exact distances at the threshold) and, end to end, made by the ``pdq`` plugin from
  Meta's published ``bridge-1-original.jpg`` (tests/data/pdq), whose reference hash ThreatExchange
  publishes.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from custody.actors import add_actor
from custody.case import Case, init_case, open_case
from custody.items import acquire
from custody.verify import verify_case
from tests.conftest import need_tool
from tests.plugins.test_whatsapp_android import DB_DIR, MEDIA_SCHEMA, NEW_ROWS, NEW_SCHEMA
from tests.plugins.triage_e2e import exhibit
from triage.engine import writes
from triage.engine.run import TriageOptions, run_triage
from triage.hashsets import formats, store
from triage.hashsets.errors import HashSetError
from triage.hashsets.match import HIT_TYPE, PDQ_TYPE, match_exhibit
from triage.hashsets.pdq import PdqIndex, hamming
from triage.store.models import Finding

BAD = b"contraband picture bytes\n"
GOOD = b"operating system library\n"
OTHER = b"an ordinary note\n"
GONE = b"a WhatsApp photo that was deleted from the phone\n"

RDSV3_SCHEMA = """
CREATE TABLE FILE (
 sha256     VARCHAR NOT NULL,
 sha1       VARCHAR NOT NULL,
 md5        VARCHAR NOT NULL,
 file_name  VARCHAR NOT NULL,
 file_size  INTEGER NOT NULL,
 package_id INTEGER NOT NULL,
 CONSTRAINT PK_FILE__FILE PRIMARY KEY (sha256, sha1, md5, file_name, file_size, package_id)
);
CREATE TABLE PKG (package_id INTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR NOT NULL,
 operating_system_id INTEGER NOT NULL, manufacturer_id INTEGER NOT NULL, language VARCHAR NOT NULL,
 application_type VARCHAR NOT NULL, CONSTRAINT PK_PKG__PKG_ID PRIMARY KEY (package_id));
"""


def _report(path: Path, fmt: str) -> tuple[list[formats.Parsed], formats.ParseReport]:
    report = formats.ParseReport()
    return list(formats.read_hashes(path, fmt, report)), report


def _hex(parsed: list[formats.Parsed]) -> set[tuple[str, str]]:
    return {(formats.ALGO_NAMES[p.algo], p.digest.hex()) for p in parsed}


# -- formats ------------------------------------------------------------------------------------------


def test_plain_lists_from_the_coreutils_tools_with_garbage_counted(tmp_path: Path) -> None:
    for tool in ("md5sum", "sha1sum", "sha256sum"):
        need_tool(tool)
    files = []
    for i, data in enumerate((BAD, GOOD, OTHER)):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(data)
        files.append(str(f))
    lines = []
    for tool in ("md5sum", "sha1sum", "sha256sum"):
        lines.append(subprocess.run([tool, *files], capture_output=True, check=True).stdout)
    lines.append(subprocess.run(["sha256sum", "--tag", files[0]], capture_output=True, check=True).stdout)
    body = (
        b"# exported by hand\n\n" + b"".join(lines) + b"not a hash at all\nd41d8cd98f00b204e9800998ecf8427\n"
    )
    body += b"ZZ1d8cd98f00b204e9800998ecf8427e  name\n" + b"D41D8CD98F00B204E9800998ECF8427E\n"
    path = tmp_path / "list.txt"
    path.write_bytes(body)
    assert formats.detect_format(path) == "plain"
    parsed, report = _report(path, "plain")
    expected = {
        (name, getattr(hashlib, name)(data).hexdigest())
        for name in ("md5", "sha1", "sha256")
        for data in (BAD, GOOD, OTHER)
    } | {("md5", "d41d8cd98f00b204e9800998ecf8427e")}
    assert _hex(parsed) == expected
    assert report.hashes == 11 and report.garbage == 3 and report.comments == 1 and report.blank == 1
    assert report.by_algo == {"md5": 4, "sha1": 3, "sha256": 4}
    assert [n for n, _t, _p in report.samples] == [13, 14, 15]  # line numbers of the garbage


@pytest.mark.parametrize("encoding", ["utf-16le", "utf-16be"])
def test_a_utf16_list_with_its_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    """Windows PowerShell 5.1's ``Out-File`` writes UTF-16LE with a byte-order mark by default;
    found in review: such a list was refused as "no hash found", the message naming no encoding.
    The same list as UTF-8 is the oracle: same hashes, same counts, same line numbers."""
    sha = hashlib.sha256(BAD).hexdigest()
    md5 = hashlib.md5(GOOD).hexdigest()
    text = f"# Get-FileHash export\r\n{sha}  bad.bin\r\n\r\nnot a hash\r\n{md5.upper()} good.bin\r\n"
    utf8 = tmp_path / "list-utf8.txt"
    utf8.write_bytes(text.encode("utf-8"))
    utf16 = tmp_path / f"list-{encoding}.txt"
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16le" else codecs.BOM_UTF16_BE
    utf16.write_bytes(bom + text.encode(encoding))
    assert formats.detect_format(utf16) == "plain"
    parsed, report = _report(utf16, "plain")
    oracle, oracle_report = _report(utf8, "plain")
    assert _hex(parsed) == _hex(oracle) == {("sha256", sha), ("md5", md5)}
    assert report.counts() == oracle_report.counts() and report.samples == oracle_report.samples
    assert [n for n, _t, _p in report.samples] == [4]
    deep = tmp_path / "deep.txt"  # hashdeep's own output, saved by PowerShell
    deep.write_bytes(
        bom + f"%%%% HASHDEEP-1.0\r\n%%%% size,sha256,filename\r\n3,{sha},/x\r\n".encode(encoding)
    )
    assert formats.detect_format(deep) == "hashdeep"
    assert _hex(_report(deep, "hashdeep")[0]) == {("sha256", sha)}


def test_a_binary_file_is_garbage_read_in_bounded_pieces(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg.txt"
    with open(path, "wb") as fh:
        fh.write(b"\xff\xd8" + os.urandom(1024).replace(b"\n", b"") * 300)  # 300 KB without a newline
        fh.write(b"\n" + hashlib.sha256(BAD).hexdigest().encode() + b"\n")
    parsed, report = _report(path, "plain")
    assert _hex(parsed) == {("sha256", hashlib.sha256(BAD).hexdigest())}
    assert report.garbage == 1 and "longer than" in report.samples[0][2]


def test_hashdeep_output_format(tmp_path: Path) -> None:
    rows = [
        f"{len(d)},{hashlib.md5(d).hexdigest()},{hashlib.sha256(d).hexdigest()},/data/f,{i}.bin"
        for i, d in enumerate((BAD, GOOD))
    ]
    path = tmp_path / "hashdeep.txt"
    path.write_text(
        "%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n## Invoked from: /data\n"
        "## $ hashdeep -c md5,sha256 -r /data\n##\n" + "\n".join(rows) + "\n12,nothex,abc,/data/x\n"
    )
    assert formats.detect_format(path) == "hashdeep"
    parsed, report = _report(path, "hashdeep")
    assert _hex(parsed) == {
        (n, getattr(hashlib, n)(d).hexdigest()) for n in ("md5", "sha256") for d in (BAD, GOOD)
    }
    assert report.entries == 3 and report.garbage == 1 and report.comments == 5


def _rdsv3(path: Path, rows: list[tuple[bytes, str]], *, as_view: bool = False) -> Path:
    con = sqlite3.connect(path)
    schema = (
        RDSV3_SCHEMA.replace("CREATE TABLE FILE (", "CREATE TABLE FILE_DATA (") if as_view else RDSV3_SCHEMA
    )
    con.executescript(schema)
    table = "FILE_DATA" if as_view else "FILE"
    con.execute("INSERT INTO PKG VALUES (1, 'Windows', '10', 1, 1, 'English', 'Operating System')")
    for data, name in rows:
        con.execute(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, 1)",
            (
                hashlib.sha256(data).hexdigest().upper(),
                hashlib.sha1(data).hexdigest().upper(),
                hashlib.md5(data).hexdigest().upper(),
                name,
                len(data),
            ),
        )
    if as_view:
        con.execute(
            "CREATE VIEW FILE AS SELECT sha256, sha1, md5, file_name, file_size, package_id FROM FILE_DATA"
        )
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize(("as_view", "folder"), [(False, "."), (True, "."), (False, "RDS 50%41?x#y")])
def test_nsrl_rdsv3_sqlite(tmp_path: Path, as_view: bool, folder: str) -> None:
    """Also from a folder whose name SQLite's URIs would read as an escape, options, a fragment."""
    (tmp_path / folder).mkdir(exist_ok=True)
    path = _rdsv3(
        tmp_path / folder / "rds.db",
        [(GOOD, "kernel32.dll"), (GOOD, "copy.dll"), (OTHER, "readme.txt")],
        as_view=as_view,
    )
    before = path.read_bytes()
    assert formats.detect_format(path) == "nsrl"
    parsed, report = _report(path, "nsrl")
    assert report.entries == 3 and report.garbage == 0 and report.hashes == 9
    assert _hex(parsed) == {
        (n, getattr(hashlib, n)(d).hexdigest()) for n in ("md5", "sha1", "sha256") for d in (GOOD, OTHER)
    }
    assert path.read_bytes() == before  # opened read-only and immutable


def test_a_sqlite_file_that_is_not_an_rds(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.close()
    with pytest.raises(HashSetError, match="no FILE table"):
        _report(path, "nsrl")


def _media(i: int, data: bytes, category: int) -> dict[str, object]:
    md5 = hashlib.md5(data).hexdigest().upper()
    return {
        "odata.id": f'Media("{md5}")',
        "MediaID": i,
        "Category": category,
        "MD5": md5,
        "SHA1": hashlib.sha1(data).hexdigest().upper(),
        "MediaSize": len(data),
        "Series": "Synthetic series A",
        "VictimIdentified": "false",
        "OffenderIdentified": "false",
        "IsDistributed": "true",
        "MediaFiles": [{"MD5": md5, "FileName": f"{i}.jpg", "FilePath": "seized/pictures"}],
    }


@pytest.mark.parametrize(
    "document",
    [
        {  # VICS 1.3
            "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
            "value": [_media(1, BAD, 1), _media(2, GONE, 2), {"MediaID": 3, "Category": 1, "MD5": "xyz"}],
        },
        {  # VICS 2.0, media
            "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
            "value": [_media(1, BAD, 1), _media(2, GONE, 2), {"MediaID": 3, "Category": 1}],
        },
        {  # VICS 2.0, cases holding media
            "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases",
            "value": [
                {
                    "CaseID": "{7d5e3f34-0000-4000-8000-000000000001}",
                    "SourceApplicationName": "synthetic",
                    "Media": [_media(1, BAD, 1), _media(2, GONE, 2), {"MediaID": 3, "SHA1": "12"}],
                }
            ],
        },
    ],
    ids=["vics-1.3", "vics-2.0-media", "vics-2.0-cases"],
)
def test_project_vic_json(tmp_path: Path, document: dict[str, object]) -> None:
    path = tmp_path / "vics.json"
    path.write_text(json.dumps(document, indent=1))
    assert formats.detect_format(path) == "vics"
    parsed, report = _report(path, "vics")
    assert report.entries == 3 and report.garbage == 1 and report.samples[0][1] == "MediaID 3"
    got = {(formats.ALGO_NAMES[p.algo], p.digest.hex(), p.category) for p in parsed}
    assert got == {
        (n, getattr(hashlib, n)(d).hexdigest(), c)
        for n in ("md5", "sha1")
        for d, c in ((BAD, "1"), (GONE, "2"))
    }


def test_malformed_json_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"odata.metadata": "x#Media", "value": [{"MD5": "00"')
    with pytest.raises(HashSetError, match=r"broken\.json"):
        _report(path, "vics")


def test_pdq_search_agrees_with_popcount_at_the_threshold() -> None:
    """Random 256-bit hashes and neighbours at known distances: numpy search vs int.bit_count."""
    rng = random.Random(9)
    base = [rng.randbytes(32) for _ in range(300)]

    def flip(h: bytes, bits: int) -> bytes:
        value = int.from_bytes(h, "big")
        for b in rng.sample(range(256), bits):
            value ^= 1 << b
        return value.to_bytes(32, "big")

    complement = bytes(b ^ 0xFF for b in base[3])  # 256 bits: must not wrap around to 0
    queries = [flip(base[0], 31), flip(base[1], 32), flip(base[2], 0), rng.randbytes(32), complement]

    index = PdqIndex.of([(h, 7, None) for h in base])
    got = {(qi, d.hex(), dist) for qi, d, _s, _c, dist in index.search(queries, 31)}
    expected = {
        (qi, h.hex(), hamming(q, h)) for qi, q in enumerate(queries) for h in base if hamming(q, h) <= 31
    }
    assert got == expected
    assert {qi for qi, _d, _x in got} == {0, 2}  # 31 bits: a hit; 32: not; a random hash: not


# -- a case -------------------------------------------------------------------------------------------


def _msgstore(path: Path, media_hash: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(NEW_SCHEMA + MEDIA_SCHEMA + NEW_ROWS.replace("'aGFzaA=='", f"'{media_hash}'"))
    con.close()


def _evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    (folder / "Pictures").mkdir(parents=True)
    (folder / "Windows").mkdir()
    (folder / "Pictures" / "IMG_0001.jpg").write_bytes(BAD)
    (folder / "Windows" / "kernel32.dll").write_bytes(GOOD)
    (folder / "notes.txt").write_bytes(OTHER)
    _msgstore(folder / DB_DIR / "msgstore.db", base64.b64encode(hashlib.sha256(GONE).digest()).decode())
    return folder


def _case(tmp_path: Path, url: str | None = None) -> Case:
    case = init_case(tmp_path / "case", case_number="2026/77", title="hash sets", db_url=url)
    add_actor(case, "asmith", name="Alan Smith", role="examiner")
    acquire(case, _evidence(tmp_path), exhibit="EX-001", actor="asmith", description="a folder")
    return case


def _lists(tmp_path: Path) -> tuple[Path, Path]:
    bad = tmp_path / "bad.md5"
    bad.write_text(
        f"{hashlib.md5(BAD).hexdigest()}  IMG_0001.jpg\n{hashlib.sha256(GONE).hexdigest()}  gone.jpg\n"
        "this line is garbage\n"
    )
    good = _rdsv3(tmp_path / "rds.db", [(GOOD, "kernel32.dll")])
    return bad, good


def _hits(case: Case) -> list[dict[str, object]]:
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(Finding.c.path, Finding.c.data).where(Finding.c.record_type == HIT_TYPE)
        ).all()
    return sorted(
        (json.loads(d) | {"path": p} for p, d in rows), key=lambda d: (str(d["path"]), str(d["set_name"]))
    )


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_triage_matches_files_and_recorded_hashes_hides_known_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _case(tmp_path)
    bad, good = _lists(tmp_path)
    evidence_before = _state(tmp_path / "evidence")
    try:
        imported = store.import_set(case, bad, name="case-17", kind="known-bad", category="1", actor="asmith")
        assert imported.set.counts["imported"] == 2 and imported.set.counts["garbage"] == 1
        assert imported.garbage == [
            {"line": 3, "text": "this line is garbage", "problem": imported.garbage[0]["problem"]}
        ]
        store.import_set(case, good, name="nsrl-mini", kind="known-good", actor="asmith")
        with pytest.raises(HashSetError, match="exists already"):
            store.import_set(case, good, name="nsrl-mini", kind="known-good", actor="asmith")
        summary = run_triage(
            case, "EX-001", actor="asmith", options=TriageOptions(workers=1, plugins=["whatsapp_android"])
        )
        assert summary.status == "complete"
        [run] = [e for e in case.ledger.entries(exhibit="EX-001") if e.kind == "triage.run"]
        assert {"md5", "sha1", "sha256"} <= set(run.data["arguments"]["hashes"])  # computed in the one read
        assert [s["name"] for s in run.data["arguments"]["hashsets"]] == ["case-17", "nsrl-mini"]
        imports = [e for e in case.ledger.entries() if e.kind == store.IMPORT_KIND]
        assert [e.data["source"]["sha256"] for e in imports] == [
            hashlib.sha256(bad.read_bytes()).hexdigest(),
            hashlib.sha256(good.read_bytes()).hexdigest(),
        ]
        assert imports[0].data["counts"]["garbage"] == 1 and imports[0].data["kind"] == "known-bad"
        hits = _hits(case)
        assert {(h["path"], h["set_name"], h["algorithm"], h["target"], h["kind"]) for h in hits} == {
            ("/Pictures/IMG_0001.jpg", "case-17", "md5", "file", "known-bad"),
            ("/Windows/kernel32.dll", "nsrl-mini", "sha256", "file", "known-good"),
            ("/Windows/kernel32.dll", "nsrl-mini", "sha1", "file", "known-good"),
            ("/Windows/kernel32.dll", "nsrl-mini", "md5", "file", "known-good"),
            (f"/{DB_DIR}/msgstore.db", "case-17", "sha256", "record", "known-bad"),
        }
        by_target = {(h["path"], h["algorithm"]): h for h in hits}
        assert {a for (p, a) in by_target if p == "/Windows/kernel32.dll"} == {"md5", "sha1", "sha256"}
        gone = by_target[(f"/{DB_DIR}/msgstore.db", "sha256")]
        assert gone["hash"] == hashlib.sha256(GONE).hexdigest() and gone["category"] == "1"
        assert (
            gone["matched_record_type"] == "chat/android/whatsapp/message"
            and gone["record_field"] == "media_hash"
        )
        assert gone["locator"] and "4" in str(gone["locator"])  # the message row that recorded it
        assert by_target[("/Pictures/IMG_0001.jpg", "md5")]["hash"] == hashlib.md5(BAD).hexdigest()
        assert len(hits) == 5
        assert verify_case(case).ok
    finally:
        case.close()
    assert _state(tmp_path / "evidence") == evidence_before  # evidence never written

    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")
    shown = json.loads(exhibit("findings", "EX-001", "--json").out)
    paths = {f["source"]["path"] for f in shown}
    assert "/Windows/kernel32.dll" not in paths  # known-good: hidden
    flagged = {f["source"]["path"]: f.get("hashset") for f in shown if f["record_type"] == HIT_TYPE}
    assert flagged == {"/Pictures/IMG_0001.jpg": "known-bad", f"/{DB_DIR}/msgstore.db": "known-bad"}
    message = [f for f in shown if f["locator"] == gone["locator"] and f["record_type"] != HIT_TYPE]
    assert message and message[0]["hashset"] == "known-bad"  # the message whose media is known-bad
    everything = json.loads(exhibit("findings", "EX-001", "--json", "--show-known").out)
    assert len(everything) == len(shown) + 3
    table = exhibit("findings", "EX-001")
    assert (
        "[known-bad]" in table.out
        and "(3 more hidden as known-good: --show-known lists them)" in " ".join(table.out.split())
    )
    listed = [json.loads(line) for line in exhibit("ls", "EX-001", "-r", "--json").out.splitlines()]
    assert {e["path"] for e in listed if e.get("hashset") == "known-bad"} == {"/Pictures/IMG_0001.jpg"}
    assert "/Windows/kernel32.dll" not in {e["path"] for e in listed}
    listed_all = [
        json.loads(line) for line in exhibit("ls", "EX-001", "-r", "--json", "--show-known").out.splitlines()
    ]
    assert "/Windows/kernel32.dll" in {e["path"] for e in listed_all}
    chats = exhibit("chats", "EX-001", "--json").lines()
    assert [m["locator"] for m in chats if m.get("hashset") == "known-bad"] == [gone["locator"]]
    assert "[known-bad]" in exhibit("chats", "EX-001").out
    events = exhibit("timeline", "EX-001", "--files", "--json").lines()
    assert "/Windows/kernel32.dll" not in {e["source"]["path"] for e in events}
    assert {e.get("hashset") for e in events if e["source"]["path"] == "/Pictures/IMG_0001.jpg"} == {
        "known-bad"
    }
    events_all = exhibit("timeline", "EX-001", "--files", "--json", "--show-known").lines()
    assert "/Windows/kernel32.dll" in {e["source"]["path"] for e in events_all}
    sets = json.loads(exhibit("hashset", "list", "--json").out)
    assert [(s["name"], s["kind"], s["counts"]["imported"]) for s in sets] == [
        ("case-17", "known-bad", 2),
        ("nsrl-mini", "known-good", 3),
    ]
    removed = exhibit("hashset", "remove", "nsrl-mini", "--reason", "test")
    assert removed.code == 0 and "ledger entry" in removed.out
    again = json.loads(exhibit("findings", "EX-001", "--json").out)
    assert "/Windows/kernel32.dll" in {f["source"]["path"] for f in again}  # a removed set hides nothing
    assert exhibit("hashset", "remove", "nsrl-mini").code != 0
    case = open_case(tmp_path / "case")
    try:
        [removal] = [e for e in case.ledger.entries() if e.kind == store.REMOVE_KIND]
        assert removal.data["name"] == "nsrl-mini" and removal.data["reason"] == "test"
        with case.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM hashset_hashes")).scalar() == 2
        assert verify_case(case).ok
    finally:
        case.close()


def test_match_after_the_fact_signs_the_new_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case(tmp_path)
    bad, _good = _lists(tmp_path)
    try:
        run_triage(
            case, "EX-001", actor="asmith", options=TriageOptions(workers=1, plugins=["whatsapp_android"])
        )
        assert _hits(case) == []
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")
    assert exhibit("hashset", "match", "EX-001").code != 0  # no set yet: says what to do
    # found in review: a file holding no hash was imported as a set of 0 hashes and recorded
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01 not hashes\n" * 50)
    ran = exhibit("hashset", "import", str(garbage), "--name", "g", "--kind", "known-bad")
    assert ran.code == 2 and "no hash found in it" in ran.err and "nothing imported" in ran.err, ran.err
    assert "g" not in [s["name"] for s in json.loads(exhibit("hashset", "list", "--json").out)]
    ran = exhibit("hashset", "import", str(bad), "--name", "case-17", "--kind", "known-bad", "--json")
    assert ran.code == 0 and "1 lines are not hashes" in ran.err and "line 3" in ran.err
    matched = json.loads(exhibit("hashset", "match", "EX-001", "--json").out)
    # the files were hashed with SHA-256 only: the record's SHA-256 matches; the MD5 cannot
    assert matched["new"] == 1 and matched["ledger_seq"] is not None
    assert any("md5" in n for n in matched["notes"])
    assert json.loads(exhibit("hashset", "match", "EX-001", "--json").out)["new"] == 0  # idempotent
    case = open_case(tmp_path / "case")
    try:
        assert verify_case(case).ok
        [entry] = [e for e in case.ledger.entries(exhibit="EX-001") if e.kind == "hashset.match"]
        with case.engine.connect() as conn:
            stored = len(conn.execute(select(Finding.c.id).where(Finding.c.exhibit == "EX-001")).all())
        assert entry.data["digest"]["tables"]["triage_findings"]["rows"] == stored
        with case.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE triage_findings SET data = replace(data, 'known-bad', 'known-good') WHERE record_type = 'hash/hit'"
                )
            )
        problems = verify_case(case).problems
        assert any("TRIAGE_DATA_MISMATCH" in str(p) and "hash/hit" in str(p) for p in problems), problems
    finally:
        case.close()
    refused = exhibit("hashset", "match", "EX-001")
    assert refused.code != 0 and "differ from what ledger entry" in refused.err
    # a new run drops the altered row, re-reads the evidence, matches again (the MD5 too now)
    assert exhibit("triage", "EX-001", "--plugins", "whatsapp_android", "--workers", "1").code == 0
    case = open_case(tmp_path / "case")
    try:
        assert {(h["path"], h["kind"]) for h in _hits(case)} == {
            (f"/{DB_DIR}/msgstore.db", "known-bad"),
            ("/Pictures/IMG_0001.jpg", "known-bad"),
        }
        assert verify_case(case).ok
    finally:
        case.close()


def test_pdq_records_match_known_bad_within_the_distance(tmp_path: Path) -> None:
    case = _case(tmp_path)
    rng = random.Random(31)
    known = [rng.randbytes(32) for _ in range(50)]
    near = bytearray(known[5])
    for i in range(3):  # 24 bits differ: within 31
        near[i] ^= 0xFF
    far = bytearray(known[6])
    for i in range(4):  # 32 bits: beyond
        far[i] ^= 0xFF
    pdq_list = tmp_path / "pdq.txt"
    pdq_list.write_text("".join(f"{h.hex()},100,photo{i}.jpg\n" for i, h in enumerate(known)) + "feed\n")
    try:
        run_triage(
            case, "EX-001", actor="asmith", options=TriageOptions(workers=1, plugins=["whatsapp_android"])
        )
        done = store.import_set(case, pdq_list, name="pdq", kind="known-bad", fmt="pdq", actor="asmith")
        assert done.set.counts["by_algorithm"] == {"pdq": 50} and done.set.counts["garbage"] == 1
        rows = []
        for i, (digest, quality) in enumerate(((bytes(near), 90), (bytes(far), 80), (b"\x00" * 32, 10))):
            data = {
                "record_type": PDQ_TYPE,
                "pdq": digest.hex(),
                "quality": quality,
                "source": {
                    "item": "EX-001",
                    "path": f"/Pictures/p{i}.jpg",
                    "sha256": "ab" * 32,
                    "partition": None,
                    "inode": None,
                    "stream": None,
                },
                "locator": None,
            }
            rows.append(
                {
                    "fingerprint": hashlib.sha256(f"pdq{i}".encode()).hexdigest(),
                    "exhibit": "EX-001",
                    "record_type": PDQ_TYPE,
                    "plugin": "pdq",
                    "plugin_version": "1",
                    "partition": None,
                    "inode": None,
                    "path": f"/Pictures/p{i}.jpg",
                    "stream": None,
                    "file_sha256": "ab" * 32,
                    "locator": None,
                    "data": json.dumps(data),
                    "run_id": "r",
                }
            )
        with case.engine.begin() as conn:
            writes.store_findings(conn, rows)
        summary = match_exhibit(case.engine, "EX-001", "r2", distance=31)
        assert summary.pdq_records == 3
        [hit] = [h for h in _hits(case) if h["algorithm"] == "pdq"]
        assert hit["perceptual"] is True and hit["distance"] == 24 == hamming(bytes(near), known[5])
        assert hit["hash"] == known[5].hex() and hit["path"] == "/Pictures/p0.jpg" and hit["quality"] == 90
        match_exhibit(case.engine, "EX-001", "r3", distance=32)  # a wider distance finds the second one
        assert sorted(h["distance"] for h in _hits(case) if h["algorithm"] == "pdq") == [24, 32]
    finally:
        case.close()


def test_postgresql_import_and_matching(tmp_path: Path, pg_database: str) -> None:
    case = _case(tmp_path, pg_database)
    bad, good = _lists(tmp_path)
    try:
        store.import_set(case, bad, name="case-17", kind="known-bad", actor="asmith")
        store.import_set(case, good, name="nsrl-mini", kind="known-good", actor="asmith")
        dup = tmp_path / "dup.txt"
        dup.write_text((hashlib.sha256(BAD).hexdigest() + "\n") * 3)
        assert (
            store.import_set(case, dup, name="dup", kind="known-bad", actor="asmith").set.counts["duplicates"]
            == 2
        )
        summary = run_triage(
            case, "EX-001", actor="asmith", options=TriageOptions(workers=1, plugins=["whatsapp_android"])
        )
        # every new finding counted, the hash-set hits too (psycopg's executemany gives no count)
        with case.engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM triage_findings")).scalar()
        assert summary.counts["findings"] == stored and summary.counts["hash_hits"] == len(_hits(case)) > 0
        assert {(h["path"], h["set_name"], h["algorithm"]) for h in _hits(case)} >= {
            ("/Pictures/IMG_0001.jpg", "case-17", "md5"),
            ("/Pictures/IMG_0001.jpg", "dup", "sha256"),
            ("/Windows/kernel32.dll", "nsrl-mini", "sha256"),
            (f"/{DB_DIR}/msgstore.db", "case-17", "sha256"),
        }
        both = tmp_path / "both.txt"  # one hash known-bad already, one new
        both.write_text(f"{hashlib.md5(BAD).hexdigest()}\n{hashlib.sha256(b'other').hexdigest()}\n")
        counts = store.import_set(
            case, both, name="vendor-good", kind="known-good", actor="asmith"
        ).set.counts
        assert counts["in_sets_of_the_other_kind"] == 1
        assert verify_case(case).ok
    finally:
        case.close()


def test_a_hash_in_a_known_bad_and_a_known_good_set_is_said_at_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review: importing as known-good a list that held a known-bad set's hash said nothing (the
    file stays flagged known-bad: the import says so, and counts it in the ledger's entry)."""
    case = _case(tmp_path)
    bad, _ = _lists(tmp_path)
    store.import_set(case, bad, name="case-17", kind="known-bad", actor="asmith")
    case.close()
    both = tmp_path / "both.txt"
    both.write_text(f"{hashlib.md5(BAD).hexdigest()}\n{hashlib.sha256(GONE).hexdigest()}\n{'0' * 64}\n")
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")
    ran = exhibit("hashset", "import", str(both), "--name", "vendor-good", "--kind", "known-good")
    assert ran.code == 0, ran.out + ran.err
    said = " ".join(ran.err.split())
    assert "warning: 2 of these hashes are also in a known-bad set" in said, ran.err
    listed = json.loads(exhibit("hashset", "list", "--json").out)
    [good] = [s for s in listed if s["name"] == "vendor-good"]
    assert good["counts"]["in_sets_of_the_other_kind"] == 2
    alone = tmp_path / "alone.txt"
    alone.write_text("1" * 64 + "\n")
    ran = exhibit("hashset", "import", str(alone), "--name", "other-good", "--kind", "known-good")
    assert ran.code == 0 and "also in a" not in ran.err


def _peak_rss(tmp_path: Path, count: int, case_dir: Path) -> int:
    need_tool("/usr/bin/time")
    path = tmp_path / f"set-{count}.txt"
    rng = random.Random(count)
    with open(path, "w") as fh:
        for _ in range(count // 10_000):
            raw = rng.randbytes(32 * 10_000).hex()
            fh.write("\n".join(raw[i : i + 64] for i in range(0, len(raw), 64)) + "\n")
    proc = subprocess.run(
        [
            "/usr/bin/time",
            "-v",
            sys.executable,
            "-m",
            "triage.launch",
            "hashset",
            "import",
            str(path),
            "--name",
            f"n{count}",
            "--kind",
            "known-good",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "EXHIBIT_CASE": str(case_dir), "EXHIBIT_ACTOR": "asmith"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["counts"]["imported"] == count
    peak = [line for line in proc.stderr.splitlines() if "Maximum resident set size" in line]
    return int(peak[0].split()[-1]) * 1024


def test_import_streams_in_bounded_memory(tmp_path: Path) -> None:
    """20,000 then 200,000 SHA-256 lines through the real command: peak RSS must not grow with
    the list (each hash held in a list would add ~20 MB for the 180,000 more)."""
    case = init_case(tmp_path / "case", case_number="2026/78", title="bounds")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
    finally:
        case.close()
    small = _peak_rss(tmp_path, 20_000, tmp_path / "case")
    big = _peak_rss(tmp_path, 200_000, tmp_path / "case")
    assert big - small < 12 * 1024 * 1024, (small, big)
    assert big < 200 * 1024 * 1024


BRIDGE = Path(__file__).resolve().parents[1] / "data" / "pdq" / "bridge-1-original.jpg"
BRIDGE_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"  # ThreatExchange's


def test_triage_with_the_pdq_plugin_flags_a_near_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real plugin hashes the published image during triage; the known-bad list holds the
    reference hash with 20 bits flipped (a re-encoded copy's distance) and a far one."""
    if not BRIDGE.exists():
        pytest.skip(f"{BRIDGE} is absent")
    pytest.importorskip("pdqhash")
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "bridge.jpg").write_bytes(BRIDGE.read_bytes())
    near = int(BRIDGE_PDQ, 16) ^ ((1 << 20) - 1)  # the 20 lowest bits flipped
    far = int(BRIDGE_PDQ, 16) ^ ((1 << 40) - 1)
    pdq_list = tmp_path / "pdq.txt"
    pdq_list.write_text(f"{near:064x},100,bridge-copy\n{far:064x},100,other\n")
    case = init_case(tmp_path / "case", case_number="2026/79", title="pdq")
    try:
        add_actor(case, "asmith", name="Alan Smith", role="examiner")
        acquire(case, folder, exhibit="EX-001", actor="asmith", description="a folder")
        store.import_set(case, pdq_list, name="pdq-list", kind="known-bad", fmt="pdq", actor="asmith")
    finally:
        case.close()
    monkeypatch.setenv("EXHIBIT_CASE", str(tmp_path / "case"))
    monkeypatch.setenv("EXHIBIT_ACTOR", "asmith")
    ran = exhibit("triage", "EX-001", "--plugins", "pdq", "--workers", "1")
    assert ran.code == 0, ran.out + ran.err
    found = json.loads(exhibit("findings", "EX-001", "--json").out)
    [record] = [f for f in found if f["record_type"] == PDQ_TYPE]
    assert record["data"]["pdq"] == BRIDGE_PDQ and record.get("hashset") == "known-bad"
    [hit] = [f["data"] for f in found if f["record_type"] == HIT_TYPE]
    assert hit["perceptual"] is True and hit["distance"] == 20 and hit["hash"] == f"{near:064x}"
    case = open_case(tmp_path / "case")
    try:
        assert verify_case(case).ok
    finally:
        case.close()
