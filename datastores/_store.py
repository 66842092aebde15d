"""DataStore: an in-memory store of dict items, keyed or append-only.

A :class:`DataStore` holds plain dict items with the exchange's own field names
and values. Stored items are never mutated in place: an update stores a new
dict. So a reference a caller or watcher holds always shows the item as it was
when it was handed out, and watchers get changes without any copying
(:mod:`datastores._stream`). Collections of stores: :mod:`datastores._collection`.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Iterator, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from ._stream import ChangeSubscriber, Item, Operation, StoreChange, StoreStream, _wait_on, _wake

if TYPE_CHECKING:
    import asyncio

    # PEP 696 defaults: a bare ``DataStore`` is ``DataStore[Item]``. Only the type
    # checker needs them (typing.TypeVar has ``default`` from Python 3.13 on).
    from typing_extensions import TypeVar

    ItemT = TypeVar("ItemT", default=Item)
else:
    from typing import TypeVar

    ItemT = TypeVar("ItemT")

__all__ = ["DataStore", "Item", "ItemT", "StoreChange", "StoreStream"]

logger = logging.getLogger("datastores.store")


def _tuple_getter(keys: tuple[str, ...]) -> Any:
    """``item -> tuple of key values``; raises KeyError when a key field is missing."""
    if len(keys) == 1:
        (key,) = keys
        return lambda item: (item[key],)
    return itemgetter(*keys)


def _first(pair: tuple[float, Any]) -> float:
    return pair[0]


class DataStore(Generic[ItemT]):
    """An in-memory store of dict items, keyed or append-only.

    Generic in its item type: an exchange declares a ``TypedDict`` with the
    exchange's field names (``class Trade(DataStore[TradeItem])``), so ``find()``,
    ``get()`` and iteration are typed for users. Only the type checker sees it:
    items are the plain dicts received, at no runtime cost.

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
        self._data: dict[Hashable, Any] = {}  # values are items (ItemT): Any keeps reads cast-free
        # index field -> value -> ordered set of primary keys
        self._index: dict[str, dict[Hashable, dict[Hashable, None]]] = {
            f: {} for f in self._indexes
        }
        self._seq = 0
        self._oldest = 0
        self._waiters: list[asyncio.Future[None]] = []
        #: watch() streams, and the collection's change-feed sink while observed
        self._streams: list[ChangeSubscriber] = []
        self._dropped = 0
        if data is not None:
            self._insert(data)
        self._init()

    def _init(self) -> None:
        """Subclass hook, called at the end of ``__init__``."""

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[ItemT]:
        return iter(list(self._data.values()))

    def __reversed__(self) -> Iterator[ItemT]:
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

    def get(self, item: Mapping[str, Any]) -> ItemT | None:
        """The stored item whose key fields equal ``item``'s, or ``None``. O(1)."""
        if not self._keys:
            return None
        try:
            return self._data.get(self._key_of(item))
        except (KeyError, TypeError):
            return None

    def find(self, query: Mapping[str, Any] | None = None) -> list[ItemT]:
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

    def _sorted(
        self,
        item_key: str,
        item_asc_key: str,
        item_desc_key: str,
        sort_key: str,
        query: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, list[ItemT]]:
        """The order-book view custom stores build their ``sorted()`` on, as in
        pybotters' guide: ``{item_asc_key: [...ascending], item_desc_key:
        [...descending]}`` of the items matching ``query``, by
        ``float(item[sort_key])``, split by ``item[item_key]``; each side cut to
        ``limit`` when it is truthy. O(m log m) for m matching items.

        Items whose ``item_key`` is neither side, or whose ``sort_key`` is missing or
        not a number, are left out (pybotters raised ``KeyError``/``ValueError``).
        Exchange stores here keep their books sorted: prefer their ``sorted()``.
        """
        sides: dict[str, list[tuple[float, Any]]] = {item_asc_key: [], item_desc_key: []}
        for item in self.find(query):
            entry: Any = item
            try:
                side = sides.get(entry.get(item_key))
                price = float(entry[sort_key])
            except (KeyError, TypeError, ValueError):  # unhashable side, no price, "abc"
                continue
            if side is not None:
                side.append((price, item))
        asc = [item for _, item in sorted(sides[item_asc_key], key=_first)]
        desc = [item for _, item in sorted(sides[item_desc_key], key=_first, reverse=True)]
        if limit:
            asc, desc = asc[:limit], desc[:limit]
        return {item_asc_key: asc, item_desc_key: desc}

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
        item: Item = self._data.pop(pk)
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
