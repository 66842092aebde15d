"""``bitbankDataStore``: bitbank's public stream (Socket.IO rooms).

Connect to ``wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket`` (or
``EIO=3``) and join rooms: ``send_json=[["join-room", "depth_whole_btc_jpy"],
["join-room", "depth_diff_btc_jpy"]]`` with ``hdlr_json=store.onmessage`` (the
WebSocket protocol frames and unframes the ``42`` Socket.IO events), or, as with the
reference library, ``send_str='42["join-room","depth_whole_btc_jpy"]'`` with
``hdlr_str=store.onmessage`` (raw ``42[...]`` text is parsed here).
https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md

Data arrives as ``["message", {"room_name": ..., "message": {"data": ...}}]``.
Rooms: ``transactions_{pair}``, ``depth_whole_{pair}``, ``depth_diff_{pair}``,
``ticker_{pair}``, ``circuit_break_info_{pair}``. See ``docs/exchanges/bitbank.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from ... import _json
from ..._collection import DataStoreCollection
from ..._recovery import BookFeeds
from ..._store import DataStore
from ..._storefield import StoreField
from ._book import Depth, parse_sequence
from ._items import CircuitBreakInfoItem, TickerItem, TransactionItem

__all__ = ["CircuitBreakInfo", "Depth", "Ticker", "Transactions", "bitbankDataStore"]

logger = logging.getLogger("datastores.exchanges.bitbank")

#: the room kinds, longest first (a room is ``<kind>_<pair>``, pairs are ``<base>_<quote>``)
_KINDS = ("circuit_break_info", "depth_whole", "depth_diff", "transactions", "ticker")


class Transactions(DataStore[TransactionItem]):
    """Public trades of ``transactions_{pair}`` (keyless, newest last, at most 99999)."""

    _MAXLEN = 99999


class Ticker(DataStore[TickerItem]):
    """The latest ``ticker_{pair}`` per ``pair`` (each message replaces it)."""

    _KEYS = ("pair",)


class CircuitBreakInfo(DataStore[CircuitBreakInfoItem]):
    """The latest ``circuit_break_info_{pair}`` per ``pair`` (each message replaces it):
    ``mode`` (``NONE``, ``CIRCUIT_BREAK``, ``FULL_RANGE_CIRCUIT_BREAK``,
    ``RESUMPTION``, ``LISTING``...), the estimated itayose price and amount, the
    trigger prices, ``reopen_timestamp``."""

    _KEYS = ("pair",)


def split_room(room: str) -> tuple[str, str] | None:
    """``(kind, pair)`` of a room name (``"depth_whole_btc_jpy"`` ->
    ``("depth_whole", "btc_jpy")``), or ``None`` when it is no room of ours."""
    for kind in _KINDS:
        if room.startswith(kind) and room[len(kind) : len(kind) + 1] == "_":
            pair = room[len(kind) + 1 :]
            return (kind, pair) if pair else None
    return None


class bitbankDataStore(DataStoreCollection):
    """bitbank public stream: ``transactions``, ``depth``, ``ticker``,
    ``circuit_break_info``.

    ``depth`` is kept by the exchange's recipe (see :class:`Depth`): each
    ``depth_whole`` replaces a pair's book and replays the newer diffs,
    ``depth_diff`` applies when newer than the last applied, diffs before the first
    whole wait for it. bitbank cannot prove a book complete (``status().verifiable``
    is ``False``); the next whole (every 15 s) repairs what a lost diff left.
    Messages it cannot read are counted in ``statistics().dropped``, rooms and
    events no store takes in ``statistics().unhandled``; nothing raises.
    """

    _EXCHANGE = "bitbank"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "transactions": "_on_transactions",
        "depth_whole": "_on_depth_whole",
        "depth_diff": "_on_depth_diff",
        "ticker": "_on_ticker",
        "circuit_break_info": "_on_circuit_break_info",
    }

    #: ``transactions_{pair}``: trades, keyless, ``pair`` added.
    transactions = StoreField(Transactions)
    #: ``depth_whole_{pair}`` + ``depth_diff_{pair}``: keys ``pair, side, price``.
    depth = StoreField(Depth)
    #: ``ticker_{pair}``: keys ``pair``.
    ticker = StoreField(Ticker)
    #: ``circuit_break_info_{pair}``: keys ``pair``.
    circuit_break_info = StoreField(CircuitBreakInfo)

    def _init(self) -> None:
        #: which connection feeds each pair's book (reconnects unsync only those)
        self._feeds = BookFeeds()

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is str:
            # hdlr_str: raw Engine.IO packets; only "42" carries an event.
            if not msg.startswith("42"):
                return  # open "0{...}", "40", ping "2", pong "3": control traffic
            try:
                msg = _json.loads(msg[2:])
            except ValueError:
                self._count_dropped("Socket.IO event that is not JSON")
                return
        if msg.__class__ is not list or not msg:
            self._count_dropped("message is not a Socket.IO event array", type(msg).__name__)
            return
        event = msg[0]
        if event != "message":
            self._count_unhandled(f"event {str(event)[:40]}")
            return
        payload = msg[1] if len(msg) > 1 else None
        room = payload.get("room_name") if payload.__class__ is dict else None
        if room.__class__ is not str:
            self._count_dropped("message without a room_name")
            return
        split = split_room(room)
        handler = self._channel_handlers.get(split[0]) if split is not None else None
        if split is None or handler is None:
            self._count_unhandled(room[:40])
            return
        handler(payload, ws)

    @staticmethod
    def _data(payload: dict[str, Any]) -> Any:
        message = payload.get("message")
        return message.get("data") if message.__class__ is dict else None

    def _on_transactions(self, payload: dict[str, Any], ws: Any) -> None:
        """``transactions_{pair}``: https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md#transactions
        ``{"transactions": [{"transaction_id": 1, "side": "buy", "price": "6000000",
        "amount": "0.01", "executed_at": 1700000000000}]}``"""
        pair = payload["room_name"][len("transactions_") :]
        data = self._data(payload)
        trades = data.get("transactions") if data.__class__ is dict else None
        if trades.__class__ is not list:
            self._count_dropped("transactions without a list", pair)
            return
        rows = [{**t, "pair": pair} for t in trades if t.__class__ is dict]
        if len(rows) != len(trades):
            self._count_dropped("transaction that is not an object", pair)
        self.transactions._insert(rows)

    def _on_ticker(self, payload: dict[str, Any], ws: Any) -> None:
        """``ticker_{pair}``: https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md#ticker
        ``{"sell": "...", "buy": "...", "open": "...", "high": "...", "low": "...",
        "last": "...", "vol": "...", "timestamp": 1700000000000}``"""
        pair = payload["room_name"][len("ticker_") :]
        data = self._data(payload)
        if data.__class__ is not dict:
            self._count_dropped("ticker without data", pair)
            return
        self.ticker._insert([{**data, "pair": pair}])

    def _on_circuit_break_info(self, payload: dict[str, Any], ws: Any) -> None:
        """``circuit_break_info_{pair}``: https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md#circuit-break-info
        ``{"mode": "NONE", "estimated_itayose_price": null, ..., "timestamp": 1700000000000}``"""
        pair = payload["room_name"][len("circuit_break_info_") :]
        data = self._data(payload)
        if data.__class__ is not dict:
            self._count_dropped("circuit_break_info without data", pair)
            return
        self.circuit_break_info._insert([{**data, "pair": pair}])

    def _note_feed(self, pair: str, ws: Any, room: str) -> None:
        feed = self._feeds.get(pair)
        if feed is None or feed.ws is not ws:
            self._feeds.note(pair, ws, room)

    def _on_depth_whole(self, payload: dict[str, Any], ws: Any) -> None:
        """``depth_whole_{pair}``: https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md#depth-whole
        ``{"asks": [["6000100", "0.1"]], "bids": [["6000000", "0.2"]], "asks_over": "12.3",
        ..., "timestamp": 1700000000000, "sequenceId": "1000"}``"""
        room = payload["room_name"]
        pair = room[len("depth_whole_") :]
        data = self._data(payload)
        sequence = parse_sequence(data.get("sequenceId")) if data.__class__ is dict else None
        if sequence is None:
            # The book is no worse for a whole we cannot read: the next one comes in 15 s.
            self._count_dropped("depth_whole without a readable sequenceId", pair)
            return
        self._note_feed(pair, ws, room)
        asks: Any = data.get("asks")
        bids: Any = data.get("bids")
        if self.depth.on_whole(pair, sequence, asks, bids, data.get("timestamp")) == "malformed":
            self._count_dropped("depth_whole (or a diff it replays) with bad levels", pair)

    def _on_depth_diff(self, payload: dict[str, Any], ws: Any) -> None:
        """``depth_diff_{pair}``: https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md#depth-diff
        ``{"a": [["6000100", "0"]], "b": [["6000050", "0.4"]], "t": 1700000000100,
        "s": "1003"}`` (absolute amounts, ``"0"`` deletes; ``a``/``b`` may be absent
        when only the outside quantities ``ao``/``bu``/... changed)."""
        room = payload["room_name"]
        pair = room[len("depth_diff_") :]
        data = self._data(payload)
        sequence = parse_sequence(data.get("s")) if data.__class__ is dict else None
        if sequence is None:
            self._count_dropped("depth_diff without a readable s", pair)
            self.depth.lose_diff(pair, "a depth_diff without a readable s")
            return
        self._note_feed(pair, ws, room)
        asks: Any = data.get("a", [])
        bids: Any = data.get("b", [])
        if asks.__class__ is not list or bids.__class__ is not list:
            self._count_dropped("depth_diff whose a or b is not a list", pair)
            self.depth.lose_diff(pair, "a depth_diff whose a or b is not a list", sequence)
            return
        if self.depth.on_diff(pair, sequence, asks, bids, data.get("t")) == "malformed":
            self._count_dropped("depth_diff with bad levels", pair)

    # ------------------------------------------------------------ reconnects

    def on_reconnect(self, ws: Any = None) -> None:
        """A WebSocketApp reconnected: the books that connection fed go unsynced and
        keep the new connection's diffs until the whole its rejoin brings."""
        if self._feeds.carried_books(ws):
            for pair in self._feeds.symbols_fed_by(ws) or self.depth.symbols:
                self.depth.forget_stream(pair, "reconnect")
                self._feeds.forget(pair)
        self._feeds.reset_connection()
