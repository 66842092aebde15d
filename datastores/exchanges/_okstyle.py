"""The "OK-style" signing rules that OKX, OKJ (OKCoin Japan) and Bitget share.

* REST: ``<prefix>SIGN`` is the Base64 HMAC-SHA256 of ``timestamp + METHOD +
  path-with-query + body``, sent with ``<prefix>KEY``, ``<prefix>TIMESTAMP`` and
  ``<prefix>PASSPHRASE`` (prefix ``OK-ACCESS-`` for OKX/OKJ, ``ACCESS-`` for
  Bitget). https://www.okx.com/docs-v5/en/#overview-rest-authentication,
  https://www.bitget.com/api-doc/common/signature
* WebSocket: ``{"op": "login", ...}`` whose sign is the Base64 HMAC-SHA256 of
  ``timestamp + "GET" + <verify path>`` (``/users/self/verify`` for OKX/OKJ,
  ``/user/verify`` for Bitget).

What differs (header prefix, timestamp format, verify path, the login's
argument layout, which reply codes mean success) is passed in by each
exchange's ``signing.py`` / ``wsproto.py``, which keep their own ``HTTP_AUTH``
and ``WS_PROTOCOL``. This module is not an exchange package: the host registry
discovers subpackages only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timezone

from .._credentials import Credentials
from .._signing import SignedRequest, SigningInput, hmac_sha256_b64, path_with_query
from .._ws.protocol import Frame, LoginReply, Outgoing

__all__ = [
    "iso_timestamp",
    "login_message",
    "login_reply",
    "login_sign",
    "message",
    "sign_request",
]


def iso_timestamp(now: float) -> str:
    """``now`` (epoch seconds) as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (OKX, OKJ REST)."""
    millis = int(now * 1000)
    moment = datetime.fromtimestamp(millis // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def message(timestamp: str, method: str, path_query: str, body: bytes) -> bytes:
    """The string an OK-style exchange signs for a REST request, as bytes."""
    return (timestamp + method + path_query).encode() + body


def sign_request(inp: SigningInput, timestamp: str, header_prefix: str) -> SignedRequest:
    """``inp`` with the four ``<header_prefix>KEY/SIGN/TIMESTAMP/PASSPHRASE`` headers.

    ``timestamp`` is already in the exchange's format; the body is sent as given.
    """
    signature = hmac_sha256_b64(
        inp.credentials.secret_bytes,
        message(timestamp, inp.method, path_with_query(inp.url), inp.body),
    )
    headers = {
        f"{header_prefix}KEY": inp.credentials.key,
        f"{header_prefix}SIGN": signature,
        f"{header_prefix}TIMESTAMP": timestamp,
        f"{header_prefix}PASSPHRASE": inp.credentials.passphrase,
        "Content-Type": "application/json",
    }
    return SignedRequest(inp.url, headers, inp.body)


def login_sign(credentials: Credentials, timestamp: str, verify_path: str) -> str:
    """The WebSocket login signature: Base64 HMAC-SHA256 of ``timestamp + "GET" + verify_path``."""
    return hmac_sha256_b64(credentials.secret_bytes, timestamp + "GET" + verify_path)


def login_message(credentials: Credentials, timestamp: str, verify_path: str) -> Outgoing:
    """``{"op": "login", "args": [{apiKey, passphrase, timestamp, sign}]}`` (OKX v5, Bitget)."""
    return {
        "op": "login",
        "args": [
            {
                "apiKey": credentials.key,
                "passphrase": credentials.passphrase,
                "timestamp": timestamp,
                "sign": login_sign(credentials, timestamp, verify_path),
            }
        ],
    }


def login_reply(frame: Frame, success_codes: Collection[str]) -> LoginReply | None:
    """``event: login`` (success when ``code``, default ``"0"``, is in ``success_codes``)
    or ``event: error`` (refusal); ``None`` for any other frame (OKX v5, Bitget)."""
    event = frame.get("event")
    if event == "login":
        code = frame.get("code", "0")
        if str(code) in success_codes:
            return LoginReply(True)
        return LoginReply(False, f"{frame.get('msg', '')} (code {code})".strip())
    if event == "error":
        return LoginReply(False, f"{frame.get('msg', '')} (code {frame.get('code')})".strip())
    return None
