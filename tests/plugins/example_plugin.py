"""Example plugin from docs/plugins.md: the locale an Android app database was created with.

Android's SQLiteOpenHelper adds a one-row table ``android_metadata(locale)`` to every database it
creates, so the locale says which language the device was set to when the app first ran. This
file is included verbatim in the docs and run by tests/plugins/test_example_plugin.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import SQLITE_MAGIC, FileItem, ParseContext, Plugin, Record, SqliteSignature, Targets


@dataclass(frozen=True, kw_only=True)
class AndroidDbLocale(Record):
    """The locale recorded in ``android_metadata`` (raw text such as ``en_US``)."""

    record_type: ClassVar[str] = "example/android/db-locale"

    locale: str


class AndroidDbLocalePlugin(Plugin):
    """Reports the locale stored in ``android_metadata`` of Android app databases."""

    name = "example_android_db_locale"
    version = "1.0.0"
    description = "Locale an Android app database was created with (table android_metadata)"
    targets = Targets(
        globs=("/data/data/*/databases/*.db",),
        magic=(SQLITE_MAGIC,),
        sqlite=SqliteSignature.of(android_metadata=("locale",)),
    )
    emits = (AndroidDbLocale,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[AndroidDbLocale]:
        con = ctx.open_sqlite(item)  # scratch copy, WAL applied, read-only
        rows = con.execute("SELECT rowid, locale FROM android_metadata").fetchall()
        if not rows:
            ctx.warn("android_metadata is empty")
        for row in rows:
            if not isinstance(row["locale"], str):
                ctx.warn(f"locale is {row['locale']!r}, not text", locator=f"android_metadata.rowid={row[0]}")
                continue
            yield AndroidDbLocale(
                source=item.source, locator=f"android_metadata.rowid={row[0]}", locale=row["locale"]
            )
