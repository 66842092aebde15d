"""How a failed connection attempt maps to our errors, and whether retrying can help."""

from __future__ import annotations

import asyncio

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

__all__ = ["translate_failure"]


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
