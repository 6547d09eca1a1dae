"""Where evidence is opened and walked: disk images, volumes, file systems, folders and archives.

Imports flow one way in here: :mod:`~triage.sources.entry` (the entry and the source protocol) is
imported by every source and imports none of them; :mod:`~triage.sources.open` alone knows every
kind of source. Nothing here knows about plugins, the engine or the case database.
"""
