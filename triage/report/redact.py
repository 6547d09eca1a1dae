"""Redaction of a report: ``exhibit report --redact FILE``.

The file lists the names, phone numbers and accounts of victims or minors, and the pictures of
their faces. Every listed value is replaced, wherever a report prints it (message bodies, names,
captions, identifiers, file names), by a pseudonym ``V1``, ``V2``, ...; a picture is shown
blurred or not at all. Pseudonyms are kept in the case (table ``report_pseudonyms``), so one
person is ``V3`` in every report of the case; the key table itself never enters a report.

The file is UTF-8 text, one person per line; ``#`` starts a comment::

    # region for numbers written without a country code (ISO 3166 code; default: none)
    region: GB
    name: Alice Smith; name: Ali; number: 07700 900123; account: alice.s@example.com
    name: Bo Jensen
    blur: EX-002:/DCIM/Camera/IMG_0042.jpg
    hide: /sdcard/DCIM/IMG_0007.jpg

``name``, ``number`` and ``account`` entries on one line are one person and share a pseudonym.
``blur:`` and ``hide:`` name a picture by its path in the exhibit (optionally ``EX:`` first to
name the exhibit; without it the path is matched in every exhibit).

Matching: a name matches case-insensitively as whole words, with spaces, ``_``, ``.``, ``-``,
``%20`` or ``+`` between its words or none (``alice_smith.jpg``, ``#AliceSmith``), in any Unicode
form of its letters (``ë`` precomposed or as ``e`` and a combining mark), without its accents
(``Zoe`` for ``Zoë``: file names and addresses drop them) and percent-encoded in a URL
(``Zo%C3%AB``); list every other form (a first name alone, a nickname) as another ``name`` of the
same person. A number matches in any formatting (spaces, dashes of any kind, dots, brackets
between digits; ASCII, full-width or Arabic-Indic digits): international (``+44 7700 900123``,
``0044...``, ``+44 (0)7700...``), the bare digits of a WhatsApp id
(``447700900123@s.whatsapp.net``), national with the trunk prefix (``07700 900123``) and without
it, but not after another country's code (``+1 770 090 0123`` is someone else). A number must be
listed with its country code or under a ``region:`` line, so that every form of it is known;
one value on two lines (two people) is refused. An account matches case-insensitively as written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import phonenumbers
from PIL import Image, ImageFilter
from sqlalchemy import Engine, insert, select

from triage.errors import TriageError
from triage.store import ensure_schema
from triage.store.models import Pseudonym

Category = Literal["name", "number", "account"]
PictureAction = Literal["show", "blur", "hide"]

_CATEGORIES: tuple[Category, ...] = ("name", "number", "account")
#: What may stand between two digits of a written phone number: spaces, brackets, dots, slashes
#: and every dash (hyphen, non-breaking hyphen, figure, en and em dashes, minus, full-width forms).
_SEP = r"[\s\-.()/\u00a0\u2010-\u2015\u2212\uff08\uff09\uff0d\uff0e\uff0f]{0,3}"
#: What may stand between the words of a name: none (``AliceSmith``) or spaces, ``_``, ``.``,
#: ``-`` and a URL's ``%20`` or ``+``.
_NAME_GAP = r"(?:[\s_.\-+]|%20)*"
_PLUS = "[+\uff0b]"
#: An international prefix just before a match: the digits that follow are another country's.
_OTHER_COUNTRY = re.compile(r"(?:[+\uff0b]|\b00)\d{1,3}" + _SEP + r"$")
_MAX_FILE = 1 << 20  # a redaction list is short; a larger file is a mistake


class RedactionError(TriageError):
    """The redaction file cannot be used (its line and the problem are named)."""


@dataclass(frozen=True)
class Person:
    """One line of the redaction file: values of one person (normalised, by category)."""

    values: tuple[tuple[Category, str], ...]
    line: int


@dataclass(frozen=True)
class RedactionList:
    """A parsed redaction file."""

    people: tuple[Person, ...] = ()
    pictures: tuple[tuple[str | None, str, PictureAction], ...] = ()  # (exhibit, path, action)
    region: str | None = None
    source_sha256: str | None = None

    @property
    def empty(self) -> bool:
        return not self.people and not self.pictures


def normalise_name(value: str) -> str:
    """One key for a name however it was typed: spaces collapsed, NFC, case-folded."""
    return unicodedata.normalize("NFC", " ".join(value.split())).casefold()


def normalise_number(value: str, region: str | None) -> str | None:
    """E.164 of a listed number (``+447700900123``); None when it cannot be read as a phone
    number (written without its country code and no ``region:`` given, or not a number)."""
    try:
        parsed = phonenumbers.parse(unicodedata.normalize("NFKC", value), region)
    except phonenumbers.NumberParseException:
        return None
    if not parsed.national_number:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_file(path: Path) -> RedactionList:
    """Read and check a redaction file; a bad line is a :class:`RedactionError` naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RedactionError(
            f"cannot read the redaction file {path}: {exc.strerror or exc}",
            hint="give the path of a text file listing names, numbers, accounts and pictures",
        ) from exc
    if len(data) > _MAX_FILE:
        raise RedactionError(f"the redaction file {path} is larger than 1 MiB", hint="is it the right file?")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RedactionError(
            f"the redaction file {path} is not UTF-8 text (byte {exc.start})", hint="save it as UTF-8"
        ) from exc
    parsed = parse_text(text, where=str(path))
    return RedactionList(parsed.people, parsed.pictures, parsed.region, hashlib.sha256(data).hexdigest())


