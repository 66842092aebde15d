"""The Client's session settings: REST timeout, connection limits, the redirect guard.

Small pieces :class:`datastores.Client` builds its two aiohttp sessions with
(REST, and WebSockets in a pool of their own) and wraps signed requests in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from ._errors import ConfigurationError, TransportError

if TYPE_CHECKING:
    pass

__all__ = [
    "DEFAULT_HTTP_CONNECTIONS",
    "DEFAULT_REQUEST_TIMEOUT",
    "client_timeout",
    "connection_limit",
    "same_origin_guard",
]

#: Seconds a REST request may take in all (connect, send, redirects, read the body)
#: unless ``Client(timeout=...)`` or the request's ``timeout=`` says otherwise.
#: aiohttp's own default, 300 s, left ``initialize()`` hanging on a silent server.
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Connections the REST pool may hold at once (aiohttp's default limit). WebSockets
#: have their own pool (``ws_connections``), so open sockets never make REST wait.
DEFAULT_HTTP_CONNECTIONS = 100


def connection_limit(name: str, value: object) -> int:
    """aiohttp's ``limit`` for our ``None``-means-unlimited count (0 is its "no limit").

    Raises:
        ConfigurationError: not a positive ``int`` or ``None`` (``name`` is the argument).
    """
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ConfigurationError(f"{name}= must be a positive number of connections or None")


def client_timeout(value: object) -> aiohttp.ClientTimeout:
    """The REST session's timeout from ``Client(timeout=...)``.

    ``None`` gives :data:`DEFAULT_REQUEST_TIMEOUT` in all; a positive number is the
    total in seconds; an :class:`aiohttp.ClientTimeout` is kept as is.

    Raises:
        ConfigurationError: anything else.
    """
    if value is None:
        return aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT)
    if isinstance(value, aiohttp.ClientTimeout):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return aiohttp.ClientTimeout(total=float(value))
    raise ConfigurationError(
        "timeout= must be an aiohttp.ClientTimeout or a positive number of seconds (the "
        f"total per request), got {value!r}"
    )


def same_origin_guard(
    method: str, real_url: URL, credential_name: str | None
) -> aiohttp.ClientMiddlewareType:
    """An aiohttp middleware refusing any hop of a signed request to another origin.

    aiohttp calls it for the first request and for every redirect it follows. The
    first hop's origin (scheme, host, port: the stand-in's under ``redirects``) is
    the only one allowed, so a redirect elsewhere fails before anything is sent.
    """
    allowed: list[URL] = []
    last_status: list[int] = []

    async def guard(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        origin = request.url.origin()
        if not allowed:
            allowed.append(origin)
        elif origin != allowed[0]:
            shown = f"{real_url.scheme}://{real_url.host}{real_url.raw_path}"
            status = f"{last_status[-1]} " if last_status else ""
            raise TransportError(
                f"{method} {shown}: refused to follow a {status}redirect to another origin "
                f"({origin}): the request is signed with the {credential_name!r} credentials, "
                f"which are only sent to {allowed[0]}; nothing was sent to {origin}"
            )
        response = await handler(request)
        last_status.append(response.status)
        return response

    return guard
