"""KuCoin WebSocket: welcome, heartbeat and the uplink message limit.

Docs: https://www.kucoin.com/docs-new/ (WebSocket, rate limit). The URL carries
a token from ``POST /api/v1/bullet-public`` or ``bullet-private`` (see
``KuCoinDataStore.initialize``); there is no login message.

* Wait for ``{"type":"welcome"}`` before subscribing.
* Send ``{"id":...,"type":"ping"}`` every ``pingInterval`` (18 s as the bullet
  response advertises) and expect ``{"type":"pong"}`` within ``pingTimeout`` (10 s).
* At most 100 uplink messages per 10 s per connection.

The tokenless UTA family (https://www.kucoin.com/docs-new/websocket-api/base-info/introduction-uta)
on ``x-push-spot.kucoin.com`` / ``x-push-futures.kucoin.com`` speaks the same ping
and pong; its welcome is ``{"sessionId", "message": "welcome", "pingInterval"}`` and
its frames arrive as *binary* WebSocket frames holding UTF-8 JSON (decoded here).
More than one ping per second drops the socket: ours go every 18 s.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._ws.protocol import Frame, HeartbeatSpec, LoginReply, RateLimitSpec, WsProtocol

__all__ = ["WS_PROTOCOL"]


def _welcome(frame: Frame) -> LoginReply | None:
    kind = frame.get("type")
    if kind == "welcome" or frame.get("message") == "welcome":
        return LoginReply(True)
    if kind == "error":
        return LoginReply(False, f"{frame.get('data', '')} (code {frame.get('code')})")
    return None


def _utf8(data: bytes) -> str | None:
    """UTA frames: binary frames of UTF-8 JSON."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


WS_PROTOCOL = WsProtocol(
    exchange="kucoin",
    hosts={
        "ws-api-spot.kucoin.com": "kucoin",
        "ws-api-futures.kucoin.com": "kucoin",
        "x-push-spot.kucoin.com": "kucoin",
        "x-push-futures.kucoin.com": "kucoin",
    },
    greeting=_welcome,
    heartbeat=HeartbeatSpec(
        interval=18.0,
        message=lambda hb: {"id": f"datastores-ping-{hb.sequence}", "type": "ping"},
        is_reply=lambda frame: frame.get("type") == "pong",
        timeout=10.0,
    ),
    rate_limit=RateLimitSpec(messages=100, per=10.0),
    decode_bytes=_utf8,
)

register_ws_protocol(WS_PROTOCOL)
