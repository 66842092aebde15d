"""The relay's wire format: change batches as JSON messages, snapshots as JSON documents.

A batch becomes one message per run of consecutive changes to the same store
and symbol (most batches are one run, so one message). Each message is a JSON
object::

    {"v": 1, "e": "5f0c…", "r": 1042, "q": 977, "b": 1100, "t": 1733500000.12,
     "m": false, "st": "orderbook", "sy": "BTCUSDT", "x": [...]}

``e`` is the relay's epoch (new at every relay start), ``r`` the relay sequence
(1, 2, 3… over all subjects: a hole is a lost message), ``q`` the sequence on
this subject, ``b`` and ``t`` the origin batch's ``seq`` and ``time``, ``m``
whether more messages of the same batch follow (a mirror applies a batch
whole, never a part of it). ``st`` and ``sy`` name the store and symbol; the
first message of a store in a relay run also gives its keys ``k`` and class
``c`` (a store made on the fly). ``x`` lists the changes, in order:

* ``["b", asks, bids, snapshot, depth]``: a :class:`~datastores.BookChange`;
* ``["i", event, reason, detail, synced]``: an :class:`~datastores.IntegrityEvent`;
* ``["s", operation, item]``: a :class:`~datastores.StoreChange`.

Splitting only at run boundaries keeps the order of every store exactly (a
log of trades of two symbols stays interleaved as it was).

A snapshot is the whole collection at one relay sequence: for each store its
name, keys, class and items (books: per symbol the levels, depth cap and the
origin's synced verdict). It is stored zlib-compressed in the key-value bucket
as a JSON header line (epoch, sequence, position in the stream, per-subject
sequences) followed by the JSON body.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterable
from typing import Any

from ... import _json
from ..._changefeed import BookChange, Change, ChangeBatch, IntegrityEvent
from ..._collection import DataStoreCollection
from ..._orderbook import OrderBookStore
from ..._store import DataStore
from ..._stream import StoreChange
from ._subjects import NO_SYMBOL

__all__ = [
    "VERSION",
    "WireError",
    "batch_runs",
    "class_path",
    "decode_changes",
    "decode_snapshot",
    "encode_snapshot",
    "restore_snapshot",
    "take_snapshot",
]

VERSION = 1

#: fields naming the symbol of a plain store's item, tried in order
SYMBOL_FIELDS = ("symbol", "s", "instId", "coin", "product_code", "pair", "market")

#: one run: the store, the symbol, the encoded changes
Run = tuple[DataStore[Any], str, list[list[Any]]]


class WireError(ValueError):
    """A message or snapshot that does not follow the relay's format."""


def class_path(klass: type[Any]) -> str:
    """``"module:QualifiedName"`` of a class."""
    return f"{klass.__module__}:{klass.__qualname__}"


def _item_symbol(store: DataStore[Any], data: Any) -> str:
    if isinstance(store, OrderBookStore):
        value = data.get(store._SYMBOL)
        return value if isinstance(value, str) and value else NO_SYMBOL
    for name in SYMBOL_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
    return NO_SYMBOL


def batch_runs(batch: ChangeBatch) -> list[Run]:
    """``batch``'s changes grouped into runs of consecutive changes to one store
    and symbol, each change encoded for the wire. O(changes)."""
    runs: list[Run] = []
    last_store: Any = None
    last_symbol = ""
    encoded: list[list[Any]] = []
    for change in batch.changes:
        kind = change.__class__
        if kind is BookChange:
            store: Any = change.store
            symbol = change.symbol  # type: ignore[union-attr]
            item = ["b", change.asks, change.bids, change.snapshot, change.depth]  # type: ignore[union-attr]
        elif kind is IntegrityEvent:
            store = change.store
            symbol = change.symbol  # type: ignore[union-attr]
            item = ["i", change.event, change.reason, change.detail, change.synced]  # type: ignore[union-attr]
        else:
            store = change.store
            data = change.data  # type: ignore[union-attr]
            symbol = _item_symbol(store, data)
            item = ["s", change.operation, data]  # type: ignore[union-attr]
        if store is not last_store or symbol != last_symbol:
            encoded = []
            runs.append((store, symbol, encoded))
            last_store, last_symbol = store, symbol
        encoded.append(item)
    return runs


# ------------------------------------------------------------------ mirror side


def _store_class(path: Any) -> type[DataStore[Any]]:
    """A store class named by a snapshot: only classes of this library are loaded
    (a class path from the network never imports anything else)."""
    if isinstance(path, str) and path.startswith("datastores.") and ":" in path:
        module_name, _, qualname = path.partition(":")
        try:
            found: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            found = None
        if isinstance(found, type) and issubclass(found, DataStore):
            return found
    return DataStore


def _target_store(
    target: DataStoreCollection, name: str, catalog: dict[str, tuple[list[str], str]]
) -> DataStore[Any]:
    store = target._stores.get(name)
    if store is None:
        known = catalog.get(name)
        if known is None:
            raise WireError(f"store {name!r} is not in the last snapshot")
        keys, path = known
        store = target._create(name, keys=keys or None, datastore_class=_store_class(path))
    return store


