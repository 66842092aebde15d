"""OKX REST pieces the collection needs: error codes to exceptions, the order-book
snapshot request and its parsing.

https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-order-book
https://www.okx.com/docs-v5/en/#error-code-rest-api-general-class
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..._errors import AuthenticationError, ExchangeAPIError, RateLimitError

__all__ = [
    "BOOKS_PATH",
    "REST_URL",
    "BookSnapshot",
    "fetch_book_snapshot",
    "okx_api_error",
    "opt_int",
]

REST_URL = "https://www.okx.com"
BOOKS_PATH = "/api/v5/market/books"

_RATE_LIMIT_CODES = frozenset({"50011", "50061"})
_AUTH_CODES = frozenset(
    {"50100", "50101", "50102", "50103", "50104", "50105", "50111", "50112", "50113", "50114"}
)


def okx_api_error(
    endpoint: str, status: int | None, code: object, message: str
) -> ExchangeAPIError:
    """The :class:`ExchangeAPIError` subclass for an OKX error ``code``."""
    cls: type[ExchangeAPIError] = ExchangeAPIError
    if str(code) in _RATE_LIMIT_CODES or status == 429:
        cls = RateLimitError
    elif str(code) in _AUTH_CODES or status in (401, 403):
        cls = AuthenticationError
    return cls(exchange="okx", endpoint=endpoint, status=status, code=code, message=message)


def opt_int(value: Any) -> int | None:
    """``None`` stays ``None``; ints and digit strings become int; anything else raises."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("boolean where an integer was expected")
    return int(value)


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """One ``GET /api/v5/market/books`` answer: the book and where it came from.

    Attributes:
        seq: the snapshot's ``seqId``.
        asks, bids: ``[px, sz, liqSz, ordSz]`` levels as sent.
        url, data: the request URL and decoded body (for the change feed).
    """

    seq: int
    asks: list[Any]
    bids: list[Any]
    url: str
    data: Any


async def fetch_book_snapshot(
    client: Any, base_url: str, inst: str, depth: int, *, demo: bool
) -> BookSnapshot:
    """GET ``inst``'s order book (``depth`` levels, ``source=0``), unsigned, through
    ``client``. ``demo``: ask demo trading (``x-simulated-trading: 1``).

    Raises:
        ExchangeAPIError: an HTTP error, an OKX error code, or a body without a book.
    """
    params = {"instId": inst, "sz": str(depth), "source": "0"}
    headers = {"x-simulated-trading": "1"} if demo else None
    result = await client.fetch(
        "GET", base_url + BOOKS_PATH, params=params, headers=headers, auth=None
    )
    status = result.response.status
    data = result.data
    endpoint = f"GET {BOOKS_PATH}"
    if status >= 400 or not isinstance(data, Mapping):
        text = result.text[:200] if isinstance(result.text, str) else ""
        code = data.get("code") if isinstance(data, Mapping) else None
        raise okx_api_error(endpoint, status, code, text or "response is not a JSON object")
    code = data.get("code")
    if str(code) != "0":
        raise okx_api_error(endpoint, status, code, str(data.get("msg", "")))
    rows = data.get("data")
    row = rows[0] if isinstance(rows, list) and rows else None
    if not isinstance(row, Mapping):
        raise okx_api_error(endpoint, status, None, "no order book in the response")
    asks, bids = row.get("asks"), row.get("bids")
    try:
        seq = opt_int(row.get("seqId"))
    except (TypeError, ValueError):
        seq = None
    if seq is None or not isinstance(asks, list) or not isinstance(bids, list):
        raise okx_api_error(endpoint, status, None, "order book without seqId/asks/bids")
    return BookSnapshot(seq, asks, bids, str(result.response.url), data)
