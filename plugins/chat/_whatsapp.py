"""Helpers shared by the WhatsApp plugins (Android and iOS); not a plugin module itself.

- :class:`MediaIndex` finds the media files a WhatsApp database refers to in the same evidence
  with **one** :meth:`~triage.plugin.FileItem.find` per database (never one per message), keyed
  by the path the app records (``Media/WhatsApp Images/IMG-...jpg`` on Android,
  ``Media/<jid>/x/y/<uuid>.jpg`` on iOS), so a message row looks its file up in a dict. The index
  holds the media files of the extraction, not the messages, so its size does not grow with the
  message table.
- :func:`android_owner` and :func:`ios_owner` read the device owner's account (JID and profile
  name) from the app's preferences beside the database: msgstore.db and ChatStorage.sqlite do
  not hold it. Android keeps it in ``shared_prefs/com.whatsapp_preferences_light.xml`` (older
  versions ``com.whatsapp_preferences.xml``; ``startup_prefs.xml``), a SharedPreferences
  ``<map>`` whose ``registration_jid`` is the JID, else ``cc`` (country code) and ``ph`` (the
  national number), with ``push_name`` the profile name (the keys ALEAPP's and IPED's WhatsApp
  modules read); iOS in ``Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist`` of the
  app group, ``OwnJabberID`` (else ``LastOwnJabberID``) and ``FullUserName``.
- :func:`table_columns_by_name` lists a database's tables and columns once.
"""

from __future__ import annotations

import plistlib
import posixpath
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypedDict
from xml.etree.ElementTree import ParseError

from defusedxml import ElementTree as SafeTree
from defusedxml.common import DefusedXmlException

from triage.plugin import Attachment, FileItem, ParseContext, RelatedFile

__all__ = [
    "ANDROID_PREFERENCES",
    "IOS_PREFERENCES",
    "MediaIndex",
    "Owner",
    "OwnerFields",
    "android_owner",
    "as_int",
    "as_text",
    "ios_owner",
    "owner_fields",
    "table_columns_by_name",
]

#: Where Android WhatsApp keeps the owner's account, relative to ``databases/msgstore.db``.
ANDROID_PREFERENCES = (
    "../shared_prefs/com.whatsapp_preferences_light.xml",
    "../shared_prefs/com.whatsapp_preferences.xml",
    "../shared_prefs/startup_prefs.xml",
)
#: Where iOS WhatsApp keeps it, relative to ``ChatStorage.sqlite`` (the app group's folder).
IOS_PREFERENCES = ("Library/Preferences/group.net.whatsapp.WhatsApp.shared.plist",)
_USER_SERVER = "@s.whatsapp.net"
_PREFERENCES_LIMIT = 4 << 20  # a preferences file is a few KB; larger is not one


@dataclass(frozen=True)
class Owner:
    """The device owner's WhatsApp account: ``jid`` as the app stores it, the profile ``name``,
    and ``path``, the preferences file both were read from (kept beside every record that uses
    them, as ``names_from`` is for wa.db's names)."""

    jid: str
    name: str | None
    path: str


