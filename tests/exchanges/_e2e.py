"""Helpers shared by the exchange tests that run the real client on loopback.

Imported by name (``from _e2e import ...``), like the other modules of this folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiohttp import WSMsgType, web


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (real time, 2 ms steps) until ``condition()`` holds; fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


class ScriptedWsServer:
    """A WebSocket server whose subclasses answer each text frame in :meth:`on_text`.

    ``batches`` is the script: :meth:`push_next_batch` (called by a subclass when
    a subscription arrives) sends the next batch of messages. ``sockets`` are the
    connections accepted so far, oldest first (a test closes one to force a
    reconnect).
    """

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.sockets: list[web.WebSocketResponse] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            await self.on_text(ws, frame.data)
        return ws

    async def on_text(self, ws: web.WebSocketResponse, text: str) -> None:
        raise NotImplementedError

    async def push_next_batch(self, ws: web.WebSocketResponse) -> None:
        if self.batches:
            for msg in self.batches.pop(0):
                await ws.send_json(msg)


ServerT = TypeVar("ServerT", bound=ScriptedWsServer)


@asynccontextmanager
async def serve_ws(server: ServerT, path: str) -> AsyncIterator[tuple[ServerT, str]]:
    """Run ``server`` on 127.0.0.1 at ``path``; yield it with its ``ws://`` base URL."""
    app = web.Application()
    app.router.add_get(path, server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield server, f"ws://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        for ws in server.sockets:
            await ws.close()
        await runner.cleanup()
