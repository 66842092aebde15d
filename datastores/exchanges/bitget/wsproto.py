"""Bitget WebSocket (v2, and the legacy v1 mix stream): login, heartbeat, limits.

Docs: https://www.bitget.com/api-doc/common/websocket-intro and
https://www.bitget.com/api-doc/common/signature .

* Login ``{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}`` with
  ``timestamp`` in epoch **seconds** (REST uses ms) and ``sign =
  base64(HMAC-SHA256(secret, timestamp + "GET" + "/user/verify"))``; answer
  ``{"event":"login","code":"0"}`` or ``{"event":"error",...}`` (then the server
  disconnects). Public paths (``/v2/ws/public``) need no login.
* The client sends the text ``ping`` every 30 s and gets ``pong``.
* At most 10 messages per second per connection, pings included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yarl import URL

from ..._signing import hmac_sha256_b64
from ..._wsproto import (
    Frame,
    HeartbeatSpec,
    LoginInput,
    LoginReply,
    Outgoing,
    RateLimitSpec,
    WsProtocol,
    path_segments,
)

__all__ = ["WS_PROTOCOL", "login_message", "login_reply"]


def login_message(login: LoginInput) -> Outgoing:
    """The ``login`` op; ``timestamp`` in whole epoch seconds."""
    credentials = login.credentials
    timestamp = str(int(login.now))
    sign = hmac_sha256_b64(credentials.secret_bytes, timestamp + "GET/user/verify")
    return {
        "op": "login",
        "args": [
            {
                "apiKey": credentials.key,
                "passphrase": credentials.passphrase,
                "timestamp": timestamp,
                "sign": sign,
            }
        ],
    }


def login_reply(frame: Frame) -> LoginReply | None:
    """``event: login`` (success) or ``event: error`` (refusal)."""
    event = frame.get("event")
    if event == "login":
        code = frame.get("code", "0")
        if str(code) in ("0", "00000"):
            return LoginReply(True)
        return LoginReply(False, f"{frame.get('msg', '')} (code {code})".strip())
    if event == "error":
        return LoginReply(False, f"{frame.get('msg', '')} (code {frame.get('code')})".strip())
    return None


def _skip_auth(url: URL, subscriptions: Sequence[Any]) -> bool:
    return "public" in path_segments(url)


WS_PROTOCOL = WsProtocol(
    exchange="bitget",
    hosts={"ws.bitget.com": "bitget", "wspap.bitget.com": "bitget"},
    login=login_message,
    login_reply=login_reply,
    skip_auth=_skip_auth,
    heartbeat=HeartbeatSpec(
        interval=25.0,
        message=lambda _: "ping",
        is_reply=lambda frame: frame.text == "pong",
        timeout=10.0,
    ),
    rate_limit=RateLimitSpec(messages=10, per=1.0),
)
