"""A live order-book session for the command line: connect, bootstrap, watch, summarise.

Shared by ``demo`` (against a fake exchange), ``watch`` (the real one) and
``record``. It uses only the public pieces a user would: ``Client.ws_connect``
with ``hdlr_json=`` (and ``send_json=`` for exchanges whose book is
subscribed by message), ``initialize()`` for a REST snapshot, ``status()`` and
``levels()`` of the book.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .._clock import SYSTEM_CLOCK, Clock
from .._errors import TransportError
from .._view import Renderer, ViewState, format_number
from ..apps.record import Recorder
from ._targets import Target

__all__ = ["Action", "LiveSession", "Summary", "unreachable"]

Level = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Action:
    """Something to do once ``at`` seconds into the run (a fault, in the demo).

    ``ready``, when given, postpones the action until it returns true (the demo
    injects a fault only into a synced book, one at a time).
    """

    at: float
    run: Callable[[], object]
    description: str
    ready: Callable[[], bool] | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """The end-of-run numbers (printed, and parsed by the demo's test)."""

    seconds: float
    messages: int
    gaps: int
    resyncs: int
    reconnects: int
    checksum_failures: int
    synced: bool
    best_bid: str | None
    best_ask: str | None
    #: ``ok``, ``mismatch`` or ``behind`` after comparing with the exchange (demo only)
    book_check: str | None = None
    #: the human explanation of ``book_check``
    book_detail: str | None = None

    def line(self) -> str:
        """One ``summary: key=value ...`` line, stable for scripts."""
        fields = {
            "seconds": f"{self.seconds:.1f}",
            "messages": self.messages,
            "gaps": self.gaps,
            "resyncs": self.resyncs,
            "reconnects": self.reconnects,
            "checksum_failures": self.checksum_failures,
            "synced": "yes" if self.synced else "no",
            "best_bid": format_number(self.best_bid) if self.best_bid else "-",
            "best_ask": format_number(self.best_ask) if self.best_ask else "-",
        }
        if self.book_check is not None:
            fields["book_check"] = self.book_check
        return "summary: " + " ".join(f"{k}={v}" for k, v in fields.items())

    def text(self) -> str:
        """A short human summary, ending with :meth:`line`."""
        rate = self.messages / self.seconds if self.seconds > 0 else 0.0
        book = (
            f"synced, best bid {format_number(self.best_bid or '-')}"
            f" / best ask {format_number(self.best_ask or '-')}"
            if self.synced
            else "NOT synced"
        )
        lines = [
            f"Finished after {self.seconds:.1f} s.",
            f"  messages received    {self.messages} ({rate:.0f}/s)",
            f"  sequence gaps        {self.gaps}",
            f"  resyncs              {self.resyncs}",
            f"  reconnects           {self.reconnects}",
            f"  final book           {book}",
        ]
        if self.checksum_failures:
            lines.append(f"  checksum failures    {self.checksum_failures}")
        if self.book_check is not None:
            lines.append(f"  matches the exchange {self.book_detail or self.book_check}")
        lines.append(self.line())
        return "\n".join(lines)


def unreachable(target: Target, command: str, exc: TransportError) -> TransportError:
    """``exc`` (the first connection failed) restated for the command line: what
    could not be reached, and what works offline."""
    return TransportError(
        f"cannot reach {target.label} ({exc}). `datastores {command}` needs the internet "
        f"(no keys); offline, `datastores demo --exchange {target.exchange}` shows the same "
        "view on a built-in fake exchange"
    )


class _LogToEvents(logging.Handler):
    """Shows the library's own warnings in the event log instead of on stderr."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self._emit = emit

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("datastores.orderbook"):
            return  # the session reports book integrity changes itself, more plainly
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        self._emit(f"log {record.levelname.lower()}: {text[:160]}")


@contextlib.contextmanager
def capture_library_logs(emit: Callable[[str], None]) -> Iterator[None]:
    """Route ``datastores.*`` warnings to ``emit`` for the duration."""
    library = logging.getLogger("datastores")
    handler = _LogToEvents(emit)
    previous = library.propagate
    library.addHandler(handler)
    library.propagate = False
    try:
        yield
    finally:
        library.removeHandler(handler)
        library.propagate = previous


class LiveSession:
    """One order book, fed live, with the counters and events the view shows.

    :meth:`handle` is the ``hdlr_json`` given to ``ws_connect``; because it is a
    bound method of an object with ``on_reconnect``, the WebSocketApp tells this
    session about reconnects, and the session passes them on to the store.
    """

    def __init__(
        self,
        target: Target,
        renderer: Renderer,
        *,
        title: str,
        clock: Clock = SYSTEM_CLOCK,
        recorder: Recorder | None = None,
        duration: float | None = None,
    ) -> None:
        self.target = target
        self.renderer = renderer
        self.title = title
        self.clock = clock
        self.recorder = recorder
        self.duration = duration
        self.store: Any = target.create_store()
        self.book: Any = self.store[target.book_name]
        self.messages = 0
        self.reconnects = 0
        self.events: list[tuple[float, str]] = []
        self.app: Any = None
        self._started = clock.monotonic()
        self._samples: deque[tuple[float, int]] = deque(maxlen=20)
        self._last_status: Any = self.book.status(target.key)
        self._ever_synced = False

    # ---------------------------------------------------------------- events

    @property
    def elapsed(self) -> float:
        """Seconds since the session started."""
        return self.clock.monotonic() - self._started

    def event(self, text: str) -> None:
        """Add a line to the event log (printed at once by the line renderer)."""
        elapsed = self.elapsed
        self.events.append((elapsed, text))
        del self.events[:-200]
        self.renderer.event(elapsed, text)

    def _check_book(self) -> None:
        status = self.book.status(self.target.key)
        last = self._last_status
        if status is last:
            return
        self._last_status = status
        if status.gaps > last.gaps:
            self.event(f"gap detected: {status.last_error}")
        if status.checksum_failures > last.checksum_failures:
            self.event(f"checksum mismatch: {status.last_error}")
        if status.errors > last.errors:
            self.event(f"unusable message: {status.last_error}")
        if last.synced and not status.synced and status.gaps == last.gaps:
            self.event(f"book unsynced ({status.last_error})")
        if status.resyncs > last.resyncs:
            if self._ever_synced:
                self.event(f"resync started: {self.target.recovery}")
            elif self.target.snapshot_url is not None:
                self.event("diffs buffered until the REST snapshot arrives")
            else:
                self.event("waiting for the stream's snapshot")
        if status.synced and not last.synced:
            levels = status.bids + status.asks
            if self._ever_synced:
                self.event(f"synced again at update id {status.last_update_id} ({levels} levels)")
            else:
                self.event(f"book synced at update id {status.last_update_id} ({levels} levels)")
            self._ever_synced = True

    # --------------------------------------------------------------- feeding

    def handle(self, msg: Any, ws: Any = None) -> None:
        """The WebSocket handler: count, record, feed the store, note integrity changes."""
        self.messages += 1
        if self.recorder is not None:
            self.recorder.record_message(msg, ws)
        self.store.onmessage(msg, ws)
        self._check_book()

    def on_reconnect(self, ws: Any = None) -> None:
        """Called by the WebSocketApp after it reconnected."""
        self.reconnects += 1
        self.event("reconnected: book marked unsynced, resyncing")
        if self.recorder is not None:
            self.recorder.record_reconnect(ws)
        self.store.on_reconnect(ws)
        self._check_book()

    async def start(self, client: Any) -> None:
        """Connect the stream, then bootstrap the book from its REST snapshot, or
        subscribe and let the snapshot the stream pushes start it."""
        target = self.target
        self.event(f"connecting to {target.ws_url}")
        if target.snapshot_url is None:
            # Stores that can fetch a snapshot by themselves (OKX without a WS
            # snapshot) need the client; recorded when recording.
            self.store.client = client
            if self.recorder is not None:
                self.recorder.attach(self.store)
            self.app = await client.ws_connect(
                target.ws_url, send_json=target.subscribe, hdlr_json=self.handle
            )
            sent = json.dumps(target.subscribe, separators=(",", ":"))
            self.event(f"connected; sent {sent}; the stream's snapshot starts the book")
            self._check_book()
            return
        self.app = await client.ws_connect(target.ws_url, hdlr_json=self.handle)
        self.event(f"connected; loading the snapshot {target.snapshot_url}")
        request = client.get(target.snapshot_url)
        if self.recorder is not None:
            await self.recorder.initialize(self.store, request)
        else:
            await self.store.initialize(request)
        self._check_book()

    # ------------------------------------------------------------------ view

    def rate(self) -> float:
        """Messages per second over the last few frames."""
        now = self.clock.monotonic()
        self._samples.append((now, self.messages))
        first_time, first_count = self._samples[0]
        if now - first_time <= 0:
            return 0.0
        return (self.messages - first_count) / (now - first_time)

    def levels(self, depth: int | None) -> tuple[list[Level], list[Level]]:
        """The local book's best ``(bids, asks)`` as ``(price, size)`` strings.

        Read with ``levels()``, the exchange's own ``[price, size, ...]``
        sequences, so the side and field names of each store do not matter.
        O(log n + depth).
        """
        asks, bids = self.book.levels(self.target.key, depth)
        return (
            [(str(level[0]), str(level[1])) for level in bids],
            [(str(level[0]), str(level[1])) for level in asks],
        )

    def state(self) -> ViewState:
        """The current frame."""
        self._check_book()
        status = self.book.status(self.target.key)
        bids, asks = self.levels(10)
        return ViewState(
            title=self.title,
            symbol=self.target.symbol,
            elapsed=self.elapsed,
            duration=self.duration,
            bids=bids,
            asks=asks,
            messages=self.messages,
            rate=self.rate(),
            synced=status.synced,
            last_update_id=status.last_update_id,
            gaps=status.gaps,
            resyncs=status.resyncs,
            checksum_failures=status.checksum_failures,
            reconnects=self.reconnects,
            last_error=status.last_error,
            events=list(self.events),
        )

    async def run(self, stop: asyncio.Event, actions: list[Action] = ()) -> None:  # type: ignore[assignment]
        """Redraw every ``renderer.interval`` until ``duration`` or ``stop``; run
        each action at its time (later if its ``ready`` says so; actions still
        waiting at the end are reported in the event log)."""
        pending = sorted(actions, key=lambda a: a.at)
        interval = self.renderer.interval
        last_frame: float | None = None
        while True:
            elapsed = self.elapsed
            acted = False
            while pending and elapsed >= pending[0].at:
                if pending[0].ready is not None and not pending[0].ready():
                    break  # due, but not yet possible: look again shortly
                action = pending.pop(0)
                self.event(action.description)
                action.run()
                acted = True
            finished = self.duration is not None and elapsed >= self.duration
            # Polling a waiting action must not draw more frames than the interval.
            if last_frame is None or acted or finished or elapsed - last_frame >= interval - 0.01:
                self.renderer.frame(self.state())
                last_frame = elapsed
            if finished:
                for action in pending:
                    self.event(f"not done in time (the book was not ready): {action.description}")
                return
            timeout = interval - (elapsed - last_frame)
            if self.duration is not None:
                timeout = min(timeout, max(0.0, self.duration - elapsed))
            if pending:
                due_in = pending[0].at - elapsed
                timeout = min(timeout, due_in if due_in > 0 else 0.02)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout)
            if stop.is_set():
                self.event("interrupted")
                return

    async def wait_caught_up(self, last_update_id: int, timeout: float) -> bool:
        """Wait until the book is synced at ``last_update_id`` (or ``timeout``)."""
        deadline = self.clock.monotonic() + timeout
        while self.clock.monotonic() < deadline:
            status = self.book.status(self.target.key)
            if status.synced and (status.last_update_id or 0) >= last_update_id:
                return True
            await asyncio.sleep(0.02)
        return False

    def summary(self, book_check: str | None = None, book_detail: str | None = None) -> Summary:
        """The end-of-run numbers."""
        status = self.book.status(self.target.key)
        bids, asks = self.levels(1)
        return Summary(
            seconds=self.elapsed,
            messages=self.messages,
            gaps=status.gaps,
            resyncs=status.resyncs,
            reconnects=self.reconnects,
            checksum_failures=status.checksum_failures,
            synced=status.synced,
            best_bid=bids[0][0] if bids else None,
            best_ask=asks[0][0] if asks else None,
            book_check=book_check,
            book_detail=book_detail,
        )

    async def close(self) -> None:
        """Close the WebSocketApp (the client closes the rest)."""
        app = self.app
        self.app = None
        if app is None:
            return
        closer = getattr(app, "aclose", None) or getattr(app, "close", None)
        if closer is not None:
            result = closer()
            if asyncio.iscoroutine(result):
                await result
