"""Coincheck DataStore collections: the public stream and the private stream.

Public: ``wss://ws-api.coincheck.com`` with ``{"type": "subscribe", "channel":
"btc_jpy-trades" | "btc_jpy-orderbook" | "btc_jpy-limit-range-orderbook"}``, one channel
per frame, never acknowledged (https://coincheck.com/documents/exchange/api#websocket).
Subscribing to a channel twice on one socket makes the exchange send every frame
twice, so nothing here resubscribes: recovery is by REST snapshot.

Private: ``wss://stream.coincheck.com`` after the login message (``wsproto.py``) and
``{"type": "subscribe", "channels": ["order-events", "execution-events"]}``.

Store names, keys and item shapes follow the reference library (pybotters §4.5 and
§4.6); the order-book rules are in ``_book.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from yarl import URL

from ..._collection import DataStoreCollection
from ..._errors import ExchangeAPIError
from ..._recovery import BookFeeds, SnapshotRecovery
from ..._storefield import StoreField
from ._book import CoincheckOrderBook
from ._stores import Execution, Order, Trades, trade_item

__all__ = ["ORDER_BOOKS_URL", "CoincheckDataStore", "CoincheckPrivateDataStore"]

logger = logging.getLogger("datastores.exchanges.coincheck")

#: ``GET`` order-book snapshots (``?pair=..``; ``&version=1.0`` for the sequenced one)
ORDER_BOOKS_URL = URL("https://coincheck.com/api/order_books")
_DEFAULT_PAIR = "btc_jpy"


def _raise_for_failure(data: Any, endpoint: str) -> None:
    """A 2xx answer with ``success: false`` is an error (Coincheck's error shape)."""
    if isinstance(data, Mapping) and data.get("success") is False:
        raise ExchangeAPIError(
            exchange="coincheck",
            endpoint=endpoint,
            status=200,
            message=str(data.get("error") or data.get("message") or data)[:300],
        )


class CoincheckDataStore(DataStoreCollection):
    """Coincheck's public stream: ``trades`` and ``orderbook``.

    Messages are arrays: ``[[trade], [trade]...]`` for trades, ``[pair, {...}]`` for the
    book (both book channels). Give it a Client (``store.client = client``, or through
    ``initialize()``) and it fetches the REST snapshots its books need by itself.
    What it cannot read is counted in ``statistics().dropped``; it never raises.
    """

    _EXCHANGE = "coincheck"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "trades": "_on_trades",
        "orderbook": "_on_orderbook",
    }

    #: ``[pair]-trades`` (keyless, newest last).
    trades = StoreField(Trades)
    #: ``[pair]-limit-range-orderbook`` / ``[pair]-orderbook``, keyed by pair, side, rate.
    orderbook = StoreField(CoincheckOrderBook)

    def _init(self) -> None:
        self._feeds = BookFeeds()
        self._recovery: SnapshotRecovery[Any] = SnapshotRecovery(
            self._background,
            self.orderbook,
            fetch=self._fetch_snapshot,
            install=self._install_snapshot,
            on_no_client=self._warn_no_client,
            logger=logger,
        )
        self.orderbook.resync_hook = self._recovery.request

    def _client_changed(self) -> None:
        self._recovery.resume()

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not list or not msg:
            if msg.__class__ is dict:
                self._count_unhandled(f"<object type={str(msg.get('type'))[:30]}>")
            else:
                self._count_dropped("message is not a non-empty array", type(msg).__name__)
            return
        first = msg[0]
        if first.__class__ is list:
            self._channel_handlers["trades"](msg, ws)
        elif first.__class__ is str:
            self._channel_handlers["orderbook"](msg, ws)
        else:
            self._count_dropped("array message of unknown shape")

    def _on_trades(self, msg: list[Any], ws: Any) -> None:
        """``[pair]-trades``: https://coincheck.com/documents/exchange/api#websocket-trades
        ``[["1663318663", "2357062", "btc_jpy", "2820896.0", "5.0", "sell", "1193401",
        "2078767", null]]``"""
        items = [item for item in map(trade_item, msg) if item is not None]
        if len(items) != len(msg):
            self._count_dropped("trade that is not a trade array")
        if items:
            self.trades._insert(items)

    def _on_orderbook(self, msg: list[Any], ws: Any) -> None:
        """``[pair]-orderbook``: https://coincheck.com/documents/exchange/api#websocket-order-book
        ``["btc_jpy", {"bids": [["9999000.0", "0.5"]], "asks": [], "last_update_at":
        "1700000000"}]``; ``[pair]-limit-range-orderbook`` (undocumented): ``["btc_jpy",
        {"sequence_number": 42, "upper": [{"rate", "ask_amount", "bid_amount"}],
        "lower": [...]}]``"""
        pair = msg[0]
        data = msg[1] if len(msg) > 1 else None
        if data.__class__ is not dict:
            self._count_dropped("order-book message without a payload", pair[:20])
            return
        sequenced = "sequence_number" in data
        if not sequenced and "asks" not in data and "bids" not in data:
            self._count_dropped("order-book payload without levels", pair[:20])
            return
        feed = self._feeds.get(pair)
        if feed is None or feed.ws is not ws:
            channel = f"{pair}-limit-range-orderbook" if sequenced else f"{pair}-orderbook"
            self._feeds.note(pair, ws, channel)
        book = self.orderbook
        if sequenced:
            try:
                book._on_sequenced(pair, data)
            except ValueError:
                self._count_dropped("unreadable limit-range-orderbook diff", pair[:20])
        elif not book._on_legacy(pair, data):
            self._count_dropped("legacy order-book diff for a sequenced pair", pair[:20])

    # ------------------------------------------------------------- snapshots

    def _snapshot_url(self, pair: str) -> URL:
        query = {"pair": pair}
        if self.orderbook.mode(pair) != "legacy":
            query["version"] = "1.0"
        return ORDER_BOOKS_URL.with_query(query)

    async def _fetch_snapshot(self, pair: str) -> Any:
        """GET ``pair``'s snapshot (unsigned) through the collection's Client."""
        from ..._http import read_response

        url = self._snapshot_url(pair)
        resp = await self._background.client.get(url, auth=None)
        data = await read_response(resp, exchange=self._EXCHANGE)
        _raise_for_failure(data, f"GET {url.path}")
        return url, data

    def _install_snapshot(self, pair: str, fetched: Any) -> None:
        url, data = fetched
        # The change feed (a Recorder) sees every snapshot handed to the book.
        self._observe_response("GET", url, 200, data)
        self._install(pair, url, data)

    def _install(self, pair: str, url: URL, data: Any) -> None:
        if url.query.get("version") is not None:
            self.orderbook._on_sequenced_snapshot(pair, data)
        else:
            self.orderbook._on_legacy_snapshot(pair, data)

    def _warn_no_client(self, pair: str) -> None:
        logger.warning(
            "%s %s: the order book needs a REST snapshot but no open datastores.Client is "
            "known; set `store.client = client` or call `await store.initialize("
            "client.get(%r))`. Until then status(%r).synced is False.",
            type(self).__name__,
            pair,
            str(self._snapshot_url(pair)),
            pair,
        )

    async def _onresponse(self, resp: Any, data: Any) -> None:
        """``GET /api/order_books`` (``?pair=``, else the answer's ``pair``, else
        ``btc_jpy``; ``&version=1.0`` for the sequenced snapshot)."""
        url: URL = resp.url
        if not url.path.endswith("/api/order_books"):
            await super()._onresponse(resp, data)
            return
        _raise_for_failure(data, f"GET {url.path}")
        pair = url.query.get("pair")
        if not pair and isinstance(data, Mapping) and isinstance(data.get("pair"), str):
            pair = data["pair"]
        pair = pair or _DEFAULT_PAIR
        if isinstance(data, Mapping) and "sequence_number" in data and "version" not in url.query:
            url = url.update_query({"version": "1.0"})
        self._install(pair, url, data)
        self._recovery.resume()

    # ------------------------------------------------------------ reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books its connection fed (or all, when it
        cannot be told) go unsynced and fetch new snapshots; in-flight fetches, which
        may predate the new stream, are cancelled."""
        if not self._feeds.carried_books(ws):
            return
        url = getattr(ws, "url", None)
        pairs = [
            pair
            for pair in self._feeds
            if (feed := self._feeds.get(pair)) is not None
            and (feed.ws is ws or (url is not None and getattr(feed.ws, "url", None) == url))
        ]
        self._feeds.reset_connection()
        self._recovery.cancel_all()
        for pair in pairs or self.orderbook.symbols:
            self.orderbook._invalidate(pair, "reconnect")


class CoincheckPrivateDataStore(DataStoreCollection):
    """Coincheck's private stream: ``order`` (store ``order-events``) and ``execution``
    (store ``execution-events``).

    ``initialize(client.get("https://coincheck.com/api/exchange/orders/opens"))`` loads
    the open orders; insert each new order from its ``POST /api/exchange/orders`` answer
    with ``store.order.feed_response(data)`` (Coincheck pushes no "new order" event).
    Messages that are not objects, error replies and unknown channels are counted
    (``statistics()``), never raised.
    """

    _EXCHANGE = "coincheck"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "order-events": "_on_order_events",
        "execution-events": "_on_execution_events",
    }

    #: ``order-events``: open orders, keyed by ``id`` and ``pair``.
    order = StoreField(Order, "order-events")
    #: ``execution-events``: fills, newest last.
    execution = StoreField(Execution, "execution-events")

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        channel = msg.get("channel")
        handler = self._channel_handlers.get(channel) if channel.__class__ is str else None
        if handler is not None:
            handler(msg, ws)
        elif "success" in msg:  # the login reply (wsproto.py judges it)
            if msg["success"] is not True:
                self._count_dropped("error reply", str(msg.get("error"))[:80])
        elif channel is None:
            self._count_dropped("message without a channel")
        else:
            self._count_unhandled(str(channel)[:40])

    def _on_order_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``order-events``: https://coincheck.com/documents/exchange/api#websocket-order-events
        ``{"channel": "order-events", "id": 1, "pair": "btc_jpy", "order_event":
        "PARTIALLY_FILL", "latest_executed_amount": "0.1", ...}``"""
        if "id" not in msg or msg.get("pair").__class__ is not str:
            self._count_dropped("order event without id or pair")
            return
        if not self.order._on_event(msg):
            self._count_unhandled(f"order_event {str(msg.get('order_event'))[:30]}")

    def _on_execution_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``execution-events``: https://coincheck.com/documents/exchange/api#websocket-execution-events
        ``{"channel": "execution-events", "id": 1, "order_id": 2, "pair": "btc_jpy",
        "funds": {"btc": "0.1", "jpy": "-1000"}, "rate": "10000", ...}``"""
        if "id" not in msg or "order_id" not in msg:
            self._count_dropped("execution event without id or order_id")
            return
        self.execution._insert([msg])

    async def _onresponse(self, resp: Any, data: Any) -> None:
        """``GET /api/exchange/orders/opens``: every open order (clear, then insert);
        ``POST /api/exchange/orders``: the new order (as ``order.feed_response``)."""
        url: URL = resp.url
        path = url.path
        if path.endswith("/api/exchange/orders/opens"):
            _raise_for_failure(data, f"GET {path}")
            orders = data.get("orders") if isinstance(data, Mapping) else None
            if not isinstance(orders, list):
                raise ValueError(f"{type(self).__name__}.initialize(): {path} without orders")
            self.order._replace_orders(orders)
        elif path.endswith("/api/exchange/orders") and resp.method == "POST":
            _raise_for_failure(data, f"POST {path}")
            self.order.feed_response(data)
        else:
            await super()._onresponse(resp, data)
