"""Options a plugin declares and an examiner sets: ``exhibit triage EX --option signal_android.key=HEX``.

A plugin lists its options as :class:`Option` declarations in ``options`` (readable without running
it, like ``targets``); the command line (repeatable ``--option PLUGIN.NAME=VALUE``) and an options
file (TOML, one table per plugin, for values that should not sit in the shell's history) are parsed
into typed values here, *before* the run starts: a misspelt plugin, an unknown option or a value of
the wrong type is a clear error naming it, never a warning halfway through a disk.

A plugin reads its values from ``ctx.options`` (a mapping of its own option names only). Secret
options (a database key, a backup password) are never stored, logged or signed: the run records
that they were given, not what they were (:func:`for_record`).
"""

from __future__ import annotations

import binascii
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from triage.errors import TriageError

__all__ = ["Option", "OptionError", "PluginOptions", "for_record", "parse_options"]

Kind = Literal["text", "int", "bool", "hex", "path", "region"]
#: Largest options file read (a mistaken path to an image must not be read whole).
MAX_FILE_BYTES = 1 << 20
SECRET_SHOWN = "<secret: given, not recorded>"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class OptionError(TriageError):
    """An option that cannot be used: unknown plugin or option, wrong type, unreadable file."""


@dataclass(frozen=True)
class Option:
    """One setting of a plugin. ``kind`` says how its text is read:

    ``text`` as given; ``int`` a whole number; ``bool`` true/false/yes/no/1/0; ``hex`` an even
    number of hex digits, given to the plugin as bytes (a key); ``path`` a file on the examiner's
    machine (it must exist; it is never written); ``region`` a country whose phone numbers
    ``phonenumbers`` knows, by its two-letter code, given upper-cased (``us`` -> ``US``).
    """

    name: str
    kind: Kind
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()

    def convert(self, text: str, where: str) -> Any:
        """The typed value of ``text``; :class:`OptionError` naming ``where`` when it is not one."""
        value: Any
        if self.kind == "int":
            try:
                value = int(text.strip(), 10)
            except ValueError:
                raise self._bad(where, "is not a whole number", text) from None
        elif self.kind == "bool":
            lowered = text.strip().lower()
            if lowered not in _TRUE | _FALSE:
                raise self._bad(where, "is not true or false", text)
            value = lowered in _TRUE
        elif self.kind == "hex":
            digits = text.strip().removeprefix("0x").removeprefix("x'").removesuffix("'")
            try:
                value = binascii.unhexlify(digits)
            except (binascii.Error, ValueError):
                raise self._bad(where, "is not an even number of hex digits", text) from None
        elif self.kind == "region":
            import phonenumbers

            value = text.strip().upper()
            if value not in phonenumbers.SUPPORTED_REGIONS:
                raise self._bad(
                    where, "is not a two-letter country code phonenumbers knows (US, GB, NL...)", text
                )
        elif self.kind == "path":
            path = Path(text).expanduser()
            if not path.exists():
                raise self._bad(where, "names no file", text)
            value = path
        else:
            value = text
        if self.choices and str(value) not in self.choices:
            raise self._bad(where, f"is not one of {', '.join(self.choices)}", text)
        return value

    def _bad(self, where: str, problem: str, text: str) -> OptionError:
        shown = "the value given" if self.secret else repr(text)
        return OptionError(f"{where}: {shown} {problem}", hint=f"{where}: {self.help}")


@dataclass(frozen=True)
class PluginOptions:
    """Typed option values per plugin name, checked against the plugins' declarations."""

    values: Mapping[str, Mapping[str, Any]]
    declared: Mapping[str, Mapping[str, Option]]

    def of(self, plugin: str) -> Mapping[str, Any]:
        """The values given for ``plugin`` (read-only; empty when none)."""
        return MappingProxyType(dict(self.values.get(plugin, {})))

    def __bool__(self) -> bool:
        return any(self.values.values())


def _declarations(plugins: Iterable[Any]) -> dict[str, dict[str, Option]]:
    return {p.name: {o.name: o for o in getattr(p, "options", ())} for p in plugins}


