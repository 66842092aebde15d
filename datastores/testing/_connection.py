"""The server side of one fake-exchange WebSocket connection (see :mod:`.fake`)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .. import _json
from ._profile import Wrapper

if TYPE_CHECKING:
    from .fake import Venue

__all__ = ["FakeConnection"]

logger = logging.getLogger("datastores.testing")

_CLOSE = object()
_ABORT = object()
_END = object()
#: outbound messages queued for one client before the fake drops it as too slow
_MAX_OUTBOX = 200_000


class FakeConnection:
    """The server side of one WebSocket connection.

    Sending never blocks: messages are queued and written in order by the
    connection's handler task. Profiles use :meth:`send_json`,
    :meth:`subscribe`, :meth:`unsubscribe`, and :attr:`state` for their own
    per-connection data (e.g. a login).
    """

    _ids = itertools.count(1)

    def __init__(
        self, venue: Venue, request: web.Request, ws: web.WebSocketResponse, market_stream: bool
    ) -> None:
        self.id = next(self._ids)
        self.venue = venue
        self.request = request
        self.ws = ws
        self.path = request.path
        #: whether this connection carries market data (fault messages go there)
        self.is_market_stream = market_stream
        #: topic -> wrapper for this connection
        self.subscriptions: dict[str, Wrapper | None] = {}
        #: free-form per-connection state for the profile
        self.state: dict[str, Any] = {}
        self.sent = 0
        self.received = 0
        self.last_pong = venue.clock.monotonic()
        self._outbox: deque[object] = deque()
        self._wakeup = asyncio.Event()
        self._flushed = asyncio.Event()
        self._flushed.set()
        self._drop_countdown: int | None = None
        self._closing = False
        self.aborted = False

    def __repr__(self) -> str:
        return f"<FakeConnection #{self.id} {self.venue.name} {self.path}>"

    @property
    def closing(self) -> bool:
        """A close or abort was requested (or the client went away)."""
        return self._closing

    # ---------------------------------------------------------------- sending

    def _put(self, item: object) -> None:
        self._outbox.append(item)
        self._flushed.clear()
        self._wakeup.set()

    def send_text(self, text: str) -> None:
        """Queue one text frame."""
        if self._closing:
            return
        if len(self._outbox) >= _MAX_OUTBOX:
            logger.warning("%r: client too slow (%d queued); dropping it", self, _MAX_OUTBOX)
            self.close(abort=True)
            return
        self._put(text)

    def send_json(self, obj: Any) -> None:
        """Queue one JSON message."""
        self.send_text(_json.dumps(obj))

    def deliver(self, text: str, wrapper: Wrapper | None) -> None:
        """Queue a published payload's text, framed by the subscription's wrapper."""
        self.send_text(wrapper(text) if wrapper is not None else text)

    # ----------------------------------------------------------- subscriptions

    def subscribe(self, topic: str, wrapper: Wrapper | None = None) -> None:
        """Receive what the venue publishes on ``topic``, framed by ``wrapper``."""
        self.subscriptions[topic] = wrapper
        self.venue._subscribers.setdefault(topic, {})[self] = wrapper

    def unsubscribe(self, topic: str) -> None:
        """Stop receiving ``topic`` (no-op if not subscribed)."""
        self.subscriptions.pop(topic, None)
        subscribers = self.venue._subscribers.get(topic)
        if subscribers is not None:
            subscribers.pop(self, None)
            if not subscribers:
                del self.venue._subscribers[topic]

    # ----------------------------------------------------------------- closing

    def close(self, code: int = 1000, *, abort: bool = False) -> None:
        """Close after the queued messages (``abort``: cut the TCP connection now)."""
        if self._closing:
            return
        self._closing = True
        if abort:
            self._outbox.clear()
            self._put(_ABORT)
        else:
            self.state["close_code"] = code
            self._put(_CLOSE)

    def drop_after(self, messages: int) -> None:
        """Cut the connection after ``messages`` more sent messages (0: now)."""
        if messages == 0:
            self.close(abort=True)
        else:
            self._drop_countdown = messages

    async def flushed(self) -> None:
        """Wait until every queued message has been written."""
        await self._flushed.wait()

    async def _write_loop(self) -> None:
        ws = self.ws
        outbox = self._outbox
        stats = self.venue.stats
        while True:
            if not outbox:
                self._flushed.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            item = outbox.popleft()
            if isinstance(item, str):
                try:
                    await ws.send_str(item)
                except (ConnectionError, RuntimeError):
                    return
                self.sent += 1
                stats.messages_sent += 1
                if self._drop_countdown is not None:
                    self._drop_countdown -= 1
                    if self._drop_countdown <= 0:
                        self._drop_countdown = None
                        self._closing = True
                        outbox.clear()
                        self._abort()
                        return
            elif item is _ABORT:
                self._abort()
                return
            elif item is _CLOSE:
                await ws.close(code=self.state.get("close_code", 1000))
                return
            else:  # _END: the client went away
                return

    def _abort(self) -> None:
        self.aborted = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def _reader_done(self) -> None:
        self._closing = True
        self._put(_END)
