"""Example plugin from docs/plugins.md: the locale an Android app database was created with.

Android's SQLiteOpenHelper adds a one-row table ``android_metadata(locale)`` to every database it
creates, so the locale says which language the device was set to when the app first ran. This
file is included verbatim in the docs and run by tests/plugins/test_example_plugin.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import ClassVar

from triage.plugin import (
    SQLITE_MAGIC,
    Record,
    RowContext,
    SqliteTablePlugin,
    Table,
    Targets,
    sqlite_signature,
)


@dataclass(frozen=True, kw_only=True)
class AndroidDbLocale(Record):
    """The locale recorded in ``android_metadata`` (raw text such as ``en_US``)."""

    record_type: ClassVar[str] = "example/android/db-locale"

    locale: str


class AndroidDbLocalePlugin(SqliteTablePlugin[None]):
    """Reports the locale stored in ``android_metadata`` of Android app databases."""

    name = "example_android_db_locale"
    version = "1.0.0"
    description = "Locale an Android app database was created with (table android_metadata)"
    tables = (Table("android_metadata", required=("locale",)),)  # no key column: rows are named by rowid
    targets = Targets(
        globs=("/data/data/*/databases/*.db",),
        magic=(SQLITE_MAGIC,),
        sqlite=sqlite_signature(*tables),  # android_metadata(locale)
    )
    emits = (AndroidDbLocale,)

    def record(self, row: sqlite3.Row, at: RowContext[None]) -> AndroidDbLocale:
        locale = row["locale"]
        if not isinstance(locale, str):
            raise ValueError(f"locale is {locale!r}, not text")  # a warning for this row; next row
        return AndroidDbLocale(source=at.source, locator=at.locator, locale=locale)
