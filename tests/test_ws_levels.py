"""Frames decoded straight into Level objects, for collections that accept them.

``datastores._ws.protocol.decoder_for`` picks ``loads_levels`` only when every
``hdlr_json`` is the ``onmessage`` of a collection declaring ``_ACCEPTS_LEVELS``
and none of them has change observers; anything else decodes as before. A
Binance store fed through either decoder ends in the same state: books,
statuses, counters, for a depth stream with gaps, malformed levels and junk.
"""

from __future__ import annotations

import json
import pathlib
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from _bookimpl import native
from _faketools import caught_up, settle

from datastores import BybitDataStore, _bookside, _json
from datastores._client import Client
from datastores._ws.protocol import SKIP, decoder_for, default_decode_text
from datastores.apps.record import Recorder
from datastores.exchanges.binance.store import (
    BinanceSpotDataStore,
    BinanceUSDSMDataStore,
)
from datastores.testing import FakeExchange, VirtualClock

pytestmark = pytest.mark.skipif(
    native is None or not _bookside.NATIVE, reason="the C extension is not in use"
)

SYMBOL = "BTCUSDT"


def _level_type() -> type:
    assert native is not None
    return native.Level  # type: ignore[no-any-return]


# ------------------------------------------------------------ choosing the decoder


def test_a_binance_onmessage_gets_the_level_decoder() -> None:
    store = BinanceSpotDataStore()
    decode = decoder_for([store.onmessage])
    assert decode is not default_decode_text
    message = decode('{"e":"depthUpdate","b":[["1.5","2"]],"a":[]}')
    assert type(message["b"][0]) is _level_type()
    assert message == {"e": "depthUpdate", "b": [["1.5", "2"]], "a": []}
    # what it does not cover goes to the default decoder: control text, bad JSON
    assert decode("pong") is SKIP
    assert decode('{"a":"caf\u00e9"}') == {"a": "caf\u00e9"}
    assert decode("[1,") is default_decode_text("[1,")


def test_two_binance_collections_share_the_level_decoder() -> None:
    spot, futures = BinanceSpotDataStore(), BinanceUSDSMDataStore()
    decode = decoder_for([spot.onmessage, futures.onmessage, spot.onmessage])
    assert type(decode('[["1","2"]]')[0]) is _level_type()
    futures.add_observer(lambda batch: None)
    assert type(decode('[["1","2"]]')[0]) is list


@pytest.mark.parametrize(
    "handlers",
    [
        pytest.param(lambda s: [], id="no handler"),
        pytest.param(lambda s: [s.onmessage, print], id="mixed"),
        pytest.param(lambda s: [s._onmessage], id="another method"),
        pytest.param(lambda s: [BybitDataStore().onmessage], id="not opted in"),
        pytest.param(lambda s: [lambda msg, ws: None], id="a function"),
    ],
)
def test_other_handler_lists_keep_the_default_decoder(
    handlers: Callable[[Any], list[Any]],
) -> None:
    assert decoder_for(handlers(BinanceSpotDataStore())) is default_decode_text


def test_a_protocol_decoder_is_kept() -> None:
    def socket_io(text: str) -> Any:
        return text

    assert decoder_for([BinanceSpotDataStore().onmessage], socket_io) is socket_io


def test_the_pure_book_side_keeps_the_default_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_bookside, "NATIVE", False)
    assert decoder_for([BinanceSpotDataStore().onmessage]) is default_decode_text


def test_observers_get_plain_lists_and_can_encode_them() -> None:
    store = BinanceSpotDataStore()
    decode = decoder_for([store.onmessage])
    batches: list[Any] = []
    store.add_observer(batches.append)
    message = decode('{"e":"depthUpdate","b":[["1.5","2"]],"a":[]}')
    assert type(message["b"][0]) is list
    store.remove_observer(batches.append)
    assert type(decode('[["1","2"]]')[0]) is _level_type()
    # Levels already in a book (decoded before an observer came) still encode as lists
    assert _json.dumps({"b": decode('[["1","2"]]')}) == '{"b":[["1","2"]]}'


# ------------------------------------------------------------ the same store state


