"""Distributed triage on Celery (issue 11): a run's jobs read by workers on other machines.

- ``app.py``: the Celery application (settings for at-least-once delivery), the broker check,
  which workers listen on a queue.
- ``codec.py``: the JSON of a job's message (the run's settings and its files' keys) and of the
  results sent back.
- ``tasks.py``: the worker's side of a job (walk the evidence once per run, read the files).
- ``runner.py``: the coordinator's side (the engine's RemoteRunner): send, watch, collect once.
- ``worker.py`` and ``cli.py``: ``exhibit worker``, and the options ``exhibit triage`` takes.

Imports flow one way: this package uses the engine (triage.engine); the engine knows only its
RemoteRunner protocol (triage/engine/remote.py) and never imports Celery.
"""
