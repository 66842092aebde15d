"""bitbank public stream: Socket.IO over a raw WebSocket (Engine.IO v3 or v4).

Docs: https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md .
Connect to ``wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket`` (or
``EIO=3``, which pybotters users have). Frames are Engine.IO packets: ``0{...}``
open, ``2`` ping, ``3`` pong, ``4`` message; a Socket.IO event is ``42[...]``.
Rooms are joined with ``42["join-room","<room>"]`` and data arrives as
``42["message",{"room_name":..., "message":{"data":...}}]``.

* ``hdlr_json`` receives the decoded event array (``["message", {...}]``);
  ``hdlr_str`` still receives the raw text, ``42`` prefix included.
* ``send_json`` sends a Socket.IO event: ``ws.send_json(["join-room",
  "depth_whole_btc_jpy"])`` writes ``42["join-room","depth_whole_btc_jpy"]`` (plain
  JSON means nothing to a Socket.IO server). ``send_json=`` of ``ws_connect`` takes a
  list of messages, so give it a list of event arrays; ``send_str`` still sends
  the raw ``42[...]`` text as is.
* Heartbeat: with EIO=3 the client pings (``2``) and the server answers ``3``;
  with EIO=4 the server pings and we answer ``3``.
* EIO=4 requires the client to connect the default namespace (``40``) after the
  open packet; the app waits for the open packet, answers ``40``, then joins rooms.
"""

from __future__ import annotations

from typing import Any

from yarl import URL

from ... import _json
from ..._registry import register_ws_protocol
from ..._ws.protocol import NOT_JSON, SKIP, Frame, HeartbeatSpec, LoginReply, Outgoing, WsProtocol

__all__ = ["WS_PROTOCOL", "decode_text", "encode_event"]

_EVENT_PREFIX = "42"


def decode_text(text: str) -> Any:
    """The JSON event array of a ``42[...]`` frame; other packets are control traffic."""
    if text.startswith(_EVENT_PREFIX):
        try:
            return _json.loads(text[len(_EVENT_PREFIX) :])
        except ValueError:
            return NOT_JSON
    return SKIP


def encode_event(event: Any) -> str:
    """The ``42[...]`` text frame of a Socket.IO event array (``send_json``)."""
    return _EVENT_PREFIX + _json.dumps(event)


def _engine_io_version(url: URL) -> str:
    return url.query.get("EIO", "4")


def _greeting(frame: Frame) -> LoginReply | None:
    # The Engine.IO open packet ("0{...}") comes first on every connection.
    text = frame.text
    if text is not None and text.startswith("0"):
        return LoginReply(True)
    return None


def _auto_reply(frame: Frame, url: URL) -> Outgoing | None:
    text = frame.text
    if text == "2":  # the server's ping (EIO=4)
        return "3"
    if text is not None and text.startswith("0{") and _engine_io_version(url) == "4":
        return "40"  # connect the default namespace before joining rooms
    return None


_CLIENT_PING = HeartbeatSpec(
    # EIO=3: the client pings; 15 s stays well inside the server's advertised interval.
    interval=15.0,
    message=lambda _: "2",
    is_reply=lambda frame: frame.text == "3",
    timeout=15.0,
)


def _heartbeat(url: URL) -> HeartbeatSpec | None:
    return _CLIENT_PING if _engine_io_version(url) == "3" else None


WS_PROTOCOL = WsProtocol(
    exchange="bitbank",
    hosts={"stream.bitbank.cc": "bitbank"},
    greeting=_greeting,
    auto_reply=_auto_reply,
    heartbeat=_heartbeat,
    decode_text=decode_text,
    encode_json=encode_event,
)

register_ws_protocol(WS_PROTOCOL)
