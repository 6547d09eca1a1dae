"""Validators of the identifiers the ``identifiers`` analyzer looks for in text.

Each validator takes the text of one candidate (as found, with its spacing and case) and returns
its normalised form, or ``None`` when the candidate is not a valid identifier of that kind. Only
validated values become indicators, so each check is the strict one its standard defines:

* phone numbers: Google's ``phonenumbers`` (a *valid* number for its region, E.164 form);
* e-mail addresses: ``email-validator`` with deliverability checks off (the syntax only: a
  suspect's domain is never resolved); the domain lower-cased, the local part as written;
* URLs, also defanged (``hxxp://x[.]com``, ``[.]``, ``(.)``, ``[dot]``, ``[:]``): re-fanged,
  then an http(s)/ftp URL whose host is a DNS name with an alphabetic top-level label or an IP
  address; scheme and host lower-cased;
* Bitcoin: base58check P2PKH/P2SH (version bytes 0x00/0x05, testnet 0x6f/0xc4; double SHA-256
  checksum) and native segwit addresses (BIP-173 bech32 for witness version 0, BIP-350 bech32m
  for versions 1 to 16, BIP-141 program lengths); both written here;
* Ethereum: ``0x`` and 40 hex digits; a mixed-case address must carry its EIP-55 checksum
  (Keccak-256 of the lower-case hex; pycryptodome's Keccak, which is the original Keccak
  padding, not the FIPS 202 SHA3-256 of :mod:`hashlib`); normalised to the EIP-55 form;
* IBANs: ``schwifty`` (country, length, BBAN structure of the IBAN registry, ISO 7064 mod 97);
  normalised to the compact upper-case form;
* payment cards: 12 to 19 digits, the Luhn check and a known issuer range (the first digits and
  length of Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro);
  normalised to the digits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# email-validator, pycryptodome, schwifty and phonenumbers are imported where they are used: they cost about
# 0.2 s at start-up (schwifty loads its registries), which every ``exhibit`` command would pay.

__all__ = [
    "BECH32",
    "BECH32M",
    "Bech32Decoded",
    "bech32_decode",
    "bitcoin",
    "card",
    "card_issuer",
    "email",
    "ethereum",
    "iban",
    "keccak256",
    "luhn_ok",
    "phone",
    "refang",
    "segwit_decode",
    "url",
]

# --- Bitcoin: base58check ------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
#: Version byte of a base58check address -> its kind.
_B58_VERSIONS = {0x00: "p2pkh", 0x05: "p2sh", 0x6F: "p2pkh-testnet", 0xC4: "p2sh-testnet"}


def _b58decode(text: str) -> bytes | None:
    number = 0
    for c in text:
        digit = _B58_INDEX.get(c)
        if digit is None:
            return None
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + body


def base58check(text: str) -> str | None:
    """The kind (``p2pkh``, ``p2sh``, ``...-testnet``) of a base58check address, else ``None``."""
    if not 25 <= len(text) <= 35:
        return None
    raw = _b58decode(text)
    if raw is None or len(raw) != 25:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return _B58_VERSIONS.get(payload[0])


# --- Bitcoin: bech32 / bech32m (BIP-173, BIP-350) -----------------------------------------------

BECH32 = 1
BECH32M = 0x2BC830A3
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for bit, gen in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                check ^= gen
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


@dataclass(frozen=True)
class Bech32Decoded:
    """A checked bech32 string: its human-readable part (lower case), 5-bit data, encoding."""

    hrp: str
    data: tuple[int, ...]
    encoding: int  # BECH32 or BECH32M


def bech32_decode(text: str) -> Bech32Decoded | None:
    """Decode a bech32 or bech32m string (BIP-173/BIP-350 rules), else ``None``."""
    if len(text) > 90 or any(not 33 <= ord(c) <= 126 for c in text):
        return None
    if text.lower() != text and text.upper() != text:
        return None  # mixed case
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1 or sep + 7 > len(text):
        return None  # empty human-readable part, or a checksum shorter than 6
    hrp = text[:sep]
    data: list[int] = []
    for c in text[sep + 1 :]:
        value = _CHARSET_INDEX.get(c)
        if value is None:
            return None
        data.append(value)
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32, BECH32M):
        return None
    return Bech32Decoded(hrp, tuple(data[:-6]), const)


def _convert_bits(data: tuple[int, ...], from_bits: int, to_bits: int) -> bytes | None:
    """Regroup 5-bit values into bytes; ``None`` on padding of 5+ bits or non-zero padding."""
    acc = bits = 0
    out = bytearray()
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & ((1 << to_bits) - 1))
    if bits >= from_bits or (acc << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return bytes(out)


def segwit_decode(text: str, hrps: tuple[str, ...] = ("bc", "tb")) -> tuple[str, int, bytes] | None:
    """``(hrp, witness version, program)`` of a valid native segwit address, else ``None``.

    Version 0 must use bech32, versions 1 to 16 bech32m (BIP-350); the program is 2 to 40 bytes,
    and 20 or 32 bytes for version 0 (BIP-141).
    """
    decoded = bech32_decode(text)
    if decoded is None or decoded.hrp not in hrps or not decoded.data:
        return None
    version = decoded.data[0]
    if version > 16:
        return None
    program = _convert_bits(decoded.data[1:], 5, 8)
    if program is None or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    if decoded.encoding != (BECH32 if version == 0 else BECH32M):
        return None
    return decoded.hrp, version, program


def bitcoin(text: str) -> tuple[str, str] | None:
    """``(normalised address, kind)`` of a valid Bitcoin address, else ``None``.

    Base58 addresses are case-sensitive and kept as written; segwit addresses are lower-cased
    (BIP-173 allows the all-upper-case form, e.g. in QR codes). Kinds: ``p2pkh``, ``p2sh``,
    ``segwit-v0``, ``segwit-v1`` ... (``-testnet`` for testnet addresses).
    """
    text = text.strip()
    if text[:3].lower() in ("bc1", "tb1"):
        found = segwit_decode(text)
        if found is None:
            return None
        hrp, version, _ = found
        return text.lower(), f"segwit-v{version}" + ("-testnet" if hrp == "tb" else "")
    kind = base58check(text)
    return (text, kind) if kind else None


# --- Ethereum (EIP-55) --------------------------------------------------------------------------


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (the original Keccak padding; not hashlib.sha3_256)."""
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()


