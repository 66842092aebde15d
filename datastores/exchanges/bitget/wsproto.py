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

from ..._registry import register_ws_protocol
from ..._ws.protocol import (
    Frame,
    LoginInput,
    LoginReply,
    Outgoing,
    RateLimitSpec,
    WsProtocol,
    path_segments,
    text_ping_heartbeat,
)
from .. import _okstyle

__all__ = ["WS_PROTOCOL", "login_message", "login_reply"]


def login_message(login: LoginInput) -> Outgoing:
    """The ``login`` op; ``timestamp`` in whole epoch seconds."""
    return _okstyle.login_message(login.credentials, str(int(login.now)), "/user/verify")


def login_reply(frame: Frame) -> LoginReply | None:
    """``event: login`` (success when ``code`` is ``"0"`` or ``"00000"``) or ``event: error``."""
    return _okstyle.login_reply(frame, ("0", "00000"))


def _skip_auth(url: URL, subscriptions: Sequence[Any]) -> bool:
    return "public" in path_segments(url)


WS_PROTOCOL = WsProtocol(
    exchange="bitget",
    hosts={"ws.bitget.com": "bitget", "wspap.bitget.com": "bitget"},
    login=login_message,
    login_reply=login_reply,
    skip_auth=_skip_auth,
    heartbeat=text_ping_heartbeat(interval=25.0, timeout=10.0),
    rate_limit=RateLimitSpec(messages=10, per=1.0),
)

register_ws_protocol(WS_PROTOCOL)
