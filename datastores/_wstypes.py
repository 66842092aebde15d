"""The small types of a WebSocketApp: state, statistics, backoff, failure mapping."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import aiohttp
from yarl import URL

from ._errors import (
    ConfigurationError,
    ConnectionLostError,
    DatastoresError,
    HandshakeError,
    WebSocketAuthError,
)
from ._http import scrub_client_error
from ._wsproto import safe_url

__all__ = [
    "Backoff",
    "ConnectionState",
    "WebSocketStatistics",
    "parse_handlers",
    "parse_sends",
    "parse_url",
    "translate_failure",
]


class ConnectionState(Enum):
    """Where a :class:`WebSocketApp` is in its life."""

    CONNECTING = "connecting"
    """Before the first connection is open, logged in and subscribed."""
    OPEN = "open"
    """A connection is open, logged in and subscribed."""
    RECONNECTING = "reconnecting"
    """The connection was lost; a new one is being made (or backoff is running)."""
    CLOSED = "closed"
    """``close()`` was called, the client closed, or the first connection failed."""


@dataclass(frozen=True, slots=True)
class WebSocketStatistics:
    """A snapshot of a :class:`WebSocketApp`'s counters (``app.statistics()``).

    Attributes:
        state: the connection state when the snapshot was taken.
        connects: successful handshakes, the first included.
        reconnects: successful handshakes after the first.
        messages_in: data frames received.
        messages_out: data frames sent (subscriptions, logins, pings, user sends).
        handler_errors: handler calls that raised (logged; the connection continued).
        undecodable: frames ``hdlr_json`` could not decode (logged at debug level).
        auth_failures: logins refused or unanswered.
        heartbeat_timeouts: connections replaced because a ping got no reply or
            nothing arrived for the liveness timeout.
        last_message_at: wall-clock time (``client.clock.time()``) of the last data
            frame, or ``None``.
    """

    state: ConnectionState
    connects: int
    reconnects: int
    messages_in: int
    messages_out: int
    handler_errors: int
    undecodable: int
    auth_failures: int
    heartbeat_timeouts: int
    last_message_at: float | None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnection delays: jittered exponential with a cap.

    After ``n`` consecutive failed or short-lived connections the delay is drawn
    uniformly from ``[d/2, d]`` with ``d = min(maximum, initial * factor**n)``. A
    connection that stayed up ``reset_after`` seconds resets ``n`` to 0.

    Attributes:
        initial: base delay in seconds.
        maximum: cap in seconds.
        factor: growth per failure.
        reset_after: seconds of uptime that count as a healthy connection.
    """

    initial: float = 0.5
    maximum: float = 60.0
    factor: float = 2.0
    reset_after: float = 30.0

    def __post_init__(self) -> None:
        for name in ("initial", "maximum", "reset_after"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ConfigurationError(f"Backoff.{name} must be a finite number >= 0")
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
        ceiling = self.ceiling(failures)
        return ceiling / 2 + rng.random() * ceiling / 2


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


def translate_failure(exc: Exception, real_url: URL) -> tuple[DatastoresError, bool]:
    """Map a connection failure to our error and whether retrying can help.

    aiohttp's error is chained as ``__cause__``, scrubbed of the URL (tokens
    travel in WebSocket URLs; see :func:`datastores._http.scrub_client_error`).
    """
    error: DatastoresError
    url = safe_url(real_url)
    if isinstance(exc, DatastoresError):
        # Auth refusals and configuration errors do not fix themselves.
        permanent = isinstance(exc, (WebSocketAuthError, ConfigurationError))
        return exc, permanent
    cause = scrub_client_error(exc, url)
    permanent = False
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        status = exc.status
        error = HandshakeError(
            f"WebSocket handshake to {url} failed: HTTP {status} {exc.message}".rstrip()
        )
        permanent = 400 <= status < 500 and status not in (408, 429)
    elif isinstance(exc, aiohttp.ClientConnectorDNSError):
        error = HandshakeError(f"cannot resolve the host of {url}: {cause}")
        permanent = True
    elif isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = HandshakeError(f"TLS certificate check failed for {url}: {cause}")
        permanent = True
    elif isinstance(exc, aiohttp.InvalidURL):
        error = ConfigurationError(f"cannot connect to {url}: the URL is not valid")
        permanent = True
    elif isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError)):
        error = HandshakeError(f"cannot connect to {url}: {type(exc).__name__}: {cause}")
    elif isinstance(exc, (ValueError, TypeError)):
        error = ConfigurationError(f"cannot connect to {url}: {type(exc).__name__}: {exc}")
        permanent = True
    else:
        error = ConnectionLostError(f"connection to {url} failed: {type(exc).__name__}: {exc}")
    error.__cause__ = cause
    return error, permanent
