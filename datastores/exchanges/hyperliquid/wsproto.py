"""Hyperliquid WebSocket: heartbeat and signed ``post`` actions.

Docs: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket
(timeouts-and-heartbeats, post-requests). No login: user streams are selected by
address. The server closes a connection it has sent nothing to for 60 s, so the
client sends ``{"method":"ping"}`` (answer ``{"channel":"pong"}``). Actions can be
posted over the socket as ``{"method":"post","id":N,"request":{"type":"action",
"payload":{action, nonce, signature, vaultAddress?}}}``; ``send_json`` fills
``nonce`` and ``signature`` like the HTTP ``/exchange`` signer does (needs the
``hyperliquid`` extra, eth-account). WebSocket messages are limited to 2000 per
minute per IP, counted across connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._registry import register_ws_protocol
from ..._ws.protocol import HeartbeatSpec, MessageSigningInput, RateLimitSpec, WsProtocol

__all__ = ["WS_PROTOCOL", "sign_post_action"]


def sign_post_action(signing: MessageSigningInput) -> Any:
    """Sign the payload of a ``post`` request of type ``action`` (others pass unchanged)."""
    message = signing.message
    if not isinstance(message, Mapping) or message.get("method") != "post":
        return None
    request = message.get("request")
    if not isinstance(request, Mapping) or request.get("type") != "action":
        return None
    payload = request.get("payload")
    if not isinstance(payload, Mapping) or "signature" in payload:
        return None
    from ...helpers.hyperliquid import sign_exchange_payload

    signed_payload = sign_exchange_payload(
        payload,
        signing.credentials.secret,
        is_mainnet="testnet" not in (signing.url.host or ""),
        now_ms=int(signing.now * 1000),
    )
    return {**message, "request": {**request, "payload": signed_payload}}


WS_PROTOCOL = WsProtocol(
    exchange="hyperliquid",
    hosts={
        "api.hyperliquid.xyz": "hyperliquid",
        "api.hyperliquid-testnet.xyz": "hyperliquid_testnet",
    },
    heartbeat=HeartbeatSpec(
        interval=30.0,
        message=lambda _: {"method": "ping"},
        is_reply=lambda frame: frame.get("channel") == "pong",
        timeout=15.0,
    ),
    sign_message=sign_post_action,
    rate_limit=RateLimitSpec(messages=2000, per=60.0, shared=True),
)

register_ws_protocol(WS_PROTOCOL)
