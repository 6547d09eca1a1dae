"""``exhibit export-case --format case`` (triage/views/case_uco.py): CASE/UCO JSON-LD of a real case.

The case is made the way the examiner makes one: two phones acquired as folders (EX-001 holds the
corpus WhatsApp iOS ``ChatStorage.sqlite``, iLEAPP's test data, 32 messages; EX-002 the corpus
``mmssms.db``, plaso's test data, 9 SMS, the first "Yo Fred this is my new number." sent
2013-10-29 16:56:28.038 UTC) and a photo acquired as a file (EX-003); EX-001 sealed and handed
from jdoe to asmith, both phones triaged, a file exported. The oracles:

* ``case_validate`` of ``case-utils`` (the CASE community's SHACL validator, with the CASE/UCO
  ontology it bundles) must accept the document: exit 0. It is run with the network namespace
  cut off (``unshare -n``) where the machine allows it, to show nothing is fetched;
* hashlib for the photo's hashes, the ledger for every exhibit's and derived file's, the corpus
  README for the first SMS, ``exhibit chats --json`` for every message's text, sender and time.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from custody.actors import add_actor
from custody.case import open_case
from custody.events import record_event
from custody.items import acquire, get_item
from tests.conftest import CORPUS, need
from tests.plugins.triage_e2e import acquired_case, exhibit
from triage.views.case_uco import CASE_VERSION

WHATSAPP_DIR = "private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8"
SMS_DIR = "data/data/com.android.providers.telephony/databases"
UUID_END = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
HASH_NAMES = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256"}


def _case_validate() -> list[str]:
    """The ``case_validate`` command, run without a network where ``unshare -n`` works."""
    found = Path(sys.executable).with_name("case_validate")
    command = str(found) if found.exists() else shutil.which("case_validate")
    if command is None:
        pytest.skip("case_validate is not installed (pip install -e '.[dev]' installs case-utils)")
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n", command]
    return [command]


def _validate(path: Path) -> float:
    started = time.monotonic()
    ran = subprocess.run(
        [*_case_validate(), "--built-version", f"case-{CASE_VERSION}", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert "Conforms: True" in ran.stdout
    return time.monotonic() - started


@pytest.fixture
def case_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    chats = need(CORPUS / "chats", "(the shared corpus sits beside the repository)")
    phone1 = tmp_path / "phone1" / WHATSAPP_DIR
    phone1.mkdir(parents=True)
    shutil.copy(need(chats / "whatsapp_ios_ChatStorage.sqlite"), phone1 / "ChatStorage.sqlite")
    phone2 = tmp_path / "phone2" / SMS_DIR
    phone2.mkdir(parents=True)
    shutil.copy(need(chats / "mmssms.db"), phone2 / "mmssms.db")
    photo = need(CORPUS / "images" / "Canon_40D.jpg")
    folder = acquired_case(
        tmp_path,
        monkeypatch,
        {"EX-001": tmp_path / "phone1", "EX-002": tmp_path / "phone2", "EX-003": photo},
        title="case export",
    )
    disk = tmp_path / "sim.dd"  # a raw image with the device's make, model and serial recorded
    disk.write_bytes(bytes(range(256)) * 256)
    with open_case(folder) as case:
        add_actor(case, "jdoe", name="Jane Doe", role="evidence-officer", org="City Police")
        acquire(
            case,
            disk,
            exhibit="EX-004",
            actor="jdoe",
            description="SIM dump",
            kind="raw",
            make="Acme",
            model="X1",
            serial="SN-42",
        )
        record_event(case, "seal", "EX-001", actor="jdoe", seal="S-1", location="Store B")
        record_event(case, "transfer", "EX-001", actor="jdoe", receiver="asmith", reason="analysis")
    for number in ("EX-001", "EX-002"):
        ran = exhibit("triage", number, "--workers", "1")
        assert ran.code == 0, ran.out + ran.err
    ran = exhibit("export", "EX-002", f"/{SMS_DIR}/mmssms.db", "--to", str(tmp_path / "exported"))
    assert ran.code == 0, ran.out + ran.err
    return folder


def _export(tmp_path: Path, name: str, *extra: str) -> tuple[Path, dict[str, dict[str, Any]]]:
    out = tmp_path / name
    ran = exhibit("export-case", "--format", "case", "--out", str(out), *extra)
    assert ran.code == 0, ran.out + ran.err
    assert "nodes" in ran.err and "messages" in ran.err
    document = json.loads(out.read_text(encoding="utf-8"))
    nodes: dict[str, dict[str, Any]] = {}
    for node in document["@graph"]:
        assert node["@id"] not in nodes, f"{node['@id']} written twice"
        nodes[node["@id"]] = node
    return out, nodes


def _typed(nodes: dict[str, dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        n for n in nodes.values() if kind in ([n["@type"]] if isinstance(n["@type"], str) else n["@type"])
    ]


def _facet(node: dict[str, Any], kind: str) -> dict[str, Any]:
    [found] = [f for f in node["uco-core:hasFacet"] if f["@type"] == kind]
    return found


def _hashes(node: dict[str, Any]) -> dict[str, str]:
    facet = _facet(node, "uco-observable:ContentDataFacet")
    return {
        HASH_NAMES[h["uco-types:hashMethod"]]: h["uco-types:hashValue"]["@value"]
        for h in facet.get("uco-observable:hash", [])
    }


def _ids_in(value: Any, typed: bool) -> set[str]:
    """The ``@id`` of every typed node in ``value`` (nodes, nested facets and hashes), or with
    ``typed`` false of every bare reference (``{"@id": ...}`` alone)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "@id" in value and ("@type" in value) == typed and (typed or len(value) == 1):
            found.add(value["@id"])
        for v in value.values():
            found |= _ids_in(v, typed)
    elif isinstance(value, list):
        for v in value:
            found |= _ids_in(v, typed)
    return found


