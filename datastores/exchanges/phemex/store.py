"""Phemex DataStore collection: books, trades, klines, tickers and the private
account/order/position (AOP) and spot wallet/order (``wo``) streams.

Feed it the messages of ``wss://ws.phemex.com`` (``hdlr_json=store.onmessage``):
one socket carries COIN-M contracts (``orderbook.subscribe``, scaled integers),
USDⓈ-M contracts (``orderbook_p.subscribe``, decimal strings) and spot
(``orderbook.subscribe`` with ``s``-prefixed symbols). Phemex messages name no
channel: the data's key does (``book``, ``orderbook_p``, ``trades``...), which is
what ``_CHANNELS`` maps. Replies to requests (they carry ``id`` and ``result`` or
``error``: subscriptions, the login, the heartbeat's pongs) are not stored; error
replies are counted in ``statistics().unhandled``.

Books: :mod:`datastores.exchanges.phemex._book` (snapshot replaces, increments by
price, truncation to the subscribed depth, periodic snapshots compared). A book
that went unsynced (a reconnect, a malformed message) is recovered by subscribing
again (:class:`~datastores._recovery.ResubscribeRecovery`); only the subscribe is
sent, because an unsubscribe with the symbol may stop every book of the socket
(``orderbook_p.unsubscribe []`` does, observed 2026-09; the per-symbol form is
unconfirmed). If Phemex ignores a repeated subscription, the next periodic
snapshot (at most 60 s) syncs the book and ends the retries.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from ..._collection import DataStoreCollection
from ..._recovery import BookFeed, BookFeeds, ResubscribeRecovery
from ..._storefield import StoreField
from ._book import PhemexOrderBook
from ._stores import (
    KLINE_FIELDS,
    KLINE_FIELDS_P,
    KLINE_FIELDS_SPOT,
    Accounts,
    Kline,
    Market24h,
    Orders,
    Positions,
    Ticker,
    Trade,
    Wallets,
)

__all__ = ["PhemexDataStore", "PhemexOrderBook"]

logger = logging.getLogger("datastores.exchanges.phemex")

#: kline REST endpoints ``initialize()`` takes (they need a ``symbol`` query)
KLINE_PATHS = frozenset(
    {
        "/exchange/public/md/v2/kline",
        "/exchange/public/md/kline",
        "/exchange/public/md/v2/kline/last",
        "/exchange/public/md/v2/kline/list",
    }
)
#: fields every data message may carry besides its data key (for naming unknown ones)
_META = frozenset({"sequence", "timestamp", "type", "symbol", "depth", "dts", "mts"})


def _is_spot(symbol: str) -> bool:
    """Spot symbols start with ``s`` (``sBTCUSDT``); https://phemex-docs.github.io/#spot-api-list"""
    return symbol.startswith("s")


