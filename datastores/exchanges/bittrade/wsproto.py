"""BitTrade WebSocket (api-cloud.bittrade.co.jp, a Huobi-style API): login and pings.

Docs: https://api-doc.bittrade.co.jp (WebSocket section; the rules below follow
the Huobi v2 conventions BitTrade's API is built on, as pybotters implements
them). Paths: ``/ws`` market data (server frames gzip-compressed), ``/ws/v2``
orders and assets (login required), ``/retail/ws`` the retail (販売所) feed.

* Login (``/ws/v2`` only): ``{"action":"req","ch":"auth","params":{...}}``
  signed like REST signature version 2.1; the answer has ``ch == "auth"`` and
  ``code == 200`` on success. A refusal ends the login (pybotters kept waiting).
* The server pings and we echo: ``{"ping": ts}`` -> ``{"pong": ts}`` on ``/ws``,
  ``{"action":"ping","data":{"ts":...}}`` -> ``{"action":"pong",...}`` on ``/ws/v2``.
* ``/retail/ws`` expects a client ping ``{"action":5,"ts":<seconds>}`` every 10 s
  (taken from pybotters; not confirmed in the official text).
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from yarl import URL

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_b64
from ..._ws.protocol import Frame, HeartbeatSpec, LoginInput, LoginReply, Outgoing, WsProtocol

__all__ = ["WS_PROTOCOL", "decode_bytes", "login_message", "login_reply"]

_PRIVATE_PATH = "/ws/v2"


def decode_bytes(data: bytes) -> str | None:
    """Gunzip a server frame (market data is gzip-compressed) to text."""
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError):
        return None


def login_message(login: LoginInput) -> Outgoing:
    """The ``auth`` request, signed over ``GET\\n<host>\\n<path>\\n<sorted query>``."""
    credentials = login.credentials
    timestamp = datetime.fromtimestamp(login.now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    params = {
        "accessKey": credentials.key,
        "signatureMethod": "HmacSHA256",
        "signatureVersion": "2.1",
        "timestamp": timestamp,
    }
    query = urlencode(sorted(params.items()))
    payload = f"GET\n{login.url.host}\n{login.url.path}\n{query}"
    signature = hmac_sha256_b64(credentials.secret_bytes, payload)
    return {
        "action": "req",
        "ch": "auth",
        "params": {"authType": "api", **params, "signature": signature},
    }


def login_reply(frame: Frame) -> LoginReply | None:
    """The answer with ``ch == "auth"``: ``code == 200`` or a refusal."""
    if frame.get("ch") != "auth" or frame.get("action") == "push":
        return None
    if frame.get("code") == 200:
        return LoginReply(True)
    return LoginReply(False, f"{frame.get('message', '')} (code {frame.get('code')})".strip())


def _skip_auth(url: URL, subscriptions: Sequence[Any]) -> bool:
    return url.path.rstrip("/") != _PRIVATE_PATH


def _auto_reply(frame: Frame, url: URL) -> Outgoing | None:
    data = frame.data
    if not isinstance(data, dict):
        return None
    if "ping" in data and len(data) == 1:
        return {"pong": data["ping"]}
    if data.get("action") == "ping":
        return {"action": "pong", "data": data.get("data")}
    return None


_RETAIL_PING = HeartbeatSpec(interval=10.0, message=lambda hb: {"action": 5, "ts": int(hb.now)})


def _heartbeat(url: URL) -> HeartbeatSpec | None:
    return _RETAIL_PING if url.path.rstrip("/") == "/retail/ws" else None


WS_PROTOCOL = WsProtocol(
    exchange="bittrade",
    hosts={"api-cloud.bittrade.co.jp": "bittrade"},
    login=login_message,
    login_reply=login_reply,
    skip_auth=_skip_auth,
    auto_reply=_auto_reply,
    heartbeat=_heartbeat,
    decode_bytes=decode_bytes,
)

register_ws_protocol(WS_PROTOCOL)
