"""The contract every DataStoreCollection keeps, as a test base class.

An exchange's folder joins with ``test_contract.py``: a subclass of
:class:`CollectionContract` per collection, with one fixture ``case`` returning
a :class:`ContractCase` (a collection factory, real sample messages from its
``data/``). The checks: ``onmessage`` never raises on junk (hypothesis JSON
values and mutations of the samples), what it drops is counted, every order
book's ``_check()`` holds after every message, books that were synced go
unsynced when the connection that feeds them reconnects, no task is left after
``Client.close()`` in a live session against the collection's fake exchange
(with a recovery started by a sequence fault, or the case's own session), and
books with a sequence rule pass their random-stream model (``test_book_models.py``).

Imported by name (``from _contract import ...``), like ``_e2e``.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from _e2e import until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from datastores import Client, DataStoreCollection
from datastores._cli._target import Target
from datastores._orderbook import OrderBookStore
from datastores.testing import FakeExchange


def dropped(collection: DataStoreCollection) -> int:
    """Everything ``collection`` dropped so far: the kit's counters (``statistics()``:
    ``handler_errors`` + every ``dropped`` and ``unhandled`` count)."""
    stats = collection.statistics()
    return stats.handler_errors + sum(stats.dropped.values()) + sum(stats.unhandled.values())


@dataclass(frozen=True)
class ContractResponse:
    """An HTTP response for ``collection.initialize()`` without a network (a REST
    snapshot, say): the public bootstrap path, fed from a data file."""

    method: str
    url: URL
    data: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def get(cls, url: str, data: Any) -> ContractResponse:
        return cls("GET", URL(url), data)

    async def read(self) -> bytes:
        return json.dumps(self.data).encode()

    def release(self) -> None:
        pass


@dataclass(frozen=True)
class BookModel:
    """A random-stream model of one book (``test_book_models.py``'s machinery).

    ``run(example)`` runs the model on one ``example`` drawn from ``examples`` and
    asserts the book's promise (equal to the exchange's book whenever synced).
    """

    examples: st.SearchStrategy[Any]
    run: Callable[[Any], None]


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


#: A live session of the close check: ``(case, fake, client, collection)``.
LiveSession = Callable[["ContractCase", FakeExchange, Client, DataStoreCollection], Awaitable[None]]


@dataclass
class ContractCase:
    """What one collection gives the contract.

    Attributes:
        create: a new, empty collection.
        samples: real messages from the exchange folder's ``data/``, in order.
        ws_url: the URL of the connection that feeds the samples.
        malformed: messages on a known channel whose content is unusable; each
            must be dropped *and counted*.
        snapshots: REST responses that sync the books after the samples, given
            to ``initialize()`` (exchanges whose books start from a REST
            snapshot); WebSocket snapshots belong in ``samples``.
        live: the collection against its fake exchange (a CLI
            :class:`~datastores._cli._target.Target`: URL, subscription, REST
            snapshot, fake venue and market); ``None`` only for a collection
            with no fake exchange, which the close check then reports.
        book_model: the random-stream model of its book, required when a book
            has a sequence rule (``_RULE``).
        fault: what the close check injects to start a recovery before closing:
            ``"loss"`` (default: a withheld update, or a wrong checksum where the
            target has one), ``"malformed"`` (a book message the store must refuse:
            for protocols where a lost message cannot be seen, Phemex), or ``None``
            (nothing starts a recovery: whole books with neither sequence nor
            checksum; the close check still runs the session).
        session: the close check's session, for a collection the default one
            (:func:`websocket_session`: connect ``live``, sync, inject ``fault``)
            cannot drive: a private token first, a stream that is not a socket. It
            gets the case, the running fake exchange, the Client (closed after it)
            and the new collection, and asserts what it needs to be in flight.
    """

    create: Callable[[], DataStoreCollection]
    samples: list[Any]
    ws_url: str = "wss://contract.invalid/ws"
    malformed: list[Any] = field(default_factory=list)
    snapshots: list[ContractResponse] = field(default_factory=list)
    live: Target | None = None
    book_model: BookModel | None = None
    fault: Literal["loss", "malformed"] | None = "loss"
    session: LiveSession | None = None


def books(collection: DataStoreCollection) -> Iterator[OrderBookStore]:
    """Every order-book store the collection owns."""
    for store in vars(collection).get("_stores", {}).values():
        if isinstance(store, OrderBookStore):
            yield store


def check_books(collection: DataStoreCollection) -> None:
    for book in books(collection):
        book._check()


def _resyncs(collection: DataStoreCollection) -> int:
    """Recoveries started so far, over every book and symbol."""
    return sum(book.status(symbol).resyncs for book in books(collection) for symbol in book.symbols)


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


async def websocket_session(
    case: ContractCase, fake: FakeExchange, client: Client, collection: DataStoreCollection
) -> None:
    """The close check's default session: ``live``'s stream (and REST snapshot) until a
    book is synced, then ``fault`` (a REST snapshot fetch failing and backing off,
    where the target has one) until a recovery has started."""
    target = case.live
    assert target is not None
    venue = target.fake_venue
    collection.client = client
    await client.ws_connect(
        target.ws_url, send_json=target.subscribe, hdlr_json=collection.onmessage
    )
    await fake.wait_for_connections(1)
    if target.snapshot_url is not None:
        await collection.initialize(client.get(target.snapshot_url))
    fake.tick(3, target.market, venue=venue)
    await until(lambda: bool(_synced_books(collection)))
    resyncs = _resyncs(collection)
    if target.snapshot_url is not None:
        # The snapshot fetch fails and backs off: it is in flight at close.
        fake.fail_rest(status=503, times=1000, venue=venue)
    if case.fault is None:
        assert all(b._RULE is None for b in books(collection)), "has a rule"
    elif case.fault == "malformed":
        fake.send_malformed(target.market, venue=venue)
    elif target.checksum:
        fake.corrupt_checksum(target.market, venue=venue)
    else:
        fake.skip_sequence(target.market, venue=venue)
    fake.tick(3, target.market, venue=venue)
    if case.fault is not None:
        await until(lambda: _resyncs(collection) > resyncs)


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

    async def test_books_go_unsynced_when_their_connection_reconnects(
        self, case: ContractCase
    ) -> None:
        collection = case.create()
        ws = ContractWS(case.ws_url)
        for message in case.samples:
            collection.onmessage(copy.deepcopy(message), ws)
        if case.snapshots:
            await collection.initialize(*case.snapshots)  # type: ignore[arg-type]
        synced = _synced_books(collection)
        # Not vacuous: the case must get books synced (WS snapshots or `snapshots`).
        assert synced, "no book synced before the reconnect: give the case its snapshots"
        collection.on_reconnect(ws)
        for book, symbol in synced:
            assert not book.status(symbol).synced, (type(book).__name__, symbol)
        assert _synced_books(collection) == []
        check_books(collection)

    async def test_no_task_left_after_close(self, case: ContractCase) -> None:
        """A session against the collection's fake exchange (the case's ``session``,
        by default :func:`websocket_session`: a sequence fault that starts a
        recovery), then ``Client.close()``: no task of the collection or its app
        is left."""
        target = case.live
        assert target is not None, "declare case.live (the collection's fake exchange)"
        venue = target.fake_venue
        assert venue is not None
        session = case.session or websocket_session
        before = asyncio.all_tasks()
        async with FakeExchange(venue, seed=3, rate=0) as fake:
            client = Client(apis=fake.apis, redirects=fake.redirects)
            collection = case.create()
            try:
                await session(case, fake, client, collection)
            finally:
                await client.close()
        for _ in range(3):
            await asyncio.sleep(0)
        left = {t for t in asyncio.all_tasks() - before if not t.done()}
        left.discard(asyncio.current_task())  # type: ignore[arg-type]
        assert left == set(), left

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def test_random_stream_book_model(self, case: ContractCase, data: st.DataObject) -> None:
        """Books with a sequence rule keep their promise under random streams."""
        sequenced = [b for b in books(case.create()) if b._RULE is not None]
        if case.book_model is None:
            assert sequenced == [], f"{sequenced} have a sequence rule: declare book_model"
            return
        assert sequenced, "book_model declared but no book has a sequence rule"
        case.book_model.run(data.draw(case.book_model.examples, label="stream"))