class PhemexDataStore(DataStoreCollection):
    """Phemex: ``orderbook``, ``trade``, ``kline``, ``ticker``, ``market24h``,
    ``accounts``, ``orders``, ``positions``, ``wallets``.

    Messages it cannot read are counted in ``statistics().dropped``, messages no
    store takes (and error replies) in ``statistics().unhandled``; neither raises.
    ``initialize()`` takes the kline REST endpoints (see :data:`KLINE_PATHS`).
    """

    _EXCHANGE = "phemex"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "book": "_on_book",
        "orderbook_p": "_on_book",
        "trades": "_on_trades",
        "trades_p": "_on_trades",
        "kline": "_on_kline",
        "kline_p": "_on_kline",
        "tick": "_on_tick",
        "tick_p": "_on_tick",
        "market24h": "_on_market24h",
        "market24h_p": "_on_market24h",
        "spot_market24h": "_on_market24h",
        "perp_market24h_pack_p.update": "_on_market24h_pack",
        "accounts": "_on_aop",
        "orders": "_on_aop",
        "positions": "_on_aop",
        "accounts_p": "_on_aop",
        "orders_p": "_on_aop",
        "positions_p": "_on_aop",
        "wallets": "_on_wo",
    }

    #: ``book`` / ``orderbook_p``: by symbol, side (``asks``/``bids``), ``priceEp``.
    orderbook = StoreField(PhemexOrderBook)
    #: ``trades`` / ``trades_p``: by symbol, timestamp, n.
    trade = StoreField(Trade)
    #: ``kline`` / ``kline_p``: by symbol, timestamp, interval.
    kline = StoreField(Kline)
    #: ``tick`` / ``tick_p``: by symbol.
    ticker = StoreField(Ticker)
    #: ``market24h``, ``spot_market24h``, ``perp_market24h_pack_p``: by symbol.
    market24h = StoreField(Market24h)
    #: AOP ``accounts`` / ``accounts_p``: by accountID, currency.
    accounts = StoreField(Accounts)
    #: AOP ``orders`` / ``orders_p`` and spot ``wo`` open orders: by orderID.
    orders = StoreField(Orders)
    #: AOP ``positions`` / ``positions_p``: by accountID, symbol, posSide.
    positions = StoreField(Positions)
    #: spot ``wo`` ``wallets``: by userID, currency.
    wallets = StoreField(Wallets)

    def _init(self) -> None:
        self._feeds = BookFeeds()
        self._request_ids = itertools.count(3_000_001)
        self._resubscribe = ResubscribeRecovery(
            self._background,
            self.orderbook,
            self._feeds,
            messages=self._resubscribe_messages,
            logger=logger,
        )
        self.orderbook.resync_hook = self._resubscribe.request

    def _resubscribe_messages(self, feed: BookFeed) -> list[dict[str, Any]]:
        return [{"id": next(self._request_ids), **feed.args}]

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        if "result" in msg or "error" in msg:  # a reply to a request of ours
            error = msg.get("error")
            if error:
                code = error.get("code") if isinstance(error, dict) else error
                self._count_unhandled(f"error {str(code)[:40]}")
            return
        handlers = self._channel_handlers
        method = msg.get("method")
        if method.__class__ is str:
            handler = handlers.get(method)
            if handler is not None:
                handler(msg, ws)
                return
        for key in msg:
            handler = handlers.get(key)
            if handler is not None:
                handler(msg, ws)
                return
        name = method if method.__class__ is str else next((k for k in msg if k not in _META), None)
        if name is None:
            self._count_dropped("message without data")
        else:
            self._count_unhandled(str(name)[:40])

    def _on_book(self, msg: dict[str, Any], ws: Any) -> None:
        """``book`` / ``orderbook_p``: https://phemex-docs.github.io/#orderbook-message
        ``{"book": {"asks": [[87705000, 1000000]], "bids": []}, "depth": 30,
        "sequence": 79437146, "symbol": "BTCUSD", "timestamp": 1590..., "type":
        "incremental"}`` (USDⓈ-M: ``"orderbook_p"`` with string levels)."""
        key = "orderbook_p" if "orderbook_p" in msg else "book"
        data, symbol = msg[key], msg.get("symbol")
        if symbol.__class__ is not str or data.__class__ is not dict:
            self._count_dropped("book message without symbol or book")
            return
        kind, sequence = msg.get("type"), msg.get("sequence")
        book = self.orderbook
        # A book message we cannot place is lost: the book can no longer be trusted.
        if kind != "snapshot" and kind != "incremental":
            self._count_dropped("book message of unknown type", symbol)
            book._fail(symbol, "error", f"unknown book message type {str(kind)[:40]!r}")
            return
        if sequence.__class__ is not int:
            self._count_dropped("book message without a sequence", symbol)
            book._fail(symbol, "error", f"unreadable sequence {str(sequence)[:40]!r}")
            return
        depth = msg.get("depth")
        feed = self._feeds.get(symbol)
        if feed is None or feed.ws is not ws or feed.channel != key:
            self._feeds.note(symbol, ws, key, _subscription(key, symbol, depth))
        timestamp = msg.get("timestamp")
        if timestamp.__class__ is int:
            book.timestamp = timestamp
        # Levels are checked by the book: a malformed one is counted there and resyncs.
        asks, bids = data.get("asks", ()), data.get("bids", ())
        if book._on_message(symbol, kind == "snapshot", sequence, depth, asks, bids):
            self._resubscribe.on_snapshot(symbol)

    def _on_trades(self, msg: dict[str, Any], ws: Any) -> None:
        """``trades`` / ``trades_p``: https://phemex-docs.github.io/#trade-message
        ``{"sequence": 1167852, "symbol": "BTCUSD", "trades": [[1573716998128563500,
        "Buy", 86735000, 56]], "type": "incremental"}``"""
        key = "trades_p" if "trades_p" in msg else "trades"
        symbol = msg.get("symbol")
        if symbol.__class__ is not str:
            self._count_dropped("trade message without a symbol")
            return
        try:
            bad = self.trade._on_rows(symbol, msg[key])
        except ValueError:
            self._count_dropped("trade message without a list of trades", symbol)
            return
        if bad:
            self._count_dropped("unreadable trade row", symbol)

    def _on_kline(self, msg: dict[str, Any], ws: Any) -> None:
        """``kline`` / ``kline_p``: https://phemex-docs.github.io/#kline-message
        ``{"kline": [[1590019200, 86400, 95165000, 95160000, 95160000, 95165000,
        95165000, 38, 399302]], "sequence": 1, "symbol": "BTCUSD", "type": "snapshot"}``"""
        symbol = msg.get("symbol")
        if symbol.__class__ is not str:
            self._count_dropped("kline message without a symbol")
            return
        if "kline_p" in msg:
            rows, names = msg["kline_p"], KLINE_FIELDS_P
        else:
            rows, names = msg["kline"], KLINE_FIELDS_SPOT if _is_spot(symbol) else KLINE_FIELDS
        try:
            bad = self.kline._on_rows(symbol, rows, names)
        except ValueError:
            self._count_dropped("kline message without a list of klines", symbol)
            return
        if bad:
            self._count_dropped("unreadable kline row", symbol)

    def _on_tick(self, msg: dict[str, Any], ws: Any) -> None:
        """``tick`` / ``tick_p``: https://phemex-docs.github.io/#subscribe-24-hours-ticker
        ``{"tick": {"last": 93385, "scale": 4, "symbol": ".BTC", "timestamp": 1590...}}``"""
        data = msg["tick_p"] if "tick_p" in msg else msg["tick"]
        if data.__class__ is not dict or "symbol" not in data:
            self._count_dropped("tick message without a symbol")
            return
        self.ticker._update([data])

    def _on_market24h(self, msg: dict[str, Any], ws: Any) -> None:
        """``market24h`` (COIN-M), ``spot_market24h``: https://phemex-docs.github.io/#subscribe-24-hours-ticker
        ``{"market24h": {"close": 87425000, ..., "symbol": "BTCUSD"}, "timestamp": ...}``"""
        key = next(k for k in ("market24h", "market24h_p", "spot_market24h") if k in msg)
        data = msg[key]
        if data.__class__ is not dict or "symbol" not in data:
            self._count_dropped("market24h message without a symbol")
            return
        self.market24h._update([data])

    def _on_market24h_pack(self, msg: dict[str, Any], ws: Any) -> None:
        """``perp_market24h_pack_p.update`` (USDⓈ-M, every symbol in one message):
        ``{"fields": ["symbol", "openRp", ...], "data": [["BTCUSDT", "65000", ...]],
        "method": "perp_market24h_pack_p.update", "timestamp": ..., "type": "snapshot"}``"""
        fields, rows = msg.get("fields"), msg.get("data")
        if not isinstance(fields, list) or not isinstance(rows, list) or "symbol" not in fields:
            self._count_dropped("market24h pack without fields or data")
            return
        items = [dict(zip(fields, row, strict=False)) for row in rows if isinstance(row, list)]
        if len(items) != len(rows):
            self._count_dropped("unreadable market24h row")
        self.market24h._update([i for i in items if isinstance(i.get("symbol"), str)])

    def _on_aop(self, msg: dict[str, Any], ws: Any) -> None:
        """AOP (``aop.subscribe`` COIN-M, ``aop_p.subscribe`` USDⓈ-M, after ``user.auth``):
        https://phemex-docs.github.io/#subscribe-account-order-position-aop
        ``{"accounts": [...], "orders": [...], "positions": [...], "sequence": 1,
        "timestamp": ..., "type": "snapshot"}`` (``accounts_p``... for USDⓈ-M). A
        snapshot replaces the orders and positions of the accounts it names."""
        if isinstance(msg.get("orders"), dict):
            self._on_wo(msg, ws)  # a spot ``wo`` message carrying only orders
            return
        suffix = "_p" if any(f"{k}_p" in msg for k in ("accounts", "orders", "positions")) else ""
        parts = [self._dicts(msg, name + suffix) for name in ("accounts", "orders", "positions")]
        accounts, orders, positions = parts
        if msg.get("type") == "snapshot":
            ids = {row.get("accountID") for part in parts for row in part}
            self.orders._forget_where(lambda item: item.get("accountID") not in ids)
            held: list[Any] = [p for p in self.positions if p.get("accountID") in ids]
            self.positions._delete(held)
        if accounts:
            self.accounts._update(accounts)
        if orders:
            self.orders._on_orders(orders)
        if positions:
            self.positions._insert(positions)

    def _on_wo(self, msg: dict[str, Any], ws: Any) -> None:
        """Spot ``wo.subscribe`` (after ``user.auth``): https://phemex-docs.github.io/#subscribe-wallet-order
        ``{"wallets": [{"currency": "BTC", "balanceEv": 0, "userID": 1, ...}],
        "orders": {"open": [...], "closed": [...], "fills": [...]}, "sequence": 1,
        "timestamp": ..., "type": "snapshot"}``. A snapshot replaces the wallets of the
        users it names and every spot order. Fills are not stored."""
        wallets = self._dicts(msg, "wallets")
        orders = msg.get("orders")
        if orders is not None and not isinstance(orders, dict):
            self._count_dropped("wo orders that are not an object")
            orders = None
        if msg.get("type") == "snapshot":
            users = {row.get("userID") for row in wallets}
            stale: list[Any] = [w for w in self.wallets if w.get("userID") in users]
            self.wallets._delete(stale)
            self.orders._forget_where(lambda item: not _is_spot(str(item.get("symbol", ""))))
        if wallets:
            self.wallets._update(wallets)
        if orders:
            self.orders._on_orders(self._dicts(orders, "open"))
            self.orders._on_orders(self._dicts(orders, "closed"), closed=True)

    def _dicts(self, msg: Mapping[str, Any], key: str) -> list[Any]:
        """The objects of ``msg[key]`` (a list); what is not one is counted as dropped."""
        rows = msg.get(key)
        if rows is None:
            return []
        if not isinstance(rows, list):
            self._count_dropped(f"{key} that are not a list")
            return []
        dicts = [row for row in rows if isinstance(row, dict)]
        if len(dicts) != len(rows):
            self._count_dropped(f"{key} row that is not an object")
        return dicts

    # ------------------------------------------------------------------ REST

    async def _onresponse(self, resp: Any, data: Any) -> None:
        """Kline REST (``symbol`` query required):
        https://phemex-docs.github.io/#query-kline ``{"code": 0, "msg": "OK",
        "data": {"total": -1, "rows": [[1590019200, 86400, ...]]}}``."""
        if resp.url.path not in KLINE_PATHS:
            await super()._onresponse(resp, data)
            return
        symbol = resp.url.query.get("symbol")
        if not symbol:
            raise ValueError(f"{resp.url.path} needs a symbol query to fill the kline store")
        body = data.get("data") if isinstance(data, dict) else None
        rows = body.get("rows") if isinstance(body, dict) else body
        if not isinstance(rows, list):
            raise ValueError(f"{resp.url.path}: no kline rows in the response")
        first = rows[0] if rows and isinstance(rows[0], list) else []
        if len(first) > 2 and isinstance(first[2], str):
            names = KLINE_FIELDS_P
        else:
            names = KLINE_FIELDS_SPOT if _is_spot(symbol) else KLINE_FIELDS
        if self.kline._on_rows(symbol, rows, names):
            self._count_dropped("unreadable kline row", symbol)

    # ------------------------------------------------------------ reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books ``ws`` fed go unsynced until the
        snapshots its automatic resubscription brings."""
        if self._feeds.carried_books(ws):
            self._resubscribe.on_reconnect(ws)
            self._resubscribe.suspended = True  # the app resubscribes by itself
            try:
                for symbol in self._feeds.symbols_fed_by(ws) or self.orderbook.symbols:
                    self.orderbook._invalidate(symbol, "reconnect")
            finally:
                self._resubscribe.suspended = False
        self._feeds.reset_connection()


def _subscription(key: str, symbol: str, depth: object) -> dict[str, Any]:
    """The request that subscribes this book again, from what its messages say.

    https://phemex-docs.github.io/#subscribe-orderbook-with-depth : ``[symbol]`` is
    30 levels, ``[symbol, true]`` the full book (depth 0), ``[symbol, false, n]`` n
    levels (1, 5, 10, 30).
    """
    method = "orderbook_p.subscribe" if key == "orderbook_p" else "orderbook.subscribe"
    params: list[Any]
    if depth == 0:
        params = [symbol, True]
    elif depth.__class__ is int and depth != 30:
        params = [symbol, False, depth]
    else:
        params = [symbol]
    return {"method": method, "params": params}
