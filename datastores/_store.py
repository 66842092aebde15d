"""DataStore, StoreChange/StoreStream and DataStoreCollection.

A :class:`DataStore` holds plain dict items with the exchange's own field names
and values. Stored items are never mutated in place: an update stores a new
dict. So a reference a caller or watcher holds always shows the item as it was
when it was handed out, and watchers get changes without any copying.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from ._errors import StoreStreamOverflow

if TYPE_CHECKING:
    from types import TracebackType

    from aiohttp import ClientResponse

__all__ = [
    "DataStore",
    "DataStoreCollection",
    "Item",
    "StoreChange",
    "StoreStream",
]

logger = logging.getLogger("datastores.store")

Item = dict[str, Any]
Operation = Literal["insert", "update", "delete"]
#: ``observer(collection, method, url, status, data)``: one HTTP response consumed
ResponseObserver = Callable[["DataStoreCollection", str, str, int, Any], None]
_DS = TypeVar("_DS", bound="DataStore")


@dataclass(frozen=True, slots=True)
class StoreChange:
    """One change to a store, as it was at that moment.

    Attributes:
        store: the store that changed.
        operation: ``"insert"``, ``"update"`` or ``"delete"``.
        source: the incoming item that caused the change, or ``None`` (insert,
            clear, eviction, or an update that created the item).
        data: the stored item after the change (for a delete: the removed item).
    """

    store: DataStore
    operation: Operation
    source: Item | None
    data: Item


class StoreStream:
    """An async stream of one store's changes: ``async with store.watch() as s: async for c in s``.

    Bounded: at most ``maxsize`` changes wait in the buffer. When a watcher falls
    further behind, the buffer is discarded and the next ``get()`` (or iteration
    step) raises :class:`~datastores.StoreStreamOverflow` with the number of lost
    changes; the stream then continues with new changes. Re-read the store (it is
    always current) when that happens. Memory stays bounded whatever the consumer does.
    """

    __slots__ = ("_buffer", "_closed", "_dropped", "_maxsize", "_store", "_waiter")

    def __init__(self, store: DataStore, maxsize: int = 65536) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._store = store
        self._maxsize = maxsize
        self._buffer: deque[StoreChange] = deque()
        self._dropped = 0
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        store._streams.append(self)

    @property
    def store(self) -> DataStore:
        """The watched store."""
        return self._store

    def _push(self, change: StoreChange) -> None:
        buffer = self._buffer
        if len(buffer) >= self._maxsize:
            self._dropped += len(buffer) + 1
            buffer.clear()
        else:
            buffer.append(change)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> StoreChange | None:
        """The next buffered change, or ``None`` if there is none yet.

        Raises:
            StoreStreamOverflow: changes were lost since the last call.
        """
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            raise StoreStreamOverflow(self._store.name, dropped)
        if self._buffer:
            return self._buffer.popleft()
        return None

    async def get(self) -> StoreChange:
        """Wait for and return the next change.

        Raises:
            StoreStreamOverflow: changes were lost since the last call.
            RuntimeError: the stream was closed.
        """
        while True:
            change = self.get_nowait()
            if change is not None:
                return change
            if self._closed:
                raise RuntimeError(f"watch() stream of store {self._store.name!r} is closed")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        """Stop receiving changes (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                self._store._streams.remove(self)
            except ValueError:
                pass
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)

    def __enter__(self) -> StoreStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> StoreStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> StoreStream:
        return self

    async def __anext__(self) -> StoreChange:
        try:
            return await self.get()
        except RuntimeError:
            if self._closed:
                raise StopAsyncIteration from None
            raise


