"""Fault injection: every fault does exactly what it says, on the next message(s)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from datastores import _json
from datastores.testing import FakeExchange, VirtualClock


def _ws(fake: FakeExchange, venue: str, path: str) -> str:
    return "ws" + fake.venues[venue].url[4:] + path


async def test_skip_sequence_makes_a_gap_in_spot_and_futures(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with (
        session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth")) as spot,
        session.ws_connect(_ws(fake, "binance-usdsm", "/ws/btcusdt@depth")) as futures,
    ):
        await fake.wait_for_connections(2)
        fake.tick(1, "BTCUSDT", venue="binance-spot")
        fake.tick(1, "BTCUSDT", venue="binance-usdsm")
        before_spot = await spot.receive_json()
        before_futures = await futures.receive_json()
        fake.skip_sequence("BTCUSDT", venue="binance-spot")
        fake.skip_sequence("BTCUSDT", count=2, venue="binance-usdsm")
        fake.tick(3, "BTCUSDT", venue="binance-spot")
        fake.tick(3, "BTCUSDT", venue="binance-usdsm")
        after_spot = await spot.receive_json()
        after_futures = await futures.receive_json()
    assert after_spot["U"] > before_spot["u"] + 1
    assert after_futures["pu"] != before_futures["u"]
    assert fake.venues["binance-usdsm"].faults.fired["skip_sequence"] == 2


async def test_corrupt_checksum_is_refused_for_binance(fake: FakeExchange) -> None:
    with pytest.raises(NotImplementedError, match="no checksum"):
        fake.corrupt_checksum("BTCUSDT", venue="binance-spot")


async def test_drop_connections_abort_and_close(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth")) as ws:
        await fake.wait_for_connections(1)
        assert fake.drop_connections() == 1
        msg = await ws.receive()
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await fake.wait_for_connections(0)
    async with session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth")) as ws:
        await fake.wait_for_connections(1)
        fake.drop_connections(abort=False)
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert msg.data == 1001


async def test_drop_after_n_messages(fake: FakeExchange, session: aiohttp.ClientSession) -> None:
    async with session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth")) as ws:
        await fake.wait_for_connections(1)
        assert fake.drop_after(3, venue="binance-spot") == 1
        fake.tick(10, "BTCUSDT", venue="binance-spot")
        texts = []
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            texts.append(msg.data)
    assert len(texts) == 3


async def test_malformed_truncated_and_unknown_channel(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    async with session.ws_connect(_ws(fake, "binance-spot", "/ws/btcusdt@depth")) as ws:
        await fake.wait_for_connections(1)
        assert fake.send_malformed(venue="binance-spot") == 1
        malformed = await ws.receive_json()
        assert malformed["e"] == "depthUpdate"
        assert not isinstance(malformed["U"], int)
        fake.send_truncated(venue="binance-spot")
        truncated = (await ws.receive()).data
        with pytest.raises(ValueError):  # noqa: PT011 - the JSON decoder's own error
            _json.loads(truncated)
        fake.send_unknown_channel("BTCUSDT", venue="binance-spot")
        unknown = await ws.receive_json()
        assert unknown["e"] == "fakeUnknownEvent"


async def test_stop_answering_pings(fake: FakeExchange, session: aiohttp.ClientSession) -> None:
    url = _ws(fake, "binance-spot", "/ws/btcusdt@depth")
    async with session.ws_connect(url, autoping=False) as ws:
        await ws.ping(b"one")
        assert (await ws.receive()).type == aiohttp.WSMsgType.PONG
        fake.stop_answering_pings()
        await ws.ping(b"two")
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        # The server read the ping first and ignored it: the reply comes with no pong.
        reply = await ws.receive()
        assert reply.type == aiohttp.WSMsgType.TEXT
        fake.answer_pings()
        await ws.ping(b"three")
        assert (await ws.receive()).type == aiohttp.WSMsgType.PONG


async def test_server_pings_and_drops_a_silent_client(session: aiohttp.ClientSession) -> None:
    clock = VirtualClock(auto=False)
    async with FakeExchange("binance-spot", rate=0, levels=50, clock=clock) as fake:
        url = _ws(fake, "binance-spot", "/ws/btcusdt@depth")
        async with session.ws_connect(url, autoping=False) as ws:
            await fake.wait_for_connections(1)
            for _ in range(5):  # let the connection's ping task start sleeping
                await asyncio.sleep(0)
            clock.advance(20)  # Binance spot pings every 20 s
            assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.PING
            clock.advance(20)
            assert (await ws.receive(timeout=5)).type == aiohttp.WSMsgType.PING
            clock.advance(25)  # 65 s without a pong: over the 60 s limit
            msg = await ws.receive(timeout=5)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert msg.data == 1008


async def test_fail_rest_with_binance_error_shape(
    fake: FakeExchange, session: aiohttp.ClientSession
) -> None:
    base = fake.venues["binance-spot"].url
    fake.fail_rest(429, times=2, path="/api/v3/depth", retry_after=3, venue="binance-spot")
    for _ in range(2):
        async with session.get(base + "/api/v3/time") as r:
            assert r.status == 200  # another path is not affected
        async with session.get(base + "/api/v3/depth?symbol=BTCUSDT") as r:
            assert r.status == 429
            assert r.headers["Retry-After"] == "3"
            assert (await r.json())["code"] == -1003
    async with session.get(base + "/api/v3/depth?symbol=BTCUSDT") as r:
        assert r.status == 200
    fake.fail_rest(503, venue="binance-spot")
    async with session.get(base + "/api/v3/time") as r:
        assert (r.status, (await r.json())["code"]) == (503, -1001)
    statuses = [r.status for r in fake.requests(venue="binance-spot")]
    assert statuses == [200, 429, 200, 429, 200, 503]
