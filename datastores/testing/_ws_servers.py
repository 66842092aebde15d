"""A scriptable WebSocket server on 127.0.0.1 for testing WebSocket clients.

:class:`WsTestServer` speaks one exchange's WebSocket dialect (greeting, login
verification, application pongs, frame encoding, see
:mod:`datastores.testing._ws_dialects`) and offers the faults a reconnecting
client must survive::

    async with WsTestServer("okx", keys=[FakeKey("k", "s", "p")], clock=clock) as server:
        server.drop_next(2)            # close the next two connections after login
        server.stop_answering_pings()  # a half-dead server
        server.refuse_next(3, 503)     # handshakes answered with HTTP 503
        client = Client(apis=..., redirects={"ws.okx.com": server.base_url}, clock=clock)

It records every frame it receives with the clock's time, so tests can count
messages per second (:meth:`max_in_window`) and inspect logins and subscriptions.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .._clock import SYSTEM_CLOCK, Clock
from ._verify import FakeKey
from ._ws_dialects import Dialect, LoginCheck
from .profiles import dialects

__all__ = ["ReceivedFrame", "ServerConnection", "WsTestServer"]

logger = logging.getLogger("datastores.testing.ws")


@dataclass(frozen=True)
class ReceivedFrame:
    """One frame the server received.

    Attributes:
        connection: index of the connection (0 for the first accepted one).
        at: ``clock.monotonic()`` when it was read.
        kind: ``"text"``, ``"binary"``, ``"ping"`` or ``"pong"``.
        data: the frame's text (binary frames decoded when they are text) or bytes.
    """

    connection: int
    at: float
    kind: str
    data: Any


@dataclass(eq=False)
class ServerConnection:
    """One accepted WebSocket connection, as the server sees it."""

    index: int
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    ws: web.WebSocketResponse
    received: list[ReceivedFrame] = field(default_factory=list)
    logins: list[LoginCheck] = field(default_factory=list)
    handshake: LoginCheck | None = None

    @property
    def logged_in(self) -> bool:
        """Whether a login (or signed handshake) on this connection was accepted."""
        if self.handshake is not None and self.handshake.ok:
            return True
        return any(check.ok for check in self.logins)

    @property
    def texts(self) -> list[str]:
        """Text frames received, in order."""
        return [frame.data for frame in self.received if frame.kind == "text"]

    @property
    def closed(self) -> bool:
        return self.ws.closed


class WsTestServer:
    """An aiohttp WebSocket server on 127.0.0.1 speaking one exchange's dialect.

    Every path is accepted; ``base_url`` (``ws://127.0.0.1:<port>``) is what a
    :class:`datastores.Client` ``redirects`` entry maps the real host to.

    Args:
        dialect: exchange name from :data:`~datastores.testing.DIALECTS`
            (``"plain"`` for none) or a :class:`Dialect` instance.
        keys: API keys the server accepts.
        clock: time for signature windows and the ``at`` of received frames.
        on_text: called as ``on_text(server, connection, text)`` for every text
            frame that is neither a login nor an application ping (subscriptions);
            may be a coroutine function.
    """

    def __init__(
        self,
        dialect: str | Dialect = "plain",
        *,
        keys: Iterable[FakeKey] = (),
        clock: Clock = SYSTEM_CLOCK,
        on_text: Callable[[WsTestServer, ServerConnection, str], Any] | None = None,
    ) -> None:
        if isinstance(dialect, str):
            dialect = dialects()[dialect](name=dialect)
        self.dialect = dialect
        self.keys = {key.key: key for key in keys}
        self.clock = clock
        self.on_text = on_text
        self.connections: list[ServerConnection] = []
        self.handshakes = 0
        self.answer_pings = True
        self.answer_app_pings = True
        self._refusals: list[int] = []
        self._drops = 0
        self._drop_after_texts = 1
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> WsTestServer:
        """Listen on an ephemeral port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])
        return self

    async def close(self) -> None:
        """Close every connection and stop listening."""
        for conn in self.connections:
            if not conn.ws.closed:
                await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WsTestServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``ws://127.0.0.1:<port>`` (for ``Client(redirects=...)``)."""
        if self._port is None:
            raise RuntimeError("WsTestServer is not started")
        return f"ws://127.0.0.1:{self._port}"

    def url(self, path: str = "/ws") -> str:
        """A URL on this server."""
        return self.base_url + path

    # -- faults ------------------------------------------------------------------

    def refuse_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` handshakes with HTTP ``status``."""
        self._refusals.extend([status] * count)

    def drop_next(self, count: int, *, after_texts: int = 1) -> None:
        """Close each of the next ``count`` connections once it has sent
        ``after_texts`` text frames that are not logins or pings (subscriptions)."""
        self._drops += count
        self._drop_after_texts = after_texts

    def stop_answering_pings(self) -> None:
        """Stop answering WebSocket and application pings (a half-dead server)."""
        self.answer_pings = False
        self.answer_app_pings = False

    # -- sending -----------------------------------------------------------------

    @property
    def live(self) -> list[ServerConnection]:
        """Connections still open."""
        return [conn for conn in self.connections if not conn.ws.closed]

    async def send(
        self, conn: ServerConnection, message: str | Mapping[str, Any] | list[Any]
    ) -> None:
        """Send a message (JSON-encoded unless a str) in the dialect's encoding."""
        text = message if isinstance(message, str) else json.dumps(message)
        data = self.dialect.encode(text)
        if isinstance(data, bytes):
            await conn.ws.send_bytes(data)
        else:
            await conn.ws.send_str(data)

    async def broadcast(self, message: str | Mapping[str, Any] | list[Any]) -> int:
        """Send to every open connection; returns how many got it."""
        targets = self.live
        for conn in targets:
            await self.send(conn, message)
        return len(targets)

    async def ping(self, conn: ServerConnection, payload: bytes = b"srv") -> None:
        """Send a WebSocket PING to ``conn``."""
        await conn.ws.ping(payload)

    # -- inspection --------------------------------------------------------------

    def frames(self, kinds: Iterable[str] = ("text", "binary")) -> list[ReceivedFrame]:
        """Every received frame of the given kinds, all connections, in order."""
        wanted = set(kinds)
        return sorted(
            (f for conn in self.connections for f in conn.received if f.kind in wanted),
            key=lambda f: f.at,
        )

    def max_in_window(
        self,
        window: float = 1.0,
        *,
        kinds: Iterable[str] = ("text", "binary", "ping", "pong"),
        per_connection: bool = True,
    ) -> int:
        """The most frames received within any half-open window of ``window`` s.

        Counted per connection (the default) or across all of them.
        """
        groups: list[list[float]]
        wanted = set(kinds)
        if per_connection:
            groups = [[f.at for f in c.received if f.kind in wanted] for c in self.connections]
        else:
            groups = [[f.at for f in self.frames(wanted)]]
        best = 0
        for times in groups:
            times.sort()
            start = 0
            for end, moment in enumerate(times):
                while moment - times[start] >= window - 1e-9:
                    start += 1
                best = max(best, end - start + 1)
        return best

    # -- the handler -------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.handshakes += 1
        if self._refusals:
            return web.Response(status=self._refusals.pop(0), text="refused by WsTestServer")
        headers = {k.lower(): v for k, v in request.headers.items()}
        handshake = self.dialect.check_handshake(
            request.path, headers, self.keys, self.clock.time()
        )
        if handshake is not None and not handshake.ok:
            return web.Response(status=401, text=f"handshake refused: {handshake.reason}")
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 22)
        await ws.prepare(request)
        conn = ServerConnection(
            index=len(self.connections),
            path=request.path,
            query=dict(request.query),
            headers=headers,
            ws=ws,
            handshake=handshake,
        )
        self.connections.append(conn)
        drop = False
        if self._drops > 0:
            self._drops -= 1
            drop = True
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            for text in self.dialect.greeting(conn.path, conn.query):
                await self.send(conn, text)
            await self._serve(conn, drop)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._handlers.discard(task)
        return ws

    async def _serve(self, conn: ServerConnection, drop: bool) -> None:
        ws = conn.ws
        subscriptions = 0
        async for msg in ws:
            now = self.clock.monotonic()
            if msg.type is WSMsgType.PING:
                conn.received.append(ReceivedFrame(conn.index, now, "ping", msg.data))
                if self.answer_pings:
                    await ws.pong(msg.data)
                continue
            if msg.type is WSMsgType.PONG:
                conn.received.append(ReceivedFrame(conn.index, now, "pong", msg.data))
                continue
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            kind = "text" if msg.type is WSMsgType.TEXT else "binary"
            text = self.dialect.decode(msg.data)
            conn.received.append(
                ReceivedFrame(conn.index, now, kind, text if text is not None else msg.data)
            )
            if text is None:
                continue
            check = self.dialect.login(text, conn.path, self.keys, self.clock.time())
            if check is not None:
                conn.logins.append(check)
                if check.reply is not None:
                    await self.send(conn, check.reply)
                if check.close_after:
                    await ws.close()
                    return
                continue
            pong = self.dialect.pong(text, conn.path, self.clock.time())
            if pong is not None:
                if self.answer_app_pings:
                    await self.send(conn, pong)
                continue
            subscriptions += 1
            if self.on_text is not None:
                result = self.on_text(self, conn, text)
                if isinstance(result, Awaitable):
                    await result
            if drop and subscriptions >= self._drop_after_texts:
                await ws.close()
                return
