"""pybotters' WebSocket API as migrating users call it: the backoff tuple and
``await ws.heartbeat(timeout)``, against real loopback servers with virtual time."""

from __future__ import annotations

import asyncio
import random

import pytest
from _wstools import eventually, served

from datastores import Backoff, ConfigurationError, ConnectionLostError

URL = "wss://stream.example.test/ws"


class FixedRandom(random.Random):
    """``random()`` always returns ``value`` (the incumbent's tests patch it the same way)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_backoff_tuple_keeps_the_incumbents_meaning() -> None:
    # (min, max, factor, initial): first a random share of `initial`, then min * factor**n
    # capped at max; the incumbent's own test expects 42, 20, 30 with random() = 42.
    backoff = Backoff.from_tuple((10, 30, 2, 1))
    rng = FixedRandom(42.0)
    assert [backoff.delay(n, rng) for n in range(5)] == [42.0, 20.0, 30.0, 30.0, 30.0]
    defaults = Backoff.from_tuple((1.92, 60.0, 1.618, 5.0))
    delays = [defaults.delay(n, FixedRandom(0.5)) for n in range(10)]
    assert delays[0] == 2.5
    # Not truncated to whole seconds, unlike the incumbent (3, 5, 8, 13, ...).
    assert delays[1:4] == pytest.approx([1.92 * 1.618, 1.92 * 1.618**2, 1.92 * 1.618**3])
    assert delays[-1] == 60.0


@pytest.mark.parametrize(
    "bad",
    [(1, 2, 3), (1, 2, 3, 4, 5), (1, "2", 3, 4), (1, 2, True, 4), (5, 1, 2, 1), (1, 2, 0.5, 1)],
)
def test_a_bad_backoff_tuple_is_refused(bad: tuple[object, ...]) -> None:
    with pytest.raises(ConfigurationError, match=r"backoff|Backoff"):
        Backoff.from_tuple(bad)  # type: ignore[arg-type]


async def test_ws_connect_accepts_the_tuple_and_backs_off_with_it() -> None:
    async with served() as (server, client, clock):
        app = await client.ws_connect(
            URL, backoff=(1.0, 4.0, 2.0, 0.5), heartbeat=None, rng=FixedRandom(0.5)
        )
        server.refuse_next(4, 503)
        start = clock.monotonic()
        await server.live[0].ws.close()
        await eventually(lambda: app.statistics().reconnects == 1 and app.state.value == "open")
        # Five waits: 0.5 * 0.5, then 1 * 2, 4 (capped), 4, 4 virtual seconds.
        elapsed = clock.monotonic() - start
        assert 0.25 + 2 + 4 + 4 + 4 <= elapsed <= 0.25 + 2 + 4 + 4 + 4 + 0.5
        assert server.handshakes == 6
        # Our own forms still work.
        await client.ws_connect(URL, backoff=Backoff(initial=0.1, maximum=1.0))
        await client.ws_connect(URL, backoff=None)
        with pytest.raises(ConfigurationError, match="backoff"):
            await client.ws_connect(URL, backoff="fast")


async def test_heartbeat_returns_when_the_server_answers_the_ping() -> None:
    async with served() as (server, client, _):
        app = await client.ws_connect(URL, heartbeat=None, liveness_timeout=None)
        await app.heartbeat(5.0)
        pings = [f for f in server.connections[0].received if f.kind == "ping"]
        assert len(pings) == 1
        assert len(pings[0].data) == 4  # a random payload: its PONG is told from others
        assert app.statistics().reconnects == 0
        assert app.statistics().heartbeat_timeouts == 0


async def test_heartbeat_replaces_a_connection_whose_pong_never_comes() -> None:
    async with served() as (server, client, clock):
        app = await client.ws_connect(URL, heartbeat=None, liveness_timeout=None, send_str="sub")
        server.stop_answering_pings()
        start = clock.monotonic()
        task = asyncio.ensure_future(app.heartbeat(5.0))
        await eventually(lambda: app.statistics().heartbeat_timeouts >= 1)
        assert clock.monotonic() - start >= 5.0
        server.answer_pings = True
        await task  # returns once a PING is answered on a new connection
        assert app.statistics().reconnects >= 1
        assert server.connections[0].closed
        assert app.state.value == "open"
        assert server.live[-1].texts == ["sub"]  # resubscribed on the new connection
        last_pings = [f for f in server.live[-1].received if f.kind == "ping"]
        assert last_pings  # the answered PING went over the new connection


async def test_heartbeat_refuses_bad_timeouts_and_closed_apps() -> None:
    async with served() as (_, client, _):
        app = await client.ws_connect(URL, heartbeat=None)
        with pytest.raises(ConfigurationError, match="timeout"):
            await app.heartbeat(0)
        await app.close()
        with pytest.raises(ConnectionLostError, match="closed"):
            await app.heartbeat(1.0)
