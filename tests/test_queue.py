"""WebSocketQueue: a handler feeding an async consumer, bounded."""

from __future__ import annotations

import asyncio
import logging

import pytest

from datastores import WebSocketQueue


async def test_messages_reach_the_consumer_in_order() -> None:
    queue = WebSocketQueue()
    for n in range(3):
        queue.onmessage({"n": n}, None)
    received = []
    async for msg in queue:
        received.append(msg["n"])
        if len(received) == 3:
            break
    assert received == [0, 1, 2]


async def test_a_slow_consumer_loses_the_oldest_messages_not_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = WebSocketQueue(maxsize=2)
    with caplog.at_level(logging.WARNING, "datastores.ws"):
        for n in range(5):
            queue.onmessage(n)
    assert queue.qsize() == 2
    assert queue.dropped == 3
    assert [await queue.get(), await queue.get()] == [3, 4]
    assert sum("WebSocketQueue is full" in r.getMessage() for r in caplog.records) == 1


async def test_the_consumer_waits_for_the_next_message() -> None:
    queue = WebSocketQueue()
    task = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not task.done()
    queue.onmessage("hello")
    assert await asyncio.wait_for(task, 1) == "hello"
