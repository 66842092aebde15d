"""Test kit: fake exchanges on 127.0.0.1, fault injection, virtual time.

Documented in docs/testing.md. Used by the project's tests, the demo and the
benchmarks, and by users to test their bots offline.
"""

from __future__ import annotations

from ._clock import VirtualClock
from ._profile import ExchangeProfile, Publication
from .account import AccountEvent, FakeAccount, FakeBalance, FakeOrder, FakePosition
from .fake import FakeConnection, FakeExchange, RequestRecord, Venue, VenueStats
from .market import BookChange, FakeBook, MarketConfig, MarketGenerator, MarketUpdate, Trade

__all__ = [
    "AccountEvent",
    "BookChange",
    "ExchangeProfile",
    "FakeAccount",
    "FakeBalance",
    "FakeBook",
    "FakeConnection",
    "FakeExchange",
    "FakeOrder",
    "FakePosition",
    "MarketConfig",
    "MarketGenerator",
    "MarketUpdate",
    "Publication",
    "RequestRecord",
    "Trade",
    "Venue",
    "VenueStats",
    "VirtualClock",
]
