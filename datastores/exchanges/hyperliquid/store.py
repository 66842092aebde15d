"""``HyperliquidDataStore``: Hyperliquid's WebSocket subscriptions and info queries.

Feed it decoded messages of ``wss://api.hyperliquid.xyz/ws``
(``hdlr_json=store.onmessage``) and bootstrap it with ``POST /info`` responses
(``await store.initialize(client.post(".../info", data={...}))``). Subscriptions:
https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket/subscriptions
Every message is ``{"channel": ..., "data": ...}``. See ``docs/exchanges/hyperliquid.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from ..._collection import DataStoreCollection
from ..._recovery import BookFeeds
from ..._storefield import StoreField
from ._stores import (
    ActiveAssetCtx,
    ActiveAssetData,
    AllMids,
    Bbo,
    Candle,
    ClearinghouseState,
    L2Book,
    LedgerUpdates,
    Notification,
    OrderUpdates,
    Positions,
    Trades,
    TwapHistory,
    TwapSliceFills,
    UserEvents,
    UserFills,
    UserFundings,
    UserSnapshotLog,
    WebData2,
)

__all__ = ["HyperliquidDataStore"]

logger = logging.getLogger("datastores.exchanges.hyperliquid")

#: channels that carry nothing for a store (acks and answers)
_SILENT = frozenset({"subscriptionResponse", "pong", "post"})


class HyperliquidDataStore(DataStoreCollection):
    """Hyperliquid public and user streams (perpetuals and spot, mainnet or testnet).

    Stores (attribute, store name): ``all_mids`` (allMids), ``notification``,
    ``web_data2`` (webData2), ``candle``, ``l2_book`` (l2Book), ``trades``,
    ``order_updates`` (orderUpdates), ``user_events`` (userEvents),
    ``user_fills`` (userFills), ``user_fundings`` (userFundings),
    ``user_non_funding_ledger_updates`` (userNonFundingLedgerUpdates),
    ``active_asset_ctx`` (activeAssetCtx), ``active_asset_data``
    (activeAssetData), ``user_twap_slice_fills`` (userTwapSliceFills),
    ``user_twap_history`` (userTwapHistory), ``bbo``, ``positions``,
    ``clearinghouse_state`` (clearinghouseState).

    User streams whose first message is a snapshot (``isSnapshot``: fills,
    fundings, ledger updates, TWAP fills and history) replace that user's rows
    with it, so a reconnect does not duplicate them.

    ``initialize()`` takes ``POST /info`` responses: ``frontendOpenOrders`` or
    ``openOrders`` (replaces ``order_updates``), ``clearinghouseState``
    (``positions`` and ``clearinghouse_state``), ``userFills`` / ``userFillsByTime``
    (``user_fills``, keyed so the stream's snapshot does not duplicate them),
    ``l2Book`` (the coin's book). The response does not name its query, so it is
    recognised by its shape; an empty list changes nothing (it could be either).
    """

    _EXCHANGE = "hyperliquid"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "allMids": "_on_all_mids",
        "notification": "_on_notification",
        "webData2": "_on_web_data2",
        "candle": "_on_candle",
        "l2Book": "_on_l2_book",
        "trades": "_on_trades",
        "orderUpdates": "_on_order_updates",
        "user": "_on_user_events",
        "userFills": "_on_user_fills",
        "userFundings": "_on_user_fundings",
        "userNonFundingLedgerUpdates": "_on_ledger_updates",
        "activeAssetCtx": "_on_active_asset_ctx",
        "activeSpotAssetCtx": "_on_active_asset_ctx",
        "activeAssetData": "_on_active_asset_data",
        "userTwapSliceFills": "_on_twap_slice_fills",
        "userTwapHistory": "_on_twap_history",
        "bbo": "_on_bbo",
        "clearinghouseState": "_on_clearinghouse_state",
        "openOrders": "_on_open_orders",
        "error": "_on_error",
    }

    #: ``allMids``: mid per ``coin``.
    all_mids = StoreField(AllMids, "allMids")
    #: ``notification``: text notifications.
    notification = StoreField(Notification)
    #: ``webData2``: aggregate state per ``user``.
    web_data2 = StoreField(WebData2, "webData2")
    #: ``candle``: keys ``t, T, s, i``.
    candle = StoreField(Candle)
    #: ``l2Book``: whole books per ``coin`` (keys ``coin, side, px``; ``side`` ``A``/``B``).
    l2_book = StoreField(L2Book, "l2Book")
    #: ``trades``: keys ``coin, tid``.
    trades = StoreField(Trades)
    #: ``orderUpdates``: resting orders, keys ``coin, oid``.
    order_updates = StoreField(OrderUpdates, "orderUpdates")
    #: ``user`` channel (userEvents): events with their ``type``.
    user_events = StoreField(UserEvents, "userEvents")
    #: ``userFills``: keys ``oid, tid`` (a fill is never listed twice).
    user_fills = StoreField(UserFills, "userFills", keys=("oid", "tid"))
    #: ``userFundings``.
    user_fundings = StoreField(UserFundings, "userFundings")
    #: ``userNonFundingLedgerUpdates``.
    user_non_funding_ledger_updates = StoreField(LedgerUpdates, "userNonFundingLedgerUpdates")
    #: ``activeAssetCtx`` (and ``activeSpotAssetCtx``): keys ``coin``.
    active_asset_ctx = StoreField(ActiveAssetCtx, "activeAssetCtx")
    #: ``activeAssetData``: keys ``user, coin``.
    active_asset_data = StoreField(ActiveAssetData, "activeAssetData")
    #: ``userTwapSliceFills``.
    user_twap_slice_fills = StoreField(TwapSliceFills, "userTwapSliceFills")
    #: ``userTwapHistory``.
    user_twap_history = StoreField(TwapHistory, "userTwapHistory")
    #: ``bbo``: keys ``coin``.
    bbo = StoreField(Bbo)
    #: perpetual positions, keys ``coin`` (from clearinghouse states).
    positions = StoreField(Positions)
    #: the latest clearinghouse state (one row).
    clearinghouse_state = StoreField(ClearinghouseState, "clearinghouseState")

    def _init(self) -> None:
        self._feeds = BookFeeds()

    @property
    def dropped_messages(self) -> int:
        """Messages (or parts) dropped as malformed: the total of ``statistics().dropped``."""
        return sum(self.statistics().dropped.values())

    # ----------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        channel = msg.get("channel") if msg.__class__ is dict else None
        if channel.__class__ is not str:
            self._count_dropped("message without a channel")
            return
        handler = self._channel_handlers.get(channel)
        if handler is not None:
            if "data" not in msg:
                self._count_dropped("message without data", channel)
                return
            handler(msg, ws)
        elif channel not in _SILENT:
            self._count_unhandled(channel)

    def _data(self, msg: dict[str, Any], kind: type) -> Any:
        data = msg["data"]
        if not isinstance(data, kind):
            self._count_dropped(f"{msg['channel']} data is not a {kind.__name__}")
            return None
        return data

    # ---------------------------------------------------------------- handlers

    def _on_all_mids(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"allMids","data":{"mids":{"BTC":"65000.5",...}}}``"""
        data = self._data(msg, dict)
        if data is not None and isinstance(data.get("mids"), dict):
            self.all_mids._on_mids(data["mids"])
        elif data is not None:
            self._count_dropped("allMids without mids")

    def _on_notification(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"notification","data":{"notification":"..."}}``"""
        data = self._data(msg, dict)
        if data is not None:
            self.notification._insert([data])

    def _on_web_data2(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"webData2","data":{"user":...,"clearinghouseState":{...},...}}``"""
        data = self._data(msg, dict)
        if data is None:
            return
        self.web_data2._update([data])
        state = data.get("clearinghouseState")
        if isinstance(state, dict):
            self._apply_clearinghouse_state(state, data.get("user"))

    def _on_candle(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"candle","data":{"t":..,"T":..,"s":"BTC","i":"1m","o":..}}``"""
        data = msg["data"]
        rows = data if isinstance(data, list) else [data]
        if not all(isinstance(row, dict) for row in rows):
            self._count_dropped("candle data is not an object")
            return
        self.candle._insert(rows)

    def _on_l2_book(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"l2Book","data":{"coin":"BTC","time":1700000000000,
        "levels":[[{"px":"30000.0","sz":"1.5","n":3}],[{"px":"30001.0",...}]]}}``

        Every frame is the whole book (bids then asks, best first): it replaces.
        """
        data = self._data(msg, dict)
        if data is None:
            return
        coin, time, levels = data.get("coin"), data.get("time"), data.get("levels")
        if (
            not isinstance(coin, str)
            or not isinstance(time, int)
            or not isinstance(levels, list)
            or len(levels) != 2
            or not all(isinstance(side, list) for side in levels)
        ):
            self._count_dropped("malformed l2Book", coin)
            if isinstance(coin, str) and coin in self.l2_book.symbols:
                self.l2_book._fail(coin, "error", "malformed l2Book frame")
            return
        feed = self._feeds.get(coin)
        if feed is None or feed.ws is not ws:
            self._feeds.note(coin, ws, "l2Book")
        if self.l2_book._on_frame(coin, time, levels[0], levels[1]) == "malformed":
            self._count_dropped("malformed l2Book level", coin)

    def _on_trades(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"trades","data":[{"coin":"BTC","side":"B","px":..,"tid":..}]}``"""
        data = self._data(msg, list)
        if data is not None:
            self.trades._insert([row for row in data if isinstance(row, dict)])

    def _on_order_updates(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"orderUpdates","data":[{"order":{...},"status":"open",
        "statusTimestamp":..}]}``"""
        data = self._data(msg, list)
        if data is not None:
            self.order_updates._on_updates(data)

    def _on_user_events(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"user","data":{"fills":[...]}}`` (or ``funding``,
        ``liquidation``, ``nonUserCancel``): each event gets its ``type``."""
        data = self._data(msg, dict)
        if data is None:
            return
        rows: list[dict[str, Any]] = []
        for kind, value in data.items():
            for event in value if isinstance(value, list) else [value]:
                if isinstance(event, dict):
                    rows.append({**event, "type": kind})
                else:
                    self._count_dropped("userEvents event is not an object", kind)
        self.user_events._insert(rows)

    def _snapshot_stream(
        self, msg: dict[str, Any], field: str, store: UserSnapshotLog[Any]
    ) -> None:
        data = self._data(msg, dict)
        if data is None:
            return
        rows, user = data.get(field), data.get("user")
        if not isinstance(rows, list) or not isinstance(user, str):
            self._count_dropped(f"{msg['channel']} without user or {field}")
            return
        good = [row for row in rows if isinstance(row, dict)]
        if len(good) != len(rows):
            self._count_dropped(f"{msg['channel']} row is not an object")
        store._on_rows(user, good, data.get("isSnapshot") is True)

    def _on_user_fills(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"userFills","data":{"isSnapshot":true,"user":..,"fills":[..]}}``"""
        self._snapshot_stream(msg, "fills", self.user_fills)

    def _on_user_fundings(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"userFundings","data":{"isSnapshot":true,"user":..,"fundings":[..]}}``"""
        self._snapshot_stream(msg, "fundings", self.user_fundings)

    def _on_ledger_updates(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"userNonFundingLedgerUpdates","data":{"user":..,
        "nonFundingLedgerUpdates":[..]}}``"""
        self._snapshot_stream(msg, "nonFundingLedgerUpdates", self.user_non_funding_ledger_updates)

    def _on_twap_slice_fills(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"userTwapSliceFills","data":{"user":..,"twapSliceFills":[..]}}``"""
        self._snapshot_stream(msg, "twapSliceFills", self.user_twap_slice_fills)

    def _on_twap_history(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"userTwapHistory","data":{"user":..,"history":[..]}}``"""
        self._snapshot_stream(msg, "history", self.user_twap_history)

    def _on_active_asset_ctx(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":..}}}``"""
        data = self._data(msg, dict)
        if data is None:
            return
        coin, ctx = data.get("coin"), data.get("ctx")
        if not isinstance(coin, str) or not isinstance(ctx, dict):
            self._count_dropped("activeAssetCtx without coin or ctx")
            return
        self.active_asset_ctx._update([{"coin": coin, **ctx}])

    def _on_active_asset_data(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"activeAssetData","data":{"user":..,"coin":..,"leverage":{..}}}``"""
        data = self._data(msg, dict)
        if data is not None:
            self.active_asset_data._update([data])

    def _on_bbo(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"bbo","data":{"coin":"BTC","time":..,"bbo":[bid|null,ask|null]}}``"""
        data = self._data(msg, dict)
        if data is not None:
            self.bbo._update([data])

    def _on_clearinghouse_state(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"clearinghouseState","data":{"user":..,"clearinghouseState":{..}}}``"""
        data = self._data(msg, dict)
        if data is None:
            return
        state = data.get("clearinghouseState")
        if not isinstance(state, dict):
            self._count_dropped("clearinghouseState without a state")
            return
        self._apply_clearinghouse_state(state, data.get("user"))

    def _on_open_orders(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"openOrders","data":{"user":..,"orders":[..]}}``: every resting order."""
        data = self._data(msg, dict)
        if data is None:
            return
        orders = data.get("orders")
        if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
            self._count_dropped("openOrders without orders")
            return
        self.order_updates._replace_orders(orders)

    def _on_error(self, msg: dict[str, Any], ws: Any) -> None:
        """``{"channel":"error","data":"Already subscribed: ..."}``: logged and counted."""
        logger.warning("Hyperliquid error message: %.200s", msg["data"])
        self._count_unhandled("error")

    def _apply_clearinghouse_state(self, state: Mapping[str, Any], user: Any) -> None:
        positions = state.get("assetPositions")
        if isinstance(positions, list):
            self.positions._replace_positions(
                entry
                for entry in positions
                if isinstance(entry, dict) and isinstance(entry.get("position"), dict)
            )
        self.clearinghouse_state._replace_state(state, user if isinstance(user, str) else None)

    # -------------------------------------------------------------- reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """The books ``ws`` fed are unsynced until their next whole frame.

        The WebSocketApp passes the new connection: books fed by a connection to
        the same URL count as its own (the old connection object is gone).
        """
        coins = self._feeds.symbols_fed_by(ws)
        url = getattr(ws, "url", None)
        if not coins and url is not None:
            for coin in self._feeds:
                feed = self._feeds.get(coin)
                if feed is not None and str(getattr(feed.ws, "url", None)) == str(url):
                    coins.append(coin)
        for coin in coins:
            if coin in self.l2_book.symbols:
                self.l2_book._invalidate(coin, "reconnect: waiting for the next l2Book frame")

    # ------------------------------------------------------------- initialize

    async def _onresponse(self, resp: Any, data: Any) -> None:
        """``POST /info`` answers, recognised by shape (see the class docstring)."""
        if resp.url.path != "/info":
            await super()._onresponse(resp, data)
            return
        if isinstance(data, list):
            if not data:
                return
            first = data[0]
            if isinstance(first, dict) and "tid" in first:
                self.user_fills._insert([row for row in data if isinstance(row, dict)])
                return
            if isinstance(first, dict) and "oid" in first and "limitPx" in first:
                self.order_updates._replace_orders(row for row in data if isinstance(row, dict))
                return
        elif isinstance(data, dict):
            if "assetPositions" in data:
                self._apply_clearinghouse_state(data, None)
                return
            if "levels" in data and "coin" in data:
                self._on_l2_book({"channel": "l2Book", "data": data}, None)
                return
        raise ValueError(
            "HyperliquidDataStore.initialize() understands the info answers of "
            "frontendOpenOrders, openOrders, clearinghouseState, userFills and l2Book; "
            f"got {type(data).__name__} it does not recognise"
        )
