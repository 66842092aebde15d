"""One live WebSocket connection: the ``ws`` object handlers receive.

Every outgoing frame goes through one writer task per connection, in order,
paced by the protocol's :class:`~datastores._ws.ratelimit.TokenBucket`. Replies to
the server's pings jump the queue and never wait for a token (they may put the
bucket in debt), so a long subscription burst cannot make the exchange drop us
for a late pong. ``send_json`` signs payloads for exchanges that sign messages
(Binance WebSocket API, Bybit ``/v5/trade``, Hyperliquid post actions).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _json
from .._errors import ConnectionLostError
from .._request import Auth
from .protocol import ControlFrame, MessageSigningInput, Outgoing, WsProtocol, safe_url

if TYPE_CHECKING:
    from aiohttp import ClientWebSocketResponse
    from yarl import URL

    from .._clock import Clock
    from .._credentials import Credentials
    from .ratelimit import TokenBucket
    from .stats import Counters

__all__ = ["AUTH_DEFAULT", "WsConnection"]

logger = logging.getLogger("datastores.ws")


#: The default of ``auth=``: ``datastores.Auth`` (any value but ``None`` enables signing).
AUTH_DEFAULT: Any = Auth


@dataclass(eq=False)
class _Outbound:
    kind: str  # "str" | "bytes" | "json" | "ping" | "pong"
    payload: Any
    future: asyncio.Future[None] | None
    sign: bool = False
    #: a reply to the server's ping: written without waiting for a token
    no_wait: bool = False


class WsConnection:
    """One open WebSocket connection of a :class:`~datastores.WebSocketApp`.

    Handlers get it as their second argument; ``app.current_ws`` is the live one.
    Sends are queued in order and written by one task, paced by the exchange's
    rate limit; ``await send_*`` returns once the frame is written.

    Attributes:
        url: the real URL (the one signatures use), even when a test redirect
            sends the traffic to a fake server.
        raw: the underlying ``aiohttp.ClientWebSocketResponse`` (for advanced use;
            writing to it directly bypasses rate limiting and ordering).
        exchange: the protocol's exchange name, or ``None`` for an unknown host.
    """

    def __init__(
        self,
        raw: ClientWebSocketResponse,
        *,
        url: URL,
        protocol: WsProtocol | None,
        credentials: Credentials | None,
        signing: bool,
        clock: Clock,
        bucket: TokenBucket | None,
        counters: Counters,
        name: str,
    ) -> None:
        self.raw = raw
        self.url = url
        self.protocol = protocol
        self.exchange = protocol.exchange if protocol is not None else None
        self._credentials = credentials
        self._signing = signing and credentials is not None
        self._clock = clock
        self._bucket = bucket
        self._counters = counters
        self._name = name
        self._normal: deque[_Outbound] = deque()
        self._urgent: deque[_Outbound] = deque()
        #: replies to the server's pings: written even while a frame waits for a token
        self._replies: deque[_Outbound] = deque()
        #: the writer holds a frame that waits for its rate-limit token
        self._pacing = False
        self._reply_signal: asyncio.Future[None] | None = None
        self._wakeup = asyncio.Event()
        self._failure: BaseException | None = None
        self._on_broken: Callable[[BaseException], None] | None = None
        self._writer: asyncio.Task[None] | None = None

    # -- public sending API -------------------------------------------------

    @property
    def closed(self) -> bool:
        """``True`` once the connection is closed or broken."""
        return self._failure is not None or self.raw.closed

    async def send_str(self, data: str) -> None:
        """Send a text frame (after every frame queued before it).

        Raises:
            ConnectionLostError: the connection is closed or breaks before writing.
        """
        await self._submit(_Outbound("str", data, self._new_future()))

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame. Raises :class:`ConnectionLostError` when closed."""
        await self._submit(_Outbound("bytes", data, self._new_future()))

    async def send_json(self, data: Any, *, auth: Any = AUTH_DEFAULT) -> None:
        """Send ``data`` as a JSON text frame (orjson when installed).

        With ``auth`` other than ``None`` and credentials for this host, exchanges
        that sign messages get a signed copy: Binance WebSocket API requests gain
        ``params.apiKey``/``timestamp``/``signature``; Bybit ``/v5/trade`` requests
        gain ``header["X-BAPI-TIMESTAMP"]``; Hyperliquid ``post`` actions gain
        ``nonce`` and ``signature``. ``data`` itself is never modified. The signature
        is made when the frame is written, so queued requests carry a fresh timestamp.

        Raises:
            ConnectionLostError: the connection is closed or breaks before writing.
        """
        await self._submit(
            _Outbound("json", data, self._new_future(), sign=auth is not None and self._signing)
        )

    def send_str_nowait(self, data: str) -> None:
        """Queue a text frame without waiting (for synchronous handlers).

        A failure to write is logged. Raises :class:`ConnectionLostError` when the
        connection is already closed.
        """
        self._enqueue(_Outbound("str", data, None))

    def send_bytes_nowait(self, data: bytes) -> None:
        """Queue a binary frame without waiting (see :meth:`send_str_nowait`)."""
        self._enqueue(_Outbound("bytes", data, None))

    def send_json_nowait(self, data: Any, *, auth: Any = AUTH_DEFAULT) -> None:
        """Queue a JSON frame without waiting (see :meth:`send_json` for ``auth``)."""
        self._enqueue(_Outbound("json", data, None, sign=auth is not None and self._signing))

    async def ping(self, payload: bytes = b"") -> None:
        """Send a WebSocket PING control frame (ahead of queued data frames)."""
        await self._submit(_Outbound("ping", payload, self._new_future()), urgent=True)

    async def close(self) -> None:
        """Close this connection; the app reconnects (use ``app.close()`` to stop)."""
        self.abort(ConnectionLostError(f"{self._name}: closed by the caller"))

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<WsConnection {self.exchange or 'unknown'} {safe_url(self.url)} {state}>"

    # -- used by the app and its session --------------------------------------

    def enqueue(
        self, message: Outgoing, *, urgent: bool = False, sign: bool = False
    ) -> asyncio.Future[None]:
        """Queue a frame built by the app or protocol (login, ping, subscription).

        ``urgent`` frames go ahead of queued data but still wait for a token;
        ``sign`` applies message signing to JSON payloads. Returns the frame's future.
        """
        future = self._new_future()
        item = self._outbound_for(message, future)
        item.sign = sign and self._signing and item.kind == "json"
        self._enqueue(item, urgent=urgent)
        return future

    def reply_now(self, message: Outgoing, payload: bytes = b"") -> None:
        """Queue a reply to the server's ping: first in line, no token wait.

        A closed connection drops the reply silently (nobody is listening).
        """
        if self._failure is not None or self.raw.closed:
            return
        item = self._outbound_for(message, None, payload)
        item.no_wait = True
        self._replies.append(item)
        self._wakeup.set()
        signal = self._reply_signal
        if signal is not None and not signal.done():
            signal.set_result(None)  # the writer is pacing a frame: write this meanwhile

    @staticmethod
    def _outbound_for(
        message: Outgoing, future: asyncio.Future[None] | None, payload: bytes = b""
    ) -> _Outbound:
        if isinstance(message, ControlFrame):
            return _Outbound(message.value, payload, future)
        if isinstance(message, str):
            return _Outbound("str", message, future)
        if isinstance(message, (bytes, bytearray)):
            return _Outbound("bytes", bytes(message), future)
        return _Outbound("json", message, future)

    def start_writer(self, on_broken: Callable[[BaseException], None]) -> asyncio.Task[None]:
        """Start the writer task; ``on_broken(reason)`` runs once when the connection breaks."""
        self._on_broken = on_broken
        self._writer = asyncio.get_running_loop().create_task(
            self._write_loop(), name=f"{self._name}:writer"
        )
        return self._writer

    def abort(self, reason: BaseException) -> None:
        """Mark the connection broken (the app closes it and reconnects)."""
        if self._failure is None:
            self._failure = reason
            self._fail_pending(reason)
            if self._on_broken is not None:
                self._on_broken(reason)
        self._wakeup.set()

    @property
    def failure(self) -> BaseException | None:
        """Why the connection was aborted, or ``None``."""
        return self._failure

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _new_future() -> asyncio.Future[None]:
        return asyncio.get_running_loop().create_future()

    def _enqueue(self, item: _Outbound, *, urgent: bool = False) -> None:
        if self._failure is not None or self.raw.closed:
            error = ConnectionLostError(f"{self._name}: cannot send, the connection is closed")
            if item.future is None:
                raise error
            item.future.set_exception(error)
            return
        (self._urgent if urgent else self._normal).append(item)
        self._wakeup.set()

    async def _submit(self, item: _Outbound, *, urgent: bool = False) -> None:
        self._enqueue(item, urgent=urgent)
        assert item.future is not None
        await item.future

    def _fail_pending(self, reason: BaseException) -> None:
        self._replies.clear()
        for queue in (self._urgent, self._normal):
            while queue:
                item = queue.popleft()
                if item.future is not None and not item.future.done():
                    error = ConnectionLostError(f"{self._name}: connection lost before sending")
                    error.__cause__ = reason
                    item.future.set_exception(error)

    async def _write_loop(self) -> None:
        while True:
            if self._failure is not None:
                return
            queue = self._replies or self._urgent or self._normal
            if not queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            item = queue.popleft()
            try:
                await self._pace(item)
                await self._write(item)
            except asyncio.CancelledError:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(
                        ConnectionLostError(f"{self._name}: connection closed before sending")
                    )
                raise
            except Exception as exc:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(exc if _is_caller_error(exc) else _lost(self, exc))
                if _is_caller_error(exc):
                    logger.warning("%s: could not send a message: %s", self._name, exc)
                    continue
                self.abort(_lost(self, exc))
                return
            if item.future is not None and not item.future.done():
                item.future.set_result(None)

    async def _pace(self, item: _Outbound) -> None:
        """Take a token for ``item``; replies that arrive while it waits are written meanwhile.

        A reply takes its token at once, in debt if need be, so the frame being
        paced (and the next ones) wait longer and the average rate still holds.
        """
        bucket = self._bucket
        if bucket is None:
            return
        if item.no_wait:
            bucket.consume_now()
            return
        acquire = asyncio.ensure_future(bucket.acquire())
        self._pacing = True
        try:
            while True:
                while self._replies:
                    reply = self._replies.popleft()
                    bucket.consume_now()
                    await self._write(reply)
                if acquire.done():
                    break
                signal = self._reply_signal = asyncio.get_running_loop().create_future()
                try:
                    await asyncio.wait({acquire, signal}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self._reply_signal = None
        except BaseException:
            if acquire.cancel():
                await asyncio.gather(acquire, return_exceptions=True)
            raise
        finally:
            self._pacing = False
        acquire.result()

    def backlog(self) -> tuple[int, float]:
        """``(frames, seconds)``: frames waiting to be written (the one waiting for its
        token included), and the seconds until the last of them may go at the rate
        limit's pace (0 without a limit). O(1). GMO Coin's 1-per-second limit makes a
        resubscription after a reconnect take this long."""
        frames = len(self._urgent) + len(self._normal) + (1 if self._pacing else 0)
        bucket = self._bucket
        if bucket is None or frames == 0:
            return frames, 0.0
        return frames, max(0.0, (frames - bucket.tokens()) / bucket.rate)

    async def _write(self, item: _Outbound) -> None:
        raw = self.raw
        kind = item.kind
        if kind == "str":
            await raw.send_str(item.payload)
        elif kind == "bytes":
            await raw.send_bytes(item.payload)
        elif kind == "json":
            payload = item.payload
            if item.sign:
                payload = self._signed(payload)
            protocol = self.protocol
            encode = protocol.encode_json if protocol is not None else None
            await raw.send_str(_json.dumps(payload) if encode is None else encode(payload))
        elif kind == "ping":
            await raw.ping(item.payload)
            return
        elif kind == "pong":
            await raw.pong(item.payload)
            return
        else:  # pragma: no cover - every kind is produced above
            raise AssertionError(kind)
        self._counters.frame_sent()

    def _signed(self, payload: Any) -> Any:
        protocol = self.protocol
        credentials = self._credentials
        if protocol is None or protocol.sign_message is None or credentials is None:
            return payload
        signed = protocol.sign_message(
            MessageSigningInput(payload, credentials, self.url, self._clock.time())
        )
        return payload if signed is None else signed


def _is_caller_error(exc: Exception) -> bool:
    # A payload that cannot be encoded or signed is the caller's problem, not the
    # connection's: report it to the sender and keep the connection.
    return isinstance(exc, (TypeError, ValueError)) and not isinstance(exc, ConnectionError)


def _lost(conn: WsConnection, exc: BaseException) -> ConnectionLostError:
    error = ConnectionLostError(f"{conn._name}: sending failed ({type(exc).__name__}: {exc})")
    error.__cause__ = exc
    return error
