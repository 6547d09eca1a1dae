"""The options of a run: the plugins' own and those of the evidence sources, parsed together.

``--option PLUGIN.NAME=VALUE`` names a plugin's option (declared by the plugin, see
:mod:`triage.plugin.options`); a few options belong to a kind of evidence instead, such as the
password of an encrypted iTunes/Finder backup (``backup.password``). Both are parsed and checked
here, before the run starts, against the run's plugins and these source options.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.plugin.options import Option, PluginOptions, parse_options


@dataclass(frozen=True)
class SourceOptions:
    """Options a kind of evidence takes, under its own name (``backup``)."""

    name: str
    options: tuple[Option, ...]


SOURCE_OPTIONS = (
    SourceOptions(
        "backup",
        (Option("password", "text", "the password of an encrypted iTunes/Finder backup", secret=True),),
    ),
)


def run_options(plugins: Iterable[Any], assignments: Sequence[str], files: Sequence[Path]) -> PluginOptions:
    """Every ``--option`` and options file of a run, typed and checked (OptionError otherwise)."""
    return parse_options([*plugins, *SOURCE_OPTIONS], assignments, files)


def source_options(options: PluginOptions) -> dict[str, object]:
    """What :func:`triage.sources.open.open_source` is given: ``{"backup.password": ...}``."""
    return {
        f"{group.name}.{name}": value
        for group in SOURCE_OPTIONS
        for name, value in options.of(group.name).items()
    }


def evidence_options(assignments: Sequence[str], files: Sequence[Path]) -> dict[str, object]:
    """The evidence's options alone (``exhibit ls``, ``cat``, ``export``, ``custody verify
    --rehash``): plugins' options are not accepted there (OptionError names the option)."""
    return source_options(parse_options(SOURCE_OPTIONS, assignments, files))
