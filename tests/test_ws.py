"""WebSocketApp against real aiohttp servers on 127.0.0.1, with virtual time."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import traceback
from dataclasses import FrozenInstanceError
from typing import Any

import aiohttp
import pytest
from _wstools import SteppedClock, eventually, ours, served, virtual_clock
from hypothesis import given, settings
from hypothesis import strategies as st

from datastores import DataStoreCollection, HandshakeError
from datastores._client import Client
from datastores._ws import Backoff, ConnectionState, WebSocketApp, WebSocketStatistics
from datastores._ws.connection import WsConnection
from datastores._ws.ratelimit import TokenBucket
from datastores.testing import VirtualClock
from datastores.testing._ws_dialects import Dialect

URL = "wss://stream.example.test/ws"


class Recorder:
    """Handlers that record what they get."""

    def __init__(self) -> None:
        self.strs: list[str] = []
        self.jsons: list[Any] = []
        self.bytes: list[bytes] = []
        self.sockets: list[Any] = []

    def on_str(self, msg: str, ws: Any) -> None:
        self.strs.append(msg)
        self.sockets.append(ws)

    def on_json(self, msg: Any, ws: Any) -> None:
        self.jsons.append(msg)

    def on_bytes(self, msg: bytes, ws: Any) -> None:
        self.bytes.append(msg)


class Collection(DataStoreCollection):
    def _init(self) -> None:
        self.messages: list[Any] = []
        self.reconnects: list[Any] = []

    def _onmessage(self, msg: Any, ws: Any) -> None:
        self.messages.append(msg)

    def on_reconnect(self, ws: Any = None) -> None:
        self.reconnects.append(ws)


async def test_connect_returns_after_subscriptions_are_written() -> None:
    async with served() as (server, client, _):
        app = await client.ws_connect(
            URL, send_str=["a", "b"], send_json={"op": "sub"}, send_bytes=b"\x01"
        )
        # Written before connect() returned (pybotters returned before sending).
        assert app.statistics().messages_out == 4
        assert app.state is ConnectionState.OPEN
        await eventually(lambda: len(server.connections[0].received) == 4)
        assert server.connections[0].texts == ["a", "b", '{"op":"sub"}']
        assert isinstance(app, WebSocketApp)
        assert isinstance(app.current_ws, WsConnection)
        assert await app is app


async def test_handlers_get_decoded_messages_and_errors_do_not_stop_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = Recorder()
    calls: list[Any] = []

    def broken(msg: Any, ws: Any) -> None:
        calls.append(msg)
        raise RuntimeError("handler bug")

    async with served() as (server, client, _):
        app = await client.ws_connect(
            URL, hdlr_str=rec.on_str, hdlr_json=[broken, rec.on_json], hdlr_bytes=rec.on_bytes
        )
        conn = server.connections[0]
        await server.send(conn, {"n": 1})
        await conn.ws.send_bytes(b'{"n": 2}')
        await server.send(conn, "not json")
        await server.send(conn, {"n": 3})
        await eventually(lambda: len(rec.jsons) == 3)
        assert rec.jsons == [{"n": 1}, {"n": 2}, {"n": 3}]
        assert rec.strs == ['{"n": 1}', "not json", '{"n": 3}']
        assert rec.bytes == [b'{"n": 2}']
        assert rec.sockets[0] is app.current_ws
        stats = app.statistics()
        assert stats.handler_errors == 3
        assert stats.undecodable == 1
        assert stats.messages_in == 4
        assert calls == rec.jsons
        assert "handler bug" in caplog.text


async def test_a_frame_too_deeply_nested_to_decode_is_counted_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # orjson refuses deep nesting, the stdlib fallback raised RecursionError (not a
    # ValueError) out of the reader: the connection was dropped, silently reported as
    # "closed by the server", and the frames after it were lost.
    seen: list[Any] = []
    async with served() as (server, client, _):
        app = await client.ws_connect(URL, hdlr_json=lambda msg, ws: seen.append(msg))
        conn = server.connections[0]
        await server.send(conn, "[" * 100_000 + "]" * 100_000)
        await server.send(conn, {"after": 1})
        await eventually(lambda: seen == [{"after": 1}])
        stats = app.statistics()
        assert (stats.reconnects, stats.undecodable, stats.messages_in) == (0, 1, 2)
    assert "not JSON" in caplog.text


async def test_an_unexpected_reader_failure_is_reported_with_its_cause(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datastores._ws import session as _wssession

    original = _wssession.Session._dispatch

    def dispatch(self: Any, frame: Any, is_text: bool) -> None:
        if frame.text == "boom":
            raise RuntimeError("dispatch bug")
        original(self, frame, is_text)

    monkeypatch.setattr(_wssession.Session, "_dispatch", dispatch)
    async with served() as (server, client, _):
        app = await client.ws_connect(URL)
        await server.send(server.connections[0], "boom")
        await eventually(lambda: app.statistics().reconnects == 1)
    assert "reading failed (RuntimeError: dispatch bug)" in caplog.text
    assert "closed by the server" not in caplog.text


async def test_coroutine_handlers_run_and_their_errors_are_counted() -> None:
    seen: list[Any] = []

    async def handler(msg: Any, ws: Any) -> None:
        await asyncio.sleep(0)
        seen.append(msg)
        if msg == 2:
            raise ValueError("async handler bug")

    async with served() as (server, client, _):
        app = await client.ws_connect(URL, hdlr_json=handler)
        for n in (1, 2, 3):
            await server.send(server.connections[0], str(n))
        await eventually(lambda: seen == [1, 2, 3] and app.statistics().handler_errors == 1)


async def test_handler_errors_carry_their_traceback_at_debug_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # For coroutine handlers the error is reported from a done callback, where
    # exc_info=True logged "NoneType: None" instead of the handler's traceback.
    caplog.set_level(logging.DEBUG, "datastores.ws")

    def sync_handler(msg: Any, ws: Any) -> None:
        raise KeyError("sync handler bug")

    async def async_handler(msg: Any, ws: Any) -> None:
        raise ValueError("async handler bug")

    async with served() as (server, client, _):
        app = await client.ws_connect(URL, hdlr_json=[sync_handler, async_handler])
        await server.send(server.connections[0], {"n": 1})
        await eventually(lambda: app.statistics().handler_errors == 2)
    records = [r for r in caplog.records if "handler errors so far" in r.getMessage()]
    assert [type(r.exc_info[1]).__name__ for r in records if r.exc_info] == [
        "KeyError",
        "ValueError",
    ]
    assert "NoneType: None" not in caplog.text
    assert 'raise ValueError("async handler bug")' in caplog.text


async def test_slow_coroutine_handlers_do_not_hold_back_frames_or_heartbeats() -> None:
    done: list[Any] = []
    async with served() as (server, client, clock):

        async def slow(msg: Any, ws: Any) -> None:
            await clock.sleep(300.0)  # far longer than the heartbeat and the watchdog
            done.append(msg)

        seen: list[Any] = []
        app = await client.ws_connect(
            URL, hdlr_json=[slow, lambda msg, ws: seen.append(msg)], heartbeat=10.0
        )
        conn = server.connections[0]
        for n in range(3):
            await server.send(conn, {"n": n})
        await eventually(lambda: len(seen) == 3)  # the next handler is not held back
        start = clock.monotonic()
        await eventually(lambda: len(done) == 3 and clock.monotonic() - start > 400)
        stats = app.statistics()
        assert (stats.reconnects, stats.heartbeat_timeouts, stats.handler_errors) == (0, 0, 0)
        assert sum(f.kind == "ping" for f in conn.received) >= 20


async def test_reconnects_after_drops_resubscribes_and_tells_the_stores() -> None:
    store = Collection()
    async with served() as (server, client, _):
        server.drop_next(3)
        app = await client.ws_connect(URL, send_json={"op": "sub"}, hdlr_json=store.onmessage)
        await eventually(lambda: app.statistics().reconnects == 3 and app.state.value == "open")
        await eventually(lambda: len(server.connections) == 4 and server.live)
        await eventually(lambda: server.live[0].texts == ['{"op":"sub"}'])
        assert [c.texts for c in server.connections] == [['{"op":"sub"}']] * 4
        await server.broadcast({"after": "drops"})
        await eventually(lambda: store.messages == [{"after": "drops"}])
        # Told once per reconnect, with the new connection.
        assert len(store.reconnects) == 3
        assert store.reconnects[-1] is app.current_ws
        stats = app.statistics()
        assert (stats.connects, stats.reconnects) == (4, 3)


class Greeter(Dialect):
    """Pushes a message the moment a connection opens."""

    def greeting(self, path: str, query: Any) -> list[str]:
        return ['{"hello": 1}']


async def test_stores_hear_of_the_reconnect_before_any_new_frame() -> None:
    events: list[str] = []

    class Ordered(DataStoreCollection):
        def _onmessage(self, msg: Any, ws: Any) -> None:
            events.append("message")

        def on_reconnect(self, ws: Any = None) -> None:
            events.append("reconnect")

    store = Ordered()
    async with served(Greeter()) as (server, client, _):
        app = await client.ws_connect(URL, hdlr_json=store.onmessage)
        await eventually(lambda: events == ["message"])
        await server.connections[0].ws.close()
        await eventually(lambda: app.statistics().reconnects == 1 and len(events) == 3)
        assert events == ["message", "reconnect", "message"]


async def test_coroutine_on_reconnect_hooks_are_run_and_their_errors_counted() -> None:
    # Handlers may be coroutines; an `async def on_reconnect` was called but never
    # awaited (RuntimeWarning, and the store's resync silently never ran).
    events: list[str] = []

    class AsyncHook(DataStoreCollection):
        def _onmessage(self, msg: Any, ws: Any) -> None:
            events.append("message")

        async def on_reconnect(self, ws: Any = None) -> None:  # type: ignore[override]
            events.append("reconnect")  # before the first await: before any new frame
            await asyncio.sleep(0)
            events.append("resynced")
            raise RuntimeError("resync failed")

    store = AsyncHook()
    async with served(Greeter()) as (server, client, _):
        app = await client.ws_connect(URL, hdlr_json=store.onmessage)
        await server.connections[0].ws.close()
        await eventually(lambda: "resynced" in events and app.statistics().handler_errors == 1)
        await eventually(lambda: events.count("message") == 2)
        assert events.index("reconnect") < events.index("message", 1)


def test_token_bucket_spaces_messages_and_repays_debt() -> None:
    async def scenario() -> list[float]:
        clock = VirtualClock()
        bucket = TokenBucket(4.0, clock=clock)
        grants = []
        for _ in range(5):
            await bucket.acquire()
            grants.append(clock.monotonic())
        bucket.consume_now()  # a pong that could not wait: the bucket is in debt
        assert bucket.tokens() < 0
        await bucket.acquire()
        grants.append(clock.monotonic())
        return grants

    grants = asyncio.run(scenario())
    assert grants[:5] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert grants[5] == pytest.approx(1.5)  # one slot went to the urgent frame


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=50.0),
    gaps=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=30),
)
def test_token_bucket_never_exceeds_its_rate_in_any_window(rate: float, gaps: list[float]) -> None:
    async def scenario() -> list[float]:
        clock = VirtualClock()
        bucket = TokenBucket(rate, clock=clock)
        grants: list[float] = []

        async def sender(delay: float) -> None:
            await clock.sleep(delay)
            await bucket.acquire()
            grants.append(clock.monotonic())

        start = 0.0
        tasks = []
        for gap in gaps:
            start += gap / 4
            tasks.append(asyncio.ensure_future(sender(start)))
        await asyncio.gather(*tasks)
        return sorted(grants)

    grants = asyncio.run(scenario())
    for earlier, later in itertools.pairwise(grants):
        assert later - earlier >= 1 / rate - 1e-6


async def test_backoff_grows_with_failures_and_stays_capped() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0, factor=2.0, reset_after=30.0)
    rng = random.Random(7)
    for failures, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (10, 8.0), (10_000, 8.0)]:
        assert backoff.ceiling(failures) == ceiling
        for _ in range(50):
            assert ceiling / 2 <= backoff.delay(failures, rng) <= ceiling


def test_backoff_without_growth_stays_at_its_initial_delay() -> None:
    # factor=1 means a constant delay; the cap shortcut returned `maximum` (60 s) instead.
    backoff = Backoff(initial=1.0, maximum=60.0, factor=1.0)
    rng = random.Random(3)
    for failures in (0, 1, 5, 10_000):
        assert backoff.ceiling(failures) == 1.0
        assert 0.5 <= backoff.delay(failures, rng) <= 1.0
    assert Backoff(initial=2.0, maximum=2.0, factor=3.0).ceiling(0) == 2.0


async def test_refused_handshakes_during_reconnect_back_off_then_recover() -> None:
    async with served() as (server, client, clock):
        backoff = Backoff(initial=1.0, maximum=4.0, factor=2.0, reset_after=30.0)
        app = await client.ws_connect(URL, backoff=backoff, heartbeat=None)
        server.refuse_next(4, 503)
        start = clock.monotonic()
        await server.live[0].ws.close()
        await eventually(lambda: app.statistics().reconnects == 1 and app.state.value == "open")
        # Five waits: 0.5-1, 1-2, 2-4, 2-4, 2-4 seconds of virtual time.
        elapsed = clock.monotonic() - start
        assert 0.5 + 1 + 2 + 2 + 2 <= elapsed <= 1 + 2 + 4 + 4 + 4 + 0.5
        assert server.handshakes == 6


async def test_an_unanswered_handshake_times_out_on_the_client_clock() -> None:
    # A server that accepts TCP but never answers the upgrade held each attempt for
    # aiohttp's 300 s session timeout (real time): the 60 s backoff cap meant nothing
    # and the app sat silent for five minutes per attempt.
    held: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    listener = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    clock = virtual_clock()
    client = Client({}, redirects={"stream.example.test": f"ws://127.0.0.1:{port}"}, clock=clock)
    try:
        start = clock.monotonic()
        with pytest.raises(HandshakeError, match="did not answer the WebSocket handshake"):
            await client.ws_connect(URL)
        assert len(held) == 5  # five attempts, each cut short, then a clear error
        assert 5 * 30.0 <= clock.monotonic() - start <= 5 * 30.0 + 10.0
        assert ours(asyncio.all_tasks()) == []
    finally:
        await client.close()
        for writer in held:
            writer.close()
        listener.close()
        await listener.wait_closed()


async def test_a_close_that_lands_as_a_handshake_completes_closes_the_new_socket() -> None:
    # The handshake runs in its own task (for its timeout): a close() landing just
    # as it completed dropped the fresh socket without closing it (a leaked
    # connection, "Unclosed connection" at garbage collection). Time stands still: the
    # watchdog must not replace the first connection while the test is preempted.
    async with served(clock=SteppedClock()) as (server, client, _):
        app = await client.ws_connect(URL, heartbeat=None)
        original = client.ws_session.ws_connect
        closing: list[asyncio.Future[None]] = []

        async def handshake_then_close(*args: Any, **kwargs: Any) -> Any:
            raw = await original(*args, **kwargs)
            closing.append(asyncio.ensure_future(app.close()))  # lands right now
            return raw

        client.ws_session.ws_connect = handshake_then_close  # type: ignore[method-assign]
        await app.reconnect()
        await eventually(lambda: bool(closing) and closing[0].done())
        assert app.closed
        assert len(server.connections) == 2
        await eventually(lambda: server.connections[1].closed)  # not left open


async def test_first_connect_fails_clearly_on_http_4xx() -> None:
    async with served() as (server, client, _):
        server.refuse_next(1, 404)
        before = asyncio.all_tasks()
        with pytest.raises(HandshakeError, match="HTTP 404"):
            await client.ws_connect(URL)
        assert server.handshakes == 1
        assert ours(asyncio.all_tasks() - before) == []


async def test_first_connect_retries_transient_failures_then_gives_up() -> None:
    async with served() as (server, client, _):
        server.refuse_next(2, 503)
        app = await client.ws_connect(URL)
        assert app.state is ConnectionState.OPEN
        assert server.handshakes == 3
        await app.close()
        server.refuse_next(10, 503)
        with pytest.raises(HandshakeError, match="HTTP 503"):
            await client.ws_connect(URL)
        assert server.handshakes == 3 + 5


async def test_missing_pong_replaces_the_connection() -> None:
    async with served() as (server, client, _):
        app = await client.ws_connect(URL, heartbeat=10.0, send_str="sub")
        server.stop_answering_pings()
        await eventually(lambda: app.statistics().heartbeat_timeouts >= 1)
        server.answer_pings = True
        await eventually(lambda: app.statistics().reconnects >= 1 and app.state.value == "open")
        assert server.connections[0].closed
        await eventually(lambda: server.live and server.live[-1].texts == ["sub"])


async def test_silence_watchdog_replaces_the_connection_when_heartbeat_is_off() -> None:
    async with served() as (_, client, clock):
        app = await client.ws_connect(URL, heartbeat=None, liveness_timeout=30.0)
        start = clock.monotonic()
        await eventually(lambda: app.statistics().reconnects >= 1)
        assert clock.monotonic() - start >= 30.0
        assert app.statistics().heartbeat_timeouts >= 1


async def test_a_long_heartbeat_keeps_a_quiet_stream_without_false_reconnects() -> None:
    # The default watchdog (60 s) fired before a 100 s heartbeat ever pinged: a
    # healthy but quiet stream (a private channel, no server pings) was replaced
    # every minute.
    async with served() as (server, client, clock):
        app = await client.ws_connect(URL, heartbeat=100.0)
        start = clock.monotonic()
        await eventually(lambda: clock.monotonic() - start > 1000)
        assert app.statistics().reconnects == 0
        assert app.statistics().heartbeat_timeouts == 0
        assert sum(f.kind == "ping" for f in server.connections[0].received) >= 9
        # A watchdog the caller asks for is kept as given.
        watched = await client.ws_connect(URL, heartbeat=100.0, liveness_timeout=30.0)
        start = clock.monotonic()
        await eventually(lambda: watched.statistics().heartbeat_timeouts >= 1)
        assert 30.0 <= clock.monotonic() - start < 100.0


async def test_server_pings_are_answered_unless_autoping_is_off() -> None:
    async with served() as (server, client, _):
        await client.ws_connect(URL, heartbeat=None)
        await server.ping(server.connections[0], b"abc")
        await client.ws_connect(URL, heartbeat=None, autoping=False)
        await server.ping(server.connections[1], b"xyz")
        await eventually(lambda: any(f.kind == "pong" for f in server.connections[0].received))
        pong = next(f for f in server.connections[0].received if f.kind == "pong")
        assert pong.data == b"abc"  # the payload is echoed
        await asyncio.sleep(0.01)
        assert not any(f.kind == "pong" for f in server.connections[1].received)


async def test_url_can_change_for_the_next_connection() -> None:
    async with served() as (server, client, _):
        app = await client.ws_connect(URL + "?token=old")
        app.url = "wss://stream.example.test/ws?token=new"
        assert str(app.url).endswith("token=new")
        await server.connections[0].ws.close()
        await eventually(lambda: len(server.connections) == 2)
        assert server.connections[0].query == {"token": "old"}
        assert server.connections[1].query == {"token": "new"}


async def test_tokens_in_urls_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "datastores")
    token = "TOKEN0123456789abcdefTOKEN0123456789"
    async with served() as (server, client, _):
        app = await client.ws_connect(f"wss://stream.example.test/ws/{token}?listenKey={token}")
        assert token not in repr(app)
        assert token not in repr(app.current_ws)
        server.refuse_next(1, 401)
        await server.connections[0].ws.close()
        await eventually(lambda: app.statistics().reconnects == 1)
        server.refuse_next(1, 404)
        with pytest.raises(HandshakeError) as raised:
            await client.ws_connect(f"wss://stream.example.test/{token}")
        assert token not in str(raised.value)
    assert "HTTP 401" in caplog.text
    assert token not in caplog.text


async def test_tokens_in_urls_stay_out_of_the_whole_traceback() -> None:
    # The message was clean, but the chained aiohttp error named the full URL: an
    # uncaught HandshakeError printed the KuCoin token / Binance listenKey.
    token = "TOKEN0123456789abcdefTOKEN0123456789"
    async with served() as (server, client, _):
        server.refuse_next(1, 404)
        with pytest.raises(HandshakeError) as raised:
            await client.ws_connect(f"wss://stream.example.test/ws/{token}?listenKey={token}")
    error = raised.value
    cause = error.__cause__
    assert isinstance(cause, aiohttp.WSServerHandshakeError)  # still chained
    assert cause.status == 404
    shown = "".join(traceback.format_exception(error))
    chain: BaseException | None = error
    while chain is not None:
        shown += f"{chain!s} {chain!r}"
        chain = chain.__cause__ or chain.__context__
    assert "HTTP 404" in shown
    assert token not in shown


async def test_reconnect_replaces_the_connection_at_once() -> None:
    frozen = VirtualClock(auto=False)  # time stands still: no backoff may be needed
    async with served(clock=frozen) as (server, client, _):
        app = await client.ws_connect(URL, send_str="sub")
        first = app.current_ws
        await app.reconnect()
        await eventually(lambda: app.statistics().reconnects == 1 and app.state.value == "open")
        assert app.current_ws is not first
        await eventually(lambda: server.connections[1].texts == ["sub"])


async def test_reconnect_during_the_backoff_connects_at_once_to_the_new_url() -> None:
    # Token rotation after a drop: reconnect() was a no-op while the app slept its
    # backoff (up to a minute), so the new URL waited for the backoff to end.
    frozen = VirtualClock(auto=False)  # time stands still: the backoff never ends by itself
    async with served(clock=frozen) as (server, client, _):
        app = await client.ws_connect(URL + "?token=old", send_str="sub")
        await server.connections[0].ws.close()
        await eventually(lambda: app.state is ConnectionState.RECONNECTING)
        assert app.current_ws is None
        app.url = URL + "?token=new"
        await app.reconnect()
        await eventually(lambda: app.state is ConnectionState.OPEN)
        assert [c.query for c in server.connections] == [{"token": "old"}, {"token": "new"}]
        await eventually(lambda: server.connections[1].texts == ["sub"])


async def test_reconnect_during_a_handshake_connects_again_to_the_new_url() -> None:
    frozen = VirtualClock(auto=False)
    async with served(clock=frozen) as (server, client, _):
        app = await client.ws_connect(URL + "?token=old", heartbeat=None)
        entered, gate = asyncio.Event(), asyncio.Event()
        original = client.ws_session.ws_connect

        async def slow_handshake(*args: Any, **kwargs: Any) -> Any:
            entered.set()
            await gate.wait()
            return await original(*args, **kwargs)

        client.ws_session.ws_connect = slow_handshake  # type: ignore[method-assign]
        await app.reconnect()  # no backoff: straight into the (held) handshake
        await asyncio.wait_for(entered.wait(), 5)
        app.url = URL + "?token=new"
        await app.reconnect()
        gate.set()
        await eventually(lambda: app.state is ConnectionState.OPEN)
        assert app.current_ws is not None
        assert app.current_ws.url.query["token"] == "new"
        await eventually(lambda: server.connections[-1].query == {"token": "new"})


async def test_current_ws_sends_in_order_and_nowait_from_handlers() -> None:
    async with served() as (server, client, _):

        def echo(msg: Any, ws: Any) -> None:
            ws.send_json_nowait({"echo": msg})

        app = await client.ws_connect(URL, hdlr_json=echo)
        ws = app.current_ws
        assert ws is not None
        await ws.send_str("one")
        await ws.send_json({"two": 2})
        await server.send(server.connections[0], {"three": 3})
        await eventually(lambda: len(server.connections[0].texts) == 3)
        assert server.connections[0].texts == ["one", '{"two":2}', '{"echo":{"three":3}}']


async def test_close_and_client_close_leave_no_task_running() -> None:
    before = asyncio.all_tasks()
    async with served() as (_, client, _):
        first = await client.ws_connect(URL, send_str="x", hdlr_str=lambda m, ws: None)
        second = await client.ws_connect(URL, heartbeat=5.0)
        assert len(ours(asyncio.all_tasks())) >= 8
        await first.close()
        assert first.state is ConnectionState.CLOSED
        assert first.current_ws is None
        await first.close()  # idempotent
        await client.close()  # closes `second`
        assert second.closed
        assert ours(asyncio.all_tasks()) == []
        await second.wait()  # returns at once: the app has ended
    await eventually(lambda: asyncio.all_tasks() - before <= {asyncio.current_task()})


async def test_a_close_cancelled_midway_still_stops_the_handler_tasks() -> None:
    # app.close() cancelled while it waited for the connection to shut (a timeout
    # around the shutdown) left the coroutine handlers' tasks running for ever.
    started = asyncio.Event()

    async def stuck_handler(msg: Any, ws: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    def handler_tasks() -> list[asyncio.Task[Any]]:
        return [
            t
            for t in asyncio.all_tasks()
            if getattr(t.get_coro(), "__name__", "") == "stuck_handler"
        ]

    async with served() as (server, client, _):
        app = await client.ws_connect(URL, hdlr_json=stuck_handler)
        await server.send(server.connections[0], {"n": 1})
        await started.wait()
        assert len(handler_tasks()) == 1
        closing = asyncio.ensure_future(app.close())
        await asyncio.sleep(0)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert handler_tasks() == [] or all(t.cancelling() for t in handler_tasks())
        await eventually(lambda: handler_tasks() == [] and ours(asyncio.all_tasks()) == [])
        assert app.closed


async def test_async_with_closes_the_app() -> None:
    async with served() as (server, client, _):
        async with await client.ws_connect(URL) as app:
            assert app.state is ConnectionState.OPEN
        assert app.closed
        await eventually(lambda: server.connections[0].closed)


async def test_statistics_is_a_frozen_snapshot() -> None:
    async with served() as (server, client, clock):
        app = await client.ws_connect(URL)
        before = app.statistics()
        await server.send(server.connections[0], "{}")
        await eventually(lambda: app.statistics().messages_in == 1)
        assert before.messages_in == 0
        assert isinstance(before, WebSocketStatistics)
        with pytest.raises(FrozenInstanceError):
            before.messages_in = 5  # type: ignore[misc]
        assert app.statistics().last_message_at == pytest.approx(clock.time(), abs=60)


async def test_unknown_hosts_get_no_protocol_and_bad_arguments_are_refused() -> None:
    async with served() as (_, client, _):
        from datastores import ConfigurationError

        with pytest.raises(ConfigurationError, match="ws:// or wss://"):
            await client.ws_connect("https://stream.example.test/ws")
        with pytest.raises(ConfigurationError, match="callables"):
            await client.ws_connect(URL, hdlr_json="not callable")
        with pytest.raises(ConfigurationError, match="backoff"):
            await client.ws_connect(URL, backoff=(1, 2, 3))  # (min, max, factor, initial)
        with pytest.raises(ConfigurationError, match="heartbeat"):
            await client.ws_connect(URL, heartbeat=0)


async def test_closing_during_the_first_connection_stops_everything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "datastores.ws")
    async with served() as (server, client, _):
        server.refuse_next(3, 503)
        task = asyncio.ensure_future(client.ws_connect(URL))
        await eventually(lambda: server.handshakes >= 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ours(asyncio.all_tasks()) == []


def test_json_list_means_several_messages() -> None:
    # A top-level JSON array is sent through send_str (documented limitation).
    assert json.dumps([1, 2]) == "[1, 2]"
    clock = virtual_clock()

    class FakeClient:
        def __init__(self) -> None:
            self.clock = clock

    app = WebSocketApp(FakeClient(), URL, send_json=[{"a": 1}, {"b": 2}], send_str="[1,2]")
    assert app._sends == (("str", "[1,2]"), ("json", {"a": 1}), ("json", {"b": 2}))


def test_the_counters_are_written_only_through_their_methods() -> None:
    from datastores._ws.stats import Counters

    counters = Counters()
    assert counters.connected() is False
    assert counters.connected() is True
    counters.frame_received(12.5)
    counters.frame_sent()
    assert counters.handler_failed() == 1
    assert counters.frame_undecodable() == 1
    counters.auth_failed()
    counters.heartbeat_timed_out()
    assert counters.snapshot(ConnectionState.OPEN) == WebSocketStatistics(
        state=ConnectionState.OPEN,
        connects=2,
        reconnects=1,
        messages_in=1,
        messages_out=1,
        handler_errors=1,
        undecodable=1,
        auth_failures=1,
        heartbeat_timeouts=1,
        last_message_at=12.5,
    )
    with pytest.raises(AttributeError):
        counters.connects = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        counters.messages_in = 5  # type: ignore[attr-defined]