def _stream(seed: int) -> list[str]:
    """A depth stream of 300 messages with gaps, replays, malformed levels and junk."""
    rng = random.Random(seed)
    lines: list[str] = []
    update_id = 1000
    for index in range(300):
        levels: dict[str, list[Any]] = {"a": [], "b": []}
        for _ in range(rng.randint(0, 6)):
            side = rng.choice("ab")
            price = f"{100 + (1 if side == 'a' else -1) * rng.randint(1, 30) * 0.5:.2f}"
            size = rng.choice(["0", "0.000", f"{rng.uniform(0, 9):.4f}", "1"])
            levels[side].append([price, size])
        kind = rng.random()
        if kind < 0.03:
            levels[rng.choice("ab")].append(
                rng.choice([["x", "1"], ["1", "-1"], ["1"], ["nan", "1"], [None, "1"]])
            )
        first = update_id + 1
        update_id += rng.randint(1, 3)
        if 0.03 <= kind < 0.05:
            first += 2  # a gap
        message: Any = {"e": "depthUpdate", "E": index, "s": SYMBOL, "U": first, "u": update_id}
        message.update(levels)
        if 0.05 <= kind < 0.07:
            message = {"stream": "btcusdt@depth", "data": message}
        elif 0.07 <= kind < 0.08:
            message = rng.choice(
                [
                    [["a", "b"]],
                    [{"e": "24hrTicker", "s": SYMBOL}, ["a", "b"]],
                    [["1", "2"], 3],
                    {"e": "depthUpdate", "s": SYMBOL, "U": "1", "u": 2, "a": [], "b": []},
                ]
            )
        elif 0.08 <= kind < 0.09 and lines:
            lines.append(lines[-1])  # a replay
            continue
        lines.append(json.dumps(message, separators=(",", ":")))
    return lines


def _feed(store: Any, decode: Callable[[str], Any], lines: list[str]) -> set[type]:
    """Feed ``lines``; a book left unsynced gets a new snapshot every 25 messages
    (the same for both stores), so buffering and resyncing run too. Returns the
    types of the levels the store was handed (the books themselves keep every plain
    pair compactly on the native side, whichever the decoder)."""
    kinds: set[type] = set()
    book = store.orderbook
    book._on_depth_snapshot(SYMBOL, _snapshot(1000))
    last_id = 1000
    for index, line in enumerate(lines):
        decoded = decode(line)
        if isinstance(decoded, dict):
            for key in ("a", "b"):
                levels = decoded.get(key)
                if isinstance(levels, list):
                    kinds.update(type(level) for level in levels)
        store.onmessage(decoded)
        message = json.loads(line)
        if isinstance(message, dict) and isinstance(message.get("u"), int):
            last_id = message["u"]
        if index % 25 == 24 and not book.is_synced(SYMBOL):
            book._on_depth_snapshot(SYMBOL, _snapshot(last_id))
    return kinds


def _snapshot(last_id: int) -> dict[str, Any]:
    return {
        "lastUpdateId": last_id,
        "bids": [["99.00", "1"], ["98.50", "2"]],
        "asks": [["101.00", "3"]],
    }


def _state(store: Any) -> Any:
    book = store.orderbook
    status = book.status(SYMBOL)
    asks, bids = book.levels(SYMBOL)
    return (
        [list(level) for level in asks],
        [list(level) for level in bids],
        book.sorted(),
        book.find(),
        (status.synced, status.gaps, status.errors, status.last_update_id, status.updates),
        store.statistics(),
        store.handler_errors,
    )


@pytest.mark.parametrize("seed", range(8))
def test_a_store_ends_the_same_through_either_decoder(seed: int) -> None:
    lines = _stream(seed)
    plain, levels = BinanceSpotDataStore(), BinanceSpotDataStore()
    decode = decoder_for([levels.onmessage])
    assert decode is not default_decode_text
    handed = _feed(plain, json.loads, lines)
    assert list in handed
    assert _level_type() not in handed
    assert _level_type() in _feed(levels, decode, lines)
    levels.orderbook._check()
    assert _state(levels) == _state(plain)


def _changes(stream: Any) -> list[Any]:
    out = []
    while (change := stream.get_nowait()) is not None:
        out.append((change.operation, change.data))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_watched_book_ends_the_same_through_either_decoder(seed: int) -> None:
    lines = _stream(100 + seed)
    plain, levels = BinanceSpotDataStore(), BinanceSpotDataStore()
    with plain.orderbook.watch() as plain_stream, levels.orderbook.watch() as level_stream:
        _feed(plain, json.loads, lines)
        _feed(levels, decoder_for([levels.onmessage]), lines)
        assert _changes(level_stream) == _changes(plain_stream)
    levels.orderbook._check()
    assert _state(levels) == _state(plain)


