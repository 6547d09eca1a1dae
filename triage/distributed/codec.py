"""What crosses the broker, as JSON: a job's message to a worker and the results it sends back.

Only plain JSON travels (Celery is configured to accept nothing else: no pickles, so a message
cannot make a worker run code). A job's message names the files by their row keys
(triage/engine/writes.py: ``file_key``), never their content: the worker walks the evidence at
the path recorded at acquisition itself and finds the files by key. The run's settings travel
with every job (a few hundred bytes), so a worker needs nothing else from the coordinator.

The files of the later rounds are not in the worker's walk; their job says where they are
(triage/engine/remote.py: ``Whereabouts``), still in a few numbers per file:

* archive members: ``"within": [[archive key, members walked before it, n], ...]``, the job's
  keys taken ``n`` at a time, with the run's archive limits (``"limits"``);
* carved files: ``"carved": [[partition, offset, length, kind, [[image offset, length], ...]], ...]``,
  one per key.

Secrets among the options (a backup password, a database key) travel too: the broker must be as
private as the case (docs/lab.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.engine.options import SOURCE_OPTIONS
from triage.engine.per_file import FileJob
from triage.engine.remote import CarvedAt, Whereabouts
from triage.engine.results import FileResult, FoundRecord, PluginOutcome, TriageWarning
from triage.engine.workers import WorkerSetup
from triage.errors import DistributedError
from triage.keywords.terms import KeywordSpec, Term
from triage.plugin.contract import Plugin
from triage.plugin.options import PluginOptions
from triage.plugin.registry import load_analyzers, load_plugins
from triage.sources.nested import NestLimits

FORMAT = 1  # of the messages: a worker refuses a job in a format it does not know


# -- the run's settings ------------------------------------------------------------------------------


def encode_setup(run_id: str, setup: WorkerSetup) -> dict[str, Any]:
    """The settings of ``setup`` every job of run ``run_id`` carries (the scratch folder is the
    worker's own)."""
    return {
        "format": FORMAT,
        "run": run_id,
        "source_path": setup.source_path,
        "kind": setup.kind,
        "source_options": dict(setup.source_options),
        "plugins": [[cls.name, cls.version] for cls in setup.plugin_classes],
        "plugin_options": {
            plugin: {name: _encode_value(value) for name, value in values.items()}
            for plugin, values in setup.plugin_options.values.items()
        },
        "exhibit": setup.exhibit,
        "hashes": list(setup.hashes),
        "scratch_limit": setup.scratch_limit,
        "keywords": None
        if setup.keywords is None
        else {
            "name": setup.keywords.name,
            "sha256": setup.keywords.sha256,
            "terms": [[t.text, t.line, t.regex, t.pattern] for t in setup.keywords.terms],
        },
    }


def _encode_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, Path):
        return {"path": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and "path" in value:
        return Path(value["path"])
    return value


@dataclass(frozen=True)
class RunSettings:
    """A job's settings as a worker uses them."""

    run_id: str
    source_path: str
    kind: str
    source_options: dict[str, object]
    plugin_classes: tuple[type[Plugin], ...]
    plugin_options: PluginOptions
    exhibit: str
    hashes: tuple[str, ...]
    scratch_limit: int
    keywords: KeywordSpec | None


def decode_setup(message: dict[str, Any], worker: str) -> RunSettings:
    """The settings of a job's message, with this worker's plugin classes; DistributedError
    naming ``worker`` when it lacks a plugin of the run or has another version of one (the
    results would not be those the run records)."""
    if message.get("format") != FORMAT:
        raise DistributedError(
            f"worker {worker}: a job in message format {message.get('format')!r}, this worker reads {FORMAT}",
            hint="install the same version of exhibit on the coordinator and every worker",
        )
    loaded = load_plugins()
    available = {cls.name: cls for cls in loaded.plugins}
    classes: list[type[Plugin]] = []
    for name, version in message["plugins"]:
        cls = available.get(name)
        if cls is None or cls.version != version:
            have = "not installed" if cls is None else f"version {cls.version}"
            raise DistributedError(
                f"worker {worker}: the run uses plugin {name} {version}, this worker has it {have}",
                hint="install the same plugins on the coordinator and every worker",
            )
        classes.append(cls)
    analyzers = load_analyzers(taken=list(available)).analyzers
    declarers: list[Any] = [*classes, *analyzers, *SOURCE_OPTIONS]
    declared = {p.name: {o.name: o for o in getattr(p, "options", ())} for p in declarers}
    values = {
        plugin: {name: _decode_value(v) for name, v in given.items()}
        for plugin, given in message["plugin_options"].items()
    }
    keywords = message.get("keywords")
    return RunSettings(
        run_id=message["run"],
        source_path=message["source_path"],
        kind=message["kind"],
        source_options=dict(message["source_options"]),
        plugin_classes=tuple(classes),
        plugin_options=PluginOptions(values=values, declared=declared),
        exhibit=message["exhibit"],
        hashes=tuple(message["hashes"]),
        scratch_limit=int(message["scratch_limit"]),
        keywords=None
        if keywords is None
        else KeywordSpec(
            terms=tuple(Term(*t) for t in keywords["terms"]), name=keywords["name"], sha256=keywords["sha256"]
        ),
    )


# -- the files of a job -------------------------------------------------------------------------------


def encode_job(
    settings: dict[str, Any], jobs: Sequence[FileJob], where: Whereabouts | None
) -> dict[str, Any]:
    """The message of a job of ``jobs``: the run's ``settings``, the files' keys and, for files a
    worker's walk does not list, where they are."""
    keys = [j.key for j in jobs]
    message = {**settings, "keys": keys}
    if where is None:
        return message
    if where.members:
        groups: list[list[Any]] = []
        for key in keys:
            at = where.members[key]
            if groups and groups[-1][:2] == [at.archive, at.walked]:
                groups[-1][2] += 1
            else:
                groups.append([at.archive, at.walked, 1])
        message["within"] = groups
        message["limits"] = dataclasses.asdict(where.limits or NestLimits())
    if where.carved:
        message["carved"] = [
            [c.partition, c.offset, c.length, c.kind, [list(x) for x in c.extents]]
            for c in (where.carved[key] for key in keys)
        ]
    return message


@dataclass(frozen=True)
class JobFiles:
    """The files a job's message names: the walk's by key (``keys``); or archive members, by
    outermost archive (``within``: archive key, members walked before it, the members' keys;
    ``limits``); or carved files (``carved``, one per key)."""

    keys: list[str]
    within: list[tuple[str, int, list[str]]] | None = None
    limits: NestLimits | None = None
    carved: list[CarvedAt] | None = None


def decode_job(message: dict[str, Any]) -> JobFiles:
    keys = [str(k) for k in message["keys"]]
    if "within" in message:
        within = []
        at = 0
        for archive, walked, n in message["within"]:
            within.append((str(archive), int(walked), keys[at : at + int(n)]))
            at += int(n)
        if at != len(keys):
            raise DistributedError(f"a job names {len(keys)} member(s) and places {at} in archives")
        return JobFiles(keys, within=within, limits=NestLimits(**message["limits"]))
    if "carved" in message:
        carved = [
            CarvedAt(int(p), int(o), int(n), str(k), tuple((int(a), int(b)) for a, b in x))
            for p, o, n, k, x in message["carved"]
        ]
        if len(carved) != len(keys):
            raise DistributedError(f"a job names {len(keys)} carved file(s) and places {len(carved)}")
        return JobFiles(keys, carved=carved)
    return JobFiles(keys)


# -- results -----------------------------------------------------------------------------------------


def encode_result(r: FileResult) -> list[Any]:
    """A FileResult as a JSON list (its records in memory: a worker never spills them to a file)."""
    assert not r.spill, "a remote worker keeps its records in memory"
    return [
        r.key,
        r.bytes_read,
        r.md5,
        r.sha1,
        r.sha256,
        r.mime,
        r.ext_mismatch,
        r.error,
        [[p.plugin, p.version, p.outcome] for p in r.plugins],
        [[f.plugin, f.version, f.record_type, f.locator, f.data] for f in r.records],
        [[w.plugin, w.path, w.message, w.traceback] for w in r.warnings],
        r.archive,
    ]


def decode_result(value: list[Any]) -> FileResult:
    key, bytes_read, md5, sha1, sha256, mime, ext_mismatch, error, plugins, records, warnings, archive = value
    return FileResult(
        key=key,
        bytes_read=int(bytes_read),
        md5=md5,
        sha1=sha1,
        sha256=sha256,
        mime=mime,
        ext_mismatch=bool(ext_mismatch),
        error=error,
        plugins=tuple(PluginOutcome(*p) for p in plugins),
        records=tuple(FoundRecord(*f) for f in records),
        warnings=tuple(TriageWarning(*w) for w in warnings),
        archive=bool(archive),
    )
