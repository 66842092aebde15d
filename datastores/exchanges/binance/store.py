"""Binance DataStore collections: Spot, USDⓈ-M futures and COIN-M futures.

Feed a collection with decoded WebSocket messages (``hdlr_json=store.onmessage``)
and bootstrap it with REST responses (``await store.initialize(client.get(...))``).
Raw streams, combined streams and Spot WebSocket-API user data are all
understood; see :mod:`._base` for routing and ``docs/exchanges/binance.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from yarl import URL

from ..._store import Item
from ..._storefield import StoreField
from ._base import BinanceBase
from ._books import BinanceFuturesOrderBook, BinanceSpotOrderBook
from ._stores import (
    Account,
    Balance,
    CompositeIndex,
    ContinuousKline,
    IndexPrice,
    Kline,
    Liquidation,
    MarkPrice,
    OCOOrder,
    Position,
)
from ._streams import query_param

__all__ = ["BinanceCOINMDataStore", "BinanceSpotDataStore", "BinanceUSDSMDataStore"]

logger = logging.getLogger("datastores.exchanges.binance")


class BinanceSpotDataStore(BinanceBase):
    """Binance Spot: market streams, order book, and the account's user data.

    Stores: ``trade``, ``kline``, ``ticker``, ``bookticker``, ``orderbook``,
    ``partialbook``, ``order``, ``account``, ``ocoorder``.

    User data comes from the WebSocket API (``userDataStream.subscribe.signature``
    on ``wss://ws-api.binance.com:443/ws-api/v3``); its ``{"subscriptionId",
    "event"}`` messages are routed like stream events. Binance retired the Spot
    listenKey endpoints on 2026-02-20; ``POST /api/v3/userDataStream`` is still
    accepted by ``initialize()`` for deployments that keep it.

    ``initialize()`` endpoints: ``GET /api/v3/depth`` (``symbol`` required),
    ``/api/v3/openOrders``, ``/api/v3/klines``, ``/api/v3/account``,
    ``/api/v3/openOrderList``, ``POST /api/v3/userDataStream``.
    """

    _REST_HOST = "api.binance.com"
    _DEPTH_PATH = "/api/v3/depth"
    _DEPTH_LIMIT = 5000
    _ORDER_PATH = "/api/v3/openOrders"
    _LISTENKEY_PATH = "/api/v3/userDataStream"
    _KLINE_PATH = "/api/v3/klines"
    # balanceUpdate / externalLockUpdate are deltas; the absolute balances follow in
    # outboundAccountPosition, which the account store keeps.
    _IGNORED = frozenset({"balanceUpdate", "externalLockUpdate"})
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "executionReport": "_on_execution_report",
        "listStatus": "_on_list_status",
        "outboundAccountPosition": "_on_account_position",
        "eventStreamTerminated": "_on_stream_terminated",
    }

    #: Spot diff-depth order books (``depthUpdate`` + REST snapshots), kept in sync.
    orderbook = StoreField(BinanceSpotOrderBook)
    #: Balances (``outboundAccountPosition``), keyed by asset ``a``.
    account = StoreField(Account)
    #: Open order lists (``listStatus``), keyed by ``s`` and ``g``.
    ocoorder = StoreField(OCOOrder)

    def _init(self) -> None:
        super()._init()
        self._spot_book: BinanceSpotOrderBook = self.orderbook

    def _on_depth(self, msg: dict[str, Any], ws: Any) -> None:
        # The hot path: raw or combined ``depthUpdate``.
        if ws is not self._depth_ws:
            self._note_depth_ws(ws)
        self._spot_book._on_diff(msg["s"], msg["U"], msg["u"], None, msg["a"], msg["b"])

    def _on_execution_report(self, msg: Item, ws: Any) -> None:
        self.order._on_order(msg)

    def _on_list_status(self, msg: Item, ws: Any) -> None:
        self.ocoorder._onmessage(msg)

    def _on_account_position(self, msg: Item, ws: Any) -> None:
        self.account._onmessage(msg)

    def _on_stream_terminated(self, msg: Item, ws: Any) -> None:
        self._subscriptions.clear()
        logger.warning(
            "%s: Binance terminated the user data stream; orders and balances are no "
            "longer updated until userDataStream.subscribe is sent again",
            type(self).__name__,
        )

    def _keepalive_params(self) -> dict[str, str] | None:
        # Spot's PUT names the key; futures' does not need it.
        return {"listenKey": self.listenkey} if self.listenkey else None

    def _onresponse_extra(self, url: URL, path: str, data: Any) -> bool:
        if path.endswith("/api/v3/account"):
            self.account._onresponse(data)
        elif path.endswith("/api/v3/openOrderList"):
            self.ocoorder._onresponse(data)
        else:
            return False
        return True


class _BinanceFuturesBase(BinanceBase):
    """What USDⓈ-M and COIN-M share: futures depth rules, private events, mark price."""

    _DEPTH_LIMIT = 1000
    _PARTIAL_HAS_EVENT = True
    _BALANCE_PATHS: tuple[str, ...] = ()
    _POSITION_PATHS: tuple[str, ...] = ()
    # Events with nothing for the reference stores to keep (fast fills duplicate
    # ORDER_TRADE_UPDATE; configuration, margin-call and algo/strategy events).
    _IGNORED = frozenset(
        {
            "TRADE_LITE",
            "ACCOUNT_CONFIG_UPDATE",
            "MARGIN_CALL",
            "STRATEGY_UPDATE",
            "GRID_UPDATE",
            "CONDITIONAL_ORDER_TRIGGER_REJECT",
            "ALGO_UPDATE",
        }
    )

    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "ORDER_TRADE_UPDATE": "_on_order_trade_update",
        "ACCOUNT_UPDATE": "_on_account_update",
        "markPriceUpdate": "_on_markprice",
        "continuous_kline": "_on_continuous_kline",
        "forceOrder": "_on_force_order",
    }

    #: Futures diff-depth order books (``depthUpdate`` + REST snapshots), kept in sync.
    orderbook = StoreField(BinanceFuturesOrderBook)
    #: ``markPriceUpdate``, keyed by ``s``.
    markprice = StoreField(MarkPrice)
    #: ``continuous_kline``, keyed by ``ps``, ``ct``, ``t``, ``i``.
    continuouskline = StoreField(ContinuousKline)
    #: ``forceOrder`` orders (keyless, newest last).
    liquidation = StoreField(Liquidation)
    #: Wallet balances (``ACCOUNT_UPDATE`` ``a.B``), keyed by asset ``a``.
    balance = StoreField(Balance)
    #: Positions (``ACCOUNT_UPDATE`` ``a.P``), keyed by ``s`` and ``ps``.
    position = StoreField(Position)

    def _init(self) -> None:
        super()._init()
        self._futures_book: BinanceFuturesOrderBook = self.orderbook

    def _on_depth(self, msg: dict[str, Any], ws: Any) -> None:
        # The hot path: raw or combined ``depthUpdate``.
        if ws is not self._depth_ws:
            self._note_depth_ws(ws)
        if self._depth_ws_partial is not None:
            # A raw connection to one partial-depth stream: same event type, but
            # each message is a top-N snapshot.
            self._on_futures_partial(msg)
            return
        self._futures_book._on_diff(msg["s"], msg["U"], msg["u"], msg["pu"], msg["a"], msg["b"])

    def _on_order_trade_update(self, msg: Item, ws: Any) -> None:
        self.order._on_order(msg["o"])

    def _on_account_update(self, msg: Item, ws: Any) -> None:
        self.balance._onmessage(msg)
        self.position._onmessage(msg)

    def _on_markprice(self, msg: Any, ws: Any) -> None:
        self.markprice._onmessage(msg)

    def _on_continuous_kline(self, msg: Item, ws: Any) -> None:
        self.continuouskline._onmessage(msg)

    def _on_force_order(self, msg: Item, ws: Any) -> None:
        self.liquidation._onmessage(msg)

    def _onresponse_extra(self, url: URL, path: str, data: Any) -> bool:
        if path.endswith(self._BALANCE_PATHS):
            self.balance._onresponse(data)
        elif path.endswith(self._POSITION_PATHS):
            self.position._onresponse(data)
        else:
            return False
        return True


class BinanceUSDSMDataStore(_BinanceFuturesBase):
    """Binance USDⓈ-M futures: market streams, order book, and the account's user data.

    Stores: ``trade``, ``kline``, ``ticker``, ``bookticker``, ``orderbook``,
    ``partialbook``, ``order``, ``markprice``, ``continuouskline``,
    ``liquidation``, ``balance``, ``position``, ``compositeindex``.

    ``initialize()`` endpoints: ``GET /fapi/v1/depth`` (``symbol`` required),
    ``/fapi/v1/openOrders``, ``/fapi/v1/klines``, ``/fapi/v2|v3/balance``,
    ``/fapi/v2|v3/positionRisk``, ``/fapi/v1/indexInfo``, ``POST /fapi/v1/listenKey``
    (starts the keepalive; :attr:`listenkey`).
    """

    _REST_HOST = "fapi.binance.com"
    _DEPTH_PATH = "/fapi/v1/depth"
    _ORDER_PATH = "/fapi/v1/openOrders"
    _LISTENKEY_PATH = "/fapi/v1/listenKey"
    _KLINE_PATH = "/fapi/v1/klines"
    _BALANCE_PATHS = ("/fapi/v2/balance", "/fapi/v3/balance")
    _POSITION_PATHS = ("/fapi/v2/positionRisk", "/fapi/v3/positionRisk")

    _CHANNELS: ClassVar[Mapping[str, str]] = {"compositeIndex": "_on_composite_index"}

    #: Composite index constituents (``compositeIndex``), keyed by ``s``.
    compositeindex = StoreField(CompositeIndex)

    def _on_composite_index(self, msg: Item, ws: Any) -> None:
        self.compositeindex._onmessage(msg)

    def _onresponse_extra(self, url: URL, path: str, data: Any) -> bool:
        if path.endswith("/fapi/v1/indexInfo"):
            self.compositeindex._onresponse(data)
            return True
        return super()._onresponse_extra(url, path, data)


class BinanceCOINMDataStore(_BinanceFuturesBase):
    """Binance COIN-M futures: market streams, order book, and the account's user data.

    Stores: ``trade``, ``kline``, ``ticker``, ``bookticker``, ``orderbook``,
    ``partialbook``, ``order``, ``markprice``, ``continuouskline``,
    ``liquidation``, ``balance``, ``position``, ``indexprice``,
    ``indexpricekline``, ``markpricekline``.

    ``initialize()`` endpoints: ``GET /dapi/v1/depth`` (``symbol`` required),
    ``/dapi/v1/openOrders``, ``/dapi/v1/klines``, ``/dapi/v1/indexPriceKlines``
    (``pair``), ``/dapi/v1/markPriceKlines``, ``/dapi/v1/balance``,
    ``/dapi/v1/positionRisk``, ``POST /dapi/v1/listenKey``.
    """

    _REST_HOST = "dapi.binance.com"
    _DEPTH_PATH = "/dapi/v1/depth"
    _ORDER_PATH = "/dapi/v1/openOrders"
    _LISTENKEY_PATH = "/dapi/v1/listenKey"
    _KLINE_PATH = "/dapi/v1/klines"
    _BALANCE_PATHS = ("/dapi/v1/balance",)
    _POSITION_PATHS = ("/dapi/v1/positionRisk",)

    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "indexPriceUpdate": "_on_index_price",
        "indexPrice_kline": "_on_index_price_kline",
        "markPrice_kline": "_on_mark_price_kline",
    }

    #: ``indexPriceUpdate``, keyed by pair ``i``.
    indexprice = StoreField(IndexPrice)
    #: ``indexPrice_kline`` candles (``s`` is the pair), keyed by ``t``, ``s``, ``i``.
    indexpricekline = StoreField(Kline)
    #: ``markPrice_kline`` candles, keyed by ``t``, ``s``, ``i``.
    markpricekline = StoreField(Kline)

    def _on_index_price(self, msg: Item, ws: Any) -> None:
        self.indexprice._onmessage(msg)

    def _on_index_price_kline(self, msg: Item, ws: Any) -> None:
        # The candle names no symbol; key it by the pair (a new dict: the message
        # may be shared with other handlers).
        self.indexpricekline._update([{**msg["k"], "s": msg["ps"]}])

    def _on_mark_price_kline(self, msg: Item, ws: Any) -> None:
        self.markpricekline._onmessage(msg)

    def _onresponse_extra(self, url: URL, path: str, data: Any) -> bool:
        if path.endswith("/dapi/v1/indexPriceKlines"):
            self.indexpricekline._onresponse(
                query_param(url, "pair"), query_param(url, "interval"), data
            )
        elif path.endswith("/dapi/v1/markPriceKlines"):
            self.markpricekline._onresponse(
                query_param(url, "symbol"), query_param(url, "interval"), data
            )
        else:
            return super()._onresponse_extra(url, path, data)
        return True