def parse_text(text: str, where: str = "redaction list") -> RedactionList:
    region: str | None = None
    raw_people: list[tuple[list[tuple[Category, str]], int]] = []
    pictures: list[tuple[str | None, str, PictureAction]] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.strip()
        if content.startswith("#"):
            continue
        if not content.lower().startswith(("blur:", "hide:")):  # a picture's path may hold " #"
            content = re.sub(r"\s#.*$", "", content).strip()
        if not content:
            continue
        key, sep, value = content.partition(":")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise RedactionError(
                f"{where}, line {number}: expected 'kind: value'",
                hint="kinds: name, number, account, blur, hide, region",
            )
        if key == "region":
            if not re.fullmatch(r"[A-Za-z]{2}", value):
                raise RedactionError(f"{where}, line {number}: region must be a two-letter country code")
            region = value.upper()
        elif key in ("blur", "hide"):
            exhibit: str | None = None
            target = value
            m = re.match(r"([A-Za-z0-9][A-Za-z0-9._/-]*?):(/.*)", value)  # exhibit numbers may hold "/"
            if m:
                exhibit, target = m.group(1), m.group(2)
            if not target.startswith("/"):
                target = "/" + target
            pictures.append((exhibit, target, "blur" if key == "blur" else "hide"))
        elif key in _CATEGORIES:
            values: list[tuple[Category, str]] = []
            for part in content.split(";"):
                k, s, v = part.partition(":")
                k, v = k.strip().lower(), v.strip()
                if not s or k not in _CATEGORIES or not v:
                    raise RedactionError(
                        f"{where}, line {number}: {part.strip()!r} is not 'name|number|account: value'",
                        hint="separate the values of one person with ';'",
                    )
                values.append((k, v))
            raw_people.append((values, number))
        else:
            raise RedactionError(
                f"{where}, line {number}: unknown kind {key!r}",
                hint="kinds: name, number, account, blur, hide, region",
            )
    people = []
    for values, number in raw_people:
        normalised: list[tuple[Category, str]] = []
        for category, value in values:
            if category == "name":
                norm = normalise_name(value)
            elif category == "number":
                if len(re.sub(r"\D", "", unicodedata.normalize("NFKC", value))) < 5:
                    raise RedactionError(
                        f"{where}, line {number}: number {value!r} has fewer than 5 digits",
                        hint="give the full number, with its country code or a 'region:' line",
                    )
                e164 = normalise_number(value, region)
                if e164 is None:
                    # its other forms (international, national) could not all be known: the ones
                    # not matched would stay in clear (found in review: "+44 ..." left as written)
                    raise RedactionError(
                        f"{where}, line {number}: number {value!r} cannot be read as a phone number"
                        + ("" if region else " without its country code"),
                        hint="write it with its country code (+44 7700 900123), or add a line "
                        "'region: GB' (the country it is dialled in) before the people",
                    )
                norm = e164
            else:
                norm = value.casefold()
            normalised.append((category, norm))
        people.append(Person(tuple(normalised), number))
    owner: dict[tuple[Category, str], int] = {}
    for person in people:
        for listed in person.values:
            first = owner.setdefault(listed, person.line)
            if first != person.line:  # two people sharing a value would share a pseudonym
                raise RedactionError(
                    f"{where}, line {person.line}: {listed[0]} {listed[1]!r} is also on line {first}: "
                    "one line is one person",
                    hint="if both lines are one person, put their values on one line; if they are two, "
                    "tell them apart (a full name, another number)",
                )
    return RedactionList(tuple(people), tuple(pictures), region)


