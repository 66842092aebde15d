"""Test kit: fake exchanges on 127.0.0.1, fault injection, virtual time.

Documented in docs/testing.md. Used by the project's tests, the demo and the
benchmarks, and by users to test their bots offline.
"""

from __future__ import annotations

from ._clock import VirtualClock
from ._profile import ExchangeProfile, Publication
from ._signed_server import SignedServer
from ._verify import FakeKey, Rejected
from ._ws_dialects import Dialect, LoginCheck
from ._ws_servers import ReceivedFrame, ServerConnection, WsTestServer
from .account import AccountEvent, FakeAccount, FakeBalance, FakeOrder, FakePosition
from .fake import FakeConnection, FakeExchange, RequestRecord, Venue, VenueStats
from .market import BookChange, FakeBook, MarketConfig, MarketGenerator, MarketUpdate, Trade
from .orders import Instrument, MatchingEngine, OrderRejected, OrderRequest
from .profiles import dialects

DIALECTS: dict[str, type[Dialect]] = dialects()
"""WebSocket dialect classes by exchange name (``Dialect`` itself is ``"plain"``), found in
``datastores/testing/profiles/<exchange>/dialect.py``."""

__all__ = [
    "DIALECTS",
    "AccountEvent",
    "BookChange",
    "Dialect",
    "ExchangeProfile",
    "FakeAccount",
    "FakeBalance",
    "FakeBook",
    "FakeConnection",
    "FakeExchange",
    "FakeKey",
    "FakeOrder",
    "FakePosition",
    "Instrument",
    "LoginCheck",
    "MarketConfig",
    "MarketGenerator",
    "MarketUpdate",
    "MatchingEngine",
    "OrderRejected",
    "OrderRequest",
    "Publication",
    "ReceivedFrame",
    "Rejected",
    "RequestRecord",
    "ServerConnection",
    "SignedServer",
    "Trade",
    "Venue",
    "VenueStats",
    "VirtualClock",
    "WsTestServer",
]
