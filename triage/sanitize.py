"""Names from evidence are hostile: make them displayable, and make them safe to export.

Two different jobs live here:

* :func:`display_name` turns the raw bytes of a name into a one-line, *reversible* ``str`` for
  listings and JSON: valid printable UTF-8 passes unchanged, while invalid UTF-8 bytes, ``\\``,
  ``/`` and every character :mod:`custody.safetext` escapes for display (controls, bidi
  overrides and isolates, zero-width and other invisible characters, line and paragraph
  separators, unusual spaces, private-use and unassigned code points) become backslash escapes:
  ``\\x07``, ``\\xff``, ``\\\\``, ``\\x2f``, ``\\u202e``, ``\\U000e0001`` (C1 controls, which are
  valid UTF-8, as ``\\u0085`` so they never collide with an invalid byte ``\\x85``). A file named
  ``rtl_<U+202E>gpj.exe`` is listed as ``rtl_\\u202egpj.exe``, never as ``rtl_exe.jpg``.
  :func:`display_to_bytes` undoes it, so no information is lost between ``name_bytes`` and a report.

* :func:`safe_components` (raw name bytes, one per component: what export uses) and
  :func:`safe_relative_path` (a ``/`` or ``\\`` separated path) turn names from the evidence into
  a relative path that cannot land outside the export folder, on Linux, macOS or Windows: ``..``
  and absolute paths, NUL and control characters, characters Windows forbids, reserved device
  names (``CON``, ``COM1.txt``), trailing dots and spaces, over-long components, invalid UTF-8 and
  invisible or reordering characters (bidi overrides, zero-width) are all neutralised. This is
  one-way: exporters keep the original name in their manifest.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from pathlib import PurePosixPath

from custody.safetext import char_escape, is_unsafe, needs_escape
from triage.errors import UnsafePath

# --------------------------------------------------------------------------------------------------
# display names (reversible)

# What always needs the slow path, beside what custody.safetext escapes (it leaves "\\" alone).
_SEPARATORS = re.compile(r"[\\/]")


def _escape_char(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if ch == "/":
        return "\\x2f"
    # C0 and DEL as \x07, an invalid byte (surrogateescape) as \xff, C1 controls as \u0085 (so
    # never the same as the invalid byte of that value), bidi/invisible/separators as \u202e,
    # higher planes as \U000e0001: custody.safetext's forms, which display_to_bytes reverses.
    return char_escape(ch) if is_unsafe(ch) else ch


def display_name(raw: bytes) -> str:
    """Return ``raw`` as a printable, reversible string (see the module docstring).

    This runs once per directory entry of a walk, so the common case (clean UTF-8) is one decode,
    one ``isprintable`` test and two small regex searches.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "surrogateescape")
    else:
        if not needs_escape(text) and _SEPARATORS.search(text) is None:
            return text
    return "".join(_escape_char(ch) for ch in text)


def as_listed(path: str) -> str:
    """A path given on the command line in the form ``exhibit ls`` lists it. ``ls`` escapes what
    a name holds that is not printable UTF-8 (``bad\\xff.jpg``, ``\\x1b[31mred``): typed that way
    it is already the listed form; typed with the real bytes (``$'bad\\xff.jpg'`` in bash, which
    arrive as lone surrogates) or the real control characters, which the listed form never holds,
    each part is escaped as ``ls`` escapes it, so both ways of typing a name find it."""
    if not needs_escape(path):
        return path
    return "/".join(display_name(part.encode("utf-8", "surrogateescape")) for part in path.split("/"))


_UNESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U(?:000[0-9a-f]|0010)[0-9a-f]{4})")


def display_to_bytes(text: str) -> bytes:
    """Inverse of :func:`display_name` (also accepts whole display paths)."""
    out = bytearray()
    pos = 0
    for match in _UNESCAPE.finditer(text):
        out += text[pos : match.start()].encode("utf-8", "surrogateescape")
        token = match.group(1)
        if token == "\\":
            out += b"\\"
        elif token[0] == "x":
            out += bytes([int(token[1:], 16)])
        else:
            out += chr(int(token[1:], 16)).encode("utf-8", "surrogatepass")
        pos = match.end()
    out += text[pos:].encode("utf-8", "surrogateescape")
    return bytes(out)


def display_to_text(display: str) -> str | None:
    """The name or ``/``-separated path a display form stands for, as text (a real ``\\`` or
    U+202E, not its escape), for exchange formats that carry names as Unicode text; ``None`` when
    that cannot be said in text: bytes that are not UTF-8, or a ``/`` inside one name."""
    names = []
    for part in display.split("/"):
        raw = display_to_bytes(part)
        if b"/" in raw:
            return None
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return "/".join(names)


# --------------------------------------------------------------------------------------------------
# export paths (one-way, safe)

