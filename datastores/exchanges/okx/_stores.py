"""OKX stores other than order books: one small class per channel family.

Each ``_on_data(items, arg)`` receives the message's ``data`` items already
checked to be dicts (candles: lists) and the subscription ``arg``. Keys and
update/insert/delete semantics follow the reference library's documented API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ..._store import DataStore, Item, ItemT
from ._items import (
    AccountDetailItem,
    AccountGreeksItem,
    AccountItem,
    AlgoOrderItem,
    BalanceAndPositionItem,
    BalanceItem,
    CandleItem,
    EstimatedPriceItem,
    FundingRateItem,
    IndexTickerItem,
    InstrumentItem,
    LiquidationWarningItem,
    MarkPriceItem,
    OpenInterestItem,
    OptSummaryItem,
    OrderItem,
    PositionItem,
    PriceLimitItem,
    StatusItem,
    TickerItem,
    TradeItem,
)

__all__ = [
    "Account",
    "AccountDetails",
    "AccountGreeks",
    "AlgoAdvance",
    "BalanceAndPosition",
    "Candle",
    "ChannelStore",
    "EstimatedPrice",
    "FundingRate",
    "Generic",
    "IndexCandle",
    "IndexTickers",
    "Instruments",
    "LiquidationWarning",
    "MarkPrice",
    "MarkPriceCandle",
    "OpenInterest",
    "OptSummary",
    "Orders",
    "OrdersAlgo",
    "Positions",
    "PriceLimit",
    "Status",
    "Tickers",
    "Trades",
]


class ChannelStore(DataStore[ItemT]):
    """A store fed by one channel family: the collection hands it the ``data``
    items of each message (already checked to be objects; candle rows: arrays)."""

    def _on_data(self, items: list[Any], arg: Mapping[str, Any]) -> None:
        """Apply one message's ``data`` with its subscription ``arg``."""
        raise NotImplementedError


class _ByInstrument(ChannelStore[ItemT]):
    """Latest item per ``instId``; every push merges into it."""

    _KEYS = ("instId",)

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        self._update(items)


class Instruments(_ByInstrument[InstrumentItem]):
    """``instruments`` channel: instrument specs by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-instruments-channel"""


class Tickers(_ByInstrument[TickerItem]):
    """``tickers`` channel: last price, best bid/ask, 24h stats by ``instId``.
    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel"""


class OpenInterest(_ByInstrument[OpenInterestItem]):
    """``open-interest`` channel, by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-open-interest-channel"""


class EstimatedPrice(_ByInstrument[EstimatedPriceItem]):
    """``estimated-price`` channel (delivery/exercise price), by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-estimated-delivery-exercise-price-channel"""


class MarkPrice(_ByInstrument[MarkPriceItem]):
    """``mark-price`` channel, by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-channel"""


class PriceLimit(_ByInstrument[PriceLimitItem]):
    """``price-limit`` channel (buyLmt/sellLmt), by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-price-limit-channel"""


class OptSummary(_ByInstrument[OptSummaryItem]):
    """``opt-summary`` channel (option greeks), by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-option-summary-channel"""


class FundingRate(_ByInstrument[FundingRateItem]):
    """``funding-rate`` channel, by ``instId``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-funding-rate-channel"""


class IndexTickers(_ByInstrument[IndexTickerItem]):
    """``index-tickers`` channel, by ``instId`` (e.g. ``BTC-USDT``).
    https://www.okx.com/docs-v5/en/#public-data-websocket-index-tickers-channel"""


class LiquidationWarning(_ByInstrument[LiquidationWarningItem]):
    """``liquidation-warning`` channel (positions near liquidation), by ``instId``
    as in the reference library.
    https://www.okx.com/docs-v5/en/#trading-account-websocket-position-risk-warning"""


class AccountGreeks(ChannelStore[AccountGreeksItem]):
    """``account-greeks`` channel, by ``ccy``.
    https://www.okx.com/docs-v5/en/#trading-account-websocket-account-greeks-channel"""

    _KEYS = ("ccy",)

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        self._update(items)


class _Candles(ChannelStore[CandleItem]):
    """Candles as dicts keyed by ``channel``/``instId``/``ts``; the subscription
    ``arg`` (channel, instId) is merged into each item. A candle is updated in
    place until ``confirm`` is ``"1"``."""

    _KEYS = ("channel", "instId", "ts")
    _FIELDS: ClassVar[tuple[str, ...]] = ("ts", "o", "h", "l", "c", "confirm")

    def _on_data(self, items: Sequence[Any], arg: Mapping[str, Any]) -> None:
        fields = self._FIELDS
        self._update([{**arg, **dict(zip(fields, row, strict=False))} for row in items])


class Candle(_Candles):
    """``candle{bar}`` channels (``candle1m``, ``candle1H``, ``candle1Dutc``...).
    Fields ``ts o h l c vol volCcy volCcyQuote confirm``.
    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-candlesticks-channel"""

    _FIELDS = ("ts", "o", "h", "l", "c", "vol", "volCcy", "volCcyQuote", "confirm")


class MarkPriceCandle(_Candles):
    """``mark-price-candle{bar}`` channels. Fields ``ts o h l c confirm``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-mark-price-candlesticks-channel"""


