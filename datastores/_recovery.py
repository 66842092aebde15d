"""Order-book recovery for every exchange: which connection feeds a book, and how
a book that lost its sequence gets a new snapshot.

An exchange supplies only its sequence rule (the book's ``_RULE``), its parser
and how to ask for a snapshot; this module does the rest:

* :class:`BookFeeds` (:mod:`datastores._bookfeeds`, re-exported here): a record of
  which connection (``ws``), channel/topic and arguments feed each symbol's book, and
  which connections carried books at all (to tell, on a reconnect, whether books
  must go unsynced).
* :class:`SnapshotRecovery`: REST snapshots (Binance, KuCoin, Bybit full books).
  Fetched through the collection's Client with the one :class:`Backoff` (on the
  Client's clock, honouring ``Retry-After``), at most one fetch in flight per
  book, fetched again while the snapshot is older than the stream.
* :class:`ResubscribeRecovery`: exchanges that send a snapshot on subscription
  (OKX, Bybit N-level, Bitget): unsubscribe and subscribe on the connection that
  fed the book; if no snapshot comes, again after :data:`RESUBSCRIBE_TIMEOUT`
  seconds, doubling up to :data:`RESUBSCRIBE_TIMEOUT_MAX`.

Both run on the collection's :class:`~datastores._background.Background`, so
their tasks end when the Client closes; the collection cancels them on a
reconnect (``cancel_all()`` / ``on_reconnect(ws)``). Install ``request`` as
the book's ``resync_hook``. Nothing here runs per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from ._background import Background, Backoff
from ._bookfeeds import BookFeed, BookFeeds
from ._errors import RateLimitError
from ._orderbook import OrderBookStore

__all__ = [
    "RESUBSCRIBE_TIMEOUT",
    "RESUBSCRIBE_TIMEOUT_MAX",
    "SNAPSHOT_BACKOFF",
    "STALE_SNAPSHOT_BACKOFF",
    "BookFeed",
    "BookFeeds",
    "ResubscribeRecovery",
    "SnapshotRecovery",
    "replaying",
]

_logger = logging.getLogger("datastores.recovery")

SnapshotT = TypeVar("SnapshotT")

#: seconds a resubscribed book waits for its snapshot before resubscribing again;
#: doubles per retry up to RESUBSCRIBE_TIMEOUT_MAX
RESUBSCRIBE_TIMEOUT = 10.0
RESUBSCRIBE_TIMEOUT_MAX = 300.0
#: (initial, cap) seconds between failed snapshot requests
SNAPSHOT_BACKOFF = (1.0, 60.0)
#: (initial, cap) seconds before fetching again a snapshot older than the stream
STALE_SNAPSHOT_BACKOFF = (0.25, 30.0)
#: seconds a book may wait for a Client before :class:`SnapshotRecovery` says none is
#: known: the usual start (``ws_connect`` first, then ``initialize(client.get(...))``)
#: gets its first diffs before the Client, and must not be told to give one
NO_CLIENT_GRACE = 5.0

#: set while a recording is replayed: its snapshots come from the file, a Client
#: never does, so there is nobody to tell to give one
_REPLAYING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "datastores_replaying", default=False
)


@contextlib.contextmanager
def replaying() -> Iterator[None]:
    """Within it, the current context replays a recording (see :data:`_REPLAYING`)."""
    token = _REPLAYING.set(True)
    try:
        yield
    finally:
        _REPLAYING.reset(token)


class SnapshotRecovery(Generic[SnapshotT]):
    """Recover books from REST snapshots: one fetch in flight per symbol, retried
    with :class:`Backoff` until the book is synced.

    * ``fetch(symbol)`` requests the snapshot through the Client (it runs in the
      background; ``self.background.client`` is the Client) and returns it.
    * ``install(symbol, snapshot)`` hands it to the book (usually after telling
      the response observers); it may raise ``ValueError`` for a malformed one.
      While the book is still unsynced afterwards (the snapshot was older than
      the stream), another is fetched after ``stale_backoff`` delays.
    * ``on_no_client(symbol)`` is called once per episode (for the first symbol
      that needs a snapshot while no open Client is known: say how to give one;
      the others are logged at DEBUG and counted in ``no_client``) until a
      Client comes, so junk symbols never log a WARNING each. Under a running
      event loop it is called only if, :attr:`no_client_grace` seconds later, a
      symbol still waits unsynced and still no Client is known (the usual start
      gives the Client right after ``ws_connect``); never during a replay.
    * ``wanted(symbol)`` (optional) says whether ``symbol`` still needs a
      snapshot from this recovery: ``False`` (the book was forgotten, or another
      feed that brings its own snapshots took it over) ends the fetching.

    Install :meth:`request` as the book's ``resync_hook``; call :meth:`resume`
    when the collection gets a Client, :meth:`cancel_all` on a reconnect.
    """

    def __init__(
        self,
        background: Background,
        book: OrderBookStore[Any],
        *,
        fetch: Callable[[str], Awaitable[SnapshotT]],
        install: Callable[[str, SnapshotT], object],
        on_no_client: Callable[[str], object] | None = None,
        logger: logging.Logger = _logger,
        backoff: tuple[float, float] = SNAPSHOT_BACKOFF,
        stale_backoff: tuple[float, float] = STALE_SNAPSHOT_BACKOFF,
        wanted: Callable[[str], bool] | None = None,
    ) -> None:
        self.background = background
        self.book = book
        self._fetch = fetch
        self._install = install
        self._on_no_client = on_no_client
        self._wanted = wanted
        self._logger = logger
        self.backoff = backoff
        self.stale_backoff = stale_backoff
        #: symbols waiting for a Client (or an event loop) to fetch their snapshot
        self.pending: set[str] = set()
        #: snapshot requests that found no open Client (each symbol, each time)
        self.no_client = 0
        #: seconds between the first request without a Client and the notice
        self.no_client_grace = NO_CLIENT_GRACE
        self._told = False
        self._notice: asyncio.TimerHandle | None = None

    def key(self, symbol: str) -> tuple[str, str, str]:
        """The :class:`Background` key of ``symbol``'s fetch."""
        return ("snapshot", self.book.name, symbol)

    def _symbol_of(self, key: Hashable) -> str | None:
        """The symbol of one of this recovery's keys, else ``None``."""
        if isinstance(key, tuple) and len(key) == 3 and key[:2] == ("snapshot", self.book.name):
            symbol = key[2]
            return symbol if isinstance(symbol, str) else None
        return None

    def _is_mine(self, key: Hashable) -> bool:
        return self._symbol_of(key) is not None

    @property
    def in_flight(self) -> frozenset[str]:
        """Symbols whose snapshot fetch runs."""
        symbols = (self._symbol_of(k) for k in self.background.running())
        return frozenset(s for s in symbols if s is not None)

    def request(self, symbol: str, *, stale: int = 0) -> None:
        """Start fetching ``symbol``'s snapshot unless a fetch runs (the book's resync hook).

        ``stale``: how many snapshots in a row turned out older than the stream
        after their fetch had ended (the first update after one did not bridge
        it); the fetch first waits the ``stale_backoff`` delay of that many
        failures, so such a book does not refetch in a tight loop.
        """
        background = self.background
        client = background.client
        if client is None or background.client_closed:
            self.no_client += 1
            if symbol not in self.pending:
                self.pending.add(symbol)
                self._waits_for_client(symbol)
            return
        self._told = False  # a Client is known: the next episode without one is told
        if self._notice is not None:
            self._notice.cancel()
            self._notice = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.pending.add(symbol)
            return
        task = background.spawn(
            self._fetch_until_synced(symbol, stale), f"{symbol} snapshot", key=self.key(symbol)
        )
        if task is None:
            self.pending.add(symbol)
        else:
            self.pending.discard(symbol)

    def _waits_for_client(self, symbol: str) -> None:
        """``symbol`` needs a snapshot and no Client is known: plan the episode's notice."""
        if self._told or self._on_no_client is None or _REPLAYING.get():
            self._logger.debug("%s %s: waits for a Client", self.book.name, symbol)
            return
        self._told = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No event loop: nothing can fetch until the caller gives a Client.
            self._on_no_client(symbol)
            return
        self._notice = loop.call_later(self.no_client_grace, self._tell_no_client, symbol)

    def _tell_no_client(self, symbol: str) -> None:
        """The grace is over: say no Client is known if a book still waits for one."""
        self._notice = None
        if self.background.client is not None and not self.background.client_closed:
            self._told = False  # one came (its fetches run); a later episode is told
            return
        waiting = sorted(
            s for s in self.pending if not self.book.is_synced(s) and self._is_wanted(s)
        )
        if not waiting:
            self._told = False  # the books synced without one (a replayed snapshot)
            return
        assert self._on_no_client is not None  # planned only with one
        self._on_no_client(symbol if symbol in waiting else waiting[0])

    def resume(self) -> None:
        """Fetch what waits for a Client: pending symbols, and those whose fetch a
        closing Client ended. Call it when the collection gets a Client."""
        for key in self.background.take_abandoned(self._is_mine):
            symbol = self._symbol_of(key)
            if symbol is not None:
                self.pending.add(symbol)
        if not self.pending or self.background.client is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        for symbol in list(self.pending):
            if self.book.is_synced(symbol) or not self._is_wanted(symbol):
                self.pending.discard(symbol)
            else:
                self.request(symbol)

    def cancel_all(self) -> None:
        """Cancel in-flight fetches (after a reconnect their snapshots may predate
        the new stream; the books ask again)."""
        self.background.cancel_matching(self._is_mine)

    def _is_wanted(self, symbol: str) -> bool:
        return self._wanted is None or self._wanted(symbol)

    async def _fetch_until_synced(self, symbol: str, stale_before: int = 0) -> None:
        book = self.book
        clock = self.background.clock
        name = self.background.name
        errors = Backoff(*self.backoff)
        stale = Backoff(*self.stale_backoff)
        if stale_before > 0:
            delay = 0.0
            for _ in range(min(stale_before, 64)):
                delay = stale.failed()
            await clock.sleep(delay)
        while not book.is_synced(symbol) and self._is_wanted(symbol):
            try:
                snapshot = await self._fetch(symbol)
            except Exception as exc:
                if self.background.client_closed:
                    raise  # ends quietly; the next Client resumes it (Background)
                # Anything else is retried: a fetch that died would leave the book
                # waiting for a snapshot nobody fetches.
                delay = errors.failed(exc)
                self._logger.log(
                    logging.WARNING if errors.failures == 1 else logging.DEBUG,
                    "%s %s: snapshot request failed (%s); retrying in %.3g s (attempt %d)",
                    name,
                    symbol,
                    exc,
                    delay,
                    errors.failures,
                )
                if isinstance(exc, RateLimitError):
                    book._state(symbol).last_error = f"rate limited: {exc}"
                await clock.sleep(delay)
                continue
            if errors.failures:
                self._logger.info(
                    "%s %s: snapshot fetched after %d failed attempts",
                    name,
                    symbol,
                    errors.failures,
                )
                errors.succeeded()
            if book.is_synced(symbol):
                return  # a snapshot given to initialize() got there first
            try:
                self._install(symbol, snapshot)
            except ValueError as exc:
                self._logger.warning("%s %s: %s; fetching again", name, symbol, exc)
            if not book.is_synced(symbol):
                # Older than the buffered stream (or the buffer had a hole): again.
                await clock.sleep(stale.failed())


