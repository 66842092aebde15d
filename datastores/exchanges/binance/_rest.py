"""Binance REST for background work: depth snapshots, listenKey requests, real hosts.

The work itself (one snapshot fetch per symbol, backoff, the listenKey keepalive)
runs on the core: :mod:`datastores._recovery` and :mod:`datastores._background`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yarl import URL

from ..._errors import ExchangeAPIError
from ..._http import read_response

__all__ = [
    "LISTENKEY_KEEPALIVE_SECONDS",
    "get_json",
    "is_missing_listenkey",
    "real_binance_url",
    "request_json",
]

#: hosts that are Binance's own (REST); a URL on another host came through a
#: redirect (a fake exchange) or a proxy.
BINANCE_REST_HOSTS = frozenset(
    {
        "api.binance.com",
        "api-gcp.binance.com",
        "api1.binance.com",
        "api2.binance.com",
        "api3.binance.com",
        "api4.binance.com",
        "data-api.binance.vision",
        "testnet.binance.vision",
        "demo-api.binance.com",
        "fapi.binance.com",
        "demo-fapi.binance.com",
        "testnet.binancefuture.com",
        "dapi.binance.com",
    }
)

#: listenKey: valid 60 minutes; Binance recommends a keepalive about every 30.
#: https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Keepalive-User-Data-Stream
LISTENKEY_KEEPALIVE_SECONDS = 1800.0
#: Binance's code for "This listenKey does not exist." (expired): create a new one.
LISTENKEY_MISSING_CODE = -1125


def real_binance_url(client: Any, url: URL, default_host: str) -> URL:
    """The real Binance URL behind ``url`` (which may point at a redirect target).

    Signed requests must name the real host (signers are chosen by host and the
    client applies its redirects after signing). A URL on a Binance host is
    returned as it is; otherwise the client's redirects are searched backwards,
    and failing that ``default_host`` is used.
    """
    if url.host in BINANCE_REST_HOSTS:
        return url
    path = url.raw_path
    candidates: list[str] = []
    redirects: Mapping[str, URL] = getattr(client, "redirects", None) or {}
    for host, base in redirects.items():
        base = URL(base) if not isinstance(base, URL) else base
        if base.host == url.host and base.port == url.port:
            prefix = base.raw_path.rstrip("/")
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
            candidates.append(host)
    host = default_host if default_host in candidates or not candidates else candidates[0]
    return URL.build(
        scheme="https", host=host, path=path, query_string=url.raw_query_string, encoded=True
    )


def is_missing_listenkey(exc: BaseException) -> bool:
    """Whether ``exc`` is Binance's "This listenKey does not exist." (-1125): expired."""
    if not isinstance(exc, ExchangeAPIError):
        return False
    code: Any = exc.code
    try:
        return int(code) == LISTENKEY_MISSING_CODE
    except (TypeError, ValueError):
        return False


async def get_json(client: Any, url: URL) -> Any:
    """GET ``url`` unsigned and decode it; raise ExchangeAPIError/RateLimitError on errors."""
    resp = await client.get(url, auth=None)
    return await read_response(resp, exchange="binance")


async def request_json(client: Any, method: str, url: URL, **kwargs: Any) -> Any:
    """Send a signed request and decode it; raise ExchangeAPIError on an error status."""
    resp = await client.request(method, url, **kwargs)
    return await read_response(resp, exchange="binance")
