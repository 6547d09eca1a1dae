"""Where evidence is opened and walked: disk images, volumes, file systems, folders, archives and
iTunes/Finder backups (:mod:`~triage.sources.ios_backup`, decrypted by :mod:`~triage.sources.ios_crypto`).

Imports flow one way in here: :mod:`~triage.sources.entry` (the entry and the source protocol) is
imported by every source and imports none of them; :mod:`~triage.sources.open` alone knows every
kind of source. Nothing here knows about plugins, the engine or the case database.
"""