def decode_changes(
    target: DataStoreCollection,
    store_name: str,
    symbol: str,
    encoded: Iterable[Any],
    catalog: dict[str, tuple[list[str], str]],
) -> list[Change]:
    """The changes of one message, addressed to ``target``'s stores (made from
    ``catalog``, the last snapshot's store list, when missing).

    Raises:
        WireError: an unknown change kind, or a store neither in ``target`` nor
            in ``catalog``.
    """
    store = _target_store(target, store_name, catalog)
    changes: list[Change] = []
    for item in encoded:
        kind = item[0]
        if kind == "b":
            if not isinstance(store, OrderBookStore):
                raise WireError(f"book levels for {store_name!r}, which is not a book")
            changes.append(BookChange(store, symbol, item[1], item[2], bool(item[3]), item[4]))
        elif kind == "i":
            if not isinstance(store, OrderBookStore):
                raise WireError(f"integrity event for {store_name!r}, which is not a book")
            changes.append(IntegrityEvent(store, symbol, item[1], item[2], item[3], bool(item[4])))
        elif kind == "s":
            changes.append(StoreChange(store, item[1], None, item[2]))
        else:
            raise WireError(f"unknown change kind {kind!r}")
    return changes


# ------------------------------------------------------------------ snapshots


def take_snapshot(collection: DataStoreCollection) -> dict[str, Any]:
    """The whole state of ``collection`` now, as JSON-ready data. The caller
    flushes the collection's pending batch first, so the snapshot matches the
    batches delivered so far. O(items + levels)."""
    stores: list[dict[str, Any]] = []
    for name, store in collection._stores.items():
        entry: dict[str, Any] = {"n": name, "k": list(store.keys), "c": class_path(type(store))}
        if isinstance(store, OrderBookStore):
            symbols = []
            for symbol in store.symbols:
                asks, bids = store.levels(symbol)
                state = store._states.get(symbol)
                symbols.append(
                    [
                        symbol,
                        # lists for the JSON encoder: a native side keeps a plain
                        # [price, size] pair as a compact Level (a sequence)
                        [list(level) for level in asks],
                        [list(level) for level in bids],
                        store._depths.get(symbol, store._DEPTH),
                        store.is_synced(symbol),
                        None if state is None else state.last_error,
                    ]
                )
            entry["b"] = symbols
        else:
            entry["i"] = list(store)
        stores.append(entry)
    return {"cls": class_path(type(collection)), "stores": stores}


def encode_snapshot(header: dict[str, Any], body: bytes) -> bytes:
    """The bucket value: ``header`` as one JSON line, then ``body``, compressed."""
    return zlib.compress(_json.dumps_bytes(header) + b"\n" + body, 1)


def decode_snapshot(value: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, body)`` of a bucket value.

    Raises:
        WireError: not a snapshot of this format.
    """
    try:
        raw = zlib.decompress(value)
        head, _, body = raw.partition(b"\n")
        header = _json.loads(head)
        snapshot = _json.loads(body)
    except (zlib.error, ValueError) as exc:
        raise WireError(f"unreadable snapshot ({exc})") from exc
    if not isinstance(header, dict) or header.get("v") != VERSION or not isinstance(snapshot, dict):
        raise WireError("not a datastores relay snapshot of version 1")
    return header, snapshot


def _clear_book(book: OrderBookStore[Any], symbol: str) -> None:
    book._clear_symbol(symbol)
    book._states.pop(symbol, None)
    book._depths.pop(symbol, None)


def restore_snapshot(
    target: DataStoreCollection, snapshot: dict[str, Any]
) -> tuple[dict[tuple[str, str], tuple[bool, str | None]], dict[str, tuple[list[str], str]]]:
    """Replace ``target``'s whole state with ``snapshot``'s. Books are left
    unsynced: returns the origin's verdicts per ``(store, symbol)`` for the
    caller to apply when it trusts them, and the store catalog (name -> keys,
    class). O(items + levels).

    Raises:
        WireError: a malformed snapshot (the target may then be partly restored:
            the caller keeps it unsynced).
    """
    verdicts: dict[tuple[str, str], tuple[bool, str | None]] = {}
    catalog: dict[str, tuple[list[str], str]] = {}
    try:
        for entry in snapshot["stores"]:
            catalog[entry["n"]] = (list(entry["k"]), str(entry["c"]))
        seen = set()
        for entry in snapshot["stores"]:
            name = entry["n"]
            seen.add(name)
            store = _target_store(target, name, catalog)
            if isinstance(store, OrderBookStore):
                wanted = {row[0] for row in entry["b"]}
                for symbol in store.symbols:
                    if symbol not in wanted:
                        _clear_book(store, symbol)
                for symbol, asks, bids, depth, synced, error in entry["b"]:
                    store._clear_symbol(symbol)
                    if depth is None:
                        store._depths.pop(symbol, None)
                    else:
                        store._depths[symbol] = depth
                    if asks or bids:
                        store._apply(symbol, asks, bids)
                    state = store._state(symbol)
                    state.phase = "unsynced"
                    verdicts[name, symbol] = (bool(synced), error)
            else:
                store._clear()
                items = entry["i"]
                if store.keys:
                    store._insert(items)
                else:
                    # The origin evicted by itself: the mirror keeps exactly these.
                    for item in items:
                        pk = store._seq
                        store._seq += 1
                        store._store_new(pk, item)
                    store._notify()
        for name, store in target._stores.items():
            if name in seen:
                continue
            if isinstance(store, OrderBookStore):
                for symbol in store.symbols:
                    _clear_book(store, symbol)
            else:
                store._clear()
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise WireError(f"malformed snapshot ({type(exc).__name__}: {exc})") from exc
    target.onmessage_done()
    return verdicts, catalog
