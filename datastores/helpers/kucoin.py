"""KuCoin bullet tokens: connect a classic WebSocket with a token that stays valid.

The classic socket's URL carries a token from ``POST /api/v1/bullet-public`` (or
``bullet-private``, signed), valid 24 h for connecting; a reconnect needs a fresh
one, and the instance server may change
(https://www.kucoin.com/docs-new/websocket-api/base-info/introduction)::

    store = datastores.KuCoinDataStore()
    app = await datastores.helpers.kucoin.connect(
        client, store, send_json={"id": "1", "type": "subscribe",
                                  "topic": "/market/level2:BTC-USDT", "response": True},
    )

:func:`connect` fetches the bullet through ``store.initialize()`` (so
``store.endpoint`` is set as the reference library sets it), connects, and hands the
app to ``store.keep_connected()``: when the app cannot reconnect, or its token nears
24 h, the store fetches a new bullet and points the app at it. The tokenless UTA
socket (``wss://x-push-spot.kucoin.com``) needs none of this: ``client.ws_connect()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exchanges.kucoin._bullet import Bullet, bullet_url

if TYPE_CHECKING:
    from .._ws.app import WebSocketApp
    from ..exchanges.kucoin.store import KuCoinDataStore

__all__ = ["Bullet", "bullet_url", "connect", "fetch_bullet"]


async def fetch_bullet(
    client: Any, store: KuCoinDataStore, *, private: bool = False, futures: bool = False
) -> Bullet:
    """Fetch a bullet into ``store`` (``store.endpoint`` becomes its URL) and return it.

    The public bullet is requested unsigned; the private one is signed by ``client``
    (``apis={"kucoin": [key, secret, passphrase]}``).

    Raises:
        ExchangeAPIError: KuCoin refused (an error code, a bad signature...).
    """
    kwargs: dict[str, Any] = {} if private else {"auth": None}
    await store.initialize(client.post(bullet_url(private=private, futures=futures), **kwargs))
    bullet = store.bullet(private=private, futures=futures)
    assert bullet is not None  # initialize() raised otherwise
    return bullet


async def connect(
    client: Any,
    store: KuCoinDataStore,
    *,
    private: bool = False,
    futures: bool = False,
    **ws_kwargs: Any,
) -> WebSocketApp:
    """Fetch a bullet, connect to it with ``hdlr_json=store.onmessage`` (plus
    ``ws_kwargs``: ``send_json=`` subscriptions...) and keep its token valid.

    Returns the :class:`~datastores.WebSocketApp` once its first connection is open.
    """
    bullet = await fetch_bullet(client, store, private=private, futures=futures)
    app: WebSocketApp = await client.ws_connect(bullet.url, hdlr_json=store.onmessage, **ws_kwargs)
    store.keep_connected(app)
    return app
