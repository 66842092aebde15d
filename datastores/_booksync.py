"""Waiting for an order book to be synced: :meth:`OrderBookStore.wait_synced`.

Every change of a book wakes its ``wait()``ers, a snapshot or the update that
bridges one included, so the wait re-checks the symbol's state after each change
and costs nothing per message when nobody waits.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._bookstate import BookStatus
    from ._orderbook import OrderBookStore

__all__ = ["wait_synced"]


def _is_there(book: OrderBookStore[Any], symbol: str, min_update_id: int | None) -> bool:
    if not book.is_synced(symbol):
        return False
    last = book._states[symbol].last_id
    return min_update_id is None or (last is not None and last >= min_update_id)


async def _until_there(book: OrderBookStore[Any], symbol: str, min_update_id: int | None) -> None:
    while not _is_there(book, symbol, min_update_id):
        await book.wait()


def _not_there(
    book: OrderBookStore[Any], symbol: str, timeout: float | None, min_update_id: int | None
) -> str:
    """The TimeoutError's message: the symbol and its status."""
    if symbol not in book._states:
        return f"{book.name} {symbol}: no message for it within {timeout} s (subscribed?)"
    s = book.status(symbol)
    wanted = "synced" if min_update_id is None else f"synced at update id {min_update_id}"
    return (
        f"{book.name} {symbol}: not {wanted} within {timeout} s (synced={s.synced}, "
        f"last_update_id={s.last_update_id}, buffered={s.buffered}, updates={s.updates}, "
        f"gaps={s.gaps}, checksum_failures={s.checksum_failures}, resyncs={s.resyncs}, "
        f"last_error={s.last_error!r})"
    )


async def wait_synced(
    book: OrderBookStore[Any], symbol: str, timeout: float | None, min_update_id: int | None
) -> BookStatus:
    """See :meth:`OrderBookStore.wait_synced`."""
    if not _is_there(book, symbol, min_update_id):
        try:
            await asyncio.wait_for(_until_there(book, symbol, min_update_id), timeout)
        except asyncio.TimeoutError:  # not the builtin one before Python 3.11
            raise TimeoutError(_not_there(book, symbol, timeout, min_update_id)) from None
    return book.status(symbol)
