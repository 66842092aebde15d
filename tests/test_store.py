"""DataStore, StoreStream and DataStoreCollection behaviour."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from datastores import DataStore, DataStoreCollection, StoreChange, StoreStreamOverflow
from datastores._errors import ExchangeAPIError

# ----------------------------------------------------------------- keyed stores


def test_keyed_insert_get_find_delete() -> None:
    store = DataStore(keys=["s", "i"])
    store._insert([{"s": "A", "i": 1, "v": "x"}, {"s": "B", "i": 2, "v": "y"}])
    assert store.get({"s": "A", "i": 1}) == {"s": "A", "i": 1, "v": "x"}
    assert store.get({"s": "A"}) is None
    assert store.find({"s": "B"}) == [{"s": "B", "i": 2, "v": "y"}]
    assert store.find({"v": "x"}) == [{"s": "A", "i": 1, "v": "x"}]
    assert store.find({"nope": 1}) == []
    store._delete([{"s": "A", "i": 1}])
    assert len(store) == 1
    assert store.get({"s": "A", "i": 1}) is None


def test_update_merges_into_a_new_dict_and_keeps_position() -> None:
    store = DataStore(keys=["k"])
    store._insert([{"k": 1, "a": 1}, {"k": 2, "a": 2}])
    before = store.get({"k": 1})
    store._update([{"k": 1, "b": 3}])
    after = store.get({"k": 1})
    assert after == {"k": 1, "a": 1, "b": 3}
    # the item handed out earlier is not rewritten by the later update
    assert before == {"k": 1, "a": 1}
    assert [i["k"] for i in store] == [1, 2]


def test_items_missing_a_key_are_dropped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    store = DataStore("orders", keys=["id"])
    with caplog.at_level(logging.WARNING, "datastores.store"):
        store._insert([{"x": 1}, {"id": [1]}, {"id": 3}])
    assert len(store) == 1
    assert store.dropped == 2
    assert "orders" in caplog.text


def test_index_query_touches_only_its_bucket() -> None:
    class Orders(DataStore):
        _KEYS = ("id",)
        _INDEXES = ("symbol",)

    store = Orders()
    store._insert([{"id": i, "symbol": f"S{i % 3}"} for i in range(30)])
    # Make a full scan detectable: drop the data dict's iteration.
    assert [o["id"] for o in store.find({"symbol": "S1"})] == list(range(1, 30, 3))
    store._update([{"id": 1, "symbol": "S2"}])  # indexed field moves bucket
    assert [o["id"] for o in store.find({"symbol": "S2"})] == [1, *range(2, 30, 3)]
    assert 1 not in [o["id"] for o in store.find({"symbol": "S1"})]
    assert store._index["symbol"]["S1"].keys().isdisjoint({(1,)})


def test_keyless_store_is_bounded_and_eviction_is_a_delete() -> None:
    class Trades(DataStore):
        _MAXLEN = 3

    store = Trades()
    stream = store.watch()
    store._insert([{"n": n} for n in range(5)])
    assert [t["n"] for t in store] == [2, 3, 4]
    changes = [stream.get_nowait() for _ in range(7)]
    assert [c.operation for c in changes if c] == ["insert"] * 5 + ["delete"] * 2
    assert [c.data["n"] for c in changes if c and c.operation == "delete"] == [0, 1]


def test_keyless_eviction_stays_correct_after_find_and_delete() -> None:
    class Trades(DataStore):
        _MAXLEN = 4
        _INDEXES = ("s",)

    store = Trades()
    store._insert([{"s": "A", "n": 0}, {"s": "B", "n": 1}, {"s": "A", "n": 2}])
    store._find_and_delete({"s": "A"})
    store._insert([{"s": "C", "n": n} for n in range(3, 8)])
    assert [t["n"] for t in store] == [4, 5, 6, 7]
    assert store.find({"s": "B"}) == []


def test_pop_and_find_and_delete_are_seen_by_watchers() -> None:
    store = DataStore(keys=["k"])
    store._insert([{"k": 1}, {"k": 2}, {"k": 3}])
    stream = store.watch()
    assert store._pop({"k": 1}) == {"k": 1}
    assert store._pop({"k": 1}) is None
    assert store._find_and_delete({"k": 2}) == [{"k": 2}]
    assert store._find_and_delete() == [{"k": 3}]
    ops = []
    while (change := stream.get_nowait()) is not None:
        ops.append((change.operation, change.data["k"]))
    assert ops == [("delete", 1), ("delete", 2), ("delete", 3)]


# -------------------------------------------------------------- wait / watch


async def test_wait_returns_after_the_next_change() -> None:
    store = DataStore(keys=["k"])
    waiter = asyncio.create_task(store.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    store._insert([{"k": 1}])
    await asyncio.wait_for(waiter, 1)


async def test_watch_delivers_changes_as_they_were() -> None:
    store = DataStore(keys=["k"])
    async with store.watch() as stream:
        store._insert([{"k": 1, "v": 1}])
        store._update([{"k": 1, "v": 2}])
        store._delete([{"k": 1}])
        first = await stream.get()
        second = await stream.get()
        third = await stream.get()
    assert (first.operation, first.data) == ("insert", {"k": 1, "v": 1})
    assert (second.operation, second.source, second.data) == (
        "update",
        {"k": 1, "v": 2},
        {"k": 1, "v": 2},
    )
    assert (third.operation, third.data) == ("delete", {"k": 1, "v": 2})
    assert store._streams == []


async def test_slow_watcher_overflows_then_continues() -> None:
    store = DataStore()
    stream = store.watch(maxsize=3)
    store._insert([{"n": n} for n in range(5)])
    with pytest.raises(StoreStreamOverflow) as info:
        await stream.get()
    assert info.value.dropped == 4
    assert "re-read" in str(info.value)
    store._insert([{"n": 99}])
    # the change made after the overflow (n=4) and the new one are delivered
    assert [(await stream.get()).data for _ in range(2)] == [{"n": 4}, {"n": 99}]
    assert stream.get_nowait() is None
    stream.close()


async def test_closed_stream_ends_async_iteration() -> None:
    store = DataStore()
    stream = store.watch()
    store._insert([{"n": 1}])

    async def consume() -> list[Any]:
        return [change.data async for change in stream]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    stream.close()
    assert await asyncio.wait_for(task, 1) == [{"n": 1}]


# ---------------------------------------------------- stateful model (hypothesis)

KEYS = st.integers(0, 6)
ITEMS = st.fixed_dictionaries({"k": KEYS, "g": st.sampled_from("xyz"), "v": st.integers(0, 3)})


class KeyedStoreModel(RuleBasedStateMachine):
    """A keyed DataStore with an index and a small _MAXLEN against a dict model."""

    @initialize(maxlen=st.integers(2, 8))
    def setup(self, maxlen: int) -> None:
        class Store(DataStore):
            _KEYS = ("k",)
            _INDEXES = ("g",)
            _MAXLEN = maxlen

        self.store = Store()
        self.stream = self.store.watch()
        self.model: dict[int, dict[str, Any]] = {}
        self.expected: list[tuple[str, dict[str, Any]]] = []

    def _evict(self) -> None:
        while len(self.model) > self.store._MAXLEN:
            oldest = next(iter(self.model))
            self.expected.append(("delete", self.model.pop(oldest)))

    @rule(items=st.lists(ITEMS, max_size=4))
    def insert(self, items: list[dict[str, Any]]) -> None:
        self.store._insert(items)
        for item in items:
            self.model[item["k"]] = item
            self.expected.append(("insert", item))
        self._evict()

    @rule(
        items=st.lists(
            st.fixed_dictionaries(
                {"k": KEYS}, optional={"v": st.integers(), "g": st.sampled_from("xyz")}
            ),
            max_size=4,
        )
    )
    def update(self, items: list[dict[str, Any]]) -> None:
        self.store._update(items)
        for item in items:
            if item["k"] in self.model:
                self.model[item["k"]] = {**self.model[item["k"]], **item}
                self.expected.append(("update", self.model[item["k"]]))
            else:
                self.model[item["k"]] = item
                self.expected.append(("insert", item))
        self._evict()

    @rule(keys=st.lists(KEYS, max_size=3))
    def delete(self, keys: list[int]) -> None:
        self.store._delete([{"k": k} for k in keys])
        for k in keys:
            if k in self.model:
                self.expected.append(("delete", self.model.pop(k)))

    @rule(group=st.sampled_from("xyz"))
    def find_and_delete(self, group: str) -> None:
        removed = self.store._find_and_delete({"g": group})
        gone = [i for i in self.model.values() if i.get("g") == group]
        assert removed == gone
        for item in gone:
            del self.model[item["k"]]
            self.expected.append(("delete", item))

    @precondition(lambda self: bool(self.model))
    @rule()
    def clear(self) -> None:
        self.store._clear()
        self.expected.extend(("delete", i) for i in self.model.values())
        self.model.clear()

    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "store"):
            return
        assert list(self.store) == list(self.model.values())
        for group in "xyz":
            assert self.store.find({"g": group}) == [
                i for i in self.model.values() if i.get("g") == group
            ]
        for k in range(7):
            assert self.store.get({"k": k}) == self.model.get(k)
        delivered = []
        while (change := self.stream.get_nowait()) is not None:
            delivered.append((change.operation, change.data))
        assert delivered == self.expected
        self.expected.clear()


TestKeyedStoreModel = KeyedStoreModel.TestCase
TestKeyedStoreModel.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class KeylessStoreModel(RuleBasedStateMachine):
    @initialize(maxlen=st.integers(1, 6))
    def setup(self, maxlen: int) -> None:
        class Store(DataStore):
            _MAXLEN = maxlen
            _INDEXES = ("g",)

        self.store = Store()
        self.model: list[dict[str, Any]] = []

    @rule(
        items=st.lists(
            st.fixed_dictionaries({"g": st.sampled_from("ab"), "n": st.integers()}), max_size=5
        )
    )
    def insert(self, items: list[dict[str, Any]]) -> None:
        self.store._insert(items)
        self.model.extend(items)
        del self.model[: max(0, len(self.model) - self.store._MAXLEN)]

    @rule(group=st.sampled_from("ab"))
    def find_and_delete(self, group: str) -> None:
        self.store._find_and_delete({"g": group})
        self.model = [i for i in self.model if i["g"] != group]

    @invariant()
    def matches_model(self) -> None:
        if hasattr(self, "store"):
            assert list(self.store) == self.model
            assert self.store.find({"g": "a"}) == [i for i in self.model if i["g"] == "a"]


TestKeylessStoreModel = KeylessStoreModel.TestCase
TestKeylessStoreModel.settings = settings(max_examples=50, stateful_step_count=25, deadline=None)


# -------------------------------------------------------------- collections


class Collection(DataStoreCollection):
    _EXCHANGE = "example"

    def _init(self) -> None:
        self._create("ticker", keys=["s"])
        self.seen_errors: list[Exception] = []

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.get("boom"):
            raise KeyError("price")
        self["ticker"]._update([msg])

    def _onerror(self, msg: Any, exc: Exception) -> None:
        self.seen_errors.append(exc)


async def test_collection_routes_and_wakes_waiters_once() -> None:
    collection = Collection()
    assert "ticker" in collection
    waiter = asyncio.create_task(collection.wait())
    await asyncio.sleep(0)
    collection.onmessage({"s": "A", "p": "1"})
    await asyncio.wait_for(waiter, 1)
    assert collection["ticker"].get({"s": "A"}) == {"s": "A", "p": "1"}


def test_collection_handler_error_is_logged_counted_and_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    collection = Collection()
    with caplog.at_level(logging.WARNING, "datastores.store"):
        collection.onmessage({"boom": True, "topic": "tickers.A"})
    assert collection.handler_errors == 1
    assert isinstance(collection.seen_errors[0], KeyError)
    assert "tickers.A" in caplog.text
    collection.onmessage({"s": "B"})
    assert len(collection["ticker"]) == 1


async def test_initialize_raises_with_endpoint_status_and_message() -> None:
    from aiohttp import ClientSession, web

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)

    app = web.Application()
    app.router.add_get("/api/v3/depth", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with ClientSession() as session:
            with pytest.raises(ExchangeAPIError) as info:
                await Collection().initialize(session.get(f"http://127.0.0.1:{port}/api/v3/depth"))
    finally:
        await runner.cleanup()
    err = info.value
    assert (err.status, err.code, err.message) == (400, -1121, "Invalid symbol.")
    assert "GET /api/v3/depth" in str(err)
    assert "example" in str(err)


def test_storechange_is_frozen() -> None:
    change = StoreChange(DataStore(), "insert", None, {"a": 1})
    with pytest.raises(AttributeError):
        change.operation = "delete"  # type: ignore[misc]


# ------------------------------------------- the collection skeleton: declared stores,
# channel table, counters and statistics()


def test_declared_stores_are_created_in_order_typed_and_redeclarable() -> None:
    from typing import ClassVar, TypedDict

    from datastores._collection import CollectionStatistics, DataStoreCollection
    from datastores._storefield import StoreField

    class TradeItem(TypedDict):
        s: str
        p: str

    class Trades(DataStore[TradeItem]):
        pass

    class Orders(DataStore):
        _KEYS = ("id",)

    class SpecialOrders(Orders):
        pass

    class Base(DataStoreCollection):
        _CHANNELS: ClassVar[dict[str, str]] = {"trade": "_on_trade"}
        trade = StoreField(Trades)
        orders = StoreField(Orders)
        books = StoreField(DataStore, "orderbook", keys=("s",))

        def _on_trade(self, msg: Any, ws: Any) -> None:
            self.trade._insert(msg["data"])

        def _onmessage(self, msg: Any, ws: Any) -> None:
            handler = self._channel_handlers.get(msg.get("channel"))
            if handler is None:
                self._count_unhandled(str(msg.get("channel")))
            elif not isinstance(msg.get("data"), list):
                self._count_dropped("no data list")
            else:
                handler(msg, ws)

    class Derived(Base):
        _CHANNELS: ClassVar[dict[str, str]] = {"order": "_on_order"}
        orders = StoreField(SpecialOrders)  # narrowed; keeps its place

        def _on_order(self, msg: Any, ws: Any) -> None:
            self.orders._update(msg["data"])

    store = Derived()
    assert list(store) == ["trade", "orders", "orderbook"]
    assert type(store.orders) is SpecialOrders
    assert store.orders is store["orders"]
    assert store.books is store["orderbook"]
    assert store.books.keys == ("s",)
    assert Derived.trade.store_class is Trades  # the descriptor on the class
    store.onmessage({"channel": "trade", "data": [{"s": "X", "p": "1"}]})
    store.onmessage({"channel": "order", "data": [{"id": 1}]})
    store.onmessage({"channel": "order", "data": "junk"})
    store.onmessage({"channel": "news"})
    store.onmessage({"channel": "news"})
    assert store.trade.find()[0]["p"] == "1"
    assert len(store.orders) == 1
    stats = store.statistics()
    assert stats == CollectionStatistics(
        messages=5, handler_errors=0, dropped={"no data list": 1}, unhandled={"news": 2}
    )
    assert store.unhandled == {"news": 2}
    with pytest.raises(AttributeError):
        stats.messages = 0  # type: ignore[misc]


def test_unhandled_and_dropped_tables_stay_bounded() -> None:
    from datastores._collection import DataStoreCollection

    store = DataStoreCollection()
    for i in range(300):
        store._count_unhandled(f"channel-{i}")
        store._count_dropped(f"reason-{i}")
    stats = store.statistics()
    assert len(stats.unhandled) == 257
    assert stats.unhandled["<other>"] == 44
    assert len(stats.dropped) == 257
    assert stats.dropped["<other>"] == 44
