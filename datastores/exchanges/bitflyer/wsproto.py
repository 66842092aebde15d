"""bitFlyer Lightning Realtime API (JSON-RPC 2.0 over WebSocket): login.

Docs: https://bf-lightning-api.readme.io/docs/realtime-api-auth and
https://bf-lightning-api.readme.io/docs/endpoint-json-rpc . Public and private
channels share ``wss://ws.lightstream.bitflyer.com/json-rpc``; private channels
need a successful ``auth`` call, whose ``result`` must be checked.
No application ping is documented: the server pings at the WebSocket level.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import Frame, LoginInput, LoginReply, Outgoing, WsProtocol

__all__ = ["AUTH_ID", "WS_PROTOCOL", "login_message", "login_reply"]

#: JSON-RPC id of our login request (users number their own requests from 1).
AUTH_ID = "datastores-auth"


def login_message(login: LoginInput) -> Outgoing:
    """``auth`` with ``signature = hex(HMAC-SHA256(secret, str(timestamp) + nonce))``.

    ``timestamp`` is in milliseconds (13 digits; the docs accept 10 or 13) and
    ``nonce`` is 32 random hex characters (the docs ask for 16 to 255).
    """
    timestamp = int(login.now * 1000)
    credentials = login.credentials
    signature = hmac_sha256_hex(credentials.secret_bytes, f"{timestamp}{login.nonce}")
    return {
        "jsonrpc": "2.0",
        "method": "auth",
        "params": {
            "api_key": credentials.key,
            "timestamp": timestamp,
            "nonce": login.nonce,
            "signature": signature,
        },
        "id": AUTH_ID,
    }


def login_reply(frame: Frame) -> LoginReply | None:
    """The JSON-RPC response with our id: ``result: true`` or an ``error`` object."""
    if frame.get("id") != AUTH_ID:
        return None
    error = frame.get("error")
    if error is not None:
        message = error.get("message", error) if isinstance(error, dict) else error
        return LoginReply(False, str(message))
    if frame.get("result") is True:
        return LoginReply(True)
    return LoginReply(False, f"unexpected auth result {frame.get('result')!r}")


WS_PROTOCOL = WsProtocol(
    exchange="bitflyer",
    hosts={"ws.lightstream.bitflyer.com": "bitflyer"},
    login=login_message,
    login_reply=login_reply,
)

register_ws_protocol(WS_PROTOCOL)
