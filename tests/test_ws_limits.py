"""WebSocketApp limits (issue 15): coroutine handlers in flight (point 14) and
handshakes a server never answers (point 15), on real loopback sockets."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import yarl
from _wstools import SteppedClock, eventually, ours, served, virtual_clock

from datastores import ConfigurationError, HandshakeError
from datastores._client import Client
from datastores._ws.app import DEFAULT_MAX_PENDING_HANDLERS, HANDSHAKE_TIMEOUT
from datastores._ws.backpressure import EPISODE_GAP

URL = "wss://stream.example.test/ws"


def _handler_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if "slow_handler" in repr(t.get_coro())]


async def test_coroutine_handlers_in_flight_are_bounded_with_backpressure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One task per message with no cap: 75,927 live tasks at 42k msg/s. Now the
    reader stops reading while ``max_pending_handlers`` are in flight."""
    gate = asyncio.Event()
    entered = 0
    live = 0
    most = 0

    async def slow_handler(message: Any, ws: Any) -> None:
        nonlocal entered, live, most
        entered += 1
        live += 1
        most = max(most, live)
        try:
            await gate.wait()
        finally:
            live -= 1

    clock = SteppedClock()  # the episodes' clock moves only where the test says
    async with served(clock=clock) as (server, client, _):
        app = await client.ws_connect(
            URL,
            hdlr_json=slow_handler,
            heartbeat=None,
            liveness_timeout=None,
            max_pending_handlers=10,
        )
        with caplog.at_level(logging.WARNING, logger="datastores.ws"):
            for i in range(200):
                await server.broadcast({"n": i})
            await eventually(lambda: entered == 10)
            await asyncio.sleep(0.2)  # the reader would have read everything by now
            assert entered == 10
            assert app.statistics().messages_in == 10
            assert len(_handler_tasks()) == 10
            stats = app.statistics()
            assert stats.handler_waits == 1
            assert stats.handlers_pending == 10
            gate.set()
            await eventually(lambda: entered == 200)
            await eventually(lambda: app.statistics().handlers_pending == 0)
            # The last pause ends (its time noted) when the reader next runs, which can
            # be after the test saw no handler pending: a frame read proves it has run.
            # Moving the clock before it did dated the end of episode one a minute later.
            await server.broadcast({"n": "read after the last pause"})
            await eventually(lambda: entered == 201 and app.statistics().handlers_pending == 0)
        assert most <= 10
        pauses = app.statistics().handler_waits
        assert pauses >= 2  # the reader paused again and again while draining...
        waits = [r for r in caplog.records if "handlers in flight" in r.getMessage()]
        assert len(waits) == 1  # ...with one WARNING for the episode, not one per pause
        assert waits[0].levelno == logging.WARNING
        # a minute later (client clock) a new pause is a new episode: warned about again
        clock.advance(EPISODE_GAP + 1)
        gate.clear()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="datastores.ws"):
            for i in range(30):
                await server.broadcast({"n": i})
            await eventually(lambda: entered == 211)
            assert app.statistics().handler_waits == pauses + 1
            gate.set()
            await eventually(lambda: entered == 231)
        assert len([r for r in caplog.records if "handlers in flight" in r.getMessage()]) == 1
        assert most <= 10
        await app.close()
        assert ours(asyncio.all_tasks()) == []


async def test_plain_handlers_never_wait_and_the_default_bound_is_documented() -> None:
    seen: list[Any] = []
    async with served() as (server, client, _clock):
        app = await client.ws_connect(URL, hdlr_json=lambda m, ws: seen.append(m), heartbeat=None)
        for i in range(50):
            await server.broadcast({"n": i})
        await eventually(lambda: len(seen) == 50)
        stats = app.statistics()
        assert stats.handler_waits == 0
        assert stats.handlers_pending == 0
        await app.close()
    assert DEFAULT_MAX_PENDING_HANDLERS == 1000


async def test_the_bound_spans_reconnections() -> None:
    """Tasks of a dropped connection still count: a reconnect must not double the cap."""
    gate = asyncio.Event()
    running = 0
    most = 0

    async def slow_handler(message: Any, ws: Any) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await gate.wait()
        finally:
            running -= 1

    # Time stands still: the watchdog must not replace the connection before the reader
    # pauses (the reconnect counted below is the test's own).
    async with served(clock=SteppedClock()) as (server, client, _clock):
        app = await client.ws_connect(
            URL, hdlr_json=slow_handler, heartbeat=None, max_pending_handlers=5
        )
        for i in range(8):
            await server.broadcast({"n": i})
        await eventually(lambda: running == 5)
        # (a close from the server would wait unread behind the paused reader)
        await app.reconnect()
        await eventually(lambda: app.statistics().reconnects == 1 and len(server.live) == 1)
        for i in range(8):
            await server.broadcast({"n": i})
        await asyncio.sleep(0.1)
        assert running == 5
        gate.set()
        await eventually(lambda: running == 0 and app.statistics().handlers_pending == 0)
        assert most == 5
        await app.close()