def _letter(ch: str) -> str:
    """Every way a letter of a listed name may be written: as listed, decomposed (a base letter
    and combining marks), without its marks, and percent-encoded as UTF-8 in a URL."""
    forms = {ch, unicodedata.normalize("NFD", ch)}
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    if base:
        forms.add(base)
    if not ch.isascii():
        forms.add(quote(ch, safe=""))
    if len(forms) == 1:
        return re.escape(ch)
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) + ")"


def _name_pattern(name: str) -> str:
    words = ["".join(_letter(ch) for ch in w) for w in name.split()]
    # "_" counts as a gap, not a letter: alice_smith_0770.jpg
    return r"(?<![^\W_])" + _NAME_GAP.join(words) + r"(?![^\W_])"


_HEX = frozenset("0123456789abcdefABCDEF")
_HASH_RUN = 32  # hex digits in a row from which a string is a hash (MD5 and longer), not a number


def _inside_hash(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies within a run of at least 32 hex digits (a hash)."""
    if any(ch not in _HEX for ch in text[start:end]):
        return False
    left, right = start, end
    while left > 0 and text[left - 1] in _HEX:
        left -= 1
    while right < len(text) and text[right] in _HEX:
        right += 1
    return right - left >= _HASH_RUN


def _digits(digits: str) -> str:
    """The digits as written with any separators between them, each in ASCII, full-width,
    Arabic-Indic or Extended Arabic-Indic form."""
    forms = []
    for d in digits:
        n = int(d)
        forms.append(f"[{d}{chr(0xFF10 + n)}{chr(0x0660 + n)}{chr(0x06F0 + n)}]")
    return _SEP.join(forms)


def _number_pattern(e164: str) -> str:
    """Every way ``e164`` may be written, as one pattern (digits never matched inside longer ones)."""
    forms: list[str] = []
    if e164.startswith("+"):
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None:
            cc = str(parsed.country_code)
            nsn = phonenumbers.national_significant_number(parsed)
            trunk = ""
            region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
            meta = phonenumbers.PhoneMetadata.metadata_for_region(region) if region != "ZZ" else None
            if meta is not None and meta.national_prefix:
                trunk = meta.national_prefix
            intl = (
                f"(?:{_PLUS}|00)" + _SEP + _digits(cc) + _SEP + (r"(?:\(?0\)?" + _SEP + ")?" if trunk else "")
            )
            forms.append(intl + _digits(nsn))
            forms.append(_digits(cc + nsn))
            if trunk:
                forms.append(_digits(trunk + nsn))
            forms.append(_digits(nsn))
    if not forms:
        forms.append(_digits(re.sub(r"\D", "", e164)))
    return r"(?<![\d+\uff0b])(?:" + "|".join(forms) + r")(?!\d)"


@dataclass
class Redactor:
    """Replaces listed values by pseudonyms in text and says how each picture may be shown.

    :meth:`none` redacts nothing. :meth:`for_case` assigns (and keeps, in the case) the pseudonyms
    of a :class:`RedactionList`.
    """

    pseudonyms: dict[tuple[Category, str], str] = field(default_factory=dict)
    pictures: tuple[tuple[str | None, str, PictureAction], ...] = ()
    region: str | None = None
    source_sha256: str | None = None
    _pattern: re.Pattern[str] | None = None
    _groups: list[str] = field(default_factory=list)
    _number_groups: set[int] = field(default_factory=set)

    @classmethod
    def none(cls) -> Redactor:
        return cls()

    @classmethod
    def for_case(cls, engine: Engine, listed: RedactionList) -> Redactor:
        """The redactor of ``listed``, with pseudonyms from (and new ones added to) the case."""
        ensure_schema(engine)
        assigned: dict[tuple[Category, str], str] = {}
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        with engine.begin() as conn:
            known = {
                (row.category, row.value): row.pseudonym
                for row in conn.execute(
                    select(Pseudonym.c.category, Pseudonym.c.value, Pseudonym.c.pseudonym)
                )
            }
            highest = max((int(p[1:]) for p in known.values() if p[1:].isdigit()), default=0)
            for person in listed.people:
                existing = [known[v] for v in person.values if v in known]
                if existing:
                    name = sorted(existing, key=lambda p: int(p[1:]) if p[1:].isdigit() else 0)[0]
                else:
                    highest += 1
                    name = f"V{highest}"
                for value in person.values:
                    if value not in known:
                        conn.execute(
                            insert(Pseudonym).values(
                                category=value[0], value=value[1], pseudonym=name, created_utc=now
                            )
                        )
                        known[value] = name
                    assigned[value] = known[value]
        return cls(assigned, listed.pictures, listed.region, listed.source_sha256)

    @property
    def active(self) -> bool:
        return bool(self.pseudonyms or self.pictures)

    @property
    def listed_count(self) -> int:
        return len(self.pseudonyms) + len(self.pictures)

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.pseudonyms:
            parts: list[tuple[int, str, str, Category]] = []
            for (category, value), pseudonym in self.pseudonyms.items():
                if category == "name":
                    pattern = _name_pattern(value)
                elif category == "number":
                    pattern = _number_pattern(value)
                else:
                    pattern = r"(?<![\w.@+-])" + re.escape(value) + r"(?![\w@-]|\.\w)"
                parts.append((len(value), pattern, pseudonym, category))
            parts.sort(key=lambda p: -p[0])  # the longest value wins where two overlap
            self._groups = [p[2] for p in parts]
            self._number_groups = {i for i, p in enumerate(parts) if p[3] == "number"}
            self._pattern = re.compile(
                "|".join(f"(?P<g{i}>{p[1]})" for i, p in enumerate(parts)), re.IGNORECASE
            )
        return self._pattern

    def text(self, value: str) -> str:
        """``value`` with every listed name, number and account replaced by its pseudonym."""
        pattern = self._compiled()
        if pattern is None or not value:
            return value
        groups = self._groups
        numbers = self._number_groups

        def replace(m: re.Match[str]) -> str:
            if not m.lastgroup:
                return m.group(0)
            index = int(m.lastgroup[1:])
            if index in numbers:
                if _inside_hash(value, m.start(), m.end()):
                    return m.group(0)  # digits inside a SHA-256 or another long hex string
                if m.group(0)[0] not in "+\uff0b0" and _OTHER_COUNTRY.search(value, 0, m.start()):
                    return m.group(0)  # after another country's code: another number (review)
            return groups[index]

        return pattern.sub(replace, value)

    def picture(self, path: str, exhibit: str | None = None) -> PictureAction:
        """How the picture at ``path`` of ``exhibit`` may be shown: as is, blurred or not at all."""
        action: PictureAction = "show"
        for listed_exhibit, listed_path, listed_action in self.pictures:
            if listed_path == path and (listed_exhibit is None or listed_exhibit == exhibit):
                if listed_action == "hide":
                    return "hide"
                action = "blur"
        return action

    def values(self) -> Iterable[tuple[Category, str]]:
        """The listed values (for tests that prove none survives); never printed in a report."""
        return self.pseudonyms.keys()


def obscure(image: Image.Image, size: tuple[int, int] = (12, 12)) -> Image.Image:
    """A picture no face can be recognised in: reduced to a few blocks, then blurred at full size."""
    small = image.convert("RGB").resize(size, Image.Resampling.BOX)
    big = small.resize(image.size, Image.Resampling.BILINEAR)
    return big.filter(ImageFilter.GaussianBlur(radius=max(image.size) / 20))
