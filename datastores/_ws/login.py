"""The greeting and the login of one WebSocket connection (internal to WebSocketApp).

Run on every connection before the subscriptions: wait for the exchange's
greeting when it has one (KuCoin ``welcome``, the Socket.IO open packet), then
send the login and wait for its verdict. A refusal, an unanswered login or a
connection closed during the login raise :class:`WebSocketAuthError` with the
exchange's own reason, never a secret; frames that arrive meanwhile still reach
the handlers (the session's waiters see them too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import ConnectionLostError, WebSocketAuthError
from .protocol import LoginInput, LoginReply, safe_url
from .session import within

if TYPE_CHECKING:
    from yarl import URL

    from .._clock import Clock
    from .._credentials import Credentials
    from .protocol import WsProtocol
    from .session import Session
    from .stats import Counters

__all__ = ["greet", "log_in"]

logger = logging.getLogger("datastores.ws")


async def greet(
    session: Session, protocol: WsProtocol, url: URL, *, clock: Clock, counters: Counters
) -> None:
    """Wait for the protocol's greeting; a missing one is logged and not fatal.

    Raises:
        WebSocketAuthError: the greeting says the server refused us.
    """
    assert protocol.greeting is not None
    greeting = session.expect(protocol.greeting)
    try:
        verdict = await within(clock, greeting, protocol.greeting_timeout)
    except asyncio.TimeoutError:
        session.forget(greeting)
        logger.warning(
            "%s: no greeting from %s within %g s; subscribing anyway",
            session.name,
            protocol.exchange,
            protocol.greeting_timeout,
        )
        return
    if isinstance(verdict, LoginReply) and not verdict.ok:
        counters.auth_failed()
        raise WebSocketAuthError(
            f"{protocol.exchange} refused the WebSocket connection to {safe_url(url)}: "
            f"{verdict.message}"
        )


async def log_in(
    session: Session,
    protocol: WsProtocol,
    credentials: Credentials,
    url: URL,
    *,
    clock: Clock,
    counters: Counters,
    dropped_on_purpose: Callable[[], bool],
) -> None:
    """Send the login and wait for the exchange's verdict.

    ``dropped_on_purpose()`` tells whether a connection lost meanwhile was closed
    by the app itself (``reconnect()``): then it is a plain connection loss.

    Raises:
        WebSocketAuthError: refused, unanswered within ``login_timeout``, or the
            connection closed during the login (some exchanges refuse that way).
        ConnectionLostError: the app dropped the connection itself.
    """
    assert protocol.login is not None
    assert protocol.login_reply is not None
    exchange = protocol.exchange
    shown = safe_url(url)
    message = protocol.login(LoginInput.create(credentials, url, clock.time()))
    reply = session.expect(protocol.login_reply)
    await session.conn.enqueue(message)
    try:
        verdict = await within(clock, reply, protocol.login_timeout)
    except asyncio.TimeoutError:
        session.forget(reply)
        counters.auth_failed()
        raise WebSocketAuthError(
            f"{exchange} did not answer the WebSocket login on {shown} within "
            f"{protocol.login_timeout:g} s"
        ) from None
    except ConnectionLostError as exc:
        if dropped_on_purpose():  # reconnect() dropped it: not the exchange's doing
            raise
        counters.auth_failed()
        raise WebSocketAuthError(
            f"{exchange} closed the connection to {shown} during the WebSocket login "
            f"({session.describe_end()}); the login was probably refused: check the "
            "API key, secret, passphrase and the machine's clock"
        ) from exc
    if not verdict.ok:
        counters.auth_failed()
        raise WebSocketAuthError(
            f"{exchange} refused the WebSocket login on {shown}: "
            f"{verdict.message or '(no reason given)'}; check the API key, secret, "
            "passphrase, its permissions and the machine's clock"
        )
