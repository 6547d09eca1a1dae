"""Which plugins exist: the built-ins, listed explicitly, and third-party ones from entry points.

Built-in plugins are the tuple ``plugins.BUILTIN_PLUGINS``: no registration by import side effect,
no priority by import order, and a test checks every module of the ``plugins`` package is listed.
Third-party packages add plugins through the entry-point group ``exhibit.plugins``; each entry
point names one :class:`~triage.plugin.Plugin` subclass. A third-party plugin that fails to
import, breaks the contract or reuses a taken name or record type is left out with a warning:
one bad add-on never stops triage.

Imports flow ``plugins -> triage``; this module reaches the built-in tuple by importing the
``plugins`` package when called, never at import time, so ``triage`` stays importable alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from triage.plugin.analyzer import Analyzer, analyzer_problems
from triage.plugin.contract import Plugin, missing_modules, plugin_problems

__all__ = [
    "ANALYZER_GROUP",
    "BUILTIN_PACKAGE",
    "ENTRY_POINT_GROUP",
    "LoadedAnalyzers",
    "LoadedPlugins",
    "PluginInfo",
    "analyzer_info",
    "builtin_analyzers",
    "builtin_plugins",
    "list_analyzers",
    "list_plugins",
    "load_analyzers",
    "load_plugins",
    "plugin_info",
]

ENTRY_POINT_GROUP = "exhibit.plugins"
ANALYZER_GROUP = "exhibit.analyzers"
BUILTIN_PACKAGE = "plugins"


@dataclass(frozen=True)
class PluginInfo:
    """What ``exhibit plugins list`` shows about one plugin (``as_dict`` for ``--json``)."""

    name: str
    version: str
    description: str
    targets: dict[str, Any]
    record_types: tuple[str, ...]
    origin: str  # "builtin" or "entry-point <name> (<distribution>)"
    #: what ``exhibit triage --option NAME.OPTION=VALUE`` takes: name, kind, help, secret, choices
    options: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "targets": self.targets,
            "record_types": list(self.record_types),
            "origin": self.origin,
            "options": [dict(o) for o in self.options],
        }


def _options(cls: type[Any]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"name": o.name, "kind": o.kind, "help": o.help, "secret": o.secret, "choices": list(o.choices)}
        for o in getattr(cls, "options", ())
    )


@dataclass
class LoadedPlugins:
    """Plugin classes ready to instantiate, where each came from, and what was left out and why."""

    plugins: list[type[Plugin]] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def builtin_plugins() -> tuple[type[Plugin], ...]:
    """The built-in plugin classes, in their listed order."""
    module = importlib.import_module(BUILTIN_PACKAGE)
    found: tuple[type[Plugin], ...] = module.BUILTIN_PLUGINS
    return found


def plugin_info(cls: type[Plugin], origin: str = "builtin") -> PluginInfo:
    """Describe a plugin class from its declarations only (nothing is run)."""
    return PluginInfo(
        name=cls.name,
        version=cls.version,
        description=cls.description,
        targets=cls.targets.to_dict(),
        record_types=tuple(r.record_type for r in cls.emits),
        origin=origin,
        options=_options(cls),
    )


def _valid_entry_points(
    discover: Callable[[], Iterable[EntryPoint]],
    problems_of: Callable[[object], list[str]],
    what: str,
    warnings: list[str],
) -> Iterator[tuple[str, Any]]:
    """``(origin, class)`` of each entry point that loads and honours its contract; the others
    are left out with a warning naming the entry point and its distribution."""
    for ep in discover():
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        origin = f"entry-point {ep.name} ({dist})"
        try:
            obj = ep.load()
        except Exception as exc:
            warnings.append(f"{origin}: cannot load {ep.value}: {type(exc).__name__}: {exc}")
            continue
        problems = problems_of(obj)
        if problems:
            warnings.append(f"{origin}: not a valid {what}: " + "; ".join(problems))
            continue
        yield origin, obj


def _left_out(cls: type[Plugin] | type[Analyzer], origin: str, warnings: list[str]) -> bool:
    """Whether ``cls`` needs a module that is not installed (its ``requires``); if so, a warning
    says which, once, instead of a failure on every file."""
    missing = missing_modules(cls)
    if missing:
        warnings.append(
            f"{origin}: {cls.name} needs the Python module(s) {', '.join(missing)}, not installed: "
            "left out (install Exhibit's dependencies again: ./scripts/setup.sh)"
        )
    return bool(missing)


def _entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


def load_plugins(
    *,
    builtin: Sequence[type[Plugin]] | None = None,
    third_party: bool = True,
    discover: Callable[[], Iterable[EntryPoint]] = _entry_points,
) -> LoadedPlugins:
    """Built-ins (``builtin`` or :func:`builtin_plugins`) then valid third-party plugins.

    Built-ins are trusted to pass the contract (a test checks them); third-party classes are
    checked with :func:`~triage.plugin.plugin_problems` and rejected with a warning.
    """
    loaded = LoadedPlugins()
    names: set[str] = set()
    record_types: set[str] = set()
    for known in builtin if builtin is not None else builtin_plugins():
        if _left_out(known, "builtin", loaded.warnings):
            continue
        loaded.plugins.append(known)
        loaded.origins[known.name] = "builtin"
        names.add(known.name)
        record_types.update(r.record_type for r in known.emits)
    if not third_party:
        return loaded
    for origin, obj in _valid_entry_points(discover, plugin_problems, "plugin", loaded.warnings):
        cls: type[Plugin] = obj
        if cls.name in names:
            loaded.warnings.append(f"{origin}: plugin name {cls.name!r} is already taken; skipped")
            continue
        clash = sorted({r.record_type for r in cls.emits} & record_types)
        if clash:
            loaded.warnings.append(f"{origin}: record type(s) {clash} already emitted by another plugin")
            continue
        if _left_out(cls, origin, loaded.warnings):
            continue
        loaded.plugins.append(cls)
        loaded.origins[cls.name] = origin
        names.add(cls.name)
        record_types.update(r.record_type for r in cls.emits)
    return loaded


def list_plugins(*, third_party: bool = True) -> list[PluginInfo]:
    """Every available plugin, built-ins first; the library call behind ``exhibit plugins list``.

    Warnings about rejected third-party plugins are available from :func:`load_plugins`.
    """
    loaded = load_plugins(third_party=third_party)
    return [plugin_info(cls, loaded.origins[cls.name]) for cls in loaded.plugins]


@dataclass
class LoadedAnalyzers:
    """Analyzer classes ready to run, where each came from, and what was left out and why."""

    analyzers: list[type[Analyzer]] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def builtin_analyzers() -> tuple[type[Analyzer], ...]:
    """The built-in analyzer classes (``plugins.BUILTIN_ANALYZERS``), in their listed order."""
    module = importlib.import_module(BUILTIN_PACKAGE)
    found: tuple[type[Analyzer], ...] = getattr(module, "BUILTIN_ANALYZERS", ())
    return found


def analyzer_info(cls: type[Analyzer], origin: str = "builtin") -> PluginInfo:
    """Describe an analyzer as ``exhibit plugins list`` shows it: its targets are the record
    types it reads, and its origin ends in ``analyzer``."""
    return PluginInfo(
        name=cls.name,
        version=cls.version,
        description=cls.description,
        targets={"reads": list(cls.reads)},
        record_types=tuple(r.record_type for r in cls.emits),
        origin=f"{origin} analyzer",
        options=_options(cls),
    )


def list_analyzers(*, third_party: bool = True) -> list[PluginInfo]:
    """Every available analyzer, built-ins first (shown by ``exhibit plugins list`` after the plugins)."""
    plugins = load_plugins(third_party=third_party)
    loaded = load_analyzers(third_party=third_party, taken=[cls.name for cls in plugins.plugins])
    return [analyzer_info(cls, loaded.origins.get(cls.name, "builtin")) for cls in loaded.analyzers]


def catalogue(*, third_party: bool = True) -> tuple[list[PluginInfo], list[str]]:
    """The plugins then the analyzers, as ``exhibit plugins list`` shows them, and the warnings
    of loading both (each loaded once)."""
    plugins = load_plugins(third_party=third_party)
    analyzers = load_analyzers(third_party=third_party, taken=[cls.name for cls in plugins.plugins])
    infos = [plugin_info(cls, plugins.origins[cls.name]) for cls in plugins.plugins]
    infos += [analyzer_info(cls, analyzers.origins.get(cls.name, "builtin")) for cls in analyzers.analyzers]
    return infos, plugins.warnings + analyzers.warnings


def _analyzer_entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ANALYZER_GROUP)


def load_analyzers(
    *,
    builtin: Sequence[type[Analyzer]] | None = None,
    third_party: bool = True,
    taken: Iterable[str] = (),
    discover: Callable[[], Iterable[EntryPoint]] = _analyzer_entry_points,
) -> LoadedAnalyzers:
    """Built-in analyzers then valid third-party ones (entry-point group ``exhibit.analyzers``).

    ``taken``: names already used by file plugins (an analyzer may not reuse one: findings name
    their producer, and the name must say which it was).
    """
    loaded = LoadedAnalyzers()
    names = set(taken)
    for known in builtin if builtin is not None else builtin_analyzers():
        if _left_out(known, "builtin", loaded.warnings):
            continue
        loaded.analyzers.append(known)
        loaded.origins[known.name] = "builtin"
        names.add(known.name)
    if not third_party:
        return loaded
    for origin, obj in _valid_entry_points(discover, analyzer_problems, "analyzer", loaded.warnings):
        cls: type[Analyzer] = obj
        if cls.name in names:
            loaded.warnings.append(f"{origin}: name {cls.name!r} is already taken; skipped")
            continue
        if _left_out(cls, origin, loaded.warnings):
            continue
        loaded.analyzers.append(cls)
        loaded.origins[cls.name] = origin
        names.add(cls.name)
    return loaded
