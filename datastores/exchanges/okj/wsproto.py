"""OKCoin Japan (OKJ) WebSocket v3 (connect.okcoin.jp): login, heartbeat, inflate.

Docs: https://dev.okcoin.jp/en/ (WebSocket section; the details below match the
OKEx v3 API it derives from and pybotters' implementation). Server frames are
raw-deflate-compressed binary; they are inflated before ``hdlr_json`` and the
reply classifiers see them (``hdlr_bytes`` still gets the compressed bytes).
"""

from __future__ import annotations

import zlib

from ..._registry import register_ws_protocol
from ..._ws.protocol import Frame, LoginInput, LoginReply, Outgoing, WsProtocol, text_ping_heartbeat
from .._okstyle import login_sign

__all__ = ["WS_PROTOCOL", "inflate", "login_message", "login_reply"]


def inflate(data: bytes) -> str | None:
    """Raw-deflate-decompress a server frame to text (``None`` if it is not deflate)."""
    try:
        return zlib.decompress(data, -zlib.MAX_WBITS).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None


def login_message(login: LoginInput) -> Outgoing:
    """``{"op":"login","args":[key, passphrase, timestamp, sign]}``.

    ``timestamp`` is epoch seconds with milliseconds as a string (``"1700000000.123"``),
    ``sign = base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))``.
    """
    credentials = login.credentials
    timestamp = f"{login.now:.3f}"
    sign = login_sign(credentials, timestamp, "/users/self/verify")
    return {"op": "login", "args": [credentials.key, credentials.passphrase, timestamp, sign]}


def login_reply(frame: Frame) -> LoginReply | None:
    """``{"event":"login","success":true}`` or ``{"event":"error","message":...}``."""
    event = frame.get("event")
    if event == "login":
        if frame.get("success") is False:
            return LoginReply(False, str(frame.get("message") or "login failed"))
        return LoginReply(True)
    if event == "error":
        code = frame.get("errorCode") or frame.get("code")
        return LoginReply(False, f"{frame.get('message', '')} (code {code})".strip())
    return None


WS_PROTOCOL = WsProtocol(
    exchange="okj",
    hosts={"connect.okcoin.jp": "okj"},
    login=login_message,
    login_reply=login_reply,
    # The server drops connections silent for 30 s: ping when idle, expect "pong".
    heartbeat=text_ping_heartbeat(interval=15.0, timeout=10.0, when_idle=True),
    decode_bytes=inflate,
)

register_ws_protocol(WS_PROTOCOL)
