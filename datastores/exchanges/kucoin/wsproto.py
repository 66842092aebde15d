"""KuCoin WebSocket: welcome, heartbeat and the uplink message limit.

Docs: https://www.kucoin.com/docs-new/ (WebSocket, rate limit). The URL carries
a token from ``POST /api/v1/bullet-public`` or ``bullet-private`` (see
``KuCoinDataStore.initialize``); there is no login message.

* Wait for ``{"type":"welcome"}`` before subscribing.
* Send ``{"id":...,"type":"ping"}`` every ``pingInterval`` (18 s as the bullet
  response advertises) and expect ``{"type":"pong"}`` within ``pingTimeout`` (10 s).
* At most 100 uplink messages per 10 s per connection.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._ws.protocol import Frame, HeartbeatSpec, LoginReply, RateLimitSpec, WsProtocol

__all__ = ["WS_PROTOCOL"]


def _welcome(frame: Frame) -> LoginReply | None:
    kind = frame.get("type")
    if kind == "welcome":
        return LoginReply(True)
    if kind == "error":
        return LoginReply(False, f"{frame.get('data', '')} (code {frame.get('code')})")
    return None


WS_PROTOCOL = WsProtocol(
    exchange="kucoin",
    hosts={"ws-api-spot.kucoin.com": "kucoin", "ws-api-futures.kucoin.com": "kucoin"},
    greeting=_welcome,
    heartbeat=HeartbeatSpec(
        interval=18.0,
        message=lambda hb: {"id": f"datastores-ping-{hb.sequence}", "type": "ping"},
        is_reply=lambda frame: frame.get("type") == "pong",
        timeout=10.0,
    ),
    rate_limit=RateLimitSpec(messages=100, per=10.0),
)

register_ws_protocol(WS_PROTOCOL)
