"""``exhibit hashset match EX``: match an exhibit already triaged against the sets, after the fact.

The hits are new findings of the exhibit, so the digest its latest ``triage.run`` entry signed no
longer covers its rows. Like a run, this therefore holds the exhibit's triage lock, first checks
the stored rows against the latest signed digest (and refuses when they differ: a triage run
re-reads the evidence then), stores the hits under a match id of its own, and appends one
``hashset.match`` ledger entry with the sets matched, the counts and the new digest of the
exhibit's rows; triage/engine/integrity.py takes the latest ``triage.run`` or ``hashset.match``
entry as the anchor, so ``exhibit custody verify`` checks the rows against it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from custody.case import Case
from custody.items import get_item
from custody.ledger import Draft
from triage.engine import integrity
from triage.engine import lock as exhibit_lock
from triage.hashsets import store
from triage.hashsets.errors import HashSetError
from triage.hashsets.match import DEFAULT_DISTANCE, MatchSummary, match_exhibit
from triage.store import ensure_schema

MATCH_KIND = integrity.MATCH_KIND


@dataclass(frozen=True)
class AfterMatch:
    match_id: str
    exhibit: str
    summary: MatchSummary
    seq: int | None  # the ledger entry (None: nothing new, nothing recorded)

    def as_dict(self) -> dict[str, Any]:
        return {
            "match": self.match_id,
            "exhibit": self.exhibit,
            "ledger_seq": self.seq,
            **self.summary.as_dict(),
        }


def match_after(
    case: Case,
    exhibit: str,
    *,
    actor: str,
    distance: int = DEFAULT_DISTANCE,
    keys: dict[str, Any] | None = None,
) -> AfterMatch:
    from custody.actors import signing_keys

    get_item(case, exhibit)
    keys = keys if keys is not None else signing_keys(case, [actor])
    engine = case.engine
    ensure_schema(engine)
    sets = [s for s in store.list_sets(engine) if s.status == "ready"]
    if not sets:
        raise HashSetError(
            "no hash set to match against",
            hint="import one: exhibit hashset import FILE --name N --kind known-bad",
        )
    anchor = integrity.latest_anchors(case.ledger, exhibit).get(exhibit)
    if anchor is None:
        raise HashSetError(
            f"exhibit {exhibit} has not been triaged (no completed run)",
            hint=f"run 'exhibit triage {exhibit}': it matches the hash sets as it goes",
        )
    match_id = str(uuid.uuid4())
    with exhibit_lock.holding(engine, exhibit, match_id):
        with engine.connect() as conn:
            diffs = integrity.compare(conn, exhibit, anchor)
        if diffs:
            first = next(integrity.summarise(diffs))
            raise HashSetError(
                f"the stored triage data of {exhibit} differ from what ledger entry {anchor.seq} signed ({first}): "
                "not matching over altered rows",
                hint=f"run 'exhibit triage {exhibit}': it drops the altered rows, re-reads the evidence and matches",
            )
        summary = match_exhibit(engine, exhibit, match_id, distance=distance)
        if not summary.new:
            return AfterMatch(match_id, exhibit, summary, None)
        with engine.connect() as conn:
            state = integrity.state_of(conn, exhibit)
        data = {
            "match": match_id,
            "sets": [{"name": s.name, "kind": s.kind, "sha256": s.source_sha256} for s in sets],
            "distance": distance,
            "counts": summary.as_dict(),
            "anchored_on": anchor.seq,
            "digest": integrity.digest_of(state),
        }
        [entry] = case.ledger.append(
            [Draft(kind=MATCH_KIND, actor=actor, exhibit=exhibit, data=data)], keys, checkpoint_signer=actor
        )
        with engine.begin() as conn:
            integrity.store_anchors(conn, exhibit, match_id, state)
    return AfterMatch(match_id, exhibit, summary, entry.seq)
