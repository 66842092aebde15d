"""The exception tree of datastores.

Everything the library raises on purpose derives from :class:`DatastoresError`::

    DatastoresError
    ├── ConfigurationError          bad credentials file/entry, bad arguments
    │   └── MissingDependencyError  an optional extra is needed (e.g. eth-account)
    ├── ExchangeAPIError            the exchange answered with an error
    │   ├── AuthenticationError     rejected credentials or signature
    │   └── RateLimitError          HTTP 429/418 or an exchange rate-limit code
    ├── TransportError              network failure (aiohttp errors are translated here)
    │   ├── ConnectionLostError     an established WebSocket went away
    │   └── HandshakeError          a WebSocket could not be opened at all
    ├── WebSocketAuthError          the exchange refused (or never answered) a WS login
    ├── StoreDesyncError            a book lost integrity (never raised into the WS loop)
    │   ├── SequenceGapError
    │   └── ChecksumMismatch
    └── StoreStreamOverflow         a slow watcher fell behind its bounded buffer

Messages name the exchange, the endpoint, channel or symbol, and what to do next.
They never contain secrets: every message passes through :func:`datastores._redact.redact`.
"""

from __future__ import annotations

from ._redact import redact

__all__ = [
    "AuthenticationError",
    "ChecksumMismatch",
    "ConfigurationError",
    "ConnectionLostError",
    "DatastoresError",
    "ExchangeAPIError",
    "HandshakeError",
    "MissingDependencyError",
    "RateLimitError",
    "SequenceGapError",
    "StoreDesyncError",
    "StoreStreamOverflow",
    "TransportError",
    "WebSocketAuthError",
]


class DatastoresError(Exception):
    """Base class of every error datastores raises on purpose.

    Text arguments pass through :func:`datastores._redact.redact`: the credential
    values of every live Client and signature-like values never reach ``str()``,
    ``repr()``, ``args`` or a traceback, even when a server echoes them.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigurationError(DatastoresError, ValueError):
    """Something the caller configured is unusable (credentials, arguments)."""


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional dependency is required for this feature.

    The message names the extra to install, e.g. ``pip install 'datastores[hyperliquid]'``.
    """


class ExchangeAPIError(DatastoresError, ValueError):
    """The exchange answered a request with an error.

    Also a ``ValueError``, which is what the reference library raised for an
    exchange error code in ``initialize()``: ported ``except ValueError`` code works.

    Attributes:
        exchange: exchange name (``"binance"``), or ``None`` when unknown.
        endpoint: ``METHOD path`` of the request.
        status: HTTP status, or ``None`` for WebSocket replies.
        code: the exchange's own error code, when it sent one.
        message: the exchange's own error message (or the body text), with
            credential and signature values replaced by ``<redacted>``.
    """

    def __init__(
        self,
        *,
        exchange: str | None,
        endpoint: str,
        status: int | None,
        code: object = None,
        message: str = "",
    ) -> None:
        # The server's own words may echo the request: redacted like the whole text.
        endpoint = redact(endpoint)
        message = redact(message)
        if isinstance(code, str):
            code = redact(code)
        self.exchange = exchange
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        where = f"{exchange} {endpoint}" if exchange else endpoint
        parts = [where]
        if status is not None:
            parts.append(f"HTTP {status}")
        if code is not None:
            parts.append(f"code {code}")
        text = ": ".join([", ".join(parts), message[:500] or "(no message)"])
        super().__init__(text)


class AuthenticationError(ExchangeAPIError):
    """The exchange rejected the credentials or the signature."""


class RateLimitError(ExchangeAPIError):
    """The exchange says requests are too frequent; back off before retrying.

    Attributes:
        retry_after: seconds the exchange asked to wait (its ``Retry-After``
            header), or ``None`` when it did not say. Background retries
            (:class:`datastores._background.Backoff`) wait at least this long.
    """

    def __init__(
        self,
        *,
        exchange: str | None,
        endpoint: str,
        status: int | None,
        code: object = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            exchange=exchange, endpoint=endpoint, status=status, code=code, message=message
        )
        self.retry_after = retry_after


class TransportError(DatastoresError):
    """The network failed; the original aiohttp/OS error is chained as ``__cause__``."""


class ConnectionLostError(TransportError):
    """An established WebSocket connection closed or stopped answering."""


class HandshakeError(TransportError):
    """A WebSocket could not be opened (DNS failure, refused, HTTP 4xx on upgrade)."""


class WebSocketAuthError(DatastoresError):
    """A WebSocket login was refused by the exchange, or no reply came in time."""


class StoreDesyncError(DatastoresError):
    """An order book lost integrity. Recorded in ``status()``; raised only on request."""


class SequenceGapError(StoreDesyncError):
    """An update did not follow the previous one by the exchange's sequence rule."""


class ChecksumMismatch(StoreDesyncError):
    """The local book's checksum differs from the exchange's."""


class StoreStreamOverflow(DatastoresError):
    """A watcher did not keep up; buffered changes were discarded.

    Re-read the store (it is always current) and keep iterating: the stream
    continues with changes made after the overflow.
    """

    def __init__(self, store_name: str, dropped: int) -> None:
        self.store_name = store_name
        self.dropped = dropped
        super().__init__(
            f"watcher of store {store_name!r} fell behind and lost {dropped} changes; "
            "re-read the store's current state, then keep iterating"
        )
