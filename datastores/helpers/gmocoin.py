"""GMO Coin's private WebSocket access token: create, extend, re-create, follow in the URL.

The private stream is ``wss://api.coin.z.com/ws/private/v1/<token>``; a token lives
60 minutes unless extended (https://api.coin.z.com/docs/en/#ws-auth-post ,
#ws-auth-put). The weekly maintenance (about two hours) outlives every token
(reference: pybotters issue #278), so after it the stream can only be reopened
with a new one. :meth:`GMOCoinHelper.manage_ws_token` does all of it::

    async with datastores.Client(apis={"gmocoin": [KEY, SECRET]}) as client:
        helper = GMOCoinHelper(client)
        token = await helper.create_access_token()
        store = datastores.GMOCoinDataStore()
        app = await client.ws_connect(
            f"wss://api.coin.z.com/ws/private/v1/{token}",
            send_json=[{"command": "subscribe", "channel": "orderEvents"}],
            hdlr_json=store.onmessage,
        )
        asyncio.create_task(helper.manage_ws_token(app, token))

Every ``delay`` seconds the token is extended. When GMO Coin refuses the extension
(the token is gone) a new token is created, ``app.url`` is rewritten to it, and an
app waiting to reconnect (with the refused token) reconnects at once; a live
connection is left alone (the next reconnection uses the new URL). During a
maintenance (``ERR-5201``/``ERR-5202``) and on network errors the extension is
retried with backoff (5 s doubling to 300 s), on the Client's clock.
"""

from __future__ import annotations

import logging
from typing import Any

from .._background import Background, TokenKeepalive
from ..exchanges.gmocoin._rest import (
    GMOCoinResponseError,
    create_token,
    delete_token,
    extend_token,
    is_token_refused,
    token_of,
    with_token,
)

__all__ = ["GMOCoinHelper", "GMOCoinResponseError"]

logger = logging.getLogger("datastores.helpers.gmocoin")


class GMOCoinHelper:
    """GMO Coin access-token chores on one :class:`datastores.Client`.

    The client needs ``gmocoin`` credentials (the key must have the WebSocket
    permissions it will subscribe to). Requests go to the real host through the
    client (its ``redirects`` and ``base_url`` apply), signed.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._background = Background(type(self).__name__, lambda: self.client)
        self._managed = 0

    def __repr__(self) -> str:
        return f"<GMOCoinHelper managing={self._managed}>"

    async def create_access_token(self) -> str:
        """``POST /private/v1/ws-auth``: a new token (60 minutes).

        Raises:
            GMOCoinResponseError: GMO Coin refused (``code`` is its ``message_code``).
            ExchangeAPIError: an HTTP error status.
        """
        return await create_token(self.client)

    async def extend_access_token(self, token: str) -> None:
        """``PUT /private/v1/ws-auth``: ``token`` is valid 60 minutes from now.

        Raises:
            GMOCoinResponseError: GMO Coin refused (an expired or unknown token...).
        """
        await extend_token(self.client, token)

    async def delete_access_token(self, token: str) -> None:
        """``DELETE /private/v1/ws-auth``: remove ``token`` (at most 5 live per key)."""
        await delete_token(self.client, token)

    async def manage_ws_token(self, ws_app: Any, token: str, delay: float = 300.0) -> None:
        """Keep ``ws_app`` (a WebSocketApp on the private stream) on a valid token.

        Extends ``token`` every ``delay`` seconds; when GMO Coin refuses, creates a
        new one (retried until it succeeds), sets ``ws_app.url`` to it and, if the
        app is between connections, makes it reconnect now. Returns when the app
        is closed (or its Client); cancel the task to stop sooner.
        """
        state = _ManagedToken(ws_app, token)
        self._managed += 1
        keepalive: TokenKeepalive[str] = TokenKeepalive(
            self._background,
            f"GMO Coin access token #{self._managed}",
            interval=delay,
            refresh=lambda: self.extend_access_token(state.token),
            create=self.create_access_token,
            install=lambda new: state.install(new, self._background),
            expired=is_token_refused,
        )
        keepalive.start()
        try:
            await ws_app.wait()
        finally:
            keepalive.stop()


class _ManagedToken:
    """The token one app uses, and how a new one reaches the app."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    def install(self, token: str, background: Background) -> None:
        self.token = token
        app = self.app
        if token_of(app.url) is None:
            logger.warning("GMOCoinHelper: the app's URL is not a private-stream URL; not changed")
            return
        app.url = with_token(app.url, token)
        logger.info("GMOCoinHelper: new access token in the private-stream URL")
        if app.current_ws is None:
            # Waiting to reconnect (maybe backing off after the old token was refused).
            background.spawn(app.reconnect(), "reconnect with the new token")
