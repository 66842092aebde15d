"""Example exchange DataStore collection: one sequenced order book and public trades.

Feed it decoded WebSocket messages (``hdlr_json=store.onmessage``) from
``wss://stream.example.invalid/ws`` after sending
``{"op": "subscribe", "channel": "book" | "trade", "symbol": "BTC-USD"}``.

The (fictional) exchange's book protocol, TODO(<x>): yours, with its doc links
(https://docs.example.invalid/ws/book):

* subscribing sends a whole-book ``snapshot``, then ``update`` messages with
  ``first``/``last`` update ids: each update's ``first`` is the previous ``last``
  plus one (the core's :class:`~datastores._integrity.StrictIncrementRule`);
* a gap is recovered by unsubscribing and subscribing again (a new snapshot comes):
  :class:`~datastores._recovery.ResubscribeRecovery`. An exchange whose snapshot
  comes from REST uses :class:`~datastores._recovery.SnapshotRecovery` instead (see
  ``datastores/exchanges/binance/_base.py``).

What is the core's and what is the exchange's: docs/exchange-kit.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from ..._collection import DataStoreCollection
from ..._integrity import BookDelta, StrictIncrementRule
from ..._orderbook import OrderBookStore
from ..._recovery import BookFeed, BookFeeds, ResubscribeRecovery
from ..._store import DataStore
from ..._storefield import StoreField
from ._items import OrderBookItem, TradeItem

__all__ = ["ExampleDataStore", "ExampleOrderBook", "ExampleTrade"]

logger = logging.getLogger("datastores.exchanges._template")


class ExampleOrderBook(OrderBookStore[OrderBookItem]):
    """Books from the ``book`` channel: ``sorted()`` returns ``{"ask": [...], "bid": [...]}``.

    Levels are ``[price, size]`` strings as sent; a size of ``"0"`` deletes. Apply per
    level: O(log n). The integrity state machine is the core's: this class only names
    the fields and the sequence rule (TODO(<x>): yours, from ``datastores._integrity``
    or a new rule there, never a state machine of its own).
    """

    _SYMBOL = "symbol"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "size"
    _ASK = "ask"
    _BID = "bid"
    _RULE = StrictIncrementRule()


class ExampleTrade(DataStore[TradeItem]):
    """Public trades (keyless, newest last, at most ``_MAXLEN``)."""

    _MAXLEN = 99999


class ExampleDataStore(DataStoreCollection):
    """The example exchange: ``orderbook`` and ``trade`` (TODO(<x>): your stores).

    Stores: ``orderbook`` (:class:`ExampleOrderBook`), ``trade`` (:class:`ExampleTrade`).
    Messages it cannot read are counted in ``statistics().dropped``, channels no store
    takes in ``statistics().unhandled``; neither ever raises into the WebSocket loop.
    """

    _EXCHANGE = "example"
    #: channel -> handler method (one signature: ``handler(msg, ws)``)
    _CHANNELS: ClassVar[Mapping[str, str]] = {"book": "_on_book", "trade": "_on_trade"}
    #: replies to our own requests (TODO(<x>): yours), neither stored nor unhandled
    _REPLIES: ClassVar[frozenset[str]] = frozenset({"subscribe", "unsubscribe", "pong"})

    #: ``book`` channel: sequenced books kept in sync, keyed by symbol, side and price.
    orderbook = StoreField(ExampleOrderBook)
    #: ``trade`` channel.
    trade = StoreField(ExampleTrade)

    def _init(self) -> None:
        #: which connection and subscription feed each symbol's book
        self._feeds = BookFeeds()
        self._resubscribe = ResubscribeRecovery(
            self._background,
            self.orderbook,
            self._feeds,
            messages=self._resubscribe_messages,
            logger=logger,
        )
        self.orderbook.resync_hook = self._resubscribe.request

    @staticmethod
    def _resubscribe_messages(feed: BookFeed) -> list[dict[str, Any]]:
        # TODO(<x>): the exchange's unsubscribe / subscribe requests for one book.
        return [{"op": "unsubscribe", **feed.args}, {"op": "subscribe", **feed.args}]

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        op = msg.get("op")
        if op is not None:  # a reply to our own request (it names a channel too)
            if op not in self._REPLIES:
                self._count_unhandled(f"op {str(op)[:40]}")
            elif msg.get("success") is False:
                logger.warning("%s: request failed: %.300s", type(self).__name__, msg)
            return
        channel = msg.get("channel")
        handler = self._channel_handlers.get(channel) if channel.__class__ is str else None
        if handler is not None:
            handler(msg, ws)
        elif channel is None:
            self._count_dropped("message without a channel")
        else:
            self._count_unhandled(str(channel)[:40])

    def _on_book(self, msg: dict[str, Any], ws: Any) -> None:
        """``book``: https://docs.example.invalid/ws/book (TODO(<x>): link and sample)
        ``{"channel": "book", "type": "update", "symbol": "BTC-USD",
        "data": {"first": 11, "last": 12, "asks": [["30000.1", "0.5"]], "bids": []}}``"""
        symbol, data = msg.get("symbol"), msg.get("data")
        if symbol.__class__ is not str or data.__class__ is not dict:
            self._count_dropped("book message without symbol or data")
            return
        book = self.orderbook
        feed = self._feeds.get(symbol)
        if feed is None or feed.ws is not ws:
            self._feeds.note(symbol, ws, "book", {"channel": "book", "symbol": symbol})
        first, last = data.get("first"), data.get("last")
        if first.__class__ is not int or last.__class__ is not int:
            # An update we cannot read is lost: the sequence is broken, so say so.
            self._count_dropped("book message with unreadable ids", symbol)
            book._fail(symbol, "error", f"unreadable update ids {first!r}..{last!r}")
            return
        # Not checked here: the book refuses levels it cannot read (counted, resync).
        asks: Any = data.get("asks")
        bids: Any = data.get("bids")
        if msg.get("type") == "snapshot":
            # A malformed snapshot is refused by _replace (counted on the book, resync).
            if book._replace(symbol, asks, bids, last):
                self._resubscribe.on_snapshot(symbol)
        else:
            # buffer=False: updates before the next snapshot are useless (it replaces all).
            book._on_delta(symbol, BookDelta(first, last, None, asks, bids), buffer=False)

    def _on_trade(self, msg: dict[str, Any], ws: Any) -> None:
        """``trade``: https://docs.example.invalid/ws/trade (TODO(<x>): link and sample)
        ``{"channel": "trade", "symbol": "BTC-USD",
        "data": [{"id": 1, "price": "30000.1", "size": "0.01", "side": "buy"}]}``"""
        symbol, data = msg.get("symbol"), msg.get("data")
        if data.__class__ is not list:
            self._count_dropped("trade message without a list of trades")
            return
        trades = [{**t, "symbol": symbol} for t in data if t.__class__ is dict]
        if len(trades) != len(data):
            self._count_dropped("trade that is not an object", symbol)
        self.trade._insert(trades)

    # ------------------------------------------------------------ reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books ``ws`` fed go unsynced until the
        snapshot that its automatic resubscription brings (no resubscribe of ours)."""
        if self._feeds.carried_books(ws):
            self._resubscribe.on_reconnect(ws)
            self._resubscribe.suspended = True  # the app resubscribes by itself
            try:
                for symbol in self._feeds.symbols_fed_by(ws) or self.orderbook.symbols:
                    self.orderbook._invalidate(symbol, "reconnect")
            finally:
                self._resubscribe.suspended = False
        self._feeds.reset_connection()
