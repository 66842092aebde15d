"""WebSocketApp: a WebSocket that stays connected, logged in, subscribed and alive.

``app = await client.ws_connect(url, send_json=..., hdlr_json=store.onmessage)``
returns once the first connection is open, logged in and subscribed. From then
on the app reconnects forever (until ``close()``) with jittered exponential
backoff, logs in again, resubscribes, and tells the stores feeding on it
(``on_reconnect``) so they reset per-connection state and resync their books.
Per exchange (chosen by the real URL's host, see :mod:`datastores._ws.protocol`) it
runs the login, the application heartbeat, the outgoing rate limit and message
signing. Every sleep and deadline uses ``client.clock``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from .._errors import (
    ConfigurationError,
    ConnectionLostError,
    HandshakeError,
    WebSocketAuthError,
)
from .._http import scrub_client_error
from .._registry import ws_protocol_by_host
from .backpressure import DEFAULT_MAX_PENDING_HANDLERS, HandlerGate
from .connection import AUTH_DEFAULT, WsConnection
from .failures import log_failed_attempt, translate_failure
from .login import greet, log_in
from .options import (
    Backoff,
    default_liveness,
    parse_backoff,
    parse_count,
    parse_handlers,
    parse_seconds,
    parse_sends,
    parse_url,
)
from .protocol import HandshakeInput, WsProtocol, safe_url
from .ratelimit import bucket_for
from .session import Handler, Session, within
from .stats import ConnectionState, Counters, WebSocketStatistics

if TYPE_CHECKING:
    from types import TracebackType

    from aiohttp import ClientWebSocketResponse

    from .._clock import Clock
    from .._credentials import Credentials
    from .protocol import Frame

__all__ = ["DEFAULT_HEARTBEAT", "HANDSHAKE_TIMEOUT", "WebSocketApp", "protocol_for"]

logger = logging.getLogger("datastores.ws")

DEFAULT_HEARTBEAT = 10.0
#: Client-clock seconds one handshake attempt may take by default (aiohttp's own
#: default is 300 s); settable with ``ws_connect(handshake_timeout=...)``.
HANDSHAKE_TIMEOUT = 30.0


class _Unset:
    def __repr__(self) -> str:
        return "<protocol default>"


_UNSET: Any = _Unset()


def protocol_for(url: URL) -> WsProtocol | None:
    """The registered protocol for ``url``'s host (the real URL, before redirects)."""
    protocol: WsProtocol | None = ws_protocol_by_host().get(url.host or "")
    return protocol