#: Longest file-name component on ext4, NTFS (in UTF-16 units, stricter in bytes here), APFS, exFAT.
MAX_COMPONENT_BYTES = 255

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"COM{c}" for c in "0123456789¹²³"]
    + [f"LPT{c}" for c in "0123456789¹²³"]
)
# Bytes that are unsafe in a component anywhere: C0 controls, DEL, and what Windows forbids.
_UNSAFE_BYTES = frozenset([*range(0x20), 0x7F, *b'<>:"|?*\\%'])


#: Unicode categories that are invisible or reorder text: format (bidi controls, zero-width),
#: line and paragraph separators, unassigned and private use code points.
_HIDDEN_CATEGORIES = frozenset(["Cf", "Zl", "Zp", "Cn", "Co"])


def _percent(byte: int) -> str:
    return f"%{byte:02X}"


def _clean_component(raw: bytes) -> str:
    """Escape one component (no separators inside) into safe UTF-8 text."""
    text = raw.decode("utf-8", "surrogateescape")
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # invalid UTF-8 byte
            out.append(_percent(code - 0xDC00))
        elif (code < 0x80 and code in _UNSAFE_BYTES) or 0x80 <= code <= 0x9F:  # C1 controls too
            out.append(_percent(code) if code < 0x100 else ch)
        elif code >= 0xA0 and unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            # bidi overrides (U+202E turns "gpj.exe" into "exe.jpg"), zero-width and line or
            # paragraph separators: percent-encode their UTF-8 so the name shows what it is.
            out.append("".join(_percent(b) for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    cleaned = "".join(out)
    if cleaned == "..":
        return "%2E%2E"
    # Windows strips trailing dots and spaces ("evil." == "evil"); make them visible instead.
    stripped = cleaned.rstrip(". ")
    if stripped != cleaned:
        tail = cleaned[len(stripped) :]
        cleaned = stripped + "".join(_percent(ord(c)) for c in tail)
    # CON, con.txt, COM1.tar.gz, "NUL " ... are device names on Windows whatever the extension.
    stem = cleaned.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    return cleaned


def _shorten(component: str, original: bytes) -> str:
    """Cut ``component`` to :data:`MAX_COMPONENT_BYTES`, keeping a short extension and a hash suffix.

    The hash (of the original bytes) keeps two long names that share a prefix distinct.
    """
    suffix = "~" + hashlib.sha256(original).hexdigest()[:12]
    stem, dot, ext = component.rpartition(".")
    if not dot or not stem or len(ext.encode("utf-8")) > 16:
        stem, ext = component, ""
    else:
        ext = "." + ext
    budget = MAX_COMPONENT_BYTES - len(suffix.encode()) - len(ext.encode("utf-8"))
    encoded = stem.encode("utf-8")[:budget]
    head = encoded.decode("utf-8", "ignore")  # never cut a character in half
    result = head + suffix + ext
    # the cut may have exposed a trailing dot/space before the suffix: harmless, suffix follows.
    return result


def safe_components(components: Sequence[bytes]) -> PurePosixPath:
    """Return a safe relative path for a path given as its raw name bytes, one per component.

    Unlike :func:`safe_relative_path`, nothing inside a component is a separator: a ``\\`` or a
    ``/`` that is part of a name (``back\\slash.txt`` on ext4) is percent-encoded, so the name
    stays one file and cannot collide with a real ``back/slash.txt``. This is what export uses:
    the walk keeps every name's raw bytes, so the display escapes (``\\x08``) never reach disk.
    Raises :class:`UnsafePath` when nothing nameable is left.
    """
    parts: list[str] = []
    for piece in components:
        if piece in (b"", b"."):
            continue
        component = _clean_component(piece)
        if len(component.encode("utf-8")) > MAX_COMPONENT_BYTES:
            component = _shorten(component, piece)
        parts.append(component)
    if not parts:
        raise UnsafePath(
            f"{list(components)!r}: no usable name left after sanitising",
            hint="name the exported file after its inode or hash instead",
        )
    return PurePosixPath(*parts)


def safe_relative_path(path: str | bytes) -> PurePosixPath:
    """Return a relative path for ``path`` (a name or ``/``-separated path from evidence) that is safe
    to create under an export folder.

    ``\\`` counts as a separator too, because an archive made on Windows uses it and because Windows
    would treat it as one when the export is opened there. Empty, ``.`` components are dropped;
    ``..`` is kept visibly as ``%2E%2E`` rather than resolved, so ``a/../b`` never climbs. Raises
    :class:`UnsafePath` when nothing nameable is left (``""``, ``"/"``, ``"./."``).
    """
    raw = path.encode("utf-8", "surrogateescape") if isinstance(path, str) else bytes(path)
    try:
        return safe_components(raw.replace(b"\\", b"/").split(b"/"))
    except UnsafePath:
        raise UnsafePath(
            f"{path!r}: no usable name left after sanitising",
            hint="name the exported file after its inode or hash instead",
        ) from None
