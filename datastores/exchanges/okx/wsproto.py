"""OKX v5 WebSocket: login and heartbeat.

Docs: https://www.okx.com/docs-v5/en/#overview-websocket-login and
#overview-websocket-connect .

* Login ``{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}`` with
  ``timestamp`` in epoch seconds and ``sign = base64(HMAC-SHA256(secret,
  timestamp + "GET" + "/users/self/verify"))``; answer ``{"event":"login",
  "code":"0"}`` or ``{"event":"error","code":"60009",...}``.
* Public connections log in only when they subscribe to a channel that needs it
  (``books-l2-tbt``, ``books50-l2-tbt``); pybotters logged in on every public
  connection, an extra round trip per connect.
* The server closes connections silent for 30 s: after N < 30 s without a frame
  send the text ``ping`` and expect ``pong`` within N s, else reconnect.
* ``wspap.okx.com`` (demo trading) uses the ``okx_demo`` credentials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yarl import URL

from ... import _json
from ..._registry import register_ws_protocol
from ..._ws.protocol import (
    Frame,
    LoginInput,
    LoginReply,
    Outgoing,
    WsProtocol,
    path_segments,
    text_ping_heartbeat,
)
from .. import _okstyle

__all__ = ["LOGIN_CHANNELS_ON_PUBLIC", "WS_PROTOCOL", "login_message", "login_reply"]

#: Public-endpoint channels that require a logged-in connection (VIP order books).
LOGIN_CHANNELS_ON_PUBLIC = frozenset({"books-l2-tbt", "books50-l2-tbt"})


def login_message(login: LoginInput) -> Outgoing:
    """The ``login`` op; ``timestamp`` in whole epoch seconds."""
    return _okstyle.login_message(login.credentials, str(int(login.now)), "/users/self/verify")


def login_reply(frame: Frame) -> LoginReply | None:
    """``event: login`` (success when ``code`` is ``"0"``) or ``event: error`` (refusal)."""
    return _okstyle.login_reply(frame, ("0",))


def _channels(subscriptions: Sequence[Any]) -> set[str]:
    channels: set[str] = set()
    for message in subscriptions:
        if isinstance(message, (str, bytes)):
            try:
                message = _json.loads(message)
            except ValueError:
                continue
        if isinstance(message, Mapping):
            for arg in message.get("args") or ():
                if isinstance(arg, Mapping) and isinstance(arg.get("channel"), str):
                    channels.add(arg["channel"])
    return channels


def _skip_auth(url: URL, subscriptions: Sequence[Any]) -> bool:
    if "public" not in path_segments(url):
        return False
    return not (_channels(subscriptions) & LOGIN_CHANNELS_ON_PUBLIC)


WS_PROTOCOL = WsProtocol(
    exchange="okx",
    hosts={
        "ws.okx.com": "okx",
        "wsaws.okx.com": "okx",
        "wspap.okx.com": "okx_demo",
    },
    login=login_message,
    login_reply=login_reply,
    skip_auth=_skip_auth,
    heartbeat=text_ping_heartbeat(interval=20.0, timeout=10.0, when_idle=True),
)

register_ws_protocol(WS_PROTOCOL)
