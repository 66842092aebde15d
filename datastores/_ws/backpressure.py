"""A cap on coroutine handlers in flight: beyond it, the reader stops reading.

A coroutine handler (``async def`` passed as ``hdlr_json`` and friends) runs as a
task per message. Without a cap a fast stream and a slow handler pile up tasks
without end (the audit saw 75,927 live tasks and 295 MB at 42k msg/s). With it,
once ``limit`` tasks of one app are unfinished the reader waits for one to end
before it reads the next frame: aiohttp's reader buffer fills, the kernel's
receive window closes and TCP slows the server down. Nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._clock import Clock
    from .stats import Counters

__all__ = ["DEFAULT_MAX_PENDING_HANDLERS", "HandlerGate"]

logger = logging.getLogger("datastores.ws")

#: Coroutine handler tasks one app keeps in flight before its reader waits. A
#: task with its coroutine is a few KB: a thousand is a few MB at worst, and a
#: handler that keeps a thousand messages waiting is too slow for its stream.
DEFAULT_MAX_PENDING_HANDLERS = 1000
#: Clock seconds without a pause after which the next pause is a new episode
#: (logged again at WARNING; pauses within an episode are logged at DEBUG).
EPISODE_GAP = 60.0


class HandlerGate:
    """Counts one app's unfinished coroutine-handler tasks and pauses its reader.

    Shared by the app's successive connections: tasks started on a dropped
    connection still count. ``started()``/``finished()`` are O(1); the reader
    calls :meth:`wait` when :attr:`full` before reading the next frame.
    """

    __slots__ = ("_clock", "_counters", "_free", "_last_pause", "_name", "limit")

    def __init__(self, limit: int, counters: Counters, clock: Clock, name: str) -> None:
        self.limit = limit
        self._counters = counters
        self._clock = clock
        self._name = name
        self._free = asyncio.Event()
        self._free.set()
        self._last_pause: float | None = None

    @property
    def full(self) -> bool:
        """Whether ``limit`` handler tasks are unfinished."""
        return not self._free.is_set()

    def started(self) -> None:
        """A handler task was created."""
        if self._counters.handler_started() >= self.limit:
            self._free.clear()

    def finished(self, _task: object = None) -> None:
        """A handler task ended (any way: done, failed or cancelled)."""
        if self._counters.handler_finished() < self.limit:
            self._free.set()

    async def wait(self) -> None:
        """Wait until fewer than ``limit`` handler tasks are unfinished.

        Each pause is counted (``statistics().handler_waits``); the first pause of
        an episode is a WARNING, later ones within ``EPISODE_GAP`` s are DEBUG.
        """
        if self._free.is_set():
            return
        pauses = self._counters.handler_waited()
        now = self._clock.monotonic()
        last, self._last_pause = self._last_pause, now
        new_episode = last is None or now - last > EPISODE_GAP
        logger.log(
            logging.WARNING if new_episode else logging.DEBUG,
            "%s: %d coroutine handlers in flight (max_pending_handlers=%d); reading paused "
            "until one finishes, the server is slowed by TCP (%d pauses so far)",
            self._name,
            self.limit,
            self.limit,
            pauses,
        )
        await self._free.wait()
        self._last_pause = self._clock.monotonic()  # the episode lasts while pauses follow
