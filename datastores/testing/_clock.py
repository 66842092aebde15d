"""A virtual clock: ``sleep()`` returns as soon as every task is idle, advancing time."""

from __future__ import annotations

import asyncio
import heapq
import itertools

__all__ = ["VirtualClock"]


class VirtualClock:
    """Virtual time for tests: sleeps complete instantly, in time order.

    ``sleep(s)`` parks the caller until virtual time reaches ``now + s``. Time
    advances only by :meth:`advance` or :meth:`run_until_idle`-style driving via
    :meth:`auto` (default on): when a sleeper is parked, a background step lets
    other ready tasks run first, then jumps to the earliest deadline.

    Args:
        start: initial wall time (seconds since the epoch) returned by :meth:`time`.
        auto: advance automatically to the next deadline when tasks sleep.
        settle: real seconds to wait before each automatic jump, so that frames in
            flight on loopback sockets are read first (tests with real servers use
            a millisecond or two; 0 keeps the pure in-memory behaviour).
    """

    def __init__(
        self, start: float = 1_700_000_000.0, *, auto: bool = True, settle: float = 0.0
    ) -> None:
        self._offset = start
        self._now = 0.0
        self._auto = auto
        self._settle = settle
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def time(self) -> float:
        return self._offset + self._now

    def monotonic(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + max(seconds, 0.0), next(self._counter), future))
        if self._auto and (self._driver is None or self._driver.done()):
            self._driver = loop.create_task(self._drive())
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking every sleeper now due."""
        self._now += seconds
        self._wake()

    def _wake(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def _drive(self) -> None:
        while self._sleepers:
            # Let every ready task run (they may schedule I/O or earlier sleeps).
            for _ in range(20):
                await asyncio.sleep(0)
            if self._settle > 0:
                await asyncio.sleep(self._settle)
            self._sleepers = [s for s in self._sleepers if not s[2].done()]
            heapq.heapify(self._sleepers)
            if not self._sleepers:
                return
            deadline = self._sleepers[0][0]
            if deadline > self._now:
                self._now = deadline
            self._wake()
