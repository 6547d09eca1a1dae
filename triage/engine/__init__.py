"""A triage run: walk the evidence, hash every file, hand files to plugins, store, sign.

:mod:`~triage.engine.run` drives a run (walk, storing, the ledger entry), holding the exhibit's
:mod:`~triage.engine.lock`; :mod:`~triage.engine.workers` reads the files in worker processes,
each file as :mod:`~triage.engine.per_file` says (hash, sniff, spool, plugins), and hands back the
frozen records of :mod:`~triage.engine.results`; :mod:`~triage.engine.writes` turns them into rows
by column name and stores them; :mod:`~triage.engine.dispatch` matches files to plugins and runs
them; :mod:`~triage.engine.integrity` and :mod:`~triage.engine.verify` anchor and check what a
run stored.
"""
