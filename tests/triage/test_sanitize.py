"""Export paths can never escape the export folder; display names are printable and reversible."""

from __future__ import annotations

import os
import random
from pathlib import Path, PurePosixPath

import pytest

from triage.errors import UnsafePath
from triage.sanitize import MAX_COMPONENT_BYTES, display_name, display_to_bytes, safe_relative_path

RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³"
}
FORBIDDEN = set('<>:"|?*\\') | {chr(c) for c in range(0x20)} | {"\x7f"}


def assert_safe(result: PurePosixPath, target: Path) -> None:
    assert not result.is_absolute()
    assert result.parts
    for part in result.parts:
        assert part not in ("", ".", "..")
        assert "/" not in part and not (set(part) & FORBIDDEN), part
        assert not part.endswith((".", " ")), part
        assert len(part.encode("utf-8")) <= MAX_COMPONENT_BYTES
        assert part.split(".", 1)[0].rstrip(" ").upper() not in RESERVED, part
        part.encode("utf-8")  # valid UTF-8, no lone surrogates
    resolved = os.path.normpath(os.path.join(target, *result.parts))
    assert os.path.commonpath([resolved, str(target)]) == str(target)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a/b/c.txt", "a/b/c.txt"),
        ("/etc/passwd", "etc/passwd"),
        ("../../etc/passwd", "%2E%2E/%2E%2E/etc/passwd"),
        ("a/../../b", "a/%2E%2E/%2E%2E/b"),
        ("..\\..\\windows\\system32", "%2E%2E/%2E%2E/windows/system32"),
        ("./x/./y", "x/y"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("dir/COM1.tar.gz", "dir/_COM1.tar.gz"),
        ("LPT9", "_LPT9"),
        ("COM10", "COM10"),  # not reserved
        ("CONSOLE", "CONSOLE"),
        ("evil.", "evil%2E"),
        ("trail ", "trail%20"),
        ("dots...", "dots%2E%2E%2E"),
        ("nul\x00byte", "nul%00byte"),
        ("bell\x07", "bell%07"),
        ("a:b", "a%3Ab"),
        ('q"u<o>t|e?*', "q%22u%3Co%3Et%7Ce%3F%2A"),
        ("100%", "100%25"),
        ("ímynd.dd", "ímynd.dd"),
        (b"latin1-\xe9", "latin1-%E9"),
        (b"\xff\xfe/ok", "%FF%FE/ok"),
    ],
)
def test_known_cases(given: str | bytes, expected: str, tmp_path: Path) -> None:
    result = safe_relative_path(given)
    assert result == PurePosixPath(expected)
    assert_safe(result, tmp_path)


@pytest.mark.parametrize("given", ["", "/", ".", "./.", "//", b"/./"])
def test_nothing_left_raises(given: str | bytes) -> None:
    with pytest.raises(UnsafePath):
        safe_relative_path(given)


def test_long_names_truncated_with_hash_and_extension() -> None:
    long_a = "a" * 300 + ".jpg"
    long_b = "a" * 299 + "b.jpg"
    ra, rb = safe_relative_path(long_a), safe_relative_path(long_b)
    assert len(ra.name.encode()) <= 255 and ra.name.endswith(".jpg") and "~" in ra.name
    assert ra != rb  # the hash suffix keeps different long names apart
    multibyte = "é" * 200  # 400 bytes: must not be cut inside a character
    rm = safe_relative_path(multibyte)
    assert len(rm.name.encode()) <= 255
    rm.name.encode("utf-8")


def test_fuzz_random_bytes(tmp_path: Path) -> None:
    """Random byte strings, biased towards separators, dots and controls: always safe or UnsafePath."""
    rnd = random.Random(20240229)
    alphabet = [
        b"/",
        b"\\",
        b".",
        b"..",
        b" ",
        b"\x00",
        b"\x1b",
        b"\xff",
        b"C",
        b"O",
        b"N",
        b"a",
        b":",
        "é".encode(),
    ]
    for _ in range(3000):
        if rnd.random() < 0.5:
            raw = rnd.randbytes(rnd.randrange(0, 80))
        else:
            raw = b"".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 40)))
        if rnd.random() < 0.05:
            raw = raw * 40  # over-long components
        try:
            result = safe_relative_path(raw)
        except UnsafePath:
            assert not [p for p in raw.replace(b"\\", b"/").split(b"/") if p not in (b"", b".")]
            continue
        assert_safe(result, tmp_path)


def test_really_creatable(tmp_path: Path) -> None:
    rnd = random.Random(99)
    for i in range(200):
        rel = safe_relative_path(rnd.randbytes(rnd.randrange(1, 40)) + b"%d" % i)
        dest = tmp_path / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            dest.write_bytes(b"x")
        assert tmp_path in dest.resolve().parents


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"plain.txt", "plain.txt"),
        ("ímynd".encode(), "ímynd"),
        (b"bell\x07", "bell\\x07"),
        (b"new\nline", "new\\x0aline"),
        (b"\xe9t\xe9", "\\xe9t\\xe9"),
        (b"back\\slash", "back\\\\slash"),
        (b"a/b", "a\\x2fb"),
        ("c1\u0085".encode(), "c1\\u0085"),
    ],
)
def test_display_name(raw: bytes, shown: str) -> None:
    assert display_name(raw) == shown
    assert display_to_bytes(shown) == raw


def test_display_round_trip_fuzz() -> None:
    rnd = random.Random(7)
    for _ in range(5000):
        raw = rnd.randbytes(rnd.randrange(0, 30)).replace(b"/", b"")
        shown = display_name(raw)
        assert (
            shown.isprintable()
            or " " in shown
            or not shown
            or all(c.isprintable() for c in shown if c < "\u0080")
        )
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
        assert display_to_bytes(shown) == raw
