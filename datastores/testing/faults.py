"""Fault injection for fake exchanges.

:class:`FaultInjection` holds the fault methods of
:class:`~datastores.testing.FakeExchange` (documented in docs/testing.md); each
acts on every venue of the fake, or on the venue that lists the given symbol.
:class:`VenueFaults` is the per-venue switchboard the server consults.

Every fault is deterministic: it acts on the next message(s) or request(s),
never at a random time, so a test can assert exactly what follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import _json

if TYPE_CHECKING:
    from .fake import FakeConnection, Venue

__all__ = ["FaultInjection", "RestFailure", "VenueFaults"]


@dataclass(slots=True)
class RestFailure:
    """The next ``remaining`` REST requests whose path starts with ``path``
    (every path when ``None``) get HTTP ``status`` with the exchange's error body."""

    status: int
    remaining: int
    path: str | None = None
    retry_after: float | None = None


@dataclass(slots=True)
class VenueFaults:
    """Pending faults of one venue (used by the server; tests use FakeExchange methods)."""

    skip: dict[str, int] = field(default_factory=dict)
    corrupt: dict[str, int] = field(default_factory=dict)
    answer_pings: bool = True
    rest: list[RestFailure] = field(default_factory=list)
    #: counters of faults that actually fired
    fired: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.fired[name] = self.fired.get(name, 0) + 1

    def take_skip(self, symbol: str | None) -> bool:
        """Whether the next book message of ``symbol`` must be withheld."""
        if symbol is None or not self.skip.get(symbol):
            return False
        self.skip[symbol] -= 1
        self.count("skip_sequence")
        return True

    def take_corrupt(self, symbol: str | None) -> bool:
        """Whether the next book message of ``symbol`` gets a wrong checksum."""
        if symbol is None or not self.corrupt.get(symbol):
            return False
        self.corrupt[symbol] -= 1
        self.count("corrupt_checksum")
        return True

    def take_rest(self, path: str) -> RestFailure | None:
        """The failure to answer this request with, if one is pending."""
        for failure in self.rest:
            if failure.remaining > 0 and (failure.path is None or path.startswith(failure.path)):
                failure.remaining -= 1
                if not failure.remaining:
                    self.rest.remove(failure)
                self.count("fail_rest")
                return failure
        return None


