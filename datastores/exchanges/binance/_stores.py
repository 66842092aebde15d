"""Binance stores other than order books: market data and the private account view.

Item shapes, keys and REST mappings follow the reference library (pybotters
§4.7), so code that reads ``store.ticker.get({"s": "BTCUSDT"})`` ports by
changing the import. Stores never mutate an incoming message: where an item is
built from several parts of a message, a new dict is made.

Stream docs:
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
https://developers.binance.com/docs/derivatives/coin-margined-futures/websocket-market-streams
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..._store import DataStore, Item
from ._items import (
    AccountItem,
    BalanceItem,
    BookTickerItem,
    CompositeIndexItem,
    ContinuousKlineItem,
    IndexPriceItem,
    KlineItem,
    LiquidationItem,
    MarkPriceItem,
    OCOOrderItem,
    OrderItem,
    PositionItem,
    TickerItem,
    TradeItem,
)

__all__ = [
    "Account",
    "Balance",
    "BookTicker",
    "CompositeIndex",
    "ContinuousKline",
    "IndexPrice",
    "Kline",
    "Liquidation",
    "MarkPrice",
    "OCOOrder",
    "Order",
    "Position",
    "Ticker",
    "Trade",
]

#: order statuses after which an order is no longer open (``X`` field). The
#: reference library forgets ``EXPIRED_IN_MATCH`` (self-trade prevention), so such
#: orders stayed in its store forever.
#: https://developers.binance.com/docs/binance-spot-api-docs/enums#order-status-status
CLOSED_ORDER_STATUSES = frozenset({"FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED"})


def _one_or_many(data: Item | list[Item]) -> list[Item]:
    return data if isinstance(data, list) else [data]


class Trade(DataStore[TradeItem]):
    """``trade`` and ``aggTrade`` events, newest last (keyless log of 99999 items).

    Items are the events as received (``e``, ``E``, ``s``, ``p``, ``q``, ``T``, ``m``, ...).
    """

    _MAXLEN = 99999

    def _onmessage(self, item: Item) -> None:
        self._insert([item])


class Kline(DataStore[KlineItem]):
    """Candles keyed by open time ``t``, symbol ``s`` and interval ``i``.

    A stream event stores its ``k`` object. REST klines (``GET .../klines``) are
    converted to the same field names; ``x`` (closed) is true for candles whose
    close time has passed, and ``f``/``L`` (trade ids) are ``None`` because REST
    does not give them. Get is O(1).
    """

    _KEYS = ("t", "s", "i")

    def _onmessage(self, item: Item) -> None:
        self._update([item["k"]])

    def _onresponse(
        self, symbol: str, interval: str, data: Iterable[list[Any]], now_ms: float | None = None
    ) -> None:
        now = time.time() * 1000 if now_ms is None else now_ms
        items: list[Item] = []
        for row in data:
            items.append(
                {
                    "t": row[0],
                    "T": row[6],
                    "s": symbol,
                    "i": interval,
                    "o": row[1],
                    "c": row[4],
                    "h": row[2],
                    "l": row[3],
                    "v": row[5],
                    "n": row[8],
                    # The reference library marks every REST candle closed; the last
                    # one REST returns is usually still open.
                    "x": row[6] < now,
                    "q": row[7],
                    "V": row[9],
                    "Q": row[10],
                    "B": row[11],
                    "f": None,
                    "L": None,
                }
            )
        self._update(items)


class ContinuousKline(DataStore[ContinuousKlineItem]):
    """``continuous_kline`` events keyed by pair ``ps``, contract type ``ct``, ``t``, ``i``.

    Items are the ``k`` object plus ``ps`` and ``ct``.
    """

    _KEYS = ("ps", "ct", "t", "i")

    def _onmessage(self, item: Item) -> None:
        self._update([{"ps": item["ps"], "ct": item["ct"], **item["k"]}])


class Ticker(DataStore[TickerItem]):
    """``24hrTicker`` / ``24hrMiniTicker`` events (single or all-market arrays), keyed by ``s``."""

    _KEYS = ("s",)

    def _onmessage(self, data: Item | list[Item]) -> None:
        self._update(_one_or_many(data))


class BookTicker(DataStore[BookTickerItem]):
    """Best bid/ask (``bookTicker``), keyed by ``s``: ``b``/``B`` bid price/qty, ``a``/``A`` ask.

    Spot sends these without an ``e`` field; they are recognised by their shape.
    """

    _KEYS = ("s",)

    def _onmessage(self, item: Item) -> None:
        self._update([item])


class MarkPrice(DataStore[MarkPriceItem]):
    """``markPriceUpdate`` events (single or ``!markPrice@arr``), keyed by ``s``."""

    _KEYS = ("s",)

    def _onmessage(self, data: Item | list[Item]) -> None:
        self._update(_one_or_many(data))


class IndexPrice(DataStore[IndexPriceItem]):
    """COIN-M ``indexPriceUpdate`` events, keyed by the pair ``i``."""

    _KEYS = ("i",)

    def _onmessage(self, item: Item) -> None:
        self._update([item])


class CompositeIndex(DataStore[CompositeIndexItem]):
    """USDⓈ-M ``compositeIndex`` events, keyed by ``s``: ``{s, p, E, c: [{b, q, w, W, i}]}``.

    ``GET /fapi/v1/indexInfo`` fills the same shape with ``p`` and each ``i`` set
    to ``None`` (REST does not give prices).
    """

    _KEYS = ("s",)

    def _onmessage(self, item: Item) -> None:
        self._update([{"s": item["s"], "p": item["p"], "E": item["E"], "c": item["c"]}])

    def _onresponse(self, data: Iterable[Item]) -> None:
        self._update(
            [
                {
                    "s": entry["symbol"],
                    "p": None,
                    "E": entry["time"],
                    "c": [
                        {
                            "b": asset["baseAsset"],
                            "q": asset["quoteAsset"],
                            "w": asset["weightInQuantity"],
                            "W": asset["weightInPercentage"],
                            "i": None,
                        }
                        for asset in entry["baseAssetList"]
                    ],
                }
                for entry in data
            ]
        )


class Liquidation(DataStore[LiquidationItem]):
    """``forceOrder`` events: the ``o`` object of each (keyless log)."""

    def _onmessage(self, item: Item) -> None:
        self._insert([item["o"]])


class Order(DataStore[OrderItem]):
    """Open orders keyed by symbol ``s`` and order id ``i``.

    Spot ``executionReport`` items are the event itself; futures
    ``ORDER_TRADE_UPDATE`` items are its ``o`` object. An update merges into the
    stored order; a closed status (``FILLED``, ``CANCELED``, ``EXPIRED``,
    ``EXPIRED_IN_MATCH``, ``REJECTED``) deletes it. REST ``openOrders`` items are
    mapped to the stream's field names.
    """

    _KEYS = ("s", "i")

    def _on_order(self, item: Item) -> None:
        if item["X"] in CLOSED_ORDER_STATUSES:
            self._delete([item])
        else:
            self._update([item])

    def _onresponse(self, symbol: str | None, data: Iterable[Item]) -> None:
        """Replace the open orders of ``symbol`` (all orders when ``None``) with ``data``."""
        items = [_futures_order(o) if "positionSide" in o else _spot_order(o) for o in data]
        if symbol is not None:
            self._find_and_delete({"s": symbol})
        else:
            self._clear()
        self._insert(items)


def _spot_order(o: Mapping[str, Any]) -> Item:
    # GET /api/v3/openOrders -> executionReport field names
    return {
        "s": o["symbol"],
        "i": o["orderId"],
        "c": o["clientOrderId"],
        "p": o["price"],
        "q": o["origQty"],
        "z": o["executedQty"],
        "Z": o["cummulativeQuoteQty"],
        "f": o["timeInForce"],
        "o": o["type"],
        "S": o["side"],
        "P": o["stopPrice"],
        "F": o["icebergQty"],
        "E": o["time"],
        "T": o["updateTime"],
        "w": o["isWorking"],
        "Q": o["origQuoteOrderQty"],
        "X": o["status"],
    }


def _futures_order(o: Mapping[str, Any]) -> Item:
    # GET /fapi/v1/openOrders, /dapi/v1/openOrders -> ORDER_TRADE_UPDATE "o" field names
    return {
        "s": o["symbol"],
        "c": o["clientOrderId"],
        "S": o["side"],
        "o": o["type"],
        "f": o["timeInForce"],
        "q": o["origQty"],
        "p": o["price"],
        "ap": o["avgPrice"],
        "sp": o["stopPrice"],
        "X": o["status"],
        "i": o["orderId"],
        "z": o["executedQty"],
        "T": o["updateTime"],
        "R": o["reduceOnly"],
        "wt": o["workingType"],
        "ot": o["origType"],
        "ps": o["positionSide"],
        "cp": o["closePosition"],
        "pP": o["priceProtect"],
    }


class OCOOrder(DataStore[OCOOrderItem]):
    """Spot order lists (``listStatus``), keyed by symbol ``s`` and list id ``g``.

    ``ALL_DONE`` deletes the list. ``GET /api/v3/openOrderList`` fills the same shape.
    """

    _KEYS = ("s", "g")

    def _onmessage(self, item: Item) -> None:
        if item["l"] == "ALL_DONE":
            self._delete([item])
        else:
            self._update([item])

    def _onresponse(self, data: Iterable[Item]) -> None:
        self._update(
            [
                {
                    "e": "listStatus",
                    "E": None,
                    "s": d["symbol"],
                    "g": d["orderListId"],
                    "c": d["contingencyType"],
                    "l": d["listStatusType"],
                    "L": d["listOrderStatus"],
                    "r": "NONE",
                    "C": d["listClientOrderId"],
                    "T": d["transactionTime"],
                    "O": [
                        {"s": o["symbol"], "i": o["orderId"], "c": o["clientOrderId"]}
                        for o in d["orders"]
                    ],
                }
                for d in data
            ]
        )


class Account(DataStore[AccountItem]):
    """Spot balances keyed by asset ``a``: ``f`` free, ``l`` locked (absolute amounts).

    ``outboundAccountPosition`` carries the assets that may have changed;
    ``GET /api/v3/account`` seeds every asset.
    """

    _KEYS = ("a",)

    def _onmessage(self, item: Item) -> None:
        self._update(item["B"])

    def _onresponse(self, data: Mapping[str, Any]) -> None:
        self._update(
            [{"a": b["asset"], "f": b["free"], "l": b["locked"]} for b in data["balances"]]
        )


class Balance(DataStore[BalanceItem]):
    """Futures wallet balances keyed by asset ``a``: ``wb`` wallet, ``cw`` cross wallet.

    ``ACCOUNT_UPDATE`` ``a.B`` items (also ``bc``, the balance change);
    ``GET /fapi/v2|v3/balance`` / ``/dapi/v1/balance`` seed ``a``, ``wb``, ``cw``.
    """

    _KEYS = ("a",)

    def _onmessage(self, item: Item) -> None:
        # A funding-fee event on a cross position has no "P", others may lack "B".
        balances = item["a"].get("B")
        if balances:
            self._update(balances)

    def _onresponse(self, data: Iterable[Item]) -> None:
        self._update(
            [{"a": b["asset"], "wb": b["balance"], "cw": b["crossWalletBalance"]} for b in data]
        )


class Position(DataStore[PositionItem]):
    """Futures positions keyed by symbol ``s`` and position side ``ps``.

    ``ACCOUNT_UPDATE`` ``a.P`` items merge into the stored ones. USDⓈ-M pushes
    only the positions that changed; COIN-M pushes every symbol's positions;
    merging is right for both. ``GET .../positionRisk`` seeds ``s, pa, ep, up,
    mt, iw, ps`` (``mt`` is ``None`` where the endpoint version has no
    ``marginType``).
    """

    _KEYS = ("s", "ps")

    def _onmessage(self, item: Item) -> None:
        positions = item["a"].get("P")
        if positions:
            self._update(positions)

    def _onresponse(self, data: Iterable[Item]) -> None:
        self._update(
            [
                {
                    "s": p["symbol"],
                    "pa": p["positionAmt"],
                    "ep": p["entryPrice"],
                    "up": p["unRealizedProfit"],
                    "mt": p.get("marginType"),
                    "iw": p.get("isolatedWallet"),
                    "ps": p["positionSide"],
                }
                for p in data
            ]
        )
