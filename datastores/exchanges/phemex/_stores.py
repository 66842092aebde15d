"""Phemex stores other than the book: trades, klines, tickers, 24 h statistics and
the private account/order/position (AOP) and spot wallet/order (``wo``) stores.

Each store parses its part of a message and returns how many rows it could not
read (the collection counts them as dropped). Docs:
https://phemex-docs.github.io/#websocket-api (contract) and #spot-websocket-api .
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..._store import DataStore
from ._items import (
    AccountItem,
    KlineItem,
    Market24hItem,
    OrderItem,
    PositionItem,
    TickerItem,
    TradeItem,
    WalletItem,
)

__all__ = [
    "KLINE_FIELDS",
    "KLINE_FIELDS_P",
    "KLINE_FIELDS_SPOT",
    "Accounts",
    "Kline",
    "Market24h",
    "Orders",
    "Positions",
    "Ticker",
    "Trade",
    "Wallets",
]

#: element names of a COIN-M kline row (https://phemex-docs.github.io/#subscribe-kline)
KLINE_FIELDS = (
    "timestamp",
    "interval",
    "lastCloseEp",
    "openEp",
    "highEp",
    "lowEp",
    "closeEp",
    "volume",
    "turnoverEv",
)
#: spot kline rows: the volume is scaled too
KLINE_FIELDS_SPOT = (*KLINE_FIELDS[:7], "volumeEv", "turnoverEv")
#: USDⓈ-M (``kline_p``) rows: decimal strings
KLINE_FIELDS_P = (
    "timestamp",
    "interval",
    "lastCloseRp",
    "openRp",
    "highRp",
    "lowRp",
    "closeRp",
    "volumeRq",
    "turnoverRv",
)


def _rows(rows: object) -> list[Any]:
    """``rows`` if it is a list of rows; ``ValueError`` otherwise (counted by the caller)."""
    if not isinstance(rows, list):
        raise ValueError("not a list")
    return rows


class Trade(DataStore[TradeItem]):
    """Public trades keyed by ``(symbol, timestamp, n)`` (see :class:`TradeItem`),
    oldest first, at most ``_MAXLEN``."""

    _KEYS = ("symbol", "timestamp", "n")
    _MAXLEN = 99999

    def _on_rows(self, symbol: str, rows: object) -> int:
        """``[[timestamp, side, price, qty], ...]``; returns the rows dropped."""
        items: list[Any] = []
        seen: dict[int, int] = {}
        bad = 0
        for row in _rows(rows):
            if row.__class__ is not list or len(row) < 4 or row[0].__class__ is not int:
                bad += 1
                continue
            timestamp = row[0]
            n = seen.get(timestamp, 0)
            seen[timestamp] = n + 1
            items.append(
                {
                    "symbol": symbol,
                    "timestamp": timestamp,
                    "side": row[1],
                    "priceEp": row[2],
                    "qty": row[3],
                    "n": n,
                }
            )
        # Snapshots list the newest first: store oldest first (stable: n keeps its order).
        items.sort(key=lambda item: item["timestamp"])
        self._insert(items)
        return bad


class Kline(DataStore[KlineItem]):
    """Candles keyed by ``(symbol, timestamp, interval)``; a newer row of the same
    candle replaces it."""

    _KEYS = ("symbol", "timestamp", "interval")
    _MAXLEN = 99999

    def _on_rows(self, symbol: str, rows: object, names: tuple[str, ...]) -> int:
        items: list[Any] = []
        bad = 0
        for row in _rows(rows):
            if row.__class__ is not list or len(row) < len(names) or row[0].__class__ is not int:
                bad += 1
                continue
            item = dict(zip(names, row, strict=False))
            item["symbol"] = symbol
            items.append(item)
        items.sort(key=lambda item: item["timestamp"])
        self._insert(items)
        return bad


class Ticker(DataStore[TickerItem]):
    """Latest ``tick`` / ``tick_p`` per symbol (index symbols such as ``.BTC``)."""

    _KEYS = ("symbol",)


class Market24h(DataStore[Market24hItem]):
    """Latest 24-hour statistics per symbol (``market24h``, ``spot_market24h``,
    ``perp_market24h_pack_p``)."""

    _KEYS = ("symbol",)


class Accounts(DataStore[AccountItem]):
    """Contract accounts by ``(accountID, currency)`` (merged updates)."""

    _KEYS = ("accountID", "currency")


#: order statuses after which an order no longer works
#: (https://phemex-docs.github.io/#order-status-ordstatus)
_CLOSED = frozenset({"Filled", "Deactivated", "Rejected", "Canceled"})


class Orders(DataStore[OrderItem]):
    """Open orders by ``orderID`` (contracts and spot).

    ``Filled``, ``Canceled`` (unless ``action`` is ``Replace``: the order lives on
    amended), ``Rejected`` and ``Deactivated`` delete; any other status (``New``,
    ``PartiallyFilled``, ``Untriggered``, ``Triggered``, or one Phemex adds later)
    merges into the stored order, so an order is never lost to an unknown status.
    """

    _KEYS = ("orderID",)

    def _on_orders(self, rows: Iterable[Any], closed: bool = False) -> None:
        keep: list[Any] = []
        gone: list[Any] = []
        for row in rows:
            status = row.get("ordStatus")
            if closed or (status in _CLOSED and not _replaced(row)):
                gone.append(row)
            else:
                keep.append(row)
        if keep:
            self._update(keep)
        if gone:
            self._delete(gone)

    def _forget_where(self, keep: Any) -> None:
        """Delete the orders for which ``keep(item)`` is false (a snapshot replaces)."""
        self._delete([item for item in self._data.values() if not keep(item)])


def _replaced(row: Mapping[str, Any]) -> bool:
    return row.get("ordStatus") == "Canceled" and row.get("action") == "Replace"


class Positions(DataStore[PositionItem]):
    """Positions by ``(accountID, symbol, posSide)``; a position without ``posSide``
    (COIN-M) is keyed with ``None`` there, so ``get({"accountID": a, "symbol": s})``
    finds it as in pybotters, and a hedged account's long and short positions of
    one symbol are two items (pybotters kept one)."""

    _KEYS = ("accountID", "symbol", "posSide")

    def _init(self) -> None:
        self._key_of = lambda item: (item["accountID"], item["symbol"], item.get("posSide"))


class Wallets(DataStore[WalletItem]):
    """Spot wallets by ``(userID, currency)`` (merged updates)."""

    _KEYS = ("userID", "currency")
