"""OKX v5 HTTP signing, production and demo trading.

Rule (https://www.okx.com/docs-v5/en/#overview-rest-authentication):
``OK-ACCESS-SIGN`` is the Base64 HMAC-SHA256 of ``timestamp + METHOD +
requestPath + body``; ``requestPath`` includes the query string
(``/api/v5/account/balance?ccy=BTC``) and the timestamp is ISO-8601 UTC with
milliseconds (``2020-12-08T09:08:57.715Z``). Requests expire 30 s after it.

Demo trading uses the same hosts plus the header ``x-simulated-trading: 1`` and
separate keys: such requests are signed with the ``okx_demo`` credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from yarl import URL

from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_b64, path_with_query

__all__ = ["HOSTS", "HTTP_AUTH", "credential_name", "iso_timestamp", "message", "sign"]

HOSTS = {
    "www.okx.com": "okx",
    "aws.okx.com": "okx",
    "my.okx.com": "okx",
    "app.okx.com": "okx",
}


def iso_timestamp(now: float) -> str:
    """``now`` (epoch seconds) as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    millis = int(now * 1000)
    moment = datetime.fromtimestamp(millis // 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def message(timestamp: str, method: str, path_query: str, body: bytes) -> bytes:
    """The string OKX signs, as bytes."""
    return (timestamp + method + path_query).encode() + body


def sign(inp: SigningInput) -> SignedRequest:
    """Add the ``OK-ACCESS-*`` headers."""
    timestamp = iso_timestamp(inp.now)
    signature = hmac_sha256_b64(
        inp.credentials.secret_bytes,
        message(timestamp, inp.method, path_with_query(inp.url), inp.body),
    )
    headers = {
        "OK-ACCESS-KEY": inp.credentials.key,
        "OK-ACCESS-SIGN": signature,
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": inp.credentials.passphrase,
        "Content-Type": "application/json",
    }
    return SignedRequest(inp.url, headers, inp.body)


def credential_name(default: str, url: URL, headers: Mapping[str, str]) -> str:
    """``okx_demo`` for demo-trading requests (``x-simulated-trading: 1``)."""
    return "okx_demo" if headers.get("x-simulated-trading") == "1" else default


HTTP_AUTH = HttpAuth(
    exchange="okx", hosts=HOSTS, body_format="json", sign=sign, credential_name=credential_name
)
