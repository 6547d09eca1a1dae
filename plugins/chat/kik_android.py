"""Kik Messenger on Android: ``kikDatabase.db``.

Where: ``/data/data/kik.android/databases/kikDatabase.db``; recent versions name it after the
account's core id, ``<core id>.kikDatabase.db`` (ALEAPP's Kik artifact notes this), so any file
whose name ends in ``kikDatabase.db`` is offered, and any SQLite file with the tables and columns
of :data:`SIGNATURE` is read, whatever its name.

What is read (the app's own table definitions: database versions 19 and 20 of the app's
``SQLiteOpenHelper``; columns missing from older versions read as NULL):

- ``messagesTable`` -> ``chat/android/kik/message``, one record per row: ``body``;
  ``timestamp`` (**Unix milliseconds**, UTC; declared ``LONG``); ``partner_jid``, the JID of the
  other side (``<name>_<xyz>@talk.kik.com``) and, in a group, of the member who wrote;
  ``bin_id``, the conversation: the partner's JID for a one-to-one chat, the group's JID
  (``<number>_g@groups.kik.com``) for a group; ``was_me`` (1 sent by the owner, 0 received:
  ``from_me`` is true for 1, false for 0, ``None`` otherwise; labels ``sent``/``received``);
  ``read_state`` (stored as an integer; its codes are not published, so no labels: ``status``
  and ``message_status``, as the iOS plugin keeps ``ZSTATE``; Andriller's Kik decoder lists only
  the rows whose ``read_state`` is 500, every row is read here); ``uid`` (the message's id);
  ``length``; ``sys_msg`` and ``stat_msg`` (the text of system and status lines such as a member
  joining a group) with ``stat_user_jid`` (whom a status line is about); ``content_id`` (the
  attachment's content id) and ``app_id`` (the content app that made it, such as a camera or
  gallery extension), both raw.
- ``KIKContentTable`` (``content_id``, ``content_type``, ``content_name``, ``content_string``):
  one row per property of an attachment. The properties named in :data:`CONTENT_PROPERTIES`
  (``file-name``, ``file-size``, ``file-url``, ``app-name``, ``layout``, ``allow-forward``, as
  ALEAPP's artifact lists them) are read for each message's ``content_id``: one
  :class:`~triage.plugin.Attachment` (``name`` the ``file-name`` property, else the content id;
  ``recorded_path`` the content id, the name of its file in the app's caches; the file itself is
  not searched for) and ``attachment_properties``, the (name, value) pairs as stored.
- ``KIKcontactsTable`` -> ``chat/android/kik/contact``, one per row: ``jid``, ``user_name``,
  ``display_name``, ``local_name``, ``is_group`` (or a JID on ``groups.kik.com``), ``in_roster``,
  ``is_blocked``, ``is_ignored``, ``is_stub``, ``verified``, ``photo_url`` and
  ``photo_timestamp`` (**Unix milliseconds** stored as text), ``group_hashtag``, ``group_size``,
  ``description``, ``is_user_admin``, ``user_permission_level``, ``is_user_removed``; the flags
  are kept as stored (0/1). ``account_ids`` holds the user name and the JID. The same rows name
  the senders and conversations of the messages (joined on the JID).
- ``memberTable`` (when present) -> ``chat/android/kik/group_member``, one per row:
  ``group_id`` (the group's JID), ``member_jid``, ``is_admin``, ``is_banned``,
  ``permission_level``, ``is_dm_disabled``, as stored. A group's contact record lists its
  members' JIDs (``members``) in table order.

As the iOS plugin does (so Kik reads alike from both phones): ``conversation`` is the JID of the
chat (``bin_id``, else ``partner_jid``), ``conversation_title`` that contact's display name,
``party`` the JID of a one-to-one chat (``None`` for a group); ``sender`` is the user name (else
the JID) of a received message's author, ``None`` for the owner's, whose ``recipients`` is the
chat's JID. The owner's own Kik name is in another database (``kikCoreDatabase.db``), not read
here: ``account`` stays ``None``.

No public ``kikDatabase.db`` exists to test against: the tests build the database from the
app's published table definitions (see tests/plugins/test_kik_android.py for the sources).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    ContactFields,
    FileItem,
    MessageFields,
    ParseContext,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    TimeValue,
    column_int,
    column_text,
    column_time,
    from_unix_ms,
    read_rows,
    sqlite_signature,
    table_columns,
)

#: ``messagesTable.was_me``: who sent the message.
WAS_ME_LABELS: Mapping[object, str] = {0: "received", 1: "sent"}
SENT, RECEIVED = 1, 0
GROUP_SERVER = "@groups.kik.com"

#: The attachment properties of ``KIKContentTable`` read per message (the rest, such as the
#: ``preview`` and ``icon`` images, are left in the database).
CONTENT_PROPERTIES = ("file-name", "file-size", "file-url", "app-name", "layout", "allow-forward")


@dataclass(frozen=True, kw_only=True)
class KikAndroidMessage(MessageFields, Record):
    """One ``messagesTable`` row with its partner, chat and attachment: ``timestamp`` is
    ``timestamp`` (Unix ms); ``was_me``/``message_status`` are ``was_me``/``read_state``."""

    record_type: ClassVar[str] = "chat/android/kik/message"
    app: ClassVar[str] = "kik"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"was_me": WAS_ME_LABELS}

    rowid: int
    was_me: int | None = None
    message_status: int | None = None
    partner_jid: str | None = None
    bin_id: str | None = None
    username: str | None = None
    display_name: str | None = None
    uid: str | None = None
    length: int | None = None
    system_message: str | None = None
    status_message: str | None = None
    status_user_jid: str | None = None
    content_id: str | None = None
    app_id: str | None = None
    attachment_properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class KikAndroidContact(ContactFields, Record):
    """One ``KIKcontactsTable`` row: a Kik user (or group: ``is_group``) known to this phone;
    ``account_ids`` holds the user name and the JID; a group lists its ``members``."""

    record_type: ClassVar[str] = "chat/android/kik/contact"
    app: ClassVar[str] = "kik"

    rowid: int
    username: str | None = None
    display_name: str | None = None
    local_name: str | None = None
    jid: str | None = None
    is_group: bool = False
    in_roster: int | None = None
    is_blocked: int | None = None
    is_ignored: int | None = None
    is_stub: int | None = None
    verified: int | None = None
    profile_pic_url: str | None = None
    profile_pic_time: TimeValue | None = None
    group_hashtag: str | None = None
    group_size: int | None = None
    description: str | None = None
    is_user_admin: int | None = None
    user_permission_level: str | None = None
    is_user_removed: int | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class KikAndroidGroupMember(Record):
    """One ``memberTable`` row: ``member_jid`` belongs to the group ``group_jid``; the flags and
    the permission level as stored."""

    record_type: ClassVar[str] = "chat/android/kik/group_member"
    app: ClassVar[str] = "kik"

    rowid: int
    group_jid: str | None = None
    group_title: str | None = None
    member_jid: str | None = None
    username: str | None = None
    is_admin: int | None = None
    is_banned: int | None = None
    permission_level: str | None = None
    is_dm_disabled: int | None = None


MESSAGES = Table(
    "messagesTable",
    key="_id",
    required=("body", "partner_jid", "was_me", "timestamp"),
    optional=(
        "read_state",
        "uid",
        "length",
        "bin_id",
        "sys_msg",
        "stat_msg",
        "stat_user_jid",
        "content_id",
        "app_id",
    ),
    label="Kik message",
)
CONTACTS = Table(
    "KIKcontactsTable",
    key="_id",
    required=("jid", "display_name", "user_name"),
    optional=(
        "local_name",
        "in_roster",
        "photo_url",
        "photo_timestamp",
        "is_stub",
        "is_group",
        "is_blocked",
        "is_ignored",
        "verified",
        "is_user_admin",
        "user_permission_level",
        "group_hashtag",
        "is_user_removed",
        "description",
        "group_size",
    ),
    label="Kik contacts",
)
MEMBERS = Table(
    "memberTable",
    key="_id",
    required=("group_id", "member_jid"),
    optional=("is_admin", "is_banned", "permission_level", "is_dm_disabled"),
    label="Kik group members",
)
CONTENT = Table(
    "KIKContentTable",
    key="_id",
    required=("content_id", "content_name", "content_string"),
    where="content_name IN (" + ", ".join(f"'{p}'" for p in CONTENT_PROPERTIES) + ")",
    label="Kik content",
)

#: A Kik store: messages with partners and times, and the contacts' names.
SIGNATURE = sqlite_signature(MESSAGES, CONTACTS)

_text = column_text
_int = column_int
_unix_ms = partial(column_time, convert=from_unix_ms, encoding="unix_ms")


@dataclass(frozen=True)
class Lookups:
    """Contacts by JID, group members by group JID, attachment properties by content id (each
    small next to the messages)."""

    contacts: dict[str, sqlite3.Row]
    members: dict[str, list[str]]
    content: dict[str, list[tuple[str, str]]]


class KikAndroidPlugin(SqliteTablePlugin[Lookups]):
    """Reads Kik Messenger on Android (``kikDatabase.db``): messages with their partner, chat and
    attachment properties, the contacts (users and groups) and the groups' members."""

    name = "kik_android"
    version = "1.0.0"
    description = "Kik Messenger on Android (kikDatabase.db: messagesTable, KIKcontactsTable, memberTable)"
    tables = (MESSAGES, CONTACTS, MEMBERS)
    targets = Targets(globs=("**/*kikDatabase.db",), magic=(SQLITE_MAGIC,), sqlite=SIGNATURE)
    emits = (KikAndroidMessage, KikAndroidContact, KikAndroidGroupMember)

    def tables_in(self, con: sqlite3.Connection, item: FileItem, ctx: ParseContext) -> tuple[Table, ...]:
        """Messages and contacts; ``memberTable`` when this version has it."""
        return tuple(t for t in self.tables if t is not MEMBERS or table_columns(con, MEMBERS.name))

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """Contacts by JID (the first row of a JID listed twice), members by group, and the
        attachment properties by content id."""
        contacts: dict[str, sqlite3.Row] = {}
        for row in read_rows(con, ctx, CONTACTS):
            jid = row["jid"]
            if isinstance(jid, str) and jid:
                contacts.setdefault(jid, row)
        members: dict[str, list[str]] = {}
        for row in read_rows(con, ctx, MEMBERS):
            group, member = row["group_id"], row["member_jid"]
            if isinstance(group, str) and isinstance(member, str) and member:
                members.setdefault(group, []).append(member)
        content: dict[str, list[tuple[str, str]]] = {}
        for row in read_rows(con, ctx, CONTENT):
            cid, name, value = row["content_id"], row["content_name"], row["content_string"]
            if isinstance(cid, str) and isinstance(name, str) and isinstance(value, str):
                content.setdefault(cid, []).append((name, value))
            else:
                bad = next(
                    c
                    for c, v in (("content_id", cid), ("content_name", name), ("content_string", value))
                    if not isinstance(v, str)
                )
                ctx.warn(
                    f"{bad} is not text ({type(row[bad]).__name__}): property not read",
                    locator=CONTENT.locator(row["_id"]),
                )
        return Lookups(contacts=contacts, members=members, content=content)

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
        """One message, contact or group member."""
        if at.table == CONTACTS.name:
            return self._contact(row, at)
        if at.table == MEMBERS.name:
            return self._member(row, at)
        return self._message(row, at)

    def _message(self, row: sqlite3.Row, at: RowContext[Lookups]) -> KikAndroidMessage:
        look = at.lookups
        partner = _text(row["partner_jid"], "partner_jid", at)
        bin_id = _text(row["bin_id"], "bin_id", at)
        conversation = bin_id or partner
        chat = look.contacts.get(conversation) if conversation else None
        user = look.contacts.get(partner) if partner else None
        group = conversation is not None and (
            conversation.endswith(GROUP_SERVER) or _get(chat, "is_group") == 1
        )
        username = _text(_get(user, "user_name"), "KIKcontactsTable.user_name")
        was_me = _int(row["was_me"], "was_me", at)
        from_me = True if was_me == SENT else False if was_me == RECEIVED else None
        if from_me:
            sender, recipients = None, (conversation,) if conversation else ()
        elif from_me is False:
            sender, recipients = username or partner, ()
        else:
            sender, recipients = None, ()
        body = row["body"]
        if body is not None and not isinstance(body, str):
            at.warn(f"body is not text ({type(body).__name__}): not read")
            body = None
        content_id = _text(row["content_id"], "content_id", at)
        properties = tuple(look.content.get(content_id, ())) if content_id else ()
        attachments: tuple[Attachment, ...] = ()
        if content_id:
            file_name = next((v for k, v in properties if k == "file-name" and v), None)
            attachments = (Attachment(name=file_name or content_id, recorded_path=content_id),)
        read_state = _int(row["read_state"], "read_state", at)
        return KikAndroidMessage(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            timestamp=_unix_ms(row["timestamp"], "timestamp", at),
            body=body,
            from_me=from_me,
            party=None if group else conversation,
            conversation=conversation,
            conversation_title=_text(_get(chat, "display_name"), "KIKcontactsTable.display_name"),
            sender=sender,
            recipients=recipients,
            attachments=attachments,
            status=read_state,
            was_me=was_me,
            message_status=read_state,
            partner_jid=partner,
            bin_id=bin_id,
            username=username,
            display_name=_text(_get(user, "display_name"), "KIKcontactsTable.display_name"),
            uid=_text(row["uid"], "uid", at),
            length=_int(row["length"], "length", at),
            system_message=_text(row["sys_msg"], "sys_msg", at),
            status_message=_text(row["stat_msg"], "stat_msg", at),
            status_user_jid=_text(row["stat_user_jid"], "stat_user_jid", at),
            content_id=content_id,
            app_id=_text(row["app_id"], "app_id", at),
            attachment_properties=properties,
        )

    def _contact(self, row: sqlite3.Row, at: RowContext[Lookups]) -> KikAndroidContact:
        username = _text(row["user_name"], "user_name", at)
        jid = _text(row["jid"], "jid", at)
        display = _text(row["display_name"], "display_name", at)
        local = _text(row["local_name"], "local_name", at)
        is_group = _int(row["is_group"], "is_group", at)
        photo_time = row["photo_timestamp"]
        return KikAndroidContact(
            source=at.source,
            locator=at.locator,
            name=display or local,
            account_ids=tuple(x for x in (username, jid) if x),
            rowid=row["_id"],
            username=username,
            display_name=display,
            local_name=local,
            jid=jid,
            is_group=is_group == 1 or (jid is not None and jid.endswith(GROUP_SERVER)),
            in_roster=_int(row["in_roster"], "in_roster", at),
            is_blocked=_int(row["is_blocked"], "is_blocked", at),
            is_ignored=_int(row["is_ignored"], "is_ignored", at),
            is_stub=_int(row["is_stub"], "is_stub", at),
            verified=_int(row["verified"], "verified", at),
            profile_pic_url=_text(row["photo_url"], "photo_url", at),
            profile_pic_time=None
            if photo_time in (None, "")
            else _unix_ms(photo_time, "photo_timestamp", at),
            group_hashtag=_text(row["group_hashtag"], "group_hashtag", at),
            group_size=_int(row["group_size"], "group_size", at),
            description=_text(row["description"], "description", at),
            is_user_admin=_int(row["is_user_admin"], "is_user_admin", at),
            user_permission_level=_text(row["user_permission_level"], "user_permission_level", at),
            is_user_removed=_int(row["is_user_removed"], "is_user_removed", at),
            members=tuple(at.lookups.members.get(jid, ())) if jid else (),
        )

    def _member(self, row: sqlite3.Row, at: RowContext[Lookups]) -> KikAndroidGroupMember:
        look = at.lookups
        group = _text(row["group_id"], "group_id", at)
        member = _text(row["member_jid"], "member_jid", at)
        chat = look.contacts.get(group) if group else None
        user = look.contacts.get(member) if member else None
        return KikAndroidGroupMember(
            source=at.source,
            locator=at.locator,
            rowid=row["_id"],
            group_jid=group,
            group_title=_text(_get(chat, "display_name"), "KIKcontactsTable.display_name"),
            member_jid=member,
            username=_text(_get(user, "user_name"), "KIKcontactsTable.user_name"),
            is_admin=_int(row["is_admin"], "is_admin", at),
            is_banned=_int(row["is_banned"], "is_banned", at),
            permission_level=_text(row["permission_level"], "permission_level", at),
            is_dm_disabled=_int(row["is_dm_disabled"], "is_dm_disabled", at),
        )


def _get(row: sqlite3.Row | None, column: str) -> object:
    return None if row is None else row[column]
