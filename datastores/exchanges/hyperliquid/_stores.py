"""Hyperliquid stores: the whole-book ``l2Book`` store and the user-stream stores.

The collection (:mod:`.store`) validates message envelopes and hands each store
lists of item dicts; stores never mutate an incoming dict (flattened or tagged
rows are new dicts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from ..._orderbook import BookStatus, OrderBookStore
from ..._store import DataStore, Item, ItemT
from ._items import (
    ActiveAssetCtxItem,
    ActiveAssetDataItem,
    AllMidsItem,
    BboItem,
    CandleItem,
    ClearinghouseStateItem,
    L2BookItem,
    LedgerUpdateItem,
    NotificationItem,
    OrderUpdateItem,
    PositionItem,
    TradeItem,
    TwapHistoryItem,
    TwapSliceFillItem,
    UserEventItem,
    UserFillItem,
    UserFundingItem,
    WebData2Item,
)

__all__ = [
    "LIVE_ORDER_STATUSES",
    "ActiveAssetCtx",
    "ActiveAssetData",
    "AllMids",
    "Bbo",
    "Candle",
    "ClearinghouseState",
    "HyperliquidBookStatus",
    "L2Book",
    "LedgerUpdates",
    "Notification",
    "OrderUpdates",
    "Positions",
    "Trades",
    "TwapHistory",
    "TwapSliceFills",
    "UserEvents",
    "UserFills",
    "UserFundings",
    "UserSnapshotLog",
    "WebData2",
]

#: ``orderUpdates`` statuses after which the order still rests: it is upserted.
#: ``triggered`` is kept because a triggered TP/SL becomes a resting order (whether
#: the exchange then re-sends it as ``open`` is unconfirmed). Every other status,
#: including ones this library has never seen, ends the order: it leaves the store.
LIVE_ORDER_STATUSES = frozenset({"open", "triggered"})

_BOOK_RULE = (
    "each l2Book frame is a whole book (20 levels per side, 5 with fast): replaced; "
    "no sequence number or checksum, so a lost frame cannot be detected"
)


@dataclass(frozen=True, slots=True)
class HyperliquidBookStatus(BookStatus):
    """:class:`~datastores.BookStatus` plus Hyperliquid's book rule in words.

    ``verifiable`` is always ``False``: frames carry no sequence or checksum, so
    ``synced`` means "the last frame was whole and well formed", not "nothing was
    lost"; a lost frame is healed by the next one.

    Attributes:
        rule: the book rule, in words.
    """

    rule: str = _BOOK_RULE


class L2Book(OrderBookStore[L2BookItem]):
    """``l2Book``: per coin, the last whole book received (keys ``coin, side, px``).

    Each frame replaces the coin's book: O(n log n) for n levels (n <= 40 by
    default). ``last_update_id`` in :meth:`status` is the frame's ``time`` (ms).
    A frame older than the one applied (another connection lagging) is dropped
    and counted as ``stale``. A reconnect marks the books unsynced until their
    next frame. Two subscriptions of one coin with different ``nSigFigs`` feed the
    same book (frames do not say which aggregation they carry): subscribe one.
    """

    _VERIFICATION = (("none",), "whole frames without ids: a lost one cannot be seen")

    _SYMBOL = "coin"
    _SIDE = "side"
    _PRICE = "px"
    _SIZE = "sz"
    _ASK = "A"
    _BID = "B"
    _LEVEL_FIELDS = ("px", "sz", "n")
    _VERIFIABLE = False  # whole frames with neither a sequence nor a checksum

    def _init(self) -> None:
        super()._init()
        self._time: int | None = None

    @property
    def time(self) -> int | None:
        """``time`` (ms) of the latest frame applied, any coin; ``None`` before one."""
        return self._time

    def status(self, symbol: str) -> HyperliquidBookStatus:
        """Integrity of ``coin``'s book (see :class:`HyperliquidBookStatus`). O(1)."""
        base = super().status(symbol)
        return HyperliquidBookStatus(**{f.name: getattr(base, f.name) for f in fields(BookStatus)})

    def _on_frame(
        self, coin: str, time: int, bids: Sequence[Any], asks: Sequence[Any]
    ) -> Literal["applied", "stale", "malformed", "refused"]:
        """Replace ``coin``'s book with one frame; a malformed one unsyncs the book.
        ``"refused"``: a new coin beyond ``max_symbols`` (counted, nothing kept)."""
        if coin not in self._states and self._refuse_new(coin):
            return "refused"
        state = self._state(coin)
        last = state.last_id
        if last is not None and time < last and state.phase != "unsynced":
            state.stale += 1
            return "stale"
        try:
            ask_levels = [[level["px"], level["sz"], level["n"]] for level in asks]
            bid_levels = [[level["px"], level["sz"], level["n"]] for level in bids]
        except (KeyError, TypeError) as exc:
            self._fail(coin, "error", f"malformed l2Book level ({type(exc).__name__})")
            return "malformed"
        if not self._replace(coin, ask_levels, bid_levels, time):
            return "malformed"
        self._time = time if self._time is None or time > self._time else self._time
        return "applied"


