"""The change feed: one batch per message/response, and a mirror fed only from it
holds exactly the collection's state after every batch."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _plaincollection import Plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores import (
    BookChange,
    ChangeBatch,
    DataStoreCollection,
    IntegrityEvent,
    LocalSource,
    OrderBookStore,
    RestSource,
    StoreChange,
    WsSource,
    apply_batch,
)
from datastores._client import Client
from datastores.exchanges.binance.store import BinanceSpotDataStore
from datastores.exchanges.okx.store import OKXDataStore
from datastores.testing import FakeExchange

DATA = Path(__file__).parent / "exchanges"  # <exchange>/data/
SYMBOL = "BTCUSDT"


# ------------------------------------------------------------------ helpers


def assert_same_state(origin: DataStoreCollection, mirror: DataStoreCollection) -> None:
    """Every store of ``origin`` has its twin in ``mirror``: same items in the same
    order, same book levels per symbol, same synced verdict."""
    for name, store in origin.stores.items():
        if name not in mirror:
            assert len(store) == 0, name
            continue
        twin = mirror[name]
        if isinstance(store, OrderBookStore):
            assert isinstance(twin, OrderBookStore)
            for symbol in {*store.symbols, *twin.symbols}:
                assert store.levels(symbol) == twin.levels(symbol), (name, symbol)
                assert store.is_synced(symbol) == twin.is_synced(symbol), (name, symbol)
            twin._check()
        else:
            assert list(store) == list(twin), name


class Mirror:
    """An observer that applies each batch to a fresh collection of the same class
    and checks, after every batch, that both hold the same state."""

    def __init__(self, origin: DataStoreCollection, mirror: DataStoreCollection | None = None):
        self.origin = origin
        self.mirror = mirror if mirror is not None else type(origin)()
        self.batches: list[ChangeBatch] = []
        origin.add_observer(self)

    def __call__(self, batch: ChangeBatch) -> None:
        assert batch.collection is self.origin
        assert batch.seq == len(self.batches) + 1  # no holes, no reordering
        self.batches.append(batch)
        apply_batch(self.mirror, batch)
        assert_same_state(self.origin, self.mirror)

    def events(self) -> list[tuple[str, str | None]]:
        return [
            (c.event, c.reason)
            for b in self.batches
            for c in b.changes
            if isinstance(c, IntegrityEvent)
        ]


# ------------------------------------------------------------------ plain stores


def test_plain_store_batches_and_mirror() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    ws = type("WS", (), {"url": "wss://x.test/ws"})()
    messages: list[Any] = [
        {"op": "insert", "data": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]},
        {"op": "update", "data": [{"id": 1, "v": "c"}, {"id": 3, "v": "d"}]},
        {"op": "delete", "data": [{"id": 2}, {"id": 99}]},
        {"op": "update", "data": [{"v": "no key"}]},  # refused: still a batch, no change
        {"op": "log", "data": [{"n": i} for i in range(5)]},  # evicts past _MAXLEN 3
        {"op": "log", "data": [{"n": 4}, {"n": 4}]},
        {"op": "raise"},
        {"op": "clear"},
    ]
    for msg in messages:
        origin.onmessage(msg, ws)
    assert len(mirror.batches) == len(messages)
    assert all(isinstance(b.source, WsSource) for b in mirror.batches)
    first = mirror.batches[0]
    assert first.source == WsSource(messages[0], "wss://x.test/ws")
    assert [(c.operation, c.data) for c in first.changes] == [  # type: ignore[union-attr]
        ("insert", {"id": 1, "v": "a"}),
        ("insert", {"id": 2, "v": "b"}),
    ]
    second = mirror.batches[1].changes
    assert isinstance(second[0], StoreChange)
    assert (second[0].operation, second[0].source, second[0].data) == (
        "update",
        {"id": 1, "v": "c"},
        {"id": 1, "v": "c"},
    )
    assert mirror.batches[3].changes == ()
    assert mirror.batches[6].changes == ()  # the handler raised before changing anything
    assert list(mirror.mirror["log"]) == [{"n": 4}, {"n": 4}, {"n": 4}]
    assert len(mirror.mirror["items"]) == 0


def test_store_created_after_the_observer_is_observed() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    origin.onmessage({"op": "new-store", "name": "extra", "data": [{"k": 1, "x": 2}]})
    origin.onmessage({"op": "new-store", "name": "extra", "data": [{"k": 1, "x": 3}]})
    assert list(mirror.mirror["extra"]) == [{"k": 1, "x": 3}]
    assert mirror.mirror["extra"].keys == ("k",)


async def test_changes_outside_a_message_form_their_own_batch() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    origin.onmessage({"op": "insert", "data": [{"id": 1}]})
    origin.onmessage({"op": "snapshot", "s": "X", "a": [["2", "1"]], "b": [["1", "1"]], "u": 5})
    origin.on_reconnect()  # clears a store and invalidates a book, outside onmessage
    assert len(mirror.batches) == 2  # delivered on the next loop turn...
    await asyncio.sleep(0)
    assert len(mirror.batches) == 3
    local = mirror.batches[2]
    assert local.source == LocalSource()
    assert [type(c).__name__ for c in local.changes] == [
        "StoreChange",
        "IntegrityEvent",
        "IntegrityEvent",
    ]
    assert mirror.events()[-2:] == [("unsynced", "reconnect"), ("resync", None)]
    # ...or before the next batch opens, whichever comes first.
    origin.on_reconnect()
    origin.onmessage({"op": "insert", "data": [{"id": 2}]})
    assert [b.source.kind for b in mirror.batches[3:]] == ["local", "ws"]


def test_remove_observer_stops_calls_and_detaches() -> None:
    origin = Plain()
    calls: list[ChangeBatch] = []
    other: list[ChangeBatch] = []
    origin.add_observer(calls.append)
    origin.add_observer(calls.append)  # twice: one call per batch
    origin.add_observer(other.append)
    origin.onmessage({"op": "insert", "data": [{"id": 1}]})
    origin.remove_observer(calls.append)
    origin.onmessage({"op": "insert", "data": [{"id": 2}]})
    assert [b.seq for b in calls] == [1]
    assert [b.seq for b in other] == [1, 2]
    origin.remove_observer(other.append)
    origin.remove_observer(other.append)  # no error
    origin.onmessage({"op": "delta", "s": "X", "a": [["1", "1"]], "b": []})
    assert len(other) == 2
    # Without observers the stores carry nothing extra: the hot path is as before.
    assert origin.items._streams == []
    assert origin.book._sink is None


def test_a_raising_observer_is_logged_once_per_burst_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    origin = Plain()
    good: list[int] = []
    fail = True

    def bad(batch: ChangeBatch) -> None:
        if fail:
            raise RuntimeError("observer bug")

    origin.add_observer(bad)
    origin.add_observer(lambda batch: good.append(batch.seq))
    with caplog.at_level(logging.ERROR, logger="datastores.store"):
        for i in range(5):
            origin.onmessage({"op": "insert", "data": [{"id": i}]})
        fail = False
        origin.onmessage({"op": "insert", "data": [{"id": 9}]})
        fail = True
        origin.onmessage({"op": "insert", "data": [{"id": 10}]})
    logged = [r for r in caplog.records if "change observer failed" in r.getMessage()]
    assert len(logged) == 2  # two bursts
    assert origin.observer_errors == 6
    assert good == [1, 2, 3, 4, 5, 6, 7]  # the other observer saw every batch
    assert len(origin.items) == 7  # the apply went on


def test_observers_added_or_removed_during_a_delivery() -> None:
    """A batch goes to the observers there were when it closed; changes made by an
    observer take effect from the next batch."""
    origin = Plain()
    seen: dict[str, list[int]] = {"a": [], "b": [], "c": []}

    def a(batch: ChangeBatch) -> None:
        seen["a"].append(batch.seq)
        if batch.seq == 1:
            origin.remove_observer(b)
            origin.add_observer(c)

    def b(batch: ChangeBatch) -> None:
        seen["b"].append(batch.seq)

    def c(batch: ChangeBatch) -> None:
        seen["c"].append(batch.seq)

    origin.add_observer(a)
    origin.add_observer(b)
    origin.onmessage({"op": "insert", "data": [{"id": 1}]})
    origin.onmessage({"op": "insert", "data": [{"id": 2}]})
    assert seen == {"a": [1, 2], "b": [1], "c": [2]}
    origin.remove_observer(a)
    origin.remove_observer(c)
    assert origin._sink is None
    assert origin.book._sink is None


def test_batches_sources_and_changes_are_immutable_records() -> None:
    """Every object the feed hands out reads by field name, compares by value and
    cannot be changed (NamedTuples: built once per message, cheaply)."""
    origin = Plain()
    batches: list[ChangeBatch] = []
    origin.add_observer(batches.append)
    delta = {"op": "delta", "s": "X", "a": [["101", "1"]], "b": [["99", "2"]]}
    origin.onmessage(delta)  # ws=None: no URL
    origin.onmessage({"op": "insert", "data": [{"id": 1}]})
    origin.on_reconnect()  # outside a message: a local batch, delivered by flush()
    assert origin._sink is not None
    origin._sink.flush()
    first, second, local = batches
    assert first == ChangeBatch(origin, 1, first.time, WsSource(delta, None), first.changes)
    assert first.source.kind == "ws"
    assert first.continued is False
    book_change, event = first.changes
    assert book_change == BookChange(origin.book, "X", delta["a"], delta["b"], False, None)
    assert book_change.asks is delta["a"]  # shared, not copied
    assert isinstance(event, IntegrityEvent)
    assert event.synced is False
    (store_change,) = second.changes
    assert store_change == StoreChange(origin.items, "insert", None, {"id": 1})
    assert local.source == LocalSource()
    assert local.source.kind == "local"
    rest = RestSource("GET", "https://x.test/depth", 200, {"a": 1})
    assert (rest.kind, rest.status) == ("rest", 200)
    records: list[Any] = [first, first.source, book_change, event, store_change, local, rest]
    for record in records:
        name = type(record)._fields[0]
        with pytest.raises(AttributeError):
            setattr(record, name, None)
        assert getattr(record, name) is not None


# ------------------------------------------------------------------ books


def test_book_batches_carry_level_lists_and_integrity_events() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    asks = [["101", "1"], ["102", "2"]]
    origin.onmessage({"op": "snapshot", "s": "X", "a": asks, "b": [["99", "1"]], "u": 1})
    origin.onmessage({"op": "delta", "s": "X", "a": [["101", "0"]], "b": [["98", "3"]]})
    origin.onmessage({"op": "delta", "s": "X", "a": [["103", "x"]], "b": []})  # malformed
    snapshot, delta, bad = (b.changes for b in mirror.batches)
    assert snapshot[0] == BookChange(origin.book, "X", asks, [["99", "1"]], True, None)
    assert snapshot[0].asks is asks  # the exchange's lists, not copies
    assert isinstance(snapshot[1], IntegrityEvent)
    assert (snapshot[1].event, snapshot[1].synced) == ("synced", True)
    assert delta == (BookChange(origin.book, "X", [["101", "0"]], [["98", "3"]], False, None),)
    assert isinstance(bad[1], IntegrityEvent)
    assert (bad[1].event, bad[1].reason, bad[1].synced) == ("unsynced", "error", False)
    assert bad[1].detail is not None
    assert "malformed level" in bad[1].detail
    assert isinstance(bad[2], IntegrityEvent)
    assert bad[2].event == "resync"
    assert not mirror.mirror["book"].is_synced("X")  # type: ignore[attr-defined]


def test_sync_changes_nobody_announced_end_the_batch_in_first_touch_order() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    for symbol in ("X", "Y"):
        origin.onmessage({"op": "snapshot", "s": symbol, "a": [["101", "1"]], "b": [], "u": 1})
    book = origin.book
    book._apply("Y", [["102", "1"]], [])  # outside a message: one local batch
    book._apply("X", [["103", "1"]], [])
    book._apply("Y", [["104", "1"]], [])
    book._state("X").phase = "unsynced"  # as an exchange may do, without an event
    book._state("Y").phase = "unsynced"
    assert origin._sink is not None
    origin._sink.flush()
    local = mirror.batches[-1]
    assert local.source == LocalSource()
    assert [type(c).__name__ for c in local.changes] == ["BookChange"] * 3 + ["IntegrityEvent"] * 2
    events = [c for c in local.changes if isinstance(c, IntegrityEvent)]
    assert [(c.symbol, c.event, c.synced) for c in events] == [
        ("Y", "unsynced", False),
        ("X", "unsynced", False),
    ]
    assert not mirror.mirror.book.is_synced("X")
    assert not mirror.mirror.book.is_synced("Y")


def test_an_observed_book_stays_on_its_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    origin = Plain()
    origin.add_observer(lambda batch: None)

    def no_items(*args: Any) -> Any:
        raise AssertionError("a per-level item was built")

    monkeypatch.setattr(origin.book, "_make_item", no_items)
    monkeypatch.setattr(origin.book, "_apply_watched", no_items)
    origin.onmessage({"op": "snapshot", "s": "X", "a": [["2", "1"]], "b": [["1", "1"]]})
    origin.onmessage({"op": "delta", "s": "X", "a": [["3", "1"], ["2", "0"]], "b": []})
    assert origin.book.levels("X") == ([["3", "1"]], [["1", "1"]])


def test_generators_are_applied_and_reported_alike() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    origin.book._replace("X", (lv for lv in [["2", "1"]]), iter([["1", "1"]]), 1)
    origin.book._sink.flush()  # type: ignore[union-attr]
    assert origin.book.levels("X") == ([["2", "1"]], [["1", "1"]])
    assert mirror.mirror["book"].levels("X") == origin.book.levels("X")  # type: ignore[attr-defined]


def test_depth_cap_and_generic_api_reach_the_mirror() -> None:
    origin = Plain()
    mirror = Mirror(origin)
    origin.onmessage(
        {"op": "snapshot", "s": "X", "a": [[str(p), "1"] for p in range(10, 20)], "b": []}
    )
    origin.book.set_depth("X", 3)
    origin.book._sink.flush()  # type: ignore[union-attr]
    origin.book._update([{"s": "X", "S": "a", "p": "10", "q": "5"}])
    origin.book._delete([{"s": "X", "S": "a", "p": "11"}])
    origin.book._clear_symbol("X")
    origin.book._sink.flush()  # type: ignore[union-attr]
    assert len(mirror.batches) == 3  # the message, the new cap, the local edits
    assert_same_state(origin, mirror.mirror)


def _book_op() -> st.SearchStrategy[Any]:
    price = st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8"])
    size = st.sampled_from(["0", "0", "1", "2.5", "x"])
    levels = st.lists(st.tuples(price, size).map(list), max_size=5)
    return st.one_of(
        st.tuples(st.just("delta"), st.sampled_from(["A", "B"]), levels, levels),
        st.tuples(st.just("snapshot"), st.sampled_from(["A", "B"]), levels, levels),
        st.tuples(st.just("depth"), st.sampled_from(["A", "B"]), st.sampled_from([None, 1, 2, 4])),
        st.tuples(st.just("clear"), st.sampled_from(["A", "B"])),
        st.tuples(st.just("reconnect")),
        st.tuples(st.just("insert"), st.integers(0, 4)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_book_op(), max_size=40), st.booleans())
def test_property_mirror_equals_origin_after_every_batch(ops: list[Any], watched: bool) -> None:
    origin = Plain()
    if watched:
        origin.book.watch()  # a watch() stream takes the per-level path: same feed
    mirror = Mirror(origin)
    sink = origin._sink
    assert sink is not None
    for op in ops:
        kind = op[0]
        if kind == "delta":
            origin.onmessage({"op": "delta", "s": op[1], "a": op[2], "b": op[3]})
        elif kind == "snapshot":
            origin.onmessage({"op": "snapshot", "s": op[1], "a": op[2], "b": op[3], "u": 1})
        elif kind == "depth":
            origin.book.set_depth(op[1], op[2])
            sink.flush()
        elif kind == "clear":
            origin.book._clear_symbol(op[1])
            sink.flush()
        elif kind == "reconnect":
            origin.on_reconnect()
            sink.flush()
        else:
            origin.onmessage({"op": "insert", "data": [{"id": op[1], "n": len(ops)}]})
    assert_same_state(origin, mirror.mirror)


# ------------------------------------------------------------------ real collections


def _jsonl(path: Path) -> Iterator[Any]:
    for line in path.read_text().splitlines():
        if line.strip():
            yield json.loads(line)


def test_binance_recorded_messages_mirror_exactly() -> None:
    origin = BinanceSpotDataStore()
    origin.orderbook.resync_hook = lambda symbol: None
    mirror = Mirror(origin)
    for name in ("spot_public.jsonl", "spot_depth.jsonl", "spot_user.jsonl"):
        for msg in _jsonl(DATA / "binance" / "data" / name):
            origin.onmessage(msg)
    snapshot = json.loads((DATA / "binance" / "data" / "spot_depth_snapshot.json").read_text())
    origin._observe_response("GET", "https://api.binance.com/api/v3/depth", 200, snapshot)
    assert origin.orderbook._on_depth_snapshot("BNBBTC", snapshot)
    origin._sink.flush()  # type: ignore[union-attr]
    rest = mirror.batches[-1]
    assert isinstance(rest.source, RestSource)
    assert rest.source.data is snapshot
    assert origin.orderbook.is_synced("BNBBTC")
    # a malformed depth update and a gap, then a reconnect
    origin.onmessage({"e": "depthUpdate", "s": "BNBBTC", "U": 1027038, "u": 1027039, "b": None})
    origin.onmessage(
        {"e": "depthUpdate", "s": "BNBBTC", "U": 2000000, "u": 2000001, "b": [], "a": []}
    )
    origin.on_reconnect()
    origin._sink.flush()  # type: ignore[union-attr]
    assert ("synced", None) in mirror.events()
    assert not mirror.mirror.orderbook.is_synced("BNBBTC")  # type: ignore[attr-defined]
    assert len(mirror.mirror.orderbook) == len(origin.orderbook)  # type: ignore[attr-defined]


def test_okx_recorded_messages_mirror_exactly() -> None:
    origin = OKXDataStore()
    mirror = Mirror(origin)
    for name in ("books.json", "public.json", "private.json"):
        for msg in json.loads((DATA / "okx" / "data" / name).read_text()):
            origin.onmessage(msg)
    assert origin.books.is_synced("BTC-USDT")
    assert mirror.mirror.books.levels("BTC-USDT") == origin.books.levels("BTC-USDT")  # type: ignore[attr-defined]
    # a checksum mismatch: unsynced, then a fresh snapshot heals both
    origin.onmessage(
        {
            "arg": {"channel": "books", "instId": "BTC-USDT"},
            "action": "update",
            "data": [
                {
                    "asks": [["8480", "1", "0", "1"]],
                    "bids": [],
                    "ts": "1597026500200",
                    "checksum": 12345,
                    "prevSeqId": 7,
                    "seqId": 8,
                }
            ],
        }
    )
    assert not mirror.mirror.books.is_synced("BTC-USDT")  # type: ignore[attr-defined]
    assert ("unsynced", "checksum") in mirror.events()


async def _wait_synced(store: BinanceSpotDataStore, fake: FakeExchange) -> None:
    """Until the store has caught up with everything the fake published."""
    last = fake.book(SYMBOL).last_update_id
    status = await store.orderbook.wait_synced(SYMBOL, timeout=30, min_update_id=last)
    assert status.last_update_id == last


async def _until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_live_binance_gap_and_reconnect_mirror_exactly() -> None:
    """Over a real socket: initialize(), a gap healed by a snapshot the store fetches
    itself, a reconnect healed the same way; the mirror equals the store after every
    batch, and the integrity events come in order."""
    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=200) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        live = BinanceSpotDataStore()
        mirror = Mirror(live)
        app = await client.ws_connect(
            "wss://stream.binance.com:9443/ws/btcusdt@depth", hdlr_json=live.onmessage
        )
        await fake.wait_for_connections(1)
        await live.initialize(client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT"))
        fake.tick(20)
        await _wait_synced(live, fake)
        fake.skip_sequence(SYMBOL)
        fake.tick(20)
        await _wait_synced(live, fake)
        fake.drop_connections()
        await _until(lambda: ("unsynced", "reconnect") in mirror.events())
        fake.tick(20)
        await _wait_synced(live, fake)
        fake.send_malformed(SYMBOL)
        await _until(lambda: live.handler_errors == 1 and live.orderbook.is_synced(SYMBOL))
        fake.tick(20)
        await _wait_synced(live, fake)
        await app.close()
        await asyncio.sleep(0)
        assert_same_state(live, mirror.mirror)
    sources = [b.source.kind for b in mirror.batches]
    # initialize, then the snapshots after the gap, the reconnect and the malformed frame
    assert sources.count("rest") == 4
    assert sources.count("ws") >= 60
    events = [e for e in mirror.events() if e[0] != "resync"]
    gap = events.index(("unsynced", "gap"))
    assert events[gap + 1] == ("synced", None)
    assert ("unsynced", "reconnect") in events[gap + 1 :]
    assert ("unsynced", "error") in events[events.index(("unsynced", "reconnect")) :]
    assert events[-1] == ("synced", None)
    assert mirror.mirror.orderbook.is_synced(SYMBOL)  # type: ignore[attr-defined]


async def test_response_observer_adapter_sees_initialize_and_self_fetched_snapshots() -> None:
    seen: list[tuple[str, str, int]] = []

    def observer(collection: DataStoreCollection, method: str, url: str, status: int, data: Any):
        assert collection is live
        seen.append((method, url.split("?")[0], status))

    async with (
        FakeExchange("binance-spot", symbols=[SYMBOL], rate=0, levels=50) as fake,
        Client(redirects=fake.redirects) as client,
    ):
        live = BinanceSpotDataStore()
        live.add_response_observer(observer)
        await client.ws_connect(
            "wss://stream.binance.com:9443/ws/btcusdt@depth", hdlr_json=live.onmessage
        )
        await fake.wait_for_connections(1)
        await live.initialize(client.get("https://api.binance.com/api/v3/depth?symbol=BTCUSDT"))
        fake.tick(5)
        await _wait_synced(live, fake)
        fake.skip_sequence(SYMBOL)
        fake.tick(5)
        await _wait_synced(live, fake)
        await asyncio.sleep(0)
        live.remove_response_observer(observer)
        assert live._observers == []
    assert len(seen) == 2
    assert all(s[0] == "GET" and s[1].endswith("/api/v3/depth") and s[2] == 200 for s in seen)


async def test_a_self_fetched_response_interrupted_by_messages_gives_no_empty_batches() -> None:
    """A snapshot a collection fetched by itself opens a batch delivered on the next loop
    turn; messages handled before that turn interrupt it. Its changes go out once, and
    no empty "continued" batch follows each interrupting message (under load there were
    twenty)."""

    class Collection(DataStoreCollection):
        def _init(self) -> None:
            self.items = self._create("items", keys=["k"])

        def _onmessage(self, msg: Any, ws: Any) -> None:
            self.items._update([msg])

    collection = Collection()
    batches: list[ChangeBatch] = []
    collection.add_observer(batches.append)
    collection._observe_response("GET", "https://x.test/snapshot", 200, {"k": 0})
    collection.items._insert([{"k": 0, "v": "snapshot"}])
    for value in range(5):  # handled before the loop delivers the response's batch
        collection.onmessage({"k": 1, "v": value})
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    kinds = [(batch.source.kind, len(batch.changes)) for batch in batches]
    assert kinds == [("rest", 1)] + [("ws", 1)] * 5
    assert [batch.seq for batch in batches] == list(range(1, 7))
