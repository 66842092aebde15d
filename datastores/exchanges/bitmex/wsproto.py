"""BitMEX WebSocket: signed handshake and heartbeat.

Docs: https://www.bitmex.com/app/wsAPI and https://www.bitmex.com/app/apiKeysUsage
(official connector: github.com/BitMEX/api-connectors, ``official-ws``).

* The upgrade request carries ``api-expires`` (epoch seconds), ``api-key`` and
  ``api-signature = hex(HMAC-SHA256(secret, "GET" + path + expires))`` with the
  path of the URL (``/realtime``). A refused signature shows as an HTTP 401/403
  on the handshake or an error frame with ``status`` 401/403, both reported as
  ``WebSocketAuthError``.
* The server first sends ``{"info":"Welcome to the BitMEX Realtime API.",...}``;
  subscriptions go after it.
* After 5 s without a message send the text ``ping``; expect ``pong`` within 5 s.
* ``ws.bitmex.com`` is the documented host (pybotters only signed www.bitmex.com).
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import Frame, HandshakeInput, LoginReply, WsProtocol, text_ping_heartbeat

__all__ = ["EXPIRES_AFTER", "WS_PROTOCOL", "handshake_headers"]

#: Seconds until the handshake signature expires.
EXPIRES_AFTER = 10


def handshake_headers(handshake: HandshakeInput) -> dict[str, str]:
    """``api-expires``, ``api-key``, ``api-signature`` for the upgrade request."""
    credentials = handshake.credentials
    expires = str(int(handshake.now) + EXPIRES_AFTER)
    signature = hmac_sha256_hex(
        credentials.secret_bytes, "GET" + (handshake.url.path or "/realtime") + expires
    )
    return {"api-expires": expires, "api-key": credentials.key, "api-signature": signature}


def _welcome(frame: Frame) -> LoginReply | None:
    data = frame.data
    if isinstance(data, dict) and "info" in data and "version" in data:
        return LoginReply(True)
    status = frame.get("status")
    if status in (401, 403):
        return LoginReply(False, str(frame.get("error") or f"status {status}"))
    return None


WS_PROTOCOL = WsProtocol(
    exchange="bitmex",
    hosts={
        "ws.bitmex.com": "bitmex",
        "www.bitmex.com": "bitmex",
        "ws.testnet.bitmex.com": "bitmex_testnet",
        "testnet.bitmex.com": "bitmex_testnet",
    },
    handshake_headers=handshake_headers,
    greeting=_welcome,
    heartbeat=text_ping_heartbeat(interval=5.0, timeout=5.0, when_idle=True),
)

register_ws_protocol(WS_PROTOCOL)