class FaultInjection:
    """The fault methods of :class:`~datastores.testing.FakeExchange`.

    ``venue=`` (a venue name like ``"binance-usdsm"``) narrows a fault to one
    venue; a ``symbol`` picks the venue that lists it (an error if several do
    and ``venue`` is not given).
    """

    def _venues(self, venue: str | None = None) -> list[Venue]:
        raise NotImplementedError

    def _venue_of(self, symbol: str, venue: str | None = None) -> Venue:
        raise NotImplementedError

    def _connections(self, venue: str | None) -> Iterable[FakeConnection]:
        for v in self._venues(venue):
            yield from list(v.connections)

    # ------------------------------------------------------------ connections

    def drop_connections(self, *, abort: bool = True, venue: str | None = None) -> int:
        """Drop every open WebSocket connection now.

        ``abort=True`` cuts the TCP connection without a close frame (what a
        network failure looks like); ``False`` sends a close frame (code 1001,
        "going away", as an exchange restarting does). Returns how many.
        """
        dropped = 0
        for conn in self._connections(venue):
            conn.close(code=1001, abort=abort)
            dropped += 1
        for v in self._venues(venue):
            v.faults.count("drop_connections")
        return dropped

    def drop_after(self, messages: int, *, venue: str | None = None) -> int:
        """Cut each open connection after it has been sent ``messages`` more messages.

        Returns how many connections will drop.
        """
        if messages < 0:
            raise ValueError("messages must be >= 0")
        conns = list(self._connections(venue))
        for conn in conns:
            conn.drop_after(messages)
        return len(conns)

    def stop_answering_pings(self, *, venue: str | None = None) -> None:
        """Ignore the clients' ping frames (and application pings) from now on,
        so their heartbeat must notice the dead connection."""
        for v in self._venues(venue):
            v.faults.answer_pings = False

    def answer_pings(self, *, venue: str | None = None) -> None:
        """Answer pings again (undoes :meth:`stop_answering_pings`)."""
        for v in self._venues(venue):
            v.faults.answer_pings = True

    # ------------------------------------------------------------------ books

    def skip_sequence(self, symbol: str, count: int = 1, *, venue: str | None = None) -> None:
        """Withhold the next ``count`` book updates of ``symbol`` from every client.

        The exchange's own book still changes, so the next update a client
        receives does not follow its last one: a sequence gap.
        """
        faults = self._venue_of(symbol, venue).faults
        faults.skip[symbol] = faults.skip.get(symbol, 0) + count

    def corrupt_checksum(self, symbol: str, count: int = 1, *, venue: str | None = None) -> None:
        """Send the next ``count`` book updates of ``symbol`` with a wrong checksum.

        Raises:
            NotImplementedError: the venue's books carry no checksum (Binance).
        """
        target = self._venue_of(symbol, venue)
        if not target.profile.has_checksum:
            raise NotImplementedError(f"{target.name} book messages carry no checksum")
        target.faults.corrupt[symbol] = target.faults.corrupt.get(symbol, 0) + count

    # --------------------------------------------------------------- messages

    def _inject(self, make: str, venue: str | None, symbol: str | None) -> int:
        sent = 0
        for v in self._venues(venue):
            sym = symbol or next(iter(v.markets), "")
            if symbol is not None and symbol not in v.markets:
                continue
            payload: Any = getattr(v.profile, make)(sym)
            text = v.profile.frame_injected(_json.dumps(payload))
            for conn in list(v.connections):
                if conn.is_market_stream:
                    conn.send_text(text)
                    sent += 1
            v.faults.count(make)
        return sent

    def send_malformed(self, symbol: str | None = None, *, venue: str | None = None) -> int:
        """Send every market-data connection a message on a known channel whose
        fields are unusable (e.g. a book update with non-numeric ids). Returns how many."""
        return self._inject("malformed_message", venue, symbol)

    def send_unknown_channel(self, symbol: str | None = None, *, venue: str | None = None) -> int:
        """Send every market-data connection a well-formed message on a channel it
        never subscribed to. Returns how many."""
        return self._inject("unknown_channel_message", venue, symbol)

    def send_truncated(self, *, venue: str | None = None) -> int:
        """Send every market-data connection a JSON text cut in the middle. Returns how many."""
        sent = 0
        for v in self._venues(venue):
            sym = next(iter(v.markets), "")
            text = v.profile.frame_injected(_json.dumps(v.profile.malformed_message(sym)))
            for conn in list(v.connections):
                if conn.is_market_stream:
                    conn.send_text(text[: len(text) // 2])
                    sent += 1
            v.faults.count("send_truncated")
        return sent

    def send_raw(self, text: str, *, venue: str | None = None) -> int:
        """Send ``text`` as is on every connection. Returns how many."""
        sent = 0
        for conn in self._connections(venue):
            conn.send_text(text)
            sent += 1
        return sent

    # ------------------------------------------------------------------- REST

    def fail_rest(
        self,
        status: int = 429,
        times: int = 1,
        path: str | None = None,
        *,
        retry_after: float | None = None,
        venue: str | None = None,
    ) -> None:
        """Answer the next ``times`` REST requests (whose path starts with
        ``path``, or any) with HTTP ``status`` and the exchange's error body.

        ``retry_after`` adds a ``Retry-After`` header (seconds).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        # Venues sharing a server share its list of failures: add this one once.
        lists = {id(v.faults.rest): v.faults.rest for v in self._venues(venue)}
        for failures in lists.values():
            failures.append(RestFailure(status, times, path, retry_after))

    # ---------------------------------------------------------------- private

    def expire_listen_key(self, *, venue: str | None = None) -> list[str]:
        """Expire every private-stream token (Binance listenKeys): the venue
        announces it (``listenKeyExpired``), ends those streams, and keepalives
        for them fail with the exchange's error. Returns the tokens expired."""
        expired: list[str] = []
        for v in self._venues(venue):
            try:
                expired.extend(v.profile.expire_token())
            except NotImplementedError:
                if venue is not None:
                    raise
        return expired
