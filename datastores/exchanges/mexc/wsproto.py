"""MEXC WebSocket: futures login and heartbeat; spot heartbeat.

Futures (``wss://contract.mexc.com/edge``), docs:
https://www.mexc.com/api-docs/futures/websocket-api .

* Login ``{"method":"login","param":{apiKey, reqTime, signature}}`` with
  ``reqTime`` in ms (the docs' example) and ``signature = hex(HMAC-SHA256(secret,
  apiKey + reqTime))``; answer ``{"channel":"rs.login","data":"success"}``, a
  refusal ``rs.login`` with another ``data`` or ``{"channel":"rs.error",...}``.
  pybotters sent the login without waiting for the answer.
* ``{"method":"ping"}`` every 10-20 s (the server closes after a minute without
  one); the answer is ``{"channel":"pong","data":<ms>}``.

Spot (``wss://wbs-api.mexc.com/ws``): user streams take a listenKey in the URL
(no login message); the client keeps the connection alive with
``{"method":"PING"}``, answered ``{"id":0,"code":0,"msg":"PONG"}``.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import Frame, HeartbeatSpec, LoginInput, LoginReply, Outgoing, WsProtocol

__all__ = ["FUTURES", "SPOT", "WS_PROTOCOL", "login_message", "login_reply"]


def login_message(login: LoginInput) -> Outgoing:
    """The futures ``login`` request."""
    credentials = login.credentials
    request_time = str(int(login.now * 1000))
    signature = hmac_sha256_hex(credentials.secret_bytes, credentials.key + request_time)
    return {
        "method": "login",
        "param": {"apiKey": credentials.key, "reqTime": request_time, "signature": signature},
    }


def login_reply(frame: Frame) -> LoginReply | None:
    """``rs.login`` (``data == "success"`` or not) or ``rs.error``."""
    channel = frame.get("channel")
    if channel == "rs.login":
        data = frame.get("data")
        return LoginReply(True) if data == "success" else LoginReply(False, str(data))
    if channel == "rs.error":
        return LoginReply(False, str(frame.get("data")))
    return None


FUTURES = WsProtocol(
    exchange="mexc",
    hosts={"contract.mexc.com": "mexc"},
    login=login_message,
    login_reply=login_reply,
    heartbeat=HeartbeatSpec(
        interval=15.0,
        message=lambda _: {"method": "ping"},
        is_reply=lambda frame: frame.get("channel") == "pong",
        timeout=10.0,
    ),
)

SPOT = WsProtocol(
    exchange="mexc",
    hosts={"wbs-api.mexc.com": "mexc", "wbs.mexc.com": "mexc"},
    heartbeat=HeartbeatSpec(
        interval=20.0,
        message=lambda _: {"method": "PING"},
        is_reply=lambda frame: frame.get("msg") == "PONG",
        timeout=10.0,
    ),
)

WS_PROTOCOL = [FUTURES, SPOT]

register_ws_protocol(*WS_PROTOCOL)
