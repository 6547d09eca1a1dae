"""Independent time: RFC 3161 time-stamps of checkpoints.

A checkpoint says what the ledger held; its ``time`` is the recording computer's clock. A
Time-Stamp Authority (TSA) signs, with its own clock, that a given hash existed at a given time.
Exhibit asks a TSA to time-stamp a checkpoint's canonical body (the exact text that is signed,
``checkpoint_canonical``, hashed with SHA-256: the token's message imprint), verifies the answer
at once (status granted, our nonce, imprint, signature chaining to the CA certificate the case was
given) and keeps the whole DER response with the CA certificate, append-only, in
``checkpoint_timestamps``. :func:`check` verifies every token again and compares the entries'
recorded times with the TSA's (docs/custody.md, "Time-stamps").

The only network access of Exhibit: an HTTP POST of a 90-byte request (the hash, never evidence
or case data) to the TSA URL the user configured (``application/timestamp-query``).
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from custody import timefmt
from custody.errors import CustodyError
from custody.ledger import StoredCheckpoint, json_loads
from custody.store.sql import Database

CONTENT_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_REPLY = 256 * 1024  # a token with its certificates is a few KiB
MAX_CA_FILE = 256 * 1024
TIMEOUT = 30.0
#: How far an entry's recorded time may pass the time-stamp of a checkpoint that covers it (or
#: precede the time-stamp of a checkpoint it comes after) before it is a clock anomaly, beyond the
#: accuracy the TSA states: the request follows the checkpoint by a network round trip.
CLOCK_SLACK = timedelta(seconds=60)


class TimestampError(CustodyError):
    """A time-stamp could not be obtained or does not verify."""


@dataclass(frozen=True)
class StoredTimestamp:
    id: int
    tree_size: int
    root: str
    tsa_url: str
    ca_pem: str
    token: bytes
    gen_time: str
    recorded_utc: str

    def as_dict(self) -> dict[str, Any]:
        """The export form: the token and CA certificate included, so it verifies elsewhere."""
        return {
            "tree_size": self.tree_size,
            "root": self.root,
            "tsa_url": self.tsa_url,
            "gen_time": self.gen_time,
            "recorded_utc": self.recorded_utc,
            "token_der_base64": base64.b64encode(self.token).decode("ascii"),
            "ca_pem": self.ca_pem,
            "ca_sha256": ca_fingerprint(self.ca_pem),
        }


def from_export(position: int, item: Any) -> StoredTimestamp:
    """A token of a JSON export (:meth:`StoredTimestamp.as_dict`); what is malformed is kept
    malformed, for :func:`check_tokens` to report as TIMESTAMP_INVALID."""
    item = item if isinstance(item, dict) else {}
    try:
        token = base64.b64decode(str(item.get("token_der_base64")), validate=True)
    except ValueError:
        token = b""
    size = item.get("tree_size")
    return StoredTimestamp(
        id=position,
        tree_size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
        root=str(item.get("root")),
        tsa_url=str(item.get("tsa_url")),
        ca_pem=str(item.get("ca_pem")),
        token=token,
        gen_time=str(item.get("gen_time")),
        recorded_utc=str(item.get("recorded_utc")),
    )


# -- certificates ---------------------------------------------------------------------------------


def load_ca(path: Path) -> str:
    """The PEM text of the CA certificate file ``path`` (checked to hold one X.509 certificate)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CA_FILE + 1)
    except OSError as exc:
        raise TimestampError(
            f"cannot read the TSA certificate {path}: {exc.strerror or exc}",
            hint="give the PEM file of the CA certificate the TSA's certificate chains to (--tsa-ca)",
        ) from None
    if len(data) > MAX_CA_FILE:
        raise TimestampError(f"{path} is larger than 256 KiB: not a certificate file")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TimestampError(
            f"{path} holds no PEM certificate", hint="convert a DER file with 'openssl x509 -inform der'"
        ) from None
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)


def _certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode("ascii"))


def ca_fingerprint(pem: str) -> str:
    """SHA-256 of the first certificate's DER (what ``openssl x509 -fingerprint -sha256`` shows)."""
    return _certificates(pem)[0].fingerprint(hashes.SHA256()).hex()


