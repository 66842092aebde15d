"""Exchange registry: one package per exchange, discovered by name.

Each package ``datastores.exchanges.<name>`` may hold:

* ``signing.py`` defining ``HTTP_AUTH`` (a :class:`datastores._signing.HttpAuth`,
  or a list of them);
* ``wsproto.py`` defining ``WS_PROTOCOL`` (a ``datastores._ws.WsProtocol`` or a list);
* ``store.py`` with the exchange's DataStoreCollection(s).

Adding an exchange means adding its package and its name to ``EXCHANGES``.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

__all__ = ["EXCHANGES", "http_auth_by_host", "ws_protocol_by_host"]

EXCHANGES: tuple[str, ...] = (
    "bitflyer",
    "gmocoin",
    "bitbank",
    "coincheck",
    "okj",
    "bittrade",
    "bybit",
    "binance",
    "okx",
    "phemex",
    "bitget",
    "mexc",
    "kucoin",
    "bitmex",
    "hyperliquid",
)


def _collect(module_name: str, attribute: str) -> list[Any]:
    found: list[Any] = []
    for exchange in EXCHANGES:
        try:
            module = importlib.import_module(f"{__name__}.{exchange}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{__name__}.{exchange}"):
                continue
            raise
        value = getattr(module, attribute, None)
        if value is None:
            continue
        found.extend(value if isinstance(value, (list, tuple)) else [value])
    return found


@cache
def http_auth_by_host() -> dict[str, Any]:
    """Host -> ``HttpAuth`` for every exchange that signs HTTP requests."""
    table: dict[str, Any] = {}
    for auth in _collect("signing", "HTTP_AUTH"):
        for host in auth.hosts:
            if host in table:
                raise RuntimeError(f"host {host!r} is registered twice (HTTP signing)")
            table[host] = auth
    return table


@cache
def ws_protocol_by_host() -> dict[str, Any]:
    """Host -> WebSocket protocol (auth, heartbeat, limits) for every exchange."""
    table: dict[str, Any] = {}
    for proto in _collect("wsproto", "WS_PROTOCOL"):
        for host in proto.hosts:
            if host in table:
                raise RuntimeError(f"host {host!r} is registered twice (WebSocket)")
            table[host] = proto
    return table
