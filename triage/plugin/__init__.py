"""The plugin API: everything a plugin imports, from this one module.

A plugin reads a :class:`FileItem`, yields :class:`Record` subclasses (typed, with raw values and
their :class:`TimeValue`), and declares its :class:`Targets`; see docs/plugins.md. The modules
behind it: :mod:`~triage.plugin.item` (the file handed over), :mod:`~triage.plugin.contract` (what
a plugin declares and is given), :mod:`~triage.plugin.records` (what it emits),
:mod:`~triage.plugin.timeconv` (each format's epoch, converted explicitly),
:mod:`~triage.plugin.scratch` (private copies of databases), :mod:`~triage.plugin.sqlite_table`
(the base of plugins that map SQLite rows to records), :mod:`~triage.plugin.grouped` (child rows
grouped under their parent row, a streamed merge join) and :mod:`~triage.plugin.registry`.
The text layer (:mod:`triage.text`: bytes in every text encoding with their offsets, folding for
comparison, the text of OOXML, OpenDocument and PDF documents) is re-exported for plugins too.
"""

from __future__ import annotations

from triage.plugin.analyzer import AnalysisContext, Analyzer, StoredRecord
from triage.plugin.columns import column_int, column_text, column_time
from triage.plugin.contract import (
    SQLITE_MAGIC,
    NotMyFormat,
    ParseContext,
    ParseWarning,
    Plugin,
    SqliteSignature,
    Targets,
    plugin_problems,
    select_list,
    table_columns,
)
from triage.plugin.grouped import GroupedRows
from triage.plugin.item import HEAD_SIZE, FileItem, RelatedFile
from triage.plugin.options import Option
from triage.plugin.records import (
    Attachment,
    CallFields,
    ContactFields,
    GeoFields,
    MessageFields,
    Record,
    SourceRef,
    UrlVisitFields,
    build_record,
)
from triage.plugin.sqlite_table import (
    Join,
    RowContext,
    RowGroups,
    SqliteTablePlugin,
    Table,
    UndecodableText,
    read_rows,
    sqlite_signature,
)
from triage.plugin.timeconv import (
    TimeValue,
    from_cocoa_ns,
    from_cocoa_seconds,
    from_exif_datetime,
    from_iso8601_text,
    from_mac1904_seconds,
    from_prtime_us,
    from_unix_ms,
    from_unix_seconds,
    from_webkit_us,
    iso_utc,
    wall_time,
)
from triage.text import (
    ByteOffsets,
    Folded,
    TextLimits,
    TextPart,
    TextView,
    clean,
    document_kind,
    extract_text,
    fold,
    views,
)

__all__ = [
    "HEAD_SIZE",
    "SQLITE_MAGIC",
    "AnalysisContext",
    "Analyzer",
    "Attachment",
    "ByteOffsets",
    "CallFields",
    "ContactFields",
    "FileItem",
    "Folded",
    "GeoFields",
    "GroupedRows",
    "Join",
    "MessageFields",
    "NotMyFormat",
    "Option",
    "ParseContext",
    "ParseWarning",
    "Plugin",
    "Record",
    "RelatedFile",
    "RowContext",
    "RowGroups",
    "SourceRef",
    "SqliteSignature",
    "SqliteTablePlugin",
    "StoredRecord",
    "Table",
    "Targets",
    "TextLimits",
    "TextPart",
    "TextView",
    "TimeValue",
    "UndecodableText",
    "UrlVisitFields",
    "build_record",
    "clean",
    "column_int",
    "column_text",
    "column_time",
    "document_kind",
    "extract_text",
    "fold",
    "from_cocoa_ns",
    "from_cocoa_seconds",
    "from_exif_datetime",
    "from_iso8601_text",
    "from_mac1904_seconds",
    "from_prtime_us",
    "from_unix_ms",
    "from_unix_seconds",
    "from_webkit_us",
    "iso_utc",
    "plugin_problems",
    "read_rows",
    "select_list",
    "sqlite_signature",
    "table_columns",
    "views",
    "wall_time",
]
