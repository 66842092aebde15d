"""The WebSocket layer: one package, one module per concept.

* :mod:`.app`: :class:`WebSocketApp` (reconnect loop, setup order);
* :mod:`.connect`: ``connect()``, which ``Client.ws_connect`` calls;
* :mod:`.connection`: :class:`WsConnection`, the ``ws`` handlers get (ordered,
  rate-limited writer, message signing);
* :mod:`.session`: one connection's reader, dispatch, heartbeats and watchdog;
* :mod:`.login`: the greeting and the login of a connection;
* :mod:`.protocol`: how an exchange declares its WebSocket protocol (:class:`WsProtocol`);
* :mod:`.ratelimit`: the token bucket that paces outgoing frames;
* :mod:`.stats`: :class:`ConnectionState`, :class:`WebSocketStatistics` and the
  counters' single owner;
* :mod:`.options` and :mod:`.failures`: argument checks, :class:`Backoff`, and how
  connection failures map to our errors.

Exchanges import :mod:`datastores._ws.protocol` only; the core registry
(:mod:`datastores._registry`) maps hosts to their protocols.
"""

from __future__ import annotations

from .app import WebSocketApp, protocol_for
from .connect import connect
from .connection import WsConnection
from .options import Backoff
from .protocol import WsProtocol
from .stats import ConnectionState, WebSocketStatistics

__all__ = [
    "Backoff",
    "ConnectionState",
    "WebSocketApp",
    "WebSocketStatistics",
    "WsConnection",
    "WsProtocol",
    "connect",
    "protocol_for",
]
