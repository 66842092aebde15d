"""bitFlyer Lightning DataStore collection (Realtime API, JSON-RPC 2.0 over WebSocket).

Feed it ``wss://ws.lightstream.bitflyer.com/json-rpc`` (``hdlr_json=store.onmessage``)
after subscribing, e.g.::

    {"jsonrpc": "2.0", "method": "subscribe", "id": 1,
     "params": {"channel": "lightning_board_snapshot_FX_BTC_JPY"}}
    {"jsonrpc": "2.0", "method": "subscribe", "id": 2,
     "params": {"channel": "lightning_board_FX_BTC_JPY"}}

Messages are notifications ``{"jsonrpc": "2.0", "method": "channelMessage",
"params": {"channel": ..., "message": ...}}``
(https://bf-lightning-api.readme.io/docs/endpoint-json-rpc). Keep the snapshot
channel subscribed: bitFlyer sends it every few seconds and each one replaces the
book, which is the only way the book recovers from a missed diff (see ``_board.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from ..._collection import DataStoreCollection, Handler
from ..._recovery import RESUBSCRIBE_TIMEOUT, BookFeed, BookFeeds, ResubscribeRecovery
from ..._storefield import StoreField
from ._account import Balance, Collateral, Positions
from ._board import Board, parse_levels
from ._stores import (
    ChildOrderEvents,
    ChildOrders,
    Executions,
    ParentOrderEvents,
    ParentOrders,
    Ticker,
)

__all__ = ["bitFlyerDataStore"]

logger = logging.getLogger("datastores.exchanges.bitflyer")

#: channels named by a prefix and the product code; a snapshot channel also starts
#: with the diff channel's prefix, so routing tries the longest prefix first.
_PREFIXES = (
    "lightning_board_snapshot_",
    "lightning_board_",
    "lightning_ticker_",
    "lightning_executions_",
)
_SNAPSHOT, _DIFF, _TICKER, _EXECUTIONS = (len(prefix) for prefix in _PREFIXES)
#: JSON-RPC errors that are no failure of ours: "already subscribed"
#: (https://bf-lightning-api.readme.io/docs/endpoint-json-rpc; -32009 observed)
_BENIGN_ERRORS = frozenset({-32009})
#: most channel names cached with their route
_MAX_ROUTES = 4096


class bitFlyerDataStore(DataStoreCollection):
    """bitFlyer: ``board``, ``ticker``, ``executions``, ``childorderevents``,
    ``childorders``, ``parentorderevents``, ``parentorders``, ``positions``,
    ``collateral``, ``balance``.

    ``initialize()`` takes the REST responses of ``/v1/me/getchildorders``,
    ``/v1/me/getparentorders``, ``/v1/me/getpositions`` (each replacing that
    ``product_code``'s items), ``/v1/me/getcollateral`` and ``/v1/me/getbalance``.
    Messages it cannot read are counted in ``statistics().dropped``, channels no
    store takes in ``statistics().unhandled``; neither raises into the WebSocket loop.
    """

    _EXCHANGE = "bitflyer"
    #: channel, or channel prefix (followed by the product code) -> handler; every
    #: handler gets ``(params, ws)``: the notification's ``{"channel", "message"}``.
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "lightning_board_snapshot_": "_on_board_snapshot",
        "lightning_board_": "_on_board",
        "lightning_ticker_": "_on_ticker",
        "lightning_executions_": "_on_executions",
        "child_order_events": "_on_child_order_events",
        "parent_order_events": "_on_parent_order_events",
    }

    #: ``lightning_board_snapshot_{pc}`` + ``lightning_board_{pc}``: product_code, side, price.
    board = StoreField(Board)
    #: ``lightning_ticker_{pc}``, keyed by product_code.
    ticker = StoreField(Ticker)
    #: ``lightning_executions_{pc}``, newest last.
    executions = StoreField(Executions)
    #: ``child_order_events`` as sent.
    childorderevents = StoreField(ChildOrderEvents)
    #: active child orders, keyed by child_order_acceptance_id.
    childorders = StoreField(ChildOrders)
    #: ``parent_order_events`` as sent.
    parentorderevents = StoreField(ParentOrderEvents)
    #: active parent orders, keyed by parent_order_acceptance_id.
    parentorders = StoreField(ParentOrders)
    #: open lots of margin products (REST, then executions).
    positions = StoreField(Positions)
    #: the collateral (REST, then realised profit).
    collateral = StoreField(Collateral)
    #: balances by currency_code (REST, then spot executions).
    balance = StoreField(Balance)

    def _init(self) -> None:
        #: channel -> handler, filled as channels are seen (bounded)
        self._routes: dict[str, Handler] = {}
        #: product_code -> snapshots installed on the current connection
        self._snapshots: dict[str, int] = {}
        self._feeds = BookFeeds()
        # bitFlyer sends the next snapshot by itself: wait for it, and only if none
        # comes (the snapshot channel is not subscribed, or went silent) subscribe it.
        self._recovery = ResubscribeRecovery(
            self._background,
            self.board,
            self._feeds,
            messages=self._snapshot_subscription,
            logger=logger,
            restart=False,
            first_wait=RESUBSCRIBE_TIMEOUT,
        )
        self.board.resync_hook = self._recovery.request

    @staticmethod
    def _snapshot_subscription(feed: BookFeed) -> list[dict[str, Any]]:
        channel = f"lightning_board_snapshot_{feed.args}"
        return [
            {"jsonrpc": "2.0", "method": "unsubscribe", "params": {"channel": channel}},
            {"jsonrpc": "2.0", "method": "subscribe", "params": {"channel": channel}},
        ]

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is list:  # a JSON-RPC batch's answers
            for reply in msg:
                self._onmessage(reply, ws)
            return
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        if msg.get("method") != "channelMessage":
            self._on_reply(msg)
            return
        params = msg.get("params")
        channel = params.get("channel") if params.__class__ is dict else None
        if channel.__class__ is not str:
            self._count_dropped("channelMessage without a channel")
            return
        handler = self._routes.get(channel)
        if handler is None:
            handler = self._route(channel)
            if handler is None:
                self._count_unhandled(channel[:60])
                return
        handler(params, ws)

    def _route(self, channel: str) -> Handler | None:
        handler = self._channel_handlers.get(channel)
        if handler is None:
            for prefix in _PREFIXES:
                if channel.startswith(prefix) and len(channel) > len(prefix):
                    handler = self._channel_handlers[prefix]
                    break
            else:
                return None
        if len(self._routes) < _MAX_ROUTES:
            self._routes[channel] = handler
        return handler

    def _on_reply(self, msg: dict[str, Any]) -> None:
        """A JSON-RPC response to a request (``{"id": n, "result": true}`` or ``error``)."""
        if "result" in msg or "error" in msg:
            error = msg.get("error")
            if error is not None:
                code = error.get("code") if error.__class__ is dict else None
                level = logging.DEBUG if code in _BENIGN_ERRORS else logging.WARNING
                logger.log(level, "bitFlyer: request %r failed: %.300s", msg.get("id"), error)
            return
        self._count_unhandled(f"method {str(msg.get('method'))[:40]}")

    # ------------------------------------------------------------------ board

    def _admit(self, product_code: str) -> bool:
        """Whether a board message of ``product_code`` may be kept: a known product,
        or a new one while the board, ``mid_price`` and the snapshot numbers hold
        fewer than ``max_symbols`` products. A refused one is counted
        (``board.symbols_refused``) and nothing is kept for it. O(1)."""
        board = self.board
        if product_code in self._snapshots or product_code in board.mid_price:
            return True
        return not board._refuse_new(product_code, board.mid_price, self._snapshots)

    def _note_feed(self, product_code: str, ws: Any) -> None:
        feed = self._feeds.get(product_code)
        if feed is None or feed.ws is not ws:
            self._feeds.note(product_code, ws, "lightning_board", product_code)

    def _on_board_snapshot(self, params: dict[str, Any], ws: Any) -> None:
        """``lightning_board_snapshot_{pc}``:
        https://bf-lightning-api.readme.io/docs/realtime-board-snapshot
        ``{"mid_price": 5000000, "bids": [{"price": 4999000, "size": 0.5}], "asks": [...]}``"""
        message: Any = params.get("message")
        product_code: str = params["channel"][_SNAPSHOT:]
        try:
            asks, bids = parse_levels(message["asks"]), parse_levels(message["bids"])
        except (ValueError, TypeError, KeyError) as exc:
            self._count_dropped("board snapshot with unreadable levels", f"{product_code}: {exc}")
            return
        if not self._admit(product_code):
            return
        self._note_feed(product_code, ws)
        mid = message.get("mid_price")
        if mid.__class__ in (int, float):
            self.board.mid_price[product_code] = mid
        number = self._snapshots.get(product_code, 0) + 1
        self._snapshots[product_code] = number
        if self.board._install_snapshot(product_code, asks, bids, number):
            self._recovery.on_snapshot(product_code)

    def _on_board(self, params: dict[str, Any], ws: Any) -> None:
        """``lightning_board_{pc}``: https://bf-lightning-api.readme.io/docs/realtime-board
        ``{"mid_price": 5000500, "bids": [{"price": 4999000, "size": 0}], "asks": [...]}``"""
        message: Any = params.get("message")
        product_code: str = params["channel"][_DIFF:]
        board = self.board
        try:
            asks, bids = parse_levels(message["asks"]), parse_levels(message["bids"])
        except (ValueError, TypeError, KeyError) as exc:
            self._count_dropped("board diff with unreadable levels", f"{product_code}: {exc}")
            if product_code in self._snapshots and board.is_synced(product_code):
                # A diff we cannot read is a diff missed: the book may be wrong now.
                board._fail(product_code, "error", f"unreadable diff ({exc})")
            return
        if not self._admit(product_code):
            return
        self._note_feed(product_code, ws)
        mid = message.get("mid_price")
        if mid.__class__ in (int, float):
            board.mid_price[product_code] = mid
        if product_code not in self._snapshots:
            # Diffs sent before the first snapshot (4 to 33 on the wire) cannot be
            # placed against it: the snapshot replaces everything anyway.
            return
        board._apply_diff(product_code, asks, bids, mid)

    # ------------------------------------------------------------ market data

    def _on_ticker(self, params: dict[str, Any], ws: Any) -> None:
        """``lightning_ticker_{pc}``: https://bf-lightning-api.readme.io/docs/realtime-ticker"""
        message: Any = params.get("message")
        product_code: str = params["channel"][_TICKER:]
        if message.__class__ is not dict:
            self._count_dropped("ticker that is not an object", product_code)
            return
        self.ticker._update([{**message, "product_code": product_code}])

    def _on_executions(self, params: dict[str, Any], ws: Any) -> None:
        """``lightning_executions_{pc}``:
        https://bf-lightning-api.readme.io/docs/realtime-executions
        ``[{"id": 1, "side": "BUY", "price": 5000000, "size": 0.01, "exec_date": ...}]``"""
        message: Any = params.get("message")
        product_code: str = params["channel"][_EXECUTIONS:]
        if message.__class__ is not list:
            self._count_dropped("executions that are not a list", product_code)
            return
        items = [{**e, "product_code": product_code} for e in message if e.__class__ is dict]
        if len(items) != len(message):
            self._count_dropped("execution that is not an object", product_code)
        self.executions._insert(items)

    # ---------------------------------------------------------------- private

    def _events(self, message: Any, what: str) -> list[dict[str, Any]] | None:
        if message.__class__ is not list:
            self._count_dropped(f"{what} that are not a list")
            return None
        events = [
            e for e in message if e.__class__ is dict and e.get("event_type").__class__ is str
        ]
        if len(events) != len(message):
            self._count_dropped(f"{what}: an event without an event_type")
        return events

    def _on_child_order_events(self, params: dict[str, Any], ws: Any) -> None:
        """``child_order_events``:
        https://bf-lightning-api.readme.io/docs/realtime-child-order-events
        ``[{"product_code": "FX_BTC_JPY", "child_order_acceptance_id": "JRF...",
        "event_type": "EXECUTION", "side": "BUY", "price": 5000000, "size": 0.01,
        "commission": 0, "sfd": 0, "outstanding_size": 0, ...}]``"""
        events = self._events(params.get("message"), "child order events")
        if events is None:
            return
        self.childorderevents._insert(events)
        self.childorders._on_events(events)
        for event in events:
            if event.get("event_type") == "EXECUTION":
                self.positions._on_execution(event, self.collateral)
                self.balance._on_execution(event)

    def _on_parent_order_events(self, params: dict[str, Any], ws: Any) -> None:
        """``parent_order_events``:
        https://bf-lightning-api.readme.io/docs/realtime-parent-order-events"""
        events = self._events(params.get("message"), "parent order events")
        if events is None:
            return
        self.parentorderevents._insert(events)
        self.parentorders._on_events(events)

    # ------------------------------------------------------------------- REST

    async def _onresponse(self, resp: Any, data: Any) -> None:
        """``initialize()``: https://lightning.bitflyer.com/docs (private API)."""
        path = resp.url.path.rstrip("/")
        product_code = resp.url.query.get("product_code")
        if path.endswith("/v1/me/getchildorders"):
            self.childorders._on_rest(product_code, self._list(data, path))
        elif path.endswith("/v1/me/getparentorders"):
            self.parentorders._on_rest(product_code, self._list(data, path))
        elif path.endswith("/v1/me/getpositions"):
            self.positions._on_rest(product_code, self._list(data, path))
        elif path.endswith("/v1/me/getcollateral"):
            self.collateral._on_rest(data)
        elif path.endswith("/v1/me/getbalance"):
            self.balance._on_rest(self._list(data, path))
        else:
            await super()._onresponse(resp, data)

    @staticmethod
    def _list(data: Any, path: str) -> list[Any]:
        if data.__class__ is not list:
            raise ValueError(f"bitFlyer {path}: expected a JSON list, got {type(data).__name__}")
        return list(data)

    # ------------------------------------------------------------ reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books ``ws`` fed go unsynced and ignore
        diffs until the next snapshot on the new connection (nothing missed while
        disconnected can be replayed: https://bf-lightning-api.readme.io/docs/realtime-api)."""
        if self._feeds.carried_books(ws):
            self._recovery.on_reconnect(ws)
            self._recovery.suspended = True  # the app resubscribes by itself
            try:
                for product_code in self._feeds.symbols_fed_by(ws) or self.board.symbols:
                    self._snapshots.pop(product_code, None)
                    self.board._invalidate(product_code, "reconnect")
            finally:
                self._recovery.suspended = False
        self._feeds.reset_connection()
