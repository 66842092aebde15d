"""Market-data shapes of the fake Bitget venue: book levels and checksum, the v1
200-level book window, trades and tickers (v2 and legacy v1).

Used by :mod:`.profile`; facts and links are in its docstring. Checksum:
https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel ; tickers:
https://www.bitget.com/api-doc/spot/websocket/public/Tickers-Channel and
https://bitgetlimited.github.io/apidoc/en/mix/#tickers-channel
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...market import MarketGenerator, MarketUpdate, Trade
from ._account import V1_OF, split

__all__ = [
    "CHECKSUM_LEVELS",
    "V1_DEPTH",
    "Levels",
    "Ticker",
    "V1Books",
    "bitget_checksum",
    "ticker_data",
    "trade_row",
    "wire_levels",
    "wire_size",
    "wrong_checksum",
]

#: levels of a v1 ``books`` book (the documented maximum)
V1_DEPTH = 200
#: levels per side that the checksum covers
CHECKSUM_LEVELS = 25
_RECENT_TRADES = 50

Levels = list[tuple[str, str]]


def bitget_checksum(bids: Levels, asks: Levels) -> int:
    """Bitget's book checksum: the signed CRC32 of the best 25 levels interleaved
    ``bid1px:bid1sz:ask1px:ask1sz:...`` (a shorter side's missing levels are
    skipped, so the longer side's rest follows), from the strings as sent."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def wrong_checksum(checksum: int) -> int:
    """A different checksum, never 0 (0 means "not verified" to clients)."""
    wrong = checksum ^ 0x5A5A5A5A
    return wrong if wrong else 1


def wire_size(size: str) -> str:
    """A delete is sent as ``"0"``, as Bitget does (the generator prints ``"0.0000"``)."""
    return "0" if not size.strip("0.") else size


def wire_levels(levels: Iterable[tuple[str, str]]) -> list[list[str]]:
    """``[(price, size)]`` -> ``[[price, size]]`` as Bitget sends them."""
    return [[price, wire_size(size)] for price, size in levels]


class V1Books:
    """The v1 ``books`` windows (200 levels) as last told to subscribers, per symbol."""

    def __init__(self) -> None:
        # symbol -> (bids, asks), each price -> size
        self._views: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._views

    def told(self, symbol: str, bids: Levels, asks: Levels) -> None:
        """Remember the snapshot just sent for ``symbol``."""
        self._views[symbol] = (dict(bids), dict(asks))

    def forget(self, symbol: str) -> None:
        """Drop ``symbol``'s window (nobody subscribes to it any more)."""
        self._views.pop(symbol, None)

    def changes(self, market: MarketGenerator) -> tuple[list[list[str]], list[list[str]]]:
        """What changed in the 200-level book of ``market`` since it was last told:
        ``(bids, asks)``; O(levels).

        Levels entering the window are sent with their size, levels leaving it as
        deletes, so a client's 200-level book stays equal to the exchange's.
        """
        result = []
        for view, side in zip(self._views[market.symbol], ("bid", "ask"), strict=True):
            new = dict(market.levels(side, V1_DEPTH))  # type: ignore[arg-type]
            changes = [[p, wire_size(s)] for p, s in new.items() if view.get(p) != s]
            changes += [[p, "0"] for p in view if p not in new]
            view.clear()
            view.update(new)
            result.append(changes)
        return result[0], result[1]


@dataclass(slots=True)
class Ticker:
    """Running statistics of one market since the fake started, and its recent trades."""

    open: str
    last: str
    high: Decimal
    low: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: deque[tuple[int, Trade]] = field(default_factory=lambda: deque(maxlen=_RECENT_TRADES))

    def record(self, update: MarketUpdate, now: int) -> None:
        """Account for the trades of ``update``, made at ``now`` (ms)."""
        for trade in update.trades:
            price = Decimal(trade.price)
            self.last = trade.price
            self.high = max(self.high, price)
            self.low = min(self.low, price)
            self.volume += Decimal(trade.size)
            self.quote_volume += Decimal(trade.size) * price
            self.trades.append((now, trade))


def trade_row(dialect: str, ts: int, trade: Trade) -> Any:
    """One trade as the ``trade`` channel of ``dialect`` (``"v2"``/``"v1"``) sends it."""
    side = "sell" if trade.buyer_is_maker else "buy"  # the taker's side
    if dialect == "v1":
        return [str(ts), trade.price, trade.size, side]
    return {"ts": str(ts), "price": trade.price, "size": trade.size, "side": side,
            "tradeId": str(trade.trade_id)}  # fmt: skip


def ticker_data(dialect: str, market: MarketGenerator, t: Ticker, now: int) -> dict[str, Any]:
    """The ``data`` item of a ``ticker`` push of ``dialect`` for ``market`` at ``now``."""
    (bid, bid_size), (ask, ask_size) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
    change = format((Decimal(t.last) / Decimal(t.open) - 1).quantize(Decimal("1e-6")), "f")
    high, low = format(t.high, "f"), format(t.low, "f")
    volume, quote = format(t.volume, "f"), format(t.quote_volume, "f")
    inst_type, inst_id = split(market.symbol)
    if dialect == "v1":
        return {
            "instId": inst_id, "last": t.last, "bestAsk": ask, "bestBid": bid,
            "bidSz": bid_size, "askSz": ask_size, "high24h": high, "low24h": low,
            "priceChangePercent": change, "capitalRate": "0.0001",
            "nextSettleTime": now + 3_600_000, "systemTime": now, "marketPrice": t.last,
            "indexPrice": t.last, "holding": "0", "baseVolume": volume,
            "quoteVolume": quote, "openUtc": t.open, "chgUTC": change, "symbolType": 1,
            "symbolId": f"{inst_id}_{V1_OF[inst_type]}", "deliveryPrice": "0",
        }  # fmt: skip
    data: dict[str, Any] = {
        "instId": inst_id, "lastPr": t.last, "open24h": t.open, "high24h": high,
        "low24h": low, "change24h": change, "bidPr": bid, "askPr": ask,
        "bidSz": bid_size, "askSz": ask_size, "baseVolume": volume,
        "quoteVolume": quote, "openUtc": t.open, "changeUtc24h": change,
        "ts": str(now),
    }  # fmt: skip
    if inst_type != "SPOT":
        data.update(indexPrice=t.last, markPrice=t.last, fundingRate="0.0001",
                    nextFundingTime=str(now + 3_600_000), holdingAmount="0")  # fmt: skip
    return data