class AllMids(DataStore[AllMidsItem]):
    """``allMids``: mid price per coin (keys ``coin``)."""

    _KEYS = ("coin",)

    def _on_mids(self, mids: Mapping[str, Any]) -> None:
        self._update([{"coin": coin, "px": px} for coin, px in mids.items()])


class Notification(DataStore[NotificationItem]):
    """``notification``: text notifications, newest last."""


class WebData2(DataStore[WebData2Item]):
    """``webData2``: the latest aggregate state per ``user`` (each push replaces it)."""

    _KEYS = ("user",)


class Candle(DataStore[CandleItem]):
    """``candle``: one row per candle (keys ``t, T, s, i``); a repeated push replaces it."""

    _KEYS = ("t", "T", "s", "i")
    _MAXLEN = 99999


class Trades(DataStore[TradeItem]):
    """``trades``: newest last, keyed by ``coin, tid`` so a trade resent after a
    reconnect replaces itself instead of appearing twice."""

    _KEYS = ("coin", "tid")
    _MAXLEN = 99999


class OrderUpdates(DataStore[OrderUpdateItem]):
    """``orderUpdates``: the user's resting orders (keys ``coin, oid``).

    Statuses in :data:`LIVE_ORDER_STATUSES` upsert the order; any other status
    removes it. Seeded by ``initialize()`` with ``frontendOpenOrders``/``openOrders``
    and replaced by each ``openOrders`` push.
    """

    _KEYS = ("coin", "oid")

    def _on_updates(self, updates: Iterable[Mapping[str, Any]]) -> None:
        live: list[Item] = []
        ended: list[Item] = []
        for update in updates:
            order = update["order"]
            row = {
                **order,
                "status": update["status"],
                "statusTimestamp": update["statusTimestamp"],
            }
            (live if update["status"] in LIVE_ORDER_STATUSES else ended).append(row)
            if live and ended:  # keep the exchange's order within one message
                self._flush(live, ended)
        self._flush(live, ended)

    def _flush(self, live: list[Item], ended: list[Item]) -> None:
        if live:
            self._update(live)
            live.clear()
        if ended:
            self._delete(ended)
            ended.clear()

    def _replace_orders(self, orders: Iterable[Mapping[str, Any]]) -> None:
        """Every resting order of the user (an open-orders snapshot)."""
        rows = [
            {**order, "status": "open", "statusTimestamp": order.get("timestamp", 0)}
            for order in orders
        ]
        self._clear()
        self._insert(rows)


class UserEvents(DataStore[UserEventItem]):
    """``user`` (userEvents): each event flattened with its ``type``, newest last."""

    _MAXLEN = 99999


class UserSnapshotLog(DataStore[ItemT]):
    """An append log of a user stream whose first message is a snapshot.

    A message with ``isSnapshot`` replaces that user's rows (so a reconnect does
    not duplicate them); later messages append.
    """

    _MAXLEN = 99999

    def _on_rows(self, user: str, rows: list[Item], snapshot: bool) -> None:
        tagged = [{**row, "user": user} for row in rows]
        if snapshot:
            self._find_and_delete({"user": user})
        self._insert(tagged)


class UserFills(UserSnapshotLog[UserFillItem]):
    """``userFills``: the user's fills, newest last (snapshot rows replaced on reconnect)."""


class UserFundings(UserSnapshotLog[UserFundingItem]):
    """``userFundings``: funding payments, newest last."""


class LedgerUpdates(UserSnapshotLog[LedgerUpdateItem]):
    """``userNonFundingLedgerUpdates``: deposits, withdrawals, transfers..., newest last."""


class TwapSliceFills(UserSnapshotLog[TwapSliceFillItem]):
    """``userTwapSliceFills``: TWAP slice fills, newest last."""


class TwapHistory(UserSnapshotLog[TwapHistoryItem]):
    """``userTwapHistory``: TWAP state changes, newest last."""


class ActiveAssetCtx(DataStore[ActiveAssetCtxItem]):
    """``activeAssetCtx`` and ``activeSpotAssetCtx``: ``ctx`` flattened (keys ``coin``)."""

    _KEYS = ("coin",)


class ActiveAssetData(DataStore[ActiveAssetDataItem]):
    """``activeAssetData``: per ``user, coin``."""

    _KEYS = ("user", "coin")


class Bbo(DataStore[BboItem]):
    """``bbo``: the latest best bid/offer per ``coin``."""

    _KEYS = ("coin",)


class Positions(DataStore[PositionItem]):
    """Perpetual positions (keys ``coin``), replaced by each clearinghouse state
    (info ``clearinghouseState``, the ``clearinghouseState`` and ``webData2`` pushes)."""

    _KEYS = ("coin",)

    def _replace_positions(self, asset_positions: Iterable[Mapping[str, Any]]) -> None:
        rows = [
            {**entry["position"], "type": entry.get("type", "oneWay")} for entry in asset_positions
        ]
        self._clear()
        self._insert(rows)


class ClearinghouseState(DataStore[ClearinghouseStateItem]):
    """The latest clearinghouse state (one row, replaced on every state)."""

    def _replace_state(self, state: Mapping[str, Any], user: str | None) -> None:
        row = dict(state) if user is None else {**state, "user": user}
        self._clear()
        self._insert([row])
