"""Registry-wide checks over every built-in plugin, and the loading of third-party plugins."""

from __future__ import annotations

import ast
import json
import pkgutil
from collections.abc import Iterable, Iterator
from dataclasses import FrozenInstanceError, dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import pytest

import plugins
from plugins import BUILTIN_ANALYZERS, BUILTIN_PLUGINS
from tests.conftest import REPO
from triage.plugin import (
    AnalysisContext,
    Analyzer,
    FileItem,
    ParseContext,
    Plugin,
    StoredRecord,
    Targets,
    plugin_problems,
)
from triage.plugin.records import (
    RECORD_TYPE_PATTERN,
    Record,
    SourceRef,
    label_for,
    record_fields,
    record_to_dict,
)
from triage.plugin.registry import ENTRY_POINT_GROUP, list_plugins, load_plugins
from triage.plugin.timeconv import from_unix_ms


@pytest.mark.parametrize("cls", BUILTIN_PLUGINS, ids=lambda c: c.name)
def test_builtin_plugin_honours_contract(cls: type[Plugin]) -> None:
    assert plugin_problems(cls) == []
    assert cls.__module__.startswith("plugins.")
    module = __import__(cls.__module__, fromlist=["_"])
    assert (module.__doc__ or "").strip(), f"{cls.__module__} has no module docstring"
    assert cls.parse.__doc__ is None or cls.parse.__doc__.strip()
    for rec in cls.emits:
        assert (rec.__doc__ or "").strip(), f"{rec.__name__} has no docstring"
        assert rec.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert {"source", "locator"} <= set(record_fields(rec))


def test_names_and_record_types_are_unique_and_namespaced() -> None:
    names = [cls.name for cls in BUILTIN_PLUGINS]
    assert len(names) == len(set(names))
    types = [rec.record_type for cls in BUILTIN_PLUGINS for rec in cls.emits]
    assert len(types) == len(set(types))
    for rtype in types:
        assert RECORD_TYPE_PATTERN.match(rtype), rtype


def test_every_plugin_module_is_listed() -> None:
    """A module in plugins/ that is not in BUILTIN_PLUGINS or BUILTIN_ANALYZERS would silently never run."""
    modules = {
        m.name
        for m in pkgutil.walk_packages(plugins.__path__, "plugins.")
        if not m.ispkg and not m.name.rsplit(".", 1)[-1].startswith("_")
    }
    listed = {cls.__module__ for cls in (*BUILTIN_PLUGINS, *BUILTIN_ANALYZERS)}
    assert modules == listed


def test_plugin_folders_mirror_record_namespaces() -> None:
    """plugins/<family>/ holds the plugins whose record types start with ``<family>/``."""
    for cls in BUILTIN_PLUGINS:
        family = cls.__module__.split(".")[1]
        for record in cls.emits:
            assert record.record_type.split("/")[0] == family, (cls.__module__, record.record_type)


PLUGIN_API = {"triage.plugin"}


def test_plugins_use_only_the_plugin_api() -> None:
    """Plugins see triage only through its plugin API: no engine, registry, store or ledger."""
    for path in (REPO / "plugins").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            for mod in modules:
                if mod.split(".")[0] in ("triage", "custody"):
                    assert mod in PLUGIN_API, f"{path.name} imports {mod}"


def test_list_plugins_is_json_able() -> None:
    infos = list_plugins(third_party=False)
    assert [i.name for i in infos] == [cls.name for cls in BUILTIN_PLUGINS]
    dumped = json.loads(json.dumps([i.as_dict() for i in infos]))
    sms = next(d for d in dumped if d["name"] == "sms_android")
    assert sms["record_types"] == ["chat/android/sms"]
    assert sms["targets"]["magic"] == [{"offset": 0, "hex": b"SQLite format 3\x00".hex()}]
    assert "date" in sms["targets"]["sqlite"]["sms"]
    assert sms["origin"] == "builtin"


# --- records --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Ping(Record):
    """A test record."""

    record_type: ClassVar[str] = "test/ping"
    labels: ClassVar[dict[str, dict[object, str]]] = {"kind": {1: "in", 2: "out"}}

    kind: int
    when: object = None
    blob: bytes = b""


def test_record_to_dict_keeps_raw_values() -> None:
    src = SourceRef(item="E1", partition=1048576, inode=42, path="/a/b", stream="ADS", sha256="00" * 32)
    rec = Ping(source=src, locator="t.rowid=1", kind=2, when=from_unix_ms(1000), blob=b"\x01\xff")
    d = record_to_dict(rec)
    assert d["record_type"] == "test/ping"
    assert d["kind"] == 2  # raw, not "out"
    assert label_for(Ping, "kind", d["kind"]) == "out"
    assert label_for(Ping, "nothing", 1) is None
    assert d["when"]["utc"] == "1970-01-01T00:00:01.000000Z" and d["when"]["raw"] == 1000
    assert d["blob"] == {"hex": "01ff"}
    assert d["source"] == {
        "item": "E1",
        "path": "/a/b",
        "sha256": "00" * 32,
        "partition": 1048576,
        "inode": 42,
        "stream": "ADS",
    }
    json.dumps(d)
    with pytest.raises(FrozenInstanceError):
        rec.kind = 1  # type: ignore[misc]


# --- third-party plugins --------------------------------------------------------------------------


