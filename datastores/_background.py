"""Background work of a collection, bound to its Client: tasks, backoff, token keepalive.

Every collection owns one :class:`Background` (``collection._background``).
Exchange code never calls ``loop.create_task`` itself: it calls
:meth:`Background.spawn`, which

* registers the owner with the collection's ``Client`` (``client.add_closer``),
  so ``Client.close()`` cancels the work and awaits it: no task is left pending;
* keeps at most one live task per ``key`` (one snapshot fetch per book, one
  keepalive per token...);
* uses the Client's clock (``client.clock``, else the system clock), so tests
  drive backoff and keepalive with virtual time;
* ends a task quietly when the Client is closed under it, and remembers its key
  as *abandoned*, so the work is resumed with the collection's next Client.

:class:`Backoff` is the one retry policy (exponential, capped, reset on
success, at least the ``Retry-After`` a :class:`~datastores.RateLimitError`
carries). :class:`TokenKeepalive` keeps a session token alive (Binance
listenKey today; KuCoin bullet, GMO Coin access token, bitbank PubNub token).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

from ._clock import SYSTEM_CLOCK, Clock
from ._errors import ExchangeAPIError, RateLimitError, TransportError

__all__ = ["Background", "Backoff", "TokenKeepalive", "retryable_errors"]

logger = logging.getLogger("datastores.background")

TokenT = TypeVar("TokenT")

#: ``Background._held_for`` when nothing is held (``None`` is a Client value: no Client)
_NOT_HELD: Any = object()


@functools.cache
def retryable_errors() -> tuple[type[BaseException], ...]:
    """Errors after which a background request is simply tried again later:
    exchange errors (rate limits included), transport errors, timeouts, OS errors."""
    import aiohttp  # local: collections import this module; aiohttp loads on first use

    return (ExchangeAPIError, TransportError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class Backoff:
    """Exponential retry delays: ``initial``, times ``factor`` after each failure,
    at most ``cap`` seconds; :meth:`succeeded` starts over.

    A :class:`~datastores.RateLimitError` with ``retry_after`` (the exchange's
    ``Retry-After``) makes the delay at least that long, even above ``cap``:
    the exchange said when to come back.

    >>> b = Backoff(1.0, 4.0)
    >>> [b.failed() for _ in range(4)]
    [1.0, 2.0, 4.0, 4.0]
    """

    __slots__ = ("cap", "delay", "factor", "failures", "initial")

    def __init__(self, initial: float, cap: float, *, factor: float = 2.0) -> None:
        self.initial = initial
        self.cap = cap
        self.factor = factor
        #: delay :meth:`failed` returns next (before any ``Retry-After``)
        self.delay = initial
        #: failures since the last success
        self.failures = 0

    def __repr__(self) -> str:
        return f"<Backoff next={self.delay:g}s failures={self.failures} cap={self.cap:g}s>"

    def failed(self, error: BaseException | None = None) -> float:
        """Count one failure and return the seconds to wait before the next attempt."""
        delay = self.delay
        self.failures += 1
        self.delay = min(self.delay * self.factor, self.cap)
        if isinstance(error, RateLimitError):
            retry_after = error.retry_after
            if retry_after is not None and retry_after > delay:
                delay = retry_after
        return delay

    def succeeded(self) -> None:
        """An attempt succeeded: the next failure waits ``initial`` again."""
        self.delay = self.initial
        self.failures = 0


class Background:
    """The background tasks of one collection, bound to its Client.

    ``client_of()`` returns the collection's current ``datastores.Client`` (or
    ``None``); it is read at every :meth:`spawn`, so a Client given later (by
    ``initialize()`` or ``collection.client = ...``) is picked up.

    The owner registers itself with that Client (``add_closer``) when it first
    starts a task there; ``Client.close()`` then calls :meth:`aclose`.
    Complexity: spawn, cancel and lookups are O(1); :meth:`aclose` is O(tasks).
    """

    def __init__(self, name: str, client_of: Callable[[], Any] | None = None) -> None:
        #: names tasks and log lines (usually the collection's class name)
        self.name = name
        self._client_of = client_of
        self._keyed: dict[Hashable, asyncio.Task[Any]] = {}
        self._unkeyed: set[asyncio.Task[Any]] = set()
        self._registered_with: Any = None
        self._abandoned: set[Hashable] = set()
        #: when True, :meth:`aclose` holds the work: nothing is spawned again
        #: until the owner has a different Client (or none, then one)
        self.hold_after_close = False
        self._held_for: Any = _NOT_HELD

    def __repr__(self) -> str:
        return f"<Background {self.name!r} running={sorted(map(str, self.running()))}>"

    # ----------------------------------------------------------------- client

    @property
    def client(self) -> Any:
        """The owner's current ``datastores.Client``, or ``None``."""
        return self._client_of() if self._client_of is not None else None

    @property
    def clock(self) -> Clock:
        """The Client's clock (``client.clock``), else the system clock."""
        clock: Clock | None = getattr(self.client, "clock", None)
        return clock if clock is not None else SYSTEM_CLOCK

    @property
    def client_closed(self) -> bool:
        """Whether there is a Client and it is closed (work must wait for the next one)."""
        client = self.client
        return client is not None and bool(getattr(client, "closed", False))

    def _adopt(self, client: Any) -> bool:
        """Register with ``client`` once; False when it is closed."""
        if client is None or self._registered_with is client:
            return True
        if getattr(client, "closed", False):
            return False
        add_closer = getattr(client, "add_closer", None)
        if add_closer is not None:
            try:
                add_closer(self)
            except RuntimeError:  # closed between the check and the call
                return False
        self._registered_with = client
        return True

    # ------------------------------------------------------------------ tasks

    def spawn(
        self,
        coro: Coroutine[Any, Any, Any],
        name: str,
        *,
        key: Hashable | None = None,
        replace: bool = False,
        when_closed: bool = False,
    ) -> asyncio.Task[Any] | None:
        """Run ``coro`` as a task that the Client's close (or :meth:`aclose`) ends.

        With ``key``, at most one task per key is alive: if one runs, ``coro``
        is discarded and the running task is returned, unless ``replace``,
        which cancels the running one first. Returns ``None`` (and discards
        ``coro``) when there is no running event loop or the Client is closed,
        unless ``when_closed``: then it runs anyway (not registered with the
        closed Client; :meth:`aclose` still ends it), for short work that must
        not wait for the next Client (a request on a connection that outlives it).

        An exception escaping ``coro`` is logged, never left unretrieved; one
        raised while the Client is closed ends the task quietly and the key is
        remembered for :meth:`take_abandoned`, like a task cancelled by a close.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            return None
        if self._held_for is not _NOT_HELD:
            if self.client is self._held_for:
                coro.close()
                return None
            self._held_for = _NOT_HELD  # a new Client: work again
        if key is not None:
            running = self._keyed.get(key)
            if running is not None and not running.done():
                if not replace:
                    coro.close()
                    return running
                running.cancel()
        if not self._adopt(self.client) and not when_closed:
            coro.close()
            return None
        task = loop.create_task(self._run(coro, name, key), name=f"{self.name} {name}")
        # A task cancelled before its first step never runs _run's body: close the
        # coroutine so it is not reported as never awaited.
        task.add_done_callback(lambda _: coro.close())
        if key is None:
            self._unkeyed.add(task)
            task.add_done_callback(self._unkeyed.discard)
        else:
            self._keyed[key] = task
        return task

    async def _run(self, coro: Coroutine[Any, Any, Any], name: str, key: Hashable | None) -> Any:
        try:
            return await coro
        except Exception as exc:
            if self.client_closed:
                # Client.close() stops its closers one by one: work woken meanwhile
                # meets a closed client. The next client resumes it.
                if key is not None:
                    self._abandoned.add(key)
                logger.debug("%s: %s ended with the closed client (%r)", self.name, name, exc)
                return None
            logger.exception("%s: background task %s failed", self.name, name)
            return None
        finally:
            if key is not None and self._keyed.get(key) is asyncio.current_task():
                del self._keyed[key]

    def task(self, key: Hashable) -> asyncio.Task[Any] | None:
        """The live task for ``key``, or ``None``."""
        task = self._keyed.get(key)
        return task if task is not None and not task.done() else None

    def running(self) -> frozenset[Hashable]:
        """Keys whose task is alive (for tests and introspection)."""
        return frozenset(k for k, t in self._keyed.items() if not t.done())

    def cancel(self, key: Hashable) -> bool:
        """Cancel ``key``'s task (not awaited); whether one was alive."""
        task = self._keyed.pop(key, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_matching(self, predicate: Callable[[Hashable], bool]) -> int:
        """Cancel the tasks whose key satisfies ``predicate`` (not awaited); how many."""
        keys = [k for k in self._keyed if predicate(k)]
        return sum(self.cancel(k) for k in keys)

    def cancel_all(self) -> None:
        """Cancel every task (not awaited; :meth:`aclose` also awaits them)."""
        tasks = [*self._keyed.values(), *self._unkeyed]
        self._keyed.clear()
        for task in tasks:
            task.cancel()

    def take_abandoned(self, predicate: Callable[[Hashable], bool] | None = None) -> set[Hashable]:
        """Remove and return the keys of tasks a closing Client ended (those matching
        ``predicate``, or all): the owner restarts that work with its next Client."""
        if predicate is None:
            taken, self._abandoned = self._abandoned, set()
            return taken
        taken = {k for k in self._abandoned if predicate(k)}
        self._abandoned -= taken
        return taken

    async def aclose(self) -> None:
        """Cancel every task and wait until they finished. Idempotent.

        ``Client.close()`` calls it; so does the collection's ``aclose()``.
        Keyed tasks it cancels are remembered as abandoned. Spawning works
        again afterwards (with the same Client if it is still open, or the next),
        unless :attr:`hold_after_close` is set: then only once the owner's
        Client has changed (the owner was told to stop, not its Client).
        """
        if self.hold_after_close:
            self._held_for = self.client
        client, self._registered_with = self._registered_with, None
        remove_closer = getattr(client, "remove_closer", None)
        if remove_closer is not None:
            remove_closer(self)
        self._abandoned.update(k for k, t in self._keyed.items() if not t.done())
        tasks = [t for t in (*self._keyed.values(), *self._unkeyed) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._keyed = {k: t for k, t in self._keyed.items() if not t.done()}


class TokenKeepalive(Generic[TokenT]):
    """Keep a session token alive: refresh it every ``interval`` seconds; when
    the exchange says it expired, create a new one and hand it over.

    * ``refresh()`` extends the current token (Binance: ``PUT listenKey``).
      A failure in ``retry_on`` is retried after :class:`Backoff` delays
      (``backoff`` = initial, cap; ``retry_on`` defaults to
      :func:`retryable_errors`); success goes back to ``interval``.
    * ``expired(error)`` says whether a refresh failure means the token is
      gone; then ``create()`` makes a new token and ``install(token)`` hands
      it over (rewrite the WebSocket URL, reconnect...). Creation is retried
      with the same backoff until it succeeds.
    * :meth:`renew` creates a new token at once (an "expired" push event).

    All of it runs on ``background`` (the Client's clock, cancelled on close).
    """

    def __init__(
        self,
        background: Background,
        what: str,
        *,
        interval: float,
        refresh: Callable[[], Awaitable[object]],
        create: Callable[[], Awaitable[TokenT]],
        install: Callable[[TokenT], object],
        expired: Callable[[BaseException], bool],
        backoff: tuple[float, float] = (5.0, 300.0),
        retry_on: tuple[type[BaseException], ...] | None = None,
    ) -> None:
        self.background = background
        #: names the token in logs and task keys ("listenKey")
        self.what = what
        self.interval = interval
        self._refresh = refresh
        self._create = create
        self._install = install
        self._expired = expired
        self._backoff = backoff
        self._retry_on = retry_on if retry_on is not None else retryable_errors()

    @property
    def refresh_key(self) -> tuple[str, str]:
        """The :class:`Background` key of the periodic refresh task."""
        return (self.what, "refresh")

    @property
    def renew_key(self) -> tuple[str, str]:
        """The :class:`Background` key of a running renewal."""
        return (self.what, "renew")

    def start(self) -> bool:
        """(Re)start the refresh loop (the first refresh is ``interval`` from now).
        Returns whether it runs."""
        task = self.background.spawn(
            self._refresh_loop(), f"{self.what} keepalive", key=self.refresh_key, replace=True
        )
        return task is not None

    def renew(self) -> bool:
        """Create a new token now, unless a renewal is running. Returns whether one runs."""
        task = self.background.spawn(
            self._renew_until_done(), f"{self.what} renewal", key=self.renew_key
        )
        return task is not None

    def stop(self) -> None:
        """Cancel the refresh loop and any renewal."""
        self.background.cancel(self.refresh_key)
        self.background.cancel(self.renew_key)

    async def _refresh_loop(self) -> None:
        clock = self.background.clock
        name = self.background.name
        backoff = Backoff(*self._backoff)
        delay = self.interval
        while True:
            await clock.sleep(delay)
            try:
                await self._refresh()
            except self._retry_on as exc:
                if self._expired(exc):
                    logger.warning("%s: %s expired (%s); creating a new one", name, self.what, exc)
                    await self._renew_until_done()
                    backoff.succeeded()
                    delay = self.interval
                    continue
                delay = backoff.failed(exc)
                logger.warning(
                    "%s: %s keepalive failed (%s); retrying in %.3g s", name, self.what, exc, delay
                )
                continue
            backoff.succeeded()
            delay = self.interval

    async def _renew_until_done(self) -> None:
        clock = self.background.clock
        backoff = Backoff(*self._backoff)
        while True:
            try:
                token = await self._create()
            except self._retry_on as exc:
                delay = backoff.failed(exc)
                logger.warning(
                    "%s: creating a %s failed (%s); retrying in %.3g s",
                    self.background.name,
                    self.what,
                    exc,
                    delay,
                )
                await clock.sleep(delay)
                continue
            self._install(token)
            return