def _eip55(hex40: str) -> str:
    lower = hex40.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower)
    )


_ETH = re.compile(r"^0[xX][0-9a-fA-F]{40}$")


def ethereum(text: str) -> tuple[str, str] | None:
    """``(EIP-55 form, kind)`` of an Ethereum address, else ``None``.

    All-lower or all-upper hex carries no checksum (kind ``unchecked``); mixed case must match
    its EIP-55 checksum (kind ``eip55``).
    """
    text = text.strip()
    if not _ETH.match(text):
        return None
    digits = text[2:]
    canonical = _eip55(digits)
    if digits in (digits.lower(), digits.upper()):
        return canonical, "unchecked"
    if "0x" + digits != canonical:
        return None
    return canonical, "eip55"


# --- IBAN -----------------------------------------------------------------------------------------


def iban(text: str) -> tuple[str, str] | None:
    """``(compact IBAN, country code)`` of a valid IBAN (``schwifty``), else ``None``."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    compact = re.sub(r"[ \t]", "", text.strip()).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", compact):
        return None
    try:
        value = IBAN(compact)
    except (SchwiftyException, ValueError):
        return None
    return value.compact, value.country_code


# --- payment cards --------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812-1 annex B) check of a string of digits."""
    if not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


#: Issuer ranges: (network, low prefix, high prefix, allowed lengths); prefixes compared on
#: the first len(low) digits. Checked in order: the first match names the network.
_ISSUERS: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("amex", "34", "34", (15,)),
    ("amex", "37", "37", (15,)),
    ("diners", "300", "305", (14, 15, 16, 17, 18, 19)),
    ("diners", "36", "36", (14, 15, 16, 17, 18, 19)),
    ("diners", "38", "39", (14, 15, 16, 17, 18, 19)),
    ("jcb", "3528", "3589", (16, 17, 18, 19)),
    ("visa", "4", "4", (13, 16, 19)),
    ("mastercard", "51", "55", (16,)),
    ("mastercard", "2221", "2720", (16,)),
    ("discover", "6011", "6011", (16, 17, 18, 19)),
    ("discover", "644", "649", (16, 17, 18, 19)),
    ("discover", "65", "65", (16, 17, 18, 19)),
    ("unionpay", "62", "62", (16, 17, 18, 19)),
    ("maestro", "50", "50", (12, 13, 14, 15, 16, 17, 18, 19)),
    ("maestro", "56", "69", (12, 13, 14, 15, 16, 17, 18, 19)),
)


