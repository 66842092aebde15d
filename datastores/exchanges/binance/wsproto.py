"""Binance WebSocket: stream rate limits and WebSocket API request signing.

Docs (https://developers.binance.com/docs/binance-spot-api-docs):
``web-socket-streams`` (5 incoming messages per second per connection, pings and
pongs included; the server pings every 20 s), ``web-socket-api/request-security``
(SIGNED requests: every param except ``signature``, sorted by name, joined as
``k=v&k=v``, HMAC-SHA256 hex). Futures streams accept 10 messages per second
and ping every 3 minutes (developers.binance.com/docs/derivatives).

User data: Spot retired the listenKey endpoints on 2026-02-20; subscribe on the
WebSocket API with ``{"method":"userDataStream.subscribe.signature"}`` (signed
here like any request). USDⓈ-M and COIN-M still use listenKeys in the URL.
Only HMAC keys are supported for signing (``session.logon`` needs Ed25519).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import _json
from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import MessageSigningInput, RateLimitSpec, WsProtocol

__all__ = ["UNSIGNED_METHODS", "WS_PROTOCOL", "sign_request", "signature_payload"]

#: WebSocket API methods that take no signature (public data, session management).
UNSIGNED_METHODS = frozenset(
    {
        "ping",
        "time",
        "exchangeInfo",
        "depth",
        "trades.recent",
        "trades.aggregate",
        "klines",
        "uiKlines",
        "avgPrice",
        "ticker",
        "ticker.24hr",
        "ticker.tradingDay",
        "ticker.price",
        "ticker.book",
        "session.status",
        "session.logout",
        "session.subscriptions",
        "userDataStream.subscribe",
        "userDataStream.unsubscribe",
    }
)


def _param_text(value: Any) -> str:
    # Values are signed as they read in the JSON request: true/false, not True/False.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return _json.dumps(value)


def signature_payload(params: Mapping[str, Any]) -> str:
    """``k=v`` pairs of every param except ``signature``, sorted by name, joined by ``&``."""
    return "&".join(
        f"{key}={_param_text(value)}" for key, value in sorted(params.items()) if key != "signature"
    )


def sign_request(signing: MessageSigningInput) -> Any:
    """Add ``apiKey``, ``timestamp`` (ms) and ``signature`` to a request's ``params``.

    Requests for public methods, non-request payloads and requests that already
    carry a ``signature`` (signed by the caller, e.g. with Ed25519) are left alone.
    A ``timestamp`` given by the caller is kept.
    """
    message = signing.message
    if not isinstance(message, Mapping) or not isinstance(message.get("method"), str):
        return None
    if message["method"] in UNSIGNED_METHODS:
        return None
    params = message.get("params", {})
    if not isinstance(params, Mapping) or "signature" in params:
        return None
    signed_params = {**params, "apiKey": signing.credentials.key}
    signed_params.setdefault("timestamp", int(signing.now * 1000))
    signed_params["signature"] = hmac_sha256_hex(
        signing.credentials.secret_bytes, signature_payload(signed_params)
    )
    return {**message, "params": signed_params}


SPOT_STREAMS = WsProtocol(
    exchange="binance",
    hosts={
        "stream.binance.com": "binance",
        "data-stream.binance.vision": "binance",
        "stream.testnet.binance.vision": "binancespot_testnet",
        "demo-stream.binance.com": "binance_demo",
    },
    rate_limit=RateLimitSpec(messages=5, per=1.0),
)

FUTURES_STREAMS = WsProtocol(
    exchange="binance",
    hosts={
        "fstream.binance.com": "binance",
        "dstream.binance.com": "binance",
        "fstream.binancefuture.com": "binancefuture_testnet",
        "dstream.binancefuture.com": "binancefuture_testnet",
    },
    rate_limit=RateLimitSpec(messages=10, per=1.0),
    # The server pings only every 3 minutes; quiet user streams are normal.
    liveness_timeout=400.0,
)

WEBSOCKET_API = WsProtocol(
    exchange="binance",
    hosts={
        "ws-api.binance.com": "binance",
        "ws-fapi.binance.com": "binance",
        "ws-dapi.binance.com": "binance",
        "demo-ws-api.binance.com": "binance_demo",
        "ws-api.testnet.binance.vision": "binancespot_testnet",
        "testnet.binance.vision": "binancespot_testnet",
        "testnet.binancefuture.com": "binancefuture_testnet",
    },
    sign_message=sign_request,
)

WS_PROTOCOL = [SPOT_STREAMS, FUTURES_STREAMS, WEBSOCKET_API]

register_ws_protocol(*WS_PROTOCOL)
