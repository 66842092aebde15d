"""``connect()``: open a :class:`~datastores._ws.app.WebSocketApp`, register it with its
client, and return it once it is logged in and subscribed (what ``Client.ws_connect``
calls)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yarl import URL

from .app import DEFAULT_HEARTBEAT, WebSocketApp
from .connection import AUTH_DEFAULT
from .session import Handler

__all__ = ["connect"]


async def connect(
    client: Any,
    url: str | URL,
    *,
    send_str: str | Sequence[str] | None = None,
    send_bytes: bytes | Sequence[bytes] | None = None,
    send_json: Any = None,
    hdlr_str: Handler | Sequence[Handler] | None = None,
    hdlr_bytes: Handler | Sequence[Handler] | None = None,
    hdlr_json: Handler | Sequence[Handler] | None = None,
    auth: Any = AUTH_DEFAULT,
    heartbeat: float | None = DEFAULT_HEARTBEAT,
    **kwargs: Any,
) -> WebSocketApp:
    """Open a :class:`WebSocketApp` and return it once it is logged in and subscribed.

    ``client`` provides ``session``, ``credentials``, ``clock``, ``resolve_url`` and
    ``add_closer`` (a :class:`datastores.Client`). Extra keyword arguments:
    ``backoff`` (:class:`Backoff`, or pybotters' ``(min, max, factor, initial)``
    tuple: :meth:`Backoff.from_tuple`), ``liveness_timeout`` (seconds of silence before
    reconnecting, ``None`` to disable), ``autoping`` (answer server pings, default
    on), ``handshake_timeout`` (client-clock seconds per handshake attempt, default
    ``HANDSHAKE_TIMEOUT`` = 30; each attempt that fails is logged at WARNING with
    how many remain), ``max_pending_handlers`` (coroutine handler tasks in flight
    before the reader waits, default ``DEFAULT_MAX_PENDING_HANDLERS`` = 1000; see
    :mod:`datastores._ws.backpressure`); anything else goes to
    ``aiohttp.ClientSession.ws_connect`` on every attempt.

    Raises:
        HandshakeError: the first connection failed permanently (DNS, HTTP 4xx on
            the upgrade), or transiently ``FIRST_CONNECT_ATTEMPTS`` times.
        ConnectionLostError: the server closed it before it was ready, that many times.
        WebSocketAuthError: the exchange refused (or never answered) the login on
            the first connection.
        ConfigurationError: bad arguments.
    """
    app = WebSocketApp(
        client,
        url,
        send_str=send_str,
        send_bytes=send_bytes,
        send_json=send_json,
        hdlr_str=hdlr_str,
        hdlr_bytes=hdlr_bytes,
        hdlr_json=hdlr_json,
        auth=auth,
        heartbeat=heartbeat,
        **kwargs,
    )
    client.add_closer(app)
    ready = app._start()
    try:
        await ready
    except BaseException:
        await app.close()
        raise
    return app
