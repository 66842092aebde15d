"""bitFlyer's target for the command line (``datastores demo|watch|record --exchange bitflyer``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: product used when none is given
DEFAULT_SYMBOL = "FX_BTC_JPY"


def _subscriptions(product_code: str) -> list[dict[str, Any]]:
    channels = [f"lightning_board_snapshot_{product_code}", f"lightning_board_{product_code}"]
    return [
        {"jsonrpc": "2.0", "method": "subscribe", "params": {"channel": channel}, "id": n}
        for n, channel in enumerate(channels, 1)
    ]


def _snapshot_position(venue: Any, truth: Any) -> int | None:
    # bitFlyer sends no ids: the book's last_update_id counts the snapshots of the
    # current connection. The fake sends the next periodic snapshot now (a still
    # market gets them too); once the book has it, it has everything before it.
    profile: Any = venue.profile
    position: int | None = profile.publish_snapshot(truth.symbol)
    return position


def target(symbol: str) -> Target:
    """The board of ``symbol`` (snapshot and diff channels, both kept subscribed)."""
    symbol = symbol.upper()
    return Target(
        exchange="bitflyer",
        label="bitFlyer Lightning",
        symbol=symbol,
        ws_url="wss://ws.lightstream.bitflyer.com/json-rpc",
        snapshot_url=None,
        store_class="datastores.exchanges.bitflyer.store:bitFlyerDataStore",
        book_name="board",
        fake_venue="bitflyer",
        subscribe=_subscriptions(symbol),
        channel=f"lightning_board_{symbol}",
        # Levels past the snapshot's 300 are known only once a diff touches them.
        check_depth=200,
        # mid_price is checked like a checksum: the demo sends a wrong one.
        checksum=True,
        fake_rate=300.0,
        stream_position=_snapshot_position,
    )
