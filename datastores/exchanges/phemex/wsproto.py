"""Phemex WebSocket: login, heartbeat and the per-connection request limit.

Docs: https://phemex-docs.github.io/#api-user-authentication , #heartbeat ,
#api-rate-limits . One endpoint (``wss://ws.phemex.com``) serves public and
private data.

* Login ``{"method":"user.auth","params":["API", key, sig, expiry],"id":N}``
  with ``expiry`` in epoch seconds (at most 2 minutes ahead) and
  ``sig = hex(HMAC-SHA256(secret, key + str(expiry)))``; answer
  ``{"error":null,"id":N,"result":{"status":"success"}}``.
* The client must ping at least every 30 s (5 s recommended) with
  ``{"id":N,"method":"server.ping","params":[]}``; the answer is
  ``{"error":null,"id":N,"result":"pong"}``. The heartbeat's id differs from the
  login's, so a pong is never taken for the login answer (pybotters used 123 for
  both) and ws.phemex.com gets the heartbeat too (pybotters left it out).
* At most 20 requests per second per connection.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import (
    Frame,
    HeartbeatSpec,
    LoginInput,
    LoginReply,
    Outgoing,
    RateLimitSpec,
    WsProtocol,
)

__all__ = ["AUTH_ID", "HEARTBEAT_ID", "WS_PROTOCOL", "login_message", "login_reply"]

AUTH_ID = 1_000_001
HEARTBEAT_ID = 1_000_002
#: Seconds until the login signature expires (the docs allow up to 120).
EXPIRY = 60


def login_message(login: LoginInput) -> Outgoing:
    """``user.auth`` signed over ``key + expiry``."""
    credentials = login.credentials
    expiry = int(login.now) + EXPIRY
    signature = hmac_sha256_hex(credentials.secret_bytes, f"{credentials.key}{expiry}")
    return {
        "method": "user.auth",
        "params": ["API", credentials.key, signature, expiry],
        "id": AUTH_ID,
    }


def login_reply(frame: Frame) -> LoginReply | None:
    """The response with our id: ``result.status == "success"`` or an ``error``."""
    if frame.get("id") != AUTH_ID:
        return None
    error = frame.get("error")
    if error:
        message = error.get("message", error) if isinstance(error, dict) else error
        return LoginReply(False, str(message))
    result = frame.get("result")
    if isinstance(result, dict) and result.get("status") == "success":
        return LoginReply(True)
    return LoginReply(False, f"unexpected user.auth result {result!r}")


def _is_pong(frame: Frame) -> bool:
    return bool(frame.get("id") == HEARTBEAT_ID and frame.get("result") == "pong")


WS_PROTOCOL = WsProtocol(
    exchange="phemex",
    hosts={
        "ws.phemex.com": "phemex",
        "phemex.com": "phemex",
        "vapi.phemex.com": "phemex",
        "testnet.phemex.com": "phemex_testnet",
        "testnet-api.phemex.com": "phemex_testnet",
    },
    login=login_message,
    login_reply=login_reply,
    heartbeat=HeartbeatSpec(
        interval=5.0,
        message=lambda _: {"id": HEARTBEAT_ID, "method": "server.ping", "params": []},
        is_reply=_is_pong,
        timeout=10.0,
    ),
    rate_limit=RateLimitSpec(messages=20, per=1.0),
)

register_ws_protocol(WS_PROTOCOL)
