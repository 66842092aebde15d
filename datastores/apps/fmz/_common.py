"""Pieces every adapter of the FMZ bridge shares: waiting for live state,
FMZ order shapes and status words, exchange error replies."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ..._client import FetchResult
from .adapter import BridgeError, decimal_text

__all__ = [
    "RecentOrders",
    "TradeSeed",
    "fmz_order",
    "json_of",
    "number_text",
    "wait_for",
]

#: FMZ order ``status`` words (the guide's vocabulary)
PENDING = "pending"
PARTIAL = "partial-filled"
FILLED = "filled"
CANCELED = "canceled"
PARTIAL_CANCELED = "partial-canceled"

#: orders remembered after they left the exchange's open-order list
RECENT_ORDERS = 2000


async def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Poll ``condition`` until it holds (``True``) or ``timeout`` seconds pass (``False``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


def number_text(value: Any, default: str = "0") -> str:
    """An exchange's number (string or number) as a plain decimal string; ``default``
    for empty or unparsable values."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        return decimal_text(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return default


def fmz_order(
    *,
    order_id: str,
    symbol: str,
    amount: Any,
    price: Any,
    deal_amount: Any,
    avg_price: Any,
    side: str,
    status: str,
) -> dict[str, Any]:
    """The ``order`` object FMZ reads (``{id, symbol, amount, price, deal_amount,
    avg_price, type, status}``), values as strings."""
    return {
        "id": order_id,
        "symbol": symbol,
        "amount": number_text(amount),
        "price": number_text(price),
        "deal_amount": number_text(deal_amount),
        "avg_price": number_text(avg_price),
        "type": side,
        "status": status,
    }


def finished_status(filled: Any) -> str:
    """``canceled`` or ``partial-canceled`` by the filled amount."""
    return PARTIAL_CANCELED if number_text(filled) != "0" else CANCELED


class RecentOrders:
    """The latest state of orders seen on the private stream or placed by the
    bridge, by exchange order id (bounded; the oldest are forgotten)."""

    def __init__(self, size: int = RECENT_ORDERS) -> None:
        self._items: OrderedDict[str, Mapping[str, Any]] = OrderedDict()
        self._size = size

    def put(self, order_id: str, item: Mapping[str, Any]) -> None:
        """Remember ``item`` as the latest state of ``order_id``."""
        self._items[order_id] = item
        self._items.move_to_end(order_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, order_id: str) -> Mapping[str, Any] | None:
        """The latest state remembered, or ``None``."""
        return self._items.get(order_id)

    def values(self) -> list[Mapping[str, Any]]:
        """Every remembered order, oldest first."""
        return list(self._items.values())


def json_of(result: FetchResult, exchange: str, endpoint: str) -> Any:
    """The decoded JSON of a REST response, or a :class:`BridgeError` naming the
    exchange, endpoint and status (never the request)."""
    if not result.data and not isinstance(result.data, (list, dict)):
        raise BridgeError(
            f"{exchange} {endpoint}: HTTP {result.response.status}, the reply is not JSON"
        )
    return result.data


class TradeSeed:
    """The REST recent trades each instrument's ``trades`` starts from.

    A trade stream only carries trades made after the subscription, so the first
    ``trades`` of a symbol would be empty: the adapter fetches the exchange's
    recent trades once per instrument (after subscribing, so nothing falls between
    the two) and merges them with what the stream pushed, by trade id.
    """

    def __init__(self) -> None:
        self._seeds: dict[str, list[dict[str, Any]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def merged(
        self,
        key: str,
        fetch: Callable[[], Any],
        streamed: list[dict[str, Any]],
        limit: int,
        logger: Any,
    ) -> list[dict[str, Any]]:
        """The last ``limit`` trades of REST's seed (``await fetch()`` on first use)
        and ``streamed``, oldest first, each id once. A failed fetch is logged and
        not retried: the stream alone serves the symbol from then on."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._seeds:
                try:
                    self._seeds[key] = list(await fetch())
                except Exception as exc:  # the stream still serves what it pushes
                    logger.warning(
                        "fmz: recent trades of %s unavailable (%s); serving streamed trades",
                        key,
                        type(exc).__name__,
                    )
                    self._seeds[key] = []
        rows: dict[str, dict[str, Any]] = {}
        for row in (*self._seeds[key], *streamed):
            rows[row["id"]] = row
        return sorted(rows.values(), key=lambda t: int(t["time"]))[-limit:]
