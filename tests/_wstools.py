"""Shared helpers for the WebSocket tests (real loopback servers, virtual time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from datastores._client import Client
from datastores.testing import VirtualClock
from datastores.testing._verify import FakeKey
from datastores.testing._ws_servers import WsTestServer


def virtual_clock() -> VirtualClock:
    # Ten real milliseconds before each virtual jump let loopback frames land, even on a
    # loaded machine (2 ms lost frames to a jump under CPU contention: a flaky test).
    return VirtualClock(settle=0.01)


class SteppedClock(VirtualClock):
    """A virtual clock that moves only when the test calls :meth:`advance`.

    The automatic clock jumps to the next deadline (a 60 s watchdog, a ping's reply
    timeout) ten real milliseconds after it last did, whatever the test is doing: a
    test preempted that long under CPU load saw a connection it meant to keep
    replaced, or a reply it was about to receive timed out. Here nothing fires unless
    the test moves time, and :meth:`deadline` tells when a task sleeps until (so it
    moves time only once that task is parked, never while a reply is on its way).
    """

    def __init__(self) -> None:
        super().__init__(auto=False)
        self._parked: list[tuple[str, float]] = []

    async def sleep(self, seconds: float) -> None:
        task = asyncio.current_task()
        entry = (task.get_name() if task is not None else "", self.monotonic() + max(seconds, 0))
        self._parked.append(entry)
        try:
            await super().sleep(seconds)
        finally:
            self._parked.remove(entry)

    def deadline(self, task_suffix: str) -> float | None:
        """When the task whose name ends with ``task_suffix`` wakes, if it sleeps now."""
        return next((at for name, at in self._parked if name.endswith(task_suffix)), None)


async def eventually(predicate: Callable[[], Any], *, timeout: float = 5.0) -> None:
    """Poll ``predicate`` (real time, 1 ms steps) until it holds; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        await asyncio.sleep(0.001)


@asynccontextmanager
async def served(
    dialect: str = "plain",
    *,
    host: str = "stream.example.test",
    apis: dict[str, list[str]] | None = None,
    keys: list[FakeKey] | None = None,
    clock: VirtualClock | None = None,
    on_text: Any = None,
) -> AsyncIterator[tuple[WsTestServer, Client, VirtualClock]]:
    """A WsTestServer and a Client whose ``host`` is redirected to it."""
    clock = clock or virtual_clock()
    async with WsTestServer(dialect, keys=keys or [], clock=clock, on_text=on_text) as server:
        client = Client(apis=apis or {}, redirects={host: server.base_url}, clock=clock)
        try:
            yield server, client, clock
        finally:
            await client.close()


def ours(tasks: set[asyncio.Task[Any]]) -> list[str]:
    """Names of the WebSocketApp's own tasks among ``tasks``."""
    return sorted(t.get_name() for t in tasks if t.get_name().startswith("datastores.ws"))
