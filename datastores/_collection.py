"""DataStoreCollection: the named stores of one exchange, fed by decoded messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ._store import DataStore
from ._stream import Item, _wait_on, _wake

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["DataStoreCollection", "ResponseObserver"]

logger = logging.getLogger("datastores.store")

_DS = TypeVar("_DS", bound=DataStore)
#: ``observer(collection, method, url, status, data)``: one HTTP response consumed
ResponseObserver = Callable[["DataStoreCollection", str, str, int, Any], None]


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
