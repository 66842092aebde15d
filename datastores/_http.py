"""Reading HTTP responses into data or errors, in one place."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _json
from ._errors import AuthenticationError, ExchangeAPIError, RateLimitError

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = [
    "error_message",
    "parse_retry_after",
    "raise_for_status",
    "read_response",
    "scrub_client_error",
]

_MESSAGE_FIELDS = ("msg", "message", "retMsg", "error", "err_msg", "errorMessage", "messages")
_CODE_FIELDS = ("code", "retCode", "error_code", "err_code", "status")


def error_message(data: Any, text: str) -> tuple[object, str]:
    """Pick the exchange's error code and message out of a decoded error body."""
    code: object = None
    message = ""
    if isinstance(data, Mapping):
        for field_name in _CODE_FIELDS:
            if field_name in data:
                code = data[field_name]
                break
        for field_name in _MESSAGE_FIELDS:
            value = data.get(field_name)
            if value:
                if isinstance(value, Mapping):
                    value = value.get("message", value)
                message = str(value)
                break
    if not message:
        message = text.strip()[:500]
    return code, message


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or ``None``.

    The header holds either a number of seconds or an HTTP date (RFC 9110
    section 10.2.3); a date is measured from ``now`` (``time.time()`` when not
    given). A value that is neither, or is negative, gives ``None``.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: keep it off import time

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(seconds, 0.0)
    return seconds if seconds >= 0 and math.isfinite(seconds) else None


def raise_for_status(
    *,
    exchange: str | None,
    method: str,
    path: str,
    status: int,
    data: Any,
    text: str,
    retry_after: float | None = None,
) -> None:
    """Raise the right :class:`ExchangeAPIError` subclass for a non-2xx status.

    ``retry_after`` (seconds, from the ``Retry-After`` header) goes on a
    :class:`RateLimitError` (429 or 418).
    """
    if 200 <= status < 300:
        return
    code, message = error_message(data, text)
    cls: type[ExchangeAPIError] = ExchangeAPIError
    if status in (429, 418):
        raise RateLimitError(
            exchange=exchange,
            endpoint=f"{method} {path}",
            status=status,
            code=code,
            message=message,
            retry_after=retry_after,
        )
    if status in (401, 403):
        cls = AuthenticationError
    raise cls(
        exchange=exchange, endpoint=f"{method} {path}", status=status, code=code, message=message
    )


async def read_response(resp: ClientResponse, *, exchange: str | None = None) -> Any:
    """Read and JSON-decode a response; raise on a non-2xx status.

    Returns the decoded JSON (or the text when the body is not JSON).
    """
    try:
        body = await resp.read()
    finally:
        resp.release()
    text = body.decode("utf-8", "replace")
    try:
        data: Any = _json.loads(body) if body else None
    except ValueError:
        data = text
    raise_for_status(
        exchange=exchange,
        method=resp.method,
        path=resp.url.path,
        status=resp.status,
        data=data,
        text=text,
        retry_after=parse_retry_after(resp.headers.get("Retry-After"))
        if resp.status in (429, 418)
        else None,
    )
    return data


def scrub_client_error(exc: BaseException, shown: str) -> BaseException:
    """``exc`` fit to chain under our own error: no query, token or request header in it.

    aiohttp's response errors (``TooManyRedirects``, ``WSServerHandshakeError``...)
    print the full URL, where listenKeys and tokens travel, and their ``repr``
    shows the request headers, where OKX and Bitget send the passphrase; an
    ``InvalidURL`` prints the URL. For those a copy of the same type is returned
    whose URL is ``shown`` (the caller's already masked text) and which carries
    no headers or redirect history; other errors are returned unchanged.
    """
    import aiohttp
    from multidict import CIMultiDict, CIMultiDictProxy
    from yarl import URL

    url = URL(shown, encoded=True)  # as given: the caller masked it
    try:
        if isinstance(exc, aiohttp.ClientResponseError):
            info = aiohttp.RequestInfo(
                url, exc.request_info.method, CIMultiDictProxy(CIMultiDict()), url
            )
            return type(exc)(info, (), status=exc.status, message=exc.message)
        if isinstance(exc, aiohttp.InvalidURL):
            return type(exc)(url, exc.description)
    except Exception:  # a subclass with another constructor: chain a plain stand-in
        stand_in = aiohttp.ClientError(f"{type(exc).__name__} for {shown}")
        return stand_in
    return exc
