"""What crosses the broker in a distributed run (triage/distributed/codec.py): plain JSON that
gives a worker back the run's settings and the coordinator back the same typed results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.distributed.app import check_url, redacted, result_backend
from triage.distributed.codec import (
    decode_job,
    decode_result,
    decode_setup,
    encode_job,
    encode_result,
    encode_setup,
)
from triage.engine.options import run_options
from triage.engine.per_file import FileJob
from triage.engine.remote import CarvedAt, InArchive, Whereabouts
from triage.engine.results import FileResult, FoundRecord, PluginOutcome, TriageWarning
from triage.engine.workers import WorkerSetup
from triage.errors import DistributedError
from triage.keywords.terms import parse_keywords
from triage.plugin.registry import load_plugins
from triage.sources.entry import FileEntry
from triage.sources.nested import NestLimits


def _setup(tmp_path: Path) -> WorkerSetup:
    plugins = load_plugins().plugins
    options = run_options(plugins, ["backup.password=s3cret", "signal_android.key=" + "ab" * 32], [])
    return WorkerSetup(
        source_path="/evidence/disk.img",
        kind="raw",
        source_options={"backup.password": "s3cret"},
        plugin_options=options,
        plugin_classes=tuple(plugins),
        exhibit="EX-001",
        hashes=("md5", "sha256"),
        scratch_parent=tmp_path,
        scratch_limit=1 << 30,
        keywords=parse_keywords("harbour\nre:\\d{4}-\\d{4}\n", "terms.txt"),
    )


def test_the_run_settings_survive_json(tmp_path: Path) -> None:
    setup = _setup(tmp_path)
    message = json.loads(json.dumps(encode_setup("run-1", setup)))
    got = decode_setup(message, "w1@lab")
    assert got.run_id == "run-1" and got.exhibit == "EX-001" and got.hashes == ("md5", "sha256")
    assert got.plugin_classes == setup.plugin_classes
    assert got.plugin_options.of("signal_android")["key"] == bytes.fromhex("ab" * 32)  # typed again
    assert got.source_options == {"backup.password": "s3cret"}
    assert got.keywords == setup.keywords
    assert str(tmp_path) not in json.dumps(message)  # the coordinator's scratch folder stays its own


def test_a_worker_with_other_plugins_refuses_the_job(tmp_path: Path) -> None:
    message = encode_setup("run-1", _setup(tmp_path))
    message["plugins"][0][1] = "0.0.0-other"
    name = message["plugins"][0][0]
    with pytest.raises(DistributedError, match=f"w1@lab: the run uses plugin {name} 0.0.0-other"):
        decode_setup(message, "w1@lab")
    message["format"] = 99
    with pytest.raises(DistributedError, match="message format 99"):
        decode_setup(message, "w1@lab")


def test_results_survive_json() -> None:
    result = FileResult(
        key="k" * 64,
        bytes_read=12,
        md5=None,
        sha1=None,
        sha256="s" * 64,
        mime="text/plain",
        ext_mismatch=True,
        error=None,
        plugins=(PluginOutcome("p", "1", "ok"),),
        records=(FoundRecord("p", "1", "t/x", "row 1", '{"a": "é"}'),),
        warnings=(TriageWarning("p", "/a", "odd", "Traceback ..."), TriageWarning(None, None, "run")),
        archive=True,
    )
    assert decode_result(json.loads(json.dumps(encode_result(result)))) == result


def _jobs(*keys: str) -> list[FileJob]:
    return [FileJob(k, FileEntry(None, "zip", f"/{k}", k, k.encode(), 0, "file", 1, False), {}) for k in keys]


def test_a_job_says_where_members_and_carved_files_are_in_a_few_numbers() -> None:
    """Members go by outermost archive (consecutive keys grouped), carved files by extents; the
    worker reads back what the run meant, and a walk's job carries keys only."""
    limits = NestLimits(depth=2, members=10, total_members=50, expanded=1 << 20, ratio=100)
    where = Whereabouts(
        members={"a": InArchive("Z1", 0), "b": InArchive("Z1", 0), "c": InArchive("Z2", 7)}, limits=limits
    )
    message = json.loads(json.dumps(encode_job({"run": "r"}, _jobs("a", "b", "c"), where)))
    assert message["within"] == [["Z1", 0, 2], ["Z2", 7, 1]]
    job = decode_job(message)
    assert job.within == [("Z1", 0, ["a", "b"]), ("Z2", 7, ["c"])] and job.limits == limits
    carved = Whereabouts(
        carved={"x": CarvedAt(1048576, 1050624, 9000, "jpeg", ((1050624, 4096), (1060864, 4904)))}
    )
    job = decode_job(json.loads(json.dumps(encode_job({}, _jobs("x"), carved))))
    assert job.carved == [carved.carved["x"]] and job.within is None
    plain = encode_job({"run": "r"}, _jobs("a"), None)
    assert plain == {"run": "r", "keys": ["a"]} and decode_job(plain).carved is None
    with pytest.raises(DistributedError, match="places 2 in archives"):
        decode_job({"keys": ["a"], "within": [["Z1", 0, 2]], "limits": {}})


def test_broker_urls() -> None:
    assert redacted("amqp://guest:secret@10.0.0.5:5672//") == "amqp://guest:***@10.0.0.5:5672//"
    assert redacted("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert result_backend("redis://h:6379/1") == "redis://h:6379/1"
    assert result_backend("amqp://h//") == "rpc://"
    with pytest.raises(DistributedError, match="not a Redis or RabbitMQ URL"):
        check_url("http://user:pw@h/")
