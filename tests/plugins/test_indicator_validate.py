"""The identifier validators (plugins/indicator/_validate.py) against published test vectors.

Every valid vector must be accepted and every invalid one rejected. Sources, cited per test:
BIP-173 and BIP-350 (bitcoin/bips, "Test vectors"), EIP-55 (ethereum/EIPs, eip-55.md, "Test
Cases"), the SWIFT IBAN Registry (ISO 13616; the "IBAN electronic format example" of each
country), and card-network test numbers published by payment processors (Stripe, "Testing"
documentation; PayPal, "Credit card numbers for testing") plus Luhn's textbook example.
"""

from __future__ import annotations

import hashlib
import socket

import pytest

from plugins.indicator import _validate as v

# --- BIP-173 (https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki, "Test vectors") ---

BIP173_VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BIP173_INVALID_BECH32 = [
    "\x20" + "1nwldj5",  # HRP character out of range
    "\x7f" + "1axkwrx",
    "\x80" + "1eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "de1lg7wt" + "\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum calculated with uppercase form of HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
]
#: BIP-173's valid segwit addresses of witness version 0 (still valid under BIP-350).
BIP173_VALID_V0 = {
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4": "0014751e76e8199196d454941c45d1b3a323f1433bd6",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7": (
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"
    ),
    "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy": (
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"
    ),
}
#: BIP-173's valid addresses of versions 1+ are bech32, which BIP-350 replaced by bech32m:
#: BIP-350 says they are no longer valid, and gives their bech32m forms (below) instead.
BIP173_SUPERSEDED_V1_PLUS = [
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
]
BIP173_INVALID_ADDRESSES = [
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",  # invalid human-readable part
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # invalid checksum
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",  # invalid witness version
    "bc1rw5uspcuh",  # invalid program length
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # program length for v0 (BIP-141)
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",  # mixed case
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # zero padding of more than 4 bits
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",  # non-zero padding
    "bc1gmk9yu",  # empty data section
]

# --- BIP-350 (https://github.com/bitcoin/bips/blob/master/bip-0350.mediawiki, "Test vectors") ---

BIP350_VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
BIP350_INVALID_BECH32M = [
    "\x20" + "1xj0phk",
    "\x7f" + "1g6xzxy",
    "\x80" + "1vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]
BIP350_VALID_ADDRESSES = {
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4": "0014751e76e8199196d454941c45d1b3a323f1433bd6",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7": (
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"
    ),
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y": (
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"
    ),
    "BC1SW50QGDZ25J": "6002751e",
    "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs": "5210751e76e8199196d454941c45d1b3a323",
    "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy": (
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"
    ),
    "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c": (
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"
    ),
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0": (
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    ),
}
BIP350_INVALID_ADDRESSES = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
]


def _script(version: int, program: bytes) -> str:
    return (bytes([version + 0x50 if version else 0, len(program)]) + program).hex()


@pytest.mark.parametrize("text", BIP173_VALID_BECH32)
def test_bip173_valid_bech32_strings(text: str) -> None:
    decoded = v.bech32_decode(text)
    assert decoded is not None and decoded.encoding == v.BECH32


@pytest.mark.parametrize("text", BIP173_INVALID_BECH32 + BIP350_VALID_BECH32M)
def test_bip173_invalid_bech32_strings(text: str) -> None:
    """BIP-173's invalid strings, and BIP-350's valid bech32m strings, are not bech32."""
    decoded = v.bech32_decode(text)
    assert decoded is None or decoded.encoding != v.BECH32


@pytest.mark.parametrize("text", BIP350_VALID_BECH32M)
def test_bip350_valid_bech32m_strings(text: str) -> None:
    decoded = v.bech32_decode(text)
    assert decoded is not None and decoded.encoding == v.BECH32M


@pytest.mark.parametrize("text", BIP350_INVALID_BECH32M + BIP173_VALID_BECH32)
def test_bip350_invalid_bech32m_strings(text: str) -> None:
    decoded = v.bech32_decode(text)
    assert decoded is None or decoded.encoding != v.BECH32M


@pytest.mark.parametrize(("address", "script"), [*BIP173_VALID_V0.items(), *BIP350_VALID_ADDRESSES.items()])
def test_valid_segwit_addresses_give_their_script(address: str, script: str) -> None:
    found = v.segwit_decode(address)
    assert found is not None
    _, version, program = found
    assert _script(version, program) == script
    normalised, kind = v.bitcoin(address) or ("", "")
    assert normalised == address.lower() and kind.startswith(f"segwit-v{version}")


