"""The ``__api_<path>`` pass-through: which exchange endpoints the agent may reach.

``exchange.IO("api", verb, path, query)`` lets a strategy call any endpoint
with the bridge's keys; the FMZ guide's example forwarded every path, so one
line of strategy code could withdraw funds. The bridge forwards only paths
under each adapter's allow-list of prefixes (market data, trading, account:
:attr:`ExchangeAdapter.api_prefixes`) and, inside them, still refuses paths
that move money out of the account (withdrawals, transfers, sub-account and
deposit-address management, key management), unless the user starts it with
``allow_unsafe_api=True`` (``--allow-unsafe-api``).
"""

from __future__ import annotations

import re

__all__ = ["HTTP_METHODS", "UNSAFE_PATTERNS", "outside_reason", "unsafe_reason", "validate_path"]

#: verbs accepted in the ``Http-Method`` header
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})

#: path fragments (case-insensitive) of endpoints that move funds or manage keys,
#: on every exchange the bridge knows (OKX /api/v5/asset/withdrawal,
#: /api/v5/asset/transfer; Binance /sapi/v1/capital/withdraw/apply,
#: /sapi/v1/asset/transfer, /sapi/v1/sub-account/...; Bybit /v5/asset/withdraw/...;
#: Bitget /api/v2/spot/wallet/withdrawal...)
UNSAFE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("withdrawal", r"withdraw"),
        ("transfer", r"transfer"),
        ("sub-account", r"sub-?account|subaccount"),
        ("deposit address", r"deposit-?address"),
        ("API key management", r"api-?key|apikey"),
        ("lending and loans", r"/loan|/lending|/margin/loan|/margin/repay"),
        ("convert", r"/convert|/dust"),
    )
)

_PATH = re.compile(r"^/[A-Za-z0-9_./-]{1,200}$")


def validate_path(path: str) -> str | None:
    """Why ``path`` is not a plain endpoint path (``None``: it is one).

    Only ``/``-rooted paths of letters, digits, ``_ . - /`` are forwarded: no
    scheme or host (the request stays on the exchange's own host), no query
    (parameters come in ``params``), no ``..``.
    """
    if not _PATH.match(path) or ".." in path or "//" in path:
        return f"invalid api path {path[:80]!r}: expected a path such as /api/v5/account/balance"
    return None


def unsafe_reason(path: str) -> str | None:
    """The kind of unsafe endpoint ``path`` is (``None``: not one)."""
    for label, pattern in UNSAFE_PATTERNS:
        if pattern.search(path):
            return (
                f"api path {path[:80]!r} refused: {label} endpoints are disabled "
                "(start the bridge with --allow-unsafe-api to allow them)"
            )
    return None


def outside_reason(path: str, prefixes: tuple[str, ...]) -> str | None:
    """Why ``path`` is outside the allow-list ``prefixes`` (``None``: inside, or no list)."""
    if not prefixes or path.startswith(prefixes):
        return None
    return (
        f"api path {path[:80]!r} refused: outside the allowed paths ({', '.join(prefixes)}); "
        "start the bridge with --allow-unsafe-api to allow it"
    )
