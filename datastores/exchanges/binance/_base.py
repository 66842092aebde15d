"""The shared part of the Binance DataStore collections (routing, books, listenKey).

Feed a collection with decoded WebSocket messages (``hdlr_json=store.onmessage``)
and bootstrap it with REST responses (``await store.initialize(client.get(...))``).
Raw streams (``/ws/<stream>``), combined streams (``{"stream": .., "data": ..}``)
and Spot WebSocket-API user data (``{"subscriptionId": .., "event": ..}``) are
all understood. Routing is one dict lookup on the event type ``e``.

Store names, keys and item shapes follow the reference library (pybotters
§4.7). Differences, all fixes of its known bugs, are listed in
``docs/exchanges/binance.md``.

Docs: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams ,
https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream ,
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams ,
https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from yarl import URL

from ..._background import TokenKeepalive
from ..._bookside import is_level
from ..._collection import DataStoreCollection
from ..._recovery import BookFeeds, SnapshotRecovery
from ..._store import Item
from ..._storefield import StoreField
from ..._stream import _wake
from ._books import BinancePartialBook, _DiffBook
from ._rest import (
    LISTENKEY_KEEPALIVE_SECONDS,
    get_json,
    is_missing_listenkey,
    real_binance_url,
    request_json,
)
from ._stores import (
    BookTicker,
    Kline,
    Order,
    Ticker,
    Trade,
)
from ._streams import is_partial_depth, query_param, raw_stream_name, reconnect_app, stream_symbol

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["BinanceBase"]

logger = logging.getLogger("datastores.exchanges.binance")


class _PartialDepthError(ValueError):
    """A partial-depth message could not be read (already recorded on the partial book)."""


class BinanceBase(DataStoreCollection):
    """What the three Binance collections share (see the module docstring)."""

    _EXCHANGE = "binance"
    #: Levels reach only the books (which take them as [price, size] lists) and
    #: ``_route_event`` (which treats one as the list it stands for).
    _ACCEPTS_LEVELS = True
    #: REST host and paths of this market
    _REST_HOST: ClassVar[str]
    _DEPTH_PATH: ClassVar[str]
    _DEPTH_LIMIT: ClassVar[int]
    _ORDER_PATH: ClassVar[str]
    _LISTENKEY_PATH: ClassVar[str]
    _KLINE_PATH: ClassVar[str]
    #: futures partial-depth messages carry ``e: depthUpdate`` like diffs do
    _PARTIAL_HAS_EVENT: ClassVar[bool] = False
    #: events Binance documents that no store keeps (not counted as unhandled)
    _IGNORED: ClassVar[frozenset[str]] = frozenset()

    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "depthUpdate": "_on_depth",
        "trade": "_on_trade",
        "aggTrade": "_on_trade",
        "kline": "_on_kline",
        "24hrTicker": "_on_ticker",
        "24hrMiniTicker": "_on_ticker",
        "bookTicker": "_on_bookticker",
        "listenKeyExpired": "_on_listenkey_expired",
        "serverShutdown": "_on_server_shutdown",
    }

    #: ``trade`` / ``aggTrade`` events (keyless, newest last).
    trade = StoreField(Trade)
    #: ``kline`` events' ``k`` objects and REST klines, keyed by ``t``, ``s``, ``i``.
    kline = StoreField(Kline)
    #: ``24hrTicker`` / ``24hrMiniTicker``, keyed by ``s``.
    ticker = StoreField(Ticker)
    #: ``bookTicker`` (best bid/ask), keyed by ``s``.
    bookticker = StoreField(BookTicker)
    #: Diff-depth order books (``depthUpdate`` + REST snapshots), kept in sync.
    orderbook = StoreField(_DiffBook)
    #: Top-N books from partial-depth streams (``@depth5|10|20``).
    partialbook = StoreField(BinancePartialBook)
    #: Open orders, keyed by ``s`` and ``i``.
    order = StoreField(Order)

    def _init(self) -> None:
        #: the listenKey from ``initialize(client.post(<listenKey endpoint>))``, kept
        #: current by the keepalive task (a new key replaces an expired one).
        self.listenkey: str | None = None
        #: a WebSocketApp connected with the listenKey in its URL: when the key is
        #: replaced, its ``url`` is rewritten to the new key and it reconnects.
        self.listenkey_app: Any = None
        self._book: _DiffBook = self.orderbook
        self._partial: BinancePartialBook = self.partialbook
        self._depth_url: URL | None = None
        #: the ``limit`` of refetched snapshots: the one given to initialize() (None:
        #: that request had none, so Binance's default depth), else _DEPTH_LIMIT
        self._depth_limit: int | None = self._DEPTH_LIMIT
        self._listenkey_url: URL | None = None
        self._subscriptions: set[Any] = set()
        #: which connections carried depth (to tell, on a reconnect, whether books
        #: must go unsynced)
        self._feeds = BookFeeds()
        # The connection of the last depth message, and whether its URL names one
        # partial-depth stream: the hot path pays one identity comparison.
        self._depth_ws: Any = object()
        self._depth_ws_partial: str | None = None
        self._ws_info: dict[int, tuple[Any, str | None]] = {}
        self._partial_streams: dict[str, bool] = {}
        self._recovery: SnapshotRecovery[Any] = SnapshotRecovery(
            self._background,
            self._book,
            fetch=self._fetch_snapshot,
            install=self._install_snapshot,
            on_no_client=self._warn_no_client,
            logger=logger,
        )
        self._book.resync_hook = self._recovery.request
        self._listenkey_keepalive: TokenKeepalive[str] = TokenKeepalive(
            self._background,
            "listenKey",
            interval=LISTENKEY_KEEPALIVE_SECONDS,
            refresh=self._keepalive_listenkey,
            create=self._create_listenkey,
            install=self._set_listenkey,
            expired=is_missing_listenkey,
        )

    # ----------------------------------------------------------------- client

    def _client_changed(self) -> None:
        self._recovery.resume()

    def _has_open_client(self) -> bool:
        client = self._client
        return client is not None and not getattr(client, "closed", False)

    # --------------------------------------------------------------- routing

    def onmessage(self, msg: Any, ws: Any = None) -> None:
        """Route one decoded message into the stores, then wake ``wait()``ers once.

        :meth:`DataStoreCollection.onmessage <datastores.DataStoreCollection.onmessage>`
        with its first routing step inlined: an event with a handler for its ``e``
        (every market-data event) goes straight to it, one call less per message.
        """
        sink = self._sink
        if sink is not None:
            self._onmessage_observed(sink, msg, ws)
            return
        self._messages += 1
        try:
            # a non-str "e" finds nothing (or raises, unhashable: a handler error, as before)
            route = self._channel_handlers.get(msg.get("e")) if msg.__class__ is dict else None  # type: ignore[arg-type]
            if route is not None:
                route(msg, ws)
            else:
                self._onmessage(msg, ws)
        except Exception as exc:
            self._handler_failed(msg, exc)
        if self._waiters:
            _wake(self._waiters)

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is dict:
            event = msg.get("e")
            if event is not None:
                route = self._channel_handlers.get(event)
                if route is not None:
                    route(msg, ws)
                elif event not in self._IGNORED:
                    self._count_unhandled(str(event))
                return
            data = msg.get("data")
            if data is not None:
                self._on_combined(msg.get("stream"), data, ws)
            else:
                self._on_other(msg, ws)
        elif msg.__class__ is list:
            self._on_list(msg, ws)
        else:
            self._count_unhandled(f"<{type(msg).__name__} message>")

    def _route_event(self, data: Any, ws: Any) -> None:
        """Route one event object (a raw message, a combined ``data``, a WS-API ``event``)."""
        if data.__class__ is dict:
            event = data.get("e")
            route = self._channel_handlers.get(event)  # type: ignore[arg-type]
            if route is not None:
                route(data, ws)
            elif event not in self._IGNORED:
                self._count_unhandled(str(event) if event is not None else "<event without e>")
        elif data.__class__ is list or is_level(data):
            self._on_list(data, ws)
        else:
            self._count_unhandled(f"<{type(data).__name__} event>")

    def _on_combined(self, stream: Any, data: Any, ws: Any) -> None:
        if data.__class__ is dict:
            event = data.get("e")
            if event is not None:
                if event == "depthUpdate" and self._PARTIAL_HAS_EVENT:
                    partial = self._partial_streams.get(stream)
                    if partial is None:
                        partial = self._classify_stream(stream)
                    if partial:
                        self._on_futures_partial(data)
                        return
                route = self._channel_handlers.get(event)
                if route is not None:
                    route(data, ws)
                elif event not in self._IGNORED:
                    self._count_unhandled(str(event))
                return
            # Spot bookTicker and partial depth carry no event type.
            if "lastUpdateId" in data and isinstance(stream, str):
                self._on_spot_partial(stream_symbol(stream), data)
            elif "u" in data and "b" in data and "a" in data and "s" in data:
                self._on_bookticker(data, ws)
            else:
                self._count_unhandled(f"<stream {str(stream)[:40]}>")
        elif data.__class__ is list:
            self._on_list(data, ws)
        else:
            self._count_unhandled(f"<stream {str(stream)[:40]}>")

    def _classify_stream(self, stream: Any) -> bool:
        partial = is_partial_depth(stream if isinstance(stream, str) else None)
        if len(self._partial_streams) > 4096:
            self._partial_streams.clear()
        self._partial_streams[stream] = partial
        return partial

    def _on_list(self, items: list[Any], ws: Any) -> None:
        """All-market arrays (``!ticker@arr``, ``!markPrice@arr``...)."""
        if not items:
            return
        first = items[0]
        event = first.get("e") if first.__class__ is dict else None
        if event in ("24hrTicker", "24hrMiniTicker"):
            self.ticker._onmessage(items)
        elif event == "markPriceUpdate":
            self._on_markprice(items, ws)
        else:
            for item in items:
                self._route_event(item, ws)

    def _on_other(self, msg: dict[str, Any], ws: Any) -> None:
        """Messages without ``e`` or ``data``: WS-API envelopes, acks, errors, Spot
        raw bookTicker and raw partial depth."""
        event = msg.get("event")
        if event is not None and "subscriptionId" in msg:
            # Spot WebSocket API user data: the inner event is routed like a stream event.
            # https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream
            self._route_event(event, ws)
        elif "result" in msg or "status" in msg or "error" in msg:
            self._on_reply(msg)
        elif "lastUpdateId" in msg:
            stream = self._raw_stream(ws)
            if stream is None:
                self._count_unhandled("<partial depth without a stream name>")
            else:
                self._on_spot_partial(stream_symbol(stream), msg)
        elif "u" in msg and "b" in msg and "a" in msg and "s" in msg:
            self._on_bookticker(msg, ws)
        else:
            self._count_unhandled("<message without e>")

    def _on_reply(self, msg: dict[str, Any]) -> None:
        """A reply to a request we (or the user) sent: SUBSCRIBE acks, WS-API responses."""
        error = msg.get("error")
        status = msg.get("status")
        if error is not None or (isinstance(status, int) and status >= 400):
            code, text = None, ""
            if isinstance(error, Mapping):
                code, text = error.get("code"), str(error.get("msg", ""))
            logger.warning(
                "%s: request %r failed: status %s, code %s: %s",
                type(self).__name__,
                msg.get("id"),
                status,
                code,
                text[:300],
            )
            return
        result = msg.get("result")
        if isinstance(result, Mapping) and "subscriptionId" in result:
            self._subscriptions.add(result["subscriptionId"])
            logger.info(
                "%s: user data stream subscribed (subscriptionId %s)",
                type(self).__name__,
                result["subscriptionId"],
            )

    def _describe(self, msg: Any) -> str:
        if isinstance(msg, Mapping):
            event = msg.get("event")
            if isinstance(event, Mapping) and "e" in event:
                return f"event e={event['e']!r}"[:120]
        return super()._describe(msg)

    # ----------------------------------------------------------- order books

    def _raw_stream(self, ws: Any) -> str | None:
        """The stream named by ``ws``'s URL, cached per connection object."""
        info = self._ws_info.get(id(ws))
        if info is None or info[0] is not ws:
            if len(self._ws_info) > 64:
                self._ws_info.clear()
            info = (ws, raw_stream_name(ws))
            self._ws_info[id(ws)] = info
        return info[1]

    def _note_depth_ws(self, ws: Any) -> None:
        """A depth message came on a connection other than the last one: remember it
        (for ``on_reconnect``) and whether its URL is one partial-depth stream."""
        self._depth_ws = ws
        stream = self._raw_stream(ws)
        self._depth_ws_partial = stream if is_partial_depth(stream) else None
        self._feeds.note_connection(ws)

    def _on_depth(self, msg: dict[str, Any], ws: Any) -> None:
        raise NotImplementedError

    def _on_spot_partial(self, symbol: str, msg: Mapping[str, Any]) -> None:
        try:
            self._partial._on_partial(symbol, msg["lastUpdateId"], msg["asks"], msg["bids"])
        except (KeyError, TypeError) as exc:
            self._partial._fail(symbol, "error", f"unreadable partial depth ({exc!r})")
            raise _PartialDepthError(str(exc)) from exc

    def _on_futures_partial(self, msg: Mapping[str, Any]) -> None:
        symbol = msg.get("s")
        try:
            self._partial._on_partial(msg["s"], msg["u"], msg["a"], msg["b"])
        except (KeyError, TypeError) as exc:
            if isinstance(symbol, str):
                self._partial._fail(symbol, "error", f"unreadable partial depth ({exc!r})")
            raise _PartialDepthError(str(exc)) from exc

    def _onerror(self, msg: Any, exc: Exception) -> None:
        """A message failed: if it was a depth diff, that diff is lost; say so on the book."""
        if isinstance(exc, _PartialDepthError) or not isinstance(msg, Mapping):
            return
        data: Any = msg.get("data", msg.get("event", msg))
        if isinstance(data, Mapping) and data.get("e") == "depthUpdate":
            symbol = data.get("s")
            if isinstance(symbol, str):
                self._book._hold_error(
                    symbol, f"unreadable depthUpdate ({type(exc).__name__}: {exc})"
                )

    def _snapshot_url(self, symbol: str) -> URL:
        base = self._depth_url or URL.build(
            scheme="https", host=self._REST_HOST, path=self._DEPTH_PATH
        )
        if self._depth_limit is None:
            return base.update_query({"symbol": symbol})
        return base.update_query({"symbol": symbol, "limit": str(self._depth_limit)})

    async def _fetch_snapshot(self, symbol: str) -> Any:
        """GET ``symbol``'s depth snapshot (unsigned) through the collection's Client."""
        return await get_json(self._background.client, self._snapshot_url(symbol))

    def _install_snapshot(self, symbol: str, data: Any) -> None:
        # The change feed (a Recorder) sees every snapshot handed to the book.
        self._observe_response("GET", self._snapshot_url(symbol), 200, data)
        self._book._on_depth_snapshot(symbol, data)

    def _warn_no_client(self, symbol: str) -> None:
        logger.warning(
            "%s %s: the order book needs a REST depth snapshot but no open "
            "datastores.Client is known; set `store.client = client` or call "
            "`await store.initialize(client.get(%r, params={'symbol': %r}))`. "
            "Until then status(%r).synced is False.",
            type(self).__name__,
            symbol,
            str(self._snapshot_url(symbol).with_query(None)),
            symbol,
            symbol,
        )

    def on_reconnect(self, ws: Any = None) -> None:
        """Called by a WebSocketApp after it reconnected.

        If the connection carried order books (or it cannot be told), every book is
        marked unsynced (counted as a resync, not a gap), in-flight snapshot
        requests are cancelled (they may predate the new stream) and new ones start.
        Per-connection state is reset.
        """
        carried_depth = self._feeds.carried_books(ws)
        self._ws_info.clear()
        self._depth_ws = object()
        self._depth_ws_partial = None
        self._feeds.reset_connection()
        self._subscriptions.clear()
        if carried_depth:
            self._recovery.cancel_all()
            self._book._invalidate_all("reconnect")
            self._partial._invalidate_all("reconnect")

    # --------------------------------------------------------- REST responses

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        url = resp.url
        path = url.path
        if path.endswith(self._DEPTH_PATH):
            self._init_depth(url, data)
        elif path.endswith(self._ORDER_PATH):
            self.order._onresponse(url.query.get("symbol"), data)
        elif path.endswith(self._LISTENKEY_PATH) and resp.method == "POST":
            self._init_listenkey(url, data)
        elif path.endswith(self._KLINE_PATH):
            self.kline._onresponse(query_param(url, "symbol"), query_param(url, "interval"), data)
        elif not self._onresponse_extra(url, path, data):
            await super()._onresponse(resp, data)
        self._recovery.resume()

    def _onresponse_extra(self, url: URL, path: str, data: Any) -> bool:
        """Subclass hook for market-specific endpoints; True if handled."""
        return False

    def _init_depth(self, url: URL, data: Any) -> None:
        symbol = url.query.get("symbol")
        if not symbol:
            raise ValueError(
                f"{type(self).__name__}.initialize(): {url.path} needs the symbol parameter"
            )
        # Later snapshots (resyncs) go where this one came from, with the same limit
        # (none if it had none: Binance's default depth, as the user asked).
        self._depth_url = url.with_query(None)
        limit = url.query.get("limit")
        self._depth_limit = int(limit) if limit and limit.isdigit() else None
        self._book._on_depth_snapshot(symbol, data)

    # --------------------------------------------------------------- listenKey

    def _init_listenkey(self, url: URL, data: Any) -> None:
        try:
            key = data["listenKey"]
        except (KeyError, TypeError):
            raise ValueError(f"{type(self).__name__}: no listenKey in the response") from None
        self._listenkey_url = real_binance_url(self._client, url.with_query(None), self._REST_HOST)
        self._set_listenkey(key)
        if not (self._has_open_client() and self._listenkey_keepalive.start()):
            logger.warning(
                "%s: the listenKey response did not come through an open datastores.Client; "
                "it will not be kept alive (pass client.post(...) to initialize())",
                type(self).__name__,
            )

    def _keepalive_params(self) -> dict[str, str] | None:
        return None

    async def _keepalive_listenkey(self) -> None:
        assert self._listenkey_url is not None
        await request_json(
            self._client, "PUT", self._listenkey_url, params=self._keepalive_params()
        )

    async def _create_listenkey(self) -> str:
        assert self._listenkey_url is not None
        data = await request_json(self._client, "POST", self._listenkey_url)
        if not isinstance(data, Mapping) or not isinstance(data.get("listenKey"), str):
            raise ValueError(f"{type(self).__name__}: no listenKey in the response")
        key: str = data["listenKey"]
        return key

    def _set_listenkey(self, key: str) -> None:
        old, self.listenkey = self.listenkey, key
        if old is None or old == key:
            return
        logger.info("%s: new listenKey in use", type(self).__name__)
        app = self.listenkey_app
        if app is None:
            return
        url = str(getattr(app, "url", ""))
        if old not in url:
            logger.warning(
                "%s: listenkey_app.url does not contain the old listenKey; set its url to "
                "one with store.listenkey yourself",
                type(self).__name__,
            )
            return
        app.url = url.replace(old, key)
        result = reconnect_app(app)
        if asyncio.iscoroutine(result):
            self._background.spawn(result, "reconnect listenkey_app")

    def _on_listenkey_expired(self, msg: dict[str, Any], ws: Any) -> None:
        """``listenKeyExpired``: no more events until a new key is in use."""
        key = msg.get("listenKey")
        if self.listenkey is None or (key is not None and key != self.listenkey):
            logger.debug("%s: listenKeyExpired for a key no longer in use", type(self).__name__)
            return
        if self._listenkey_url is None or not self._has_open_client():
            logger.warning(
                "%s: listenKey expired and no open client is known to create a new one; "
                "call initialize() with the listenKey endpoint again",
                type(self).__name__,
            )
            return
        logger.warning("%s: listenKey expired; creating a new one", type(self).__name__)
        self._listenkey_keepalive.renew()

    def _on_server_shutdown(self, msg: dict[str, Any], ws: Any) -> None:
        logger.info(
            "%s: Binance announced a server shutdown; expect a reconnect", type(self).__name__
        )

    # ------------------------------------------------------ public stream handlers

    def _on_trade(self, msg: Item, ws: Any) -> None:
        self.trade._onmessage(msg)

    def _on_kline(self, msg: Item, ws: Any) -> None:
        self.kline._onmessage(msg)

    def _on_ticker(self, msg: Item, ws: Any) -> None:
        self.ticker._onmessage(msg)

    def _on_bookticker(self, msg: Item, ws: Any) -> None:
        self.bookticker._onmessage(msg)

    def _on_markprice(self, msg: Any, ws: Any) -> None:
        self._count_unhandled("markPriceUpdate")