@pytest.mark.parametrize(
    "address", BIP173_INVALID_ADDRESSES + BIP350_INVALID_ADDRESSES + BIP173_SUPERSEDED_V1_PLUS
)
def test_invalid_segwit_addresses_are_rejected(address: str) -> None:
    assert v.segwit_decode(address) is None
    assert v.bitcoin(address) is None


# --- base58check: the genesis block's coinbase address and Bitcoin Core's key_io vectors ---------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "p2pkh"),  # genesis block coinbase output
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "p2sh"),  # BIP-13's example P2SH address
    ],
)
def test_base58check_addresses(address: str, kind: str) -> None:
    assert v.bitcoin(address) == (address, kind)


@pytest.mark.parametrize(
    "address",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # last character changed: checksum fails
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0",  # 0 is not a base58 character
        "1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # base58 is case-sensitive
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNL",  # one character short
    ],
)
def test_damaged_base58check_addresses_are_rejected(address: str) -> None:
    assert v.bitcoin(address) is None


# --- EIP-55 (https://github.com/ethereum/EIPs/blob/master/EIPS/eip-55.md, "Test Cases") ---------

EIP55_VECTORS = [
    # all caps
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    # all lower
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    # normal
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def test_hashlib_sha3_is_not_keccak() -> None:
    """Ethereum's Keccak-256 is the original Keccak padding, not FIPS 202 SHA3-256: the empty
    string hashes to c5d2...a470 under Keccak-256 (the Ethereum yellow paper's empty code hash)."""
    keccak_empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert v.keccak256(b"").hex() == keccak_empty
    assert hashlib.sha3_256(b"").hexdigest() != keccak_empty


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_eip55_vectors_are_their_own_checksum(address: str) -> None:
    """Every EIP-55 vector, all-caps and all-lower included, is the checksummed form of itself."""
    assert v._eip55(address[2:]) == address
    found = v.ethereum(address)
    assert found is not None and found[0] == address


@pytest.mark.parametrize("address", [a for a in EIP55_VECTORS if a[2:] not in (a[2:].lower(), a[2:].upper())])
def test_eip55_one_wrong_case_is_rejected(address: str) -> None:
    for i, c in enumerate(address):
        if i >= 2 and c.isalpha():
            broken = address[:i] + c.swapcase() + address[i + 1 :]
            assert v.ethereum(broken) is None, broken


def test_unchecksummed_ethereum_addresses_normalise_to_eip55() -> None:
    assert v.ethereum("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "unchecked",
    )
    assert v.ethereum("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae") is None  # 39 digits


# --- IBAN: the SWIFT IBAN Registry's "IBAN electronic format example" of each country ------------
# (SWIFT, IBAN Registry, ISO 13616-compliant national IBAN formats; the examples as published.)

IBAN_REGISTRY_EXAMPLES = [
    "AD1200012030200359100100",
    "AE070331234567890123456",
    "AL47212110090000000235698741",
    "AT611904300234573201",
    "AZ21NABZ00000000137010001944",
    "BA391290079401028494",
    "BE68539007547034",
    "BG80BNBG96611020345678",
    "BH67BMAG00001299123456",
    "BR1800360305000010009795493C1",
    "BY13NBRB3600900000002Z00AB00",
    "CH9300762011623852957",
    "CR05015202001026284066",
    "CY17002001280000001200527600",
    "CZ6508000000192000145399",
    "DE89370400440532013000",
    "DK5000400440116243",
    "DO28BAGR00000001212453611324",
    "EE382200221020145685",
    "EG380019000500000000263180002",
    "ES9121000418450200051332",
    "FI2112345600000785",
    "FO6264600001631634",
    "FR1420041010050500013M02606",
    "GB29NWBK60161331926819",
    "GE29NB0000000101904917",
    "GI75NWBK000000007099453",
    "GL8964710001000206",
    "GR1601101250000000012300695",
    "GT82TRAJ01020000001210029690",
    "HR1210010051863000160",
    "HU42117730161111101800000000",
    "IE29AIBK93115212345678",
    "IL620108000000099999999",
    "IS140159260076545510730339",
    "IT60X0542811101000000123456",
    "JO94CBJO0010000000000131000302",
    "KW81CBKU0000000000001234560101",
    "KZ86125KZT5004100100",
    "LB62099900000001001901229114",
    "LC55HEMM000100010012001200023015",
    "LI21088100002324013AA",
    "LT121000011101001000",
    "LU280019400644750000",
    "LV80BANK0000435195001",
    "LY83002048000020100120361",
    "MC5811222000010123456789030",
    "MD24AG000225100013104168",
    "ME25505000012345678951",
    "MK07250120000058984",
    "MR1300020001010000123456753",
    "MT84MALT011000012345MTLCAST001S",
    "MU17BOMM0101101030300200000MUR",
    "NL91ABNA0417164300",
    "NO9386011117947",
    "PK36SCBL0000001123456702",
    "PL61109010140000071219812874",
    "PS92PALS000000000400123456702",
    "PT50000201231234567890154",
    "QA58DOHB00001234567890ABCDEFG",
    "RO49AAAA1B31007593840000",
    "RS35260005601001611379",
    "SA0380000000608010167519",
    "SC18SSCB11010000000000001497USD",
    "SE4550000000058398257466",
    "SI56263300012039086",
    "SK3112000000198742637541",
    "SM86U0322509800000000270100",
    "ST68000100010051845310112",
    "SV62CENR00000000000000700025",
    "TL380080012345678910157",
    "TN5910006035183598478831",
    "TR330006100519786457841326",
    "UA213223130000026007233566001",
    "VA59001123000012345678",
    "VG96VPVG0000012345678901",
    "XK051212012345678906",
    "IQ98NBIQ850123456789012",
    "BI4210000100010000332045181",
    "DJ2100010000000154000100186",
    "NI45BAPR00000013000003558124",
    "MN121234123456789123",
    "OM810180000001299123456",
    "FK88SC123456789012",
    "YE15CBYE0001018861234567891234",
    "SD2129010501234001",
    "SO211000001001000100141",
    "RU0304452522540817810538091310419",
    "HN88CABF00000000000250005469",
]


@pytest.mark.parametrize("example", IBAN_REGISTRY_EXAMPLES)
def test_iban_registry_examples_are_valid(example: str) -> None:
    assert v.iban(example) == (example, example[:2])
    grouped = " ".join(example[i : i + 4] for i in range(0, len(example), 4))  # the print format
    assert v.iban(grouped.lower()) == (example, example[:2])


@pytest.mark.parametrize("example", IBAN_REGISTRY_EXAMPLES)
def test_iban_registry_examples_with_one_digit_changed_are_rejected(example: str) -> None:
    """ISO 7064 mod 97-10 detects every single substitution: change the last character."""
    last = example[-1]
    other = "0" if last != "0" else "1"
    if not last.isdigit():
        other = "A" if last != "A" else "B"
    assert v.iban(example[:-1] + other) is None
    assert v.iban(example[:-1]) is None  # one character short for its country


# --- payment cards ---------------------------------------------------------------------------------
# Stripe, "Testing" (docs.stripe.com/testing, "Cards by brand"); PayPal, "Credit card numbers for
# testing"; 79927398713 is the worked example of the Luhn algorithm (ISO/IEC 7812-1 annex B).

CARD_TEST_NUMBERS = {
    "4242424242424242": "visa",
    "4000056655665556": "visa",
    "4111111111111111": "visa",
    "4012888888881881": "visa",
    "5555555555554444": "mastercard",
    "2223003122003222": "mastercard",
    "5200828282828210": "mastercard",
    "5105105105105100": "mastercard",
    "378282246310005": "amex",
    "371449635398431": "amex",
    "6011111111111117": "discover",
    "6011000990139424": "discover",
    "6011981111111113": "discover",
    "3056930009020004": "diners",
    "36227206271667": "diners",
    "3566002020360505": "jcb",
    "6200000000000005": "unionpay",
}


@pytest.mark.parametrize(("number", "network"), CARD_TEST_NUMBERS.items())
def test_card_test_numbers_are_accepted(number: str, network: str) -> None:
    assert v.luhn_ok(number)
    assert v.card(number) == (number, network)
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    assert v.card(spaced) == (number, network)


@pytest.mark.parametrize("number", CARD_TEST_NUMBERS)
def test_card_numbers_with_one_digit_changed_fail_luhn(number: str) -> None:
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not v.luhn_ok(broken) and v.card(broken) is None


def test_luhn_example_and_issuer_ranges() -> None:
    assert v.luhn_ok("79927398713") and not v.luhn_ok("79927398710")
    assert v.card("79927398713") is None  # Luhn-valid, but no issuer's range or length
    assert v.card("4111111111111") is None  # Luhn-invalid 13-digit Visa-shaped number
    assert v.card("9111111111111111") is None  # no network starts with 9


# --- e-mail: syntax only, never a DNS lookup -------------------------------------------------------


def test_email_validation_never_resolves_a_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    import dns.resolver

    lookups: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        lookups.append(args)
        raise AssertionError(f"a DNS lookup was attempted: {args}")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(dns.resolver.Resolver, "resolve", refuse)
    monkeypatch.setattr(dns.resolver, "resolve", refuse)
    assert v.email("Jane.Doe@Example.ORG") == "Jane.Doe@example.org"
    assert v.email("suspect@no-such-domain-for-sure.invalid-tld-zz") == (
        "suspect@no-such-domain-for-sure.invalid-tld-zz"
    )
    assert v.email("not an address") is None
    assert v.email("two@@example.org") is None
    assert v.email("nodot@localhost") is None
    assert lookups == []


# --- URLs, also defanged ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "defanged"),
    [
        ("https://Example.COM/Path?q=1", "https://example.com/Path?q=1", False),
        ("hxxp://x[.]com", "http://x.com", True),
        ("hxxps://evil(.)example[dot]org/login", "https://evil.example.org/login", True),
        ("http[:]//bad{.}net/a", "http://bad.net/a", True),
        ("HXXPS://203.0.113.5:8080/x", "https://203.0.113.5:8080/x", True),
    ],
)
def test_urls_and_defanged_urls(text: str, expected: str, defanged: bool) -> None:
    assert v.url(text) == (expected, defanged)


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "http://localhost/",
        "http://no_tld",
        "http://a..b.com/",
        "http://x.com:99999999999/",
    ],
)
def test_not_urls(text: str) -> None:
    assert v.url(text) is None


