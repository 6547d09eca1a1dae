"""Plugin options: declared by the plugin, given on the command line or in a TOML file, typed and
checked before a run starts; secrets never recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from triage.plugin import FileItem, Option, ParseContext, Plugin, Record, Targets, plugin_problems
from triage.plugin.options import SECRET_SHOWN, OptionError, for_record, parse_options
from triage.plugin.scratch import Scratch


@dataclass(frozen=True, kw_only=True)
class _Note(Record):
    record_type: ClassVar[str] = "test/options/note"
    key_length: int = 0
    limit: int | None = None


class KeyedPlugin(Plugin):
    """Reads nothing; reports the options it was given (a stand-in for an encrypted-database plugin)."""

    name = "keyed"
    version = "1"
    description = "test plugin with options"
    targets = Targets(globs=("**/*.enc",))
    emits = (_Note,)
    options = (
        Option("key", "hex", "the database key, 64 hex digits", secret=True),
        Option("limit", "int", "stop after this many rows"),
        Option("verbose", "bool", "say more"),
        Option("mode", "text", "how to read", choices=("fast", "full")),
    )

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        yield _Note(
            source=item.source, key_length=len(ctx.options.get("key", b"")), limit=ctx.options.get("limit")
        )


class PlainPlugin(Plugin):
    """No options at all."""

    name = "plain"
    version = "1"
    description = "test plugin without options"
    targets = Targets(globs=("**/*.txt",))
    emits = (_Note,)

    def parse(self, item: FileItem, ctx: ParseContext) -> Iterator[Record]:
        yield _Note(source=item.source)


PLUGINS = [KeyedPlugin, PlainPlugin]


def test_values_are_typed_and_reach_only_their_plugin(tmp_path: Path) -> None:
    opts = parse_options(
        PLUGINS, ["keyed.key=" + "00ff" * 16, "keyed.limit=12", "keyed.verbose=yes", "keyed.mode=full"]
    )
    assert opts.of("keyed") == {
        "key": bytes.fromhex("00ff" * 16),
        "limit": 12,
        "verbose": True,
        "mode": "full",
    }
    assert opts.of("plain") == {}
    item = FileItem.from_bytes(b"x", path="/a.enc")
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch, run_options=opts)
        [note] = list(KeyedPlugin().parse(item, ctx.for_plugin("keyed", item)))
        assert (note.key_length, note.limit) == (32, 12)
        assert ctx.for_plugin("plain", item).options == {}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("keyed.limit", "has no value"),
        ("limit=3", "is not PLUGIN.NAME"),
        ("signal.key=00", "no plugin named 'signal'"),
        ("keyed.colour=red", "has no option 'colour'"),
        ("keyed.limit=ten", "is not a whole number"),
        ("keyed.verbose=perhaps", "is not true or false"),
        ("keyed.mode=slow", "is not one of fast, full"),
        ("keyed.key=abc", "is not an even number of hex digits"),
    ],
)
def test_a_wrong_option_is_a_clear_error_before_the_run(given: str, message: str) -> None:
    with pytest.raises(OptionError, match=message) as info:
        parse_options(PLUGINS, [given])
    assert info.value.hint  # says what to do


def test_a_secret_is_not_echoed_in_its_own_error() -> None:
    with pytest.raises(OptionError) as info:
        parse_options(PLUGINS, ["keyed.key=s3cr3t-passphrase"])
    assert "s3cr3t" not in str(info.value) and "s3cr3t" not in str(info.value.hint)


def test_the_same_option_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="more than once"):
        parse_options(PLUGINS, ["keyed.limit=1", "keyed.limit=2"])
    file = tmp_path / "opts.toml"
    file.write_text("[keyed]\nlimit = 5\n")
    with pytest.raises(OptionError, match="more than once"):
        parse_options(PLUGINS, ["keyed.limit=2"], [file])


def test_options_file_is_toml_per_plugin(tmp_path: Path) -> None:
    file = tmp_path / "opts.toml"
    file.write_text('[keyed]\nkey = "' + "ab" * 32 + '"\nlimit = 7\nverbose = true\n')
    opts = parse_options(PLUGINS, [], [file])
    assert opts.of("keyed") == {"key": bytes.fromhex("ab" * 32), "limit": 7, "verbose": True}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"key = 1\n", "is not a table"),
        (b"[keyed\n", "is not TOML"),
        (b"\xff\xfe", "is not TOML"),
        (b"[keyed]\nlimit = [1, 2]\n", "not a single value"),
    ],
)
def test_a_bad_options_file_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "opts.toml"
    file.write_bytes(content)
    with pytest.raises(OptionError, match=message):
        parse_options(PLUGINS, [], [file])


def test_options_file_reads_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="larger than 1 MiB"):
        parse_options(PLUGINS, [], [Path("/dev/zero")])
    with pytest.raises(OptionError, match="No such file") as info:
        parse_options(PLUGINS, [], [tmp_path / "missing.toml"])
    assert info.value.hint == "check the path"


def test_what_the_ledger_records_leaves_secrets_out() -> None:
    opts = parse_options(PLUGINS, ["keyed.key=" + "11" * 32, "keyed.limit=3"])
    recorded = for_record(opts)
    assert recorded == {"keyed.key": SECRET_SHOWN, "keyed.limit": 3}
    assert "11" * 32 not in repr(recorded)


def test_declarations_are_checked_by_the_contract() -> None:
    assert plugin_problems(KeyedPlugin) == []

    class Twice(KeyedPlugin):
        """Two options with one name."""

        options = (Option("a", "int", "x"), Option("a", "text", "y"))

    class NotOptions(KeyedPlugin):
        """Options that are not Option declarations."""

        options = ("limit",)  # type: ignore[assignment]

    assert any("share a name" in p for p in plugin_problems(Twice))
    assert any("tuple of triage.plugin.Option" in p for p in plugin_problems(NotOptions))


def test_the_options_are_listed_and_a_near_name_is_suggested() -> None:
    """Found in review: the hint of a wrong plugin name sent the examiner to 'exhibit plugins list',
    which did not show options, and ``signal.key`` did not point at ``signal_android``."""
    from triage.plugin.registry import catalogue, load_plugins

    infos, _ = catalogue()
    listed = {(i.name, o["name"]): o for i in infos for o in i.options}
    assert listed[("signal_android", "key")]["kind"] == "hex" and listed[("signal_android", "key")]["secret"]
    assert listed[("identifiers", "region")]["kind"] == "region"
    with pytest.raises(
        OptionError, match=r"no plugin named 'signal' in this run \(did you mean signal_android\?\)"
    ) as info:
        parse_options(load_plugins().plugins, ["signal.key=00"])
    assert "signal_android" in str(info.value.hint)
