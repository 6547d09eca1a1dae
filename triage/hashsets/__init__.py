"""Hash sets: import known-bad and known-good hash lists, match exhibits against them.

* :mod:`triage.hashsets.formats`: reading plain lists, hashdeep, NSRL RDSv3, Project VIC, PDQ lists;
* :mod:`triage.hashsets.store`: the sets in the case database (import streamed, list, remove, look up);
* :mod:`triage.hashsets.match`: ``hash/hit`` findings from files, recorded hashes and PDQ records;
* :mod:`triage.hashsets.known`: which files and records listings hide (known-good) or flag (known-bad);

A room of its own under triage.engine and triage.views (tests/test_layout.py): it uses only
triage.store, triage.plugin and custody. ``exhibit hashset match EX`` (a signed digest, the
exhibit's lock) is triage/engine/rematch.py; the commands are triage/cli_hashsets.py.
"""
