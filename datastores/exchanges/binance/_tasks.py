"""Background work of a Binance collection: depth-snapshot refetches and the listenKey keepalive.

Everything here runs on the collection's :class:`datastores.Client` (its clock,
its session, its signing) and is registered with ``client.add_closer()``, so it
ends when the client closes and no task is left pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from ..._clock import SYSTEM_CLOCK, Clock
from ..._errors import ExchangeAPIError, RateLimitError, TransportError
from ..._http import read_response

if TYPE_CHECKING:
    from ._books import _DiffBook

__all__ = ["BinanceBackground", "real_binance_url"]

logger = logging.getLogger("datastores.exchanges.binance")

#: hosts that are Binance's own (REST); a URL on another host came through a
#: redirect (a fake exchange) or a proxy.
BINANCE_REST_HOSTS = frozenset(
    {
        "api.binance.com",
        "api-gcp.binance.com",
        "api1.binance.com",
        "api2.binance.com",
        "api3.binance.com",
        "api4.binance.com",
        "data-api.binance.vision",
        "testnet.binance.vision",
        "demo-api.binance.com",
        "fapi.binance.com",
        "demo-fapi.binance.com",
        "testnet.binancefuture.com",
        "dapi.binance.com",
    }
)

#: errors after which a request is simply tried again later
RETRYABLE = (ExchangeAPIError, TransportError, aiohttp.ClientError, asyncio.TimeoutError, OSError)

#: listenKey: valid 60 minutes; Binance recommends a keepalive about every 30.
#: https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Keepalive-User-Data-Stream
LISTENKEY_KEEPALIVE_SECONDS = 1800.0
#: Binance's code for "This listenKey does not exist." (expired): create a new one.
LISTENKEY_MISSING_CODE = -1125


def real_binance_url(client: Any, url: URL, default_host: str) -> URL:
    """The real Binance URL behind ``url`` (which may point at a redirect target).

    Signed requests must name the real host (signers are chosen by host and the
    client applies its redirects after signing). A URL on a Binance host is
    returned as it is; otherwise the client's redirects are searched backwards,
    and failing that ``default_host`` is used.
    """
    if url.host in BINANCE_REST_HOSTS:
        return url
    path = url.raw_path
    candidates: list[str] = []
    redirects: Mapping[str, URL] = getattr(client, "redirects", None) or {}
    for host, base in redirects.items():
        base = URL(base) if not isinstance(base, URL) else base
        if base.host == url.host and base.port == url.port:
            prefix = base.raw_path.rstrip("/")
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
            candidates.append(host)
    host = default_host if default_host in candidates or not candidates else candidates[0]
    return URL.build(
        scheme="https", host=host, path=path, query_string=url.raw_query_string, encoded=True
    )


class _Backoff:
    """Exponential delays: ``first``, doubled after each failure, at most ``cap`` seconds."""

    __slots__ = ("cap", "delay", "failures", "first")

    def __init__(self, first: float, cap: float) -> None:
        self.first = first
        self.cap = cap
        self.delay = first
        self.failures = 0

    def next(self) -> float:
        delay = self.delay
        self.failures += 1
        self.delay = min(self.delay * 2.0, self.cap)
        return delay


class BinanceBackground:
    """The tasks of one collection. ``aclose()`` (called by ``Client.close()``) cancels them.

    * One snapshot refetch per symbol at most (``_resyncs``); failures back off
      exponentially (1 s doubling up to 60 s) with the client's clock and are
      logged once per episode.
    * The listenKey keepalive: PUT every 30 minutes; on error -1125 or a
      ``listenKeyExpired`` event a new key is created (POST) and handed to
      ``on_new_listenkey``.
    """

    #: first retry delay after a failed snapshot request, and the cap (seconds)
    SNAPSHOT_BACKOFF = (1.0, 60.0)
    #: delay before fetching again when a snapshot was older than the stream
    STALE_SNAPSHOT_BACKOFF = (0.25, 30.0)
    #: retry delays of a failed keepalive / listenKey creation (seconds)
    LISTENKEY_BACKOFF = (5.0, 300.0)

    def __init__(self, name: str) -> None:
        self._name = name
        self._resyncs: dict[str, asyncio.Task[None]] = {}
        self._keepalive: asyncio.Task[None] | None = None
        self._renewal: asyncio.Task[None] | None = None
        self._others: set[asyncio.Task[Any]] = set()
        #: symbols whose refetch was cancelled (client closed, aclose()) before the
        #: book synced: the collection restarts them with its next client.
        self.abandoned: set[str] = set()
        #: ``(method, url, status, data)`` for each snapshot this object applies
        #: (the collection's response observers, e.g. a Recorder)
        self.on_response: Callable[[str, Any, int, Any], None] | None = None

    # ------------------------------------------------------------- lifecycle

    @property
    def resyncing(self) -> frozenset[str]:
        """Symbols whose snapshot refetch is in flight."""
        return frozenset(s for s, t in self._resyncs.items() if not t.done())

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        """Run a short coroutine as a task that ``aclose()`` also ends."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name} {what}")
        self._others.add(task)
        task.add_done_callback(self._others.discard)

    def _tasks(self) -> list[asyncio.Task[Any]]:
        tasks: list[asyncio.Task[Any]] = [t for t in self._resyncs.values() if not t.done()]
        tasks.extend(t for t in self._others if not t.done())
        for task in (self._keepalive, self._renewal):
            if task is not None and not task.done():
                tasks.append(task)
        return tasks

    def cancel_resyncs(self) -> None:
        """Cancel in-flight snapshot refetches (their snapshots may predate a reconnect)."""
        for task in self._resyncs.values():
            task.cancel()
        self._resyncs.clear()

    async def aclose(self) -> None:
        """Cancel every task and wait for them to finish. Idempotent."""
        tasks = self._tasks()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._resyncs.clear()
        self._keepalive = self._renewal = None

    # ------------------------------------------------------------ snapshots

    def schedule_resync(
        self,
        symbol: str,
        client: Any,
        book: _DiffBook,
        url: URL,
    ) -> bool:
        """Start refetching ``symbol``'s snapshot unless one is in flight.

        Must be called from inside the event loop. Returns whether a task runs
        for ``symbol`` afterwards.
        """
        task = self._resyncs.get(symbol)
        if task is not None and not task.done():
            return True
        loop = asyncio.get_running_loop()
        task = loop.create_task(
            self._resync(symbol, client, book, url), name=f"{self._name} {symbol} snapshot"
        )
        self._resyncs[symbol] = task
        return True

    async def _resync(self, symbol: str, client: Any, book: _DiffBook, url: URL) -> None:
        clock: Clock = getattr(client, "clock", SYSTEM_CLOCK)
        errors = _Backoff(*self.SNAPSHOT_BACKOFF)
        stale = _Backoff(*self.STALE_SNAPSHOT_BACKOFF)
        try:
            while not book.is_synced(symbol):
                try:
                    data = await _get_json(client, url)
                except Exception as exc:
                    if getattr(client, "closed", False):
                        # Closed under us (Client.close() stops its background owners one
                        # by one): like a cancelled refetch, the next client resumes it.
                        self.abandoned.add(symbol)
                        return
                    # Anything else is retried too: a refetch that died would leave the
                    # symbol waiting for a snapshot that nobody fetches.
                    delay = errors.next()
                    level = logging.WARNING if errors.failures == 1 else logging.DEBUG
                    logger.log(
                        level,
                        "%s %s: depth snapshot request failed (%s); retrying in %.3g s"
                        " (attempt %d)",
                        self._name,
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
                    logger.info(
                        "%s %s: depth snapshot fetched after %d failed attempts",
                        self._name,
                        symbol,
                        errors.failures,
                    )
                    errors = _Backoff(*self.SNAPSHOT_BACKOFF)
                if book.is_synced(symbol):
                    return  # a snapshot given to initialize() got there first
                if self.on_response is not None:
                    self.on_response("GET", url, 200, data)
                try:
                    book._on_depth_snapshot(symbol, data)
                except ValueError as exc:
                    logger.warning("%s %s: %s; fetching again", self._name, symbol, exc)
                if not book.is_synced(symbol):
                    # The snapshot predates the buffered stream (or the buffer had a
                    # gap): Binance says to fetch again.
                    await clock.sleep(stale.next())
        except asyncio.CancelledError:
            if self._resyncs.get(symbol) in (None, asyncio.current_task()):
                self.abandoned.add(symbol)
            raise
        finally:
            if self._resyncs.get(symbol) is asyncio.current_task():
                del self._resyncs[symbol]

    # ------------------------------------------------------------ listenKey

    def start_keepalive(
        self,
        client: Any,
        keepalive: Callable[[], Awaitable[None]],
        renew: Callable[[], Awaitable[None]],
    ) -> None:
        """(Re)start the keepalive loop: ``keepalive()`` every 30 minutes; ``renew()``
        when Binance says the key no longer exists (-1125)."""
        if self._keepalive is not None and not self._keepalive.done():
            self._keepalive.cancel()
        self._keepalive = asyncio.get_running_loop().create_task(
            self._keepalive_loop(client, keepalive, renew), name=f"{self._name} listenKey keepalive"
        )

    async def _keepalive_loop(
        self,
        client: Any,
        keepalive: Callable[[], Awaitable[None]],
        renew: Callable[[], Awaitable[None]],
    ) -> None:
        clock: Clock = getattr(client, "clock", SYSTEM_CLOCK)
        backoff = _Backoff(*self.LISTENKEY_BACKOFF)
        delay = LISTENKEY_KEEPALIVE_SECONDS
        while True:
            await clock.sleep(delay)
            try:
                await keepalive()
            except ExchangeAPIError as exc:
                if _is_missing_listenkey(exc):
                    logger.warning(
                        "%s: listenKey expired (%s); creating a new one", self._name, exc
                    )
                    await self._renew_until_done(client, renew)
                    delay = LISTENKEY_KEEPALIVE_SECONDS
                    continue
                delay = backoff.next()
                logger.warning(
                    "%s: listenKey keepalive failed (%s); retrying in %.3g s",
                    self._name,
                    exc,
                    delay,
                )
                continue
            except RETRYABLE as exc:
                delay = backoff.next()
                logger.warning(
                    "%s: listenKey keepalive failed (%s); retrying in %.3g s",
                    self._name,
                    exc,
                    delay,
                )
                continue
            backoff = _Backoff(*self.LISTENKEY_BACKOFF)
            delay = LISTENKEY_KEEPALIVE_SECONDS

    def schedule_renewal(self, client: Any, renew: Callable[[], Awaitable[None]]) -> None:
        """Create a new listenKey now (after ``listenKeyExpired``), unless already doing so."""
        if self._renewal is not None and not self._renewal.done():
            return
        self._renewal = asyncio.get_running_loop().create_task(
            self._renew_until_done(client, renew), name=f"{self._name} listenKey renewal"
        )

    async def _renew_until_done(self, client: Any, renew: Callable[[], Awaitable[None]]) -> None:
        clock: Clock = getattr(client, "clock", SYSTEM_CLOCK)
        backoff = _Backoff(*self.LISTENKEY_BACKOFF)
        while True:
            try:
                await renew()
                return
            except RETRYABLE as exc:
                delay = backoff.next()
                logger.warning(
                    "%s: creating a listenKey failed (%s); retrying in %.3g s",
                    self._name,
                    exc,
                    delay,
                )
                await clock.sleep(delay)


def _is_missing_listenkey(exc: ExchangeAPIError) -> bool:
    code: Any = exc.code
    try:
        return int(code) == LISTENKEY_MISSING_CODE
    except (TypeError, ValueError):
        return False


async def _get_json(client: Any, url: URL) -> Any:
    """GET ``url`` unsigned and decode it; raise ExchangeAPIError/RateLimitError on errors."""
    resp = await client.get(url, auth=None)
    return await read_response(resp, exchange="binance")


async def request_json(client: Any, method: str, url: URL, **kwargs: Any) -> Any:
    """Send a signed request and decode it; raise ExchangeAPIError on an error status."""
    resp = await client.request(method, url, **kwargs)
    return await read_response(resp, exchange="binance")
