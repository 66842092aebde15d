"""Hyperliquid ``/exchange`` signing (EIP-712 with the account's private key).

``POST /exchange`` bodies ``{"action": ..., "nonce"?, "vaultAddress"?,
"expiresAfter"?}`` get ``nonce`` (current milliseconds) and ``signature`` filled
in when the caller left them out (see :mod:`datastores.helpers.hyperliquid`).
``/info`` is sent unsigned (as JSON). The credential is ``[private_key]``;
mainnet or testnet signing follows the host. Needs the ``hyperliquid`` extra.
"""

from __future__ import annotations

from yarl import URL

from ... import _json
from ..._errors import ConfigurationError
from ..._registry import register_http_auth
from ..._signing import HttpAuth, SignedRequest, SigningInput

__all__ = ["HOSTS", "HTTP_AUTH", "sign"]

HOSTS = {
    "api.hyperliquid.xyz": "hyperliquid",
    "api.hyperliquid-testnet.xyz": "hyperliquid_testnet",
}


def sign(inp: SigningInput) -> SignedRequest:
    """Fill ``nonce`` and ``signature`` into the JSON body."""
    from ...helpers.hyperliquid import sign_exchange_payload

    try:
        payload = _json.loads(inp.body) if inp.body else None
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ConfigurationError(
            "a Hyperliquid /exchange request needs a JSON object body with an 'action'"
        )
    signed = sign_exchange_payload(
        payload,
        inp.credentials.secret,
        is_mainnet="testnet" not in (inp.url.host or ""),
        now_ms=int(inp.now * 1000),
    )
    return SignedRequest(inp.url, {}, _json.dumps_bytes(signed))


def _is_exchange_endpoint(url: URL) -> bool:
    return url.raw_path == "/exchange"


HTTP_AUTH = HttpAuth(
    exchange="hyperliquid",
    hosts=HOSTS,
    body_format="json",
    sign=sign,
    applies=_is_exchange_endpoint,
)

register_http_auth(HTTP_AUTH)
