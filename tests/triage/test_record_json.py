"""record_json writes a record's stored text itself; json.dumps(record_to_dict(...)) is its oracle.

Every record class the built-in plugins and analyzers emit is filled with values of every kind a
field can hold (frozen dataclasses do not check types, so any value can sit in any field): text
with quotes, escapes, non-ASCII and a lone surrogate, integers of any size and integer enums,
booleans, floats with NaN and infinities, times whose raw value is bytes, sources inside archives,
tuples of text and of attachments, mappings, bytes. The texts must be equal character for
character, since the stored ``data`` of a finding is digested byte for byte.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import random

import pytest

from triage.plugin.records import Attachment, Record, SourceRef, record_json, record_to_dict
from triage.plugin.registry import builtin_analyzers, builtin_plugins
from triage.plugin.timeconv import TimeValue, from_cocoa_seconds, from_unix_ms


class Kind(enum.IntEnum):
    SENT = 2


class Label(enum.StrEnum):
    READ = "read"


INNER = SourceRef(item="EX-1", path="/sdcard/chat.zip", sha256="ab" * 32, partition=2048, inode=12)
SOURCES = [
    SourceRef(item="EX-1", path="/data/msgstore.db", sha256="cd" * 32),
    SourceRef(item="EX-1", path="/sdcard/chat.zip!/msgstore.db", sha256="ef" * 32, inode=3, parent=INNER),
]
VALUES: list[object] = [
    None,
    "",
    "plain",
    'quote " backslash \\ tab \t newline \n',
    "Straße – 東京 😀",
    "lone \ud800 surrogate",
    "\x00\x1f\x7f",
    0,
    -1,
    2**70,
    True,
    False,
    1.5,
    -0.0,
    1e300,
    float("nan"),
    float("inf"),
    float("-inf"),
    Kind.SENT,
    Label.READ,
    b"\x00\xff",
    from_unix_ms(1609459200123),
    from_unix_ms(0),
    from_cocoa_seconds(704735807.2214981),
    TimeValue(utc=None, raw=b"\x01\x02", encoding="unix_ms", note="not a number"),
    # raw values and texts the fast path of a time's text must leave to the general one
    TimeValue(utc="2021-01-01T00:00:00.000000Z", raw=True, encoding="unix_ms", offset="+00:00"),
    TimeValue(utc="1969-12-31T23:59:59.999000Z", raw=-1, encoding="unix_ms", offset="+00:00"),
    TimeValue(utc="1970-01-01T00:00:00.002000Z", raw=Kind.SENT, encoding="unix_ms", offset="+00:00"),
    TimeValue(utc=Label.READ, raw=5, encoding=Label.READ, offset=Label.READ),
    (),
    ("a", "b"),
    ("a", None, 3),
    (Attachment(name="IMG.jpg", mime="image/jpeg", size=12),),
    ["list", 1],
    {"b": 1, "a": [1, 2], 3: None},
    INNER,
]


def _classes() -> list[type[Record]]:
    found: dict[str, type[Record]] = {}
    for owner in (*builtin_plugins(), *builtin_analyzers()):
        for cls in owner.emits:
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__qualname__)
def test_record_json_is_json_dumps_of_record_to_dict(cls: type[Record]) -> None:
    rng = random.Random(cls.__qualname__)
    names = [f.name for f in dataclasses.fields(cls) if f.name not in ("source",)]
    assert names, cls
    for round_ in range(60):
        values = {name: rng.choice(VALUES) for name in names}
        if round_ == 0:
            values = {name: None for name in names}
        record = cls(source=rng.choice(SOURCES), **values)  # type: ignore[arg-type]
        want = json.dumps(record_to_dict(record), sort_keys=True, ensure_ascii=False)
        assert record_json(record) == want


def test_record_json_refuses_what_record_to_dict_refuses() -> None:
    cls = _classes()[0]
    values = {f.name: None for f in dataclasses.fields(cls) if f.name != "source"}
    record = cls(source=SOURCES[0], **{**values, "locator": object()})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        record_to_dict(record)
    with pytest.raises(TypeError):
        record_json(record)


@pytest.mark.parametrize("cls", _classes(), ids=lambda c: c.__qualname__)
def test_build_record_makes_what_the_constructor_makes(cls: type[Record]) -> None:
    """build_record skips a frozen dataclass's __init__ (a chat plugin makes a million records):
    the same fields, in the same order, equal, hashed and written alike, for every class the
    built-in plugins and analyzers emit, with all, some and none of the defaulted fields given;
    an unknown or a missing field is a TypeError as from the constructor."""
    from triage.plugin.records import build_record

    rng = random.Random("build " + cls.__qualname__)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    for round_ in range(30):
        given = names if round_ % 3 == 0 else rng.sample(names, rng.randrange(len(names) + 1))
        values = {name: rng.choice(VALUES) for name in given}
        if round_ == 1:
            values = {}
        source = rng.choice(SOURCES)
        try:
            made = cls(source=source, **values)  # type: ignore[arg-type]
        except TypeError:  # a field without a default left out: build_record must refuse it too
            with pytest.raises(TypeError, match="missing required"):
                build_record(cls, source=source, **values)
            continue
        built = build_record(cls, source=source, **values)
        assert type(built) is cls and vars(built) == vars(made) and built == made
        try:
            hashed = hash(made)
        except TypeError:  # a list or a mapping among the values: neither is hashable
            pass
        else:
            assert hash(built) == hashed
        assert list(vars(built)) == list(vars(made))
        assert record_json(built) == record_json(made)
        with pytest.raises(dataclasses.FrozenInstanceError):
            built.locator = "x"  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected"):
        build_record(cls, source=SOURCES[0], not_a_field=1)
    with pytest.raises(TypeError, match="missing required"):
        build_record(cls)


def test_build_record_refuses_classes_it_cannot_make_alike() -> None:
    from triage.plugin.records import build_record

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Checked(Record):
        record_type = "test/checked"
        n: int = 0

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Listed(Record):
        record_type = "test/listed"
        items: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Derived(Record):
        record_type = "test/derived"
        n: int = 0
        twice: int = dataclasses.field(init=False, default=0)

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class Slotted(Record):
        record_type = "test/slotted"
        n: int = 0

    for cls in (Checked, Listed, Derived, Slotted):
        with pytest.raises(TypeError, match="build_record takes"):
            build_record(cls, source=SOURCES[0])


def test_a_null_time_is_one_shared_value_equal_to_a_new_one() -> None:
    from triage.plugin.timeconv import UNIX_MS

    assert from_unix_ms(None) is from_unix_ms(None)
    assert from_unix_ms(None) == TimeValue(
        utc=None, raw=None, encoding=UNIX_MS, note="no time stored (null or zero)"
    )
    assert from_cocoa_seconds(None).encoding != from_unix_ms(None).encoding
    assert from_unix_ms(0) is not from_unix_ms(0) and from_unix_ms(0).raw == 0  # only NULL is shared
