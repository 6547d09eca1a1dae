"""SMS findings written straight into ``triage_findings``, shaped as ``sms_android`` stores them:
for the tests and the benchmark that need a case with tens of thousands of messages (triaging that
many is measured elsewhere, bench/whatsapp_million.py). Not real data: said where it is used."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from triage.store.models import Finding

SMS_PATH = "/data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
T0 = 1_767_261_600_000  # 2026-01-01T10:00:00Z in Unix milliseconds


def unix_ms(ms: int) -> dict[str, Any]:
    """A time as the plugins store it (UTC, the raw value and its encoding)."""
    utc = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"utc": utc, "raw": ms, "encoding": "unix_ms", "offset": "+00:00", "local": None, "note": None}


def sms_row(place: int, party: str, conversation: str, body: str, fingerprint: str) -> dict[str, Any]:
    """The ``triage_findings`` row of SMS number ``place`` (0-based: its rowid and its time)."""
    data = {
        "record_type": "chat/android/sms",
        "source": {"item": "EX-001", "path": SMS_PATH, "sha256": "0" * 64,
                   "partition": None, "inode": None, "stream": None},
        "locator": f"sms._id={place + 1}",
        "rowid": place + 1,
        "timestamp": unix_ms(T0 + place * 1000),
        "body": body,
        "from_me": bool(place % 2),
        "party": party,
        "conversation": conversation,
        "sms_type": 2 if place % 2 else 1,
    }  # fmt: skip
    return {
        "fingerprint": hashlib.sha256(fingerprint.encode()).hexdigest(),
        "exhibit": "EX-001",
        "record_type": "chat/android/sms",
        "plugin": "sms_android",
        "plugin_version": "1.2.0",
        "path": SMS_PATH,
        "file_sha256": "0" * 64,
        "locator": f"sms._id={place + 1}",
        "data": json.dumps(data, sort_keys=True),
        "run_id": "synthetic",
    }


def insert_findings(conn: Connection, rows: Iterable[dict[str, Any]], batch: int = 5000) -> None:
    """Insert ``rows`` (``triage_findings`` dicts) ``batch`` at a time (memory stays flat)."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            conn.execute(insert(Finding), chunk)
            chunk.clear()
    if chunk:
        conn.execute(insert(Finding), chunk)
