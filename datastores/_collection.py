"""DataStoreCollection: the named stores of one exchange, fed by decoded messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ._background import Background
from ._changefeed import ChangeBatch, FeedSink, Observer, RestSource
from ._orderbook import OrderBookStore
from ._store import DataStore
from ._storefield import declared_stores
from ._stream import Item, _wait_on, _wake

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["CollectionStatistics", "DataStoreCollection", "Handler", "ResponseObserver"]

logger = logging.getLogger("datastores.store")

_DS = TypeVar("_DS", bound=DataStore[Any])
#: ``observer(collection, method, url, status, data)``: one HTTP response consumed
ResponseObserver = Callable[["DataStoreCollection", str, str, int, Any], None]
#: the one handler signature: ``handler(msg, ws)`` (bound methods ``_on_<channel>``)
Handler = Callable[[Any, Any], None]

#: most distinct reasons / channels counted (whatever arrives, the tables stay bounded)
_MAX_COUNTER_KEYS = 256


@dataclass(frozen=True, slots=True)
class CollectionStatistics:
    """Message counters of a collection, frozen when read (``statistics()``).

    Attributes:
        messages: messages passed to ``onmessage``.
        handler_errors: messages whose handling raised (logged and dropped).
        dropped: messages (or parts) dropped as malformed, by reason.
        unhandled: well-formed messages no store takes, by channel or event.
    """

    messages: int
    handler_errors: int
    dropped: Mapping[str, int]
    unhandled: Mapping[str, int]


class DataStoreCollection:
    """A set of named stores fed by one stream of decoded messages.

    Exchange collections subclass it: declare their stores
    (``trade = StoreField(Trade)``, created before ``_init()``), route messages in
    ``_onmessage()`` (through the channel table ``_CHANNELS``) and HTTP
    responses in ``_onresponse()``. Background work runs on ``self._background``
    (bound to the Client); drops and unhandled messages are counted with
    ``_count_dropped()`` / ``_count_unhandled()`` and read with ``statistics()``.
    See ``docs/exchange-kit.md``.
    """

    #: exchange name used in logs and errors; subclasses set it.
    _EXCHANGE: ClassVar[str | None] = None
    #: the channel table: channel (or event type) -> name of its handler method,
    #: ``_on_<channel>(self, msg, ws) -> None``. Tables of subclasses extend their
    #: bases'. Bound once per collection into ``self._channel_handlers``.
    _CHANNELS: ClassVar[Mapping[str, str]] = {}
    #: most stores made on the fly (``_create_dynamic``: generic stores for unknown
    #: channels, topics or tables, a book store per channel name). Beyond it the
    #: message is refused and counted (``statistics().dropped``). Settable per
    #: collection (``store.max_dynamic_stores = 256``) or on the class.
    max_dynamic_stores: int = 64
    #: whether ``onmessage`` takes order-book levels as ``datastores._cbookside.Level``
    #: objects (compact ``[price, size]`` sequences) wherever the exchange sends a list
    #: of two strings inside a list. A WebSocketApp whose every ``hdlr_json`` is the
    #: ``onmessage`` of such a collection decodes with ``loads_levels`` (see
    #: ``datastores._ws.protocol.decoder_for``); set it only on collections whose
    #: every handler reads such pairs by index or unpacking, never as lists.
    _ACCEPTS_LEVELS: ClassVar[bool] = False

    def __init__(self) -> None:
        self._stores: dict[str, DataStore] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._handler_errors = 0
        self._messages = 0
        #: the datastores.Client whose requests were passed to initialize(); used by
        #: collections that fetch snapshots themselves (book resync, keepalive).
        self._client: Any = None
        #: change-feed observers, and the sink that batches changes while there are any
        self._observers: list[Observer] = []
        self._sink: FeedSink | None = None
        self._response_adapters: dict[ResponseObserver, Observer] = {}
        self._dropped: dict[str, int] = {}
        #: names of the stores made by _create_dynamic
        self._dynamic: set[str] = set()
        self._unhandled: dict[str, int] = {}
        #: the one owner of this collection's background tasks (bound to its Client)
        self._background = Background(type(self).__name__, lambda: self._client)
        #: channel -> bound handler, from ``_CHANNELS``
        self._channel_handlers: dict[str, Handler] = self._bind_channels()
        for field in declared_stores(type(self)):
            name = field.name or field.attribute
            store = self._create(name, keys=field.keys, datastore_class=field.store_class)
            # Shadows the StoreField descriptor: reading it is a dict lookup.
            self.__dict__[field.attribute] = store
        self._init()

    def _bind_channels(self) -> dict[str, Handler]:
        table: dict[str, str] = {}
        for klass in reversed(type(self).__mro__):
            table.update(vars(klass).get("_CHANNELS", {}))
        return {channel: getattr(self, method) for channel, method in table.items()}

    def _init(self) -> None:
        """Subclass hook: per-collection state, and stores not declared as fields."""

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
        if isinstance(store, OrderBookStore):
            reason = f"{name}: new symbol beyond max_symbols"
            store._on_symbol_refused = lambda symbol: self._count_dropped(
                reason, f"{symbol!r}"[:66]
            )
        if self._sink is not None:
            _attach_sink(store, self._sink)  # a store made on the fly is observed too
        return store

    def _create_dynamic(
        self,
        name: str,
        *,
        keys: Iterable[str] | None = None,
        datastore_class: type[_DS] = DataStore,  # type: ignore[assignment]
    ) -> _DS | None:
        """The store ``name`` made on the fly (an unknown channel, topic or table),
        or ``None`` when ``max_dynamic_stores`` are made already: the caller drops
        the message, counted here in ``statistics().dropped`` (one WARNING, then
        DEBUG). A store of that name that exists already is returned if it is a
        ``datastore_class``. O(1). Junk names never grow the collection past the cap.
        """
        store = self._stores.get(name)
        if store is not None:
            return store if isinstance(store, datastore_class) else None
        if len(self._dynamic) >= self.max_dynamic_stores:
            self._count_dropped("too many stores made on the fly (max_dynamic_stores)", name[:64])
            return None
        self._dynamic.add(name)
        return self._create(name, keys=keys, datastore_class=datastore_class)

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
        self._client_changed()

    def _client_changed(self) -> None:
        """Subclass hook: a Client was set; resume work that waited for one."""

    async def aclose(self) -> None:
        """Stop this collection's background work (snapshot fetches, keepalives).
        ``Client.close()`` does it too. Stores stay as they are; work starts again
        with an open Client later. Idempotent."""
        await self._background.aclose()

    @property
    def handler_errors(self) -> int:
        """Messages whose handling raised (logged and dropped)."""
        return self._handler_errors

    @property
    def unhandled(self) -> Mapping[str, int]:
        """Well-formed messages no store takes, counted by channel (or a description)."""
        return dict(self._unhandled)

    def statistics(self) -> CollectionStatistics:
        """Message counters, frozen at the time of the call. O(distinct reasons)."""
        return CollectionStatistics(
            messages=self._messages,
            handler_errors=self._handler_errors,
            dropped=dict(self._dropped),
            unhandled=dict(self._unhandled),
        )

    def _count_dropped(self, reason: str, detail: object = None) -> None:
        """Count one message (or part of one) dropped as malformed; logged at
        WARNING the first time per reason, then DEBUG."""
        self._count(self._dropped, reason, "dropped a message (%s)%s; %d so far", detail)

    def _count_unhandled(self, channel: str) -> None:
        """Count one well-formed message no store takes; logged at WARNING the
        first time per channel, then DEBUG."""
        self._count(self._unhandled, channel, "no store takes %s messages%s; ignored (%d so far)")

    def _count(self, table: dict[str, int], key: str, text: str, detail: object = None) -> None:
        count = table.get(key, 0) + 1
        if count == 1 and len(table) >= _MAX_COUNTER_KEYS:
            key = "<other>"  # bound the table whatever arrives
            count = table.get(key, 0) + 1
        table[key] = count
        logger.log(
            logging.WARNING if count == 1 else logging.DEBUG,
            "%s: " + text,
            type(self).__name__,
            key,
            f": {detail}" if detail is not None else "",
            count,
        )

    def onmessage(self, msg: Any, ws: Any = None) -> None:
        """Route one decoded message into the stores, then wake ``wait()``ers once.

        Never raises: a handler error is logged with the message's channel and
        counted in :attr:`handler_errors`, and :meth:`_onerror` lets the
        collection mark what the message touched (books go unsynced and resync).
        """
        sink = self._sink
        if sink is not None:
            self._onmessage_observed(sink, msg, ws)
            return
        self._messages += 1
        try:
            self._onmessage(msg, ws)
        except Exception as exc:
            self._handler_failed(msg, exc)
        if self._waiters:
            _wake(self._waiters)

    def _onmessage_observed(self, sink: FeedSink, msg: Any, ws: Any) -> None:
        """:meth:`onmessage` while change observers are attached: the same, inside one
        change-feed batch (kept apart so the plain path tests nothing more)."""
        self._messages += 1
        # getattr(None, "url", None) raises and catches inside: skip it for ws=None
        url = None if ws is None else getattr(ws, "url", None)
        outer = sink.begin_message(msg, None if url is None else str(url))
        try:
            self._onmessage(msg, ws)
        except Exception as exc:
            self._handler_failed(msg, exc)
        sink.end(outer)
        if self._waiters:
            _wake(self._waiters)

    def _handler_failed(self, msg: Any, exc: Exception) -> None:
        """A handler raised on ``msg``: count, log, and let the collection mark what it
        touched (:meth:`_onerror`)."""
        self._handler_errors += 1
        logger.warning(
            "%s: dropped a message for %s after a handler error (%s: %s); %d so far",
            type(self).__name__,
            self._describe(msg),
            type(exc).__name__,
            exc,
            self._handler_errors,
            exc_info=logger.isEnabledFor(logging.DEBUG),
        )
        try:
            self._onerror(msg, exc)
        except Exception:
            logger.exception("%s: error hook failed", type(self).__name__)

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

    # ------------------------------------------------------------ change feed

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer(batch)`` with every change this collection applies.

        One :class:`~datastores.ChangeBatch` per decoded message handled by
        :meth:`onmessage` (even one that changed nothing), one per HTTP response
        consumed (``initialize()`` and the snapshots the collection fetches by
        itself), and one for changes made outside both (a store cleared on
        reconnect, a book invalidated by a timer). Calls are synchronous, in
        order, with ``batch.seq`` counting up by one. Stores created later are
        observed too. Books report the level lists they apply (no per-level
        dicts), so an observed book stays on its fast path; with no observer
        the cost is one attribute check per update.

        An observer that raises is logged (once per burst of failures) and
        counted in :attr:`observer_errors`; the apply and the WebSocket loop
        go on. Adding an observer twice has no effect. See docs/changefeed.md.
        """
        if observer in self._observers:
            return
        self._observers.append(observer)
        if self._sink is None:
            self._sink = FeedSink(self)
            for store in self._stores.values():
                _attach_sink(store, self._sink)
        self._sink._observers = tuple(self._observers)

    def remove_observer(self, observer: Observer) -> None:
        """Stop calling ``observer`` (no error if it was not registered). A batch
        still pending is delivered to it first; the last removal detaches the
        feed from the stores, so the hot path is back to no cost."""
        if observer not in self._observers:
            return
        if self._sink is not None:
            self._sink.flush()
        self._observers.remove(observer)
        if self._sink is not None:
            self._sink._observers = tuple(self._observers)
        if not self._observers and self._sink is not None:
            sink, self._sink = self._sink, None
            for store in self._stores.values():
                _detach_sink(store, sink)

    @property
    def observer_errors(self) -> int:
        """Observer calls that raised since the feed started (logged, then ignored)."""
        return 0 if self._sink is None else self._sink.errors

    def add_response_observer(self, observer: ResponseObserver) -> None:
        """Call ``observer(collection, method, url, status, data)`` for every HTTP
        response this collection consumes: those passed to ``initialize()`` and
        those it fetches by itself (book snapshots after a gap or a reconnect).

        A thin adapter over :meth:`add_observer` (it sees the ``rest`` batches),
        kept for code written before the change feed. An observer that raises is
        logged and counted like any other.
        """
        if observer in self._response_adapters:
            return

        def adapter(batch: ChangeBatch) -> None:
            source = batch.source
            if isinstance(source, RestSource) and not batch.continued:
                observer(self, source.method, source.url, source.status, source.data)

        self._response_adapters[observer] = adapter
        self.add_observer(adapter)

    def remove_response_observer(self, observer: ResponseObserver) -> None:
        """Stop calling ``observer`` (no error if it was not registered)."""
        adapter = self._response_adapters.pop(observer, None)
        if adapter is not None:
            self.remove_observer(adapter)

    def _observe_response(self, method: str, url: object, status: int, data: Any) -> None:
        """A response this collection fetched by itself is about to be applied: the
        changes that follow (synchronously) form its batch. Never raises."""
        if self._sink is not None:
            self._sink.open_response(RestSource(method, str(url), status, data))

    async def _apply_response(self, resp: Any, data: Any) -> None:
        """Hand one decoded response to ``_onresponse`` as one batch of the feed."""
        sink = self._sink
        if sink is None:
            await self._onresponse(resp, data)
            return
        outer = sink.begin(RestSource(resp.method, str(resp.url), resp.status, data))
        try:
            await self._onresponse(resp, data)
        finally:
            if self._sink is sink:
                sink.end(outer)

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
            await self._apply_response(resp, data)

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


def _attach_sink(store: DataStore, sink: FeedSink) -> None:
    """Books report level lists to ``_sink``; plain stores push changes to it like a
    watcher (their existing ``if self._streams`` check: no new cost)."""
    if isinstance(store, OrderBookStore):
        store._sink = sink
    elif sink not in store._streams:
        store._streams.append(sink)


def _detach_sink(store: DataStore, sink: FeedSink) -> None:
    if isinstance(store, OrderBookStore):
        if store._sink is sink:
            store._sink = None
    elif sink in store._streams:
        store._streams.remove(sink)
