"""GMO Coin WebSocket: subscription rate limit (no message login).

Docs: https://api.coin.z.com/docs/en/#restrictions . Private streams carry an
access token in the URL (``/ws/private/v1/<token>``, see
``datastores.helpers.gmocoin``). Subscribe/unsubscribe requests are limited to
one per second per IP, so all of a client's connections to the host share one
bucket. The server pings once a minute at the WebSocket level and disconnects
after three missed pongs; no application ping exists.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._ws.protocol import RateLimitSpec, WsProtocol

__all__ = ["WS_PROTOCOL"]

WS_PROTOCOL = WsProtocol(
    exchange="gmocoin",
    hosts={"api.coin.z.com": "gmocoin"},
    rate_limit=RateLimitSpec(messages=1, per=1.0, shared=True),
    # The server's own ping comes every 60 s; allow more than two of its intervals.
    liveness_timeout=150.0,
)

register_ws_protocol(WS_PROTOCOL)
