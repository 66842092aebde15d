"""Message signing on WebSocket connections, and framing quirks (Socket.IO, deflate, gzip)."""

from __future__ import annotations

import hashlib
import hmac
import json
import zlib
from typing import Any

import pytest
from _wstools import SteppedClock, eventually, served
from yarl import URL

from datastores import Credentials
from datastores._ws.protocol import Frame, HandshakeInput, MessageSigningInput
from datastores.testing._verify import FakeKey, ReceivedRequest
from datastores.testing.profiles.bittrade.dialect import BittradeDialect
from datastores.testing.profiles.hyperliquid.verifier import verify_hyperliquid

# https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api/request-security
# ("SIGNED request example (HMAC)"): the documentation's own key, secret and result.
BINANCE_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_binance_websocket_api_signature_matches_the_documentation() -> None:
    from datastores.exchanges.binance.wsproto import sign_request

    request = {
        "id": "4885f793-e5ad-4c3b-8f6c-55d891472b71",
        "method": "order.place",
        "params": {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01000000",
            "price": "52000.00",
            "newOrderRespType": "ACK",
            "recvWindow": 100,
        },
    }
    credentials = Credentials("binance", BINANCE_KEY, BINANCE_SECRET)
    url = URL("wss://ws-api.binance.com:443/ws-api/v3")
    signed = sign_request(MessageSigningInput(request, credentials, url, 1645423376.532))
    params = signed["params"]
    assert params["timestamp"] == 1645423376532
    assert params["apiKey"] == BINANCE_KEY
    assert params["signature"] == "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"
    assert "signature" not in request["params"]  # the caller's dict is untouched


def test_binance_unsigned_methods_and_presigned_requests_are_left_alone() -> None:
    from datastores.exchanges.binance.wsproto import sign_request

    credentials = Credentials("binance", "K", "S")
    url = URL("wss://ws-api.binance.com/ws-api/v3")
    for message in (
        {"id": 1, "method": "ping"},
        {"id": 2, "method": "depth", "params": {"symbol": "BNBBTC"}},
        {"id": 3, "method": "order.place", "params": {"signature": "ed25519-by-caller"}},
        "not a request",
    ):
        assert sign_request(MessageSigningInput(message, credentials, url, 1.0)) is None


def test_bitmex_handshake_signature_matches_the_documentation() -> None:
    # https://www.bitmex.com/app/apiKeysUsage: GET /api/v1/instrument, expires 1518064236.
    from datastores.exchanges.bitmex.wsproto import EXPIRES_AFTER, handshake_headers

    credentials = Credentials(
        "bitmex", "LAqUlngMIQkIUjXMUreyu3qn", "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"
    )
    url = URL("wss://ws.bitmex.com/api/v1/instrument")
    headers = handshake_headers(HandshakeInput(credentials, url, 1518064236 - EXPIRES_AFTER))
    assert headers == {
        "api-expires": "1518064236",
        "api-key": "LAqUlngMIQkIUjXMUreyu3qn",
        "api-signature": "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00",
    }


def _binance_params_ok(params: dict[str, Any], secret: str) -> bool:
    # The server's own reading of the rule: every param but signature, sorted, k=v&k=v.
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(params.get("signature", "")))


async def test_binance_websocket_api_requests_are_signed_on_the_wire() -> None:
    subscribe = {"id": "uds", "method": "userDataStream.subscribe.signature", "params": {}}
    async with served(host="ws-api.binance.com", apis={"binance": ["K1", "S1"]}) as (
        server,
        client,
        clock,
    ):
        server.drop_next(1)
        app = await client.ws_connect("wss://ws-api.binance.com:443/ws-api/v3", send_json=subscribe)
        await eventually(lambda: app.statistics().reconnects == 1 and app.state.value == "open")
        order = {"id": 7, "method": "order.place", "params": {"symbol": "BTCUSDT", "quantity": "1"}}
        ws = app.current_ws
        assert ws is not None
        await ws.send_json(order)
        await ws.send_json({"id": 8, "method": "time"})
        await ws.send_json({"id": 9, "method": "order.status", "params": {"orderId": 1}}, auth=None)
        await eventually(lambda: len(server.connections[1].texts) == 4)
        first, second = (json.loads(c.texts[0]) for c in server.connections)
        # The subscription is re-signed on every connection, with a fresh timestamp.
        for sent in (first, second):
            assert sent["method"] == "userDataStream.subscribe.signature"
            assert sent["params"]["apiKey"] == "K1"
            assert _binance_params_ok(sent["params"], "S1")
        assert second["params"]["timestamp"] > first["params"]["timestamp"]
        placed, time_request, unsigned = (json.loads(t) for t in server.connections[1].texts[1:])
        assert _binance_params_ok(placed["params"], "S1")
        assert abs(placed["params"]["timestamp"] - clock.time() * 1000) < 60_000
        assert "params" not in time_request
        assert "signature" not in unsigned["params"]
        assert order["params"] == {"symbol": "BTCUSDT", "quantity": "1"}  # not mutated


