"""bitbank's WebSocket protocol frames ``send_json`` values as Socket.IO events, and the
fake frames injected messages the same way (both additive hooks of the core)."""

from __future__ import annotations

from datastores.exchanges.bitbank.wsproto import WS_PROTOCOL, decode_text, encode_event
from datastores.testing._profile import ExchangeProfile


def test_send_json_becomes_a_socket_io_event_and_back() -> None:
    assert WS_PROTOCOL.encode_json is encode_event
    text = encode_event(["join-room", "depth_whole_btc_jpy"])
    assert text == '42["join-room","depth_whole_btc_jpy"]'
    assert decode_text(text) == ["join-room", "depth_whole_btc_jpy"]


def test_other_protocols_send_plain_json_and_profiles_inject_plain_text() -> None:
    from datastores.exchanges.hyperliquid.wsproto import WS_PROTOCOL as HYPERLIQUID

    assert HYPERLIQUID.encode_json is None
    assert ExchangeProfile.frame_injected(None, '{"a":1}') == '{"a":1}'  # type: ignore[arg-type]