@pytest.mark.slow  # 6 s alone, 12 s on a busy machine: case_validate loads the whole ontology
def test_case_uco_export_validates_and_matches_the_case(case_folder: Path, tmp_path: Path) -> None:
    out, nodes = _export(tmp_path, "case.jsonld")
    seconds = _validate(out)
    print(f"case_validate of {out.stat().st_size} bytes: {seconds:.1f} s")

    # every IRI, of nodes, facets and hashes alike, ends in a UUID; every reference is defined
    defined = _ids_in(list(nodes.values()), typed=True)
    assert all(UUID_END.search(i) for i in defined), [i for i in defined if not UUID_END.search(i)]
    referenced = _ids_in(list(nodes.values()), typed=False)
    assert referenced and referenced <= defined, referenced - defined

    with open_case(case_folder) as case:
        items = {n: get_item(case, n) for n in ("EX-001", "EX-002", "EX-003", "EX-004")}
        derived = [e for e in case.ledger.entries() if e.kind == "item.derive"]
        exports = [e for e in case.ledger.entries() if e.kind == "item.export"]

    # exhibits: a provenance record each, whose observable carries the ledger's hashes
    records = {
        r["case-investigation:exhibitNumber"]: r
        for r in _typed(nodes, "case-investigation:ProvenanceRecord")
        if "case-investigation:exhibitNumber" in r
    }
    assert set(records) == set(items)
    for number, item in items.items():
        observable = nodes[records[number]["uco-core:object"][0]["@id"]]
        assert _hashes(observable) == item.hashes, number
    photo = (CORPUS / "images" / "Canon_40D.jpg").read_bytes()
    ex3 = nodes[records["EX-003"]["uco-core:object"][0]["@id"]]
    assert ex3["@type"] == "uco-observable:File"
    assert _hashes(ex3) == {
        "md5": hashlib.md5(photo).hexdigest(),
        "sha1": hashlib.sha1(photo).hexdigest(),
        "sha256": hashlib.sha256(photo).hexdigest(),
    }

    image = nodes[records["EX-004"]["uco-core:object"][0]["@id"]]
    assert image["@type"] == "uco-observable:Image"
    assert _facet(image, "uco-observable:ImageFacet")["uco-observable:imageType"] == "raw"
    device = nodes[records["EX-004"]["uco-core:object"][1]["@id"]]
    facet = _facet(device, "uco-observable:DeviceFacet")
    assert (facet["uco-observable:model"], facet["uco-observable:serialNumber"]) == ("X1", "SN-42")

    # actions: acquire x3, seal, transfer (jdoe hands over, asmith receives), extract x2, export
    actions = _typed(nodes, "case-investigation:InvestigativeAction")
    names = sorted(a["uco-core:name"] for a in actions)
    assert names == sorted(["acquire"] * 4 + ["seal", "transfer", "extract", "extract", "export"])
    people = {p["@id"]: p["uco-core:name"] for p in _typed(nodes, "uco-identity:Person")}
    [transfer] = [a for a in actions if a["uco-core:name"] == "transfer"]
    assert people[transfer["uco-action:performer"]["@id"]] == "Jane Doe"
    assert [people[p["@id"]] for p in transfer["uco-action:participant"]] == ["Alan Smith"]
    [seal] = [a for a in actions if a["uco-core:name"] == "seal"]
    assert transfer["case-investigation:wasInformedBy"]["@id"] == seal["@id"]  # the chain, in order
    assert transfer["uco-action:object"] == [{"@id": records["EX-001"]["@id"]}]

    # extract: instruments Exhibit and every plugin at its version; results the derived files
    tools = {
        t["@id"]: (t["uco-core:name"], t["uco-tool:version"]) for t in _typed(nodes, "uco-tool:AnalyticTool")
    }
    for extract in (a for a in actions if a["uco-core:name"] == "extract"):
        used = {tools[i["@id"]] for i in extract["uco-action:instrument"]}
        assert ("sms_android", "1.2.0") in used and any(name == "Exhibit" for name, _ in used)
    files = {
        n["@id"]: n
        for n in _typed(nodes, "uco-observable:File")
        if "exhibit " in n.get("uco-core:description", "")
    }
    results = {r["@id"] for a in actions if a["uco-core:name"] == "extract" for r in a["uco-action:result"]}
    derived_files = [f for i, f in files.items() if i in results]
    assert len(derived_files) == len(derived) >= 2
    assert sorted(_hashes(f)["sha256"] for f in derived_files) == sorted(
        d.data["hashes"]["sha256"] for d in derived
    )
    by_path = {_facet(f, "uco-observable:FileFacet")["uco-observable:filePath"]: f for f in derived_files}
    db = (case_folder.parent / "phone2" / SMS_DIR / "mmssms.db").read_bytes()
    assert _hashes(by_path[f"/{SMS_DIR}/mmssms.db"])["sha256"] == hashlib.sha256(db).hexdigest()

    # export: the copy written, with the SHA-256 the ledger signed
    [export] = [a for a in actions if a["uco-core:name"] == "export"]
    [copy] = [nodes[r["@id"]] for r in export["uco-action:result"]]
    assert (
        _hashes(copy)
        == {"sha256": exports[0].data["files"][0]["sha256"]}
        == {"sha256": hashlib.sha256(db).hexdigest()}
    )

    # messages: each one of `exhibit chats`, with its text, sender, recipients and time
    chats = exhibit("chats", "--json").lines()
    found = _typed(nodes, "uco-observable:Message")
    assert len(found) == len(chats) == 32 + 9
    accounts = {
        a["@id"]: _facet(a, "uco-observable:AccountFacet")["uco-observable:accountIdentifier"]
        for a in _typed(nodes, "uco-observable:ApplicationAccount")
    }
    apps = {a["@id"]: a["uco-core:name"] for a in _typed(nodes, "uco-observable:Application")}
    by_place = {}
    for m in found:
        facet = _facet(m, "uco-observable:MessageFacet")
        exhibit_number = m["uco-core:description"].split(";")[0].removeprefix("exhibit ")
        by_place[(exhibit_number, facet["uco-observable:messageID"])] = facet
    for chat in chats:
        facet = by_place[(chat["exhibit"], chat["locator"])]
        assert facet.get("uco-observable:messageText") == chat["body"]
        assert apps[facet["uco-observable:application"]["@id"]] == chat["app"]
        sender = facet.get("uco-observable:from")
        assert (accounts[sender["@id"]] if sender else None) == chat["sender"]
        assert [accounts[r["@id"]] for r in facet.get("uco-observable:to", [])] == chat["recipients"]
        assert (facet.get("uco-observable:sentTime") or {}).get("@value") == chat["sent_timestamp"]
    first = [
        f
        for f in by_place.values()
        if f.get("uco-observable:messageText") == "Yo Fred this is my new number."
    ]
    assert [f["uco-observable:sentTime"]["@value"] for f in first] == ["2013-10-29T16:56:28.038000Z"]
    # a received SMS: "date" is when the phone received it, "date_sent" when it was sent (review:
    # the export called the receiving time sentTime); the corpus row 3, type 1, date_sent 1383066340000
    [received] = [
        m
        for m in found
        if _facet(m, "uco-observable:MessageFacet").get("uco-observable:messageText") == "What message?"
    ]
    facet = _facet(received, "uco-observable:MessageFacet")
    assert facet["uco-observable:sentTime"]["@value"] == "2013-10-29T17:05:40.000000Z"
    assert "received by this device 2013-10-29T17:05:41.303000Z" in received["uco-core:description"]

    # the investigation gathers every provenance record and action
    [investigation] = _typed(nodes, "case-investigation:Investigation")
    assert investigation["uco-core:name"] == "2026/99: case export"
    gathered = {o["@id"] for o in investigation["uco-core:object"]}
    assert gathered == {n["@id"] for n in _typed(nodes, "case-investigation:ProvenanceRecord") + actions}

    # the same case state gives the same bytes
    again, _ = _export(tmp_path, "again.jsonld")
    assert again.read_bytes() == out.read_bytes()


