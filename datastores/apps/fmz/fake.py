"""``datastores fmz --fake``: the bridge in front of the built-in fake exchanges.

Offline and without keys: the fake OKX, Binance (spot and USDⓈ-M), Bybit (spot
and linear) and Bitget (spot and USDT futures) of ``datastores.testing`` publish
random-walk markets on 127.0.0.1, match orders against their books and accept
their own test keys, so the bridge answers ``curl`` and an FMZ agent exactly as
it would with the real exchanges.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .server import FMZBridge

__all__ = ["FAKE_KEYS", "PROFILES", "VENUES", "FakeBridge", "fake_bridge"]

#: the test keys the fake accepts: (exchange, access key, secret key as entered on FMZ)
FAKE_KEYS: dict[str, tuple[str, str]] = {
    "OKX": ("fake-api-key", "fake-api-secret,fake-passphrase"),
    "Binance": ("fake-api-key", "fake-api-secret"),
    "BinanceFutures": ("fake-api-key", "fake-api-secret"),
    "Bybit": ("fake-api-key", "fake-api-secret"),
    "Bitget": ("fake-api-key", "fake-api-secret,fake-passphrase"),
    "BitgetFutures": ("fake-api-key", "fake-api-secret,fake-passphrase"),
}
#: the fake venues served, and the balances each account starts with
VENUES: dict[str, dict[str, str]] = {
    "okx": {"USDT": "10000", "BTC": "1"},
    "binance-spot": {"USDT": "10000", "BTC": "1"},
    "binance-usdsm": {"USDT": "10000"},
    "bybit-spot": {"USDT": "10000", "BTC": "1"},
    "bybit-linear": {"USDT": "10000"},
    # one Bitget venue: spot balances by coin, the futures account as "USDT-FUTURES:<coin>"
    "bitget": {"USDT": "10000", "BTC": "1", "USDT-FUTURES:USDT": "10000"},
}
#: the fake exchanges' profiles started
PROFILES = ["okx", "binance-spot", "binance-usdsm", "bybit", "bitget"]


@dataclass(frozen=True)
class FakeBridge:
    """A running bridge and the fake exchange behind it."""

    bridge: FMZBridge
    fake: Any  # datastores.testing.FakeExchange


@contextlib.asynccontextmanager
async def fake_bridge(*, rate: float = 5.0, **options: Any) -> AsyncIterator[FakeBridge]:
    """Start the fake OKX, Binance, Bybit and Bitget (``rate`` book updates per second),
    then a bridge whose clients are redirected to them; ``options`` are
    :class:`FMZBridge`'s."""
    from ...testing import FakeExchange

    async with FakeExchange(PROFILES, rate=rate, seed=7) as fake:
        for name, venue in fake.venues.items():
            venue.paused = name not in VENUES  # e.g. OKX demo trading: nobody reads it
        for name, balances in VENUES.items():
            for asset, amount in balances.items():
                fake.set_balance(asset, amount, venue=name)
        async with FMZBridge(client_kwargs={"redirects": fake.redirects}, **options) as bridge:
            yield FakeBridge(bridge, fake)