async def test_bybit_trade_requests_carry_the_timestamp_header() -> None:
    async with served("bybit", host="stream.bybit.com", apis={"bybit": ["K", "S"]},
                      keys=[FakeKey("K", "S")]) as (server, client, clock):  # fmt: skip
        app = await client.ws_connect("wss://stream.bybit.com/v5/trade")
        ws = app.current_ws
        assert ws is not None
        request = {"reqId": "r1", "op": "order.create", "args": [{"symbol": "BTCUSDT"}]}
        await ws.send_json(request)
        await ws.send_json(
            {"reqId": "r2", "op": "order.cancel", "header": {"X-BAPI-TIMESTAMP": "5"}}
        )
        await eventually(lambda: len(server.connections[0].texts) == 3)
        created, cancelled = (json.loads(t) for t in server.connections[0].texts[1:])
        stamp = int(created["header"]["X-BAPI-TIMESTAMP"])
        assert abs(stamp - clock.time() * 1000) < 60_000
        assert cancelled["header"] == {"X-BAPI-TIMESTAMP": "5"}  # the caller's own is kept
        assert "header" not in request


async def test_hyperliquid_post_actions_are_signed_for_the_account() -> None:
    eth_account = pytest.importorskip("eth_account")
    private_key = "0x" + "4f" * 32
    address = eth_account.Account.from_key(private_key).address.lower()
    async with served(host="api.hyperliquid.xyz", apis={"hyperliquid": [private_key]}) as (
        server,
        client,
        clock,
    ):
        app = await client.ws_connect("wss://api.hyperliquid.xyz/ws")
        ws = app.current_ws
        assert ws is not None
        action = {"type": "cancel", "cancels": [{"a": 0, "o": 12345}]}
        post = {
            "method": "post",
            "id": 1,
            "request": {"type": "action", "payload": {"action": action}},
        }
        await ws.send_json(post)
        await ws.send_json({"method": "post", "id": 2, "request": {"type": "info", "payload": {}}})
        await eventually(lambda: len(server.connections[0].texts) == 2)
        sent = json.loads(server.connections[0].texts[0])
        payload = sent["request"]["payload"]
        received = ReceivedRequest(
            "POST", "api.hyperliquid.xyz", "/exchange", "", {}, json.dumps(payload).encode()
        )
        # The fake exchange's own verifier recovers the signer: it must be our account.
        verify_hyperliquid(received, {address: FakeKey(address, private_key)}, clock.time())
        assert json.loads(server.connections[0].texts[1])["request"]["payload"] == {}
        assert "signature" not in post["request"]["payload"]


# -- framing ------------------------------------------------------------------------


