"""``BybitDataStore``: Bybit V5 public and private WebSocket topics in memory.

Routing is one dict lookup per message: the handler of each topic string is
cached (its prefix looked up in the channel table ``_CHANNELS``; the depth or
symbol the topic names kept beside it).
Categorised private topics (``order.linear``, ``position.spot``...) share the
store of their all-in-one topic; topics without a dedicated store
(``insurance.*``, ``dcp``, ``execution.fast``, ``orderbook.rpi.*``...) go to a
keyless store named after the topic prefix; nothing raises into the WebSocket
loop. Malformed messages are dropped, counted (``statistics().dropped``, by
reason; :attr:`dropped_messages` is their total) and logged.

Order books keep integrity state and recover by themselves: a gap on an
N-level topic resubscribes the topic on the connection that delivered it (a
fresh snapshot follows; without one, it is resubscribed again after 10 s,
doubling to 300 s); ``orderbook.full`` fetches ``GET
/v5/market/full_orderbook`` through the collection's ``Client``.

https://bybit-exchange.github.io/docs/v5/ws/connect
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..._collection import DataStoreCollection, Handler
from ..._errors import ExchangeAPIError
from ..._store import DataStore, Item
from ..._storefield import StoreField
from ._book import BookFeed, OrderBook
from ._recovery import FULL_ORDERBOOK_PATH, BookRecovery, bybit_result
from ._stores import (
    AllLiquidation,
    Execution,
    Greek,
    Kline,
    Liquidation,
    LTKline,
    LTNav,
    LTTicker,
    Order,
    Position,
    Ticker,
    Trade,
    Wallet,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["BookFeed", "BybitDataStore", "OrderBook"]

logger = logging.getLogger("datastores.exchanges.bybit")

_ROUTE_CACHE_MAX = 4096


def _refused(msg: Any, ws: Any) -> None:
    """A topic refused beyond ``max_dynamic_stores`` (counted when it was refused)."""


class BybitDataStore(DataStoreCollection):
    """Bybit V5 DataStoreCollection (public and private topics, one collection).

    Use one collection per WebSocket category when books are involved: Bybit
    topics do not name the category, so ``orderbook.50.BTCUSDT`` from spot and
    from linear would share one book.

    Attributes (stores): :attr:`orderbook`, :attr:`trade`, :attr:`ticker`,
    :attr:`kline`, :attr:`all_liquidation`, :attr:`lt_kline`, :attr:`lt_ticker`,
    :attr:`lt_nav`, :attr:`liquidation`, :attr:`position`, :attr:`execution`,
    :attr:`order`, :attr:`wallet`, :attr:`greek`.

    Settings:
        rest_base_url: REST base for ``orderbook.full`` snapshots (default:
            derived from the WebSocket host, else ``https://api.bybit.com``).
        full_orderbook_category: ``category`` for those snapshots (default:
            the last path segment of the WebSocket URL, else ``"spot"``).
    """

    _EXCHANGE = "bybit"

    #: topic prefix -> handler (``topic.split(".")[0]``)
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "orderbook": "_on_orderbook",
        "publicTrade": "_on_trade",
        "tickers": "_on_ticker",
        "kline": "_on_kline",
        "allLiquidation": "_on_all_liquidation",
        "kline_lt": "_on_lt_kline",
        "tickers_lt": "_on_lt_ticker",
        "lt": "_on_lt_nav",
        "liquidation": "_on_liquidation",
        "position": "_on_position",
        "execution": "_on_execution",
        "order": "_on_order",
        "wallet": "_on_wallet",
        "greeks": "_on_greeks",
    }

    #: ``orderbook.{depth}.{symbol}`` and ``orderbook.full.{symbol}`` (store ``orderbook``).
    #: https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
    orderbook = StoreField(OrderBook)

    #: ``publicTrade.{symbol}`` (store ``publicTrade``).
    trade = StoreField(Trade, "publicTrade")

    #: ``tickers.{symbol}`` (store ``tickers``).
    ticker = StoreField(Ticker, "tickers")

    #: ``kline.{interval}.{symbol}`` (store ``kline``).
    kline = StoreField(Kline)

    #: ``allLiquidation.{symbol}`` (store ``allLiquidation``).
    all_liquidation = StoreField(AllLiquidation, "allLiquidation")

    #: ``kline_lt.{interval}.{symbol}`` (store ``kline_lt``).
    lt_kline = StoreField(LTKline, "kline_lt")

    #: ``tickers_lt.{symbol}`` (store ``tickers_lt``).
    lt_ticker = StoreField(LTTicker, "tickers_lt")

    #: ``lt.{symbol}`` (store ``lt``).
    lt_nav = StoreField(LTNav, "lt")

    #: ``liquidation.{symbol}`` (store ``liquidation``).
    liquidation = StoreField(Liquidation)

    #: ``position`` and ``position.{category}`` (store ``position``).
    position = StoreField(Position)

    #: ``execution`` and ``execution.{category}`` (store ``execution``).
    execution = StoreField(Execution)

    #: ``order`` and ``order.{category}``: live orders only (store ``order``).
    order = StoreField(Order)

    #: ``wallet`` (store ``wallet``).
    wallet = StoreField(Wallet)

    #: ``greeks`` (store ``greeks``).
    greek = StoreField(Greek, "greeks")

    def _init(self) -> None:
        #: REST base for ``orderbook.full`` snapshots (``None``: derived from the WS host)
        self.rest_base_url: str | None = None
        #: ``category`` of those snapshots (``None``: from the WS URL path, else "spot")
        self.full_orderbook_category: str | None = None
        self._book: OrderBook = self.orderbook
        # aclose() stops the recovery until a new Client is given, as it always did.
        self._background.hold_after_close = True
        self._recovery = BookRecovery(self)
        #: topic -> handler, built once per distinct topic string
        self._routes: dict[str, Handler] = {}
        #: topic -> what its handler needs from the topic (book depth, kline symbol,
        #: generic store, or why the topic is unusable)
        self._topic_args: dict[str, Any] = {}
        self._failed_operations = 0
        self._generic_names: set[str] = set()

    @property
    def dropped_messages(self) -> int:
        """Messages (or items in them) dropped as malformed or unusable (the total of
        ``statistics().dropped``)."""
        return sum(self._dropped.values())

    @property
    def failed_operations(self) -> int:
        """``success: false`` / non-zero ``retCode`` replies to subscribe, auth, orders..."""
        return self._failed_operations

    # ----------------------------------------------------------------- client

    def _client_changed(self) -> None:
        self._recovery.snapshots.resume()

    def on_reconnect(self, ws: Any = None) -> None:
        """Mark unsynced the books fed by the connection that was re-established.

        The WebSocketApp re-sends the subscriptions itself, so N-level topics are
        not resubscribed here (their snapshot follows the subscription);
        ``orderbook.full`` symbols fetch a new REST snapshot.
        """
        self._recovery.on_reconnect(ws)

    # ----------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._drop(None, "not a JSON object", type(msg).__name__)
            return
        topic = msg.get("topic")
        if topic is None:
            self._on_reply(msg)
            return
        handler = self._routes.get(topic)
        if handler is None:
            if topic.__class__ is not str:
                self._drop(None, "topic is not a string")
                return
            handler = self._route(topic)
        handler(msg, ws)

    def _route(self, topic: str) -> Handler:
        """The handler of ``topic`` (and what it needs from the topic), cached."""
        if len(self._routes) >= _ROUTE_CACHE_MAX:
            # bounded: only a hostile stream has this many topics
            self._routes.clear()
            self._topic_args.clear()
        parts = topic.split(".")
        prefix = parts[0]
        handler = self._channel_handlers.get(prefix)
        arg: Any = None
        if handler is None:
            handler, arg = self._generic_route(prefix)
        elif prefix == "orderbook":
            handler, arg = self._route_orderbook(parts)
        elif prefix == "kline" or prefix == "kline_lt":
            if len(parts) < 3 or not parts[2]:
                handler, arg = self._on_invalid_topic, "kline topic without a symbol"
            else:
                arg = ".".join(parts[2:])  # symbols never contain dots; nothing is lost
        elif prefix == "execution" and len(parts) > 1 and parts[1] == "fast":
            # execution.fast repeats fills of `execution` with fewer fields: a store of
            # its own, so subscribing to both never duplicates fills in `execution`.
            handler, arg = self._generic_route("execution.fast")
        if handler is _refused:
            return handler  # not cached: every message of a refused topic is counted
        self._routes[topic] = handler
        self._topic_args[topic] = arg
        return handler

    def _route_orderbook(self, parts: list[str]) -> tuple[Handler, Any]:
        if len(parts) < 3 or not parts[2]:
            return self._on_invalid_topic, "orderbook topic without a symbol"
        if parts[1] == "full":
            return self._on_orderbook, None
        if parts[1].isdigit() and int(parts[1]) > 0:
            return self._on_orderbook, int(parts[1])
        # orderbook.rpi.* (levels with a separate RPI size) and future variants: their
        # levels mean something else, so they must not touch the book.
        return self._generic_route(f"{parts[0]}.{parts[1]}")

    def _generic_route(self, name: str) -> tuple[Handler, Any]:
        """The keyless store ``name`` for topics without a dedicated store, made on
        the fly up to ``max_dynamic_stores`` (beyond: refused, counted)."""
        store = self._create_dynamic(name, datastore_class=DataStore)
        if store is None:
            return _refused, None
        if name not in self._generic_names:
            self._generic_names.add(name)
            logger.info(
                "bybit: no dedicated store for %r topics; they go to the keyless store %r",
                name,
                name,
            )
        return self._on_generic, store

    def _drop(self, topic: str | None, reason: str, detail: object = None) -> None:
        where = f"{topic!r}"[:130] if topic else None
        if where is not None and detail is not None:
            where = f"{where} ({detail})"
        self._count_dropped(reason, where if where is not None else detail)

    # ---------------------------------------------------------------- handlers

    def _list(self, msg: dict[str, Any]) -> list[Item] | None:
        """The object items of ``data`` (an array); what is not an object is dropped."""
        data = msg.get("data")
        if data.__class__ is not list:
            self._drop(msg["topic"], "data is not an array")
            return None
        items = [item for item in data if item.__class__ is dict]
        if len(items) != len(data):
            self._drop(
                msg["topic"], "items that are not objects", f"{len(data) - len(items)} of them"
            )
        return items

    def _object(self, msg: dict[str, Any]) -> Item | None:
        data = msg.get("data")
        if data.__class__ is not dict:
            self._drop(msg["topic"], "data is not an object")
            return None
        item: Item = data
        return item

    def _on_orderbook(self, msg: dict[str, Any], ws: Any) -> None:
        """``orderbook.{depth}.{symbol}`` / ``orderbook.full.{symbol}``:
        https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
        ``{"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": ..,
        "data": {"s": "BTCUSDT", "b": [["16493.50", "0.006"]], "a": [..], "u": 18521288,
        "seq": 7961638724}, "cts": ..}``"""
        topic = msg["topic"]
        reason = self._book._on_message(topic, self._topic_args[topic], msg, ws)
        if reason is not None:
            self._drop(topic, reason)
        elif msg["type"] == "snapshot" or msg["data"]["u"] == 1:
            self._recovery.on_snapshot(msg["data"]["s"])

    def _on_trade(self, msg: dict[str, Any], ws: Any) -> None:
        """``publicTrade.{symbol}``: ``{"data": [{"T": .., "s": .., "S": "Buy", "v": ..,
        "p": .., "L": .., "i": .., "BT": false}]}``"""
        items = self._list(msg)
        if items:
            self.trade._insert(items)

    def _on_ticker(self, msg: dict[str, Any], ws: Any) -> None:
        """``tickers.{symbol}``: ``{"type": "snapshot"|"delta", "data": {"symbol": .., ..}}``"""
        item = self._object(msg)
        if item is not None:
            self.ticker._update([item])

    def _on_kline(self, msg: dict[str, Any], ws: Any) -> None:
        """``kline.{interval}.{symbol}``: ``{"data": [{"start": .., "end": .., ..}]}``"""
        items = self._list(msg)
        if items:
            self.kline._on_candles(self._topic_args[msg["topic"]], items)

    def _on_all_liquidation(self, msg: dict[str, Any], ws: Any) -> None:
        """``allLiquidation.{symbol}``: ``{"data": [{"T": .., "s": .., "S": .., "v": ..}]}``"""
        items = self._list(msg)
        if items:
            self.all_liquidation._insert(items)

    def _on_lt_kline(self, msg: dict[str, Any], ws: Any) -> None:
        """``kline_lt.{interval}.{symbol}``: like ``kline``."""
        items = self._list(msg)
        if items:
            self.lt_kline._on_candles(self._topic_args[msg["topic"]], items)

    def _on_lt_ticker(self, msg: dict[str, Any], ws: Any) -> None:
        """``tickers_lt.{symbol}``: ``{"data": {"symbol": .., "lastPrice": .., ..}}``"""
        item = self._object(msg)
        if item is not None:
            self.lt_ticker._update([item])

    def _on_lt_nav(self, msg: dict[str, Any], ws: Any) -> None:
        """``lt.{symbol}``: ``{"data": {"symbol": .., "nav": .., ..}}``"""
        item = self._object(msg)
        if item is not None:
            self.lt_nav._update([item])

    def _on_liquidation(self, msg: dict[str, Any], ws: Any) -> None:
        """``liquidation.{symbol}``: ``{"data": {"symbol": .., "side": .., "size": .., ..}}``"""
        item = self._object(msg)
        if item is not None:
            self.liquidation._insert([item])

    def _on_position(self, msg: dict[str, Any], ws: Any) -> None:
        """``position[.{category}]``: ``{"data": [{"symbol": .., "positionIdx": 0, ..}]}``"""
        items = self._list(msg)
        if items:
            self.position._update(items)

    def _on_execution(self, msg: dict[str, Any], ws: Any) -> None:
        """``execution[.{category}]``: ``{"data": [{"execId": .., "orderId": .., ..}]}``"""
        items = self._list(msg)
        if items:
            self.execution._insert(items)

    def _on_order(self, msg: dict[str, Any], ws: Any) -> None:
        """``order[.{category}]``: ``{"data": [{"orderId": .., "orderStatus": "New", ..}]}``"""
        items = self._list(msg)
        if items:
            self.order._on_orders(items)

    def _on_wallet(self, msg: dict[str, Any], ws: Any) -> None:
        """``wallet``: ``{"data": [{"accountType": "UNIFIED", "coin": [..], ..}]}``"""
        items = self._list(msg)
        if items:
            self.wallet._on_wallets(items)

    def _on_greeks(self, msg: dict[str, Any], ws: Any) -> None:
        """``greeks``: ``{"data": [{"baseCoin": "ETH", "totalDelta": .., ..}]}``"""
        items = self._list(msg)
        if items:
            self.greek._update(items)

    def _on_generic(self, msg: dict[str, Any], ws: Any) -> None:
        """Topics without a dedicated store: kept as sent in a keyless store."""
        topic = msg["topic"]
        store: DataStore = self._topic_args[topic]
        data = msg.get("data")
        if data.__class__ is dict:
            store._insert([data])
        elif data.__class__ is list:
            items = [item for item in data if item.__class__ is dict]
            if items:
                store._insert(items)
            if len(items) != len(data):
                self._drop(topic, "items that are not objects", f"{len(data) - len(items)} of them")
        else:
            self._drop(topic, "data is neither an object nor an array")

    def _on_invalid_topic(self, msg: dict[str, Any], ws: Any) -> None:
        topic = msg["topic"]
        self._drop(topic, self._topic_args[topic])

    def _on_reply(self, msg: dict[str, Any]) -> None:
        """Replies to our requests (subscribe, auth, ping, WS orders): log failures."""
        failed = msg.get("success") is False
        code = msg.get("retCode")
        if not failed and code is not None and code != 0:
            failed = True
        if failed:
            self._failed_operations += 1
            logger.warning(
                "bybit: %r request failed: %s (%d failed so far)",
                msg.get("op"),
                str(msg.get("ret_msg") or msg.get("retMsg") or "(no message)")[:300],
                self._failed_operations,
            )
        elif "op" not in msg and "success" not in msg and code is None:
            self._drop(None, "neither a topic message nor a reply")

    def _onerror(self, msg: Any, exc: Exception) -> None:
        # A handler raised on an order-book message: the book may be half-applied.
        if isinstance(msg, Mapping):
            topic = msg.get("topic")
            data = msg.get("data")
            if isinstance(topic, str) and topic.startswith("orderbook.") and isinstance(data, dict):
                symbol = data.get("s")
                if isinstance(symbol, str):
                    self._book._fail(symbol, "error", f"handler error ({type(exc).__name__})")

    # -------------------------------------------------------------- initialize

    async def initialize(self, *aws: Awaitable[ClientResponse] | ClientResponse) -> None:
        """Load REST state; each response is routed by its path.

        Endpoints: ``GET /v5/position/list`` (:attr:`position`), ``GET
        /v5/order/realtime`` (:attr:`order`; replaces the open orders of the
        queried category and filter), ``GET /v5/account/wallet-balance``
        (:attr:`wallet`). The requests' Client is remembered for order-book
        snapshots.

        Raises:
            ExchangeAPIError: HTTP error or ``retCode != 0`` (``RateLimitError``,
                ``AuthenticationError`` for the matching codes), naming the endpoint,
                the code and ``retMsg``.
            ValueError: an endpoint this collection does not know.
        """
        await super().initialize(*aws)
        self._recovery.snapshots.resume()  # books that waited for a Client

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        path = resp.url.path
        if path == FULL_ORDERBOOK_PATH:
            # A full-book snapshot (what the store fetches itself, or a replayed one).
            result = bybit_result(data, f"{resp.method} {path}", resp.status)
            symbol = resp.url.query.get("symbol") or result.get("s")
            if isinstance(symbol, str):
                self._book._install_full_snapshot(symbol, result)
            return
        if path not in _INITIALIZE_PATHS:
            await super()._onresponse(resp, data)
            return
        endpoint = f"{resp.method} {path}"
        result = bybit_result(data, endpoint, resp.status)
        rows = result.get("list")
        if type(rows) is not list:
            raise ExchangeAPIError(
                exchange="bybit",
                endpoint=endpoint,
                status=resp.status,
                message="response has no result.list array",
            )
        items = [row for row in rows if type(row) is dict]
        query = dict(resp.url.query)
        category = query.get("category") or result.get("category") or None
        if path == "/v5/position/list":
            self.position._on_rest(category, items)
        elif path == "/v5/order/realtime":
            self.order._on_rest(query, category, items)
        else:
            self.wallet._on_wallets(items)


_INITIALIZE_PATHS = frozenset(
    {"/v5/position/list", "/v5/order/realtime", "/v5/account/wallet-balance"}
)
