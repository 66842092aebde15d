"""The order-book half of the KuCoin collection: routing, full and top-N books.

See :mod:`.store` for the collection and the two socket families. The full books'
protocol (classic spot and futures ``level2``, UTA ``obu``) is in :mod:`._books`;
this module feeds them, recovers them (REST snapshots through
:class:`~datastores._recovery.SnapshotRecovery`, UTA resubscriptions through
:class:`~datastores._recovery.ResubscribeRecovery`) and handles reconnects.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from yarl import URL

from ..._collection import DataStoreCollection
from ..._http import read_response
from ..._recovery import BookFeed, BookFeeds, ResubscribeRecovery, SnapshotRecovery
from ..._storefield import StoreField
from ._books import KuCoinDepthBook, KuCoinOrderBook
from ._bullet import REST_HOSTS, unwrap

__all__ = ["FUTURES_SNAPSHOT_PATH", "SPOT_SNAPSHOT_PATHS", "KuCoinBooksBase"]

logger = logging.getLogger("datastores.exchanges.kucoin")

#: REST snapshot paths: spot full book (signed), spot top 100/20 (public)
SPOT_SNAPSHOT_PATHS = (
    "/api/v3/market/orderbook/level2",
    "/api/v1/market/orderbook/level2_100",
    "/api/v1/market/orderbook/level2_20",
)
#: REST snapshot path of futures books (public)
FUTURES_SNAPSHOT_PATH = "/api/v1/level2/snapshot"
#: replies to our own requests and the greeting: neither stored nor unhandled
_REPLIES = frozenset({"welcome", "ack", "pong"})


class KuCoinBooksBase(DataStoreCollection):
    """Routing and the order books of :class:`~.store.KuCoinDataStore`."""

    _EXCHANGE = "kucoin"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "/spotMarket/level2Depth5": "_on_depth5",
        "/contractMarket/level2Depth5": "_on_depth5",
        "/spotMarket/level2Depth50": "_on_depth50",
        "/contractMarket/level2Depth50": "_on_depth50",
        "/market/level2": "_on_spot_level2",
        "/contractMarket/level2": "_on_futures_level2",
        # UTA family (``T`` before the dot)
        "obu": "_on_obu",
    }

    #: Top-5 books (``level2Depth5``, UTA ``obu`` depth 1 or 5), replaced per message.
    orderbook5 = StoreField(KuCoinDepthBook)
    #: Top-50 books (``level2Depth50``, UTA ``obu`` depth 50), replaced per message.
    orderbook50 = StoreField(KuCoinDepthBook)
    #: Full level-2 books, verified by their sequence (see :mod:`._books`).
    orderbook = StoreField(KuCoinOrderBook)

    def _init(self) -> None:
        #: per full-book symbol: "spot" / "futures" (REST snapshot) or "uta" (resubscribe)
        self._families: dict[str, str] = {}
        self._snapshot_paths: dict[str, str] = {}
        self._feeds = BookFeeds()
        self._recovery: SnapshotRecovery[Any] = SnapshotRecovery(
            self._background,
            self.orderbook,
            fetch=self._fetch_snapshot,
            install=self._install_snapshot,
            on_no_client=self._warn_no_client,
            wanted=lambda symbol: self._families.get(symbol) in ("spot", "futures"),
            logger=logger,
        )
        self._resubscribe = ResubscribeRecovery(
            self._background,
            self.orderbook,
            self._feeds,
            messages=self._resubscribe_messages,
            logger=logger,
        )
        self.orderbook.resync_hook = self._request_book

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        topic = msg.get("topic")
        if topic.__class__ is str:
            handler = self._channel_handlers.get(topic.partition(":")[0])
            if handler is not None:
                handler(msg, ws)
            else:
                self._count_unhandled(topic.partition(":")[0][:40])
            return
        uta = msg.get("T")
        if uta.__class__ is str:
            handler = self._channel_handlers.get(uta.partition(".")[0])
            if handler is not None:
                handler(msg, ws)
            else:
                self._count_unhandled(uta[:40])
            return
        self._on_reply(msg, ws)

    def _on_reply(self, msg: dict[str, Any], ws: Any) -> None:
        kind = msg.get("type")
        if kind in _REPLIES or msg.get("message") == "welcome":
            return
        if kind == "error":
            logger.warning(
                "%s: KuCoin error %s: %.300s", type(self).__name__, msg.get("code"), msg.get("data")
            )
            if str(msg.get("code")) == "401":
                self._token_refused(ws)
        elif "result" in msg:  # UTA subscribe / unsubscribe answer
            if msg.get("result") is False:
                logger.warning("%s: request refused: %.300s", type(self).__name__, msg)
        else:
            self._count_dropped("message without a topic")

    def _token_refused(self, ws: Any) -> None:
        """A connection's token was refused (subclass hook: fetch a new bullet)."""

    @staticmethod
    def _suffix(msg: dict[str, Any]) -> str:
        return str(msg["topic"]).partition(":")[2]

    def _data(self, msg: dict[str, Any], what: str) -> dict[str, Any] | None:
        data = msg.get("data")
        if data.__class__ is not dict:
            self._count_dropped(f"{what} message without a data object")
            return None
        return data

    # ------------------------------------------------------------ top-N books

    def _on_depth(self, book: KuCoinDepthBook, msg: dict[str, Any]) -> None:
        data = self._data(msg, "depth")
        if data is None:
            return
        symbol = self._suffix(msg)
        stamp = data.get("timestamp", data.get("ts"))
        if not book._on_depth(
            symbol, data.get("asks"), data.get("bids"), stamp, data.get("sequence")
        ):
            self._count_dropped("unreadable top-N book", symbol)

    def _on_depth5(self, msg: dict[str, Any], ws: Any) -> None:
        """``/spotMarket/level2Depth5:{symbol}`` (.../3470069w0), futures
        ``/contractMarket/level2Depth5``: the whole top 5 every 100 ms."""
        self._on_depth(self.orderbook5, msg)

    def _on_depth50(self, msg: dict[str, Any], ws: Any) -> None:
        """``/spotMarket/level2Depth50:{symbol}`` (.../3470070w0), futures
        ``/contractMarket/level2Depth50`` (sizes as numbers): the whole top 50."""
        self._on_depth(self.orderbook50, msg)

    # ------------------------------------------------------------ full books

    def _note_feed(self, symbol: str, ws: Any, family: str, args: Any = None) -> None:
        feed = self._feeds.get(symbol)
        if feed is None or feed.ws is not ws:
            channel = "obu" if family == "uta" else f"level2 {family}"
            noted = self._feeds.note(symbol, ws, channel, args)
            if self._feeds.get(symbol) is noted:  # not a junk symbol beyond the cap
                self._families[symbol] = family

    def _on_spot_level2(self, msg: dict[str, Any], ws: Any) -> None:
        """``/market/level2:{symbol}`` (https://www.kucoin.com/docs-new/3470068w0)
        ``{"subject": "trade.l2update", "data": {"changes": {"asks": [["30000.5",
        "0", "1002"]], "bids": []}, "sequenceStart": 1001, "sequenceEnd": 1002,
        "symbol": "BTC-USDT", "time": ...}}``"""
        data = self._data(msg, "level2")
        if data is None:
            return
        symbol = data.get("symbol") or self._suffix(msg)
        self._note_feed(symbol, ws, "spot")
        changes = data.get("changes")
        try:
            self.orderbook._on_increment(
                symbol,
                data["sequenceStart"],
                data["sequenceEnd"],
                changes["asks"],  # type: ignore[index]
                changes["bids"],  # type: ignore[index]
            )
        except (KeyError, TypeError, ValueError) as exc:
            self._count_dropped("unreadable level2 update", symbol)
            self.orderbook._hold_error(symbol, f"unreadable level2 update ({exc!r})")

    def _on_futures_level2(self, msg: dict[str, Any], ws: Any) -> None:
        """``/contractMarket/level2:{symbol}`` (.../3470082w0) ``{"subject": "level2",
        "data": {"sequence": 1003, "change": "30000.5,sell,0", "timestamp": ...}}``"""
        data = self._data(msg, "level2")
        if data is None:
            return
        symbol = self._suffix(msg)
        self._note_feed(symbol, ws, "futures")
        try:
            self.orderbook._on_change(symbol, data.get("sequence"), data.get("change"))
        except (TypeError, ValueError) as exc:
            self._count_dropped("unreadable level2 change", symbol)
            self.orderbook._hold_error(symbol, f"unreadable level2 change ({exc!r})")

    def _on_obu(self, msg: dict[str, Any], ws: Any) -> None:
        """UTA ``obu`` (https://www.kucoin.com/docs-new/3470221w0) ``{"T": "obu.SPOT",
        "dp": "increment@10ms", "t": "snapshot" | "delta", "P": <ns>, "d": {"s":
        "BTC-USDT", "O": 1, "C": 3, "M": <ns>, "a": [["30000.5", "0.8"]], "b": []}}``;
        depths ``5``/``50``/``1`` are whole books every 100 ms."""
        raw = msg.get("d")
        data: dict[str, Any] = raw if raw.__class__ is dict else {}
        symbol = data.get("s")
        if symbol.__class__ is not str:
            self._count_dropped("obu message without d.s")
            return
        depth = str(msg.get("dp") or "increment@10ms")
        trade_type = str(msg["T"]).partition(".")[2]
        asks: Any = data.get("a")
        bids: Any = data.get("b")
        if not depth.startswith("increment"):
            top = self.orderbook50 if depth == "50" else self.orderbook5
            if not top._on_depth(symbol, asks, bids, data.get("M")):
                self._count_dropped("unreadable obu book", symbol)
            return
        args = {"channel": "obu", "tradeType": trade_type, "symbol": symbol, "depth": depth}
        self._note_feed(symbol, ws, "uta", args)
        book = self.orderbook
        try:
            if msg.get("t") == "snapshot":
                if book._replace(symbol, asks, bids, int(data["C"])):
                    self._resubscribe.on_snapshot(symbol)
            else:
                # buffer=False: a delta before the next snapshot is useless (it replaces all).
                book._on_increment(symbol, data["O"], data["C"], asks, bids, buffer=False)
        except (KeyError, TypeError, ValueError) as exc:
            self._count_dropped("unreadable obu update", symbol)
            book._hold_error(symbol, f"unreadable obu update ({exc!r})")

    @staticmethod
    def _resubscribe_messages(feed: BookFeed) -> list[dict[str, Any]]:
        # UTA: one symbol per frame (introduction-uta).
        return [
            {"id": f"resync-{action.lower()}", "action": action, **feed.args}
            for action in ("UNSUBSCRIBE", "SUBSCRIBE")
        ]

    def _request_book(self, symbol: str) -> None:
        """The book's resync hook: resubscribe a UTA book, fetch a REST snapshot otherwise."""
        family = self._families.get(symbol)
        if family == "uta":
            self._resubscribe.request(symbol)
        elif family is not None:
            self._recovery.request(symbol)

    def _snapshot_url(self, symbol: str) -> URL:
        family = self._families.get(symbol, "spot")
        path = self._snapshot_paths.get(
            family, SPOT_SNAPSHOT_PATHS[0] if family == "spot" else FUTURES_SNAPSHOT_PATH
        )
        return URL.build(scheme="https", host=REST_HOSTS[family], path=path).with_query(
            {"symbol": symbol}
        )

    async def _fetch_snapshot(self, symbol: str) -> Any:
        """GET ``symbol``'s level-2 snapshot through the collection's Client (the
        full spot book is signed; the partial one and the futures one are public)."""
        url = self._snapshot_url(symbol)
        kwargs: dict[str, Any] = {} if url.path == SPOT_SNAPSHOT_PATHS[0] else {"auth": None}
        resp = await self._background.client.get(url, **kwargs)
        return unwrap(await read_response(resp, exchange="kucoin"), f"GET {url.path}")

    def _install_snapshot(self, symbol: str, data: Any) -> None:
        # The change feed (a Recorder) sees every snapshot handed to the book.
        self._observe_response("GET", self._snapshot_url(symbol), 200, data)
        self.orderbook._on_rest_snapshot(symbol, data)

    def _warn_no_client(self, symbol: str) -> None:
        logger.warning(
            "%s %s: the order book needs a REST snapshot but no open datastores.Client is "
            "known; set `store.client = client` or initialize() with %s. Until then "
            "status(%r).synced is False.",
            type(self).__name__,
            symbol,
            self._snapshot_url(symbol).with_query(None),
            symbol,
        )

    def _client_changed(self) -> None:
        self._recovery.resume()

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books the lost connection fed go unsynced.

        REST-snapshot books start buffering and fetch a new snapshot; UTA books wait
        for the snapshot the app's own resubscription brings. The top-N books too
        go unsynced until their next frame.
        """
        lost = [
            symbol
            for symbol in self._feeds
            if ws is None
            or (feed := self._feeds.get(symbol)) is None
            or feed.ws is ws
            or getattr(feed.ws, "closed", True)
        ]
        self._feeds.reset_connection()
        if not lost:
            return
        self._recovery.cancel_all()
        self._resubscribe.on_reconnect(ws)
        self._resubscribe.suspended = True  # the app resubscribes by itself
        try:
            for symbol in lost:
                self.orderbook._invalidate(symbol, "reconnect")
        finally:
            self._resubscribe.suspended = False
        for symbol in self.orderbook.symbols:  # fetches cancelled above start again
            if self._families.get(symbol) != "uta" and not self.orderbook.is_synced(symbol):
                self._recovery.request(symbol)
        for book in (self.orderbook5, self.orderbook50):
            book._invalidate_all("reconnect")

    def _init_snapshot(self, url: URL, data: Any) -> None:
        symbol = url.query.get("symbol")
        if not symbol:
            raise ValueError(f"{type(self).__name__}.initialize(): {url.path} needs symbol")
        family = "futures" if url.path.endswith(FUTURES_SNAPSHOT_PATH) else "spot"
        # Later snapshots (resyncs) come from the same endpoint.
        self._snapshot_paths[family] = url.path
        self._families.setdefault(symbol, family)
        self.orderbook._on_rest_snapshot(symbol, data)
