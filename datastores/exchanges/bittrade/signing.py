"""BitTrade HTTP signing (Huobi-style signature version 2).

Rule (BitTrade API docs, Huobi signature version 2): the query gets
``AccessKeyId``, ``SignatureMethod=HmacSHA256``, ``SignatureVersion=2`` and
``Timestamp`` (UTC ``YYYY-MM-DDThh:mm:ss``); all query parameters are sorted by
name and percent-encoded; ``Signature`` is the Base64 HMAC-SHA256 of
``METHOD\\nhost\\npath\\nsortedQuery`` and is appended last. The query is sent in
exactly the signed order and encoding. JSON bodies are not signed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote

from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput, hmac_sha256_b64, with_raw_query

__all__ = ["HOSTS", "HTTP_AUTH", "canonical_query", "message", "sign"]

HOSTS = {"api-cloud.bittrade.co.jp": "bittrade"}


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    """Parameters sorted by name, then value, percent-encoded (RFC 3986 unreserved kept)."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs))


def message(method: str, host: str, path: str, query: str) -> str:
    """The string BitTrade signs."""
    return f"{method}\n{host.lower()}\n{path}\n{query}"


def sign(inp: SigningInput) -> SignedRequest:
    """Add the signature parameters to the query."""
    timestamp = datetime.fromtimestamp(int(inp.now), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    pairs = parse_qsl(inp.url.raw_query_string, keep_blank_values=True)
    pairs += [
        ("AccessKeyId", inp.credentials.key),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", timestamp),
    ]
    query = canonical_query(pairs)
    signature = hmac_sha256_b64(
        inp.credentials.secret_bytes,
        message(inp.method, inp.url.host or "", inp.url.raw_path, query),
    )
    query += "&Signature=" + _encode(signature)
    return SignedRequest(with_raw_query(inp.url, query), {}, inp.body)


HTTP_AUTH = HttpAuth(exchange="bittrade", hosts=HOSTS, body_format="json", sign=sign)

register_http_auth(HTTP_AUTH)
