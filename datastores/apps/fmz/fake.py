"""``datastores fmz --fake``: the bridge in front of the built-in fake exchange.

Offline and without keys: the fake OKX (``datastores.testing``) publishes a
random-walk market on 127.0.0.1 and accepts its own test keys, so the bridge
answers ``curl`` and an FMZ agent exactly as it would with a real exchange.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .server import FMZBridge

__all__ = ["FAKE_KEYS", "FakeBridge", "fake_bridge"]

#: the test keys the fake accepts: (exchange, access key, secret key as entered on FMZ)
FAKE_KEYS: dict[str, tuple[str, str]] = {
    "OKX": ("fake-api-key", "fake-api-secret,fake-passphrase"),
}


@dataclass(frozen=True)
class FakeBridge:
    """A running bridge and the fake exchange behind it."""

    bridge: FMZBridge
    fake: Any  # datastores.testing.FakeExchange


@contextlib.asynccontextmanager
async def fake_bridge(*, rate: float = 5.0, **options: Any) -> AsyncIterator[FakeBridge]:
    """Start the fake OKX (``rate`` book updates per second), then a bridge whose
    clients are redirected to it; ``options`` are :class:`FMZBridge`'s."""
    from ...testing import FakeExchange

    async with FakeExchange("okx", rate=rate, seed=7) as fake:
        for name, venue in fake.venues.items():
            venue.paused = name != "okx"  # demo trading: nobody reads it
        fake.set_balance("USDT", "10000", venue="okx")
        fake.set_balance("BTC", "1", venue="okx")
        async with FMZBridge(client_kwargs={"redirects": fake.redirects}, **options) as bridge:
            yield FakeBridge(bridge, fake)
