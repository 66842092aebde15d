"""bitbank's target for the command line (``datastores demo|watch|record --exchange bitbank``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from typing import Any

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: pair used when none is given
DEFAULT_SYMBOL = "btc_jpy"


def target(symbol: str) -> Target:
    """The ``depth`` book of a pair: rooms ``depth_whole_{pair}`` and ``depth_diff_{pair}``.

    Joining the whole room brings a whole book (then one every 15 s); diffs are
    applied when newer than it. A lost diff cannot be detected (one ``s`` counter
    for every pair, no checksum), so the demo's skipped diff stays until the next
    whole repairs it. https://github.com/bitbankinc/bitbank-api-docs/blob/master/public-stream.md
    """
    pair = symbol.lower().replace("-", "_").replace("/", "_")
    if "_" not in pair and pair.endswith("jpy") and len(pair) > 3:
        pair = f"{pair[:-3]}_jpy"  # btcjpy -> btc_jpy

    def stream_position(venue: Any, truth: Any) -> int | None:
        # The book's last_update_id is the ``s`` of the last diff applied.
        position: int | None = venue.profile.last_sequence.get(pair)
        return position

    return Target(
        exchange="bitbank",
        label="bitbank spot",
        symbol=pair,
        ws_url="wss://stream.bitbank.cc/socket.io/?EIO=4&transport=websocket",
        snapshot_url=None,
        store_class="datastores.exchanges.bitbank.store:bitbankDataStore",
        book_name="depth",
        fake_venue="bitbank",
        # Socket.IO events: the WebSocket protocol sends each as 42["join-room", ...]
        subscribe=[["join-room", f"depth_whole_{pair}"], ["join-room", f"depth_diff_{pair}"]],
        channel=f"depth_diff_{pair}",
        check_depth=None,
        stream_position=stream_position,
    )