class ResubscribeRecovery:
    """Recover books by resubscribing: the exchange answers a subscription with a
    fresh snapshot.

    ``messages(feed)`` builds the requests to send on ``feed.ws`` (usually an
    unsubscribe then a subscribe); ``send(ws, message)`` sends one (default
    ``ws.send_json(message)``). After sending, the book waits
    :data:`RESUBSCRIBE_TIMEOUT` seconds for its snapshot, then resubscribes
    again, the wait doubling up to :data:`RESUBSCRIBE_TIMEOUT_MAX`. The retries
    stop when the book is synced (call :meth:`on_snapshot`), when its connection
    reconnects (:meth:`on_reconnect`: the WebSocketApp resubscribes by itself),
    when another channel/connection feeds the book, and on close.

    Optional behaviour (all off by default):

    * ``on_retry(symbol)``: called before each of those retries, for what the
      exchange makes of a resubscription that brought no snapshot. Bitget counts
      it as another resync in the book's ``status().resyncs``; OKX requests the
      resync again (counted too, reported to the change feed with its reason,
      and its recovery chosen anew: a book may have turned to REST snapshots).
    * ``restart=False``: a request while the book's loop runs leaves the loop
      and its retry timer in charge instead of starting over at once, so a
      snapshot that keeps failing its checksum cannot cause a resubscribe storm.
    * ``is_unsubscribe(message)``: for exchanges that acknowledge unsubscribes,
      tells which of ``messages(feed)`` are ours to acknowledge; then
      :meth:`on_unsubscribe_ack` tells the acks of our resubscriptions from
      the user's own unsubscribe (which ends the retries).
    * ``when_client_closed=True``: with a closed Client the requests are still
      sent once, without the retry timer (the connection may outlive it).
    * ``first_wait=seconds``: for streams that push snapshots periodically on
      their own (bitFlyer): wait that long for the next one before the first
      request is sent; a snapshot in the meantime (:meth:`on_snapshot`) ends the
      episode with nothing sent.

    Install :meth:`request` as the book's ``resync_hook``.
    """

    def __init__(
        self,
        background: Background,
        book: OrderBookStore[Any],
        feeds: BookFeeds,
        *,
        messages: Callable[[BookFeed], Sequence[Any]],
        send: Callable[[Any, Any], Awaitable[object]] | None = None,
        on_retry: Callable[[str], object] | None = None,
        logger: logging.Logger = _logger,
        restart: bool = True,
        is_unsubscribe: Callable[[Any], bool] | None = None,
        when_client_closed: bool = False,
        first_wait: float = 0.0,
    ) -> None:
        if first_wait < 0:
            raise ValueError("first_wait must be >= 0")
        self.background = background
        self.book = book
        self.feeds = feeds
        self._messages = messages
        self._send_one = send
        self._on_retry = on_retry
        self._logger = logger
        self._restart = restart
        self._is_unsubscribe = is_unsubscribe
        self._when_client_closed = when_client_closed
        self._first_wait = first_wait
        self._awaiting: set[str] = set()
        # symbol -> our unsubscribes not acknowledged yet (with is_unsubscribe)
        self._unacked: dict[str, int] = {}
        #: set while a reconnect invalidates books: the app resubscribes by itself
        self.suspended = False
        #: requests that could not be sent (no feed, a closed connection, no event loop)
        self.not_sent = 0
        # why requests could not be sent since the last one that was: one WARNING
        # per reason and episode, then DEBUG (junk symbols must not flood the log)
        self._warned: set[str] = set()

    def key(self, symbol: str) -> tuple[str, str, str]:
        """The :class:`Background` key of ``symbol``'s resubscribe loop."""
        return ("resubscribe", self.book.name, symbol)

    @property
    def awaiting_snapshot(self) -> frozenset[str]:
        """Symbols resubscribed and waiting for their snapshot."""
        return frozenset(self._awaiting)

    def request(self, symbol: str, *, retry: bool = True) -> None:
        """Resubscribe the feed of ``symbol``'s book (the book's resync hook).

        ``retry=False`` sends the requests once and does not wait for a snapshot
        (a feed whose snapshot comes another way, say by REST, and whose stream
        must only be restarted).
        """
        if self.suspended:
            return
        feed = self.feeds.get(symbol)
        if feed is None:
            self._not_sent(
                "unfed",
                "%s %s: the book needs a new snapshot but no connection fed it through "
                "onmessage(msg, ws); it stays unsynced until its channel is resubscribed",
                self.background.name,
                symbol,
            )
            return
        ws = feed.ws
        if ws is None or getattr(ws, "closed", False) is True:
            self._not_sent(
                "closed",
                "%s %s: cannot resubscribe %s: its connection is closed; the book stays "
                "unsynced until the connection is re-established",
                self.background.name,
                symbol,
                feed.channel,
            )
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._not_sent(
                "no loop",
                "%s %s: the book needs a resubscription but no event loop is running; "
                "it stays unsynced",
                self.background.name,
                symbol,
            )
            return
        self._warned.clear()  # a resubscription goes out: the next failure is news again
        # A new episode while the previous one still waits: start over at once
        # (unless the retry timer stays in charge).
        self.background.spawn(
            self._resubscribe_loop(symbol, feed.channel, feed.args, ws, retry),
            f"resubscribe {feed.channel} {symbol}",
            key=self.key(symbol),
            replace=self._restart and symbol in self._awaiting,
            when_closed=self._when_client_closed,
        )

    def _not_sent(self, why: str, message: str, *args: object) -> None:
        """Count a request that could not be sent; WARNING the first time ``why``
        happens since a request was last sent, DEBUG after that. O(1)."""
        self.not_sent += 1
        level = logging.DEBUG if why in self._warned else logging.WARNING
        self._warned.add(why)
        self._logger.log(level, message, *args)

    def on_snapshot(self, symbol: str) -> None:
        """``symbol``'s book got its snapshot: stop waiting for it."""
        if symbol in self._awaiting:
            self.stop(symbol)

    def stop(self, symbol: str) -> None:
        """Cancel ``symbol``'s resubscribe loop (unsubscribed, or synced)."""
        self._awaiting.discard(symbol)
        self.background.cancel(self.key(symbol))

    def on_reconnect(self, ws: Any) -> None:
        """``ws`` reconnected: its app resubscribes by itself, so the loops of the
        books it fed stop (all of them when ``ws`` is ``None``), and the acks of
        our unsubscribes sent on it will never come."""
        for symbol in self.feeds.symbols_fed_by(ws):
            self.stop(symbol)
            self._unacked.pop(symbol, None)

    def on_unsubscribe_ack(self, symbol: str) -> bool:
        """The exchange acknowledged an unsubscribe of ``symbol``'s feed (needs
        ``is_unsubscribe``). If it answers one of our resubscriptions, it is
        consumed and ``True`` returned. Otherwise it is the user's: the book is
        no longer fed, so its retries stop, its feed is forgotten (it is not
        resubscribed against the user's will) and ``False`` is returned. O(1).
        """
        if self._consume_unacked(symbol):
            return True
        self.stop(symbol)
        self.feeds.forget(symbol)
        return False

    def _consume_unacked(self, symbol: str) -> bool:
        """Take one of our pending unsubscribes of ``symbol``; ``False`` if none."""
        pending = self._unacked.get(symbol, 0)
        if pending <= 0:
            return False
        if pending == 1:
            del self._unacked[symbol]
        else:
            self._unacked[symbol] = pending - 1
        return True

    async def _send(self, symbol: str, feed: BookFeed, ws: Any) -> bool:
        is_unsubscribe = self._is_unsubscribe
        try:
            for message in self._messages(feed):
                ours = is_unsubscribe is not None and is_unsubscribe(message)
                if ours:
                    # Counted before sending: the ack may be handled before the
                    # send returns.
                    self._unacked[symbol] = self._unacked.get(symbol, 0) + 1
                try:
                    if self._send_one is not None:
                        await self._send_one(ws, message)
                    else:
                        await ws.send_json(message)
                except BaseException:
                    if ours:
                        self._consume_unacked(symbol)  # no ack will come for it
                    raise
        except Exception as exc:
            self._logger.warning(
                "%s %s: resubscribing %s failed (%s: %s); the book stays unsynced until "
                "the connection is re-established",
                self.background.name,
                symbol,
                feed.channel,
                type(exc).__name__,
                exc,
            )
            return False
        self._logger.info(
            "%s %s: resubscribed to get a fresh snapshot", self.background.name, feed.channel
        )
        return True

    def _still_waiting(self, symbol: str, channel: str, args: Any) -> BookFeed | None:
        """The feed to resubscribe again, or ``None`` (synced, fed by another channel,
        or its connection is closed: the reconnect resubscribes by itself)."""
        feed = self.feeds.get(symbol)
        if feed is None or feed.channel != channel or feed.args != args:
            return None
        if self.book.is_synced(symbol):
            return None
        if feed.ws is None or getattr(feed.ws, "closed", False) is True:
            return None
        return feed

    async def _resubscribe_loop(
        self, symbol: str, channel: str, args: Any, ws: Any, retry: bool = True
    ) -> None:
        clock = self.background.clock
        timeout = RESUBSCRIBE_TIMEOUT
        retries = 0
        feed = BookFeed(ws, channel, args)
        if self._first_wait and retry:
            # The stream sends snapshots by itself: give the next one a chance first.
            self._awaiting.add(symbol)
            try:
                await clock.sleep(self._first_wait)
            finally:
                self._awaiting.discard(symbol)
            current = self._still_waiting(symbol, channel, args)
            if current is None:
                return
            feed = current
        while True:
            if not await self._send(symbol, feed, feed.ws):
                return
            if not retry or self.book.is_synced(symbol):
                return  # the snapshot came while the requests were sent
            if self.background.client_closed:
                return  # nothing waits on a closed Client
            self._awaiting.add(symbol)
            try:
                await clock.sleep(timeout)
            finally:
                self._awaiting.discard(symbol)
            current = self._still_waiting(symbol, channel, args)
            if current is None:
                return
            feed = current
            retries += 1
            # One WARNING per episode; later retries of the same episode at INFO.
            self._logger.log(
                logging.WARNING if retries == 1 else logging.INFO,
                "%s %s: no snapshot %.0f s after resubscribing; resubscribing again (retry %d)",
                self.background.name,
                channel,
                timeout,
                retries,
            )
            timeout = min(timeout * 2, RESUBSCRIBE_TIMEOUT_MAX)
            if self._on_retry is not None:
                self._on_retry(symbol)
