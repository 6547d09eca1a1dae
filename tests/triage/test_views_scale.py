"""The views keep memory bounded: ``exhibit timeline`` and ``exhibit links`` over 100,000 findings.

Triage of a real database that large would take minutes, so this test **inserts synthetic rows
straight into ``triage_findings``** (the table triage writes): SMS records shaped exactly as the
``sms_android`` plugin stores them (two time values each, hence 200,000 timeline events), spread
over two exhibits that share 20,000 phone numbers (20,000 links). The real ``exhibit`` command runs
under GNU ``time -v``, once on 10,000 findings and once on ten times as many: a view that kept
its events or identifiers in a Python list would need hundreds of megabytes more for the larger
case; the views sort and aggregate in a scratch SQLite file, so the peak barely moves.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert

from custody.case import init_case
from triage.store import ensure_schema
from triage.store.models import Finding

TIME = "/usr/bin/time"
MB = 1024 * 1024
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z in Unix milliseconds
NUMBERS = 20_000


def _time(ms: int) -> dict[str, object]:
    from datetime import UTC, datetime, timedelta

    utc = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"utc": utc, "raw": ms, "encoding": "unix_ms", "offset": "+00:00", "local": None, "note": None}


def synthetic_case(root: Path, findings: int) -> Path:
    """A case whose triage_findings hold ``findings`` synthetic SMS rows (see the module docstring)."""
    case = init_case(root, case_number="2026/10", title="scale")
    try:
        ensure_schema(case.engine)
        rows = []
        with case.engine.begin() as conn:
            for n in range(findings):
                exhibit = "EX-A" if n % 2 else "EX-B"
                path = "/data/data/com.android.providers.telephony/databases/mmssms.db"
                source = {
                    "item": exhibit,
                    "path": path,
                    "sha256": "0" * 64,
                    "partition": None,
                    "inode": None,
                    "stream": None,
                }
                ms = T0 + (n * 7919) % (findings * 1000)  # times out of insertion order
                data = {
                    "record_type": "chat/android/sms",
                    "source": source,
                    "locator": f"sms._id={n}",
                    "rowid": n,
                    "timestamp": _time(ms),
                    "sent_time": _time(ms - 1500),
                    "body": f"message {n}: meet at pier {n % 97} at {n % 24}:00, bring the usual",
                    "from_me": bool(n % 3),
                    "party": f"+1555{(n // 2) % NUMBERS:07d}",
                    "conversation": str((n // 2) % NUMBERS),
                    "sms_type": 2 if n % 3 else 1,
                }
                text = json.dumps(data, sort_keys=True)
                rows.append(
                    {
                        "fingerprint": hashlib.sha256(f"{exhibit}{n}".encode()).hexdigest(),
                        "exhibit": exhibit,
                        "record_type": "chat/android/sms",
                        "plugin": "sms_android",
                        "plugin_version": "1.0.0",
                        "path": path,
                        "file_sha256": "0" * 64,
                        "locator": f"sms._id={n}",
                        "data": text,
                        "run_id": "synthetic",
                    }
                )
                if len(rows) == 5000:
                    conn.execute(insert(Finding), rows)
                    rows.clear()
            if rows:
                conn.execute(insert(Finding), rows)
    finally:
        case.close()
    return root


def peak_rss(case: Path, *args: str) -> tuple[int, int]:
    """Peak resident memory of ``exhibit ARGS`` (stdout to a file) and the number of lines it wrote."""
    if not os.access(TIME, os.X_OK):
        pytest.skip("GNU time is not installed (apt-get install time)")
    out = case / "out.txt"
    with out.open("wb") as sink:
        proc = subprocess.run(
            [TIME, "-v", sys.executable, "-m", "triage.launch", *args],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            timeout=900,
            env={**os.environ, "EXHIBIT_CASE": str(case)},
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert rss, proc.stderr[-2000:]
    with out.open("rb") as fh:
        lines = sum(1 for _ in fh)
    return int(rss.group(1)) * 1024, lines


@pytest.mark.slow
def test_timeline_and_links_memory_does_not_grow_with_the_findings(tmp_path: Path) -> None:
    small = synthetic_case(tmp_path / "small", 10_000)
    large = synthetic_case(tmp_path / "large", 100_000)
    results = {}
    for name, case in (("small", small), ("large", large)):
        results[name, "timeline"] = peak_rss(case, "timeline", "--json")
        results[name, "links"] = peak_rss(case, "links", "--json")
    assert results["small", "timeline"][1] == 20_000 and results["large", "timeline"][1] == 200_000
    assert results["small", "links"][1] == 5_000 and results["large", "links"][1] == NUMBERS
    for view in ("timeline", "links"):
        grew = results["large", view][0] - results["small", view][0]
        assert grew < 40 * MB, (view, results)
    assert not list((large / "scratch").glob("view-*"))  # the scratch databases are removed
