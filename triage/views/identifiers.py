"""Identifiers of people in records: phone numbers to E.164, WhatsApp JIDs, e-mails, app account ids.

Records keep identifiers exactly as the app stored them (``1 555-521-5554``, ``15555215554``,
``19198887386@s.whatsapp.net``). The views add, beside each raw value, its E.164 form when it is
a phone number (``+15555215554``), computed here at render time with Google's ``phonenumbers``
library; nothing stored is changed.

* A value made only of digits and phone punctuation (space, ``+``, ``-``, ``(``, ``)``, ``.``,
  ``/``) is a phone number when ``phonenumbers`` parses it and finds it *possible* (a plausible
  length for its country; not *valid*, which would refuse the fictional 555 numbers of emulators
  and test phones). Without a ``+`` or an international prefix it needs the default region
  (``--region US``): ``15555215554`` is ``+15555215554`` with ``--region US`` and stays
  un-normalised without one. Letters are never read as keypad digits (``1-800-FLOWERS``).
* A WhatsApp user JID ``<digits>@s.whatsapp.net`` (or ``@c.us``) is the phone ``+<digits>``:
  WhatsApp writes the full international number, without ``+``, before the ``@``.
* Other JIDs (groups ``@g.us``, linked identities ``@lid``, broadcast lists) are account ids of
  their app; anything else with one ``@`` and a dot in its domain is an e-mail address, compared
  lower-cased.

:func:`identity` gives the key :mod:`triage.views.links` groups on: ``(kind, value)`` with kinds
``phone`` (E.164), ``number`` (phone-shaped but not normalisable: its digits, and a leading
``+`` when it had one), ``email`` (lower-cased) and ``account`` (``<app>:<raw id>``, so that ids
of different apps never match by accident).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from triage.errors import TriageError

__all__ = ["Identity", "Normaliser", "check_region", "identity"]

_PHONE_SHAPED = re.compile(r"^\+?[\d ().\-/]*\d[\d ().\-/]*$")
_WHATSAPP_USER = re.compile(r"^(\d{6,15})(?::\d+)?@(?:s\.whatsapp\.net|c\.us)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Domains of app identifiers that look like e-mail addresses but are not.
_APP_DOMAINS = frozenset({"s.whatsapp.net", "c.us", "g.us", "lid", "broadcast", "newsletter"})


def check_region(region: str | None) -> str | None:
    """``region`` upper-cased when ``phonenumbers`` knows it (``US``, ``GB``, ``NL``), else an error."""
    if region is None:
        return None
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise TriageError(
            f"unknown region {region!r} for phone numbers",
            hint="give the two-letter ISO 3166 country code of the phones' home network, e.g. --region US",
        )
    return code


@dataclass(frozen=True)
class Identity:
    """What an identifier is, for grouping: ``kind`` (phone, number, email, account) and ``value``."""

    kind: str
    value: str


class Normaliser:
    """E.164 forms of raw identifiers under one default region (``None``: international forms only).

    Results are cached (a bounded cache: the same few numbers recur across a whole case).
    """

    def __init__(self, region: str | None = None) -> None:
        self.region = check_region(region)
        self.e164 = lru_cache(maxsize=65536)(self._e164)

    def _e164(self, raw: str | None) -> str | None:
        """The E.164 form of ``raw`` when it is a phone number or a WhatsApp user JID, else ``None``."""
        if not raw or len(raw) > 64:
            return None
        text = raw.strip()
        jid = _WHATSAPP_USER.match(text)
        if jid:
            text = "+" + jid.group(1)
        elif not _PHONE_SHAPED.match(text):
            return None
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def all_e164(self, raws: list[str] | tuple[str, ...]) -> list[str | None]:
        """:meth:`e164` of each value, in order (a list parallel to ``raws``)."""
        return [self.e164(r) if isinstance(r, str) else None for r in raws]


def identity(raw: object, app: str, normaliser: Normaliser) -> Identity | None:
    """The grouping key of one raw identifier seen in a record of ``app``; ``None`` for an empty value."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    e164 = normaliser.e164(text)
    if e164 is not None:
        return Identity("phone", e164)
    if _PHONE_SHAPED.match(text):
        digits = re.sub(r"\D", "", text)
        return Identity("number", ("+" if text.startswith("+") else "") + digits)
    if _EMAIL.match(text) and text.lower().rsplit("@", 1)[1] not in _APP_DOMAINS:
        return Identity("email", text.lower())
    return Identity("account", f"{app}:{text}")
