"""The ``tickers`` channel of the fake OKX venues: running statistics per instrument.

The "24h" statistics run from the fake's start (or the instrument's first
ticker): open is the best bid then, high/low/last/volume follow the fake's
trades. https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-tickers-channel
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._account import inst_type

if TYPE_CHECKING:
    from ...fake import Venue
    from ...market import MarketUpdate

__all__ = ["Tickers"]


class _TickerState:
    __slots__ = ("high", "last", "last_size", "low", "open", "volume")

    def __init__(self, price: str) -> None:
        self.open = self.high = self.low = self.last = price
        self.last_size = "0"
        self.volume = Decimal()


class Tickers:
    """Ticker statistics of every instrument of ``venue``, built on first use."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self._states: dict[str, _TickerState] = {}

    def track(self, update: MarketUpdate) -> None:
        """Account for the trades of ``update`` (O(trades))."""
        state = self._state(update.symbol)
        for trade in update.trades:
            state.last, state.last_size = trade.price, trade.size
            if Decimal(trade.price) > Decimal(state.high):
                state.high = trade.price
            if Decimal(trade.price) < Decimal(state.low):
                state.low = trade.price
            state.volume += Decimal(trade.size)

    def _state(self, inst: str) -> _TickerState:
        state = self._states.get(inst)
        if state is None:
            bid = self.venue.markets[inst].best()[0]
            state = self._states[inst] = _TickerState(bid)
        return state

    def message(self, inst: str, now: int) -> dict[str, Any]:
        """The ``tickers`` push of ``inst`` at ``now`` (ms)."""
        market = self.venue.markets[inst]
        state = self._state(inst)
        (bid, bid_sz), (ask, ask_sz) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
        volume = format(state.volume.normalize(), "f")
        return {
            "arg": {"channel": "tickers", "instId": inst},
            "data": [
                {
                    "instType": inst_type(inst), "instId": inst, "last": state.last,
                    "lastSz": state.last_size, "askPx": ask, "askSz": ask_sz, "bidPx": bid,
                    "bidSz": bid_sz, "open24h": state.open, "high24h": state.high,
                    "low24h": state.low, "sodUtc0": state.open, "sodUtc8": state.open,
                    "volCcy24h": volume, "vol24h": volume, "ts": str(now),
                }
            ],
        }  # fmt: skip
