"""Order-book integrity: per-symbol state, failures and the sequenced-sync state machine.

:class:`BookIntegrity` is mixed into :class:`~datastores.OrderBookStore`. A
symbol is ``unsynced`` (waiting for a snapshot; updates are buffered or
dropped), ``bridging`` (a REST snapshot is installed and the next update must
bridge it by the exchange's rule) or ``synced`` (updates must follow each
other). A gap, a checksum mismatch or a malformed update is counted, logged
once per episode and calls the resync hook: nothing is silent.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from ._integrity import BookDelta, SequenceRule, Verdict

if TYPE_CHECKING:
    from ._bookside import Level
    from ._changefeed import FeedSink
    from ._orderbook import OrderBookStore

__all__ = ["DEFAULT_MAX_SYMBOLS", "BookIntegrity", "BookStatus", "FailureKind", "not_a_symbol"]

logger = logging.getLogger("datastores.orderbook")

#: most symbols one book store tracks (books, states, depth caps) unless raised:
#: ten times the instruments of the largest venue (a few thousand, options
#: included), so only junk reaches it. See docs/orderbook.md#symbol-cap.
DEFAULT_MAX_SYMBOLS = 20_000

FailureKind = Literal["gap", "checksum", "error", "reconnect", "overflow"]


def not_a_symbol(symbol: object) -> bool:
    """Whether ``symbol`` cannot name a book: anything but a ``str`` (a JSON
    ``null``, ``true``, number or list where a symbol belongs). Typed ``object``
    because the value comes from the wire whatever the annotations say."""
    return not isinstance(symbol, str)


@dataclass(frozen=True, slots=True)
class BookStatus:
    """A frozen snapshot of one symbol's book integrity.

    Attributes:
        symbol: the symbol (the exchange's spelling).
        synced: the local book is a faithful copy as far as the exchange's rules
            can tell; ``False`` while waiting for a snapshot or after a failure.
        last_update_id: id of the last applied update (or snapshot); ``None`` if none.
        updates: updates applied since the store was created.
        gaps: sequence gaps detected.
        checksum_failures: checksum mismatches detected.
        errors: malformed updates that could not be applied.
        resyncs: recoveries started (snapshot refetch or resubscribe).
        stale: updates dropped because the book already covered them.
        buffered: updates waiting for a snapshot.
        last_error: description of the latest failure, or ``None``.
        asks, bids: number of levels on each side.
        updated_at: ``time.time()`` of the last applied change, or ``None``.
        verifiable: whether the exchange's protocol lets the store prove the book
            complete (a sequence rule or a checksum). ``False`` (BitMEX
            ``orderBookL2``): ``synced`` only means that no inconsistency was seen
            since the last snapshot; a lost update can go unnoticed (see the
            exchange's docs page).
    """

    symbol: str
    synced: bool
    last_update_id: int | None
    updates: int
    gaps: int
    checksum_failures: int
    errors: int
    resyncs: int
    stale: int
    buffered: int
    last_error: str | None
    asks: int
    bids: int
    updated_at: float | None
    verifiable: bool = True


class _SymbolState:
    """One symbol's integrity state. Per symbol, so kept small: slots, and the
    update buffer and the recent ids made only when first needed (a synced book
    never holds a buffer)."""

    __slots__ = (
        "_buffer",
        "checksum_failures",
        "errors",
        "gaps",
        "last_error",
        "last_id",
        "phase",
        "recent_ids",
        "resync_requested",
        "resyncs",
        "stale",
        "updated_at",
        "updates",
    )

    def __init__(self) -> None:
        # "unsynced": waiting for a snapshot; "bridging": snapshot applied, the next
        # update must bridge it; "synced": updates must follow each other.
        self.phase: Literal["unsynced", "bridging", "synced"] = "unsynced"
        self.last_id: int | None = None
        self.updates = 0
        self.gaps = 0
        self.checksum_failures = 0
        self.errors = 0
        self.resyncs = 0
        self.stale = 0
        self.last_error: str | None = None
        self.resync_requested = False
        self._buffer: deque[BookDelta] | None = None
        self.updated_at: float | None = None
        #: ids of the last snapshots and updates applied (``_STALE_WINDOW`` books only)
        self.recent_ids: deque[int] | None = None

    @property
    def buffer(self) -> deque[BookDelta]:
        """Updates held while waiting for a snapshot, oldest first (made on first use)."""
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = deque()
        return buffer

    def buffered(self) -> int:
        """How many updates are held (without making the buffer). O(1)."""
        buffer = self._buffer
        return 0 if buffer is None else len(buffer)

    def drop_buffer(self) -> list[BookDelta]:
        """Empty the buffer and return what it held, oldest first."""
        buffer = self._buffer
        self._buffer = None
        return [] if buffer is None else list(buffer)


class BookIntegrity:
    """Integrity state of every symbol of a book store, and the sync state machine.

    The store provides ``_apply``, ``_replace``, ``checksum``, ``symbols`` and
    ``_notify`` (see :class:`~datastores.OrderBookStore`).
    """

    _RULE: ClassVar[SequenceRule | None] = None
    #: REST-snapshot books: when the first update after a snapshot does not bridge
    #: it, the snapshot predates the buffered stream (Binance's documented
    #: "fetch it again" case, KuCoin's too), not a gap in the stream: keep the
    #: update for the next snapshot and ask for one (a resync, not a gap).
    _REFETCH_STALE_SNAPSHOT: ClassVar[bool] = False
    #: most updates kept per symbol while waiting for a snapshot
    _BUFFER_MAX: ClassVar[int] = 20000
    #: sequences that can go back (OKX after maintenance): when > 0, an update the
    #: rule calls stale on a synced book must be one of the last ``_STALE_WINDOW``
    #: ids the book applied (a replay). Anything else below the last id means the
    #: sequence went back without its first update reaching us: a gap, not an
    #: endless run of dropped "stale" updates.
    _STALE_WINDOW: ClassVar[int] = 0
    #: most symbols this store tracks (books, integrity states, depth caps). A
    #: message for a symbol beyond it is refused before anything is made for it:
    #: counted in ``dropped`` and ``symbols_refused`` (and in the collection's
    #: ``statistics().dropped``), logged once at WARNING, then DEBUG. Settable per
    #: store (``store.max_symbols = 50_000``) or for every book (on the class).
    max_symbols: int = DEFAULT_MAX_SYMBOLS

    name: str
    _states: dict[str, _SymbolState]
    _books: Mapping[str, object]
    _dropped: int
    #: symbols refused because ``max_symbols`` was reached
    _symbols_refused: int = 0
    #: set by the collection that owns the store: counts a refused symbol there
    _on_symbol_refused: Callable[[str], None] | None = None
    #: called with a symbol when its book needs a new snapshot / resubscription
    resync_hook: Callable[[str], object] | None
    #: the collection's change-feed sink while it has observers
    _sink: FeedSink | None

    if TYPE_CHECKING:

        @property
        def symbols(self) -> list[str]: ...

        def _apply(self, symbol: str, asks: Iterable[Level], bids: Iterable[Level]) -> bool: ...

        def _replace(
            self,
            symbol: str,
            asks: Iterable[Level],
            bids: Iterable[Level],
            update_id: int | None = None,
        ) -> bool: ...

        def checksum(self, symbol: str, depth: int = 25) -> int: ...

        def is_synced(self, symbol: str) -> bool: ...

        def _refuse(self, item: object, why: str) -> None: ...

    def _refuse_symbol(self, symbol: object) -> None:
        """Count (in ``dropped``) and log a book call whose symbol is not a ``str``.

        A ``null``, ``true``, number or list where a symbol belongs is refused at
        every entry point (``_apply``, ``_replace``, ``_on_delta``,
        ``_on_snapshot``, ``_fail``, ``_invalidate``, ``_request_resync``): no
        book or state is keyed by it and the resync hook never sees it.
        """
        self._refuse(symbol, f"book symbol {type(symbol).__name__} is not a str")

    @property
    def symbols_refused(self) -> int:
        """Messages refused because their symbol was new and ``max_symbols`` symbols
        were tracked already."""
        return self._symbols_refused

    def _refuse_new(self, symbol: object, *tables: Collection[object]) -> bool:
        """Whether to refuse ``symbol`` (known or new): not a ``str``
        (:meth:`_refuse_symbol`), or one symbol too many: new to the book while it
        tracks ``max_symbols``, or new to one of ``tables`` (an exchange's own
        per-symbol tables) while that one holds ``max_symbols``. A refused one is
        counted. Called only where a symbol may be new, never on the in-sequence
        path. O(1) per table."""
        if not_a_symbol(symbol):
            self._refuse_symbol(symbol)
            return True
        cap = self.max_symbols
        full = (
            (len(self._states) >= cap or len(self._books) >= cap)
            and symbol not in self._states
            and symbol not in self._books
        )
        if not full and not any(len(t) >= cap and symbol not in t for t in tables):
            return False
        self._count_refused(cast("str", symbol))
        return True

    def _count_refused(self, symbol: str) -> None:
        """Count one message refused for a symbol beyond ``max_symbols``."""
        self._symbols_refused += 1
        self._dropped += 1
        hook = self._on_symbol_refused
        if hook is not None:
            hook(symbol)
        else:
            logger.log(
                logging.WARNING if self._symbols_refused == 1 else logging.DEBUG,
                "%s: refused a message for a new symbol %.64r: %d symbols tracked already "
                "(max_symbols); %d refused so far",
                self.name,
                symbol,
                self.max_symbols,
                self._symbols_refused,
            )

    def _state(self, symbol: str) -> _SymbolState:
        state = self._states.get(symbol)
        if state is None:
            state = self._states[symbol] = _SymbolState()
        return state

    # ---------------------------------------------------------------- integrity

    def _report(
        self,
        symbol: str,
        event: Literal["unsynced", "synced", "resync"],
        reason: FailureKind | None,
    ) -> None:
        """Tell the change feed (the caller checked ``_sink``) about an integrity event."""
        feed = self._sink
        if feed is not None:
            feed.event(
                cast("OrderBookStore", self), symbol, event, reason, self._state(symbol).last_error
            )

    def _fail(self, symbol: str, kind: FailureKind, detail: str) -> None:
        """Record a failure: unsynced, counted, logged once per episode, resync requested."""
        if self._refuse_new(symbol):
            return
        state = self._state(symbol)
        if kind == "gap":
            state.gaps += 1
        elif kind == "checksum":
            state.checksum_failures += 1
        elif kind == "error":
            state.errors += 1
        state.last_error = f"{kind}: {detail}"
        was_synced = state.phase != "unsynced"
        state.phase = "unsynced"
        if was_synced:
            logger.warning(
                "%s %s: book unsynced (%s: %s); resyncing", self.name, symbol, kind, detail
            )
        else:
            logger.debug("%s %s: %s while unsynced: %s", self.name, symbol, kind, detail)
        if self._sink is not None:
            self._report(symbol, "unsynced", kind)
        self._request_resync(symbol)

    def _request_resync(self, symbol: str) -> None:
        if self._refuse_new(symbol):
            return
        state = self._state(symbol)
        if state.resync_requested:
            return
        state.resync_requested = True
        state.resyncs += 1
        if self._sink is not None:
            self._report(symbol, "resync", None)
        hook = self.resync_hook
        if hook is None:
            logger.debug("%s %s: no resync hook installed", self.name, symbol)
            return
        try:
            hook(symbol)
        except Exception:
            logger.exception("%s %s: resync hook failed", self.name, symbol)

    def _invalidate(self, symbol: str, reason: str, *, kind: FailureKind = "reconnect") -> None:
        """Mark ``symbol`` unsynced without counting a gap (e.g. after a reconnect).

        Its buffer is emptied (updates from a previous connection cannot bridge a
        new snapshot) and a resync is requested.
        """
        if self._refuse_new(symbol):
            return
        state = self._state(symbol)
        state.drop_buffer()
        state.resync_requested = False
        state.last_error = reason if reason.startswith(kind) else f"{kind}: {reason}"
        if state.phase != "unsynced":
            state.phase = "unsynced"
            logger.info("%s %s: book unsynced (%s)", self.name, symbol, reason)
        if self._sink is not None:
            self._report(symbol, "unsynced", kind)
        self._request_resync(symbol)

    def _invalidate_all(self, reason: str) -> None:
        """:meth:`_invalidate` every known symbol."""
        for symbol in self.symbols:
            self._invalidate(symbol, reason)

    def _verify_checksum(self, symbol: str, expected: int | None, depth: int = 25) -> bool:
        """Compare the local checksum with ``expected``. ``None``/``0`` means absent."""
        if not expected:
            return True
        actual = self.checksum(symbol, depth)
        if actual == expected:
            return True
        self._fail(symbol, "checksum", f"expected {expected}, computed {actual}")
        return False

    # ------------------------------------------- sequenced books (snapshot + deltas)

    def _on_delta(self, symbol: str, delta: BookDelta, *, buffer: bool = True) -> bool:
        """Apply one sequenced update by the store's ``_RULE``.

        Synced: applied if in sequence, dropped if stale, else a gap (unsynced,
        counted, resync). Unsynced: buffered for the next snapshot when
        ``buffer`` (REST-snapshot exchanges), else dropped. Returns whether it
        was applied.
        """
        rule = self._RULE
        state = self._states.get(symbol)
        if state is None:
            if self._refuse_new(symbol):
                return False
            state = self._state(symbol)
        phase = state.phase
        if phase == "unsynced":
            self._hold(symbol, state, delta, buffer)
            return False
        if rule is None:
            return self._apply_delta(symbol, state, delta)
        last = state.last_id if state.last_id is not None else -1
        verdict = rule.bridge(last, delta) if phase == "bridging" else rule.follow(last, delta)
        if verdict is Verdict.APPLY:
            applied = self._apply_delta(symbol, state, delta)
            if applied and self._STALE_WINDOW:
                self._remember_id(state, delta.last_id)
            return applied
        if verdict is Verdict.STALE:
            if not self._STALE_WINDOW or phase != "synced" or self._was_applied(state, delta):
                state.stale += 1
                return False
            self._fail(
                symbol,
                "gap",
                f"{rule.name}: last id {last}, update {delta.last_id} prev {delta.prev_id} "
                "was never applied (a sequence reset was missed?)",
            )
            self._hold(symbol, state, delta, buffer)
            return False
        if phase == "bridging" and self._REFETCH_STALE_SNAPSHOT:
            self._snapshot_too_old(symbol, state, delta)
            return False
        self._fail(
            symbol,
            "gap",
            f"{rule.name}: last id {last}, update {delta.first_id}..{delta.last_id}"
            + (f" prev {delta.prev_id}" if delta.prev_id is not None else ""),
        )
        self._hold(symbol, state, delta, buffer)
        return False

    def _remember_id(self, state: _SymbolState, update_id: int) -> None:
        """Keep ``update_id`` among the last ``_STALE_WINDOW`` applied. O(1)."""
        recent = state.recent_ids
        if recent is None:
            recent = state.recent_ids = deque(maxlen=self._STALE_WINDOW)
        recent.append(update_id)

    @staticmethod
    def _was_applied(state: _SymbolState, delta: BookDelta) -> bool:
        recent = state.recent_ids
        return recent is not None and delta.last_id in recent

    def _snapshot_too_old(self, symbol: str, state: _SymbolState, delta: BookDelta) -> None:
        """The first update after a snapshot does not bridge it: the snapshot is older
        than the stream. Unsynced, the update kept for the next snapshot, one asked for;
        counted as a resync, not as a gap (see ``_REFETCH_STALE_SNAPSHOT``)."""
        state.phase = "unsynced"
        state.last_error = (
            f"stale snapshot: snapshot {state.last_id} is older than update "
            f"{delta.first_id}..{delta.last_id}"
        )
        logger.info("%s %s: %s; fetching a newer one", self.name, symbol, state.last_error)
        self._hold(symbol, state, delta, True)

    def _hold(self, symbol: str, state: _SymbolState, delta: BookDelta, buffer: bool) -> None:
        if buffer:
            if len(state.buffer) >= self._BUFFER_MAX:
                state.buffer.popleft()
                first = not (state.last_error or "").startswith("overflow")
                state.last_error = "overflow: update buffer full while waiting for a snapshot"
                if first and self._sink is not None:
                    self._report(symbol, "unsynced", "overflow")
            state.buffer.append(delta)
        self._request_resync(symbol)

    def _apply_delta(self, symbol: str, state: _SymbolState, delta: BookDelta) -> bool:
        if not self._apply(symbol, delta.asks, delta.bids):
            return False
        state.last_id = delta.last_id
        state.phase = "synced"
        if delta.checksum:
            return self._verify_checksum(symbol, delta.checksum)
        return True

    def _on_snapshot(
        self,
        symbol: str,
        snapshot_id: int,
        asks: Iterable[Level],
        bids: Iterable[Level],
    ) -> bool:
        """Install a REST snapshot and replay the buffered updates that follow it.

        Buffered updates the snapshot already covers are dropped; the first
        remaining one must bridge the snapshot (``_RULE.bridge``), the rest must
        follow each other. If the snapshot is older than the buffer can bridge,
        the symbol stays unsynced and another snapshot is requested. Returns
        whether the book is synced afterwards. A ``symbol`` that is not a ``str``
        is refused (counted in ``dropped``; returns ``False``), and so is a new
        symbol beyond ``max_symbols``.
        """
        if self._refuse_new(symbol):
            return False
        state = self._state(symbol)
        buffered = state.drop_buffer()
        if not self._replace(symbol, asks, bids, snapshot_id):
            return False
        state.phase = "bridging" if self._RULE is not None else "synced"
        for delta in buffered:
            self._on_delta(symbol, delta)
        return self.is_synced(symbol)
