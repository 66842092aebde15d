"""Bybit V5 order book: ``orderbook.{depth}.{symbol}`` and ``orderbook.full.{symbol}``.

Items are ``{"s": symbol, "S": "a"|"b", "p": price, "v": size}`` with the
exchange's strings, as in the reference library; ``sorted()`` returns
``{"a": [...], "b": [...]}`` best first.

Integrity rules (see ``docs/exchanges/bybit.md``):

* N-level topics (``orderbook.1/50/200/1000.{symbol}``, option 25/100): a
  ``snapshot`` replaces the book, and so does a ``delta`` with ``u == 1`` (the
  service restarted). Deltas before the first snapshot are dropped (counted),
  since the exchange sends a snapshot on (re)subscription. A delta must carry
  a larger ``u`` than the last one: an equal ``u`` is stale, a smaller one is a
  gap (the sequence went back without a reset). Bybit documents ``u`` as
  normally contiguous (only a service restart sends ``u == 1``), so a jump
  forward is a gap too; ``strict_depth_sequence = False`` tolerates jumps. The
  book is trimmed to the topic's depth after every message (levels pushed out
  of the window are not always deleted explicitly). https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
* ``orderbook.full.{symbol}``: delta-only; deltas are buffered while unsynced
  (a break in ``u`` restarts the buffer, a lower ``seq`` is discarded), a REST
  snapshot (``GET /v5/market/full_orderbook``) is bridged to them, then every
  delta must have ``u == last + 1``. ``u == 1`` restarts the procedure.
  https://bybit-exchange.github.io/docs/v5/websocket/public/full-ob
* One book per symbol: when a symbol is subscribed at several depths, the
  deepest topic feeds the book and shallower topics are ignored (counted in
  :attr:`BookFeed.shadowed`), so levels of different depths never mix.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..._integrity import BookDelta, StrictIncrementRule
from ..._orderbook import FailureKind, OrderBookStore
from ..._recovery import BookFeed as Link
from ..._recovery import BookFeeds
from ._items import OrderBookItem

__all__ = ["BookFeed", "OrderBook"]

logger = logging.getLogger("datastores.exchanges.bybit")

#: rank of the full-depth topic when choosing the deepest feed of a symbol
_FULL_RANK = sys.maxsize

SnapshotVerdict = Literal["synced", "too_old", "malformed", "not_full"]


@dataclass(frozen=True, slots=True)
class BookFeed:
    """Which topic feeds one symbol's book, frozen at the time of the call.

    Attributes:
        symbol: the symbol.
        topic: the topic whose messages are applied (e.g. ``orderbook.50.BTCUSDT``).
        depth: levels per side kept (``None`` for ``orderbook.full``: uncapped).
        seq: the last cross sequence (``seq``) seen, or ``None``.
        dropped_unsynced: deltas dropped because no snapshot had arrived yet.
        shadowed: messages of shallower topics ignored for this symbol.
    """

    symbol: str
    topic: str
    depth: int | None
    seq: int | None
    dropped_unsynced: int
    shadowed: int


class _Feed:
    """Mutable per-symbol feed state (see :class:`BookFeed`)."""

    __slots__ = (
        "depth",
        "dropped",
        "epoch_seq",
        "link",
        "rank",
        "restart",
        "seq",
        "shadowed",
        "snapshot_seq",
        "stale_snapshots",
        "top_seq",
        "topic",
    )

    def __init__(self, topic: str, depth: int | None, link: Link) -> None:
        self.topic = topic
        self.depth = depth
        self.rank = _FULL_RANK if depth is None else depth
        #: the collection's record of the connection feeding the book (kit BookFeeds)
        self.link = link
        self.seq: int | None = None
        self.snapshot_seq: int | None = None
        #: the highest seq received (deltas and snapshots); seq only grows, so a delta
        #: above it is new, whatever its u
        self.top_seq: int | None = None
        #: the lowest seq of the current u epoch (the seq of the last ``u == 1``, or one
        #: above the highest seq before a missed restart): a REST snapshot below it was
        #: taken before the restart, and its u means a different book
        self.epoch_seq: int | None = None
        self.dropped = 0
        self.shadowed = 0
        #: a sequence gap happened: the stream must be restarted (resubscribe)
        self.restart = False
        #: REST snapshots in a row that the stream showed to be too old after they
        #: were installed (the recovery waits longer before the next fetch)
        self.stale_snapshots = 0


class OrderBook(OrderBookStore[OrderBookItem]):
    """Bybit order books (store ``orderbook``): ``{"s", "S", "p", "v"}`` items.

    ``sorted({"s": symbol}, limit=k)`` is O(log n + k); a delta level is
    O(log n); a snapshot of n levels O(n log n). ``status(symbol)`` reports
    integrity; :meth:`feed` reports which topic feeds the symbol.
    """

    _VERIFICATION = (("sequence",), "`u` (N-level), `u`/`seq` with REST snapshots (full book)")

    _SYMBOL = "s"
    _SIDE = "S"
    _PRICE = "p"
    _SIZE = "v"
    _ASK = "a"
    _BID = "b"
    #: the ``orderbook.full`` rule (N-level topics use their own, see the module doc)
    _RULE = StrictIncrementRule()

    def _init(self) -> None:
        super()._init()
        self._feeds: dict[str, _Feed] = {}
        #: which connection and topic feed each symbol (the recovery resubscribes there)
        self.links = BookFeeds()
        #: require ``u == last + 1`` on N-level topics too. Bybit's orderbook page says
        #: "u: update id, normally consecutive; u == 1 after a service restart"
        #: (https://bybit-exchange.github.io/doc-v3-offline/zh-TW/copy-trade/ws-public/orderbook),
        #: and a tolerated jump would let a lost delta corrupt the book silently.
        #: Set to False only if your traffic shows jumps on a healthy stream.
        self.strict_depth_sequence = True

    def _make_item(self, symbol: str, side: str, level: Any) -> dict[str, Any]:
        return {"s": symbol, "S": side, "p": level[0], "v": level[1]}

    # ------------------------------------------------------------------ reading

    def feed(self, symbol: str) -> BookFeed | None:
        """Which topic feeds ``symbol``'s book and its counters, or ``None``. O(1)."""
        feed = self._feeds.get(symbol)
        if feed is None:
            return None
        return BookFeed(
            symbol=symbol,
            topic=feed.topic,
            depth=feed.depth,
            seq=feed.seq,
            dropped_unsynced=feed.dropped,
            shadowed=feed.shadowed,
        )

    def forget(self, symbol: str) -> None:
        """Drop ``symbol``'s book, integrity state and feed.

        Call it after unsubscribing the topic feeding a symbol, so that a
        shallower topic still subscribed can feed the book again (its next
        snapshot does).
        """
        self._feeds.pop(symbol, None)
        self.links.forget(symbol)
        self._clear_symbol(symbol)
        self._states.pop(symbol, None)
        self._depths.pop(symbol, None)

    # ------------------------------------------------------------ message entry

    def _feed(self, symbol: str) -> _Feed | None:
        return self._feeds.get(symbol)

    def _on_message(
        self, topic: str, depth: int | None, msg: Mapping[str, Any], ws: Any
    ) -> str | None:
        """Apply one ``orderbook.*`` message. Returns why it was dropped, or ``None``.

        ``depth`` is the topic's depth, ``None`` for ``orderbook.full``.
        """
        data = msg.get("data")
        if type(data) is not dict:
            return "data is not an object"
        symbol = data.get("s")
        update_id = data.get("u")
        if type(symbol) is not str or type(update_id) is not int:
            return "missing or invalid s/u"
        kind = msg.get("type")
        if kind != "delta" and kind != "snapshot":
            return f"unknown type {kind!r}"
        feed = self._feeds.get(symbol)
        if feed is None and self._refuse_new(symbol):  # junk symbols: nothing made for them
            return None
        if feed is None or feed.topic != topic:
            rank = _FULL_RANK if depth is None else depth
            if feed is not None and rank <= feed.rank:
                # A deeper topic feeds this symbol: mixing depths would corrupt it.
                feed.shadowed += 1
                return None
            # (orderbook.full has no WS snapshots: its first message always waits for REST)
            feed = self._adopt(
                symbol, topic, depth, ws, snapshot=kind == "snapshot" and depth is not None
            )
        elif feed.link.ws is not ws:
            self.links.note(symbol, ws, topic)
        # Bybit sends both sides in every message, empty when unchanged: a missing side
        # is a malformed message, not "no changes" (issue 15 point 8). Its update is
        # lost, so the book it feeds goes unsynced and recovers.
        # https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
        asks = data.get("a")
        bids = data.get("b")
        if type(asks) is not list or type(bids) is not list:
            reason = "a or b is missing or not an array"
            self._fail(symbol, "error", f"{topic}: {reason}")
            return reason
        seq = data.get("seq")
        if type(seq) is not int:
            seq = None

        if depth is None:
            self._on_full_delta(symbol, feed, update_id, seq, asks, bids)
        elif kind == "snapshot" or update_id == 1:
            # u == 1 in a delta: the service restarted; the message is a snapshot.
            self._replace(symbol, asks, bids, update_id)
        else:
            self._on_depth_delta(symbol, feed, update_id, asks, bids)
        if seq is not None:
            feed.seq = seq
        return None

    def _adopt(
        self, symbol: str, topic: str, depth: int | None, ws: Any, *, snapshot: bool
    ) -> _Feed:
        """Make ``topic`` the feed of ``symbol`` (first topic seen, or a deeper one)."""
        old = self._feeds.get(symbol)
        feed = self._feeds[symbol] = _Feed(topic, depth, self.links.note(symbol, ws, topic))
        self.set_depth(symbol, depth)
        if old is not None:
            logger.info(
                "%s %s: %s now feeds the book (deeper than %s, which is ignored from now on)",
                self.name,
                symbol,
                topic,
                old.topic,
            )
            feed.shadowed = old.shadowed
            if not snapshot:
                # The new topic's deltas do not continue the old topic's book.
                self._invalidate(symbol, f"{topic} replaces {old.topic}")
        return feed

    # ------------------------------------------------------------- N-level topics

    def _on_depth_delta(
        self, symbol: str, feed: _Feed, update_id: int, asks: Any, bids: Any
    ) -> None:
        state = self._states.get(symbol)
        if state is None:
            state = self._state(symbol)
        if state.phase == "unsynced":
            # No snapshot yet (or a resync is under way): a WS snapshot will come.
            feed.dropped += 1
            self._request_resync(symbol)
            return
        last = state.last_id
        if last is not None:
            if update_id <= last:
                if update_id == last:
                    state.stale += 1
                    return
                self._fail(symbol, "gap", f"{feed.topic}: u went back from {last} to {update_id}")
                return
            if self.strict_depth_sequence and update_id != last + 1:
                self._fail(symbol, "gap", f"{feed.topic}: u jumped from {last} to {update_id}")
                return
        if self._apply(symbol, asks, bids):
            state.last_id = update_id

    # ---------------------------------------------------------- orderbook.full

    def _on_full_delta(
        self,
        symbol: str,
        feed: _Feed,
        update_id: int,
        seq: int | None,
        asks: Any,
        bids: Any,
    ) -> None:
        state = self._states.get(symbol)
        if state is None:
            state = self._state(symbol)
        delta = BookDelta(update_id, update_id, None, asks, bids, raw=seq)
        top_seq = feed.top_seq
        if seq is not None and (top_seq is None or seq > top_seq):
            feed.top_seq = seq
        phase = state.phase
        if phase == "unsynced":
            if update_id == 1 and seq is not None:
                feed.epoch_seq = seq
            buffer = state.buffer
            if buffer:
                previous = buffer[-1]
                if seq is not None and previous.raw is not None and seq < previous.raw:
                    state.stale += 1  # the doc: a decreasing seq is discarded
                    return
                if update_id != previous.last_id + 1:
                    # The doc: a break in u while buffering restarts the buffer.
                    buffer.clear()
            requested = state.resync_requested
            self._on_delta(symbol, delta)  # buffers it and requests a snapshot
            if requested:
                # The snapshot request made earlier may not have started (no Client
                # then, or a closed one): ask again. The recovery runs at most one
                # fetch per symbol, so this is a no-op while one is under way.
                self._ask_again(symbol)
            return

        snapshot_seq = feed.snapshot_seq
        if (
            phase == "bridging"
            and seq is not None
            and snapshot_seq is not None
            and seq < snapshot_seq
        ):
            state.stale += 1  # generated before the REST snapshot
            return
        if update_id == 1:
            # Restart, delisting, auction or tick change: clear and sync again.
            if seq is not None:
                feed.epoch_seq = seq
            self._clear_symbol(symbol)
            self._invalidate(symbol, f"{feed.topic}: u=1, the exchange re-initialised the book")
            self._on_delta(symbol, delta)
            return
        last = state.last_id if state.last_id is not None else 0
        if seq is not None and top_seq is not None and seq > top_seq and update_id <= last:
            # Newer than anything received, yet its u is not: the exchange restarted
            # (u=1) and that message was lost. Dropped as stale, this delta and every
            # one after it would leave the book behind while it says synced.
            feed.epoch_seq = top_seq + 1
            self._fail(
                symbol,
                "gap",
                f"{feed.topic}: u went back from {last} to {update_id} with a newer seq "
                f"({seq} > {top_seq}): a restart (u=1) was missed",
            )
            self._on_delta(symbol, delta)  # buffered for the next snapshot
            return
        if phase == "bridging" and update_id > last + 1:
            # The REST snapshot is older than the stream: not a lost update, fetch again.
            feed.stale_snapshots += 1
            self._invalidate(symbol, "REST snapshot older than the stream", kind="gap")
            self._on_delta(symbol, delta)
            return
        if self._on_delta(symbol, delta) and feed.stale_snapshots:
            feed.stale_snapshots = 0

    def _install_full_snapshot(self, symbol: str, snapshot: Mapping[str, Any]) -> SnapshotVerdict:
        """Bridge a ``GET /v5/market/full_orderbook`` result to the buffered deltas.

        Returns ``"synced"`` (installed, or nothing to do), ``"too_old"`` (the
        buffer starts after the snapshot: fetch again), ``"malformed"`` or
        ``"not_full"`` (the symbol is no longer fed by ``orderbook.full``).
        """
        feed = self._feeds.get(symbol)
        if feed is None or feed.depth is not None:
            return "not_full"
        update_id = snapshot.get("u")
        seq = snapshot.get("seq")
        asks = snapshot.get("a") or []
        bids = snapshot.get("b") or []
        if type(update_id) is not int or type(asks) is not list or type(bids) is not list:
            return "malformed"
        if type(seq) is not int:
            seq = None
        state = self._state(symbol)
        if state.phase != "unsynced":
            return "synced"
        buffer = state.buffer
        if seq is not None:
            # The doc: buffered deltas with a lower seq than the snapshot predate it. After a
            # restart u repeats, so only seq tells an older epoch's u=k from this one's.
            while buffer and buffer[0].raw is not None and buffer[0].raw < seq:
                buffer.popleft()
                state.stale += 1
        if seq is not None and feed.epoch_seq is not None and seq < feed.epoch_seq:
            # Taken before the last restart of u: its u=k is another epoch's state.
            return "too_old"
        if buffer:
            first = buffer[0]
            if update_id < first.last_id - 1:
                return "too_old"
            if (
                seq is not None
                and first.raw is not None
                and seq < first.raw
                and update_id >= first.last_id
            ):
                # Older by seq yet not by u: taken before a restart the buffer follows.
                return "too_old"
        feed.snapshot_seq = seq
        if seq is not None and (feed.seq is None or seq > feed.seq):
            feed.seq = seq
        if seq is not None and (feed.top_seq is None or seq > feed.top_seq):
            feed.top_seq = seq
        errors = state.errors
        if self._on_snapshot(symbol, update_id, asks, bids):
            return "synced"
        return "malformed" if state.errors > errors else "too_old"

    # ------------------------------------------------------------------ integrity

    def _ask_again(self, symbol: str) -> None:
        """Call the resync hook again for a recovery already requested (not counted)."""
        hook = self.resync_hook
        if hook is None:
            return
        try:
            hook(symbol)
        except Exception:
            logger.exception("%s %s: resync hook failed", self.name, symbol)

    def _fail(self, symbol: str, kind: FailureKind, detail: str) -> None:
        if kind == "gap":
            feed = self._feeds.get(symbol)
            if feed is not None:
                feed.restart = True
        super()._fail(symbol, kind, detail)

    def _connection_lost(self, ws: Any) -> list[str]:
        """Mark unsynced the books fed by ``ws`` (or by a closed connection).

        ``ws=None`` means every book. Returns the symbols invalidated.
        """
        lost = []
        for symbol, feed in list(self._feeds.items()):
            fed_by = feed.link.ws
            if ws is None or fed_by is ws or getattr(fed_by, "closed", False) is True:
                feed.restart = False
                self._invalidate(symbol, "WebSocket reconnected")
                lost.append(symbol)
        return lost
