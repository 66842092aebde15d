"""One connection's life inside a WebSocketApp: receive, dispatch, heartbeats, watchdog.

A :class:`Session` owns the tasks of one connection (reader, writer, pings,
watchdog). The reader hands every frame to the handlers synchronously, in
order, and also to the *waiters* the app registered (greeting, login reply,
heartbeat reply): a frame that answers a waiter still reaches the handlers, so
nothing received during a login is lost (pybotters consumed those frames). A
coroutine handler's task starts then; while ``max_pending_handlers`` of them are
unfinished the reader waits (see :mod:`datastores._ws.backpressure`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import WSMsgType

from .._errors import ConnectionLostError
from .protocol import (
    NOT_JSON,
    SKIP,
    ControlFrame,
    Frame,
    HeartbeatInput,
    HeartbeatSpec,
    decoder_for,
    default_decode_text,
)

if TYPE_CHECKING:
    from yarl import URL

    from .._clock import Clock
    from .backpressure import HandlerGate
    from .connection import WsConnection
    from .protocol import WsProtocol
    from .stats import Counters

__all__ = ["Handler", "Session", "within"]

logger = logging.getLogger("datastores.ws")

T = TypeVar("T")
Handler = Callable[[Any, Any], Any]
Classifier = Callable[[Frame], Any]

_CLOSE_TIMEOUT = 5.0


async def within(clock: Clock, awaitable: Awaitable[T], timeout: float) -> T:
    """Await ``awaitable``; raise :class:`asyncio.TimeoutError` after ``timeout`` clock seconds.

    The deadline runs on ``clock`` (virtual in tests). On timeout or cancellation
    the awaitable is cancelled and awaited, so nothing is left running.
    """
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (timer, task):
            if not pending.done():
                pending.cancel()
        await asyncio.gather(timer, return_exceptions=True)
        if not task.done():
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled() and timer.done() and not timer.cancelled():
        raise asyncio.TimeoutError
    return task.result()


class _Waiter:
    __slots__ = ("classify", "future")

    def __init__(self, classify: Classifier, future: asyncio.Future[Any]) -> None:
        self.classify = classify
        self.future = future


def _describe_handler(handler: Callable[..., Any]) -> str:
    owner = getattr(handler, "__self__", None)
    name = getattr(handler, "__qualname__", None) or repr(handler)
    if owner is not None and "." not in name:
        return f"{type(owner).__name__}.{name}"
    return str(name)


class Session:
    """The state and tasks of one open connection (internal to WebSocketApp)."""

    def __init__(
        self,
        conn: WsConnection,
        *,
        protocol: WsProtocol | None,
        url: URL,
        clock: Clock,
        counters: Counters,
        handlers: tuple[Sequence[Handler], Sequence[Handler], Sequence[Handler]],
        autoping: bool,
        name: str,
        spawn: Callable[[Awaitable[Any], str], asyncio.Task[Any]],
        warn_undecodable: Callable[[Frame, int], None],
        gate: HandlerGate,
    ) -> None:
        self.conn = conn
        self.protocol = protocol
        self.url = url
        self.clock = clock
        self.counters = counters
        self.hdlr_str, self.hdlr_bytes, self.hdlr_json = handlers
        self.autoping = autoping
        self.name = name
        self._spawn = spawn
        self._warn_undecodable = warn_undecodable
        self._gate = gate
        self.waiters: list[_Waiter] = []
        #: ``heartbeat()`` probes: PING payload -> the future its PONG resolves
        self.pongs: dict[bytes, asyncio.Future[None]] = {}
        #: cleared while the reader waits for coroutine handlers (backpressure)
        self.reading = asyncio.Event()
        self.reading.set()
        #: reader pauses so far (a heartbeat reply may be unread because of one)
        self.pauses = 0
        self.last_received = clock.monotonic()
        self.activity = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []
        self.reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        self.ended = False
        # Level-accepting collections get order-book levels decoded compactly.
        self._decode_text = decoder_for(
            self.hdlr_json, protocol.decode_text if protocol else default_decode_text
        )
        self._decode_bytes = protocol.decode_bytes if protocol else None

    # -- lifecycle ------------------------------------------------------------

    def start(self, heartbeat: float | None, liveness: float | None) -> None:
        """Start the writer, the reader, the heartbeats and the watchdog."""
        loop = asyncio.get_running_loop()
        self.tasks.append(self.conn.start_writer(self._on_broken))
        self.reader = loop.create_task(self._read_loop(), name=f"{self.name}:reader")
        self.tasks.append(self.reader)
        spec = self.protocol.heartbeat_for(self.url) if self.protocol is not None else None
        if spec is not None:
            self.tasks.append(
                loop.create_task(self._app_heartbeat(spec), name=f"{self.name}:heartbeat")
            )
        if heartbeat is not None:
            self.tasks.append(
                loop.create_task(self._ping_loop(heartbeat), name=f"{self.name}:ping")
            )
        if liveness is not None:
            self.tasks.append(
                loop.create_task(self._watchdog(liveness), name=f"{self.name}:watchdog")
            )

    def _on_broken(self, reason: BaseException) -> None:
        # Stop reading: the reader's end lets the app close the socket and reconnect.
        self._fail_waiters(reason)
        reader = self.reader
        if reader is not None and not reader.done() and reader is not asyncio.current_task():
            reader.cancel()

    async def wait_closed(self) -> None:
        """Return when the connection has ended (server close, error or abort)."""
        assert self.reader is not None
        await asyncio.wait({self.reader})

    async def stop(self) -> None:
        """Cancel every task of this connection and close the socket. Idempotent."""
        self.ended = True
        self.conn.abort(ConnectionLostError(f"{self.name}: connection closed"))
        current = asyncio.current_task()
        tasks = [task for task in self.tasks if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raw = self.conn.raw
        if not raw.closed:
            try:
                # The reader was cancelled, so aiohttp sends the close frame and
                # shuts the transport without waiting for the server's answer.
                await within(self.clock, raw.close(), _CLOSE_TIMEOUT)
            except (asyncio.TimeoutError, Exception) as exc:  # best effort: the socket is gone
                logger.debug("%s: closing the socket: %s: %s", self.name, type(exc).__name__, exc)

    def describe_end(self) -> str:
        """Why the connection ended, for logs."""
        failure = self.conn.failure
        if failure is not None and not isinstance(failure, asyncio.CancelledError):
            return str(failure)
        code = self.conn.raw.close_code if self.close_code is None else self.close_code
        return f"closed by the server (close code {code})"

    # -- waiters ----------------------------------------------------------------

    def expect(self, classify: Classifier) -> asyncio.Future[Any]:
        """Register a classifier; the future gets its first non-``None`` verdict."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.ended or self.conn.failure is not None:
            future.set_exception(ConnectionLostError(f"{self.name}: connection closed"))
            future.exception()  # retrieved: see _fail_waiters
            return future
        self.waiters.append(_Waiter(classify, future))
        return future

    def forget(self, future: asyncio.Future[Any]) -> None:
        """Drop a waiter (after a timeout)."""
        self.waiters = [w for w in self.waiters if w.future is not future]

    def _check_waiters(self, frame: Frame) -> None:
        remaining: list[_Waiter] = []
        for waiter in self.waiters:
            if waiter.future.done():
                continue
            try:
                verdict = waiter.classify(frame)
            except Exception as exc:
                # A classifier bug must not kill the reader; treat the frame as unrelated.
                logger.warning(
                    "%s: reply classifier failed on %r: %s: %s",
                    self.name,
                    frame,
                    type(exc).__name__,
                    exc,
                )
                verdict = None
            if verdict is None:
                remaining.append(waiter)
            else:
                waiter.future.set_result(verdict)
        self.waiters = remaining

    def _fail_waiters(self, reason: BaseException) -> None:
        probes, self.pongs = self.pongs, {}
        for probe in probes.values():
            if not probe.done():
                probe.set_exception(ConnectionLostError(f"{self.name}: connection lost"))
                probe.exception()  # retrieved: the prober may have timed out already
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                error = ConnectionLostError(f"{self.name}: connection lost ({reason})")
                error.__cause__ = reason
                waiter.future.set_exception(error)
                # Marked retrieved: a waiter whose request could not even be sent (the
                # ping that waited for a token) is never awaited, and asyncio would log
                # "Future exception was never retrieved". Awaiting it still raises.
                waiter.future.exception()

    # -- reading ------------------------------------------------------------------

    def _touch(self) -> None:
        self.last_received = self.clock.monotonic()
        self.activity.set()

    async def _read_loop(self) -> None:
        raw = self.conn.raw
        gate = self._gate
        try:
            while True:
                if gate.full:
                    await self._pause_for_handlers()
                msg = await raw.receive()
                kind = msg.type
                if kind is WSMsgType.TEXT:
                    frame = Frame(msg.data, decode=self._decode_text)
                elif kind is WSMsgType.BINARY:
                    frame = Frame(self._bytes_to_text(msg.data), msg.data, decode=self._decode_text)
                elif kind is WSMsgType.PING:
                    self._touch()
                    if self.autoping:
                        self.conn.reply_now(ControlFrame.PONG, msg.data)
                    continue
                elif kind is WSMsgType.PONG:
                    self._touch()
                    probe = self.pongs.pop(bytes(msg.data), None)
                    if probe is not None and not probe.done():
                        probe.set_result(None)
                    continue
                elif kind is WSMsgType.CLOSE:
                    self.close_code = msg.data if isinstance(msg.data, int) else raw.close_code
                    break
                elif kind is WSMsgType.ERROR:
                    self.conn.abort(_error_from(self.name, msg.data))
                    break
                else:  # CLOSING / CLOSED
                    break
                self._touch()
                self.counters.frame_received(self.clock.time())
                self._dispatch(frame, kind is WSMsgType.TEXT)
        except Exception as exc:
            # A bug of ours must not pass for "closed by the server": say what broke.
            error = ConnectionLostError(
                f"{self.name}: reading failed ({type(exc).__name__}: {exc})"
            )
            error.__cause__ = exc
            self.conn.abort(error)
        finally:
            self.ended = True
            self._fail_waiters(self.conn.failure or ConnectionLostError(self.describe_end()))

    async def _pause_for_handlers(self) -> None:
        """Read nothing until a coroutine handler ends: the socket's buffers fill
        and TCP slows the server. Heartbeats and the watchdog wait too (their
        replies are among the unread frames); the resume counts as activity."""
        self.reading.clear()
        self.pauses += 1
        try:
            await self._gate.wait()
        finally:
            self.reading.set()
            self._touch()

    def _bytes_to_text(self, data: bytes) -> str | None:
        decode = self._decode_bytes
        try:
            if decode is not None:
                return decode(data)
            return data.decode("utf-8")
        except Exception:
            return None

    def _dispatch(self, frame: Frame, is_text: bool) -> None:
        protocol = self.protocol
        if protocol is not None and protocol.auto_reply is not None:
            try:
                reply = protocol.auto_reply(frame, self.url)
            except Exception as exc:
                logger.warning("%s: auto-reply failed: %s: %s", self.name, type(exc).__name__, exc)
                reply = None
            if reply is not None:
                self.conn.reply_now(reply)
        if self.waiters:
            self._check_waiters(frame)
        conn = self.conn
        if is_text:
            for handler in self.hdlr_str:
                self._call(handler, frame.text, conn)
        else:
            for handler in self.hdlr_bytes:
                self._call(handler, frame.binary, conn)
        if self.hdlr_json:
            data = frame.data
            if data is NOT_JSON:
                self._warn_undecodable(frame, self.counters.frame_undecodable())
            elif data is not SKIP:
                for handler in self.hdlr_json:
                    self._call(handler, data, conn)

    def _call(self, handler: Handler, message: Any, conn: WsConnection) -> None:
        try:
            result = handler(message, conn)
        except Exception as exc:
            self.handler_failed(handler, exc)
            return
        if inspect.isawaitable(result):
            task = self._spawn(result, _describe_handler(handler))
            self._gate.started()
            task.add_done_callback(self._gate.finished)
            task.add_done_callback(functools.partial(self._handler_task_done, handler))

    def _handler_task_done(self, handler: Callable[..., Any], task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert isinstance(exc, BaseException)
            if isinstance(exc, Exception):
                self.handler_failed(handler, exc)

    def handler_failed(self, handler: Callable[..., Any], exc: Exception) -> None:
        """Log and count a handler error; the connection continues."""
        errors = self.counters.handler_failed()
        logger.warning(
            "%s: handler %s raised %s: %s (%d handler errors so far); the connection continues",
            self.name,
            _describe_handler(handler),
            type(exc).__name__,
            exc,
            errors,
            # The exception itself: for coroutine handlers this runs outside the except.
            exc_info=exc if logger.isEnabledFor(logging.DEBUG) else None,
        )

    def call_hook(self, hook: Callable[..., Any], *args: Any) -> None:
        """Run a hook such as ``on_reconnect(ws)`` like a handler (errors counted, coroutines
        run as tasks whose code up to the first ``await`` runs before the next frame)."""
        try:
            result = hook(*args)
        except Exception as exc:
            self.handler_failed(hook, exc)
            return
        if inspect.isawaitable(result):
            task = self._spawn(result, _describe_handler(hook))
            task.add_done_callback(functools.partial(self._handler_task_done, hook))

    # -- heartbeats and watchdog ------------------------------------------------------

    async def _sleep_until_idle(self, idle: float) -> None:
        clock = self.clock
        while True:
            wait = self.last_received + idle - clock.monotonic()
            if wait <= 0:
                if not self.reading.is_set():  # silent because we are not reading
                    await self.reading.wait()
                    continue
                return
            await clock.sleep(wait)

    async def _unread_because_paused(self, pauses_before: int) -> bool:
        """After a reply timeout: whether the reader paused meanwhile (the reply may
        be among the unread frames); if so, waits until it reads again."""
        if self.pauses == pauses_before and self.reading.is_set():
            return False
        await self.reading.wait()
        return True

    async def _app_heartbeat(self, spec: HeartbeatSpec) -> None:
        """Send the exchange's application ping; a missing reply replaces the connection."""
        clock = self.clock
        sequence = 0
        is_reply = spec.is_reply
        while True:
            if spec.when_idle:
                await self._sleep_until_idle(spec.interval)
            else:
                await clock.sleep(spec.interval)
            message = spec.message(HeartbeatInput(clock.time(), sequence))
            sequence += 1
            waiter = None
            if is_reply is not None:

                def classify(frame: Frame, is_reply: Callable[[Frame], bool] = is_reply) -> Any:
                    return True if is_reply(frame) else None

                waiter = self.expect(classify)
            await self.conn.enqueue(message, urgent=True)
            if waiter is None:
                continue
            pauses = self.pauses
            try:
                await within(clock, waiter, spec.reply_timeout)
            except asyncio.TimeoutError:
                self.forget(waiter)
                if await self._unread_because_paused(pauses):
                    continue
                self.counters.heartbeat_timed_out()
                self.conn.abort(
                    ConnectionLostError(
                        f"{self.name}: no reply to the heartbeat ping within "
                        f"{spec.reply_timeout:g} s"
                    )
                )
                return

    async def probe(self, timeout: float) -> bool:
        """Send a WebSocket PING with a random payload; whether its PONG came within
        ``timeout`` clock seconds (``False`` too when the connection ended meanwhile).

        Like the automatic pings, a reader paused by backpressure extends the wait:
        the PONG may be among the unread frames.
        """
        payload = os.urandom(4)  # tells our PONG from one answering the automatic pings
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pongs[payload] = future
        try:
            await self.conn.ping(payload)
            while True:
                pauses = self.pauses
                try:
                    await within(self.clock, asyncio.shield(future), timeout)
                    return True
                except asyncio.TimeoutError:
                    if not await self._unread_because_paused(pauses):
                        return False
        except ConnectionLostError:
            return False
        finally:
            self.pongs.pop(payload, None)

    async def _ping_loop(self, interval: float) -> None:
        """Send a WebSocket PING after ``interval`` s of silence.

        Any frame arriving within ``interval / 2`` proves the connection alive.
        """
        clock = self.clock
        while True:
            await self._sleep_until_idle(interval)
            self.activity.clear()
            await self.conn.ping()
            pauses = self.pauses
            try:
                await within(clock, self.activity.wait(), interval / 2)
            except asyncio.TimeoutError:
                if await self._unread_because_paused(pauses):
                    continue
                self.counters.heartbeat_timed_out()
                self.conn.abort(
                    ConnectionLostError(
                        f"{self.name}: no PONG within {interval / 2:g} s of a WebSocket ping"
                    )
                )
                return

    async def _watchdog(self, timeout: float) -> None:
        """Replace the connection when nothing at all arrives for ``timeout`` s."""
        await self._sleep_until_idle(timeout)
        self.counters.heartbeat_timed_out()
        self.conn.abort(ConnectionLostError(f"{self.name}: nothing received for {timeout:g} s"))


def _error_from(name: str, data: Any) -> ConnectionLostError:
    error = ConnectionLostError(f"{name}: WebSocket error ({type(data).__name__}: {data})")
    if isinstance(data, BaseException):
        error.__cause__ = data
    return error
