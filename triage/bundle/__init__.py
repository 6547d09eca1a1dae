"""The verification bundle: one zip a defence expert can check without Exhibit or the case database.

``exhibit bundle`` (:mod:`triage.bundle.build`) writes, reproducibly, the ledger export, the latest
checkpoint, inclusion proofs of the chosen exhibits' entries, consistency proofs from every earlier
checkpoint, each exhibit's signed triage digest with the canonical rows it covers, the hash lists
of the evidence and of exported files in ``sha256sum -c`` format, the reports given, a README and
a MANIFEST. ``exhibit verify-bundle`` (:mod:`triage.bundle.verify`) re-checks every part from the
zip alone. The layout is in :mod:`triage.bundle.layout` (docs/custody.md, "Verification bundle").
"""