def test_url_shortcuts_answer_as_the_full_checks() -> None:
    """``refang`` skips its replacements when the text holds no bracket and does not start with
    hx/fx; ``_host_ok`` tries a host as an IP address only when it starts with a digit or holds
    a colon. The oracle is each check done in full (every replacement applied, every host tried
    as an address) on hosts and URLs of every kind: names, IPv4 and IPv6 (with a zone), digits
    that are not addresses, non-ASCII digits and names, and random strings of their characters."""
    import ipaddress
    import random

    def refang_in_full(text: str) -> str:
        out = text.strip()
        for pattern, repl in v._REFANG:
            out = pattern.sub(repl, out)
        return out

    def host_ok_in_full(host: str) -> bool:
        try:
            ipaddress.ip_address(host.strip("[]"))
            return True
        except ValueError:
            return v._name_ok(host)

    hosts = [
        "example.org", "203.0.113.5", "[2001:db8::1]", "2001:db8::1", "fe80::1%eth0", "1.2.3", "1.2.3.4.5",
        "1example.org", "::", "[::ffff:192.0.2.1]", "٣.٣.٣.٣", "bücher.example", "a..bc", "a.bc..", "",
        "256.1.1.1", "01.2.3.4", "x:y", "[v1.x]",
    ]  # fmt: skip
    rng = random.Random(3)
    hosts += [
        "".join(rng.choice("0123456789abcdef.:[]%x٣é") for _ in range(rng.randrange(1, 20)))
        for _ in range(4000)
    ]
    for host in hosts:
        assert v._host_ok(host) == host_ok_in_full(host), host
    texts = [
        "hxxp://x[.]com", "HXXPS://a(.)b", "Fxp://f{dot}g", "http[:]//a.b", "hx", "fx", "  hxxp://x.com  ",
        "http://a.b/(x)", "https://x.org/[a]", "ftp://y.net/{z}", "hXxP://u.v", "fxp://files.example.net", "FXP://x.y",
    ]  # fmt: skip
    texts += [
        "".join(rng.choice("hxHXfFtp:/[](){}. dot") for _ in range(rng.randrange(1, 24))) for _ in range(4000)
    ]
    for text in texts:
        assert v.refang(text) == refang_in_full(text), text


def test_phone_numbers_are_valid_ones_in_e164() -> None:
    assert v.phone("+44 20 7946 0958") == "+442079460958"
    assert v.phone("(202) 456-1111", "US") == "+12024561111"
    assert v.phone("202 456 1111") is None  # no region: cannot be placed
    assert v.phone("+1 555 0100") is None  # not a valid number
