"""Example exchange WebSocket: heartbeat and the uplink message limit.

TODO(<x>): cite the exchange's WebSocket pages and state each fact with its link, e.g.
"Docs: https://docs.example.invalid/ws/general".

* The client sends ``{"op": "ping"}`` every 20 s; the server answers
  ``{"op": "pong"}`` and drops a client silent for 60 s. The WebSocketApp sends the
  pings and reconnects when no pong comes within 10 s.
* At most 10 uplink messages (subscribe, unsubscribe, ping) per second per connection.
* TODO(<x>): a login message (``login=``, ``login_reply=``) if private channels need one,
  a welcome message to wait for (``greeting=``), server pings to answer
  (``auto_reply=``): see :class:`~datastores._ws.protocol.WsProtocol`.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._ws.protocol import HeartbeatSpec, RateLimitSpec, WsProtocol

__all__ = ["WS_PROTOCOL"]

WS_PROTOCOL = WsProtocol(
    exchange="example",
    # TODO(<x>): every WebSocket host of the exchange.
    hosts={"stream.example.invalid": "example"},
    heartbeat=HeartbeatSpec(
        interval=20.0,
        message=lambda hb: {"op": "ping"},
        is_reply=lambda frame: frame.get("op") == "pong",
        timeout=10.0,
    ),
    rate_limit=RateLimitSpec(messages=10, per=1.0),
)

register_ws_protocol(WS_PROTOCOL)
