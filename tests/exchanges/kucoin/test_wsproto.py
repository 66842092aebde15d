"""KuCoin's WebSocket protocol: both socket families' welcomes, UTA binary frames."""

from __future__ import annotations

from datastores._registry import ws_protocol_by_host
from datastores._ws.protocol import Frame
from datastores.exchanges.kucoin.wsproto import WS_PROTOCOL


def test_both_families_are_registered() -> None:
    table = ws_protocol_by_host()
    for host in (
        "ws-api-spot.kucoin.com",
        "ws-api-futures.kucoin.com",
        "x-push-spot.kucoin.com",
        "x-push-futures.kucoin.com",
    ):
        assert table[host] is WS_PROTOCOL


def test_welcomes_and_refusals() -> None:
    greeting = WS_PROTOCOL.greeting
    assert greeting is not None
    classic = greeting(Frame('{"id": "c1", "type": "welcome"}'))
    uta = greeting(Frame('{"sessionId": "s", "message": "welcome", "pingInterval": 18000}'))
    assert classic is not None
    assert classic.ok
    assert uta is not None
    assert uta.ok
    refused = greeting(Frame('{"type": "error", "code": 401, "data": "token is invalid"}'))
    assert refused is not None
    assert not refused.ok
    assert greeting(Frame('{"id": "1", "result": true}')) is None


def test_uta_binary_frames_are_utf8_json() -> None:
    decode = WS_PROTOCOL.decode_bytes
    assert decode is not None
    assert decode('{"T": "obu.SPOT", "s": "é"}'.encode()) == '{"T": "obu.SPOT", "s": "é"}'
    assert decode(b"\xff\xfe") is None
