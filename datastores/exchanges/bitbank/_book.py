"""bitbank's ``depth`` book: ``depth_whole`` replaces it, ``depth_diff`` updates it.

The official recipe (https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md#how-to-manage-a-local-order-book-correctly):
subscribe to both rooms, keep the diffs, apply a diff when it arrives, and whenever
a whole arrives replace the book with it and apply again, in ascending ``s``
order, the kept diffs whose ``s`` is greater than the whole's ``sequenceId``; a
diff whose ``s`` is not greater than the last one applied is dropped.

Why the diffs are kept even while the book is in sync: a whole can arrive *after*
diffs newer than it (it is delayed relative to the diffs), so replacing the book
with it alone would undo those diffs. Why the book cannot be verified: ``s`` is
one counter shared by every pair (per pair it steps by 2 to several thousand,
never by 1), so a lost diff cannot be told from the pair's ordinary steps, and
there is no checksum. A lost diff stays wrong until the next whole, which the
exchange pushes on joining the room and then every 15 s, even when nothing
changed. ``status().verifiable`` is ``False`` for this reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal

from ..._bookside import Level
from ..._integrity import BookDelta
from ..._orderbook import OrderBookStore
from ._items import DepthItem

__all__ = ["Depth", "Outcome", "parse_sequence"]

#: what became of one whole or diff (see :meth:`Depth.on_diff`, :meth:`Depth.on_whole`)
Outcome = Literal["applied", "kept", "stale", "malformed", "refused"]


def parse_sequence(value: Any) -> int | None:
    """``s`` / ``sequenceId`` as an integer (bitbank sends a decimal string), or
    ``None`` when it is not one."""
    if value.__class__ is str:
        return int(value) if value.isdigit() else None
    if value.__class__ is int:
        return int(value)
    return None


class Depth(OrderBookStore[DepthItem]):
    """Books of ``depth_whole_{pair}`` and ``depth_diff_{pair}``, keyed by ``pair``,
    ``side`` (``"asks"``/``"bids"``) and ``price``; field ``amount``.

    ``sorted()`` returns ``{"asks": [...], "bids": [...]}`` best first. Levels are
    the ``[price, amount]`` strings bitbank sent; an amount of ``"0"`` deletes.
    A diff costs O(k log n) for k levels; a whole O(n log n) plus its replay.

    ``timestamp`` is the ``timestamp``/``t`` of the latest whole or diff of any
    pair (milliseconds), as the reference library has it; ``timestamps`` the same
    per pair.

    Integrity: a whole marks the pair synced; a malformed diff or whole marks it
    unsynced until a whole that covers the loss (the next one, pushed every 15 s).
    A lost diff cannot be detected (see the module docstring): ``synced`` means
    that nothing inconsistent was seen since the last whole.
    """

    _VERIFICATION = (("none",), "`depth_whole` + newer `depth_diff`")

    _SYMBOL = "pair"
    _SIDE = "side"
    _PRICE = "price"
    _SIZE = "amount"
    _ASK = "asks"
    _BID = "bids"
    _VERIFIABLE = False
    #: diffs kept per pair for the next whole's replay (about 3 a second arrive per
    #: pair and a whole comes every 15 s: the cap only bounds a whole that never comes)
    _KEEP_MAX: ClassVar[int] = 8000

    def _init(self) -> None:
        super()._init()
        #: the latest ``timestamp`` / ``t`` of any pair (ms), or ``None``
        self.timestamp: int | None = None
        #: the latest ``timestamp`` / ``t`` per pair (ms)
        self.timestamps: dict[str, int] = {}
        # diffs since the last whole, per pair, for the next whole's replay; a pair
        # enters it when first seen (``_admit``) and never leaves, so every other
        # table here is keyed by its pairs and bounded by ``max_symbols`` with it
        self._kept: dict[str, deque[BookDelta]] = {}
        # the ``s`` (or sequenceId) last applied per pair; absent before the first whole
        self._last: dict[str, int] = {}
        # the ``sequenceId`` of the last whole applied per pair
        self._wholes: dict[str, int] = {}
        # per pair, the ``s`` a whole must reach to cover a diff that could not be read
        self._lost: dict[str, int] = {}
        # pairs that lost a diff whose ``s`` is unknown: the next diff's ``s`` bounds it
        self._lost_unknown: set[str] = set()

    def _admit(self, pair: str) -> deque[BookDelta] | None:
        """``pair``'s kept diffs, made for a new pair; ``None`` for a new pair beyond
        ``max_symbols`` (counted in ``symbols_refused``: nothing is kept for it). O(1)."""
        kept = self._kept.get(pair)
        if kept is not None:
            return kept
        if self._refuse_new(pair, self._kept):
            return None
        kept = self._kept[pair] = deque(maxlen=self._KEEP_MAX)
        return kept

    def _stamp(self, pair: str, timestamp: Any) -> None:
        if timestamp.__class__ is int:
            self.timestamp = timestamp
            self.timestamps[pair] = timestamp

    # ------------------------------------------------------------------ diffs

    def on_diff(
        self, pair: str, sequence: int, asks: Sequence[Level], bids: Sequence[Level], t: Any
    ) -> Outcome:
        """Apply one ``depth_diff`` whose ``s`` is ``sequence``.

        Returns ``"applied"``; ``"kept"`` before the pair's first whole or while it
        is unsynced (the next whole's replay applies it); ``"stale"`` when not newer
        than the last applied (``status().stale``); ``"malformed"`` when its levels
        cannot be applied (the book goes unsynced until a whole covers it);
        ``"refused"`` for a new pair beyond ``max_symbols``.
        """
        kept = self._admit(pair)
        if kept is None:
            return "refused"
        self._stamp(pair, t)
        if pair in self._lost_unknown:
            # The unreadable diff came before this one: a whole covers it once it
            # reaches this diff's ``s``.
            self._lost_unknown.discard(pair)
            self._lost[pair] = max(self._lost.get(pair, sequence), sequence)
        delta = BookDelta(sequence, sequence, None, asks, bids)
        last = self._last.get(pair)
        if last is not None and sequence <= last:
            self._state(pair).stale += 1
            return "stale"
        if last is None or not self.is_synced(pair):
            # Before the first whole (the recipe buffers it) or while unsynced: kept
            # for the next whole's replay, once its levels are known to be usable.
            if not (_usable(asks) and _usable(bids)):
                self.lose_diff(pair, f"depth_diff {sequence} with unusable levels", sequence)
                return "malformed"
            self._keep(pair, kept, delta)
            return "kept"
        self._keep(pair, kept, delta)
        if self._on_delta(pair, delta, buffer=False):
            self._last[pair] = sequence
            return "applied"
        # Malformed levels: counted and unsynced by the store; a whole must cover it.
        kept.pop()
        self._lost[pair] = max(self._lost.get(pair, sequence), sequence)
        return "malformed"

    def _keep(self, pair: str, kept: deque[BookDelta], delta: BookDelta) -> None:
        if len(kept) == kept.maxlen:
            # The oldest kept diff falls out: only a whole that reaches it can be replayed.
            oldest = kept[0].last_id
            self._lost[pair] = max(self._lost.get(pair, oldest), oldest)
        kept.append(delta)

    def lose_diff(self, pair: str, detail: str, sequence: int | None = None) -> None:
        """A ``depth_diff`` of ``pair`` could not be read: unsynced until a whole
        covers it, one that reaches its ``sequence`` (or, when that is unknown, the
        ``s`` of the next diff). Ignored for a new pair beyond ``max_symbols``."""
        if self._admit(pair) is None:
            return
        if sequence is None:
            self._lost_unknown.add(pair)
        else:
            self._lost[pair] = max(self._lost.get(pair, sequence), sequence)
        self._fail(pair, "error", detail)

    # ----------------------------------------------------------------- wholes

    def on_whole(
        self,
        pair: str,
        sequence_id: int,
        asks: Iterable[Level],
        bids: Iterable[Level],
        timestamp: Any,
    ) -> Outcome:
        """Replace ``pair``'s book with a ``depth_whole`` and replay the kept diffs
        newer than it (ascending ``s``).

        Returns ``"applied"`` (synced after), ``"kept"`` (installed, but a loss it
        does not cover keeps the book unsynced), ``"stale"`` (older than the last
        whole applied: dropped; wholes and diffs share one sequence that never goes
        back), ``"malformed"`` (its levels, or a replayed diff's, are unusable) or
        ``"refused"`` (a new pair beyond ``max_symbols``).
        """
        kept = self._admit(pair)
        if kept is None:
            return "refused"
        self._stamp(pair, timestamp)
        previous = self._wholes.get(pair)
        if previous is not None and sequence_id < previous:
            self._state(pair).stale += 1
            return "stale"
        replay = sorted((d for d in kept if d.last_id > sequence_id), key=_sequence_of)
        kept.clear()
        kept.extend(replay)
        if not self._replace(pair, asks, bids, sequence_id):
            self._last.pop(pair, None)  # malformed: unsynced, kept diffs wait for the next
            return "malformed"
        self._last[pair] = self._wholes[pair] = sequence_id
        for delta in replay:
            if not self._on_delta(pair, delta, buffer=False):
                kept.remove(delta)  # malformed: it would fail every replay
                self._lost[pair] = max(self._lost.get(pair, delta.last_id), delta.last_id)
                return "malformed"
            self._last[pair] = delta.last_id
        if pair in self._lost_unknown:
            if self.is_synced(pair):
                self._invalidate(pair, "a diff that could not be read came before", kind="error")
            return "kept"
        lost = self._lost.get(pair)
        if lost is not None:
            if lost > sequence_id:
                if self.is_synced(pair):
                    self._invalidate(
                        pair, f"a diff that could not be applied is newer than whole {sequence_id}",
                        kind="error",
                    )  # fmt: skip
                return "kept"
            del self._lost[pair]
        return "applied"

    # ------------------------------------------------------------- reconnects

    def forget_stream(self, pair: str, reason: str) -> None:
        """The connection feeding ``pair`` was replaced: unsynced, its kept diffs
        dropped; diffs of the new connection are kept until its first whole."""
        kept = self._kept.get(pair)
        if kept is not None:
            kept.clear()  # the pair stays admitted (see ``_kept``)
        self._last.pop(pair, None)
        self._wholes.pop(pair, None)
        self._lost.pop(pair, None)
        self._lost_unknown.discard(pair)
        self._invalidate(pair, reason)

    def kept(self, pair: str) -> int:
        """How many diffs of ``pair`` are kept for the next whole's replay."""
        kept = self._kept.get(pair)
        return len(kept) if kept is not None else 0


def _sequence_of(delta: BookDelta) -> int:
    return delta.last_id


def _usable(levels: Sequence[Level]) -> bool:
    """Whether every level is a ``[price, amount]`` pair of numbers. O(k)."""
    if levels.__class__ is not list:
        return False
    try:
        for level in levels:
            if float(level[0]) != float(level[0]) or float(level[1]) < 0:
                return False
    except (TypeError, ValueError, IndexError, KeyError):
        return False
    return True
