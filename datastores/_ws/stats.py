"""A WebSocketApp's state and counters: the one place that writes them.

:class:`Counters` is owned by the app; its connections and sessions report what
happened through its methods (``frame_received()``, ``auth_failed()``...), and
nothing else writes a counter. ``app.statistics()`` freezes them into a
:class:`WebSocketStatistics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["ConnectionState", "Counters", "WebSocketStatistics"]


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
        handlers_pending: coroutine handler tasks started and not yet finished.
        handler_waits: times the reader paused because ``max_pending_handlers``
            coroutine handler tasks were unfinished (backpressure, nothing dropped).
        queued_out: frames of the current connection waiting to be sent (its
            subscriptions after a reconnect, paced by the exchange's rate limit).
        queued_out_seconds: seconds until the last of them may be sent at the rate
            limit's pace (GMO Coin: one per second, so twelve resubscriptions take
            about eleven seconds); 0 when nothing waits or the exchange has no limit.
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
    handlers_pending: int = 0
    handler_waits: int = 0
    queued_out: int = 0
    queued_out_seconds: float = 0.0


class Counters:
    """The live counters of one :class:`~datastores.WebSocketApp` (see WebSocketStatistics).

    Every method is O(1); ``frame_received`` runs once per received frame.
    """

    __slots__ = (
        "_auth_failures",
        "_connects",
        "_handler_errors",
        "_handler_waits",
        "_handlers_pending",
        "_heartbeat_timeouts",
        "_last_message_at",
        "_messages_in",
        "_messages_out",
        "_reconnects",
        "_undecodable",
    )

    def __init__(self) -> None:
        self._connects = 0
        self._reconnects = 0
        self._messages_in = 0
        self._messages_out = 0
        self._handler_errors = 0
        self._undecodable = 0
        self._auth_failures = 0
        self._heartbeat_timeouts = 0
        self._last_message_at: float | None = None
        self._handlers_pending = 0
        self._handler_waits = 0

    @property
    def connects(self) -> int:
        """Successful handshakes so far."""
        return self._connects

    def connected(self) -> bool:
        """Count a successful handshake; ``True`` when it is a reconnection."""
        self._connects += 1
        reconnect = self._connects > 1
        if reconnect:
            self._reconnects += 1
        return reconnect

    def frame_received(self, now: float) -> None:
        """Count a received data frame; ``now`` is the client clock's wall time."""
        self._messages_in += 1
        self._last_message_at = now

    def frame_sent(self) -> None:
        """Count a written data frame (not control frames)."""
        self._messages_out += 1

    def handler_failed(self) -> int:
        """Count a handler call that raised; returns the total so far."""
        self._handler_errors += 1
        return self._handler_errors

    def handler_started(self) -> int:
        """Count a coroutine handler task created; returns how many are unfinished."""
        self._handlers_pending += 1
        return self._handlers_pending

    def handler_finished(self) -> int:
        """Count a coroutine handler task ended; returns how many are unfinished."""
        self._handlers_pending -= 1
        return self._handlers_pending

    def handler_waited(self) -> int:
        """Count a reader pause for ``max_pending_handlers``; returns the total so far."""
        self._handler_waits += 1
        return self._handler_waits

    def frame_undecodable(self) -> int:
        """Count a frame ``hdlr_json`` could not decode; returns the total so far."""
        self._undecodable += 1
        return self._undecodable

    def auth_failed(self) -> None:
        """Count a refused or unanswered login (or signed handshake)."""
        self._auth_failures += 1

    def heartbeat_timed_out(self) -> None:
        """Count a connection replaced for a missing ping reply or for silence."""
        self._heartbeat_timeouts += 1

    def snapshot(
        self, state: ConnectionState, backlog: tuple[int, float] = (0, 0.0)
    ) -> WebSocketStatistics:
        """A frozen copy, with the app's ``state`` and its connection's ``backlog``."""
        return WebSocketStatistics(
            state=state,
            connects=self._connects,
            reconnects=self._reconnects,
            messages_in=self._messages_in,
            messages_out=self._messages_out,
            handler_errors=self._handler_errors,
            undecodable=self._undecodable,
            auth_failures=self._auth_failures,
            heartbeat_timeouts=self._heartbeat_timeouts,
            last_message_at=self._last_message_at,
            handlers_pending=self._handlers_pending,
            handler_waits=self._handler_waits,
            queued_out=backlog[0],
            queued_out_seconds=backlog[1],
        )
