"""``BitMEXDataStore``: BitMEX Realtime API tables in memory.

Every message is ``{"table": ..., "action": "partial"|"insert"|"update"|"delete",
"data": [rows...]}`` (https://www.bitmex.com/app/wsAPI). The table name routes it
(``_CHANNELS``); tables without a dedicated store get one created on their first
``partial`` (keyed by the partial's ``keys``), and other messages no store takes
are counted (``statistics().unhandled``), never raised. Malformed messages are
dropped and counted (``statistics().dropped``; :attr:`dropped_messages` is their
total). Replies (welcome, subscribe acknowledgements) are ignored; error replies
are counted in :attr:`failed_requests`.

Order books (``orderBookL2``, ``orderBookL2_25``): see :mod:`._book`. A book that
no longer matches the messages (a row the table does not have) goes unsynced
and its subscription is resubscribed on the connection that fed it (a new
``partial`` follows; without one, again after 10 s doubling to 300 s). A
reconnect marks the books of that connection unsynced until their partial.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ..._collection import DataStoreCollection
from ..._recovery import BookFeed, BookFeeds, ResubscribeRecovery
from ..._storefield import StoreField
from ._book import OrderBook
from ._tables import (
    Bins,
    Execution,
    Funding,
    Instrument,
    Insurance,
    Liquidation,
    Log,
    Margin,
    Order,
    OrderBook10,
    Position,
    Quote,
    Table,
    Trade,
    Wallet,
)

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["BitMEXDataStore"]

logger = logging.getLogger("datastores.exchanges.bitmex")

_ACTIONS = frozenset({"partial", "insert", "update", "delete"})

#: REST path (under ``/api/v1``) -> store name, for :meth:`BitMEXDataStore.initialize`
_REST_TABLES = {
    "/api/v1/order": "order",
    "/api/v1/position": "position",
    "/api/v1/instrument": "instrument",
    "/api/v1/instrument/active": "instrument",
    "/api/v1/user/margin": "margin",
    "/api/v1/user/wallet": "wallet",
    "/api/v1/execution/tradeHistory": "execution",
}


def _resubscribe_messages(feed: BookFeed) -> list[dict[str, Any]]:
    return [
        {"op": "unsubscribe", "args": [feed.args]},
        {"op": "subscribe", "args": [feed.args]},
    ]


class BitMEXDataStore(DataStoreCollection):
    """BitMEX DataStoreCollection (public and private tables, one collection).

    Attributes (stores, by table): :attr:`orderbook` (``orderBookL2`` and
    ``orderBookL2_25``), :attr:`orderbook10`, :attr:`trade`, :attr:`quote`,
    :attr:`instrument`, :attr:`funding`, :attr:`insurance`, :attr:`liquidation`,
    :attr:`tradebin1m`..``1d``, :attr:`quotebin1m`..``1d``, and the private
    :attr:`execution`, :attr:`order`, :attr:`position`, :attr:`margin`,
    :attr:`wallet`.
    """

    _EXCHANGE = "bitmex"

    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "orderBookL2": "_on_orderbook_l2",
        "orderBookL2_25": "_on_orderbook_l2",
        **{
            table: "_on_table"
            for table in (
                "orderBook10",
                "trade",
                "quote",
                "instrument",
                "funding",
                "insurance",
                "liquidation",
                "tradeBin1m",
                "tradeBin5m",
                "tradeBin1h",
                "tradeBin1d",
                "quoteBin1m",
                "quoteBin5m",
                "quoteBin1h",
                "quoteBin1d",
                "execution",
                "order",
                "position",
                "margin",
                "wallet",
            )
        },
    }

    #: ``orderBookL2:{symbol}`` and ``orderBookL2_25:{symbol}``: rows keyed by
    #: ``(symbol, id, side)``, sorted by price (store ``orderBookL2``).
    orderbook = StoreField(OrderBook, "orderBookL2")
    #: ``orderBook10:{symbol}``: the top 10 image per symbol (store ``orderBook10``).
    orderbook10 = StoreField(OrderBook10, "orderBook10")
    #: ``trade:{symbol}`` (store ``trade``).
    trade = StoreField(Trade)
    #: ``quote:{symbol}`` (store ``quote``).
    quote = StoreField(Quote)
    #: ``instrument``: keyed by ``symbol`` (store ``instrument``).
    instrument = StoreField(Instrument)
    #: ``funding`` (store ``funding``).
    funding = StoreField(Funding)
    #: ``insurance`` (store ``insurance``).
    insurance = StoreField(Insurance)
    #: ``liquidation``: keyed by ``orderID`` (store ``liquidation``).
    liquidation = StoreField(Liquidation)
    #: ``tradeBin1m`` ... ``quoteBin1d`` (stores named as the tables).
    tradebin1m = StoreField(Bins, "tradeBin1m")
    tradebin5m = StoreField(Bins, "tradeBin5m")
    tradebin1h = StoreField(Bins, "tradeBin1h")
    tradebin1d = StoreField(Bins, "tradeBin1d")
    quotebin1m = StoreField(Bins, "quoteBin1m")
    quotebin5m = StoreField(Bins, "quoteBin5m")
    quotebin1h = StoreField(Bins, "quoteBin1h")
    quotebin1d = StoreField(Bins, "quoteBin1d")
    #: ``execution`` (private; store ``execution``).
    execution = StoreField(Execution)
    #: ``order`` (private): live orders keyed by ``orderID`` (store ``order``).
    order = StoreField(Order)
    #: ``position`` (private): keyed by ``account``, ``symbol`` (store ``position``).
    position = StoreField(Position)
    #: ``margin`` (private): keyed by ``account``, ``currency`` (store ``margin``).
    margin = StoreField(Margin)
    #: ``wallet`` (private): keyed by ``account``, ``currency`` (store ``wallet``).
    wallet = StoreField(Wallet)

    def _init(self) -> None:
        self._feeds = BookFeeds()
        self._resubscribe = ResubscribeRecovery(
            self._background,
            self.orderbook,
            self._feeds,
            messages=_resubscribe_messages,
            logger=logger,
        )
        self.orderbook.resync_hook = self._resubscribe.request
        self._failed_requests = 0

    @property
    def dropped_messages(self) -> int:
        """Messages (or rows of them) dropped as malformed (the total of
        ``statistics().dropped``)."""
        return sum(self._dropped.values())

    @property
    def failed_requests(self) -> int:
        """Error replies to the client's requests (``{"status": 400, "error": ...}``)."""
        return self._failed_requests

    # ------------------------------------------------------------- reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """Mark unsynced the books fed by the connection that was re-established
        (all when ``ws`` is ``None``). The WebSocketApp subscribes again by itself,
        so a new ``partial`` follows; nothing is resubscribed here."""
        if not self._feeds.carried_books(ws):
            return
        self._resubscribe.suspended = True
        try:
            for symbol in self._feeds:
                feed = self._feeds.get(symbol)
                fed_by = None if feed is None else feed.ws
                if ws is None or fed_by is ws or getattr(fed_by, "closed", False) is True:
                    self._resubscribe.stop(symbol)
                    self.orderbook._invalidate(symbol, "WebSocket reconnected")
        finally:
            self._resubscribe.suspended = False
        self._feeds.reset_connection()

    # ----------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is not dict:
            self._count_dropped("not a JSON object", type(msg).__name__)
            return
        table = msg.get("table")
        if table is None:
            self._on_reply(msg)
            return
        handler = self._channel_handlers.get(table) if table.__class__ is str else None
        if handler is not None:
            handler(msg, ws)
        elif table.__class__ is not str:
            self._count_dropped("table is not a string")
        else:
            self._on_generic(table, msg)

    def _on_reply(self, msg: dict[str, Any]) -> None:
        """Welcome (``info``), subscribe/auth acknowledgements (``success``) and
        error replies (``error``, ``status``): no store takes them."""
        if "error" in msg:
            self._failed_requests += 1
            logger.warning(
                "bitmex: request failed (status %s): %s; request %s",
                msg.get("status"),
                str(msg.get("error"))[:200],
                str(msg.get("request"))[:200],
            )
        elif "info" not in msg and "success" not in msg:
            self._count_unhandled("<no table>")

    def _rows(self, table: str, msg: dict[str, Any]) -> tuple[str, list[Any]] | None:
        """``(action, rows)`` of a table message, or ``None`` (dropped, counted)."""
        action = msg.get("action")
        data = msg.get("data")
        if action not in _ACTIONS:
            self._count_dropped(f"{table}: unknown action", action)
            return None
        if data.__class__ is not list:
            self._count_dropped(f"{table}: data is not a list")
            return None
        return action, data

    def _objects(self, table: str, rows: list[Any]) -> list[Any]:
        objects = [row for row in rows if row.__class__ is dict]
        if len(objects) != len(rows):
            self._count_dropped(f"{table}: row is not an object")
        return objects

    def _on_table(self, msg: dict[str, Any], ws: Any) -> None:
        """Every table but the L2 books: https://www.bitmex.com/app/wsAPI
        ``{"table": "trade", "action": "insert", "data": [{"symbol": "XBTUSD", ...}]}``"""
        table: str = msg["table"]
        parsed = self._rows(table, msg)
        if parsed is None:
            return
        action, rows = parsed
        store = self._stores[table]
        assert isinstance(store, Table)
        self._apply_table(store, table, action, self._objects(table, rows), msg.get("filter"))

    def _apply_table(
        self, store: Table[Any], table: str, action: str, rows: list[Any], scope: Any
    ) -> None:
        if store is self.orderbook10:
            bad = [r for r in rows if not _image(r)]
            if bad:
                self._count_dropped("orderBook10: bids/asks are not level lists")
                rows = [r for r in rows if _image(r)]
        before = store.dropped
        store._apply_action(action, rows, scope if scope.__class__ is dict else None)
        if store.dropped > before:
            self._count_dropped(f"{table}: row without its keys")

    def _on_generic(self, table: str, msg: dict[str, Any]) -> None:
        """A table without a dedicated store: one is created on its first partial,
        keyed by the partial's ``keys`` (a log of 99,999 rows when it has none),
        within the collection's ``max_dynamic_stores`` (beyond: refused, counted)."""
        store = self._stores.get(table)
        if store is None:
            keys = msg.get("keys")
            if msg.get("action") != "partial":
                self._count_unhandled(table[:64])
                return
            if not (isinstance(keys, list) and all(k.__class__ is str for k in keys)):
                keys = []
            store = self._create_dynamic(table, keys=keys, datastore_class=Table if keys else Log)
            if store is None:
                return
        if not isinstance(store, Table):
            self._count_unhandled(table[:64])
            return
        parsed = self._rows(table, msg)
        if parsed is not None:
            action, rows = parsed
            self._apply_table(store, table, action, self._objects(table, rows), msg.get("filter"))

    def _on_orderbook_l2(self, msg: dict[str, Any], ws: Any) -> None:
        """``orderBookL2`` / ``orderBookL2_25``: https://www.bitmex.com/app/wsAPI
        ``{"table": "orderBookL2", "action": "update", "data": [{"symbol": "XBTUSD",
        "id": 8799999000, "side": "Sell", "size": 100}]}``"""
        table: str = msg["table"]
        parsed = self._rows(table, msg)
        if parsed is None:
            return
        action, rows = parsed
        by_symbol: dict[str, list[Any]] = {}
        for row in rows:
            symbol = row.get("symbol") if row.__class__ is dict else None
            if symbol.__class__ is not str:
                self._count_dropped(f"{table}: row without a symbol")
                continue
            by_symbol.setdefault(symbol, []).append(row)
        book = self.orderbook
        scope = msg.get("filter")
        filtered = scope.get("symbol") if scope.__class__ is dict else None
        if action == "partial" and filtered.__class__ is str:
            by_symbol.setdefault(filtered, [])  # an empty partial empties the book
        for symbol, symbol_rows in by_symbol.items():
            feed = self._feeds.get(symbol)
            if action == "partial":
                argument = f"{table}:{symbol}" if filtered.__class__ is str else table
                self._feeds.note(symbol, ws, table, argument)
                if book._on_partial(symbol, symbol_rows):
                    self._resubscribe.on_snapshot(symbol)
                else:
                    self._count_dropped(f"{table}: malformed partial")
                continue
            if feed is None or feed.ws is not ws or feed.channel != table:
                self._feeds.note(symbol, ws, table, f"{table}:{symbol}")
            if not book._on_rows(symbol, action, symbol_rows):
                self._count_dropped(f"{table}: malformed {action}")

    # ------------------------------------------------------------------- REST

    async def _onresponse(self, resp: ClientResponse, data: Any) -> None:
        """``initialize()``: ``GET /api/v1/order`` (live orders only),
        ``/position``, ``/instrument`` (and ``/instrument/active``),
        ``/user/margin``, ``/user/wallet``, ``/execution/tradeHistory``."""
        name = _REST_TABLES.get(resp.url.path.rstrip("/"))
        if name is None:
            await super()._onresponse(resp, data)
            return
        rows = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
        if rows is None:
            raise ValueError(f"bitmex {resp.url.path}: expected a list of rows, got {data!r:.100}")
        store = self._stores[name]
        assert isinstance(store, Table)
        # An insert: rows replace those with the same keys (closed orders leave).
        store._apply_action("insert", [r for r in rows if isinstance(r, dict)], None)


def _image(row: Any) -> bool:
    """Whether an ``orderBook10`` row has ``bids`` and ``asks`` level lists."""
    bids, asks = row.get("bids"), row.get("asks")
    return bids.__class__ is list and asks.__class__ is list