def _jid(value: object) -> str | None:
    """A JID as stored; a bare number (digits only) gets the user server, as the app writes it."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if "@" in value:
        return value
    return value + _USER_SERVER if value.isdigit() else None


def _preferences(item: FileItem, patterns: Iterable[str], ctx: ParseContext) -> Iterator[tuple[str, bytes]]:
    """(path, content) of each preferences file found beside ``item``, in ``patterns`` order."""
    for pattern in patterns:
        for found in item.find(pattern):
            if found.size > _PREFERENCES_LIMIT:
                ctx.warn(
                    f"owner's account not read from {found.path}: {found.size} bytes is not a preferences file"
                )
                continue
            try:
                with found.open() as fh:
                    yield found.path, fh.read(_PREFERENCES_LIMIT)
            except OSError as exc:
                ctx.warn(f"owner's account not read from {found.path}: {exc}")


class OwnerFields(TypedDict, total=False):
    """What :func:`owner_fields` gives a record."""

    account: str
    account_name: str | None
    account_from: str


def owner_fields(owner: Owner | None) -> OwnerFields:
    """The fields ``account``, ``account_name`` and ``account_from`` a plugin gives every record
    of a database whose owner is ``owner`` (none when it is not known)."""
    if owner is None:
        return {}
    return {"account": owner.jid, "account_name": owner.name, "account_from": owner.path}


def android_owner(item: FileItem, ctx: ParseContext) -> Owner | None:
    """The owner's account from the SharedPreferences files beside ``msgstore.db`` (the first
    that names one), or ``None``; a file that is not readable XML is a warning."""
    for path, data in _preferences(item, ANDROID_PREFERENCES, ctx):
        try:
            root = SafeTree.fromstring(data)
        except (ParseError, DefusedXmlException, ValueError) as exc:
            ctx.warn(f"owner's account not read from {path}: not a preferences file ({exc})")
            continue
        values = {
            el.get("name"): (el.text or "").strip()
            for el in root.iter("string")
            if el.get("name") is not None
        }
        jid = _jid(values.get("registration_jid"))
        cc, ph = values.get("cc", ""), values.get("ph", "")
        if jid is None and cc.isdigit() and ph.isdigit():
            jid = f"{cc}{ph}{_USER_SERVER}"
        if jid is not None:
            return Owner(jid=jid, name=values.get("push_name") or None, path=path)
    return None


def ios_owner(item: FileItem, ctx: ParseContext) -> Owner | None:
    """The owner's account from the app group's shared preferences plist beside
    ``ChatStorage.sqlite``, or ``None``; a file that is not a property list is a warning."""
    for path, data in _preferences(item, IOS_PREFERENCES, ctx):
        try:
            values = plistlib.loads(data)
        except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError, RecursionError) as exc:
            ctx.warn(f"owner's account not read from {path}: not a property list ({exc})")
            continue
        if not isinstance(values, dict):
            continue
        jid = _jid(values.get("OwnJabberID")) or _jid(values.get("LastOwnJabberID"))
        if jid is not None:
            name = values.get("FullUserName")
            return Owner(jid=jid, name=name.strip() or None if isinstance(name, str) else None, path=path)
    return None


class MediaIndex:
    """Files of the same source, by the relative path the app records for them."""

    def __init__(self, files: dict[str, RelatedFile] | None = None) -> None:
        self.files: dict[str, RelatedFile] = files or {}

    @classmethod
    def build(
        cls, item: FileItem, ctx: ParseContext, pattern: str, key: Callable[[str], str | None]
    ) -> MediaIndex:
        """One ``item.find(pattern)``; ``key(found path)`` names each file (``None``: leave it out).

        When two files get the same key (the same folder seen under two mount points, such as
        ``/sdcard`` and ``/data/media/0``), the first in path order is kept. A search that fails
        is a warning; the messages are still read, their attachments without a found file.
        """
        files: dict[str, RelatedFile] = {}
        try:
            for found in item.find(pattern):
                name = key(found.path)
                if name is not None:
                    files.setdefault(name, found)
        except OSError as exc:
            ctx.warn(f"media files not searched ({pattern}): {exc}")
        return cls(files)

    def __len__(self) -> int:
        return len(self.files)

    def attachment(
        self, recorded: str | None, key: str | None, *, name: str | None = None, mime: str | None = None
    ) -> Attachment:
        """What the app recorded (``recorded``), and the file found under ``key`` if any."""
        found = self.files.get(key) if key else None
        if name is None and recorded:
            name = posixpath.basename(recorded.replace("\\", "/")) or None
        return Attachment(
            name=name,
            mime=mime,
            recorded_path=recorded,
            path=found.path if found is not None else None,
            size=found.size if found is not None else None,
        )


def table_columns_by_name(con: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """``{table name (lower case): its columns (lower case)}`` of every table of the database."""
    names = [str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        name.lower(): frozenset(
            str(r[0]).lower() for r in con.execute("SELECT name FROM pragma_table_info(?)", (name,))
        )
        for name in names
    }


def as_text(value: object) -> str | None:
    """A text column's value, ``None`` for NULL and for the empty text WhatsApp writes for "none"."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def as_int(value: object) -> int | None:
    """An integer column's value; numeric text (``media_wa_type`` is declared TEXT) as its integer."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