def _lookup(declared: Mapping[str, Mapping[str, Option]], full: str, where: str) -> tuple[str, Option]:
    plugin, dot, name = full.strip().partition(".")
    if not dot or not plugin or not name:
        raise OptionError(
            f"{where}: {full!r} is not PLUGIN.NAME", hint="for example: --option signal_android.key=HEX"
        )
    if plugin not in declared:
        import difflib

        near = (
            difflib.get_close_matches(plugin, list(declared), n=3, cutoff=0.5)
            or [n for n in declared if n.startswith(plugin) or plugin in n][:3]
        )
        with_options = sorted(n for n, opts in declared.items() if opts)
        raise OptionError(
            f"{where}: no plugin named {plugin!r} in this run"
            + (f" (did you mean {' or '.join(near)}?)" if near else ""),
            hint="plugins with options: "
            + (", ".join(with_options) or "none")
            + "; 'exhibit plugins list' shows each option",
        )
    options = declared[plugin]
    if name not in options:
        known = ", ".join(f"{plugin}.{n}" for n in sorted(options)) or "none"
        raise OptionError(f"{where}: plugin {plugin} has no option {name!r}", hint=f"its options: {known}")
    return plugin, options[name]


def parse_options(
    plugins: Iterable[Any], assignments: Iterable[str] = (), files: Iterable[Path] = ()
) -> PluginOptions:
    """Read ``--option PLUGIN.NAME=VALUE`` texts and TOML options files against ``plugins``.

    A value given twice (twice on the command line, or in a file and on the command line) is an
    error rather than a silent choice: the run must use what the examiner meant.
    """
    declared = _declarations(plugins)
    values: dict[str, dict[str, Any]] = {}

    def put(full: str, text: str, where: str) -> None:
        plugin, option = _lookup(declared, full, where)
        if option.name in values.get(plugin, {}):
            raise OptionError(f"{where}: {plugin}.{option.name} is given more than once", hint="give it once")
        values.setdefault(plugin, {})[option.name] = option.convert(text, f"{plugin}.{option.name}")

    for path in files:
        for full, text in _read_file(path):
            put(full, text, str(path))
    for assignment in assignments:
        full, eq, text = assignment.partition("=")
        if not eq:
            raise OptionError(
                f"--option {assignment.split('=')[0]!r} has no value", hint="write --option PLUGIN.NAME=VALUE"
            )
        put(full, text, "--option")
    return PluginOptions(values, declared)


def _read_file(path: Path) -> list[tuple[str, str]]:
    """``(PLUGIN.NAME, text)`` pairs of a TOML options file: a table per plugin, values as strings,
    numbers or booleans (``[signal_android]`` / ``key = "0a1b..."``)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise OptionError(f"options file {path}: {exc.strerror or exc}", hint="check the path") from None
    if len(data) > MAX_FILE_BYTES:
        raise OptionError(f"options file {path} is larger than 1 MiB", hint="is it the right file?")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise OptionError(
            f"options file {path} is not TOML: {exc}",
            hint='write one table per plugin: [signal_android] then key = "0a1b..."',
        ) from None
    pairs: list[tuple[str, str]] = []
    for plugin, table in document.items():
        if not isinstance(table, dict):
            raise OptionError(
                f"options file {path}: {plugin!r} is not a table", hint=f"write [{plugin}] then name = value"
            )
        for name, value in table.items():
            if isinstance(value, dict | list):
                raise OptionError(f"options file {path}: {plugin}.{name} is not a single value")
            text = str(value).lower() if isinstance(value, bool) else str(value)
            pairs.append((f"{plugin}.{name}", text))
    return pairs


def for_record(options: PluginOptions) -> dict[str, Any]:
    """What the run's ledger entry records of the options: every value, secrets replaced."""
    out: dict[str, Any] = {}
    for plugin, values in sorted(options.values.items()):
        for name, value in sorted(values.items()):
            option = options.declared[plugin][name]
            if option.secret:
                out[f"{plugin}.{name}"] = SECRET_SHOWN
            elif isinstance(value, bytes):
                out[f"{plugin}.{name}"] = value.hex()
            else:
                out[f"{plugin}.{name}"] = str(value) if isinstance(value, Path) else value
    return out
