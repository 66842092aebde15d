"""What ``ws_connect`` accepts: the URL, the messages to send, the handlers, the backoff.

Each parser checks one argument and raises :class:`ConfigurationError` naming it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from yarl import URL

from .._errors import ConfigurationError

__all__ = [
    "DEFAULT_LIVENESS",
    "Backoff",
    "default_liveness",
    "parse_backoff",
    "parse_count",
    "parse_handlers",
    "parse_seconds",
    "parse_sends",
    "parse_url",
]


#: Seconds of silence before a connection is taken for dead, when neither the caller
#: nor the exchange's protocol says otherwise.
DEFAULT_LIVENESS = 60.0


def default_liveness(protocol_timeout: float | None, heartbeat: float | None) -> float:
    """The watchdog's timeout when the caller gave none: the protocol's, else
    :data:`DEFAULT_LIVENESS`, and never less than two heartbeats (our pings keep a
    quiet connection talking every ``heartbeat`` seconds; a shorter watchdog would
    replace healthy quiet streams)."""
    default = protocol_timeout if protocol_timeout is not None else DEFAULT_LIVENESS
    return default if heartbeat is None else max(default, 2 * heartbeat)


def parse_seconds(value: object, name: str) -> float:
    """A positive, finite number of seconds (not a bool), as a float (``None``, where
    an argument allows it, is the caller's business)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (value > 0 and math.isfinite(value))
    ):
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


def parse_count(value: object, name: str) -> int:
    """A positive int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{name} must be a positive int, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnection delays: jittered exponential with a cap.

    After ``n`` consecutive failed or short-lived connections the delay is drawn
    uniformly from ``[d/2, d]`` with ``d = min(maximum, initial * factor**n)``. A
    connection that stayed up ``reset_after`` seconds resets ``n`` to 0.

    With ``first`` set (what pybotters' ``backoff=(min, max, factor, initial)``
    tuple means, see :meth:`from_tuple`), the first retry after a healthy
    period waits uniformly in ``[0, first]`` and the ``n``-th one (``n >= 1``)
    exactly ``min(maximum, initial * factor**n)``, without jitter.

    Attributes:
        initial: base delay in seconds.
        maximum: cap in seconds.
        factor: growth per failure.
        reset_after: seconds of uptime that count as a healthy connection.
        first: upper bound of the first retry's random delay (pybotters' shape),
            or ``None`` for the jittered ``[d/2, d]`` shape.
    """

    initial: float = 0.5
    maximum: float = 60.0
    factor: float = 2.0
    reset_after: float = 30.0
    first: float | None = None

    @classmethod
    def from_tuple(cls, value: Sequence[float]) -> Backoff:
        """pybotters' ``(min, max, factor, initial)``: delays ``random() * initial``,
        then ``min * factor``, ``min * factor**2``, ... capped at ``max``.

        Unlike pybotters, the delays are not truncated to whole seconds (a ``min``
        under 1 s made it retry in a tight loop), and a connection resets the count
        once it stayed up ``reset_after`` seconds, not as soon as it opened.

        Raises:
            ConfigurationError: not four finite numbers, or ones :class:`Backoff`
                refuses.
        """
        if isinstance(value, (str, bytes)) or len(value) != 4:
            raise ConfigurationError(
                f"a backoff tuple must be (min, max, factor, initial), got {value!r}"
            )
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ConfigurationError(
                    f"a backoff tuple must hold numbers (min, max, factor, initial), got {value!r}"
                )
        minimum, maximum, factor, first = (float(item) for item in value)
        return cls(initial=minimum, maximum=maximum, factor=factor, first=first)

    def __post_init__(self) -> None:
        for name in ("initial", "maximum", "reset_after"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ConfigurationError(f"Backoff.{name} must be a finite number >= 0")
        if self.first is not None and not (self.first >= 0 and math.isfinite(self.first)):
            raise ConfigurationError("Backoff.first must be None or a finite number >= 0")
        if not (self.factor >= 1 and math.isfinite(self.factor)):
            raise ConfigurationError("Backoff.factor must be a finite number >= 1")
        if self.maximum < self.initial:
            raise ConfigurationError("Backoff.maximum must be >= Backoff.initial")

    def ceiling(self, failures: int) -> float:
        """The largest delay after ``failures`` consecutive failures."""
        if self.initial == 0 or self.factor == 1:
            return self.initial
        # Cap the exponent before computing, so huge failure counts cannot overflow.
        if failures >= math.log(self.maximum / self.initial, self.factor):
            return self.maximum
        return min(self.maximum, self.initial * self.factor**failures)

    def delay(self, failures: int, rng: random.Random) -> float:
        """A jittered delay after ``failures`` consecutive failures."""
        if self.first is not None:
            return rng.random() * self.first if failures == 0 else self.ceiling(failures)
        ceiling = self.ceiling(failures)
        return ceiling / 2 + rng.random() * ceiling / 2


def parse_backoff(value: object) -> Backoff:
    """``backoff=``: ``None`` (the default :class:`Backoff`), a :class:`Backoff`, or
    pybotters' ``(min, max, factor, initial)`` tuple (see :meth:`Backoff.from_tuple`)."""
    if value is None:
        return Backoff()
    if isinstance(value, Backoff):
        return value
    if isinstance(value, (tuple, list)):
        return Backoff.from_tuple(value)
    raise ConfigurationError(
        "backoff must be a datastores.Backoff(initial=, maximum=, factor=, reset_after=) "
        f"or a (min, max, factor, initial) tuple, got {type(value).__name__}"
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def parse_sends(send_str: Any, send_bytes: Any, send_json: Any) -> tuple[tuple[str, Any], ...]:
    """``(kind, payload)`` for every message to send after each connection, in order.

    One value or a list each; a list means several messages, so a top-level JSON
    array goes through ``send_str``.
    """
    sends: list[tuple[str, Any]] = []
    for item in _as_list(send_str):
        if not isinstance(item, str):
            raise ConfigurationError(f"send_str items must be str, got {type(item).__name__}")
        sends.append(("str", item))
    for item in _as_list(send_bytes):
        if not isinstance(item, (bytes, bytearray)):
            raise ConfigurationError(f"send_bytes items must be bytes, got {type(item).__name__}")
        sends.append(("bytes", bytes(item)))
    sends.extend(("json", item) for item in _as_list(send_json))
    return tuple(sends)


def parse_handlers(value: Any, what: str) -> tuple[Callable[[Any, Any], Any], ...]:
    """One handler or a list of them, each checked to be callable."""
    handlers = _as_list(value)
    for handler in handlers:
        if not callable(handler):
            raise ConfigurationError(f"{what} must be callables, got {type(handler).__name__}")
    return tuple(handlers)


def parse_url(url: str | URL) -> URL:
    parsed = URL(url) if isinstance(url, str) else url
    if not isinstance(parsed, URL):
        raise ConfigurationError(f"url must be a str or yarl.URL, got {type(url).__name__}")
    if parsed.scheme not in ("ws", "wss") or not parsed.host:
        raise ConfigurationError(
            f"a WebSocket URL must start with ws:// or wss://, got {str(url).split('?')[0]}"
        )
    return parsed
