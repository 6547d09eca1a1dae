"""Exporting the ledger for others: JSON (everything, machine-checkable) and CSV (for reading)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from custody.case import Case
from custody.items import list_items
from custody.ledger import StoredEntry

CSV_COLUMNS = (
    "seq",
    "recorded_utc",
    "recorded_offset",
    "kind",
    "exhibit",
    "actor",
    "location",
    "reason",
    "authority",
    "details",
    "entry_hash",
    "prev_hash",
)


def export_json(case: Case) -> str:
    ident = case.identity
    document: dict[str, Any] = {
        "format": "exhibit-ledger-export/1",
        "case": {
            "ledger_id": ident.ledger_id,
            "case_number": ident.case_number,
            "title": ident.title,
            "agency": ident.agency,
            "created": {"utc": ident.created_utc, "offset": ident.created_offset},
        },
        "items": [item.as_dict() for item in list_items(case)],
        "entries": [e.as_dict() for e in case.ledger.entries()],
        "checkpoints": [
            {"canonical": cp.body, "signature": cp.signature} for cp in case.ledger.checkpoints()
        ],
    }
    if (
        case.timestamped()
    ):  # RFC 3161 time-stamps of checkpoints, when the case has any (the client loaded only then)
        from custody.timestamps import stored as stored_timestamps

        document["timestamps"] = [t.as_dict() for t in stored_timestamps(case.database)]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _details(entry: StoredEntry) -> str:
    data = dict(entry.data)
    for key in ("location", "reason", "authority", "acquisition"):
        data.pop(key, None)
    acq = entry.data.get("acquisition")
    if acq:
        data["hashes"] = acq.get("hashes")
        data["source_path"] = acq.get("source_path")
    return json.dumps(
        {k: v for k, v in data.items() if v not in (None, "", {})}, ensure_ascii=False, sort_keys=True
    )


def export_csv(case: Case) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in case.ledger.entries():
        body = entry.parsed
        data = entry.data
        writer.writerow(
            [
                entry.seq,
                body["recorded"]["utc"],
                body["recorded"]["offset"],
                entry.kind,
                entry.exhibit or "",
                entry.actor,
                data.get("location") or "",
                data.get("reason") or "",
                data.get("authority") or "",
                _details(entry),
                entry.entry_hash,
                entry.prev_hash,
            ]
        )
    return out.getvalue()
