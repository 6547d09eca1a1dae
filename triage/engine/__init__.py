"""A triage run: walk the evidence, hash every file, hand files to plugins, store, sign.

:mod:`~triage.engine.run` drives a run; :mod:`~triage.engine.dispatch` offers files to plugins;
:mod:`~triage.engine.integrity` and :mod:`~triage.engine.verify` anchor and check what a run stored;
:mod:`~triage.engine.lock` keeps one run per exhibit.
"""