def card_issuer(digits: str) -> str | None:
    """The card network whose issuer range and length ``digits`` falls in, else ``None``."""
    for network, low, high, lengths in _ISSUERS:
        if len(digits) in lengths and low <= digits[: len(low)] <= high:
            return network
    return None


def card(text: str) -> tuple[str, str] | None:
    """``(digits, network)`` of a payment card number (spaces or dashes allowed), else ``None``."""
    digits = re.sub(r"[ \-]", "", text.strip())
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        return None
    network = card_issuer(digits)
    return (digits, network) if network else None


# --- phone numbers, e-mail addresses ---------------------------------------------------------------


def phone(text: str, region: str | None = None) -> str | None:
    """The E.164 form of a *valid* phone number (``region`` for numbers without ``+``), else ``None``."""
    import phonenumbers  # here, not when the plugins are loaded (docs/plugins.md, "Heavy libraries")

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(text: str) -> str | None:
    """The normalised form of a syntactically valid e-mail address, else ``None``.

    Deliverability checks are off: nothing is resolved. Normalised: Unicode NFC, domain
    lower-cased (``email-validator``'s ``normalized``).
    """
    import email_validator

    try:
        result = email_validator.validate_email(
            text.strip(), check_deliverability=False, allow_smtputf8=True, globally_deliverable=True
        )
    except email_validator.EmailNotValidError:
        return None
    tld = result.ascii_domain.rsplit(".", 1)[-1].lower()
    if len(tld) < 2 or tld.isdigit() or tld in _FILE_EXTENSIONS:
        return None  # a@b.c, or a picture name such as logo@2x.png (its "top-level domain" is no TLD)
    normalized: str = result.normalized
    return normalized


#: File-name extensions that are no top-level domain (checked against the Public Suffix List):
#: ``name@2x.png`` names a picture at twice the resolution, a common sight in web text and
#: caches. Extensions that are also TLDs (``.zip``, ``.mov``, ``.py``, ``.sh``, ``.md``) are not here.
_FILE_EXTENSIONS = frozenset(
    [
        "avif",
        "bmp",
        "css",
        "dll",
        "exe",
        "gif",
        "heic",
        "htm",
        "html",
        "ico",
        "jpeg",
        "jpg",
        "js",
        "json",
        "log",
        "mp4",
        "pdf",
        "php",
        "png",
        "svg",
        "tif",
        "tiff",
        "txt",
        "webp",
        "xml",
    ]
)


# --- URLs -----------------------------------------------------------------------------------------

_REFANG = (
    (re.compile(r"^hxxp", re.IGNORECASE), "http"),
    (re.compile(r"^fxp", re.IGNORECASE), "ftp"),
    (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.IGNORECASE), "."),
    (re.compile(r"\[:\]|\[://\]"), lambda m: m.group()[1:-1]),
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def refang(text: str) -> str:
    """``text`` with the usual defanging undone: ``hxxp`` -> ``http``, ``[.]``/``(.)``/``[dot]`` -> ``.``."""
    out = text.strip()
    if "[" not in out and "(" not in out and "{" not in out and not out[:4].lower().startswith(("hx", "fx")):
        return out  # nothing any pattern could replace (the common case: a URL written as it is)
    for pattern, repl in _REFANG:
        out = pattern.sub(repl, out)
    return out


def _host_ok(host: str) -> bool:
    return _is_address(host.strip("[]")) or _name_ok(host)


def _is_address(address: str) -> bool:
    # an IPv4 address starts with a digit, an IPv6 address holds colons: no other host is tried as
    # an address (a name raised two exceptions in ipaddress, most of the cost of the host check)
    if not (address[:1].isdigit() or ":" in address):
        return False
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        return False


def _name_ok(host: str) -> bool:
    """A DNS name of labels of letters, digits and hyphens (after IDNA) and an alphabetic top level."""
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL.match(x) for x in labels) and bool(_TLD.match(labels[-1]))


def url(text: str) -> tuple[str, bool] | None:
    """``(normalised URL, was defanged)`` of an http(s)/ftp URL, else ``None``."""
    fanged = refang(text)
    try:
        parts = urlsplit(fanged)
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp") or not host or not _host_ok(host):
        return None
    netloc = parts.netloc
    at = netloc.rfind("@") + 1
    netloc = netloc[:at] + netloc[at:].lower()
    normalised = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    return normalised, fanged != text.strip()
