"""Coincheck private WebSocket (stream.coincheck.com): login.

Docs: https://coincheck.com/documents/exchange/api#websocket (the private-channel
details could not be read in the official text; the format below is the one
public clients and pybotters use). The public stream (ws-api.coincheck.com)
needs no protocol. No application ping is documented; an idle socket is closed
after about a minute, which the app's WebSocket pings prevent.
"""

from __future__ import annotations

from ..._registry import register_ws_protocol
from ..._signing import hmac_sha256_hex
from ..._ws.protocol import Frame, LoginInput, LoginReply, Outgoing, WsProtocol
from . import signing

__all__ = ["SIGNED_URL", "WS_PROTOCOL", "login_message", "login_reply"]

#: The fixed string signed with the nonce, whatever URL is actually used.
SIGNED_URL = "wss://stream.coincheck.com/private"


def login_message(login: LoginInput) -> Outgoing:
    """``{"type":"login", access_key, access_nonce, access_signature}``.

    ``access_signature = hex(HMAC-SHA256(secret, nonce + SIGNED_URL))``; the nonce
    is the time in milliseconds (it must grow per key, REST included, so use
    milliseconds everywhere once you do), from the same per-key sequence as REST
    (:data:`.signing.NONCES`).
    """
    credentials = login.credentials
    nonce = str(signing.NONCES.next(credentials.key, login.now))
    return {
        "type": "login",
        "access_key": credentials.key,
        "access_nonce": nonce,
        "access_signature": hmac_sha256_hex(credentials.secret_bytes, nonce + SIGNED_URL),
    }


def login_reply(frame: Frame) -> LoginReply | None:
    """A JSON object carrying ``success`` (true or false)."""
    data = frame.data
    if not isinstance(data, dict) or "success" not in data:
        return None
    if data["success"] is True:
        return LoginReply(True)
    return LoginReply(False, str(data.get("error") or data.get("message") or data))


WS_PROTOCOL = WsProtocol(
    exchange="coincheck",
    hosts={"stream.coincheck.com": "coincheck"},
    login=login_message,
    login_reply=login_reply,
)

register_ws_protocol(WS_PROTOCOL)