def _check_url(url: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise TimestampError(
            f"TSA URL {url!r} is not http:// or https://", hint="give the TSA's RFC 3161 HTTP address"
        )


# -- obtaining ------------------------------------------------------------------------------------


def _verifier(pem: str, nonce: int | None = None) -> Any:
    builder = VerifierBuilder()
    for cert in _certificates(pem):
        builder = builder.add_root_certificate(cert)
    if nonce is not None:
        builder = builder.nonce(nonce)
    return builder.build()


def request_token(url: str, message: bytes, ca_pem: str, timeout: float = TIMEOUT) -> TimeStampResponse:
    """Ask the TSA at ``url`` to time-stamp ``message`` (SHA-256) and verify its answer."""
    _check_url(url)
    request = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    http = urllib.request.Request(
        url, data=request.as_bytes(), method="POST", headers={"Content-Type": CONTENT_TYPE}
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as reply:
            body = reply.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampError(
            f"the TSA at {url} answered HTTP {exc.code} {exc.reason}", hint="check the TSA URL"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampError(
            f"cannot reach the TSA at {url}: {reason}",
            hint="check the URL and the network; the checkpoint stays valid without a time-stamp",
        ) from None
    if len(body) > MAX_REPLY:
        raise TimestampError(f"the TSA at {url} answered more than 256 KiB: not a time-stamp reply")
    try:
        response = decode_timestamp_response(body)
    except Exception as exc:  # the parser raises its own error types for malformed DER
        raise TimestampError(f"the TSA at {url} did not answer a time-stamp reply: {exc}") from None
    try:
        _verifier(ca_pem, request.nonce).verify_message(response, message)
    except VerificationError as exc:
        raise TimestampError(
            f"the time-stamp from {url} does not verify: {plain_reason(exc)}",
            hint="check that --tsa-ca is the CA certificate of this TSA",
        ) from None
    return response


#: What the verifier's messages mean, in the words of the check that failed (found in review: the
#: raw OpenSSL error stacks of rfc3161-client were all a reader got). Searched in order.
_REASONS = (
    (
        "Mismatch between messages",
        "its message imprint is not the SHA-256 of this checkpoint (a token of "
        "another document, or a checkpoint altered since)",
    ),
    (
        "unable to get local issuer certificate",
        "its signing certificate does not chain to the kept CA "
        "certificate (a token of another TSA, or another CA kept)",
    ),
    ("self-signed certificate", "its signing certificate does not chain to the kept CA certificate"),
    ("certificate verify error", "its signing certificate does not verify against the kept CA certificate"),
    ("signature failure", "its signature does not match its content (the token was altered)"),
    ("digest failure", "its signature does not match its content (the token was altered)"),
    ("Nonce mismatch", "its nonce is not the one asked for (a replayed answer)"),
)
_DETAIL = re.compile(r'(?:data|reason): "([^"]{1,200})"')


def plain_reason(exc: BaseException) -> str:
    """Why a token does not verify, in plain words, with the verifier's own reason after it."""
    text = str(exc)
    said = next((plain for marker, plain in _REASONS if marker in text), "it does not verify")
    details = _DETAIL.findall(text)
    detail = "; ".join(dict.fromkeys(details)) if details else text.splitlines()[0][:200] if text else ""
    return f"{said} [verifier: {detail}]" if detail and detail not in said else said


def _gen_time(response: TimeStampResponse) -> datetime:
    gen = response.tst_info.gen_time
    return gen if gen.tzinfo else gen.replace(tzinfo=UTC)


def _accuracy(response: TimeStampResponse) -> timedelta:
    acc = response.tst_info.accuracy
    if acc is None:
        return timedelta(0)
    return timedelta(seconds=acc.seconds or 0, milliseconds=acc.millis or 0, microseconds=acc.micros or 0)


def timestamp_checkpoint(
    database: Database, checkpoint: StoredCheckpoint, url: str, ca_pem: str
) -> StoredTimestamp:
    """Time-stamp ``checkpoint`` at the TSA ``url`` and store the token (verified first)."""
    response = request_token(url, checkpoint.body.encode("utf-8"), ca_pem)
    gen = timefmt.format_utc(_gen_time(response))
    now = timefmt.stamp().utc
    row = {
        "tree_size": checkpoint.tree_size,
        "root": checkpoint.root,
        "tsa_url": url,
        "ca_pem": ca_pem,
        "token": response.as_bytes(),
        "gen_time": gen,
        "recorded_utc": now,
    }
    with database.write() as session:
        new_id = session.first(
            "INSERT INTO checkpoint_timestamps (tree_size, root, tsa_url, ca_pem, token, gen_time, "
            "recorded_utc) VALUES (:tree_size, :root, :tsa_url, :ca_pem, :token, :gen_time, :recorded_utc) "
            "RETURNING id",
            row,
        )
    return StoredTimestamp(id=int(new_id[0]) if new_id else 0, **row)  # type: ignore[arg-type]


def configure(database: Database, url: str, ca_pem: str, *, auto: bool) -> None:
    """Record the case's TSA (the latest row applies; read back by :meth:`Case.tsa`)."""
    _check_url(url)
    with database.write() as session:
        session.run(
            "INSERT INTO tsa_config (url, ca_pem, auto, added_utc) VALUES (:url, :ca_pem, :auto, :added_utc)",
            {"url": url, "ca_pem": ca_pem, "auto": auto, "added_utc": timefmt.stamp().utc},
        )


def stored(database: Database) -> list[StoredTimestamp]:
    with database.read() as session:
        rows = list(
            session.rows(
                "SELECT id, tree_size, root, tsa_url, ca_pem, token, gen_time, recorded_utc "
                "FROM checkpoint_timestamps ORDER BY id"
            )
        )
    return [
        StoredTimestamp(id_, int(size), root, tsa, ca, bytes(token), gen, recorded)
        for id_, size, root, tsa, ca, token, gen, recorded in rows
    ]


# -- checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimestampProblem:
    code: str  # TIMESTAMP_INVALID or CLOCK_ANOMALY
    seq: int | None
    detail: str


@dataclass(frozen=True)
class Verified:
    """A token that verified: the checkpoint size it covers and the TSA's time (and accuracy)."""

    tree_size: int
    gen_time: datetime
    accuracy: timedelta
    tsa_url: str


def check_tokens(
    tokens: Iterable[StoredTimestamp], checkpoints: Iterable[StoredCheckpoint]
) -> tuple[list[Verified], list[TimestampProblem]]:
    """Verify every token against the checkpoint body it claims to time-stamp."""
    bodies: dict[tuple[int, str], str] = {(c.tree_size, c.root): c.body for c in checkpoints}
    good: list[Verified] = []
    problems: list[TimestampProblem] = []
    for token in tokens:
        where = f"time-stamp {token.id} of checkpoint {token.tree_size} ({token.tsa_url})"
        body = bodies.get((token.tree_size, token.root))
        if body is None:
            problems.append(
                TimestampProblem(
                    "TIMESTAMP_INVALID", None, f"{where}: no stored checkpoint has this size and root"
                )
            )
            continue
        try:
            response = decode_timestamp_response(token.token)
            _verifier(token.ca_pem).verify_message(response, body.encode("utf-8"))
        except VerificationError as exc:
            problems.append(TimestampProblem("TIMESTAMP_INVALID", None, f"{where}: {plain_reason(exc)}"))
            continue
        except Exception as exc:  # malformed DER or certificate: the parser's own error types
            problems.append(TimestampProblem("TIMESTAMP_INVALID", None, f"{where}: unreadable token ({exc})"))
            continue
        gen = _gen_time(response)
        if timefmt.format_utc(gen) != token.gen_time:
            problems.append(
                TimestampProblem(
                    "TIMESTAMP_INVALID",
                    None,
                    f"{where}: stored time {token.gen_time} differs from the token's {timefmt.format_utc(gen)}",
                )
            )
            continue
        good.append(Verified(token.tree_size, gen, _accuracy(response), token.tsa_url))
    return good, problems


def clock_problems(
    verified: list[Verified], recorded: Iterable[tuple[int, str | None]]
) -> Iterator[TimestampProblem]:
    """Entries whose recorded time contradicts a TSA's: recorded after the time-stamp of a checkpoint
    that already held them, or before the time-stamp of a checkpoint they come after.

    ``recorded`` is ``(seq, recorded.utc)`` in ``seq`` order. For an entry, the binding bounds are
    the earliest time-stamp of a checkpoint that holds it and the latest of one that precedes it.
    """
    if not verified:
        return
    by_size = sorted(verified, key=lambda v: v.tree_size)
    # suffix[i]: the token with the earliest (time + accuracy) among by_size[i:]
    suffix: list[Verified] = list(by_size)
    for i in range(len(by_size) - 2, -1, -1):
        a, b = by_size[i], suffix[i + 1]
        suffix[i] = a if a.gen_time + a.accuracy <= b.gen_time + b.accuracy else b
    nxt = 0  # by_size[:nxt] are the tokens of checkpoints before the entry
    latest: Verified | None = None
    for seq, utc in recorded:
        while nxt < len(by_size) and by_size[nxt].tree_size < seq:
            v = by_size[nxt]
            if latest is None or v.gen_time - v.accuracy > latest.gen_time - latest.accuracy:
                latest = v
            nxt += 1
        if utc is None:
            continue
        try:
            when = timefmt.parse_utc(utc)
        except ValueError:
            continue  # the ledger check reports an unreadable time
        if nxt < len(by_size):
            cover = suffix[nxt]
            if when > cover.gen_time + cover.accuracy + CLOCK_SLACK:
                yield TimestampProblem(
                    "CLOCK_ANOMALY",
                    seq,
                    f"recorded at {utc}, but checkpoint {cover.tree_size}, which already holds this entry, "
                    f"was time-stamped at {timefmt.format_utc(cover.gen_time)} by {cover.tsa_url}",
                )
                continue
        if latest is not None and when < latest.gen_time - latest.accuracy - CLOCK_SLACK:
            yield TimestampProblem(
                "CLOCK_ANOMALY",
                seq,
                f"recorded at {utc}, before {timefmt.format_utc(latest.gen_time)}, when {latest.tsa_url} "
                f"time-stamped checkpoint {latest.tree_size}, which this entry comes after",
            )


def recorded_times(rows: Iterable[Any]) -> Iterator[tuple[int, str | None]]:
    """``(seq, recorded.utc)`` of ledger rows as given by ``Ledger.entry_rows`` (from the signed body)."""
    for row in rows:
        seq, body = int(row[0]), row[6]
        try:
            recorded = json_loads(body).get("recorded") or {}
            utc = recorded.get("utc") if isinstance(recorded, dict) else None
        except Exception:
            utc = None
        yield seq, utc if isinstance(utc, str) else None
