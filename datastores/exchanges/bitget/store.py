"""Bitget v2 ("classic") API: :class:`BitgetV2DataStore`.

Public WS ``wss://ws.bitget.com/v2/ws/public``, private
``wss://ws.bitget.com/v2/ws/private``; subscribe with
``{"op": "subscribe", "args": [{"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}]}``.
https://www.bitget.com/api-doc/common/websocket-intro

Store names, keys and item shapes follow the reference API (every item gains
the ``instType`` of its subscription) with these corrections:

* ``book`` verifies every checksum and ``seq`` (see :mod:`._books`) and resyncs
  by resubscribing; ``status()`` tells whether a book is trustworthy.
* ``account`` is keyed by instType **and coin** (one item per coin; futures
  items also get ``coin`` = their ``marginCoin``), not by instType alone.
* ``positions``: a push is the full list of that instType's positions, so it
  replaces only that instType's positions, never the others'.
* ``initialize()`` exists: open orders and positions over REST.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..._store import DataStore, Item, ItemT
from ..._storefield import StoreField
from ._base import (
    TOP_N_DEPTHS,
    BitgetCollectionBase,
    candle_items,
    objects,
    route_by_status,
)
from ._books import BitgetV2Book
from ._items import (
    V2AccountItem,
    V2CandleItem,
    V2FillItem,
    V2OrderAlgoItem,
    V2OrderItem,
    V2PositionHistoryItem,
    V2PositionItem,
    V2TickerItem,
    V2TradeItem,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = [
    "Account",
    "BitgetV2Book",
    "BitgetV2DataStore",
    "Candle",
    "Fill",
    "Orders",
    "OrdersAlgo",
    "Positions",
    "PositionsHistory",
    "Ticker",
    "Trade",
]

#: order statuses that keep an order in ``orders`` / that remove it
_ORDER_OPEN = frozenset({"live", "partially_filled", "new", "init"})
_ORDER_DONE = frozenset({"filled", "canceled", "cancelled"})
#: trigger-order statuses that keep an order in ``orders_algo`` / that remove it
_ALGO_OPEN = frozenset({"live", "executing", "not_trigger"})
_ALGO_DONE = frozenset(
    {"executed", "fail_execute", "cancelled", "canceled", "triggered", "fail_trigger"}
)
#: candle array positions -> field names (reference API names)
_CANDLE_FIELDS = (
    "startTime",
    "openPr",
    "highPr",
    "lowPr",
    "closePr",
    "baseVolume",
    "quoteVolume",
    "usdtVolume",
)


class _Replaceable(DataStore[ItemT]):
    """A keyed store whose items can be replaced by scope (REST snapshots, WS lists)."""

    def _replace_scope(self, scope: Mapping[str, Any], items: Iterable[Item]) -> None:
        """Make the items matching ``scope`` exactly ``items``: upsert them, delete the rest.

        O(items + matches of scope's first key), thanks to the instType index.
        """
        items = list(items)
        keep = set()
        for item in items:
            try:
                keep.add(self._key_of(item))
            except (KeyError, TypeError):
                continue  # refused (and counted) by _update below
        stale = [pk for pk in self._match(scope) if pk not in keep]
        if stale:
            self._remove(stale)
        self._update(items)


class Ticker(DataStore[V2TickerItem]):
    """``ticker``: one item per instType+instId (latest push merged in). Keys: instType, instId."""

    _KEYS = ("instType", "instId")


class Candle(DataStore[V2CandleItem]):
    """``candle*``: items ``{instType, instId, granularity, startTime, openPr, highPr, lowPr,
    closePr, baseVolume, quoteVolume, usdtVolume}``; ``granularity`` is the channel
    name (``"candle1m"``). Keys: instType, instId, granularity, startTime."""

    _KEYS = ("instType", "instId", "granularity", "startTime")


class Trade(DataStore[V2TradeItem]):
    """``trade``: public trades (``ts, price, size, side, tradeId``). Keys: instType,
    instId, tradeId (a resent trade overwrites itself, never another). Up to 99999."""

    _KEYS = ("instType", "instId", "tradeId")
    _MAXLEN = 99999


class Account(DataStore[V2AccountItem]):
    """``account``: one item per instType and coin. Keys: instType, coin.

    Spot pushes carry ``coin``; futures pushes carry ``marginCoin``, copied to
    ``coin`` so every account item has the same key. (The reference library keyed
    by instType only and kept just the last coin.)
    """

    _KEYS = ("instType", "coin")


class Positions(_Replaceable[V2PositionItem]):
    """``positions`` (futures): current positions. Keys: instType, instId, posId.

    Every push lists all positions of its instType; positions of that instType
    missing from it are closed and removed. Other instTypes are untouched.
    Positions seeded by ``initialize()`` have no exchange ``posId`` (the REST
    endpoint returns none): they carry ``posId = "rest:<marginCoin>:<holdSide>"``
    until the next push of their instType replaces them.
    """

    _KEYS = ("instType", "instId", "posId")


class Fill(DataStore[V2FillItem]):
    """``fill``: own executions. Keys: instType, tradeId, symbol. Up to 99999."""

    _KEYS = ("instType", "tradeId", "symbol")
    _MAXLEN = 99999


class Orders(_Replaceable[V2OrderItem]):
    """``orders``: open orders. Keys: instType, instId, orderId.

    ``live``/``partially_filled`` upsert; ``filled``/``canceled``/``cancelled``
    remove. ``initialize()`` seeds it with REST items (REST field names, plus
    instType and instId).
    """

    _KEYS = ("instType", "instId", "orderId")


class OrdersAlgo(DataStore[V2OrderAlgoItem]):
    """``orders-algo``: open trigger orders. Keys: instType, instId, orderId.

    ``live``/``executing`` upsert; ``executed``/``fail_execute``/``cancelled`` remove.
    """

    _KEYS = ("instType", "instId", "orderId")


class PositionsHistory(DataStore[V2PositionHistoryItem]):
    """``positions-history``: closed positions. Keys: instType, instId, posId. Up to 99999."""

    _KEYS = ("instType", "instId", "posId")
    _MAXLEN = 99999


class BitgetV2DataStore(BitgetCollectionBase):
    """Bitget v2 (classic) stores, fed by ``onmessage(msg, ws)``.

    Stores: ``ticker``, ``candle``, ``book``, ``trade``, ``account``,
    ``positions``, ``fill``, ``orders``, ``orders_algo`` (``orders-algo``),
    ``positions_history`` (``positions-history``).

    ``initialize()`` accepts GET ``/api/v2/mix/order/orders-pending`` (needs the
    ``productType`` query), ``/api/v2/spot/trade/unfilled-orders`` and
    ``/api/v2/mix/position/all-position`` (needs ``productType``). Each response
    replaces the orders/positions of the scope it was asked for (productType,
    plus ``symbol``/``marginCoin`` when given). Only the first page is read
    (100 orders). A body with ``code != "00000"`` raises
    :class:`~datastores.ExchangeAPIError`.
    """

    _BOOK_DEPTHS: ClassVar[Mapping[str, int | None]] = {"books": None, **TOP_N_DEPTHS}

    _BOOK_STORE: ClassVar[str] = "book"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "ticker": "_on_ticker",
        "trade": "_on_trade",
        "account": "_on_account",
        "positions": "_on_positions",
        "fill": "_on_fill",
        "orders": "_on_orders",
        "orders-algo": "_on_orders_algo",
        "positions-history": "_on_positions_history",
    }
    _RESPONSES: ClassVar[Mapping[str, str]] = {
        "/api/v2/mix/order/orders-pending": "_seed_mix_orders",
        "/api/v2/spot/trade/unfilled-orders": "_seed_spot_orders",
        "/api/v2/mix/position/all-position": "_seed_positions",
    }
    _CANDLE_HANDLER: ClassVar[str | None] = "_on_candle"

    def _book_key(self, inst_type: str, inst_id: str) -> str:
        return self.book.book_key(inst_type, inst_id)

    def _book_key_text(self, inst_type: str, inst_id: str) -> str:
        return BitgetV2Book.key_text(inst_type, inst_id)

    # ------------------------------------------------------------ properties

    #: ``ticker`` channel. https://www.bitget.com/api-doc/spot/websocket/public/Tickers-Channel
    ticker = StoreField(Ticker)

    #: ``candle*`` channels. https://www.bitget.com/api-doc/spot/websocket/public/Candlesticks-Channel
    candle = StoreField(Candle)

    #: ``books*`` channels, verified. https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel
    book = StoreField(BitgetV2Book)

    #: ``trade`` channel. https://www.bitget.com/api-doc/spot/websocket/public/Trades-Channel
    trade = StoreField(Trade)

    #: ``account`` channel. https://www.bitget.com/api-doc/spot/websocket/private/Account-Channel
    account = StoreField(Account)

    #: ``positions`` channel. https://www.bitget.com/api-doc/contract/websocket/private/Positions-Channel
    positions = StoreField(Positions)

    #: ``fill`` channel. https://www.bitget.com/api-doc/spot/websocket/private/Fill-Channel
    fill = StoreField(Fill)

    #: ``orders`` channel. https://www.bitget.com/api-doc/contract/websocket/private/Order-Channel
    orders = StoreField(Orders)

    #: ``orders-algo`` channel. https://www.bitget.com/api-doc/contract/websocket/private/Plan-Order-Channel
    orders_algo = StoreField(OrdersAlgo, "orders-algo")

    #: ``positions-history`` channel.
    #: https://www.bitget.com/api-doc/contract/websocket/private/History-Positions-Channel
    positions_history = StoreField(PositionsHistory, "positions-history")

    # -------------------------------------------------------------- handlers

    def _inst_type(self, msg: Mapping[str, Any], arg: Mapping[str, Any]) -> str | None:
        return self._arg_text(msg, arg, "instType")

    def _on_ticker(self, msg: Any, ws: Any) -> None:
        """``{"action": "snapshot", "arg": {"instType": "SPOT", "channel": "ticker",
        "instId": "BTCUSDT"}, "data": [{"instId": "BTCUSDT", "lastPr": "27000.5", ...}]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is not None:
            store = self.ticker
            store._update([{"instType": inst_type, **x} for x in objects(store, data)])

    def _on_candle(self, msg: Any, ws: Any) -> None:
        """``{"action": "snapshot", "arg": {"instType": "SPOT", "channel": "candle1m",
        "instId": "BTCUSDT"}, "data": [["1695685500000", "27000", "27000.5", "27000",
        "27000.5", "0.057", "1539.0155", "1539.0155"]]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        inst_id = arg.get("instId")
        if inst_type is None:
            return
        store = self.candle
        head = {"instType": inst_type, "instId": inst_id, "granularity": arg["channel"]}
        items = candle_items(store, data, head, _CANDLE_FIELDS)
        if msg.get("action") == "snapshot":
            store._insert(items)
        else:
            store._update(items)

    def _on_trade(self, msg: Any, ws: Any) -> None:
        """``{"action": "update", "arg": {"instType": "SPOT", "channel": "trade",
        "instId": "BTCUSDT"}, "data": [{"ts": "1695709835822", "price": "26293.4",
        "size": "0.0013", "side": "buy", "tradeId": "1111111111"}]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is not None:
            store = self.trade
            inst_id = arg.get("instId")
            store._insert(
                [{"instType": inst_type, "instId": inst_id, **x} for x in objects(store, data)]
            )

    def _on_account(self, msg: Any, ws: Any) -> None:
        """Spot: ``{"arg": {"instType": "SPOT", "channel": "account", "coin": "default"},
        "data": [{"coin": "USDT", "available": "21.2", "frozen": "0", ...}]}``; futures
        items carry ``marginCoin`` instead of ``coin``."""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is None:
            return
        store = self.account
        items = []
        for x in objects(store, data):
            item = {"instType": inst_type, **x}
            if "coin" not in item and "marginCoin" in item:
                item["coin"] = item["marginCoin"]
            items.append(item)
        store._update(items)

    def _on_positions(self, msg: Any, ws: Any) -> None:
        """``{"action": "snapshot", "arg": {"instType": "USDT-FUTURES", "channel":
        "positions", "instId": "default"}, "data": [{"posId": "1", "instId": "ETHUSDT",
        "holdSide": "short", "total": "0.1", ...}]}`` (all positions of the instType)."""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is None:
            return
        store = self.positions
        items = [{"instType": inst_type, **x} for x in objects(store, data)]
        store._replace_scope({"instType": inst_type}, items)

    def _on_fill(self, msg: Any, ws: Any) -> None:
        """``{"arg": {"instType": "USDT-FUTURES", "channel": "fill", "instId": "default"},
        "data": [{"orderId": "1", "tradeId": "2", "symbol": "BTCUSDT", ...}]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is not None:
            store = self.fill
            store._insert([{"instType": inst_type, **x} for x in objects(store, data)])

    @staticmethod
    def _route_by_status(
        store: DataStore[Any],
        inst_type: str,
        data: list[Any],
        keep: frozenset[str],
        remove: frozenset[str],
    ) -> None:
        items = [{"instType": inst_type, **x} for x in objects(store, data)]
        route_by_status(store, items, keep, remove)

    def _on_orders(self, msg: Any, ws: Any) -> None:
        """``{"action": "snapshot", "arg": {"instType": "USDT-FUTURES", "channel": "orders",
        "instId": "default"}, "data": [{"orderId": "13", "instId": "BTCUSDT",
        "status": "live", ...}]}`` (only the orders that changed)."""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is not None:
            self._route_by_status(self.orders, inst_type, data, _ORDER_OPEN, _ORDER_DONE)

    def _on_orders_algo(self, msg: Any, ws: Any) -> None:
        """``{"arg": {"instType": "USDT-FUTURES", "channel": "orders-algo", "instId":
        "default"}, "data": [{"instId": "BTCUSDT", "orderId": "1", "status": "live", ...}]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is not None:
            self._route_by_status(self.orders_algo, inst_type, data, _ALGO_OPEN, _ALGO_DONE)

    def _on_positions_history(self, msg: Any, ws: Any) -> None:
        """``{"arg": {"instType": "USDT-FUTURES", "channel": "positions-history", "instId":
        "default"}, "data": [{"posId": "1", "instId": "BTCUSDT", "pnl": "0.1", ...}]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_type = self._inst_type(msg, arg)
        if inst_type is not None:
            store = self.positions_history
            store._insert([{"instType": inst_type, **x} for x in objects(store, data)])

    # ------------------------------------------------------------------- REST

    @staticmethod
    def _product_type(resp: ClientResponse) -> str:
        product_type = resp.url.query.get("productType")
        if not product_type:
            raise ValueError(
                f"bitget {resp.method} {resp.url.path}: the productType query parameter "
                "is needed to know which instType the response covers"
            )
        # The docs accept "usdt-futures"; WS args always say "USDT-FUTURES".
        return product_type.upper()

    def _seed_orders(self, inst_type: str, symbol: str | None, rows: Any) -> None:
        store = self.orders
        items = []
        for x in objects(store, rows if isinstance(rows, list) else []):
            item = {**x, "instType": inst_type}
            if isinstance(x.get("symbol"), str):
                # REST examples show "btcusdt"; WS instIds are upper case.
                item["instId"] = x["symbol"].upper()
            items.append(item)
        scope: dict[str, Any] = {"instType": inst_type}
        if symbol:
            scope["instId"] = symbol.upper()
        store._replace_scope(scope, items)

    def _seed_mix_orders(self, resp: ClientResponse, data: Any) -> None:
        """GET /api/v2/mix/order/orders-pending: ``data.entrustedList`` (may be null).
        https://www.bitget.com/api-doc/contract/trade/Get-Orders-Pending"""
        rows = data.get("entrustedList") if isinstance(data, Mapping) else None
        self._seed_orders(self._product_type(resp), resp.url.query.get("symbol"), rows)

    def _seed_spot_orders(self, resp: ClientResponse, data: Any) -> None:
        """GET /api/v2/spot/trade/unfilled-orders: ``data`` is the list of open orders.
        https://www.bitget.com/api-doc/spot/trade/Get-Unfilled-Orders"""
        self._seed_orders("SPOT", resp.url.query.get("symbol"), data)

    def _seed_positions(self, resp: ClientResponse, data: Any) -> None:
        """GET /api/v2/mix/position/all-position: ``data`` is the list of positions.
        https://www.bitget.com/api-doc/contract/position/get-all-position"""
        inst_type = self._product_type(resp)
        store = self.positions
        items = []
        for x in objects(store, data if isinstance(data, list) else []):
            item = {**x, "instType": inst_type}
            if isinstance(x.get("symbol"), str):
                item["instId"] = x["symbol"].upper()
            if "posId" not in item:
                item["posId"] = f"rest:{x.get('marginCoin')}:{x.get('holdSide')}"
            items.append(item)
        scope: dict[str, Any] = {"instType": inst_type}
        margin_coin = resp.url.query.get("marginCoin")
        if margin_coin:
            scope["marginCoin"] = margin_coin.upper()
        store._replace_scope(scope, items)