class ThirdParty(Plugin):
    """A valid third-party plugin."""

    name = "third_party"
    version = "2.0"
    description = "an add-on"
    targets = Targets(globs=("**/*.tp",))
    emits = (Ping,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        yield Ping(source=item.source, kind=1)


class NoTargets(ThirdParty):
    """Declares nothing to match."""

    name = "no_targets"
    targets = Targets()


class TakesBuiltinName(ThirdParty):
    """Reuses a built-in name."""

    name = "sms_android"


def _ep(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group=ENTRY_POINT_GROUP)


def test_third_party_plugins_load_and_broken_ones_warn() -> None:
    eps = [
        _ep("good", "ThirdParty"),
        _ep("missing", "DoesNotExist"),
        _ep("notaplugin", "Ping"),
        _ep("notargets", "NoTargets"),
        _ep("clash", "TakesBuiltinName"),
    ]
    eps.append(EntryPoint(name="badmodule", value="no_such_module_xyz:Plugin", group=ENTRY_POINT_GROUP))
    loaded = load_plugins(discover=lambda: eps)
    assert loaded.plugins[: len(BUILTIN_PLUGINS)] == list(BUILTIN_PLUGINS)
    assert loaded.plugins[len(BUILTIN_PLUGINS) :] == [ThirdParty]
    assert loaded.origins["third_party"].startswith("entry-point good")
    joined = "\n".join(loaded.warnings)
    assert len(loaded.warnings) == 5
    for fragment in (
        "DoesNotExist",
        "not a subclass",
        "nothing would match",
        "already taken",
        "no_such_module",
    ):
        assert fragment in joined


def test_installed_entry_points_do_not_break_listing() -> None:
    loaded = load_plugins()
    assert all(isinstance(w, str) for w in loaded.warnings)
    assert len(list_plugins()) >= len(BUILTIN_PLUGINS)


class NeedsMissingModule(ThirdParty):
    """Imports a library that is not installed where it parses."""

    name = "needs_missing"
    requires = ("no_such_library_xyz", "json")


class BadRequires(ThirdParty):
    """Names its modules wrongly."""

    name = "bad_requires"
    requires = ("pypdf.generic",)


def test_a_plugin_whose_library_is_not_installed_is_left_out_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``requires`` names the top-level modules a plugin imports where it parses (not at load):
    one that is not installed leaves the plugin out at load, built-in or not, with a warning that
    says which; a triage stores that warning, instead of a failure on every file it would be
    offered. The built-ins' own are installed."""
    from custody.actors import add_actor
    from custody.case import init_case
    from custody.items import acquire
    from triage.engine.run import run_triage

    assert plugin_problems(BadRequires) and not plugin_problems(NeedsMissingModule)
    assert any(cls.requires for cls in BUILTIN_PLUGINS)  # pdq, pdf_metadata, photos_exif, ...
    assert load_plugins().warnings == []  # this project installs every one of them
    loaded = load_plugins(builtin=[*BUILTIN_PLUGINS, NeedsMissingModule], third_party=False)
    assert NeedsMissingModule not in loaded.plugins and len(loaded.plugins) == len(BUILTIN_PLUGINS)
    [warning] = loaded.warnings
    assert (
        "needs_missing" in warning
        and "no_such_library_xyz" in warning
        and "json" not in warning.split(":")[1]
    )
    eps = [_ep("needs", "NeedsMissingModule")]
    assert NeedsMissingModule not in load_plugins(discover=lambda: eps).plugins
    # a run tells: the warning is stored with the run's
    case = init_case(tmp_path / "case", case_number="2026/26", title="requires")
    try:
        add_actor(case, "ex", name="Ex Aminer", role="examiner")
        folder = tmp_path / "evidence"
        folder.mkdir()
        (folder / "a.tp").write_text("x")
        acquire(case, folder, exhibit="EX-1", actor="ex", description="folder")
        import triage.plugin.registry as registry

        original = registry.builtin_plugins
        monkeypatch.setattr(registry, "builtin_plugins", lambda: (*original(), NeedsMissingModule))
        summary = run_triage(case, "EX-1", actor="ex")
        assert any("no_such_library_xyz" in w["message"] for w in summary.warnings), summary.warnings
    finally:
        case.close()


class AnalyzerNeedsMissing(Analyzer):
    """Imports a library that is not installed where it analyzes."""

    name = "analyzer_needs_missing"
    version = "1.0"
    description = "needs a missing library"
    reads = ("chat",)
    emits = (Ping,)
    requires = ("no_such_library_abc",)

    def analyze(self, records: Iterable[StoredRecord], ctx: AnalysisContext) -> Iterator[Record]:
        yield from ()


def test_the_catalogue_leaves_out_an_analyzer_whose_library_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What ``exhibit plugins list`` shows: plugins then analyzers, and the warnings of loading
    both; an analyzer whose ``requires`` names a module not installed is left out, with one."""
    import triage.plugin.registry as registry

    infos, warnings = registry.catalogue()
    assert warnings == [] and [i.name for i in infos][-1] == "identifiers"
    original = registry.builtin_analyzers
    monkeypatch.setattr(registry, "builtin_analyzers", lambda: (*original(), AnalyzerNeedsMissing))
    infos, warnings = registry.catalogue()
    assert "analyzer_needs_missing" not in [i.name for i in infos]
    [warning] = warnings
    assert "analyzer_needs_missing" in warning and "no_such_library_abc" in warning
