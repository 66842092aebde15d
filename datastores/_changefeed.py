"""The change feed: every change a collection applies, one batch per message or response.

A :class:`~datastores.DataStoreCollection` with observers
(``collection.add_observer(callback)``) calls ``callback(batch)`` synchronously
with one :class:`ChangeBatch` per decoded message handled by ``onmessage``, one
per HTTP response it consumes (``initialize()`` and the snapshots it fetches by
itself), and one for changes applied outside both (a store cleared on
reconnect, a book invalidated by a timer). A batch lists, in the order they
happened:

* :class:`~datastores.StoreChange` for plain stores (and for order-book levels
  set through the generic ``DataStore`` mutation API, which is rare);
* :class:`BookChange` for order books: the level lists the book applied, as the
  exchange's own ``[price, size, ...]`` sequences, never one dict per level;
* :class:`IntegrityEvent` for a book symbol going unsynced, synced again, or
  asking for a resync.

:func:`apply_batch` replays batches into a mirror collection (the same class,
fed only from the feed), which then holds exactly the origin's state after
every batch: the recorder, the FMZ bridge and the NATS relay build on this.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ._orderbook import OrderBookStore
from ._stream import StoreChange

if TYPE_CHECKING:
    from ._bookside import Level
    from ._bookstate import FailureKind
    from ._collection import DataStoreCollection
    from ._store import DataStore

__all__ = [
    "BookChange",
    "Change",
    "ChangeBatch",
    "IntegrityEvent",
    "LocalSource",
    "Observer",
    "RestSource",
    "WsSource",
    "apply_batch",
]

logger = logging.getLogger("datastores.store")


# The batch types are NamedTuples, not frozen dataclasses: one is built per message
# (a batch, its source, the book's change), and a frozen dataclass pays one
# object.__setattr__ call per field in __init__, which made the feed cost an observed
# book ~40% of its throughput. A NamedTuple is immutable just the same, built in C.


class WsSource(NamedTuple):
    """The batch came from one decoded WebSocket message.

    Attributes:
        message: the message exactly as ``onmessage`` received it (decoded JSON,
            or ``str``/``bytes`` for raw handlers). Do not mutate it.
        url: the URL of the connection it came from, if the caller passed one.
    """

    message: Any
    url: str | None
    kind: Literal["ws"] = "ws"


class RestSource(NamedTuple):
    """The batch came from one consumed HTTP response (``initialize()`` or a snapshot
    the collection fetched by itself).

    Attributes:
        method, url, status: the request's method and URL, the response status.
        data: the decoded body as the collection consumed it. Do not mutate it.
    """

    method: str
    url: str
    status: int
    data: Any
    kind: Literal["rest"] = "rest"


class LocalSource(NamedTuple):
    """The batch holds changes applied outside any message or response: a store
    cleared on reconnect, a book marked unsynced by a timer or a closed feed."""

    kind: Literal["local"] = "local"


Source = WsSource | RestSource | LocalSource


class BookChange(NamedTuple):
    """Levels one order book applied for one symbol.

    Attributes:
        store: the order-book store.
        symbol: the book's key in the store (``store.levels(symbol)`` reads it).
        asks, bids: the ``[price, size, ...]`` sequences as the exchange sent them
            and as the book applied them, in order: size 0 deletes a level, any
            other size sets it. Shared with the book: do not mutate them.
        snapshot: the whole book was replaced by these levels (empty lists: the
            book was cleared), rather than updated by them.
        depth: the depth cap in force for the symbol (levels per side, ``None``:
            none); after applying, the worst levels beyond it are dropped.

    A malformed level stops the apply where it is (the levels before it stay
    applied); an :class:`IntegrityEvent` with reason ``"error"`` follows.
    """

    store: OrderBookStore[Any]
    symbol: str
    asks: Sequence[Level]
    bids: Sequence[Level]
    snapshot: bool
    depth: int | None


class IntegrityEvent(NamedTuple):
    """A change in one book symbol's integrity.

    Attributes:
        store, symbol: the book and the symbol.
        event: ``"unsynced"`` (a failure or an invalidation), ``"synced"`` (a
            snapshot installed, or a state change seen at the end of the batch),
            ``"resync"`` (a recovery was requested: snapshot refetch or resubscribe).
        reason: for ``"unsynced"``, ``"gap"``, ``"checksum"``, ``"error"``,
            ``"reconnect"`` or ``"overflow"``; ``None`` when the book only says so.
        detail: the book's description (its ``status().last_error``), or ``None``.
        synced: ``store.is_synced(symbol)`` right after the event: a mirror takes
            its own synced state from here.
    """

    store: OrderBookStore[Any]
    symbol: str
    event: Literal["unsynced", "synced", "resync"]
    reason: FailureKind | None
    detail: str | None
    synced: bool


Change = StoreChange | BookChange | IntegrityEvent


class ChangeBatch(NamedTuple):
    """Everything one message, one response, or one local action changed.

    Attributes:
        collection: the collection that applied the changes.
        seq: the collection's batch number, 1, 2, 3... without holes: a consumer
            that sees a hole lost batches.
        time: receive time, seconds since the epoch, on the collection's Client
            clock (the system clock without a client).
        source: :class:`WsSource`, :class:`RestSource` or :class:`LocalSource`.
        changes: the changes in the order they were applied (may be empty: a
            message that changed nothing still makes a batch).
        continued: this batch continues the previous one from the same source
            (another message was handled while the response was being applied);
            a recorder writes the source once, from the first batch.
    """

    collection: DataStoreCollection
    seq: int
    time: float
    source: Source
    changes: tuple[Change, ...]
    continued: bool = False


#: ``observer(batch)``: called synchronously; must not block or raise
Observer = Callable[[ChangeBatch], None]


# ------------------------------------------------------------------ the sink

#: builds a NamedTuple from a tuple of all its fields, skipping its Python-level
#: ``__new__`` (argument parsing and defaults): the sink builds three per message
_new = tuple.__new__


def _as_levels(levels: Any) -> Any:
    """``levels`` as a list the book and the observers can both iterate (a
    generator would be consumed twice); anything else as given, so the apply
    fails on it exactly as it would have."""
    if levels.__class__ is list or levels.__class__ is tuple:
        return levels
    try:
        return list(levels)
    except TypeError:
        return levels


class FeedSink:
    """Collects one collection's changes into batches and hands them to its observers.

    Installed by the collection while it has observers: in each plain store's
    watcher list (it receives their :class:`StoreChange` like a ``watch()``
    stream), and as each book's ``_sink`` (books call :meth:`book` and
    :meth:`event`). A batch is open while ``onmessage`` or a response handler
    runs; a change arriving outside opens a pending batch that is delivered
    before the next one opens, or on the next event-loop turn.
    """

    __slots__ = (
        "_changes",
        "_collection",
        "_continued",
        "_explicit",
        "_first_store",
        "_first_symbol",
        "_observers",
        "_reported",
        "_scheduled",
        "_seq",
        "_source",
        "_time",
        "_touched",
        "burst",
        "errors",
    )

    def __init__(self, collection: DataStoreCollection) -> None:
        self._collection = collection
        self._changes: list[Change] = []
        self._source: Source | None = None
        self._time = 0.0
        self._continued = False
        self._explicit = False
        self._scheduled = False
        self._seq = 0
        #: the collection's observers, as a tuple the collection replaces when they
        #: change: delivery iterates it without copying it per batch
        self._observers: tuple[Observer, ...] = ()
        #: (store name, symbol) -> synced as last told to observers
        self._reported: dict[tuple[str, str], bool] = {}
        #: the first book symbol changed in the open batch, and any others: their sync
        #: is checked at its end (most batches touch one symbol: no dict, no key tuple)
        self._first_store: OrderBookStore[Any] | None = None
        self._first_symbol = ""
        self._touched: dict[tuple[OrderBookStore[Any], str], None] = {}
        #: observer calls that raised, and whether the current burst was logged
        self.errors = 0
        self.burst = False

    # ------------------------------------------------------------- recording

    def _push(self, change: StoreChange) -> None:
        """A plain store's change (the watcher protocol of :class:`StoreStream`)."""
        if self._source is None:
            self._open_pending(LocalSource())
        self._changes.append(change)

    def book(
        self, store: OrderBookStore[Any], symbol: str, asks: Any, bids: Any, snapshot: bool
    ) -> tuple[Any, Any]:
        """Record levels ``store`` is about to apply; returns them as it must apply them."""
        if asks.__class__ is not list and asks.__class__ is not tuple:
            asks = _as_levels(asks)
        if bids.__class__ is not list and bids.__class__ is not tuple:
            bids = _as_levels(bids)
        if self._source is None:
            self._open_pending(LocalSource())
        depth = store._depths.get(symbol, store._DEPTH)
        self._changes.append(_new(BookChange, (store, symbol, asks, bids, snapshot, depth)))
        first = self._first_store
        if first is None:
            self._first_store, self._first_symbol = store, symbol
        elif first is not store or self._first_symbol != symbol:
            self._touched[store, symbol] = None
        return asks, bids

    def event(
        self,
        store: OrderBookStore[Any],
        symbol: str,
        event: Literal["unsynced", "synced", "resync"],
        reason: FailureKind | None,
        detail: str | None,
    ) -> None:
        """Record an integrity event of ``store``'s ``symbol``."""
        if self._source is None:
            self._open_pending(LocalSource())
        synced = store.is_synced(symbol)
        self._reported[store.name, symbol] = synced
        self._changes.append(IntegrityEvent(store, symbol, event, reason, detail, synced))
        first = self._first_store
        if first is None:
            self._first_store, self._first_symbol = store, symbol
        elif first is not store or self._first_symbol != symbol:
            self._touched[store, symbol] = None

    # ------------------------------------------------------------- batching

    def _now(self) -> float:
        client = self._collection._client
        if client is None:
            return time.time()
        clock = getattr(client, "clock", None)
        return time.time() if clock is None else float(clock.time())

    def begin(self, source: Source) -> Source | None:
        """Open the batch of one message or response; returns the batch it interrupts."""
        outer = self._source
        if outer is not None:
            self.deliver()
        self._source = source
        client = self._collection._client
        self._time = time.time() if client is None else self._now()
        self._explicit = True
        return outer if outer is not None and not isinstance(outer, LocalSource) else None

    def begin_message(self, message: Any, url: str | None) -> Source | None:
        """:meth:`begin` with a :class:`WsSource` for ``message`` (one per message:
        built here, in one step)."""
        outer = self._source
        if outer is not None:
            self.deliver()
        self._source = _new(WsSource, (message, url, "ws"))
        client = self._collection._client
        self._time = time.time() if client is None else self._now()
        self._explicit = True
        return outer if outer is not None and not isinstance(outer, LocalSource) else None

    def _open_pending(self, source: Source) -> None:
        if self._source is not None:
            self.deliver()
        self._source = source
        self._time = self._now()
        self._explicit = False
        self._schedule()

    def open_response(self, source: RestSource) -> None:
        """A response the collection fetched by itself is about to be applied."""
        self._open_pending(source)

    def _schedule(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: delivered when the next batch opens, or by flush()
        self._scheduled = True
        loop.call_soon(self._deliver_pending)

    def _deliver_pending(self) -> None:
        self._scheduled = False
        if self._source is not None and not self._explicit:
            self.deliver()

    def flush(self) -> None:
        """Deliver a pending batch now (no-op while a message is being handled)."""
        if self._source is not None and not self._explicit:
            self.deliver()

    def deliver(self) -> None:
        """Close the open batch and call the observers with it."""
        self.end(None)

    def end(self, outer: Source | None) -> None:
        """Deliver the open batch (if any) to the observers; then resume the
        interrupted response's batch, if any (``outer``, from :meth:`begin`).

        The delivery itself lives here rather than in :meth:`deliver`: the end of
        each message is the hot path, one call fewer."""
        source = self._source
        if source is not None and self._first_store is not None:
            self._reconcile()
        if source is not None and self._continued and not self._changes:
            # A response's batch resumed after a message interrupted it, and nothing
            # more came of it: there is no batch to tell (its changes went out already).
            self._source = None
            self._continued = False
            self._explicit = False
        elif source is not None:
            self._seq += 1
            changes = self._changes
            batch = _new(
                ChangeBatch,
                (self._collection, self._seq, self._time, source, tuple(changes), self._continued),
            )
            changes.clear()
            self._source = None
            self._continued = False
            self._explicit = False
            failed = False
            # A tuple: an observer that adds or removes observers replaces it, so this
            # batch still goes to the observers there were when it closed.
            for observer in self._observers:
                try:
                    observer(batch)
                except Exception:
                    failed = True
                    self.errors += 1
                    if not self.burst:
                        self.burst = True
                        logger.exception(
                            "%s: a change observer failed on batch %d (logged once until "
                            "observers succeed again; %d failures so far)",
                            type(self._collection).__name__,
                            batch.seq,
                            self.errors,
                        )
            if self.burst and not failed:
                self.burst = False
        if outer is not None:
            self._source = outer
            self._time = self._now()
            self._continued = True
            self._schedule()

    def _reconcile(self) -> None:
        """Tell observers about sync changes no event announced (an exchange setting
        the state directly, a symbol forgotten): the batch ends with the truth.
        Checks the book symbols the batch touched, in the order it first touched them."""
        store, symbol = self._first_store, self._first_symbol
        assert store is not None
        self._first_store = None
        synced = store.is_synced(symbol)
        if self._reported.get((store.name, symbol)) is not synced:
            self._announce(store, symbol, synced)
        if self._touched:
            for store, symbol in self._touched:
                synced = store.is_synced(symbol)
                if self._reported.get((store.name, symbol)) is not synced:
                    self._announce(store, symbol, synced)
            self._touched.clear()

    def _announce(self, store: OrderBookStore[Any], symbol: str, synced: bool) -> None:
        self._reported[store.name, symbol] = synced
        self._changes.append(
            IntegrityEvent(
                store,
                symbol,
                "synced" if synced else "unsynced",
                None,
                None if synced else store.status(symbol).last_error,
                synced,
            )
        )


# ------------------------------------------------------------------ mirror


def _mirror_store(target: DataStoreCollection, origin: DataStore[Any]) -> DataStore[Any]:
    store = target._stores.get(origin.name)
    if store is None:
        store = target._create(origin.name, keys=origin.keys or None, datastore_class=type(origin))
    return store


def _apply_store_change(store: DataStore[Any], change: StoreChange) -> None:
    data = change.data
    if isinstance(store, OrderBookStore):
        if change.operation == "delete":
            if store._pop_level(data, source=None) is not None:
                store._notify()
        else:
            store._insert([data])
        return
    if store.keys:
        if change.operation == "delete":
            store._delete([data])
        else:
            store._insert([data])  # replaces by key, in place; insertion order kept
        return
    # Keyless: the origin evicts by itself and says so with delete changes, so the
    # mirror neither evicts on insert nor deletes anything but the announced item.
    if change.operation == "delete":
        pk = _first_equal(store, data)
        if pk is not None:
            store._remove_pk(pk)
            store._notify()
    else:
        pk = store._seq
        store._seq += 1
        store._store_new(pk, data)
        store._notify()


def _first_equal(store: DataStore[Any], item: Any) -> Any:
    """The primary key of the oldest item equal to ``item`` in a keyless store."""
    entries = store._data
    while store._oldest < store._seq and store._oldest not in entries:
        store._oldest += 1
    oldest = entries.get(store._oldest)
    if oldest is not None and (oldest is item or oldest == item):
        return store._oldest
    for pk, value in entries.items():
        if value is item or value == item:
            return pk
    return None


def _apply_book_change(book: OrderBookStore[Any], change: BookChange) -> None:
    symbol = change.symbol
    if change.depth is None:
        book._depths.pop(symbol, None)
    else:
        book._depths[symbol] = change.depth
    if change.snapshot:
        book._clear_symbol(symbol)
        if change.asks or change.bids:
            book._apply(symbol, change.asks, change.bids)
    elif change.asks or change.bids:
        book._apply(symbol, change.asks, change.bids)
    else:
        book._trim(symbol)  # a new depth cap, nothing else


def apply_batch(target: DataStoreCollection, batch: ChangeBatch) -> None:
    """Apply ``batch`` to ``target``, a collection fed only from the feed.

    ``target`` is normally a fresh instance of the origin's class (it then reads
    the same way: the same stores, item shapes and book fields); stores it lacks
    are created like the origin's. After each batch the target's stores hold the
    origin's items in the same order and its books the same levels, and
    ``is_synced(symbol)`` says what the origin's said (integrity counters stay
    the target's own). Cost: like the origin's own apply, O(log n) per level.
    """
    for change in batch.changes:
        if isinstance(change, StoreChange):
            _apply_store_change(_mirror_store(target, change.store), change)
        elif isinstance(change, BookChange):
            book = _mirror_store(target, change.store)
            assert isinstance(book, OrderBookStore)
            _apply_book_change(book, change)
        else:
            book = _mirror_store(target, change.store)
            assert isinstance(book, OrderBookStore)
            state = book._state(change.symbol)
            state.phase = "synced" if change.synced else "unsynced"
            if change.detail is not None and not change.synced:
                state.last_error = change.detail
    target.onmessage_done()
