"""The example plugin of docs/plugins.md works, honours the contract, and the doc shows it verbatim."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.plugins.example_plugin import AndroidDbLocale, AndroidDbLocalePlugin
from triage.engine.dispatch import match_plugins, run_plugins
from triage.plugin import FileItem, ParseContext, plugin_problems
from triage.plugin.records import record_to_dict
from triage.plugin.scratch import Scratch


def test_example_honours_the_contract() -> None:
    assert plugin_problems(AndroidDbLocalePlugin) == []


def test_example_on_real_data(corpus: Path, tmp_path: Path) -> None:
    item = FileItem.from_path(
        corpus / "chats" / "mmssms.db",
        item="EXAMPLE-1",
        fs_path="/data/data/com.android.providers.telephony/databases/mmssms.db",
    )
    plugin = AndroidDbLocalePlugin()
    with Scratch(tmp_path) as scratch:
        ctx = ParseContext(scratch=scratch)
        assert match_plugins(item, [plugin], ctx) == [plugin]
        result = run_plugins(item, [plugin], ctx)
    assert result.warnings == []
    [record] = result.records
    assert isinstance(record, AndroidDbLocale)
    assert record.locale == "en_US"
    assert record_to_dict(record)["record_type"] == "example/android/db-locale"
    assert record.source.path.endswith("/mmssms.db") and record.locator == "android_metadata.rowid=1"


def test_example_skips_other_databases(corpus: Path, tmp_path: Path) -> None:
    item = FileItem.from_path(corpus / "browsers" / "chrome_History")
    with Scratch(tmp_path) as scratch:
        assert match_plugins(item, [AndroidDbLocalePlugin()], ParseContext(scratch=scratch)) == []


def test_docs_include_the_example_verbatim() -> None:
    doc = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    source = (REPO / "tests" / "plugins" / "example_plugin.py").read_text(encoding="utf-8")
    assert source.strip() in doc
