"""A token bucket for outgoing WebSocket messages, driven by the injectable Clock.

Exchanges cap how many messages a client may send on one connection (Binance
spot streams: 5 per second, pings included) or from one IP (GMO Coin: one
subscribe request per second). Breaking the cap gets the connection closed or
the IP banned, so every outgoing frame of a rate-limited connection passes
through a :class:`TokenBucket` before it is written.

The bucket never asks the exchange for its clock (pybotters polled a REST
endpoint after every message): the pace is kept locally with
``clock.monotonic()`` and ``clock.sleep()``, so tests drive it with virtual time.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from .._clock import Clock

if TYPE_CHECKING:
    from .protocol import WsProtocol

__all__ = ["TokenBucket", "bucket_for", "shared_bucket"]

# Buckets shared by all of a client's connections (exchanges that count per IP):
# client -> key -> bucket; a client that goes away takes its buckets with it.
_shared: weakref.WeakKeyDictionary[Any, dict[str, TokenBucket]] = weakref.WeakKeyDictionary()


class TokenBucket:
    """At most ``rate`` messages per second on average, bursts of up to ``capacity``.

    With ``capacity=1`` (the default) messages are spaced at least ``1/rate``
    seconds apart, so no window of one second ever holds more than ``rate``
    messages: the strict reading of "N messages per second".

    :meth:`acquire` waits for a token (callers are served first come, first
    served). :meth:`consume_now` takes a token without waiting, even when that
    leaves the bucket in debt: it is for frames that must not be delayed (a pong
    answering the server's ping); the debt delays the next :meth:`acquire`, so the
    average rate still holds.

    Args:
        rate: tokens added per second (> 0).
        capacity: the most tokens the bucket holds (>= 1); the bucket starts full.
        clock: time source and sleeper.
    """

    __slots__ = ("_capacity", "_clock", "_lock", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, capacity: float = 1.0, *, clock: Clock) -> None:
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate must be a positive number of tokens per second, got {rate!r}")
        if not (capacity >= 1 and math.isfinite(capacity)):
            raise ValueError(f"capacity must be at least 1 token, got {capacity!r}")
        self._rate = float(rate)
        self._capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._stamp = clock.monotonic()
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def capacity(self) -> float:
        """The most tokens the bucket holds."""
        return self._capacity

    def tokens(self) -> float:
        """Tokens available now (negative while in debt). O(1)."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._stamp = now

    async def acquire(self) -> None:
        """Wait until a token is available, then take it. O(1) per wake-up."""
        async with self._lock:
            self._refill()
            # The epsilon absorbs float rounding, which would otherwise cost an extra tiny sleep.
            while self._tokens < 1.0 - 1e-9:
                # Sleep exactly until the missing fraction has refilled.
                await self._clock.sleep((1.0 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1.0

    def consume_now(self) -> None:
        """Take a token immediately, going into debt if none is available. O(1)."""
        self._refill()
        self._tokens -= 1.0

    def __repr__(self) -> str:
        return f"<TokenBucket rate={self._rate:g}/s capacity={self._capacity:g}>"


def shared_bucket(
    owner: Any, key: str, rate: float, clock: Clock, *, fallback: MutableMapping[str, Any]
) -> TokenBucket:
    """The bucket ``key`` shared by everything ``owner`` (a client) sends, made on first use.

    An owner that cannot be weakly referenced keeps its buckets in ``fallback``
    (a dict of the caller's) instead.
    """
    try:
        buckets = _shared.setdefault(owner, {})
    except TypeError:
        buckets = fallback.setdefault("_own_buckets", {})
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets[key] = TokenBucket(rate, clock=clock)
    return bucket


def bucket_for(
    protocol: WsProtocol | None,
    owner: Any,
    clock: Clock,
    *,
    fallback: MutableMapping[str, Any],
) -> TokenBucket | None:
    """The bucket pacing one connection that speaks ``protocol``, or ``None`` (no limit).

    A per-IP limit (``RateLimitSpec.shared``) gives the bucket ``owner`` (a client)
    shares across all its connections to the protocol's hosts; otherwise every
    connection gets its own. ``fallback`` is as for :func:`shared_bucket`.
    """
    spec = protocol.rate_limit if protocol is not None else None
    if protocol is None or spec is None:
        return None
    if not spec.shared:
        return TokenBucket(spec.rate, clock=clock)
    key = f"{protocol.exchange}:{','.join(sorted(protocol.hosts))}"
    return shared_bucket(owner, key, spec.rate, clock, fallback=fallback)
