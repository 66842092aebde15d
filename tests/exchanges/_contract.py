"""The contract every DataStoreCollection keeps, as a test base class.

An exchange's folder joins with ``test_contract.py``: a subclass of
:class:`CollectionContract` per collection, with one fixture ``case`` returning
a :class:`ContractCase` (a collection factory, real sample messages from its
``data/``). The checks: ``onmessage`` never raises on junk (hypothesis JSON
values and mutations of the samples), what it drops is counted, every order
book's ``_check()`` holds after every message, and books go unsynced when the
connection that feeds them reconnects.

Imported by name (``from _contract import ...``), like ``_e2e``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastores import DataStoreCollection
from datastores._orderbook import OrderBookStore


def dropped(collection: DataStoreCollection) -> int:
    """Everything ``collection`` dropped so far, under today's public counters.

    One place to retarget when the counters are unified under one name.
    """
    total = collection.handler_errors
    total += int(getattr(collection, "dropped_messages", 0))
    unhandled = getattr(collection, "unhandled", None)
    if isinstance(unhandled, Mapping):
        total += sum(unhandled.values())
    return total


def load_messages(path: Path) -> list[Any]:
    """The messages of a replay file: JSON lines (``.jsonl``) or a JSON list."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    loaded = json.loads(text)
    return loaded if isinstance(loaded, list) else [loaded]


class ContractWS:
    """Stands in for the connection that feeds the collection; records what it sends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False
        self.sent: list[Any] = []

    async def send_json(self, obj: Any, auth: Any = None) -> None:
        self.sent.append(copy.deepcopy(obj))

    async def send_str(self, text: str) -> None:
        self.sent.append(text)


@dataclass
class ContractCase:
    """What one collection gives the contract.

    Attributes:
        create: a new, empty collection.
        samples: real messages from the exchange folder's ``data/``, in order.
        ws_url: the URL of the connection that feeds the samples.
        malformed: messages on a known channel whose content is unusable; each
            must be dropped *and counted*.
    """

    create: Callable[[], DataStoreCollection]
    samples: list[Any]
    ws_url: str = "wss://contract.invalid/ws"
    malformed: list[Any] = field(default_factory=list)


def books(collection: DataStoreCollection) -> Iterator[OrderBookStore]:
    """Every order-book store the collection owns."""
    for store in vars(collection).get("_stores", {}).values():
        if isinstance(store, OrderBookStore):
            yield store


def check_books(collection: DataStoreCollection) -> None:
    for book in books(collection):
        book._check()


def _synced_books(collection: DataStoreCollection) -> list[tuple[OrderBookStore, str]]:
    synced = []
    for book in books(collection):
        for symbol in book.symbols:
            if book.status(symbol).synced:
                synced.append((book, symbol))
    return synced


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _mutations(value: Any) -> st.SearchStrategy[Any]:
    """``value`` with one leaf (or one container) replaced by an arbitrary JSON value."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(value, ())

    def mutate(path: tuple[Any, ...], replacement: Any) -> Any:
        if not path:
            return replacement
        result = copy.deepcopy(value)
        node = result
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = replacement
        return result

    return st.builds(mutate, st.sampled_from(paths), json_values)


class CollectionContract:
    """Subclass per collection and provide the ``case`` fixture (a :class:`ContractCase`)."""

    @pytest.fixture
    def case(self) -> ContractCase:
        raise NotImplementedError("each collection's test_contract.py provides `case`")

    def _feed(
        self, case: ContractCase, collection: DataStoreCollection, messages: list[Any]
    ) -> None:
        ws = ContractWS(case.ws_url)
        for message in messages:
            collection.onmessage(copy.deepcopy(message), ws)
            check_books(collection)

    def test_samples_apply_and_books_hold_their_invariants(self, case: ContractCase) -> None:
        assert case.samples, "the contract needs real samples"
        collection = case.create()
        self._feed(case, collection, case.samples)

    def test_malformed_messages_are_dropped_and_counted(self, case: ContractCase) -> None:
        collection = case.create()
        self._feed(case, collection, case.samples)
        for message in case.malformed:
            before = dropped(collection)
            collection.onmessage(copy.deepcopy(message), ContractWS(case.ws_url))
            check_books(collection)
            assert dropped(collection) > before, message

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def test_junk_never_raises(self, case: ContractCase, data: st.DataObject) -> None:
        collection = case.create()
        ws = ContractWS(case.ws_url)
        for message in case.samples:
            collection.onmessage(copy.deepcopy(message), ws)
            if data.draw(st.booleans(), label="junk here"):
                collection.onmessage(data.draw(json_values, label="junk"), ws)
            if data.draw(st.booleans(), label="mutate here"):
                collection.onmessage(data.draw(_mutations(message), label="mutation"), ws)
            check_books(collection)

    def test_books_go_unsynced_when_their_connection_reconnects(self, case: ContractCase) -> None:
        collection = case.create()
        ws = ContractWS(case.ws_url)
        for message in case.samples:
            collection.onmessage(copy.deepcopy(message), ws)
        synced = _synced_books(collection)
        collection.on_reconnect(ws)
        for book, symbol in synced:
            assert not book.status(symbol).synced, (type(book).__name__, symbol)
        check_books(collection)