async def _wait_on(waiters: list[asyncio.Future[None]]) -> None:
    """Park the caller in ``waiters`` until :func:`_wake` resolves it."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(future)
    try:
        await future
    finally:
        if not future.done():
            future.cancel()
        try:
            waiters.remove(future)
        except ValueError:
            pass


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    """Resolve every parked waiter once."""
    for future in waiters:
        if not future.done():
            future.set_result(None)
    waiters.clear()


def _tuple_getter(keys: tuple[str, ...]) -> Any:
    """``item -> tuple of key values``; raises KeyError when a key field is missing."""
    if len(keys) == 1:
        (key,) = keys
        return lambda item: (item[key],)
    return itemgetter(*keys)


class DataStore:
    """An in-memory store of dict items, keyed or append-only.

    * Keyed (``keys`` given, or the class's ``_KEYS``): one item per key tuple;
      ``get()`` is O(1); ``find()`` on all key fields is O(1), on a declared index
      field (``_INDEXES``, by default the first key of a multi-field key) it is
      O(matches); any other query scans.
    * Keyless: an append log; when it exceeds ``_MAXLEN`` the oldest items leave
      first, and each one leaving is a ``delete`` change like any other.

    Items keep the exchange's field names and values. Do not mutate items you
    read: the store never does (updates store a new dict).
    """

    _KEYS: ClassVar[tuple[str, ...] | list[str]] = ()
    _INDEXES: ClassVar[tuple[str, ...] | None] = None
    _MAXLEN: int = 9999

    def __init__(
        self,
        name: str | None = None,
        keys: Iterable[str] | None = None,
        data: Iterable[Item] | None = None,
    ) -> None:
        self.name: str = name or type(self).__name__
        self._keys: tuple[str, ...] = tuple(keys) if keys else tuple(self._KEYS)
        # The primary key of an item: always a tuple of its key values (C speed).
        self._key_of: Any = _tuple_getter(self._keys) if self._keys else None
        if self._INDEXES is not None:
            indexes = tuple(self._INDEXES)
        else:
            indexes = self._keys[:1] if len(self._keys) > 1 else ()
        self._indexes: tuple[str, ...] = tuple(f for f in indexes if f)
        # primary key -> item; pk is the key-value tuple (keyed) or a counter (keyless).
        self._data: dict[Hashable, Item] = {}
        # index field -> value -> ordered set of primary keys
        self._index: dict[str, dict[Hashable, dict[Hashable, None]]] = {
            f: {} for f in self._indexes
        }
        self._seq = 0
        self._oldest = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._streams: list[StoreStream] = []
        self._dropped = 0
        if data is not None:
            self._insert(data)
        self._init()

    def _init(self) -> None:
        """Subclass hook, called at the end of ``__init__``."""

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Item]:
        return iter(list(self._data.values()))

    def __reversed__(self) -> Iterator[Item]:
        return iter(list(reversed(self._data.values())))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} items={len(self._data)} keys={self._keys}>"

    @property
    def keys(self) -> tuple[str, ...]:
        """The key fields (empty for a keyless store)."""
        return self._keys

    @property
    def dropped(self) -> int:
        """Items refused because they lacked a key field or had an unhashable key."""
        return self._dropped

    def get(self, item: Mapping[str, Any]) -> Item | None:
        """The stored item whose key fields equal ``item``'s, or ``None``. O(1)."""
        if not self._keys:
            return None
        try:
            return self._data.get(self._key_of(item))
        except (KeyError, TypeError):
            return None

    def find(self, query: Mapping[str, Any] | None = None) -> list[Item]:
        """Items whose fields equal every field of ``query``, in insertion order.

        No query returns every item. A missing field never matches. O(1) for a
        query on all key fields, O(matches) on an index field, else O(n).
        """
        if not query:
            return list(self._data.values())
        return [self._data[pk] for pk in self._match(query)]

    def _match(self, query: Mapping[str, Any]) -> list[Hashable]:
        """Primary keys of the items matching ``query``, in insertion order."""
        data = self._data
        keys = self._keys
        candidates: Iterable[Hashable]
        if keys and all(k in query for k in keys):
            try:
                pk: Hashable = self._key_of(query)
                hit = pk in data
            except TypeError:
                return []
            candidates = (pk,) if hit else ()
        else:
            for field_name in self._indexes:
                if field_name in query:
                    try:
                        bucket = self._index[field_name].get(query[field_name])
                    except TypeError:
                        return []
                    candidates = list(bucket) if bucket else ()
                    break
            else:
                candidates = data.keys()
        result = []
        missing = object()
        for pk in candidates:
            item = data[pk]
            for k, v in query.items():
                if item.get(k, missing) != v:
                    break
            else:
                result.append(pk)
        return result

    async def wait(self) -> None:
        """Return after the next change to this store."""
        await _wait_on(self._waiters)

    def watch(self, maxsize: int = 65536) -> StoreStream:
        """A bounded stream of this store's changes from now on (see :class:`StoreStream`)."""
        return StoreStream(self, maxsize)

    # ------------------------------------------------------------- internals

    def _notify(self) -> None:
        """Wake ``wait()``ers (cheap when there are none)."""
        if self._waiters:
            _wake(self._waiters)

    def _emit(self, operation: Operation, source: Item | None, data: Item) -> None:
        change = StoreChange(self, operation, source, data)
        for stream in self._streams:
            stream._push(change)

    def _pk(self, item: Mapping[str, Any]) -> Hashable | None:
        try:
            pk: Hashable = self._key_of(item)
            hash(pk)
        except KeyError as exc:
            self._refuse(item, f"missing key field {exc.args[0]!r}")
            return None
        except TypeError:
            self._refuse(item, "unhashable key value")
            return None
        return pk

    def _refuse(self, item: object, why: str) -> None:
        self._dropped += 1
        level = logging.WARNING if self._dropped == 1 else logging.DEBUG
        logger.log(
            level,
            "store %r dropped an item (%s); %d dropped so far",
            self.name,
            why,
            self._dropped,
        )

    def _index_add(self, pk: Hashable, item: Item) -> None:
        for field_name in self._indexes:
            try:
                value = item[field_name]
                self._index[field_name].setdefault(value, {})[pk] = None
            except (KeyError, TypeError):
                continue

    def _index_remove(self, pk: Hashable, item: Item) -> None:
        for field_name in self._indexes:
            try:
                bucket = self._index[field_name].get(item[field_name])
            except (KeyError, TypeError):
                continue
            if bucket is not None:
                bucket.pop(pk, None)
                if not bucket:
                    del self._index[field_name][item[field_name]]

    def _index_move(self, pk: Hashable, old: Item, new: Item) -> None:
        for field_name in self._indexes:
            if old.get(field_name) != new.get(field_name):
                self._index_remove(pk, old)
                self._index_add(pk, new)
                self._reorder_buckets(new)
                return

    def _reorder_buckets(self, item: Item) -> None:
        # An indexed field changed value (rare): restore insertion order in the new bucket.
        for field_name in self._indexes:
            try:
                bucket = self._index[field_name].get(item[field_name])
            except (KeyError, TypeError):
                continue
            if bucket and len(bucket) > 1:
                members = set(bucket)
                bucket.clear()
                for pk in self._data:
                    if pk in members:
                        bucket[pk] = None

    def _store_new(self, pk: Hashable, item: Item) -> None:
        self._data[pk] = item
        if self._indexes:
            self._index_add(pk, item)

    def _remove_pk(self, pk: Hashable) -> Item:
        item = self._data.pop(pk)
        if self._indexes:
            self._index_remove(pk, item)
        return item

    def _evict(self) -> None:
        """Drop the oldest items while over ``_MAXLEN``; each is a delete change."""
        maxlen = self._MAXLEN
        data = self._data
        emit = bool(self._streams)
        while len(data) > maxlen:
            if self._keys:
                pk = next(iter(data))
            else:
                # Keyless primary keys are consecutive counters: the oldest is known
                # without iterating (which would be O(n) after many front deletions).
                while self._oldest not in data:
                    self._oldest += 1
                pk = self._oldest
                self._oldest += 1
            removed = self._remove_pk(pk)
            if emit:
                self._emit("delete", None, removed)

    def _insert(self, data: Iterable[Item]) -> None:
        """Insert items; a keyed item replaces the one with the same key (same position)."""
        store = self._data
        emit = bool(self._streams)
        if self._keys:
            key_of = self._key_of
            indexes = self._indexes
            for item in data:
                try:
                    pk = key_of(item)
                    old = store.get(pk)
                except (KeyError, TypeError):
                    if self._pk(item) is None:  # counts and logs the refusal
                        continue
                    raise
                if old is None:
                    self._store_new(pk, item)
                else:
                    store[pk] = item
                    if indexes:
                        self._index_move(pk, old, item)
                if emit:
                    self._emit("insert", None, item)
        else:
            for item in data:
                pk = self._seq
                self._seq += 1
                self._store_new(pk, item)
                if emit:
                    self._emit("insert", None, item)
        if len(store) > self._MAXLEN:
            self._evict()
        if self._waiters:
            self._notify()

    def _update(self, data: Iterable[Item]) -> None:
        """Merge each item into the stored one with the same key, or insert it.

        The merged result is a new dict; the previous one is left untouched.
        A keyless store appends (like ``_insert``).
        """
        if not self._keys:
            self._insert(data)
            return
        store = self._data
        emit = bool(self._streams)
        key_of = self._key_of
        indexes = self._indexes
        for item in data:
            try:
                pk = key_of(item)
                old = store.get(pk)
            except (KeyError, TypeError):
                if self._pk(item) is None:  # counts and logs the refusal
                    continue
                raise
            if old is None:
                self._store_new(pk, item)
                if emit:
                    self._emit("insert", None, item)
            else:
                merged = {**old, **item}
                store[pk] = merged
                if indexes:
                    for field_name in indexes:
                        # only a changed indexed value moves the item between buckets
                        if field_name in item and item[field_name] != old.get(field_name):
                            self._index_move(pk, old, merged)
                            break
                if emit:
                    self._emit("update", item, merged)
        if len(store) > self._MAXLEN:
            self._evict()
        if self._waiters:
            self._notify()

    def _delete(self, data: Iterable[Item]) -> None:
        """Delete the stored items with the keys of ``data`` (no-op for keyless stores)."""
        if not self._keys:
            return
        store = self._data
        emit = bool(self._streams)
        changed = False
        key_of = self._key_of
        for item in data:
            try:
                pk = key_of(item)
                if pk not in store:
                    continue
            except (KeyError, TypeError):
                continue
            removed = self._remove_pk(pk)
            changed = True
            if emit:
                self._emit("delete", item, removed)
        if changed:
            self._notify()

    def _remove(self, pks: Iterable[Hashable]) -> list[Item]:
        emit = bool(self._streams)
        removed = []
        for pk in pks:
            if pk in self._data:
                item = self._remove_pk(pk)
                removed.append(item)
                if emit:
                    self._emit("delete", None, item)
        if removed:
            self._notify()
        return removed

    def _clear(self) -> None:
        """Remove every item (each is a delete change for watchers)."""
        if not self._data:
            return
        if self._streams:
            for item in self._data.values():
                self._emit("delete", None, item)
        self._data.clear()
        for field_name in self._indexes:
            self._index[field_name].clear()
        self._oldest = self._seq
        self._notify()

    def _pop(self, item: Mapping[str, Any]) -> Item | None:
        """Remove and return the item with ``item``'s key, or ``None``.

        Unlike the reference library, watchers do see this as a delete, so a
        watcher's view never silently diverges from the store.
        """
        if not self._keys:
            return None
        try:
            pk = self._key_of(item)
            if pk not in self._data:
                return None
        except (KeyError, TypeError):
            return None
        removed = self._remove_pk(pk)
        if self._streams:
            self._emit("delete", None, removed)
        self._notify()
        return removed

    def _find_and_delete(self, query: Mapping[str, Any] | None = None) -> list[Item]:
        """Delete and return the items matching ``query`` (all items without a query)."""
        if not query:
            items = list(self._data.values())
            self._clear()
            return items
        return self._remove(self._match(query))


class DataStoreCollection:
    """A set of named stores fed by one stream of decoded messages.

    Exchange collections subclass it, create their stores in ``_init()``, route
    messages in ``_onmessage()`` and HTTP responses in ``_onresponse()``.
    """

    #: exchange name used in logs and errors; subclasses set it.
    _EXCHANGE: ClassVar[str | None] = None

    def __init__(self) -> None:
        self._stores: dict[str, DataStore] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._handler_errors = 0
        self._messages = 0
        #: the datastores.Client whose requests were passed to initialize(); used by
        #: collections that fetch snapshots themselves (book resync, keepalive).
        self._client: Any = None
        self._response_observers: list[ResponseObserver] = []
        self._init()

    def _init(self) -> None:
        """Subclass hook: create stores here."""

    def _create(
        self,
        name: str,
        *,
        keys: Iterable[str] | None = None,
        data: Iterable[Item] | None = None,
        datastore_class: type[_DS] = DataStore,  # type: ignore[assignment]
    ) -> _DS:
        store = datastore_class(name, keys, data)
        self._stores[name] = store
        return store

    def _get(self, name: str, type_: type[_DS] = DataStore) -> _DS | None:  # type: ignore[assignment]
        store = self._stores.get(name)
        return store if isinstance(store, type_) else None

    def __getitem__(self, name: str) -> DataStore:
        return self._stores[name]

    def __contains__(self, name: object) -> bool:
        return name in self._stores

    def __iter__(self) -> Iterator[str]:
        return iter(self._stores)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} stores={list(self._stores)}>"

    @property
    def stores(self) -> Mapping[str, DataStore]:
        """A read-only view of the stores by name."""
        return dict(self._stores)

    @property
    def client(self) -> Any:
        """The ``datastores.Client`` seen by ``initialize()`` (or set by the user), or ``None``."""
        return self._client

    @client.setter
    def client(self, client: Any) -> None:
        self._client = client

    @property
    def handler_errors(self) -> int:
        """Messages whose handling raised (logged and dropped)."""
        return self._handler_errors

    def onmessage(self, msg: Any, ws: Any = None) -> None:
        """Route one decoded message into the stores, then wake ``wait()``ers once.

        Never raises: a handler error is logged with the message's channel and
        counted in :attr:`handler_errors`, and :meth:`_onerror` lets the
        collection mark what the message touched (books go unsynced and resync).
        """
        self._messages += 1
        try:
            self._onmessage(msg, ws)
        except Exception as exc:
            self._handler_errors += 1
            where = self._describe(msg)
            logger.warning(
                "%s: dropped a message for %s after a handler error (%s: %s); %d so far",
                type(self).__name__,
                where,
                type(exc).__name__,
                exc,
                self._handler_errors,
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )
            try:
                self._onerror(msg, exc)
            except Exception:
                logger.exception("%s: error hook failed", type(self).__name__)
        if self._waiters:
            _wake(self._waiters)

    def _onmessage(self, msg: Any, ws: Any) -> None:
        """Subclass hook: route one message. The base class ignores messages."""

    def _onerror(self, msg: Any, exc: Exception) -> None:
        """Subclass hook: a handler raised on ``msg``; mark affected state (books)."""

    def _describe(self, msg: Any) -> str:
        """Subclass hook: name the channel/store of ``msg`` for logs."""
        if isinstance(msg, Mapping):
            for field_name in ("topic", "channel", "stream", "e", "table", "arg"):
                if field_name in msg:
                    return f"{field_name}={msg[field_name]!r}"[:120]
        return f"a {type(msg).__name__} message"

    def add_response_observer(self, observer: ResponseObserver) -> None:
        """Call ``observer(collection, method, url, status, data)`` for every HTTP
        response this collection consumes: those passed to ``initialize()`` and
        those it fetches by itself (book snapshots after a gap or a reconnect).

        The recorder uses this so that a replay sees every snapshot the live
        store saw. An observer that raises is logged and ignored.
        """
        if observer not in self._response_observers:
            self._response_observers.append(observer)

    def remove_response_observer(self, observer: ResponseObserver) -> None:
        """Stop calling ``observer`` (no error if it was not registered)."""
        if observer in self._response_observers:
            self._response_observers.remove(observer)

    def _observe_response(self, method: str, url: object, status: int, data: Any) -> None:
        """Tell the response observers about one consumed response (never raises)."""
        for observer in self._response_observers:
            try:
                observer(self, method, str(url), status, data)
            except Exception:
                logger.exception("%s: response observer failed", type(self).__name__)

    def on_reconnect(self, ws: Any = None) -> None:
        """Called by a WebSocketApp after it reconnected: reset per-connection state.

        Exchange collections override this to mark books unsynced and resync.
        """

    async def wait(self) -> None:
        """Return after the next message handled by ``onmessage``."""
        await _wait_on(self._waiters)

    async def initialize(self, *aws: Awaitable[ClientResponse] | ClientResponse) -> None:
        """Consume HTTP responses (snapshots, open orders, listenKey creation...).

        Accepts aiohttp responses, or awaitables giving one (``client.get(...)``).
        They are awaited concurrently and each is handed to ``_onresponse`` as it
        completes.

        Raises:
            ExchangeAPIError: a non-2xx response, naming the endpoint, the status
                and the exchange's message; or an exchange error code in a 2xx body.
            ValueError: an endpoint this collection does not know.
        """
        from ._http import read_response  # local: keeps aiohttp out of store import time

        async def one(aw: Awaitable[ClientResponse] | ClientResponse) -> None:
            # datastores.Client request contexts carry their client: remember it so
            # the collection can refetch snapshots and run keepalives by itself.
            client = getattr(aw, "client", None)
            if client is not None:
                self._client = client
            resp = aw if not isinstance(aw, Awaitable) else await aw
            data = await read_response(resp, exchange=self._EXCHANGE)
            if self._response_observers:
                self._observe_response(resp.method, resp.url, resp.status, data)
            await self._onresponse(resp, data)

        tasks = [asyncio.ensure_future(one(aw)) for aw in aws]
        try:
            for done in asyncio.as_completed(tasks):
                await done
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
        self.onmessage_done()

    def onmessage_done(self) -> None:
        """Wake collection waiters (used after ``initialize``)."""
        _wake(self._waiters)

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        """Subclass hook: apply one decoded HTTP response, chosen by ``resp.url.path``."""
        raise ValueError(
            f"{type(self).__name__}.initialize() does not know the endpoint "
            f"{resp.method} {resp.url.path}"
        )