@pytest.mark.parametrize("eio", ["3", "4"])
async def test_bitbank_socket_io_rooms_pings_and_decoding(eio: str) -> None:
    join = '42["join-room","depth_whole_btc_jpy"]'
    strs: list[str] = []
    jsons: list[Any] = []
    clock = SteppedClock()  # time moves only below: a preempted test keeps its connection
    async with served("bitbank", host="stream.bitbank.cc", clock=clock) as (server, client, _):
        app = await client.ws_connect(
            f"wss://stream.bitbank.cc/socket.io/?EIO={eio}&transport=websocket",
            send_str=join,
            hdlr_str=lambda m, ws: strs.append(m),
            hdlr_json=lambda m, ws: jsons.append(m),
            heartbeat=None,
        )
        conn = server.connections[0]
        expected = [join] if eio == "3" else ["40", join]  # EIO=4: namespace connect first
        await eventually(lambda: conn.texts[: len(expected)] == expected)
        event = '42["message",{"room_name":"depth_whole_btc_jpy","message":{"data":{"s":"1"}}}]'
        await server.send(conn, event)
        await eventually(lambda: jsons)
        assert jsons == [
            ["message", {"room_name": "depth_whole_btc_jpy", "message": {"data": {"s": "1"}}}]
        ]
        assert event in strs  # raw text, prefix included (pings/pongs may follow it)
        assert app.statistics().undecodable == 0  # "0{...}", "40", "3" are not errors
        if eio == "3":  # the client pings ("2") every 15 s, the server answers ("3")
            for pings in (1, 2, 3):
                # Time moves once the heartbeat sleeps out its interval, and stands still
                # while a ping and its answer travel (their reply timeout cannot pass).
                await eventually(lambda: clock.deadline(":heartbeat") == clock.monotonic() + 15)
                clock.advance(15)
                await eventually(lambda n=pings: conn.texts.count("2") == n)
                await eventually(lambda n=pings: strs.count("3") == n)
            assert clock.monotonic() == 45
            stats = app.statistics()
            assert stats.heartbeat_timeouts == 0
            assert stats.connects == 1
        else:  # the server pings, we answer
            await server.send(conn, "2")
            await eventually(lambda: "3" in conn.texts)


async def test_okj_frames_are_inflated_for_json_handlers() -> None:
    jsons: list[Any] = []
    raw: list[bytes] = []
    keys = [FakeKey("K", "S", "P")]
    async with served(
        "okj", host="connect.okcoin.jp", apis={"okj": ["K", "S", "P"]}, keys=keys
    ) as (
        server,
        client,
        _,
    ):
        await client.ws_connect(
            "wss://connect.okcoin.jp:443/ws/v3",
            hdlr_json=lambda m, ws: jsons.append(m),
            hdlr_bytes=lambda m, ws: raw.append(m),
        )
        await server.send(server.connections[0], {"table": "spot/ticker", "data": [{"last": "1"}]})
        await eventually(lambda: len(jsons) == 2)
        assert jsons == [
            {"event": "login", "success": True},
            {"table": "spot/ticker", "data": [{"last": "1"}]},
        ]
        assert (
            zlib.decompress(raw[1], -zlib.MAX_WBITS)
            == b'{"table": "spot/ticker", "data": [{"last": "1"}]}'
        )


async def test_bittrade_server_pings_are_echoed_and_gzip_frames_decoded() -> None:
    jsons: list[Any] = []
    dialect = BittradeDialect(name="bittrade")
    dialect.state["gzip"] = True
    async with served(dialect, host="api-cloud.bittrade.co.jp") as (server, client, _):
        await client.ws_connect(
            "wss://api-cloud.bittrade.co.jp/ws", hdlr_json=lambda m, ws: jsons.append(m)
        )
        conn = server.connections[0]
        await server.send(conn, {"ping": 1700000000123})
        await server.send(conn, {"ch": "market.btcjpy.depth.step0", "tick": {"bids": []}})
        await eventually(lambda: '{"pong":1700000000123}' in conn.texts)
        await eventually(lambda: len(jsons) == 2)
        assert jsons[1] == {"ch": "market.btcjpy.depth.step0", "tick": {"bids": []}}
        # The server's frames really travel gzip-compressed.
        assert dialect.encode("{}")[:2] == b"\x1f\x8b"


def test_default_decoding_skips_plain_ping_pong_and_flags_other_text() -> None:
    from datastores._ws.protocol import NOT_JSON, SKIP

    assert Frame('{"a": 1}').data == {"a": 1}
    assert Frame("pong").data is SKIP
    assert Frame("hello").data is NOT_JSON
    assert Frame(None, b"\x00").data is NOT_JSON
    assert Frame('{"k": 2}').get("k") == 2
    assert Frame("[1]").get("k") is None