class IndexCandle(_Candles):
    """``index-candle{bar}`` channels. Fields ``ts o h l c confirm``.
    https://www.okx.com/docs-v5/en/#public-data-websocket-index-candlesticks-channel"""


class _Log(ChannelStore[ItemT]):
    """Append log (no keys), oldest items leave first past ``_MAXLEN``."""

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        self._insert(items)


class Trades(_Log[TradeItem]):
    """``trades`` channel: one item per trade, in arrival order.
    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-trades-channel"""


class Status(_Log[StatusItem]):
    """``status`` channel: system maintenance notices.
    https://www.okx.com/docs-v5/en/#status-ws-status-channel"""


class Generic(_Log[dict[str, Any]]):
    """Any channel this collection has no dedicated store for (``fills``,
    ``trades-all``, ``liquidation-orders``...): data objects appended as received."""


class AccountDetails(DataStore[AccountDetailItem]):
    """Per-currency balances from the ``account`` channel's ``details``, by ``ccy``."""

    _KEYS = ("ccy",)


class Account(ChannelStore[AccountItem]):
    """``account`` channel: the latest account summary (each push replaces the
    store, as in the reference library).

    Attributes:
        details: per-currency ``details`` merged by ``ccy``. OKX pushes only the
            changed currencies, and splits a large initial snapshot across several
            messages, so the latest summary alone does not hold every currency.

    https://www.okx.com/docs-v5/en/#trading-account-websocket-account-channel
    """

    def _init(self) -> None:
        self.details = AccountDetails("account.details")

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        self._clear()
        self._insert(items)
        for item in items:
            details = item.get("details")
            if isinstance(details, list):
                self.details._update([d for d in details if isinstance(d, dict)])


class Positions(ChannelStore[PositionItem]):
    """``positions`` channel, by ``instId``/``mgnMode``/``posSide``.
    https://www.okx.com/docs-v5/en/#trading-account-websocket-positions-channel"""

    _KEYS = ("instId", "mgnMode", "posSide")

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        self._update(items)


class _Balance(DataStore[BalanceItem]):
    _KEYS = ("ccy",)


class _Position(DataStore[PositionItem]):
    _KEYS = ("instId", "mgnMode", "posSide")


class BalanceAndPosition(ChannelStore[BalanceAndPositionItem]):
    """``balance_and_position`` channel: each push appended as received.

    Attributes:
        balance: ``balData`` rows merged by ``ccy``.
        position: ``posData`` rows merged by ``instId``/``mgnMode``/``posSide``.

    https://www.okx.com/docs-v5/en/#trading-account-websocket-balance-and-position-channel
    """

    def _init(self) -> None:
        self.balance: DataStore[BalanceItem] = _Balance("balance_and_position.balance")
        self.position: DataStore[PositionItem] = _Position("balance_and_position.position")

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        self._insert(items)
        for item in items:
            bal = item.get("balData")
            if isinstance(bal, list):
                self.balance._update([b for b in bal if isinstance(b, dict)])
            pos = item.get("posData")
            if isinstance(pos, list):
                self.position._update([p for p in pos if isinstance(p, dict)])


class _LiveOrders(ChannelStore[ItemT]):
    """Keeps an order while its ``state`` is one of ``_LIVE``; deletes it otherwise."""

    _LIVE: ClassVar[frozenset[str]] = frozenset()

    def _on_data(self, items: list[Item], arg: Mapping[str, Any]) -> None:
        live = self._LIVE
        keep: list[Item] = []
        gone: list[Item] = []
        for item in items:
            state = item.get("state")
            if not isinstance(state, str):
                # Never let a malformed push delete a live order.
                self._refuse(item, "missing order state")
            elif state in live:
                keep.append(item)
            else:
                gone.append(item)
        if keep:
            self._update(keep)
        if gone:
            self._delete(gone)


class Orders(_LiveOrders[OrderItem]):
    """``orders`` channel: open orders by ``ordId`` (``live``/``partially_filled``);
    filled or canceled orders are removed. OKX sends nothing on subscribe: seed
    with ``initialize(client.get(".../api/v5/trade/orders-pending"))``.
    https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel"""

    _KEYS = ("ordId",)
    _LIVE = frozenset({"live", "partially_filled"})


class OrdersAlgo(_LiveOrders[AlgoOrderItem]):
    """``orders-algo`` channel: algo orders by ``algoId`` while ``live`` (and, as in
    the reference library, ``order_failed``).
    https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-algo-orders-channel"""

    _KEYS = ("algoId",)
    _LIVE = frozenset({"live", "order_failed"})
    #: ordType values that ``orders-algo-pending`` responses contribute here
    ORD_TYPES: ClassVar[frozenset[str]] = frozenset({"conditional", "oco", "trigger"})


class AlgoAdvance(_LiveOrders[AlgoOrderItem]):
    """``algo-advance`` channel (iceberg, twap, trailing stop) by ``algoId``.
    https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-advance-algo-orders-channel"""

    _KEYS = ("algoId",)
    _LIVE = frozenset({"live", "partially_filled"})
    ORD_TYPES: ClassVar[frozenset[str]] = frozenset({"iceberg", "twap", "move_order_stop"})
