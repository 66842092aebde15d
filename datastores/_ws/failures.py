"""How a failed connection attempt maps to our errors, and whether retrying can help."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from yarl import URL

from .._errors import (
    ConfigurationError,
    ConnectionLostError,
    DatastoresError,
    HandshakeError,
    WebSocketAuthError,
)
from .._http import scrub_client_error
from .protocol import safe_url

__all__ = ["FIRST_CONNECT_ATTEMPTS", "log_failed_attempt", "translate_failure"]

logger = logging.getLogger("datastores.ws")

#: Transient failures (refused, 5xx, timeouts) tolerated before the first connection.
FIRST_CONNECT_ATTEMPTS = 5


def log_failed_attempt(
    name: str, error: DatastoresError, attempt: int, permanent: bool | None
) -> int | None:
    """Log one failed connection attempt (WARNING) and return how many attempts
    remain before ``ws_connect()`` raises: ``0`` means raise now.

    ``permanent`` is ``None`` once the app has been connected (it then retries
    forever and ``None`` is returned); before that, a permanent failure leaves 0.
    """
    if permanent is None:
        logger.warning("%s: attempt %d: %s; retrying with backoff", name, attempt, error)
        return None
    left = 0 if permanent else max(0, FIRST_CONNECT_ATTEMPTS - attempt)
    logger.warning(
        "%s: attempt %d of %d: %s; %s",
        name,
        attempt,
        FIRST_CONNECT_ATTEMPTS,
        error,
        f"{left} more before ws_connect() raises, with backoff"
        if left
        else "ws_connect() raises now",
    )
    return left


def translate_failure(exc: Exception, real_url: URL) -> tuple[DatastoresError, bool]:
    """Map a connection failure to our error and whether retrying can help.

    aiohttp's error is chained as ``__cause__``, scrubbed of the URL (tokens
    travel in WebSocket URLs; see :func:`datastores._http.scrub_client_error`).
    """
    error: DatastoresError
    url = safe_url(real_url)
    if isinstance(exc, DatastoresError):
        # Auth refusals and configuration errors do not fix themselves.
        permanent = isinstance(exc, (WebSocketAuthError, ConfigurationError))
        return exc, permanent
    cause = scrub_client_error(exc, url)
    permanent = False
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        status = exc.status
        error = HandshakeError(
            f"WebSocket handshake to {url} failed: HTTP {status} {exc.message}".rstrip()
        )
        permanent = 400 <= status < 500 and status not in (408, 429)
    elif isinstance(exc, aiohttp.ClientConnectorDNSError):
        error = HandshakeError(f"cannot resolve the host of {url}: {cause}")
        permanent = True
    elif isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = HandshakeError(f"TLS certificate check failed for {url}: {cause}")
        permanent = True
    elif isinstance(exc, aiohttp.InvalidURL):
        error = ConfigurationError(f"cannot connect to {url}: the URL is not valid")
        permanent = True
    elif isinstance(exc, (aiohttp.ClientError, OSError, asyncio.TimeoutError)):
        error = HandshakeError(f"cannot connect to {url}: {type(exc).__name__}: {cause}")
    elif isinstance(exc, (ValueError, TypeError)):
        error = ConfigurationError(f"cannot connect to {url}: {type(exc).__name__}: {exc}")
        permanent = True
    else:
        error = ConnectionLostError(f"connection to {url} failed: {type(exc).__name__}: {exc}")
    error.__cause__ = cause
    return error, permanent
