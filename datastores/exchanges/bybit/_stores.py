"""Bybit V5 stores other than the order book (public market data and private topics).

Each store takes already-validated lists of item dicts from
:class:`~datastores.exchanges.bybit.store.BybitDataStore` and never mutates the
incoming message: where a field must be added (the kline symbol, REST
``category``) or merged (wallet coins), a new dict is built.

Item shapes and keys follow the reference library's ``BybitDataStore`` so user
code ports by changing the import.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import ClassVar, cast

from ..._store import DataStore, Item
from ._items import (
    AllLiquidationItem,
    ExecutionItem,
    GreekItem,
    KlineItem,
    LiquidationItem,
    LTNavItem,
    OrderItem,
    PositionItem,
    TickerItem,
    TradeItem,
    WalletItem,
)

__all__ = [
    "ACTIVE_ORDER_STATUSES",
    "CLOSED_ORDER_STATUSES",
    "AllLiquidation",
    "Execution",
    "Greek",
    "Kline",
    "LTKline",
    "LTNav",
    "LTTicker",
    "Liquidation",
    "Order",
    "Position",
    "Ticker",
    "Trade",
    "Wallet",
]

logger = logging.getLogger("datastores.exchanges.bybit")

#: order statuses of a live order: the order is upserted.
#: https://bybit-exchange.github.io/docs/v5/enum#orderstatus
ACTIVE_ORDER_STATUSES = frozenset({"Created", "New", "PartiallyFilled", "Untriggered", "Active"})
#: order statuses after which the order leaves the store. ``Triggered`` is included
#: as in the reference library: a triggered conditional order comes back as ``New``
#: (same orderId) and is inserted again.
CLOSED_ORDER_STATUSES = frozenset(
    {
        "Rejected",
        "PartiallyFilledCanceled",
        "Filled",
        "Cancelled",
        "Triggered",
        "Deactivated",
    }
)


class Trade(DataStore[TradeItem]):
    """``publicTrade.{symbol}``: public trades, newest last (keyless, at most 99 999).

    Items: ``{"T": ms, "s": symbol, "S": "Buy"|"Sell", "v": size, "p": price,
    "L": tick direction, "i": trade id, "BT": block trade, ...}`` as sent.
    https://bybit-exchange.github.io/docs/v5/websocket/public/trade
    """

    _MAXLEN = 99999


class Ticker(DataStore[TickerItem]):
    """``tickers.{symbol}``: one item per ``symbol``; deltas (linear, inverse,
    option) are merged into the last snapshot. O(1) per update.
    https://bybit-exchange.github.io/docs/v5/websocket/public/ticker
    """

    _KEYS = ("symbol",)


class Kline(DataStore[KlineItem]):
    """``kline.{interval}.{symbol}``: candles keyed by ``symbol``, ``start``, ``end``.

    ``symbol`` is taken from the topic (the exchange does not send it); the
    open candle is updated in place until ``confirm`` is true.
    https://bybit-exchange.github.io/docs/v5/websocket/public/kline
    """

    _KEYS = ("symbol", "start", "end")

    def _on_candles(self, symbol: str, candles: Iterable[Item]) -> None:
        # A new dict per candle: the decoded message may be shared with other handlers.
        self._update([{"symbol": symbol, **candle} for candle in candles])


class AllLiquidation(DataStore[AllLiquidationItem]):
    """``allLiquidation.{symbol}``: every liquidation (keyless, at most 99 999).
    https://bybit-exchange.github.io/docs/v5/websocket/public/all-liquidation
    """

    _MAXLEN = 99999


class LTKline(Kline):
    """``kline_lt.{interval}.{symbol}``: leveraged-token candles (as :class:`Kline`).
    https://bybit-exchange.github.io/docs/v5/websocket/public/etp-kline
    """


class LTTicker(Ticker):
    """``tickers_lt.{symbol}``: leveraged-token tickers, keyed by ``symbol``.
    https://bybit-exchange.github.io/docs/v5/websocket/public/etp-ticker
    """


class LTNav(DataStore[LTNavItem]):
    """``lt.{symbol}``: leveraged-token net asset value, keyed by ``symbol``.
    https://bybit-exchange.github.io/docs/v5/websocket/public/etp-nav
    """

    _KEYS = ("symbol",)


class Liquidation(DataStore[LiquidationItem]):
    """``liquidation.{symbol}`` (superseded by ``allLiquidation``): keyless, at most 99 999.
    https://bybit-exchange.github.io/docs/v5/websocket/public/liquidation
    """

    _MAXLEN = 99999


class Position(DataStore[PositionItem]):
    """``position`` / ``position.{category}``: one item per ``symbol`` and ``positionIdx``.

    Every message is a full position object; a flat position stays as an item
    with ``size`` ``"0"`` (as in the reference library). O(1) per update.
    https://bybit-exchange.github.io/docs/v5/websocket/private/position
    """

    _KEYS = ("symbol", "positionIdx")

    def _on_rest(self, category: str | None, items: Iterable[Item]) -> None:
        """Apply ``GET /v5/position/list`` rows (``category`` added when missing)."""
        self._update(_with_category(items, category))


class Execution(DataStore[ExecutionItem]):
    """``execution`` / ``execution.{category}``: own fills (keyless, at most 99 999).
    https://bybit-exchange.github.io/docs/v5/websocket/private/execution
    """

    _MAXLEN = 99999


class Order(DataStore[OrderItem]):
    """``order`` / ``order.{category}``: live orders only, keyed by ``orderId``.

    A live status (:data:`ACTIVE_ORDER_STATUSES`) upserts the order (fields
    merged); a final one (:data:`CLOSED_ORDER_STATUSES`) deletes it and every
    order with the same non-empty ``orderLinkId`` (spot conditional orders get
    a new orderId when triggered). An unknown status keeps the order visible
    (upsert) and is logged once per status value, at WARNING for the first
    ``_MAX_UNKNOWN_STATUSES`` values and at DEBUG after that (junk statuses
    neither flood the log nor grow the store). O(1) per order
    (``orderLinkId`` is indexed).
    https://bybit-exchange.github.io/docs/v5/websocket/private/order
    """

    _KEYS = ("orderId",)
    _INDEXES: ClassVar[tuple[str, ...] | None] = ("orderLinkId",)
    #: unknown status values remembered (and warned about) at most
    _MAX_UNKNOWN_STATUSES: ClassVar[int] = 16

    def _init(self) -> None:
        self._unknown_statuses: set[object] = set()

    def _on_orders(self, items: Iterable[Item]) -> None:
        # One order at a time, in message order: a message may carry the same
        # order twice (New then Filled) and the last state must win.
        for item in items:
            status = item.get("orderStatus")
            if status in CLOSED_ORDER_STATUSES:
                self._delete([item])
                link = item.get("orderLinkId")
                if link:
                    linked = self.find({"orderLinkId": link})
                    if linked:
                        self._delete(cast("list[Item]", linked))
            else:
                if status not in ACTIVE_ORDER_STATUSES and status not in self._unknown_statuses:
                    seen = self._unknown_statuses
                    if len(seen) < self._MAX_UNKNOWN_STATUSES:
                        seen.add(status)
                    logger.log(
                        logging.WARNING if status in seen else logging.DEBUG,
                        "bybit order: unknown orderStatus %.64r (order kept as live); "
                        "please report it so the lifecycle table can be updated",
                        status,
                    )
                self._update([item])

    def _on_rest(self, query: Mapping[str, str], category: str | None, items: list[Item]) -> None:
        """Apply ``GET /v5/order/realtime``.

        The response is the complete set of open orders for its filter, so the
        orders of the same ``category`` matching that filter (``symbol``, else
        ``baseCoin`` as a symbol prefix, else ``settleCoin`` as a suffix, else the
        whole category) are replaced. Nothing is removed for a later page
        (``cursor``), a single-order query (``orderId``/``orderLinkId``) or a
        history query (``openOnly`` other than 0), whose responses are partial.
        Rows with a final status (history queries) are not stored.
        """
        partial = any(k in query for k in ("cursor", "orderId", "orderLinkId")) or (
            query.get("openOnly", "0") != "0"
        )
        if category and not partial:
            scope = self.find({"category": category})
            if "symbol" in query:
                symbol = query["symbol"]
                scope = [o for o in scope if o.get("symbol") == symbol]
            elif "baseCoin" in query:
                base = query["baseCoin"]
                scope = [o for o in scope if str(o.get("symbol", "")).startswith(base)]
            elif "settleCoin" in query:
                settle = query["settleCoin"]
                scope = [o for o in scope if str(o.get("symbol", "")).endswith(settle)]
            # Orders still open keep their item (no delete+insert flicker for watchers).
            still_open = {item.get("orderId") for item in items}
            gone = [o for o in scope if o.get("orderId") not in still_open]
            if gone:
                self._delete(cast("list[Item]", gone))
        self._on_orders(_with_category(items, category, overwrite=True))


class Wallet(DataStore[WalletItem]):
    """``wallet``: one item per ``accountType``.

    An update's ``coin`` list is merged by ``coin`` into the stored one: coins
    in the update replace the stored ones, coins absent from it are kept (the
    exchange sends only changed coins). O(coins) per update.
    https://bybit-exchange.github.io/docs/v5/websocket/private/wallet
    """

    _KEYS = ("accountType",)

    def _on_wallets(self, items: Iterable[Item]) -> None:
        merged_items = []
        for item in items:
            old = self.get(item)
            coins = item.get("coin")
            if old is not None and isinstance(coins, list):
                old_coins = old.get("coin")
                if isinstance(old_coins, list):
                    seen = {c.get("coin") for c in coins if isinstance(c, Mapping)}
                    kept = [
                        c for c in old_coins if isinstance(c, Mapping) and c.get("coin") not in seen
                    ]
                    if kept:
                        item = {**item, "coin": [*coins, *kept]}
            merged_items.append(item)
        self._update(merged_items)


class Greek(DataStore[GreekItem]):
    """``greeks``: option greeks per ``baseCoin`` (merged updates).
    https://bybit-exchange.github.io/docs/v5/websocket/private/greek
    """

    _KEYS = ("baseCoin",)


def _with_category(
    items: Iterable[Item], category: str | None, *, overwrite: bool = False
) -> list[Item]:
    """New dicts with ``category`` set (REST rows omit it; WS rows carry it)."""
    if not category:
        return list(items)
    if overwrite:
        return [{**item, "category": category} for item in items]
    return [item if "category" in item else {**item, "category": category} for item in items]
