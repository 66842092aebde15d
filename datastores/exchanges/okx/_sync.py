"""Keeping OKX order books in sync, on the kit's recovery (:mod:`datastores._recovery`).

One :class:`BookSync` per ``OKXDataStore``. It decides which book channel feeds
``books`` for each instrument (the others keep their book in a store of their
own), applies book messages, and says how a book that lost sync recovers:

* **WS snapshot available** (the channel sent ``action: snapshot`` after the
  last subscribe): :class:`~datastores._recovery.ResubscribeRecovery`
  (``unsubscribe`` then ``subscribe`` on the same connection; retried while no
  snapshot comes, each retry counted as a resync).
* **No WS snapshot** (OKX is removing it, changelog 2026): buffer updates and
  :class:`~datastores._recovery.SnapshotRecovery` fetches
  ``GET /api/v5/market/books?instId=..&sz=..&source=0``, bridged with
  ``prevSeqId <= snapshot seqId < seqId``; a snapshot older than the buffered
  stream is fetched again. https://www.okx.com/docs-v5/log_en (How to manage a
  local order book correctly).
* ``books5``/``bbo-tbt`` push whole books: the next push repairs them.

Every task runs on the collection's ``Background`` (ended with the Client).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..._background import Background
from ..._integrity import BookDelta
from ..._recovery import BookFeed, BookFeeds, ResubscribeRecovery, SnapshotRecovery
from ._books import (
    BOOK_DEPTHS,
    BOOK_RANKS,
    REST_SNAPSHOT_DEPTHS,
    SNAPSHOT_ONLY_CHANNELS,
    OKXBooks,
)
from ._rest import REST_URL, BookSnapshot, fetch_book_snapshot, opt_int

__all__ = ["SECONDARY_PREFIX", "SNAPSHOT_TOO_OLD_MAX", "BookSync"]

logger = logging.getLogger("datastores.exchanges.okx")

#: after this many snapshots older than the buffered stream, drop the buffer and
#: bridge from the live stream (the buffer may predate a sequence reset)
SNAPSHOT_TOO_OLD_MAX = 5
#: store name prefix of the books of channels that do not feed ``books``
SECONDARY_PREFIX = "books."


class _BookSub:
    """What we know about one (channel, instId) book subscription."""

    __slots__ = (
        "arg",
        "channel",
        "demo",
        "expect_snapshot",
        "inst",
        "rest_mode",
        "resubscribing",
        "ws",
    )

    def __init__(self, channel: str, inst: str, arg: Mapping[str, Any]) -> None:
        self.channel = channel
        self.inst = inst
        self.arg = dict(arg)
        self.ws: Any = None
        self.demo = False
        # The next data message is the first of a (re)subscription: it tells
        # whether OKX still sends a WS snapshot for this channel.
        self.expect_snapshot = True
        self.rest_mode = False
        # Our resubscription is under way: its `unsubscribe` ack keeps the book.
        self.resubscribing = False


class _Lane:
    """One book store (``books``, or a channel's own) with its feeds and recovery."""

    __slots__ = ("channel", "feeds", "resubscribe", "snapshots", "store")

    def __init__(self, store: OKXBooks, channel: str | None) -> None:
        self.store = store
        #: the channel of a secondary store; ``None`` for ``books`` (per instrument)
        self.channel = channel
        self.feeds = BookFeeds()
        self.resubscribe: ResubscribeRecovery
        self.snapshots: SnapshotRecovery[BookSnapshot]


def _resubscribe_messages(feed: BookFeed) -> list[dict[str, Any]]:
    return [
        {"op": "unsubscribe", "args": [dict(feed.args)]},
        {"op": "subscribe", "args": [dict(feed.args)]},
    ]


class BookSync:
    """Routes book messages to the right store and keeps each book recoverable.

    Args:
        owner: the ``OKXDataStore`` (creates the secondary stores, observes responses).
        books: the primary store exposed as ``OKXDataStore.books``.
        background: the collection's background tasks.
    """

    def __init__(self, owner: Any, books: OKXBooks, background: Background) -> None:
        self._owner = owner
        self._background = background
        self.books = books
        self._subs: dict[tuple[str, str], _BookSub] = {}
        self._primary: dict[str, str] = {}
        self._primary_lane = self._make_lane(books, None)
        self._secondary: dict[str, _Lane] = {}
        self._reconnecting = False
        self._warned: set[str] = set()
        self._too_old: dict[tuple[str, str], int] = {}
        #: base URL of the REST snapshot request (regional hosts: my.okx.com, ...)
        self.rest_url = REST_URL

    # ------------------------------------------------------------ which store

    def _make_lane(self, store: OKXBooks, channel: str | None) -> _Lane:
        lane = _Lane(store, channel)
        lane.resubscribe = ResubscribeRecovery(
            self._background,
            store,
            lane.feeds,
            messages=_resubscribe_messages,
            on_retry=lambda inst: store._rerequest_resync(
                inst, "resync: no snapshot after resubscribing"
            ),
            logger=logger,
        )
        lane.snapshots = SnapshotRecovery(
            self._background,
            store,
            fetch=lambda inst: self._fetch(lane, inst),
            install=lambda inst, snapshot: self._install(lane, inst, snapshot),
            on_no_client=lambda inst: self._warn_once(
                "noclient",
                "okx %s: needs a REST snapshot but no client is known (or it is closed); "
                "pass a datastores.Client request to initialize() or set store.client",
                inst,
            ),
            logger=logger,
        )
        store.resync_hook = lambda inst: self._hook(lane, inst)
        return lane

    @property
    def secondary(self) -> Mapping[str, OKXBooks]:
        """Channel -> store of that channel's books for instruments it does not feed
        into ``books`` (a deeper channel does)."""
        return {channel: lane.store for channel, lane in self._secondary.items()}

    def channel_of(self, inst: str) -> str | None:
        """The channel whose book ``books`` holds for ``inst``."""
        return self._primary.get(inst)

    def _lane_of(self, sub: _BookSub) -> _Lane:
        if self._primary.get(sub.inst) == sub.channel:
            return self._primary_lane
        return self._secondary_lane(sub.channel)

    def _secondary_lane(self, channel: str) -> _Lane:
        lane = self._secondary.get(channel)
        if lane is None:
            # A store of the collection (created like any other), so the change feed
            # and a mirror see it: store["books.bbo-tbt"].
            name = SECONDARY_PREFIX + channel
            store = self._owner._get(name, OKXBooks) or self._owner._create(
                name, datastore_class=OKXBooks
            )
            lane = self._secondary[channel] = self._make_lane(store, channel)
        return lane

    def _sub_of(self, lane: _Lane, inst: str) -> _BookSub | None:
        channel = lane.channel if lane.channel is not None else self._primary.get(inst)
        return None if channel is None else self._subs.get((channel, inst))

    def _hook(self, lane: _Lane, inst: str) -> None:
        sub = self._sub_of(lane, inst)
        if sub is not None:
            self._resync(sub, lane)

    def _place(self, sub: _BookSub, lane: _Lane) -> None:
        """``sub``'s book now lives in ``lane``: record its feed there."""
        lane.feeds.note(sub.inst, sub.ws, sub.channel, sub.arg)
        lane.store.set_depth(sub.inst, BOOK_DEPTHS.get(sub.channel))

    def _move(self, sub: _BookSub, source: _Lane, target: _Lane) -> None:
        """Move ``sub``'s book (in sync) from one store to another; its recovery follows."""
        self._stop(source, sub.inst)
        source.feeds.forget(sub.inst)
        target.store._take(source.store, sub.inst)
        target.feeds.note(sub.inst, sub.ws, sub.channel, sub.arg)
        if not target.store.is_synced(sub.inst):
            self._resync(sub, target)

    def _register(self, channel: str, inst: str, arg: Mapping[str, Any]) -> _BookSub:
        """First message of a (channel, instId): decide where its book lives."""
        sub = self._subs[(channel, inst)] = _BookSub(channel, inst, arg)
        current = self._primary.get(inst)
        if current is None:
            self._primary[inst] = channel
            self._place(sub, self._primary_lane)
        elif BOOK_RANKS.get(channel, 0) > BOOK_RANKS.get(current, 0):
            # A deeper flavour takes over `books`; the shallower book moves, in sync,
            # to its channel's own store and keeps being updated there.
            self._move(
                self._subs[(current, inst)], self._primary_lane, self._secondary_lane(current)
            )
            self._primary[inst] = channel
            self._place(sub, self._primary_lane)
            logger.info("okx %s: books now fed by %s (was %s)", inst, channel, current)
        else:
            self._place(sub, self._secondary_lane(channel))
        return sub

    def _release(self, sub: _BookSub) -> None:
        """The subscription ended: drop its book; promote the next deepest one."""
        lane = self._lane_of(sub)
        del self._subs[(sub.channel, sub.inst)]
        self._stop(lane, sub.inst)
        lane.feeds.forget(sub.inst)
        lane.store._forget(sub.inst)
        inst = sub.inst
        if lane is not self._primary_lane:
            return
        del self._primary[inst]
        rest = [s for s in self._subs.values() if s.inst == inst]
        if rest:
            best = max(rest, key=lambda s: BOOK_RANKS.get(s.channel, 0))
            self._primary[inst] = best.channel
            self._move(best, self._secondary_lane(best.channel), self._primary_lane)

    def _stop(self, lane: _Lane, inst: str) -> None:
        """End ``inst``'s recovery in ``lane`` (unsubscribed, moved, or a WS snapshot came)."""
        lane.resubscribe.stop(inst)
        self._background.cancel(lane.snapshots.key(inst))
        lane.snapshots.pending.discard(inst)
        self._too_old.pop((lane.store.name, inst), None)

    # ---------------------------------------------------------------- messages

    def on_message(
        self, msg: Mapping[str, Any], arg: Mapping[str, Any], channel: str, ws: Any
    ) -> bool:
        """Apply one book message. Returns ``False`` if it was not shaped like one."""
        inst = arg.get("instId")
        data = msg.get("data")
        if not isinstance(inst, str) or not isinstance(data, list):
            return False
        sub = self._subs.get((channel, inst))
        if sub is None:
            if inst not in self._primary and len(self._primary) >= self.books.max_symbols:
                self.books._count_refused(inst)  # junk instruments: nothing made for them
                return True
            sub = self._register(channel, inst, arg)
        lane = self._lane_of(sub)
        if ws is not None and ws is not sub.ws:
            sub.ws = ws
            # Demo-trading connections (wspap.okx.com) see the demo market: the REST
            # snapshot must come from demo trading too (x-simulated-trading: 1).
            sub.demo = "wspap." in str(getattr(ws, "url", ""))
            lane.feeds.note(inst, ws, channel, sub.arg)
        store = lane.store
        action = msg.get("action")
        # books5 / bbo-tbt carry no action: each push is the whole (capped) book. The
        # incremental channels always say "snapshot" or "update": one without is
        # malformed, never a whole book (issue 15 point 8).
        whole = channel in SNAPSHOT_ONLY_CHANNELS
        for item in data:
            if not isinstance(item, dict):
                store._fail(inst, "error", f"{channel}: data item is not an object")
                continue
            asks = item.get("asks")
            bids = item.get("bids")
            if type(asks) is not list or type(bids) is not list:
                store._fail(inst, "error", f"{channel}: data item without asks/bids lists")
                continue
            seq = item.get("seqId")
            prev = item.get("prevSeqId")
            checksum = item.get("checksum")
            # OKX sends JSON integers; anything else is converted or refused.
            if type(seq) is not int or type(prev) is not int or type(checksum) is not int:
                try:
                    seq, prev, checksum = opt_int(seq), opt_int(prev), opt_int(checksum)
                except (TypeError, ValueError):
                    store._fail(inst, "error", f"{channel}: seqId/prevSeqId/checksum not integers")
                    continue
            if "ts" in item:
                store.ts[inst] = item["ts"]
            if checksum is not None:
                store.received_checksum[inst] = checksum
            if whole:
                if store._replace(inst, asks, bids, seq):
                    store._verify_checksum(inst, checksum)
            elif action == "snapshot":
                self._on_ws_snapshot(sub, lane, seq, asks, bids, checksum)
            elif action == "update":
                self._on_update(sub, lane, seq, prev, asks, bids, checksum)
            else:
                store._fail(inst, "error", f"{channel}: unknown action {action!r}")
        return True

    def _on_ws_snapshot(
        self,
        sub: _BookSub,
        lane: _Lane,
        seq: int | None,
        asks: list[Any],
        bids: list[Any],
        checksum: int | None,
    ) -> None:
        sub.expect_snapshot = False
        sub.rest_mode = False
        sub.resubscribing = False
        inst = sub.inst
        self._background.cancel(lane.snapshots.key(inst))
        lane.snapshots.pending.discard(inst)
        # The snapshot answers the resubscription: stop its retry timer, or the next
        # failure within RESUBSCRIBE_TIMEOUT would wait for that timer to resubscribe.
        # (Never while it is between its unsubscribe and subscribe.)
        lane.resubscribe.on_snapshot(inst)
        store = lane.store
        # Updates buffered for a REST snapshot are superseded by this one.
        store._clear_buffer(inst)
        if store._replace(inst, asks, bids, seq):
            store._verify_checksum(inst, checksum)

    def _on_update(
        self,
        sub: _BookSub,
        lane: _Lane,
        seq: int | None,
        prev: int | None,
        asks: list[Any],
        bids: list[Any],
        checksum: int | None,
    ) -> None:
        inst = sub.inst
        store = lane.store
        if sub.expect_snapshot:
            # The subscription started with an update: OKX sent no WS snapshot.
            sub.expect_snapshot = False
            if not sub.rest_mode:
                sub.rest_mode = True
                logger.info(
                    "okx %s %s: no snapshot on subscribe; syncing from REST", sub.channel, inst
                )
        if seq is None:
            # Without seqId nothing can be checked: apply only to a book in sync.
            if store._phase(inst) != "unsynced" and store._apply(inst, asks, bids):
                store._verify_checksum(inst, checksum)
            return
        store._on_delta(inst, BookDelta(seq, seq, prev, asks, bids, checksum), buffer=sub.rest_mode)
        if (
            sub.rest_mode
            and store._phase(inst) == "unsynced"
            and self._background.task(lane.snapshots.key(inst)) is None
        ):
            # The resync request may predate REST mode (or the client): start it now.
            self._start_fetch(sub, lane)

    def install_snapshot(self, inst: str, seq: int, asks: list[Any], bids: list[Any]) -> None:
        """Apply a REST snapshot the user passed to ``initialize()`` (bridged like ours)."""
        channel = self._primary.get(inst)
        if channel not in REST_SNAPSHOT_DEPTHS:
            channel = "books"
        sub = self._subs.get((channel, inst)) or self._register(
            channel, inst, {"channel": channel, "instId": inst}
        )
        sub.rest_mode = True
        self._lane_of(sub).store._on_snapshot(inst, seq, asks, bids)

    # ---------------------------------------------------------------- events

    def _sub_for(self, arg: Mapping[str, Any]) -> _BookSub | None:
        channel, inst = arg.get("channel"), arg.get("instId")
        if not isinstance(channel, str) or not isinstance(inst, str):
            return None
        return self._subs.get((channel, inst))

    def on_subscribed(self, arg: Mapping[str, Any]) -> None:
        """``event: subscribe`` acknowledged: the next data message starts it anew."""
        sub = self._sub_for(arg)
        if sub is not None:
            sub.expect_snapshot = True
            sub.resubscribing = False

    def on_unsubscribed(self, arg: Mapping[str, Any]) -> None:
        """``event: unsubscribe``: forget the book unless we are resubscribing it."""
        sub = self._sub_for(arg)
        if sub is not None and not sub.resubscribing:
            self._release(sub)

    def on_reconnect(self, ws: Any) -> None:
        """A WebSocketApp reconnected: books fed by the lost connection are unsynced
        until the app's resubscription brings a snapshot (or REST does)."""
        self._reconnecting = True
        try:
            for sub in list(self._subs.values()):
                old = sub.ws
                if ws is None or old is None or old is ws or getattr(old, "closed", False):
                    lane = self._lane_of(sub)
                    # The app resubscribes by itself: our retries would only duplicate it.
                    lane.resubscribe.stop(sub.inst)
                    sub.resubscribing = False
                    sub.expect_snapshot = True
                    lane.store._invalidate(sub.inst, "websocket reconnected")
        finally:
            self._reconnecting = False

    def on_handler_error(self, arg: Mapping[str, Any], exc: Exception) -> None:
        """A handler raised on a book message: that book can no longer be trusted."""
        sub = self._sub_for(arg)
        if sub is not None:
            self._lane_of(sub).store._fail(
                sub.inst, "error", f"handler error: {type(exc).__name__}"
            )

    def resume(self) -> None:
        """The collection got a Client: fetch the snapshots that waited for one."""
        self._primary_lane.snapshots.resume()
        for lane in list(self._secondary.values()):
            lane.snapshots.resume()

    # ---------------------------------------------------------------- recovery

    def _resync(self, sub: _BookSub, lane: _Lane) -> None:
        """Called synchronously when ``sub``'s book needs recovery: pick the strategy."""
        if sub.channel in SNAPSHOT_ONLY_CHANNELS:
            return  # the next push is a whole book
        if sub.rest_mode:
            self._start_fetch(sub, lane)
            return
        if self._reconnecting:
            return  # the WebSocketApp re-subscribes; a snapshot follows
        ws = sub.ws
        if ws is None:
            if sub.channel in REST_SNAPSHOT_DEPTHS:
                # No connection to resubscribe on (e.g. a replay): bridge from REST.
                sub.rest_mode = True
                self._start_fetch(sub, lane)
            else:
                self._warn_once(
                    f"nows:{sub.channel}",
                    "okx %s %s: out of sync and no WebSocket to resubscribe on",
                    sub.channel,
                    sub.inst,
                )
            return
        if getattr(ws, "closed", False):
            return  # the reconnect (on_reconnect) takes over
        sub.resubscribing = True
        lane.resubscribe.request(sub.inst)

    def _start_fetch(self, sub: _BookSub, lane: _Lane) -> None:
        if sub.channel not in REST_SNAPSHOT_DEPTHS:
            self._warn_once(
                f"norest:{sub.channel}",
                "okx %s %s: no WS snapshot and no REST snapshot for this channel; "
                "the book stays unsynced",
                sub.channel,
                sub.inst,
            )
            return
        lane.snapshots.request(sub.inst)

    def _warn_once(self, key: str, text: str, *args: Any) -> None:
        level = logging.DEBUG if key in self._warned else logging.WARNING
        self._warned.add(key)
        logger.log(level, text, *args)

    async def _fetch(self, lane: _Lane, inst: str) -> BookSnapshot:
        sub = self._sub_of(lane, inst)
        if sub is None or sub.channel not in REST_SNAPSHOT_DEPTHS:
            # Unsubscribed or moved meanwhile (normally cancelled then): end the task.
            self._background.cancel(lane.snapshots.key(inst))
            raise LookupError(f"okx {inst}: no subscription needs a REST snapshot")
        return await fetch_book_snapshot(
            self._background.client,
            self.rest_url,
            inst,
            REST_SNAPSHOT_DEPTHS[sub.channel],
            demo=sub.demo,
        )

    def _install(self, lane: _Lane, inst: str, snapshot: BookSnapshot) -> None:
        sub = self._sub_of(lane, inst)
        if sub is None or not sub.rest_mode:
            return  # a WS snapshot took over
        store = lane.store
        key = (store.name, inst)
        first = store._first_buffered(inst)
        if first is not None and first.prev_id is not None and snapshot.seq < first.prev_id:
            # Docs step 4: the snapshot is older than the stream; fetch again (the
            # recovery waits a little first).
            too_old = self._too_old.get(key, 0) + 1
            if too_old <= SNAPSHOT_TOO_OLD_MAX:
                self._too_old[key] = too_old
                return
            # The buffer may predate a sequence reset: bridge from the live stream.
            store._clear_buffer(inst)
        self._too_old.pop(key, None)
        # Response observers (a Recorder) see the snapshot that is applied.
        self._owner._observe_response("GET", snapshot.url, 200, snapshot.data)
        store._on_snapshot(inst, snapshot.seq, snapshot.asks, snapshot.bids)
