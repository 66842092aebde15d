"""The signing interface shared by every exchange.

A signer is a pure function ``sign(SigningInput) -> SignedRequest``: no session
state, the clock passed in as ``now``, so golden vectors from exchange docs are
tested without patching time. Each exchange module declares one
:class:`HttpAuth` describing its hosts, how ``data=`` is encoded, and its signer;
each registers it with :func:`datastores._registry.register_http_auth`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from yarl import URL

from . import _json
from ._credentials import Credentials

__all__ = [
    "BodyFormat",
    "HttpAuth",
    "SignedRequest",
    "SigningInput",
    "encode_body",
    "hmac_sha256_b64",
    "hmac_sha256_hex",
    "path_with_query",
    "with_raw_query",
]

BodyFormat = Literal["json", "form"]


@dataclass(frozen=True, slots=True)
class SigningInput:
    """Everything a signer may look at.

    Attributes:
        method: upper-case HTTP method.
        url: the full request URL, with ``params`` already merged into its query
            (query kept exactly as it will be sent: ``url.raw_query_string``).
        body: the exact body bytes that will be sent (``b""`` when none).
        headers: headers the caller passed (some signers read e.g. a recv-window header).
        credentials: the credentials chosen for this host.
        now: current time, seconds since the epoch (float).
    """

    method: str
    url: URL
    body: bytes
    headers: Mapping[str, str]
    credentials: Credentials
    now: float


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signer returns: the URL, extra headers and body to send.

    ``repr()`` leaves out headers and body: some exchanges send the passphrase
    itself as a header (OKX, Bitget).
    """

    url: URL
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: bytes = field(default=b"", repr=False)


Signer = Callable[[SigningInput], SignedRequest]


@dataclass(frozen=True, slots=True)
class HttpAuth:
    """One exchange's HTTP signing, as registered in the host table.

    Attributes:
        exchange: exchange name used in logs and errors (``"binance"``).
        hosts: host -> credential name (``{"api.binance.com": "binance"}``).
        body_format: how a ``data=`` mapping is encoded before signing.
        sign: the pure signer.
        credential_name: optional override choosing the credential name from the
            host's default, the URL and the caller's headers (OKX demo trading).
        applies: optional predicate on the URL; ``False`` sends the request unsigned
            (e.g. Hyperliquid's ``/info``).
    """

    exchange: str
    hosts: Mapping[str, str]
    body_format: BodyFormat
    sign: Signer
    credential_name: Callable[[str, URL, Mapping[str, str]], str] | None = None
    applies: Callable[[URL], bool] | None = None


def encode_body(data: Any, body_format: BodyFormat) -> tuple[bytes, str | None]:
    """Encode a ``data=`` value to the bytes that are signed and sent.

    Returns ``(body, content_type)``. ``None`` or an empty mapping gives ``b""``.
    ``bytes``/``str`` pass through unchanged (the caller already encoded them).
    """
    if data is None:
        return b"", None
    if isinstance(data, bytes):
        return data, None
    if isinstance(data, str):
        return data.encode(), None
    if isinstance(data, Mapping) and not data:
        return b"", None
    if body_format == "json":
        return _json.dumps_bytes(data), "application/json"
    if isinstance(data, Mapping):
        return urlencode(list(data.items()), doseq=True).encode(), (
            "application/x-www-form-urlencoded"
        )
    return urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"


def hmac_sha256_hex(secret: bytes, message: str | bytes) -> str:
    """Lower-case hex HMAC-SHA256."""
    if isinstance(message, str):
        message = message.encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def hmac_sha256_b64(secret: bytes, message: str | bytes) -> str:
    """Base64 HMAC-SHA256."""
    if isinstance(message, str):
        message = message.encode()
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


def path_with_query(url: URL) -> str:
    """The raw path plus ``?query`` when there is one, exactly as sent."""
    query = url.raw_query_string
    return url.raw_path + ("?" + query if query else "")


def with_raw_query(url: URL, query: str) -> URL:
    """``url`` with its query replaced by ``query``, taken as already encoded (sent as is)."""
    return URL.build(
        scheme=url.scheme,
        user=url.raw_user,
        password=url.raw_password,
        host=url.raw_host or "",
        port=url.explicit_port,
        path=url.raw_path,
        query_string=query,
        fragment=url.raw_fragment,
        encoded=True,
    )
