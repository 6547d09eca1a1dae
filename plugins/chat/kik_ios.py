"""Kik Messenger on iOS: ``kik.sqlite``, a Core Data store.

Where: in Kik's app group container,
``/private/var/mobile/Containers/Shared/AppGroup/<UUID>/cores/private/<account id>/kik.sqlite``
(older versions kept it in the app's own ``Documents`` folder); the attachments' content files sit
beside it, named by their content id. Any SQLite file with the tables and columns of
:data:`SIGNATURE` is read, whatever its name.

What is read (Core Data names: ``Z_PK`` is the row's key, a to-one relationship column holds the
``Z_PK`` of the row it points to):

- ``ZKIKMESSAGE`` -> ``chat/ios/kik/message``, one record per row: ``ZBODY``; ``ZTIMESTAMP`` (the
  message's own time, as the sender's app stamped it: ``timestamp``) and ``ZRECEIVEDTIMESTAMP``
  (when this phone stored it: ``received_time``; the same value for the owner's messages), both
  Core Data TIMESTAMPs, **seconds since 2001-01-01 UTC** (Cocoa), fractional; ``ZUSER`` -> the
  ``ZKIKUSER`` row of the other side (``username``, ``display_name``, ``jid``); ``ZTYPE``
  (``message_type``) as iLEAPP's Kik module labels it: 1 received, 2 sent, 3 group admin (events
  of the owner's own group: "You started a group"), 4 group message (events such as "X has joined
  the chat"): ``from_me`` is true for 2, false for 1, ``None`` otherwise; ``ZSTATE``
  (``message_status``, delivery/read state as stored; plaso calls it the message status; its
  codes, 0/16/30/70/78/94 in the corpus, are not published, so no labels), ``ZSYSTEMSTATE``,
  ``ZFLAGS`` (raw; the two messages with an attachment in the corpus have 4, and their body is
  the attachment's content id), ``ZSTANZAID`` (the XMPP message id). ``sender`` is the user of a
  received or group message, ``None`` for the owner's and for group-admin events (whose own Kik name is not in this
  database: ``account`` stays ``None``); ``recipients`` is the chat's user for the owner's.
- The chat of a message: the join table of the many-to-many relationship ``KikChat.messages``
  (``Z_3MESSAGES (Z_3CHAT, Z_5MESSAGES)`` in the corpus; the numbers are the entities' ``Z_ENT``
  and differ between versions, so the table is found by its shape) -> ``ZKIKCHAT``, whose
  ``ZUSER`` is the other side: a person, or a group (a ``ZKIKUSER`` whose ``ZJID`` ends in
  ``@groups.kik.com``). ``conversation`` is that user's JID (the thread identity),
  ``conversation_title`` its display name, ``party`` the JID of a one-to-one chat. A message listed
  in more than one chat (message 2 of the corpus is in chats 2 and 6) takes the chat whose user is
  the message's own ``ZUSER``, else the first; ``chats`` keeps them all.
- ``ZKIKATTACHMENT`` rows with ``ZMESSAGE`` = the message: ``ZCONTENT`` (the content id, also the
  file's name), ``ZTYPE``, ``ZTIMESTAMP``; one :class:`~triage.plugin.Attachment` each (the file
  itself is not searched for).
- ``ZKIKUSER`` -> ``chat/ios/kik/contact``, one per row: ``ZUSERNAME``, ``ZDISPLAYNAME``,
  ``ZFIRSTNAME``/``ZLASTNAME``, ``ZJID``, ``ZEMAIL``, ``ZPPURL`` and ``ZPPTIMESTAMP`` (the profile
  picture and its time, **Unix milliseconds** stored as text), ``ZSTATUS``, ``ZFLAGS``, ``ZTYPE``,
  ``ZPRESENCE``, ``ZADDRESSBOOKID``, ``ZCHATUSER`` (the chat with this user, when there is one).

plaso's ``kik_ios`` parser joins ``ZKIKUSER.ZEXTRA = ZKIKMESSAGE.ZUSER``; iLEAPP joins on
``ZKIKUSER.Z_PK``, the Core Data key, as here. ``ZKIKUSER.ZEXTRA`` is the user's to-one link to
its ``ZKIKUSEREXTRA`` row (whose ``ZUSER`` points back), not a user key: the two agree only where
both tables happen to number a user alike. In the corpus they do for 23 of 25 users; users 1 and
2 are crossed (``ZKIKUSER`` 1 has ``ZEXTRA`` 2), so plaso gives message 1, Kik's welcome message
from ``kikteam`` (the user of chat 1), to ``jon.doh2015``.

Expected on the public corpus (``chats/kik_ios.sqlite``, plaso test data): 60 messages in 6 chats
and 25 contacts; as plaso's test says, message 2 (its event 1) is "Hello" to ``ken.doh``
("Ken Doh"), ``ZTYPE`` 2, ``ZSTATE`` 94, received 2015-06-29 12:26:11 UTC.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    Attachment,
    ContactFields,
    GroupedRows,
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
    from_cocoa_seconds,
    from_unix_ms,
    read_rows,
    sqlite_signature,
    table_columns,
)

#: ``ZKIKMESSAGE.ZTYPE`` as iLEAPP's Kik module (kikMessages) labels it.
MESSAGE_TYPE_LABELS: Mapping[object, str] = {1: "received", 2: "sent", 3: "group admin", 4: "group message"}
RECEIVED, SENT, GROUP_ADMIN = 1, 2, 3
GROUP_SERVER = "@groups.kik.com"

_JOIN_TABLE = re.compile(r"^Z_(\d+)MESSAGES$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class KikMessage(MessageFields, Record):
    """One ``ZKIKMESSAGE`` row with its user, chat and attachments: ``timestamp`` is ``ZTIMESTAMP``,
    ``received_time`` ``ZRECEIVEDTIMESTAMP``; ``message_type``/``message_status`` are ``ZTYPE``/``ZSTATE``."""

    record_type: ClassVar[str] = "chat/ios/kik/message"
    app: ClassVar[str] = "kik"
    labels: ClassVar[Mapping[str, Mapping[object, str]]] = {"message_type": MESSAGE_TYPE_LABELS}

    rowid: int
    received_time: TimeValue | None = None
    message_type: int | None = None
    message_status: int | None = None
    system_state: int | None = None
    flags: int | None = None
    user_pk: int | None = None
    username: str | None = None
    display_name: str | None = None
    user_jid: str | None = None
    chat_pk: int | None = None
    chats: tuple[int, ...] = ()
    stanza_id: str | None = None
    attachment_types: tuple[int | None, ...] = ()


@dataclass(frozen=True, kw_only=True)
class KikContact(ContactFields, Record):
    """One ``ZKIKUSER`` row: a Kik user (or group: ``is_group``) known to this phone;
    ``account_ids`` holds the username and the JID."""

    record_type: ClassVar[str] = "chat/ios/kik/contact"
    app: ClassVar[str] = "kik"

    rowid: int
    username: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    jid: str | None = None
    email: str | None = None
    is_group: bool = False
    status_text: str | None = None
    profile_pic_url: str | None = None
    profile_pic_time: TimeValue | None = None
    user_type: int | None = None
    flags: int | None = None
    presence: int | None = None
    addressbook_id: int | None = None
    chat_pk: int | None = None


MESSAGES = Table(
    "ZKIKMESSAGE",
    key="Z_PK",
    required=("ZBODY", "ZUSER", "ZTIMESTAMP", "ZTYPE"),
    optional=("ZRECEIVEDTIMESTAMP", "ZSTATE", "ZSYSTEMSTATE", "ZFLAGS", "ZSTANZAID"),
    label="Kik message",
)
USERS = Table(
    "ZKIKUSER",
    key="Z_PK",
    required=("ZUSERNAME", "ZDISPLAYNAME"),
    optional=(
        "ZJID",
        "ZFIRSTNAME",
        "ZLASTNAME",
        "ZEMAIL",
        "ZSTATUS",
        "ZPPURL",
        "ZPPTIMESTAMP",
        "ZTYPE",
        "ZFLAGS",
        "ZPRESENCE",
        "ZADDRESSBOOKID",
        "ZCHATUSER",
    ),
    label="Kik contacts",
)
CHATS = Table("ZKIKCHAT", key="Z_PK", optional=("ZUSER", "ZFLAGS", "ZDATEUPDATED"), label="Kik chat")
ATTACHMENTS = Table(
    "ZKIKATTACHMENT", key="Z_PK", optional=("ZMESSAGE", "ZCONTENT", "ZTYPE"), label="Kik attachment"
)

#: A Kik store: messages pointing at users, and the users' names.
SIGNATURE = sqlite_signature(MESSAGES, USERS)

_text = column_text
_int = column_int
_cocoa = partial(column_time, convert=from_cocoa_seconds, encoding="cocoa_s")


@dataclass(frozen=True)
class Lookups:
    """Users and chats by ``Z_PK`` (small next to the messages), and the chat links and
    attachments read in step with the messages."""

    users: dict[object, sqlite3.Row]
    chats: dict[object, sqlite3.Row]
    links: GroupedRows | None
    chat_column: str
    attachments: GroupedRows


def _join_table(con: sqlite3.Connection) -> tuple[str, str, str] | None:
    """The chat-message join table: (table, its chat column, its message column), found by shape."""
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        if not isinstance(name, str) or not _JOIN_TABLE.match(name):
            continue
        cols = [str(r[1]) for r in con.execute("SELECT * FROM pragma_table_info(?)", (name,))]
        chat = [c for c in cols if re.fullmatch(r"Z_\d+CHAT", c, re.IGNORECASE)]
        message = [c for c in cols if re.fullmatch(r"Z_\d+MESSAGES", c, re.IGNORECASE)]
        if len(cols) == 2 and chat and message:
            return name, chat[0], message[0]
    return None


class KikIosPlugin(SqliteTablePlugin[Lookups]):
    """Reads Kik Messenger on iOS (``kik.sqlite``): messages with their sender, chat and
    attachments, and the users known to the app as contacts."""

    name = "kik_ios"
    version = "1.0.0"
    description = "Kik Messenger on iOS (kik.sqlite: ZKIKMESSAGE, ZKIKCHAT, ZKIKUSER, ZKIKATTACHMENT)"
    tables = (MESSAGES, USERS)
    targets = Targets(globs=("**/kik.sqlite",), magic=(SQLITE_MAGIC,), sqlite=SIGNATURE)
    emits = (KikMessage, KikContact)

    def lookups(self, con: sqlite3.Connection, ctx: ParseContext) -> Lookups:
        """Users and chats by key; the join table and attachments grouped by message."""
        users = {row["Z_PK"]: row for row in read_rows(con, ctx, USERS)}
        chats = {row["Z_PK"]: row for row in read_rows(con, ctx, CHATS)}
        found = _join_table(con)
        links = None
        chat_column = ""
        if found is not None:
            name, chat_column, message_column = found
            links = GroupedRows(
                con, ctx, Table(name, key="rowid", optional=(chat_column, message_column)), message_column
            )
        elif table_columns(con, CHATS.name):
            ctx.warn("no chat-message join table (Z_<n>MESSAGES): messages read without their chat")
        return Lookups(
            users=users,
            chats=chats,
            links=links,
            chat_column=chat_column,
            attachments=GroupedRows(con, ctx, ATTACHMENTS, "ZMESSAGE"),
        )

    def record(self, row: sqlite3.Row, at: RowContext[Lookups]) -> Record:
        """One message, or one user."""
        if at.table == USERS.name:
            return self._contact(row, at)
        return self._message(row, at)

    def _message(self, row: sqlite3.Row, at: RowContext[Lookups]) -> KikMessage:
        look = at.lookups
        user_pk = _int(row["ZUSER"], "ZUSER", at)
        user = look.users.get(user_pk) if user_pk is not None else None
        if user_pk is not None and user is None:
            at.warn(f"user {user_pk} not found in ZKIKUSER")
        links = look.links.take(row["Z_PK"]) if look.links is not None else []
        chat_pks = tuple(pk for link in links if isinstance(pk := link[look.chat_column], int))
        chat_pk = next((pk for pk in chat_pks if _get(look.chats.get(pk), "ZUSER") == user_pk), None)
        if chat_pk is None and chat_pks:
            chat_pk = chat_pks[0]
        chat = look.chats.get(chat_pk) if chat_pk is not None else None
        chat_user = look.users.get(_get(chat, "ZUSER")) if chat is not None else None
        chat_jid = _text(_get(chat_user, "ZJID"), "ZKIKUSER.ZJID")
        group = chat_jid is not None and chat_jid.endswith(GROUP_SERVER)
        username = _text(_get(user, "ZUSERNAME"), "ZKIKUSER.ZUSERNAME")
        jid = _text(_get(user, "ZJID"), "ZKIKUSER.ZJID")
        kind = _int(row["ZTYPE"], "ZTYPE", at)
        from_me = True if kind == SENT else False if kind == RECEIVED else None
        if from_me:
            sender, recipients = None, tuple(x for x in (chat_jid or jid,) if x)
        elif kind == GROUP_ADMIN:  # the owner's own group events ("You started a group")
            sender, recipients = None, ()
        else:
            sender, recipients = username or jid, ()
        attachments = look.attachments.take(row["Z_PK"])
        body = row["ZBODY"]
        if body is not None and not isinstance(body, str):
            at.warn(f"ZBODY is not text ({type(body).__name__}): not read")
            body = None
        return KikMessage(
            source=at.source,
            locator=at.locator,
            rowid=row["Z_PK"],
            timestamp=_cocoa(row["ZTIMESTAMP"], "ZTIMESTAMP", at),
            received_time=_cocoa(row["ZRECEIVEDTIMESTAMP"], "ZRECEIVEDTIMESTAMP", at),
            body=body,
            from_me=from_me,
            party=None if group else chat_jid,
            conversation=chat_jid,
            conversation_title=_text(_get(chat_user, "ZDISPLAYNAME"), "ZKIKUSER.ZDISPLAYNAME"),
            sender=sender,
            recipients=recipients,
            attachments=tuple(
                Attachment(name=content, recorded_path=content)
                for a in attachments
                if (content := _text(a["ZCONTENT"], "ZKIKATTACHMENT.ZCONTENT"))
            ),
            status=_int(row["ZSTATE"], "ZSTATE", at),
            message_type=kind,
            message_status=_int(row["ZSTATE"], "ZSTATE"),
            system_state=_int(row["ZSYSTEMSTATE"], "ZSYSTEMSTATE", at),
            flags=_int(row["ZFLAGS"], "ZFLAGS", at),
            user_pk=user_pk,
            username=username,
            display_name=_text(_get(user, "ZDISPLAYNAME"), "ZKIKUSER.ZDISPLAYNAME"),
            user_jid=jid,
            chat_pk=chat_pk,
            chats=chat_pks,
            stanza_id=_text(row["ZSTANZAID"], "ZSTANZAID", at),
            attachment_types=tuple(_int(a["ZTYPE"], "ZKIKATTACHMENT.ZTYPE") for a in attachments),
        )

    def _contact(self, row: sqlite3.Row, at: RowContext[Lookups]) -> KikContact:
        username = _text(row["ZUSERNAME"], "ZUSERNAME", at)
        jid = _text(row["ZJID"], "ZJID", at)
        email = _text(row["ZEMAIL"], "ZEMAIL", at)
        display = _text(row["ZDISPLAYNAME"], "ZDISPLAYNAME", at)
        first = _text(row["ZFIRSTNAME"], "ZFIRSTNAME", at)
        last = _text(row["ZLASTNAME"], "ZLASTNAME", at)
        pp_time = row["ZPPTIMESTAMP"]
        return KikContact(
            source=at.source,
            locator=at.locator,
            name=display or " ".join(x for x in (first, last) if x) or None,
            emails=(email,) if email else (),
            account_ids=tuple(x for x in (username, jid) if x),
            rowid=row["Z_PK"],
            username=username,
            display_name=display,
            first_name=first,
            last_name=last,
            jid=jid,
            email=email,
            is_group=jid is not None and jid.endswith(GROUP_SERVER),
            status_text=_text(row["ZSTATUS"], "ZSTATUS", at),
            profile_pic_url=_text(row["ZPPURL"], "ZPPURL", at),
            profile_pic_time=from_unix_ms(pp_time) if isinstance(pp_time, int | str) else None,
            user_type=_int(row["ZTYPE"], "ZTYPE", at),
            flags=_int(row["ZFLAGS"], "ZFLAGS", at),
            presence=_int(row["ZPRESENCE"], "ZPRESENCE", at),
            addressbook_id=_int(row["ZADDRESSBOOKID"], "ZADDRESSBOOKID", at),
            chat_pk=_int(row["ZCHATUSER"], "ZCHATUSER", at),
        )


def _get(row: sqlite3.Row | None, column: str) -> object:
    return None if row is None else row[column]
