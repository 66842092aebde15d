"""Book stores against naive models of the exchange, under random message streams.

Each test runs an exchange model (its whole book and the messages it publishes,
numbered by the exchange's rules) and feeds the store what a client would see with
losses, duplicates, delays, snapshots at any point (older ones too), malformed levels
(a bad price, a NaN price, a side that is null) and reconnects. The property is the
promise: whenever ``status(symbol).synced`` is True, the book equals the exchange's
book at ``status(symbol).last_update_id`` (within the published depth). Then the
stream heals (everything in flight arrives, fresh snapshots are offered while the book
asks for one) and the book must catch up with the exchange: a book that stays
"synced" at an old state (dropping every update as stale) fails here. No network:
recovery hooks are recorded, snapshots are handed in by the test.

The models are plain functions (``binance_diff_model``, ``bybit_depth_model``,
``bybit_full_model``, ``okx_model``) so the collection contract (``_contract.py``,
``ContractCase.book_model``) runs them for each collection's book too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from datastores.exchanges.binance.store import BinanceSpotDataStore, BinanceUSDSMDataStore
from datastores.exchanges.bybit.store import BybitDataStore
from datastores.exchanges.okx.store import OKXDataStore

HEAL_ROUNDS = 4
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
Book = dict[str, str]


def change(rng: random.Random, asks: Book, bids: Book, n: int) -> tuple[list[Any], list[Any]]:
    """Random absolute-size changes to ``asks``/``bids``; returns them as levels."""
    out_a: list[Any] = []
    out_b: list[Any] = []
    for _ in range(n):
        is_ask = rng.random() < 0.5
        price = f"{100 + rng.randint(1, 12) if is_ask else 100 - rng.randint(1, 12)}.0"
        book, out = (asks, out_a) if is_ask else (bids, out_b)
        if price in book and rng.random() < 0.4:
            del book[price]
            out.append([price, "0"])
        else:
            book[price] = str(rng.randint(1, 9))
            out.append([price, book[price]])
    return out_a, out_b


def corrupt(rng: random.Random, msg: dict[str, Any], data: dict[str, Any], key: str) -> None:
    """Make one side of ``data`` malformed in a way a store must notice."""
    how = rng.choice(["text", "nan", "null"])
    if how == "null":
        data[key] = None
    else:
        bad = ["x", "1"] if how == "text" else ["nan", "1"]
        data[key] = [*data[key], bad, *data[key]]


def sides(levels: tuple[list[Any], list[Any]]) -> tuple[Book, Book]:
    asks, bids = levels
    return {str(a[0]): str(a[1]) for a in asks}, {str(b[0]): str(b[1]) for b in bids}


# ------------------------------------------------------------------------ Binance

BINANCE_OPS = st.lists(
    st.sampled_from(
        ["publish"] * 4
        + ["deliver"] * 4
        + ["lose", "duplicate", "snapshot", "snapshot", "old_snapshot", "malformed"]
        + ["reconnect", "other_symbol"]
    ),
    max_size=80,
)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), futures=st.booleans(), ops=BINANCE_OPS)
def test_binance_diff_book_is_the_exchange_book_whenever_synced(
    seed: int, futures: bool, ops: list[str]
) -> None:
    binance_diff_model(seed, futures, ops)


def binance_diff_model(
    seed: int, futures: bool, ops: list[str], create: Callable[[], Any] | None = None
) -> None:
    """One Binance diff-depth stream (spot rules, or futures ``pu`` rules when
    ``futures``) fed to ``create()`` (default: the Spot or USDⓈ-M collection)."""
    rng = random.Random(seed)
    if create is None:
        create = BinanceUSDSMDataStore if futures else BinanceSpotDataStore
    store: Any = create()
    asked: list[str] = []
    store.orderbook.resync_hook = asked.append
    asks: Book = {}
    bids: Book = {}
    last = 1000
    history = {last: ({}, {})}
    in_flight: list[dict[str, Any]] = []
    delivered: list[dict[str, Any]] = []

    def publish(symbol: str = "S") -> dict[str, Any]:
        nonlocal last
        first, prev = last + 1, last
        last += rng.randint(1, 3)
        a, b = change(rng, asks, bids, rng.randint(0, 4))
        history[last] = (dict(asks), dict(bids))
        msg = {"e": "depthUpdate", "E": 1, "s": symbol, "U": first, "u": last, "a": a, "b": b}
        if futures:
            msg["pu"] = prev
        return msg

    for op in ops:
        if op == "publish":
            in_flight.append(publish())
        elif op in ("deliver", "lose") and in_flight:
            msg = in_flight.pop(0)
            if op == "deliver":
                delivered.append(msg)
                store.onmessage(msg)
        elif op == "duplicate" and delivered:
            store.onmessage(rng.choice(delivered))
        elif op in ("snapshot", "old_snapshot"):
            snap_id = last if op == "snapshot" else rng.choice(list(history))
            a_book, b_book = history[snap_id]
            store.orderbook._on_depth_snapshot(
                "S",
                {
                    "lastUpdateId": snap_id,
                    "asks": [[p, q] for p, q in a_book.items()],
                    "bids": [[p, q] for p, q in b_book.items()],
                },
            )
        elif op == "malformed":
            msg = publish()
            corrupt(rng, msg, msg, rng.choice("ab"))
            in_flight.append(msg)
        elif op == "reconnect":
            store.on_reconnect(None)
        elif op == "other_symbol":
            store.onmessage(
                {"e": "depthUpdate", "s": "T", "U": 1, "u": 2, "pu": 0, "a": [["1", "1"]], "b": []}
            )
        store.orderbook._check()
        status = store.orderbook.status("S")
        if status.synced:
            assert sides(store.orderbook.levels("S")) == history[status.last_update_id]
        elif "S" in store.orderbook._states:
            assert "S" in asked  # an unsynced book has asked for a snapshot
    for msg in in_flight:
        store.onmessage(msg)
    for _ in range(HEAL_ROUNDS):
        store.onmessage(publish())
        if not store.orderbook.is_synced("S"):
            store.orderbook._on_depth_snapshot(
                "S",
                {
                    "lastUpdateId": last,
                    "asks": [[p, q] for p, q in asks.items()],
                    "bids": [[p, q] for p, q in bids.items()],
                },
            )
    store.onmessage(publish())
    assert store.orderbook.status("S").last_update_id == last
    assert sides(store.orderbook.levels("S")) == (asks, bids)


# -------------------------------------------------------------------- Bybit N-level


def top(book: Book, n: int, asks: bool) -> Book:
    ordered = sorted(book.items(), key=lambda kv: float(kv[0]) if asks else -float(kv[0]))
    return dict(ordered[:n])


def diff(old: Book, new: Book) -> list[list[str]]:
    return [[p, "0"] for p in old if p not in new] + [
        [p, q] for p, q in new.items() if old.get(p) != q
    ]


BYBIT_DEPTH_OPS = st.lists(
    st.sampled_from(["delta"] * 6 + ["lose", "duplicate", "snapshot", "reconnect", "bad"]),
    max_size=60,
)


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    depth=st.sampled_from([1, 3, 5, 50]),
    explicit_deletes=st.booleans(),
    ops=BYBIT_DEPTH_OPS,
)
def test_bybit_depth_book_is_the_exchange_top_n_whenever_synced(
    seed: int, depth: int, explicit_deletes: bool, ops: list[str]
) -> None:
    bybit_depth_model(seed, depth, explicit_deletes, ops)


def bybit_depth_model(seed: int, depth: int, explicit_deletes: bool, ops: list[str]) -> None:
    """The exchange keeps its whole book and publishes diffs of its top-N image; it may
    leave out deletes of levels pushed out of the window (undocumented)."""
    rng = random.Random(seed)
    topic = f"orderbook.{depth}.BTCUSDT"
    store = BybitDataStore()
    store.orderbook.resync_hook = lambda symbol: None
    asks: Book = {}
    bids: Book = {}
    image: tuple[Book, Book] = ({}, {})
    u = 10
    history = {u: image}
    sent: list[dict[str, Any]] = []

    def message(kind: str) -> dict[str, Any]:
        nonlocal image, u
        if kind == "delta":
            change(rng, asks, bids, rng.randint(1, 5))
            u += 1
        new = (top(asks, depth, True), top(bids, depth, False))
        if kind == "snapshot":
            a = [[p, q] for p, q in new[0].items()]
            b = [[p, q] for p, q in new[1].items()]
        else:
            a, b = diff(image[0], new[0]), diff(image[1], new[1])
            if not explicit_deletes:
                a = [lv for lv in a if not (lv[1] == "0" and lv[0] in asks)]
                b = [lv for lv in b if not (lv[1] == "0" and lv[0] in bids)]
        image = new
        history[u] = new
        data = {"s": "BTCUSDT", "a": a, "b": b, "u": u, "seq": u}
        return {"topic": topic, "type": kind, "ts": 1, "data": data}

    for op in ops:
        if op in ("delta", "bad"):
            msg = message("delta")
            if op == "bad":
                corrupt(rng, msg, msg["data"], rng.choice("ab"))
            sent.append(msg)
            store.onmessage(msg)
        elif op == "lose":
            message("delta")
        elif op == "duplicate" and sent:
            store.onmessage(rng.choice(sent))
        elif op == "snapshot":
            store.onmessage(message("snapshot"))
        elif op == "reconnect":
            store.on_reconnect(None)
        store.orderbook._check()
        status = store.orderbook.status("BTCUSDT")
        if status.synced:
            assert sides(store.orderbook.levels("BTCUSDT")) == history[status.last_update_id]
    for _ in range(HEAL_ROUNDS):
        store.onmessage(message("delta"))
        if not store.orderbook.is_synced("BTCUSDT"):
            store.onmessage(message("snapshot"))  # the resubscription's snapshot
    store.onmessage(message("delta"))
    assert store.orderbook.status("BTCUSDT").last_update_id == u
    assert sides(store.orderbook.levels("BTCUSDT")) == image


# ---------------------------------------------------------------- Bybit full book


BYBIT_FULL_OPS = st.lists(
    st.sampled_from(
        ["publish"] * 4
        + ["deliver"] * 4
        + ["lose", "duplicate", "snapshot", "snapshot", "old_snapshot", "restart"]
        + ["reconnect", "bad"]
    ),
    max_size=80,
)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), ops=BYBIT_FULL_OPS)
# A REST snapshot taken before a restart of u, installed after the restart's u=1 was
# seen and a later delta was lost: its u=2 is the old epoch's book (found by hypothesis).
@example(
    seed=0,
    ops=[
        *("restart", "publish", "deliver", "deliver", "snapshot", "restart"),
        *("publish", "publish", "deliver", "lose", "deliver", "old_snapshot"),
    ],
)
def test_bybit_full_book_is_the_exchange_book_whenever_synced(seed: int, ops: list[str]) -> None:
    bybit_full_model(seed, ops)


def bybit_full_model(seed: int, ops: list[str]) -> None:
    """``u`` restarts at 1 (service restart, auction, tick change): ``(epoch, u)`` names a
    state; ``seq`` only grows."""
    rng = random.Random(seed)
    store = BybitDataStore()
    book = store.orderbook
    book.resync_hook = lambda symbol: None
    asks: Book = {}
    bids: Book = {}
    epoch, u, seq = 0, 100, 1000
    history = {(epoch, u): ({}, {})}
    in_flight: list[dict[str, Any]] = []
    delivered: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []

    keep: set[int] = set()  # ids of messages the exchange never loses here

    def publish(restart: bool = False) -> dict[str, Any]:
        nonlocal epoch, u, seq
        short = u < 100
        if restart:
            asks.clear()
            bids.clear()
            epoch, u = epoch + 1, 0
            delivered.clear()  # a replay never crosses a restart (u values repeat)
        a, b = change(rng, asks, bids, rng.randint(0, 4))
        u += 1
        seq += rng.randint(1, 3)
        history[(epoch, u)] = (dict(asks), dict(bids))
        data = {"s": "M", "a": a, "b": b, "u": u, "seq": seq}
        msg = {"topic": "orderbook.full.M", "type": "delta", "ts": 1, "data": data}
        if restart and short:
            # Losing the u=1 of a restart that follows a short epoch (u still below the
            # next deltas' u) cannot be detected from u and seq: Bybit has no prev id.
            keep.add(id(msg))
        return msg

    for op in ops:
        if op in ("publish", "restart", "bad"):
            msg = publish(restart=op == "restart")
            if op == "bad":
                corrupt(rng, msg, msg["data"], rng.choice("ab"))
            in_flight.append(msg)
        elif op in ("deliver", "lose") and in_flight:
            msg = in_flight.pop(0)
            if op == "deliver" or id(msg) in keep:
                delivered.append(msg)
                store.onmessage(msg)
        elif op == "duplicate" and delivered:
            store.onmessage(rng.choice(delivered))
        elif op in ("snapshot", "old_snapshot") and "M" in book._feeds:
            if op == "snapshot" or not snapshots:
                snapshots.append(
                    {
                        "s": "M",
                        "a": [[p, q] for p, q in asks.items()],
                        "b": [[p, q] for p, q in bids.items()],
                        "u": u,
                        "seq": seq,
                    }
                )
            book._install_full_snapshot(
                "M", snapshots[-1] if op == "snapshot" else rng.choice(snapshots)
            )
        elif op == "reconnect":
            store.on_reconnect(None)
        book._check()
        status = book.status("M")
        if status.synced:
            states = [h for (_, k), h in history.items() if k == status.last_update_id]
            assert sides(book.levels("M")) in states
    for msg in in_flight:
        store.onmessage(msg)
    for _ in range(HEAL_ROUNDS):
        store.onmessage(publish())
        if not book.is_synced("M"):
            fresh = {
                "s": "M",
                "a": [[p, q] for p, q in asks.items()],
                "b": [[p, q] for p, q in bids.items()],
                "u": u,
                "seq": seq,
            }
            book._install_full_snapshot("M", fresh)
    store.onmessage(publish())
    assert book.status("M").last_update_id == u
    assert sides(book.levels("M")) == (asks, bids)


# ------------------------------------------------------------------------------ OKX


OKX_OPS = st.lists(
    st.sampled_from(
        ["update"] * 6 + ["lose", "duplicate", "keepalive", "reset", "snapshot", "bad"]
    ),
    max_size=60,
)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), ops=OKX_OPS)
def test_okx_book_with_ws_snapshots_is_the_exchange_book_whenever_synced(
    seed: int, ops: list[str]
) -> None:
    okx_model(seed, ops)


def okx_model(seed: int, ops: list[str]) -> None:
    """``prevSeqId``/``seqId``, keep-alives, sequence resets after maintenance (their first
    update delivered or lost), snapshots on resubscription."""
    rng = random.Random(seed)
    store = OKXDataStore()
    store.books.resync_hook = lambda inst: None
    asks: Book = {}
    bids: Book = {}
    epoch, seq = 0, 100_000_000
    history = {(epoch, seq): ({}, {})}
    delivered: list[dict[str, Any]] = []

    def push(action: str, prev: int, new: int, a: list[Any], b: list[Any]) -> dict[str, Any]:
        item = {"asks": a, "bids": b, "ts": "1", "checksum": 0, "prevSeqId": prev, "seqId": new}
        return {"arg": {"channel": "books", "instId": "X"}, "action": action, "data": [item]}

    def update(kind: str) -> dict[str, Any]:
        nonlocal epoch, seq
        prev = seq
        a: list[Any] = []
        b: list[Any] = []
        if kind != "keepalive":
            a, b = change(rng, asks, bids, rng.randint(1, 4))
            a = [[p, q, "0", "1"] for p, q in a]
            b = [[p, q, "0", "1"] for p, q in b]
        if kind == "reset":
            # far below every earlier seqId, as after OKX maintenance (ids of two
            # epochs never meet: an id-only protocol could not tell them apart)
            epoch, seq = epoch + 1, seq - rng.randint(1_000_000, 2_000_000)
        elif kind != "keepalive":
            seq += rng.randint(1, 3)
        history[(epoch, seq)] = (dict(asks), dict(bids))
        return push("update", prev, seq, a, b)

    def snapshot() -> dict[str, Any]:
        a = [[p, q, "0", "1"] for p, q in asks.items()]
        b = [[p, q, "0", "1"] for p, q in bids.items()]
        return push("snapshot", -1, seq, a, b)

    store.onmessage(snapshot())
    for op in ops:
        if op in ("update", "keepalive", "bad"):
            msg = update(op)
            if op == "bad":
                corrupt(rng, msg, msg["data"][0], rng.choice(["asks", "bids"]))
            delivered.append(msg)
            store.onmessage(msg)
        elif op == "reset":
            msg = update("reset")
            delivered.clear()  # a replay never crosses a reset (seqIds repeat)
            if rng.random() < 0.5:  # maintenance: its first update may be lost
                store.onmessage(msg)
        elif op == "lose":
            update("update")
        elif op == "duplicate" and delivered:
            store.onmessage(rng.choice(delivered))
        elif op == "snapshot":
            store.onmessage(snapshot())
        store.books._check()
        status = store.books.status("X")
        if status.synced:
            states = [h for (_, k), h in history.items() if k == status.last_update_id]
            assert sides(store.books.levels("X")) in states
    for _ in range(HEAL_ROUNDS):
        store.onmessage(update("update"))
        if not store.books.is_synced("X"):
            store.onmessage(snapshot())  # the resubscription's snapshot
    store.onmessage(update("update"))
    assert store.books.status("X").last_update_id == seq
    assert sides(store.books.levels("X")) == (asks, bids)
