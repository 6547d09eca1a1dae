"""Hash sets: import known-bad and known-good hash lists, match exhibits against them.

* :mod:`triage.hashsets.formats`: reading plain lists, hashdeep, NSRL RDSv3, Project VIC, PDQ lists;
* :mod:`triage.hashsets.store`: the sets in the case database (import streamed, list, remove, look up);
* :mod:`triage.hashsets.match`: ``hash/hit`` findings from files, recorded hashes and PDQ records;
* :mod:`triage.hashsets.after`: ``exhibit hashset match EX`` with its signed digest;
* :mod:`triage.hashsets.known`: which files and records listings hide (known-good) or flag (known-bad);
* :mod:`triage.hashsets.cli`: the ``exhibit hashset`` commands.
"""