class WebSocketApp:
    """A WebSocket connection that reconnects, logs in, heartbeats and respects limits.

    Made by :meth:`datastores.Client.ws_connect` (or :func:`connect`), which returns
    it once the first connection is open, logged in and subscribed. Use it as
    ``async with`` or call :meth:`close`; the client closes it too.

    Attributes are read-only except :attr:`url`, which the next reconnection uses
    (token-in-URL exchanges change it when the token rotates).
    """

    def __init__(
        self,
        client: Any,
        url: str | URL,
        *,
        send_str: str | Sequence[str] | None = None,
        send_bytes: bytes | Sequence[bytes] | None = None,
        send_json: Any = None,
        hdlr_str: Handler | Sequence[Handler] | None = None,
        hdlr_bytes: Handler | Sequence[Handler] | None = None,
        hdlr_json: Handler | Sequence[Handler] | None = None,
        auth: Any = AUTH_DEFAULT,
        heartbeat: float | None = DEFAULT_HEARTBEAT,
        backoff: Backoff | tuple[float, float, float, float] | None = None,
        liveness_timeout: float | None = _UNSET,
        autoping: bool = True,
        rng: random.Random | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_pending_handlers: int = DEFAULT_MAX_PENDING_HANDLERS,
        **ws_kwargs: Any,
    ) -> None:
        self._client = client
        self._clock: Clock = client.clock
        self._url = parse_url(url)
        self._sends = parse_sends(send_str, send_bytes, send_json)
        self._handlers: tuple[Sequence[Handler], Sequence[Handler], Sequence[Handler]] = (
            parse_handlers(hdlr_str, "hdlr_str"),
            parse_handlers(hdlr_bytes, "hdlr_bytes"),
            parse_handlers(hdlr_json, "hdlr_json"),
        )
        self._auth = auth is not None
        self._heartbeat = None if heartbeat is None else parse_seconds(heartbeat, "heartbeat")
        self._backoff = parse_backoff(backoff)
        if liveness_timeout is not _UNSET and liveness_timeout is not None:
            liveness_timeout = parse_seconds(liveness_timeout, "liveness_timeout")
        self._liveness = liveness_timeout
        self._autoping = autoping
        self._rng = rng or random.Random()
        self._handshake_timeout = parse_seconds(handshake_timeout, "handshake_timeout")
        pending = parse_count(max_pending_handlers, "max_pending_handlers")
        for forbidden in ("autoclose",):
            if forbidden in ws_kwargs:
                raise ConfigurationError(f"ws_connect() does not accept {forbidden}=")
        self._ws_kwargs = ws_kwargs
        self._name = f"datastores.ws[{self._url.host}]"
        self._state = ConnectionState.CONNECTING
        self._counters = Counters()
        self._gate = HandlerGate(pending, self._counters, self._clock, self._name)
        self._session: Session | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = False
        self._first_error: BaseException | None = None
        self._ready: asyncio.Future[None] | None = None
        self._open = asyncio.Event()
        self._closed = asyncio.Event()
        self._closing = False
        self._extra_tasks: set[asyncio.Task[Any]] = set()
        self._warned_undecodable = False
        self._lifetime: float | None = None
        self._skip_backoff = False
        # Set by reconnect() while no connection is up: cuts the backoff short.
        self._wake = asyncio.Event()

    # -- public API ---------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The URL of the next connection attempt (settable; the live connection is kept)."""
        return self._url

    @url.setter
    def url(self, value: str | URL) -> None:
        self._url = parse_url(value)

    @property
    def current_ws(self) -> WsConnection | None:
        """The live connection (``.raw`` is the aiohttp websocket), or ``None``.

        ``None`` until a connection is open, logged in and subscribed (state
        ``OPEN``): a message sent during a reconnection's login would reach the
        exchange before the login. Handlers still get the new connection as ``ws``.
        """
        session = self._session
        if session is None or self._state is not ConnectionState.OPEN or session.conn.closed:
            return None
        return session.conn

    @property
    def state(self) -> ConnectionState:
        """The :class:`ConnectionState`."""
        return self._state

    @property
    def closed(self) -> bool:
        """``True`` once the app has stopped for good."""
        return self._state is ConnectionState.CLOSED

    def statistics(self) -> WebSocketStatistics:
        """A frozen snapshot of the counters, and what the current connection still
        has to send (``queued_out``, ``queued_out_seconds``). O(1)."""
        session = self._session
        backlog = (0, 0.0) if session is None else session.conn.backlog()
        return self._counters.snapshot(self._state, backlog)

    def __await__(self) -> Any:
        return self._wait_open().__await__()

    async def _wait_open(self) -> WebSocketApp:
        """Wait until a connection is open, logged in and subscribed (or the app ended)."""
        while True:
            if self._first_error is not None:
                raise self._first_error
            if self._state is ConnectionState.CLOSED or self._open.is_set():
                return self
            waits = [
                asyncio.ensure_future(self._open.wait()),
                asyncio.ensure_future(self._closed.wait()),
            ]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
                await asyncio.gather(*waits, return_exceptions=True)

    async def wait(self) -> None:
        """Wait until the app ends (``close()``, or the client closing).

        Raises the first connection's error if the app never started.
        """
        await self._closed.wait()
        if self._first_error is not None:
            raise self._first_error

    async def close(self) -> None:
        """Stop reconnecting, close the connection and end every task. Idempotent.

        Cancelled midway (a timeout around the shutdown), it still cancels every
        task of the app, then re-raises the cancellation.
        """
        self._closing = True
        cancelled: asyncio.CancelledError | None = None
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            if task is not asyncio.current_task():
                try:
                    await asyncio.wait({task})
                except asyncio.CancelledError as exc:
                    cancelled = exc  # the run task was cancelled already: it ends by itself
        try:
            await self._cancel_extra_tasks()
        except asyncio.CancelledError as exc:
            cancelled = exc
        self._state = ConnectionState.CLOSED
        self._closed.set()
        remove_closer = getattr(self._client, "remove_closer", None)
        if callable(remove_closer):
            remove_closer(self)
        if cancelled is not None:
            raise cancelled

    aclose = close

    async def reconnect(self) -> None:
        """Drop the live connection and connect again at once (to :attr:`url`).

        For token rotation and for stores that need a fresh connection. While the
        app is between connections (backoff, handshake) the next attempt starts at
        once and uses :attr:`url`. Returns without waiting for the new connection
        (``await app`` waits for it).
        """
        if self._closing:
            return
        self._skip_backoff = True
        session = self._session
        if session is None:
            self._wake.set()
            return
        session.conn.abort(ConnectionLostError(f"{self._name}: reconnect requested"))

    async def heartbeat(self, timeout: float = 10.0) -> None:
        """Check that the connection answers: send a WebSocket PING and wait ``timeout``
        client-clock seconds for its PONG (pybotters' ``heartbeat()``).

        Waits for an open connection first. Without the PONG the connection is
        replaced at once (no backoff; counted in ``heartbeat_timeouts``) and the
        check starts again on the new one, until a PING is answered. Use it where a
        silent connection must be noticed sooner than ``heartbeat=`` does, e.g.
        before placing an order.

        Raises:
            ConnectionLostError: the app closed before a PING was answered.
            ConfigurationError: ``timeout`` is not a positive number of seconds.
        """
        seconds = parse_seconds(timeout, "timeout")
        while True:
            session = await self._open_session()
            if await session.probe(seconds):
                return
            if session.conn.failure is None and not self._closing:
                self._counters.heartbeat_timed_out()
                self._skip_backoff = True
                session.conn.abort(
                    ConnectionLostError(
                        f"{session.name}: no PONG within {seconds:g} s of heartbeat()"
                    )
                )
            await session.wait_closed()

    async def _open_session(self) -> Session:
        """The live connection's session, once one is open (for :meth:`heartbeat`)."""
        while True:
            await self._wait_open()
            session = self._session
            if self._closing or self._state is ConnectionState.CLOSED:
                raise ConnectionLostError(f"{self._name}: closed")
            if (
                self._state is ConnectionState.OPEN
                and session is not None
                and not session.conn.closed
            ):
                return session
            await asyncio.sleep(0)  # the ended connection's cleanup has yet to run

    async def __aenter__(self) -> WebSocketApp:
        return await self._wait_open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<WebSocketApp {safe_url(self._url)} {self._state.value}>"

    # -- running ------------------------------------------------------------------

    def _start(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._task = loop.create_task(self._run(), name=f"{self._name}:run")
        return self._ready

    async def _run(self) -> None:
        failures = 0
        attempts = 0
        try:
            while not self._closing:
                try:
                    await self._connect_once()
                    attempts = 0  # a connection was up: failures count afresh
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error, permanent = translate_failure(exc, self._url)
                    attempts += 1
                    # Each failed attempt is said at once, before the first connection
                    # with how many remain (a silent server used to pass 30 s unlogged).
                    left = log_failed_attempt(
                        self._name, error, attempts, None if self._started else permanent
                    )
                    if left == 0:
                        self._fail_start(error)
                        return
                lifetime, self._lifetime = self._lifetime, None
                if lifetime is not None and lifetime >= self._backoff.reset_after:
                    failures = 0
                if self._skip_backoff:
                    self._skip_backoff = False
                    self._wake.clear()
                    delay = 0.0
                else:
                    delay = self._backoff.delay(failures, self._rng)
                    failures += 1
                self._state = (
                    ConnectionState.RECONNECTING if self._started else ConnectionState.CONNECTING
                )
                logger.info("%s: reconnecting in %.2f s", self._name, delay)
                if delay > 0:
                    try:  # reconnect() ends the wait early
                        await within(self._clock, self._wake.wait(), delay)
                    except asyncio.TimeoutError:
                        pass
                    if self._wake.is_set():
                        self._wake.clear()
                        self._skip_backoff = False
        finally:
            self._state = ConnectionState.CLOSED
            self._open.clear()
            ready = self._ready
            if ready is not None and not ready.done():
                # Closed before the first connection was ready: whoever waits is told why.
                ready.set_exception(
                    self._first_error
                    or ConnectionLostError(f"{self._name}: closed before the first connection")
                )
                ready.exception()  # marks it retrieved: the waiter may itself be gone
            self._closed.set()

    def _fail_start(self, error: BaseException) -> None:
        self._first_error = error
        ready = self._ready
        if ready is not None and not ready.done():
            ready.set_exception(error)

    async def _connect_once(self) -> None:
        """One connection: handshake, login, subscriptions, then read until it ends."""
        url = self._url
        shown = safe_url(url)
        clock = self._clock
        protocol = protocol_for(url)
        credentials = self._credentials_for(protocol, url)
        kwargs = dict(self._ws_kwargs)
        signed_handshake = False
        if protocol is not None and protocol.handshake_headers is not None and credentials:
            extra = protocol.handshake_headers(HandshakeInput(credentials, url, clock.time()))
            kwargs["headers"] = {**dict(kwargs.get("headers") or {}), **extra}
            signed_handshake = True
        target = self._client.resolve_url(url)
        refused: WebSocketAuthError | None = None
        try:
            raw = await self._handshake(target, kwargs)
        except aiohttp.WSServerHandshakeError as exc:
            if not (signed_handshake and exc.status in (401, 403)):
                raise
            self._counters.auth_failed()
            refused = WebSocketAuthError(
                f"{protocol.exchange if protocol else url.host} refused the signed WebSocket "
                f"handshake to {shown} (HTTP {exc.status}: {exc.message}); check the API key, "
                "secret and the machine's clock"
            )
            refused.__cause__ = scrub_client_error(exc, shown)
        except aiohttp.ClientError:
            raise  # aiohttp's own timeouts are TimeoutErrors too: they keep their own text
        except asyncio.TimeoutError:
            # A server that accepts TCP but never answers must not stall the reconnect loop.
            raise HandshakeError(
                f"{shown} did not answer the WebSocket handshake within "
                f"{self._handshake_timeout:g} s"
            ) from None
        if refused is not None:
            raise refused  # outside the except: the unscrubbed aiohttp error is not its context
        connected_at = clock.monotonic()
        name = f"{self._name}#{self._counters.connects + 1}"
        conn = WsConnection(
            raw,
            url=url,
            protocol=protocol,
            credentials=credentials,
            signing=self._auth,
            clock=clock,
            bucket=bucket_for(protocol, self._client, self._clock, fallback=self.__dict__),
            counters=self._counters,
            name=name,
        )
        session = Session(
            conn,
            protocol=protocol,
            url=url,
            clock=clock,
            counters=self._counters,
            handlers=self._handlers,
            autoping=self._autoping,
            name=name,
            spawn=self._spawn,
            warn_undecodable=self._warn_undecodable,
            gate=self._gate,
        )
        reconnect = self._counters.connected()
        self._session = session
        try:
            if self._wake.is_set():
                # reconnect() came during the handshake, maybe after a new url was set.
                raise ConnectionLostError(f"{name}: reconnect requested during the handshake")
            if reconnect:
                # Before any frame of the new connection reaches a handler.
                self._notify_reconnect(conn, session)
            session.start(self._heartbeat, self._liveness_for(protocol))
            await self._setup(session, protocol, credentials, url)
            self._state = ConnectionState.OPEN
            self._open.set()
            if not self._started:
                self._started = True
                assert self._ready is not None
                if not self._ready.done():
                    self._ready.set_result(None)
            logger.info("%s: connected to %s", name, shown)
            await session.wait_closed()
            logger.warning("%s: connection lost: %s", name, session.describe_end())
        finally:
            self._open.clear()
            self._lifetime = clock.monotonic() - connected_at
            await session.stop()
            if self._session is session:
                self._session = None

    async def _handshake(self, target: URL, kwargs: dict[str, Any]) -> ClientWebSocketResponse:
        """The upgrade request, bounded by ``handshake_timeout`` on the client clock."""
        handshake = asyncio.ensure_future(
            self._client.ws_session.ws_connect(target, autoping=False, heartbeat=None, **kwargs)
        )
        try:
            return await within(self._clock, handshake, self._handshake_timeout)
        except BaseException:
            # Cancelled just as the handshake completed: nobody owns that socket, close it.
            if handshake.done() and not handshake.cancelled() and handshake.exception() is None:
                await handshake.result().close()
            raise

    async def _setup(
        self,
        session: Session,
        protocol: WsProtocol | None,
        credentials: Credentials | None,
        url: URL,
    ) -> None:
        """Greeting, login, then the subscriptions, in that order."""
        conn = session.conn
        if protocol is not None and protocol.greeting is not None:
            await greet(session, protocol, url, clock=self._clock, counters=self._counters)
        if self._should_login(protocol, credentials, url):
            assert protocol is not None
            assert credentials is not None
            await log_in(
                session,
                protocol,
                credentials,
                url,
                clock=self._clock,
                counters=self._counters,
                dropped_on_purpose=lambda: self._skip_backoff,
            )
        futures = [conn.enqueue(payload, sign=kind == "json") for kind, payload in self._sends]
        if futures:
            await asyncio.gather(*futures)

    def _should_login(
        self, protocol: WsProtocol | None, credentials: Credentials | None, url: URL
    ) -> bool:
        if not self._auth or protocol is None or protocol.login is None or credentials is None:
            return False
        if protocol.skip_auth is not None:
            return not protocol.skip_auth(url, [payload for _, payload in self._sends])
        return True

    def _credentials_for(self, protocol: WsProtocol | None, url: URL) -> Credentials | None:
        if protocol is None or not self._auth:
            return None
        name = protocol.credential_name(url)
        if name is None:
            return None
        credentials: Credentials | None = self._client.credentials.get(name)
        return credentials

    def _liveness_for(self, protocol: WsProtocol | None) -> float | None:
        if self._liveness is not _UNSET:
            return self._liveness
        timeout = protocol.liveness_timeout if protocol is not None else None
        return default_liveness(timeout, self._heartbeat)

    def _notify_reconnect(self, conn: WsConnection, session: Session) -> None:
        seen: set[int] = set()
        for handlers in self._handlers:
            for handler in handlers:
                owner = getattr(handler, "__self__", None)
                if owner is None or id(owner) in seen:
                    continue
                hook = getattr(owner, "on_reconnect", None)
                if not callable(hook):
                    continue
                seen.add(id(owner))
                # A coroutine hook (async def on_reconnect) runs as a task the app owns.
                session.call_hook(hook, conn)

    def _spawn(self, awaitable: Awaitable[Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(awaitable)
        self._extra_tasks.add(task)
        task.add_done_callback(self._extra_tasks.discard)
        return task

    async def _cancel_extra_tasks(self) -> None:
        current = asyncio.current_task()
        tasks = [task for task in self._extra_tasks if task is not current]
        for task in tasks:
            task.cancel()  # before any await: a cancelled close() still stops them
        await asyncio.gather(*tasks, return_exceptions=True)

    def _warn_undecodable(self, frame: Frame, count: int) -> None:
        level = logging.DEBUG if self._warned_undecodable else logging.WARNING
        self._warned_undecodable = True
        logger.log(
            level,
            "%s: a frame is not JSON, hdlr_json skipped it (%d so far; further ones are "
            "logged at debug level): %r",
            self._name,
            count,
            frame,
        )
