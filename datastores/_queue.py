"""WebSocketQueue: hand raw WebSocket messages to a consumer task."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["WebSocketQueue"]

logger = logging.getLogger("datastores.ws")


class WebSocketQueue(asyncio.Queue[Any]):
    """An :class:`asyncio.Queue` that is also a WebSocket handler.

    Pass ``queue.onmessage`` as ``hdlr_json`` (or ``hdlr_str``/``hdlr_bytes``) and
    consume with ``async for msg in queue`` or ``await queue.get()``::

        queue = datastores.WebSocketQueue()
        await client.ws_connect(url, send_json=..., hdlr_json=queue.onmessage)
        async for msg in queue:
            ...

    Bounded by ``maxsize`` (default 100,000 messages; 0 means unbounded, as in the
    reference library): when a consumer falls behind, the oldest message is
    dropped to make room, counted in :attr:`dropped` and logged once, so a stalled
    consumer cannot exhaust memory and the newest data is always delivered.
    """

    def __init__(self, maxsize: int = 100_000) -> None:
        super().__init__(maxsize)
        self.dropped = 0

    def onmessage(self, msg: Any, ws: Any = None) -> None:
        """Queue ``msg`` without waiting (the handler signature ``(msg, ws)``)."""
        if self.full():
            self.get_nowait()
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "WebSocketQueue is full (%d messages): dropping the oldest; "
                    "the consumer is too slow (counted in .dropped)",
                    self.maxsize,
                )
        self.put_nowait(msg)

    def __aiter__(self) -> WebSocketQueue:
        return self

    async def __anext__(self) -> Any:
        return await self.get()
