"""Bybit v5 WebSocket: login, heartbeat, and the ``/v5/trade`` request header.

Docs: https://bybit-exchange.github.io/docs/v5/ws/connect (auth, heartbeat) and
https://bybit-exchange.github.io/docs/v5/websocket/trade/guideline (order entry).

* Login on private and trade paths: ``{"op":"auth","args":[key, expires, sig]}``
  with ``sig = hex(HMAC-SHA256(secret, "GET/realtime" + expires))`` and
  ``expires`` a future time in ms. Answers: ``{"op":"auth","success":true,...}``
  on ``/v5/private``; ``{"op":"auth","retCode":0,...}`` on ``/v5/trade``.
* Heartbeat ``{"op":"ping"}`` every 20 s; the pong is ``{"op":"ping",
  "ret_msg":"pong",...}`` on public spot/linear/inverse and ``{"op":"pong",...}``
  elsewhere. The server cuts connections silent for 10 minutes.
* ``/v5/trade`` requests need ``header["X-BAPI-TIMESTAMP"]`` (ms, string).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yarl import URL

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import (
    Frame,
    HeartbeatSpec,
    LoginInput,
    LoginReply,
    MessageSigningInput,
    Outgoing,
    WsProtocol,
    path_segments,
)

__all__ = ["AUTH_REQ_ID", "WS_PROTOCOL", "login_message", "login_reply", "sign_trade_request"]

AUTH_REQ_ID = "datastores-auth"
_PING_REQ_ID = "datastores-ping"
#: How far in the future the signed ``expires`` is (the docs' sample uses 1 s).
EXPIRES_AFTER = 10.0


def login_message(login: LoginInput) -> Outgoing:
    """``{"req_id", "op":"auth", "args":[key, expires_ms, signature]}``."""
    credentials = login.credentials
    expires = int((login.now + EXPIRES_AFTER) * 1000)
    signature = hmac_sha256_hex(credentials.secret_bytes, f"GET/realtime{expires}")
    return {"req_id": AUTH_REQ_ID, "op": "auth", "args": [credentials.key, expires, signature]}


def login_reply(frame: Frame) -> LoginReply | None:
    """The ``op == "auth"`` answer (``success`` or, on /v5/trade, ``retCode``)."""
    if frame.get("op") != "auth":
        return None
    if frame.get("success") is True or frame.get("retCode") == 0:
        return LoginReply(True)
    message = frame.get("ret_msg") or frame.get("retMsg") or "auth failed"
    code = frame.get("retCode")
    return LoginReply(False, f"{message} (retCode {code})" if code is not None else str(message))


def _skip_auth(url: URL, subscriptions: Sequence[Any]) -> bool:
    return "public" in path_segments(url)


def _is_pong(frame: Frame) -> bool:
    op = frame.get("op")
    return bool(op == "pong" or (op == "ping" and frame.get("ret_msg") == "pong"))


def sign_trade_request(signing: MessageSigningInput) -> Any:
    """Add ``header["X-BAPI-TIMESTAMP"]`` to ``/v5/trade`` requests lacking one."""
    message = signing.message
    if "trade" not in path_segments(signing.url) or not isinstance(message, Mapping):
        return None
    header = message.get("header")
    if header is not None and not isinstance(header, Mapping):
        return None
    if header is not None and "X-BAPI-TIMESTAMP" in header:
        return None
    signed = dict(message)
    signed["header"] = {**(header or {}), "X-BAPI-TIMESTAMP": str(int(signing.now * 1000))}
    return signed


WS_PROTOCOL = WsProtocol(
    exchange="bybit",
    hosts={
        "stream.bybit.com": "bybit",
        "stream.bytick.com": "bybit",
        "stream-demo.bybit.com": "bybit_demo",
        "stream-testnet.bybit.com": "bybit_testnet",
    },
    login=login_message,
    login_reply=login_reply,
    skip_auth=_skip_auth,
    heartbeat=HeartbeatSpec(
        interval=20.0,
        message=lambda _: {"req_id": _PING_REQ_ID, "op": "ping"},
        is_reply=_is_pong,
        timeout=10.0,
    ),
    sign_message=sign_trade_request,
)

register_ws_protocol(WS_PROTOCOL)
