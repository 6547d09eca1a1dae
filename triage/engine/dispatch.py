"""Choosing the plugins for a file and running them so one failure never stops a triage run.

Matching goes from cheap to dear: glob on the path, MIME type sniffed from the first bytes, magic
bytes; only a plugin that passes one of those and declares a SQLite signature costs a scratch copy
of the database, and that copy and its schema are shared by every plugin looking at the same file.

Running collects, per plugin, the records, warnings and an outcome (``ok``, ``not-my-format``,
``failed``). A plugin's exception on one file becomes a warning carrying the traceback and the run
goes on with the next plugin: an execution report must say what failed and why, rather than a
crashed run or, worse, silence that reads as "no data".
"""

from __future__ import annotations

import functools
import re
import sqlite3
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from triage.plugin.contract import NotMyFormat, ParseContext, ParseWarning, Plugin, Targets
from triage.plugin.item import FileItem
from triage.plugin.records import Record
from triage.plugin.scratch import SQLITE_HEADER

__all__ = [
    "DispatchResult",
    "PluginRun",
    "cheap_match",
    "glob_matches",
    "match_plugins",
    "run_plugins",
]

Outcome = Literal["ok", "not-my-format", "failed"]


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a path glob to a regex: ``**`` spans directories, ``*``/``?`` stay inside one."""
    out: list[str] = []
    i = 0
    p = pattern.replace("\\", "/")
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = p.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = p[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    regex = "".join(out)
    if not (p.startswith("/") or p.startswith("**")):  # unanchored: treat as relative to the root
        regex = "/" + regex
    return re.compile(regex + r"\Z", re.IGNORECASE | re.DOTALL)


def glob_matches(pattern: str, path: str) -> bool:
    """Case-insensitive glob match of a whole path from the file-system root.

    ``/data/*/mmssms.db`` matches one directory level; ``**/History`` matches ``/History`` and
    any ``.../History``. Backslashes in ``path`` are treated as separators.
    """
    norm = "/" + path.replace("\\", "/").lstrip("/")
    return _glob_regex(pattern).match(norm) is not None


def cheap_match(targets: Targets, item: FileItem) -> bool:
    """True when any cheap filter (glob, MIME type, magic) of ``targets`` accepts ``item``."""
    if any(glob_matches(g, item.path) for g in targets.globs):
        return True
    if targets.magic:
        head = item.head
        if any(head[off : off + len(sig)] == sig for off, sig in targets.magic):
            return True
    if targets.mime_types:
        mime = (item.mime or "").lower()
        if mime and mime in (m.lower() for m in targets.mime_types):
            return True
    return False


def match_plugins(item: FileItem, plugins: Sequence[Plugin], ctx: ParseContext) -> list[Plugin]:
    """The plugins whose targets accept ``item``, in the order given.

    SQLite signatures are checked last and only for cheap candidates, against the schema of the
    scratch copy (WAL applied), read once per file. A file that is not a readable database simply
    does not match a SQLite plugin, except that a file *named* as the plugin's database (one of
    its globs matches) is not passed over silently: ``ctx`` gets a warning naming the plugin, the
    file and the problem, because a damaged ``mmssms.db`` read as "no messages" is wrong evidence.
    """
    chosen: list[Plugin] = []
    for plugin in plugins:
        targets = plugin.targets
        if not cheap_match(targets, item):
            continue
        if targets.sqlite is not None:
            schema, problem = _schema(item, ctx)
            if schema is None or not targets.sqlite.matches(schema):
                if any(glob_matches(g, item.path) for g in targets.globs):
                    wanted = "; ".join(f"{t}({', '.join(c)})" for t, c in targets.sqlite.to_dict().items())
                    why = problem or f"it lacks the tables and columns the plugin reads: {wanted}"
                    ctx.warnings.append(
                        ParseWarning(plugin.name, item.path, f"database skipped by {plugin.name}: {why}")
                    )
                continue
        chosen.append(plugin)
    return chosen


def _schema(item: FileItem, ctx: ParseContext) -> tuple[dict[str, frozenset[str]] | None, str | None]:
    """The scratch copy's schema, or ``None`` and why not."""
    if not item.head.startswith(SQLITE_HEADER):
        return None, f"not a SQLite 3 database (its first bytes are {item.head[:16].hex()})"
    try:
        return ctx.scratch.sqlite_schema(item), None
    except sqlite3.DatabaseError as exc:
        return None, f"unreadable SQLite database: {exc}"


@dataclass
class PluginRun:
    """What one plugin did with one file."""

    plugin: str
    version: str
    outcome: Outcome
    records: list[Record] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)


@dataclass
class DispatchResult:
    """Every plugin run on one file, in order; the engine stamps records with ``run.plugin``."""

    path: str
    runs: list[PluginRun] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        return [r for run in self.runs for r in run.records]

    @property
    def warnings(self) -> list[ParseWarning]:
        return [w for run in self.runs for w in run.warnings]

    @property
    def failed(self) -> list[str]:
        return [run.plugin for run in self.runs if run.outcome == "failed"]


def run_plugins(item: FileItem, plugins: Iterable[Plugin], ctx: ParseContext) -> DispatchResult:
    """Run each plugin on ``item``, isolating failures.

    - ``NotMyFormat`` -> outcome ``not-my-format``, no records, no warning.
    - any other exception -> outcome ``failed`` and a warning with the traceback; records yielded
      before the failure are kept (they were read correctly) and the warning says how many.
    - a record of a type the plugin does not declare in ``emits`` is dropped with a warning.
    """
    result = DispatchResult(path=item.path)
    for plugin in plugins:
        pctx = ctx.for_plugin(plugin.name, item)
        run = PluginRun(plugin=plugin.name, version=plugin.version, outcome="ok")
        allowed = tuple(plugin.emits)
        try:
            for record in plugin.parse(item, pctx):
                if not isinstance(record, allowed):
                    pctx.warn(f"dropped a {type(record).__name__}: not in the plugin's declared 'emits'")
                    continue
                run.records.append(record)
        except NotMyFormat:
            run.outcome = "not-my-format"
            run.records.clear()
        except Exception as exc:
            run.outcome = "failed"
            pctx.warnings.append(
                ParseWarning(
                    plugin=plugin.name,
                    path=item.path,
                    message=f"plugin failed after {len(run.records)} record(s): {type(exc).__name__}: {exc}",
                    traceback="".join(traceback.format_exception(exc)),
                )
            )
        run.warnings = list(pctx.warnings)
        result.runs.append(run)
    return result