def test_exhibit_option_limits_the_document(case_folder: Path, tmp_path: Path) -> None:
    out, nodes = _export(tmp_path, "ex2.jsonld", "--exhibit", "EX-002")
    _validate(out)
    numbers = {
        r.get("case-investigation:exhibitNumber") or r.get("case-investigation:rootExhibitNumber")
        for r in _typed(nodes, "case-investigation:ProvenanceRecord")
    }
    assert numbers == {"EX-002"}
    messages = _typed(nodes, "uco-observable:Message")
    assert len(messages) == 9 and all(
        m["uco-core:description"].startswith("exhibit EX-002;") for m in messages
    )
    names = sorted(a["uco-core:name"] for a in _typed(nodes, "case-investigation:InvestigativeAction"))
    assert names == ["acquire", "export", "extract"]
    text = out.read_text(encoding="utf-8")
    assert "EX-001" not in text and "ChatStorage" not in text and "Canon_40D" not in text


def test_unknown_exhibit_is_refused(case_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.jsonld"
    ran = exhibit("export-case", "--format", "case", "--out", str(out), "--exhibit", "EX-404")
    assert ran.code != 0 and "EX-404" in ran.err and "Traceback" not in ran.err
    assert not out.exists()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_messages(tmp_path: Path) -> None:
    """100,000 messages (synthetic SMS rows inserted into triage_findings, as
    tests/triage/test_views_scale.py makes them) cost no more memory than 10,000: the document is
    written as the sorted messages are read."""
    from tests.triage.test_views_scale import MB, peak_rss, synthetic_case

    peaks = {}
    for name, findings in (("small", 10_000), ("large", 100_000)):
        case = synthetic_case(tmp_path / name, findings)
        out = tmp_path / f"{name}.jsonld"
        peaks[name], _ = peak_rss(case, "export-case", "--format", "case", "--out", str(out))
        with out.open("rb") as fh:
            messages = sum(1 for line in fh if b'"@type": "uco-observable:Message"' in line)
        assert messages == findings
    print(
        f"export-case --format case peak RSS: {peaks['small'] / MB:.0f} MB for 10,000 messages, "
        f"{peaks['large'] / MB:.0f} MB for 100,000"
    )
    assert peaks["large"] - peaks["small"] < 40 * MB, peaks
