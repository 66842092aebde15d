"""Clocks: the real one, and the interface tests replace with virtual time.

Everything that sleeps or reads time (backoff, heartbeats, rate limits,
keepalive loops, signers' ``now``) takes a :class:`Clock`, so tests run
instantly with :class:`datastores.testing.VirtualClock`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    """Time source and sleeper."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (used for signatures)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds (used for intervals and timeouts)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
