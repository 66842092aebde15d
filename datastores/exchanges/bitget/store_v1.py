"""Bitget legacy v1 (mix futures) API: :class:`BitgetDataStore`.

WS ``wss://ws.bitget.com/mix/v1/stream`` (public and private); public args use
``instType: "mc"`` and ``instId: "BTCUSDT"``, private args ``instType: "UMCBL"``
(or DMCBL/CMCBL) and ``instId: "default"``.
https://bitgetlimited.github.io/apidoc/en/mix/#websocketapi

Store names, keys and item shapes follow the reference API, with these fixes:

* ``orderbook``: a snapshot replaces the instrument's book (stale levels never
  survive a reconnect), every checksum is verified, a mismatch resubscribes;
  ``books`` is capped at 200 levels per side as documented.
* ``trade`` never loses a trade to another with the same timestamp: v1 trades
  have no id, so the store is an append log (no keys); the snapshot resent
  after a reconnect is de-duplicated against the trades already stored.
* ``positions``: ``total`` is compared as a number (the wire sends a string).
* ``candlesticks``: every ``candle*`` channel, ``interval`` is the channel's
  suffix (``"1m"``, ``"15m"``, ``"1H"``...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from ..._orderbook import OrderBookStore
from ..._store import DataStore, Item
from ..._storefield import StoreField
from ._base import (
    TOP_N_DEPTHS,
    BitgetCollectionBase,
    candle_items,
    objects,
    route_by_status,
    text,
)
from ._books import BitgetBook
from ._items import (
    V1AccountItem,
    V1CandleItem,
    V1OrderItem,
    V1PositionItem,
    V1TickerItem,
    V1TradeItem,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = [
    "Account",
    "BitgetBook",
    "BitgetDataStore",
    "CandleSticks",
    "Orders",
    "Positions",
    "Ticker",
    "Trade",
]

_CANDLE_FIELDS = ("ts", "o", "h", "l", "c", "baseVol")
#: order statuses that keep an order in ``orders`` / that remove it (tuples: a
#: non-string status is refused as unknown, never a TypeError from a set lookup)
_ORDER_OPEN = ("init", "new", "partial-fill")
_ORDER_DONE = ("full-fill", "cancelled", "canceled")
# REST side -> the WS order side (buy/sell); one-way mode uses *_single.
_BUY_SIDES = frozenset({"open_long", "close_short", "buy_single"})


class Trade(DataStore[V1TradeItem]):
    """``trade``: public trades ``{instId, ts, px, sz, side}``, oldest first. Up to 99999.

    Keyless (an append log): v1 trades carry no id and several share a
    millisecond. The snapshot pushed on (re)subscription repeats recent trades;
    those already stored (older than the newest stored trade, or equal to one
    stored at the same millisecond) are skipped. Trades of a new instId beyond
    ``OrderBookStore.max_symbols`` instIds are refused (counted in ``dropped``):
    what is kept per instId for that check never grows past it.
    """

    _MAXLEN = 99999

    def _init(self) -> None:
        # instId -> (newest ts stored, count of each (ts, px, sz, side) stored at that ts)
        self._newest: dict[str, tuple[int, Counter[tuple[Any, ...]]]] = {}

    def _on_rows(self, inst_id: str, rows: list[Any], snapshot: bool) -> None:
        parsed: list[tuple[int, tuple[Any, ...]]] = []
        for row in rows:
            if not isinstance(row, list) or len(row) < 4:
                self._refuse(row, "trade is not a [ts, px, sz, side] array")
                continue
            try:
                ts = int(row[0])
            except (TypeError, ValueError):
                self._refuse(row, "trade ts is not an integer")
                continue
            parsed.append((ts, tuple(row[:4])))
        # Snapshots arrive newest first: store every batch oldest first.
        parsed.sort(key=lambda pair: pair[0])
        newest = self._newest.get(inst_id)
        if newest is None and parsed and len(self._newest) >= OrderBookStore.max_symbols:
            self._refuse(inst_id[:64], "trades of a new instId beyond max_symbols")
            return
        if snapshot and newest is not None:
            last_ts, stored = newest
            stored = Counter(stored)
            fresh = []
            for ts, sig in parsed:
                if ts < last_ts:
                    continue
                if ts == last_ts and stored[sig] > 0:
                    stored[sig] -= 1
                    continue
                fresh.append((ts, sig))
            parsed = fresh
        if not parsed:
            return
        for ts, sig in parsed:
            if newest is None or ts > newest[0]:
                newest = (ts, Counter({sig: 1}))
            elif ts == newest[0]:
                newest[1][sig] += 1
        assert newest is not None
        self._newest[inst_id] = newest
        self._insert(
            [
                {"instId": inst_id, "ts": sig[0], "px": sig[1], "sz": sig[2], "side": sig[3]}
                for _ts, sig in parsed
            ]
        )


class Ticker(DataStore[V1TickerItem]):
    """``ticker``: one item per instId (latest push merged in). Key: instId."""

    _KEYS = ("instId",)


class CandleSticks(DataStore[V1CandleItem]):
    """``candle*``: items ``{instId, interval, ts, o, h, l, c, baseVol}``.
    Keys: instId, interval, ts."""

    _KEYS = ("instId", "interval", "ts")


class Account(DataStore[V1AccountItem]):
    """``account``: one item per margin coin. Key: marginCoin."""

    _KEYS = ("marginCoin",)


class Orders(DataStore[V1OrderItem]):
    """``orders``: open orders. Keys: instId, clOrdId.

    ``init``/``new``/``partial-fill`` upsert; ``full-fill``/``cancelled`` remove.
    """

    _KEYS = ("instId", "clOrdId")


class Positions(DataStore[V1PositionItem]):
    """``positions``: open positions. Keys: posId, instId. ``total`` zero removes."""

    _KEYS = ("posId", "instId")


def _is_zero(value: Any) -> bool:
    """Whether a wire quantity (``"0"``, ``"0.000"``, ``0``) is zero.

    Raises:
        ValueError: not a number.
    """
    try:
        return Decimal(str(value)) == 0
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


class BitgetDataStore(BitgetCollectionBase):
    """Bitget legacy v1 stores, fed by ``onmessage(msg, ws)``.

    Stores: ``trade``, ``orderbook``, ``ticker``, ``candlesticks``, ``account``,
    ``orders``, ``positions``.

    ``initialize()`` accepts GET ``/api/mix/v1/order/current`` (open orders of
    the ``symbol`` query, e.g. ``BTCUSDT_UMCBL``): they replace that symbol's
    orders, mapped to the WS field names. A body with ``code != "00000"`` raises
    :class:`~datastores.ExchangeAPIError`.
    """

    _BOOK_DEPTHS: ClassVar[Mapping[str, int | None]] = {"books": 200, **TOP_N_DEPTHS}

    _BOOK_STORE: ClassVar[str] = "orderbook"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "trade": "_on_trade",
        "ticker": "_on_ticker",
        "account": "_on_account",
        "orders": "_on_orders",
        "positions": "_on_positions",
    }
    _RESPONSES: ClassVar[Mapping[str, str]] = {
        "/api/mix/v1/order/current": "_seed_orders",
    }
    _CANDLE_HANDLER: ClassVar[str | None] = "_on_candle"

    def _book_key(self, inst_type: str, inst_id: str) -> str:
        return inst_id

    def _book_key_text(self, inst_type: str, inst_id: str) -> str:
        return inst_id

    # ------------------------------------------------------------ properties

    #: ``trade`` channel. https://bitgetlimited.github.io/apidoc/en/mix/#trades-channel
    trade = StoreField(Trade)

    #: ``books*`` channels, verified. https://bitgetlimited.github.io/apidoc/en/mix/#order-book-channel
    orderbook = StoreField(BitgetBook)

    #: ``ticker`` channel. https://bitgetlimited.github.io/apidoc/en/mix/#tickers-channel
    ticker = StoreField(Ticker)

    #: ``candle*`` channels. https://bitgetlimited.github.io/apidoc/en/mix/#candlesticks-channel
    candlesticks = StoreField(CandleSticks)

    #: ``account`` channel. https://bitgetlimited.github.io/apidoc/en/mix/#account-channel
    account = StoreField(Account)

    #: ``orders`` channel. https://bitgetlimited.github.io/apidoc/en/mix/#order-channel
    orders = StoreField(Orders)

    #: ``positions`` channel. https://bitgetlimited.github.io/apidoc/en/mix/#positions-channel
    positions = StoreField(Positions)

    # -------------------------------------------------------------- handlers

    def _inst_id(self, msg: Mapping[str, Any], arg: Mapping[str, Any]) -> str | None:
        return self._arg_text(msg, arg, "instId")

    def _on_trade(self, msg: Any, ws: Any) -> None:
        """``{"action": "snapshot", "arg": {"instType": "mc", "channel": "trade", "instId":
        "BTCUSDT"}, "data": [["1665645128291", "18991", "0.016", "buy"], ...]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_id = self._inst_id(msg, arg)
        if inst_id is not None:
            self.trade._on_rows(inst_id, data, msg.get("action") == "snapshot")

    def _on_ticker(self, msg: Any, ws: Any) -> None:
        """``{"action": "snapshot", "arg": {"instType": "mc", "channel": "ticker", "instId":
        "BTCUSDT"}, "data": [{"instId": "BTCUSDT", "last": "44962.00", ...}]}``"""
        data = msg["data"]
        store = self.ticker
        store._update(objects(store, data))

    def _on_candle(self, msg: Any, ws: Any) -> None:
        """``{"action": "update", "arg": {"instType": "mc", "channel": "candle1D", "instId":
        "BTCUSDT"}, "data": [["1665590400000", "19129", "19223.5", "19007.5", "19078.5",
        "67440.713"]]}``"""
        arg, data = msg["arg"], msg["data"]
        inst_id = self._inst_id(msg, arg)
        if inst_id is None:
            return
        store = self.candlesticks
        interval = arg["channel"][len("candle") :]
        head = {"instId": inst_id, "interval": interval}
        store._update(candle_items(store, data, head, _CANDLE_FIELDS))

    def _on_account(self, msg: Any, ws: Any) -> None:
        """``{"arg": {"instType": "UMCBL", "channel": "account", "instId": "default"},
        "data": [{"marginCoin": "USDT", "locked": "0", "available": "5.4", ...}]}``"""
        data = msg["data"]
        store = self.account
        store._update(objects(store, data))

    def _on_orders(self, msg: Any, ws: Any) -> None:
        """``{"arg": {"instType": "UMCBL", "channel": "orders", "instId": "default"},
        "data": [{"instId": "BTCUSDT_UMCBL", "ordId": "1", "clOrdId": "a1",
        "status": "new", ...}]}``"""
        data = msg["data"]
        store = self.orders
        route_by_status(store, objects(store, data), _ORDER_OPEN, _ORDER_DONE)

    def _on_positions(self, msg: Any, ws: Any) -> None:
        """``{"arg": {"instType": "UMCBL", "channel": "positions", "instId": "default"},
        "data": [{"posId": "1", "instId": "BTCUSDT_UMCBL", "total": "0.01", ...}]}``"""
        data = msg["data"]
        store = self.positions
        inserts: list[Item] = []
        deletes: list[Item] = []
        for item in objects(store, data):
            try:
                closed = _is_zero(item.get("total"))
            except ValueError:
                store._refuse(item, "position total is not a number")
                continue
            (deletes if closed else inserts).append(item)
        if deletes:
            store._delete(deletes)
        if inserts:
            store._insert(inserts)

    # ------------------------------------------------------------------- REST

    def _seed_orders(self, resp: ClientResponse, data: Any) -> None:
        """GET /api/mix/v1/order/current: open orders, mapped to WS field names.
        https://bitgetlimited.github.io/apidoc/en/mix/#get-open-order"""
        store = self.orders
        items = []
        for x in objects(store, data if isinstance(data, list) else []):
            state = x.get("state")
            items.append(
                {
                    "accFillSz": text(x.get("filledQty")),
                    "cTime": text(x.get("cTime")),
                    "clOrdId": x.get("clientOid"),
                    "force": x.get("timeInForce"),
                    "instId": x.get("symbol"),
                    "ordId": text(x.get("orderId")),
                    "ordType": x.get("orderType"),
                    "posSide": x.get("posSide"),
                    "px": text(x.get("price")),
                    "side": "buy" if x.get("side") in _BUY_SIDES else "sell",
                    # REST says partially_filled where the WS says partial-fill.
                    "status": "partial-fill" if state == "partially_filled" else state,
                    "sz": text(x.get("size")),
                    "tgtCcy": x.get("marginCoin"),
                    "uTime": text(x.get("uTime")),
                }
            )
        symbol = resp.url.query.get("symbol")
        if symbol:
            store._find_and_delete({"instId": symbol})
        store._update(items)
