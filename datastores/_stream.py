"""Change notification: StoreChange, the bounded StoreStream, and waiter helpers.

A store pushes a :class:`StoreChange` into each of its streams; stores never
mutate items in place, so a change shows the item as it was at that moment
without any copying.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from ._errors import StoreStreamOverflow

if TYPE_CHECKING:
    from types import TracebackType

    from ._store import DataStore

__all__ = ["Item", "Operation", "StoreChange", "StoreStream"]

Item = dict[str, Any]
Operation = Literal["insert", "update", "delete"]


class ChangeSubscriber(Protocol):
    """What a store pushes its changes to: a :class:`StoreStream`, or a
    collection's change-feed sink (:mod:`datastores._changefeed`)."""

    def _push(self, change: StoreChange) -> None: ...


# A NamedTuple (immutable, built in C) rather than a frozen dataclass, whose __init__
# pays one object.__setattr__ per field: one is built per change a watcher or the
# change feed sees.
class StoreChange(NamedTuple):
    """One change to a store, as it was at that moment.

    Attributes:
        store: the store that changed.
        operation: ``"insert"``, ``"update"`` or ``"delete"``.
        source: the incoming item that caused the change, or ``None`` (insert,
            clear, eviction, or an update that created the item).
        data: the stored item after the change (for a delete: the removed item).
    """

    store: DataStore[Any]
    operation: Operation
    source: Item | None
    data: Item


class StoreStream:
    """An async stream of one store's changes: ``async with store.watch() as s: async for c in s``.

    Bounded: at most ``maxsize`` changes wait in the buffer. When a watcher falls
    further behind, the buffer is discarded and the next ``get()`` (or iteration
    step) raises :class:`~datastores.StoreStreamOverflow` with the number of lost
    changes; the stream then continues with new changes. Re-read the store (it is
    always current) when that happens. Memory stays bounded whatever the consumer does.
    """

    __slots__ = ("_buffer", "_closed", "_dropped", "_maxsize", "_store", "_waiter")

    def __init__(self, store: DataStore[Any], maxsize: int = 65536) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._store = store
        self._maxsize = maxsize
        self._buffer: deque[StoreChange] = deque()
        self._dropped = 0
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        store._streams.append(self)

    @property
    def store(self) -> DataStore[Any]:
        """The watched store."""
        return self._store

    def _push(self, change: StoreChange) -> None:
        buffer = self._buffer
        if len(buffer) >= self._maxsize:
            self._dropped += len(buffer) + 1
            buffer.clear()
        else:
            buffer.append(change)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> StoreChange | None:
        """The next buffered change, or ``None`` if there is none yet.

        Raises:
            StoreStreamOverflow: changes were lost since the last call.
        """
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            raise StoreStreamOverflow(self._store.name, dropped)
        if self._buffer:
            return self._buffer.popleft()
        return None

    async def get(self) -> StoreChange:
        """Wait for and return the next change.

        Raises:
            StoreStreamOverflow: changes were lost since the last call.
            RuntimeError: the stream was closed.
        """
        while True:
            change = self.get_nowait()
            if change is not None:
                return change
            if self._closed:
                raise RuntimeError(f"watch() stream of store {self._store.name!r} is closed")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        """Stop receiving changes (idempotent)."""
        if not self._closed:
            self._closed = True
            try:
                self._store._streams.remove(self)
            except ValueError:
                pass
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)

    def __enter__(self) -> StoreStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> StoreStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> StoreStream:
        return self

    async def __anext__(self) -> StoreChange:
        try:
            return await self.get()
        except RuntimeError:
            if self._closed:
                raise StopAsyncIteration from None
            raise


async def _wait_on(waiters: list[asyncio.Future[None]]) -> None:
    """Park the caller in ``waiters`` until :func:`_wake` resolves it."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(future)
    try:
        await future
    finally:
        if not future.done():
            future.cancel()
        try:
            waiters.remove(future)
        except ValueError:
            pass


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    """Resolve every parked waiter once."""
    for future in waiters:
        if not future.done():
            future.set_result(None)
    waiters.clear()