def _futures_lines(lines: list[str]) -> list[str]:
    """The spot stream as futures diffs: ``pu`` is the previous message's ``u``."""
    out, previous = [], 1000
    for line in lines:
        message = json.loads(line)
        if isinstance(message, dict) and isinstance(message.get("U"), int):
            message["pu"] = previous if message["U"] <= previous + 1 else message["U"] - 1
            if isinstance(message["u"], int):
                previous = message["u"]
        out.append(json.dumps(message))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_futures_store_ends_the_same_through_either_decoder(seed: int) -> None:
    lines = _futures_lines(_stream(200 + seed))
    plain, levels = BinanceUSDSMDataStore(), BinanceUSDSMDataStore()
    assert _level_type() not in _feed(plain, json.loads, lines)
    assert _level_type() in _feed(levels, decoder_for([levels.onmessage]), lines)
    levels.orderbook._check()
    assert _state(levels) == _state(plain)


# ------------------------------------------------------------ through a WebSocket


@pytest.fixture
async def spot() -> AsyncIterator[FakeExchange]:
    async with FakeExchange("binance-spot", seed=11, rate=0, levels=200) as exchange:
        yield exchange


URL = "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms"


async def _run_on_websocket(
    spot: FakeExchange, store: Any, handlers: Any, ticks: int
) -> list[type]:
    """Connect ``handlers`` (``store.onmessage`` among them), let the book sync, trade
    ``ticks`` times and wait until the store caught up with the fake. Returns the types
    of the levels the store's message routing was handed."""
    handed: list[type] = []
    route = store._onmessage

    def spy(msg: Any, ws: Any) -> None:
        data = msg.get("data", msg) if isinstance(msg, dict) else {}
        if isinstance(data, dict):
            handed.extend(type(level) for level in data.get("a", []) + data.get("b", []))
        route(msg, ws)

    store._onmessage = spy  # what onmessage calls, so the handler is still store.onmessage
    async with Client(
        apis=spot.apis, redirects=spot.redirects, clock=VirtualClock(settle=0.002)
    ) as client:
        store.client = client
        app = await client.ws_connect(URL, hdlr_json=handlers)
        await settle(spot, lambda: store.orderbook.is_synced(SYMBOL))
        spot.tick(ticks)
        assert await caught_up(store, spot, SYMBOL, "binance-spot") == []
        await app.aclose()
    return handed


async def test_a_binance_store_on_a_websocket_receives_levels(spot: FakeExchange) -> None:
    store = BinanceSpotDataStore()
    handed = await _run_on_websocket(spot, store, store.onmessage, 30)
    assert set(handed) == {_level_type()}


async def test_a_mixed_handler_list_gets_plain_lists(spot: FakeExchange) -> None:
    store = BinanceSpotDataStore()
    seen: list[Any] = []

    def recorder(msg: Any, ws: Any) -> None:
        data = msg.get("data", msg) if isinstance(msg, dict) else {}
        seen.extend(data.get("b", []) + data.get("a", []))

    handed = await _run_on_websocket(spot, store, [store.onmessage, recorder], 30)
    assert seen
    assert {type(level) for level in seen} == {list}
    assert set(handed) == {list}


async def test_an_observed_store_gets_plain_lists(spot: FakeExchange) -> None:
    store = BinanceSpotDataStore()
    batches: list[Any] = []
    store.add_observer(batches.append)
    handed = await _run_on_websocket(spot, store, store.onmessage, 10)
    assert handed
    assert set(handed) == {list}
    # the messages the observer saw encode (as a recorder writes them)
    messages = [b.source.message for b in batches if hasattr(b.source, "message")]
    assert messages
    assert all(json.loads(_json.dumps(m)) == m for m in messages)


async def test_a_recorded_store_gets_plain_lists(
    spot: FakeExchange, tmp_path: pathlib.Path
) -> None:
    store = BinanceSpotDataStore()
    path = tmp_path / "depth.jsonl"
    with Recorder(path) as recorder:
        handler = recorder.wrap(store.onmessage)
        assert decoder_for([handler]) is default_decode_text
        handed = await _run_on_websocket(spot, store, handler, 10)
    assert handed
    assert set(handed) == {list}
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert any(record.get("kind") == "ws" for record in records)
