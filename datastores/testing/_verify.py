"""Server-side checks of exchange HTTP signatures, for fake exchanges.

Each verifier re-implements one exchange's documented rule from the server's
point of view: it finds the secret by the API key the request presents,
recomputes the signature over what was actually received, and checks the time
window. They are written separately from the signers in
``datastores.exchanges.*.signing`` (nothing is imported from them), so a signer
and its verifier agreeing is evidence, not tautology.

A verifier raises :class:`Rejected` (with a ``kind``: ``"key"``,
``"signature"``, ``"timestamp"`` or ``"missing"``) or returns normally.

This module holds what the verifiers share (the request and key types, the
helpers); each exchange's verifier and its error answer live with the rest of
its fake, in ``datastores/testing/profiles/<exchange>/verifier.py`` (a
module-level ``SCHEMES`` of :class:`SigningScheme`), and
:func:`datastores.testing.profiles.signing_schemes` finds them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "FakeKey",
    "ReceivedRequest",
    "Rejected",
    "SigningScheme",
    "Verifier",
    "check_same",
    "check_within",
    "form_param",
    "header",
    "iso_ms",
    "lookup_key",
    "now_ms",
    "parse_int",
    "sign_b64",
    "sign_hex",
    "strip_signature",
    "target",
    "verify_ok_access",
]


@dataclass(frozen=True)
class FakeKey:
    """An API key the fake exchange knows. ``repr()`` hides the secret.

    Attributes:
        key: the key id the client presents (for Hyperliquid: the account address).
        secret: the HMAC secret (for Hyperliquid: the private key).
        passphrase: the passphrase, where the exchange has one.
        demo: a demo-trading key (OKX ``x-simulated-trading``, Bitget ``paptrading``).
    """

    key: str
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    demo: bool = False


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the exchange sees it (host is the real exchange host)."""

    method: str
    host: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    async def of(cls, request: web.Request, host: str) -> ReceivedRequest:
        """What a fake server received, as the exchange ``host`` sees it: the method,
        the decoded path, the raw query string, the headers and the body."""
        return cls(
            request.method,
            host,
            request.path,
            request.rel_url.raw_query_string,
            request.headers,
            await request.read(),
        )


class Rejected(Exception):
    """The request does not pass the exchange's authentication."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


Verifier = Callable[[ReceivedRequest, Mapping[str, FakeKey], float], None]
"""Checks one request against the known keys at server time ``now`` (epoch seconds)."""


@dataclass(frozen=True)
class SigningScheme:
    """One exchange host's signature rule as a fake server applies it.

    Attributes:
        host: the real host a :class:`~datastores.testing.SignedServer` stands in for.
        verifier: makes the verifier for one server (a fresh one: some keep state,
            e.g. Coincheck's growing nonces).
        error: the exchange's (HTTP status, JSON body) for a :class:`Rejected` request,
            modelled on its documented error bodies.
    """

    host: str
    verifier: Callable[[], Verifier]
    error: Callable[[Rejected], tuple[int, Any]]


def now_ms() -> int:
    """The wall clock in epoch milliseconds (error bodies that carry a server time)."""
    return int(time.time() * 1000)


def sign_hex(secret: str, data: bytes) -> str:
    """Hex HMAC-SHA256 of ``data`` under ``secret``."""
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def sign_b64(secret: str, data: bytes) -> str:
    """Base64 HMAC-SHA256 of ``data`` under ``secret``."""
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def header(request: ReceivedRequest, name: str) -> str:
    """The header ``name``; :class:`Rejected` (``missing``) when absent or empty."""
    value = request.headers.get(name)
    if not value:
        raise Rejected("missing", f"header {name} is missing")
    return value


def lookup_key(keys: Mapping[str, FakeKey], key: str) -> FakeKey:
    """The known key ``key`` names; :class:`Rejected` (``key``) otherwise."""
    found = keys.get(key)
    if found is None:
        raise Rejected("key", "unknown API key")
    return found


def check_same(expected: str, given: str, *, case_insensitive: bool = False) -> None:
    """Raise :class:`Rejected` (``signature``) unless the signatures match (constant time)."""
    if case_insensitive:
        expected, given = expected.lower(), given.lower()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Rejected("signature", "signature mismatch")


def parse_int(text: str, what: str) -> int:
    """``text`` as an integer; :class:`Rejected` (``missing``) otherwise."""
    try:
        return int(text)
    except ValueError:
        raise Rejected("missing", f"{what} is not an integer") from None


def check_within(timestamp_ms: int, now: float, *, past_ms: int, future_ms: int) -> None:
    """Raise :class:`Rejected` (``timestamp``) unless the time is within the window."""
    now_ms = now * 1000
    if timestamp_ms > now_ms + future_ms or now_ms - timestamp_ms > past_ms:
        raise Rejected("timestamp", "timestamp outside the accepted window")


def target(request: ReceivedRequest) -> str:
    """``path?query`` as received (``path`` alone without a query)."""
    return request.path + ("?" + request.query if request.query else "")


def iso_ms(text: str) -> int:
    """An ISO-8601 UTC time with milliseconds as epoch milliseconds."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Rejected("missing", "timestamp is not ISO-8601 with milliseconds") from None
    return round(moment.timestamp() * 1000)


def verify_ok_access(
    request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float, demo_header: bool
) -> None:
    """The ``OK-ACCESS-*`` rule OKX and OKJ share: Base64 HMAC of ISO time + method +
    path?query + body, 30 s window, the passphrase, and demo keys only with the demo header."""
    found = lookup_key(keys, header(request, "OK-ACCESS-KEY"))
    if found.passphrase != request.headers.get("OK-ACCESS-PASSPHRASE"):
        raise Rejected("key", "wrong passphrase")
    if found.demo != demo_header:
        raise Rejected("key", "demo keys are for demo trading only, and the other way round")
    stamp = header(request, "OK-ACCESS-TIMESTAMP")
    check_within(iso_ms(stamp), now, past_ms=30_000, future_ms=30_000)
    payload = (stamp + request.method + target(request)).encode() + request.body
    check_same(sign_b64(found.secret, payload), header(request, "OK-ACCESS-SIGN"))


def strip_signature(query: str, name: str = "signature") -> tuple[str, str | None]:
    """Split ``&signature=...`` off the raw query (it must come last)."""
    marker = f"{name}="
    if query.startswith(marker):
        return "", query[len(marker) :]
    head, sep, tail = query.rpartition("&" + marker)
    if not sep or "&" in tail:
        return query, None
    return head, tail


def form_param(query: str, body: bytes, name: str) -> str | None:
    """The parameter ``name`` from the query, else from a form body; ``None`` if absent."""
    for source in (query, body.decode("latin-1")):
        for key, value in parse_qsl(source, keep_blank_values=True):
            if key == name:
                return value
    return None
