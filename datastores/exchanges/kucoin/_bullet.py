"""KuCoin bullet tokens: the classic WebSocket family's connection URL.

``POST /api/v1/bullet-public`` (no auth) or ``/api/v1/bullet-private`` (signed), on
``api.kucoin.com`` for spot/margin and ``api-futures.kucoin.com`` for futures, answers
``{"code": "200000", "data": {"token", "instanceServers": [{"endpoint",
"pingInterval", "pingTimeout", ...}]}}``. One connects to
``{endpoint}?token=...&connectId=...``; the token is valid 24 h *for connecting*
(https://www.kucoin.com/docs-new/websocket-api/base-info/introduction), so a
reconnect needs a fresh token, and the instance server it names may change.

:class:`BulletKeeper` keeps WebSocketApps on a valid token: a new bullet is fetched
and the apps' URL pointed at it when the server refuses the token (an error message
with code 401 on the connection, :meth:`BulletKeeper.refused`), when an app has been
found disconnected ``BULLET_DOWN_CHECKS`` checks in a row (``BULLET_CHECK_SECONDS``
apart: a refusal that never reaches the store keeps the app reconnecting forever),
and before the token is ``BULLET_MAX_AGE`` old. The kit's
:class:`~datastores._background.TokenKeepalive` runs the loop and retries.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from ..._background import Background, TokenKeepalive, retryable_errors
from ..._errors import ExchangeAPIError
from ..._http import read_response

__all__ = [
    "BULLET_CHECK_SECONDS",
    "BULLET_DOWN_CHECKS",
    "BULLET_MAX_AGE",
    "REST_HOSTS",
    "Bullet",
    "BulletKeeper",
    "BulletStale",
    "bullet_url",
    "parse_bullet",
    "real_url",
    "unwrap",
]

logger = logging.getLogger("datastores.exchanges.kucoin")

#: REST host of each market
REST_HOSTS = {"spot": "api.kucoin.com", "futures": "api-futures.kucoin.com"}
#: seconds between checks of a kept app
BULLET_CHECK_SECONDS = 10.0
#: checks in a row an app must be found disconnected before its bullet is replaced
#: (a refusal the store never sees as a message; a refused token announced by an
#: error message is replaced at once, see ``KuCoinDataStore``)
BULLET_DOWN_CHECKS = 3
#: a token older than this is replaced before it can be refused (valid 24 h)
BULLET_MAX_AGE = 23 * 3600.0
#: WebSocket hosts we speak to (the heartbeat table); preferred among instance servers
_KNOWN_WS_HOSTS = frozenset({"ws-api-spot.kucoin.com", "ws-api-futures.kucoin.com"})


def unwrap(data: Any, endpoint: str) -> Any:
    """The ``data`` of a KuCoin REST answer; raise on a code other than ``200000``.

    Raises:
        ExchangeAPIError: KuCoin's error code and message.
    """
    if isinstance(data, Mapping) and "code" in data:
        if str(data["code"]) != "200000":
            raise ExchangeAPIError(
                exchange="kucoin",
                endpoint=endpoint,
                status=200,
                code=data.get("code"),
                message=str(data.get("msg", "")),
            )
        return data.get("data")
    return data


def real_url(client: Any, url: URL) -> URL:
    """The real KuCoin REST URL behind ``url``, which may be a redirect target (the
    fake exchange): the Client signs by real host and applies redirects after."""
    if url.host in REST_HOSTS.values():
        return url
    redirects: Mapping[str, Any] = getattr(client, "redirects", None) or {}
    for host, base in redirects.items():
        base = base if isinstance(base, URL) else URL(str(base))
        if host in REST_HOSTS.values() and base.host == url.host and base.port == url.port:
            return URL.build(
                scheme="https",
                host=host,
                path=url.raw_path,
                query_string=url.raw_query_string,
                encoded=True,
            )
    return url


def bullet_url(*, private: bool = False, futures: bool = False) -> URL:
    """``POST`` URL of the bullet endpoint for the market and channel kind."""
    host = REST_HOSTS["futures" if futures else "spot"]
    return URL.build(
        scheme="https", host=host, path=f"/api/v1/bullet-{'private' if private else 'public'}"
    )


@dataclass(frozen=True, slots=True)
class Bullet:
    """One bullet: where and how to connect.

    Attributes:
        url: ``{endpoint}?token=...&acceptUserMessage=true&connectId=...`` (holds the
            token: never log it; ``safe_url`` masks the query).
        endpoint: the instance server's URL, without the token.
        ping_interval, ping_timeout: seconds, as the server advertised them.
        private, futures: which bullet endpoint it came from.
        created: the Client clock's time when it was received.
    """

    url: str
    endpoint: str
    ping_interval: float | None
    ping_timeout: float | None
    private: bool
    futures: bool
    created: float

    def __repr__(self) -> str:  # the token stays out of reprs
        kind = f"{'private' if self.private else 'public'} {'futures' if self.futures else 'spot'}"
        return f"<Bullet {kind} {self.endpoint}>"


def parse_bullet(data: Any, *, private: bool, futures: bool, now: float) -> Bullet:
    """A :class:`Bullet` from the bullet response's ``data``. The instance server is
    the first one on a host we know, else the first.

    Raises:
        ValueError: no token or no instance server.
    """
    try:
        token = data["token"]
        servers = [s for s in data["instanceServers"] if isinstance(s, Mapping)]
    except (KeyError, TypeError):
        raise ValueError("not a bullet response (no token or instanceServers)") from None
    if not isinstance(token, str) or not token or not servers:
        raise ValueError("not a bullet response (no token or instanceServers)")
    server = next(
        (s for s in servers if URL(str(s.get("endpoint", ""))).host in _KNOWN_WS_HOSTS),
        servers[0],
    )
    endpoint = str(server.get("endpoint", ""))
    if not endpoint.startswith(("wss://", "ws://")):
        raise ValueError("not a bullet response (instance server without a wss endpoint)")
    url = URL(endpoint).with_query(
        {"token": token, "acceptUserMessage": "true", "connectId": uuid.uuid4().hex}
    )

    def seconds(key: str) -> float | None:
        value = server.get(key)
        return value / 1000.0 if isinstance(value, int | float) else None

    return Bullet(
        str(url),
        endpoint,
        seconds("pingInterval"),
        seconds("pingTimeout"),
        private,
        futures,
        now,
    )


class BulletStale(Exception):
    """The kept app cannot use its token any more (not connected, or too old)."""


def _is_stale(error: BaseException) -> bool:
    return isinstance(error, BulletStale)


class BulletKeeper:
    """Keeps one bullet kind (public/private, spot/futures) current for its apps.

    ``install(bullet)`` is called with each new bullet (the collection's
    ``endpoint`` follows it). Apps given to :meth:`attach` get their ``url`` set to
    each new bullet and are reconnected at once when they were not connected.
    """

    def __init__(
        self,
        background: Background,
        *,
        private: bool,
        futures: bool,
        on_new: Callable[[Bullet], object],
    ) -> None:
        self.background = background
        self.private = private
        self.futures = futures
        self.bullet: Bullet | None = None
        self.apps: list[Any] = []
        self._on_new = on_new
        self._down_checks = 0
        kind = f"{'private' if private else 'public'}-{'futures' if futures else 'spot'}"
        self.keepalive: TokenKeepalive[Bullet] = TokenKeepalive(
            background,
            f"kucoin bullet {kind}",
            interval=BULLET_CHECK_SECONDS,
            refresh=self._check,
            create=self._create,
            install=self.install,
            expired=_is_stale,
            backoff=(1.0, 60.0),
            retry_on=(*retryable_errors(), BulletStale),
        )

    def install(self, bullet: Bullet) -> None:
        """Use ``bullet`` from now on: the apps' next connection goes to its URL."""
        self.bullet = bullet
        self._down_checks = 0
        self._on_new(bullet)
        for app in list(self.apps):
            if getattr(app, "closed", False):
                self.apps.remove(app)
                continue
            app.url = bullet.url
            if getattr(app, "current_ws", None) is None:
                # Reconnecting on a refused token: try the new one now, not after backoff.
                self.background.spawn(app.reconnect(), "kucoin reconnect on a new bullet")
        logger.info("KuCoinDataStore: new bullet for %r", bullet)

    def attach(self, app: Any) -> bool:
        """Keep ``app``'s token current. Returns whether the check loop runs."""
        if app not in self.apps:
            self.apps.append(app)
        return self.keepalive.start()

    def owns(self, url: Any) -> bool:
        """Whether ``url`` (a connection's URL) carries this keeper's current token."""
        bullet = self.bullet
        if bullet is None:
            return False
        token = URL(str(url)).query.get("token")
        return token is not None and token == URL(bullet.url).query.get("token")

    def refused(self) -> bool:
        """The server refused the current token: fetch a new bullet now (once).
        Returns whether a renewal runs."""
        return self.keepalive.renew()

    async def _check(self) -> None:
        self.apps = [app for app in self.apps if not getattr(app, "closed", False)]
        if not self.apps:
            return
        bullet = self.bullet
        if bullet is None or self.background.clock.time() - bullet.created > BULLET_MAX_AGE:
            raise BulletStale("token too old")
        if any(getattr(app, "current_ws", None) is None for app in self.apps):
            self._down_checks += 1
            if self._down_checks >= BULLET_DOWN_CHECKS:
                raise BulletStale("the app cannot reconnect")
        else:
            self._down_checks = 0

    async def _create(self) -> Bullet:
        client = self.background.client
        if client is None:
            raise BulletStale("no Client to fetch a bullet with")
        url = bullet_url(private=self.private, futures=self.futures)
        # The public bullet is unsigned; the private one is signed by the Client.
        kwargs: dict[str, Any] = {} if self.private else {"auth": None}
        resp = await client.post(url, **kwargs)
        data = await read_response(resp, exchange="kucoin")
        return parse_bullet(
            unwrap(data, f"POST {url.path}"),
            private=self.private,
            futures=self.futures,
            now=self.background.clock.time(),
        )