@pytest.mark.parametrize("heartbeat", [None, 10.0])
async def test_a_paused_reader_is_not_taken_for_a_dead_connection(heartbeat: float | None) -> None:
    """While the reader waits for handlers, nothing is read: not the data, not the
    PONG. The watchdog and the ping loop wait for the reader instead of replacing
    a connection whose frames are merely unread (virtual time runs on meanwhile)."""
    gate = asyncio.Event()
    done = 0

    async def slow_handler(message: Any, ws: Any) -> None:
        nonlocal done
        await gate.wait()
        done += 1

    # Time moves only by the test's advance: before the pause (or after it, once the
    # reader resumes) a ping whose PONG is in flight must not time out on its own.
    clock = SteppedClock()
    async with served(clock=clock) as (server, client, _):
        app = await client.ws_connect(
            URL, hdlr_json=slow_handler, heartbeat=heartbeat, max_pending_handlers=3
        )
        for i in range(10):
            await server.broadcast({"n": i})
        await eventually(lambda: app.statistics().handler_waits == 1)
        start = clock.monotonic()
        clock.advance(600)  # ten minutes of silence as far as the app can tell
        await asyncio.sleep(0.1)
        clock.advance(600)  # (a ping sent at the first step would have timed out now)
        await asyncio.sleep(0.1)
        assert clock.monotonic() - start >= 1200
        stats = app.statistics()
        assert stats.heartbeat_timeouts == 0
        assert stats.connects == 1
        gate.set()
        await eventually(lambda: done == 10)
        assert app.statistics().connects == 1
        await app.close()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", None])
async def test_max_pending_handlers_must_be_a_positive_int(bad: Any) -> None:
    async with served() as (_server, client, _clock):
        with pytest.raises(ConfigurationError, match="max_pending_handlers"):
            await client.ws_connect(URL, max_pending_handlers=bad)


# --------------------------------------------------------------------- point 15


async def _mute_server() -> tuple[asyncio.Server, int, list[asyncio.StreamWriter]]:
    held: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    listener = await asyncio.start_server(mute, "127.0.0.1", 0)
    return listener, listener.sockets[0].getsockname()[1], held


@pytest.mark.parametrize("timeout", [None, 4.0])
async def test_each_unanswered_handshake_is_logged_with_the_attempts_left(
    timeout: float | None, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that accepts TCP but never answers: 156 s before ws_connect raised,
    nothing logged for the first 30 s. Each timed-out attempt is now a WARNING that
    says which attempt it was and how many remain; the timeout is settable."""
    listener, port, held = await _mute_server()
    clock = virtual_clock()
    client = Client({}, redirects={"stream.example.test": f"ws://127.0.0.1:{port}"}, clock=clock)
    per_attempt = HANDSHAKE_TIMEOUT if timeout is None else timeout
    kwargs = {} if timeout is None else {"handshake_timeout": timeout}
    try:
        start = clock.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="datastores.ws"),
            pytest.raises(HandshakeError, match=f"within {per_attempt:g} s"),
        ):
            await client.ws_connect(URL, **kwargs)
        elapsed = clock.monotonic() - start
        assert len(held) == 5
        assert 5 * per_attempt <= elapsed <= 5 * per_attempt + 10.0
        messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        timed_out = [m for m in messages if "did not answer the WebSocket handshake" in m]
        assert len(timed_out) == 5
        for attempt, message in enumerate(timed_out, 1):
            assert f"attempt {attempt} of 5" in message
            left = 5 - attempt
            if left:
                assert f"{left} more before ws_connect() raises" in message
            else:
                assert "ws_connect() raises now" in message
        assert ours(asyncio.all_tasks()) == []
    finally:
        await client.close()
        for writer in held:
            writer.close()
        listener.close()
        await listener.wait_closed()


async def test_a_handshake_timeout_during_reconnection_is_logged_with_its_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the first connection the app retries forever; each timed-out attempt
    still says so (with its number) instead of passing in silence."""
    listener, port, held = await _mute_server()
    async with served() as (server, client, _clock):
        app = await client.ws_connect(URL, heartbeat=None, handshake_timeout=2.0)
        client._redirects["stream.example.test"] = yarl.URL(f"ws://127.0.0.1:{port}")  # now mute
        with caplog.at_level(logging.WARNING, logger="datastores.ws"):
            await server.live[0].ws.close()
            await eventually(lambda: len(held) >= 2, timeout=20)
            await eventually(
                lambda: sum("attempt 2:" in r.getMessage() for r in caplog.records) == 1,
                timeout=20,
            )
        messages = [r.getMessage() for r in caplog.records]
        assert any("attempt 1:" in m and "within 2 s" in m for m in messages)
        await app.close()
    for writer in held:
        writer.close()
    listener.close()
    await listener.wait_closed()


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "5", True])
async def test_handshake_timeout_must_be_a_positive_number(bad: Any) -> None:
    async with served() as (_server, client, _clock):
        with pytest.raises(ConfigurationError, match="handshake_timeout"):
            await client.ws_connect(URL, handshake_timeout=bad)
