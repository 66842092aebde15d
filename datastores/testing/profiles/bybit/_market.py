"""Market data of the Bybit V5 fake: order-book topics, trades and tickers.

:class:`BybitMarketData` is the base of the Bybit profiles
(:mod:`datastores.testing.profiles.bybit`); it keeps, per ``orderbook.{depth}``
topic, the window of the book its subscribers hold, and turns each market
update into the messages Bybit would push. Facts and links are in the
``bybit`` module's docstring.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from ..._profile import ExchangeProfile, Publication
from ...market import MarketGenerator, MarketUpdate, Trade

if TYPE_CHECKING:
    from ...fake import Venue

__all__ = ["FIRST_U", "BybitMarketData", "levels", "plain"]

#: the ``u`` of a topic before its first message (``u == 1`` means "restart" to clients)
FIRST_U = 100_000
_FUNDING_INTERVAL_MS = 8 * 3600 * 1000
#: public trades kept per symbol for ``GET /v5/market/recent-trade`` (linear's maximum)
RECENT_TRADES = 1000


def levels(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """``[(price, size)]`` -> ``[[price, size]]``, Bybit's level shape."""
    return [[price, size] for price, size in pairs]


def _is_zero(size: str) -> bool:
    return not size.strip("0.")


def plain(value: Decimal) -> str:
    """A decimal as a plain string (``"0.5"``, ``"12"``), never in exponent form."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(slots=True)
class _View:
    """The top ``depth`` levels of one ``orderbook.{depth}`` topic as last published."""

    symbol: str
    depth: int
    bids: dict[str, str]
    asks: dict[str, str]


@dataclass(slots=True)
class _Ticker:
    """Running 24h statistics of one symbol (from the fake's trades)."""

    prev_24h: str
    last: str
    high: str
    low: str
    volume: Decimal = Decimal(0)
    turnover: Decimal = Decimal(0)
    direction: str = "ZeroPlusTick"
    #: the fields last published on ``tickers`` (deltas are computed against them)
    sent: dict[str, str] = field(default_factory=dict)

    def trade(self, trade: Trade) -> str:
        """Account for one trade; returns its tick direction."""
        price = Decimal(trade.price)
        last = Decimal(self.last)
        if price > last:
            self.direction = "PlusTick"
        elif price < last:
            self.direction = "MinusTick"
        elif self.direction in ("PlusTick", "MinusTick"):
            self.direction = "Zero" + self.direction
        size = Decimal(trade.size)
        self.volume += size
        self.turnover += size * price
        self.last = trade.price
        if price > Decimal(self.high):
            self.high = trade.price
        if price < Decimal(self.low):
            self.low = trade.price
        return self.direction

    def change(self) -> str:
        prev = Decimal(self.prev_24h)
        return plain(((Decimal(self.last) - prev) / prev).quantize(Decimal("0.000001")))


class BybitMarketData(ExchangeProfile):
    """Order-book windows, trades and tickers of one Bybit category (a base class)."""

    #: ``spot``, ``linear``...
    category: ClassVar[str]
    #: ``tickers`` sends a snapshot then deltas (derivatives) or snapshots only (spot)
    ticker_deltas: ClassVar[bool] = True

    def __init__(self, venue: Venue) -> None:
        super().__init__(venue)
        #: symbol -> orderbook topic -> the window its subscribers hold
        self._views: dict[str, dict[str, _View]] = {}
        self._topic_u: dict[str, int] = {}
        self._full_u: dict[str, int] = {}
        self._tickers: dict[str, _Ticker] = {}
        #: symbol -> the last public trades (``publicTrade`` items), for ``recent-trade``
        self.recent_trades: dict[str, deque[dict[str, Any]]] = {}

    def update_id(self, topic: str) -> int:
        """The ``u`` of the last message of an ``orderbook.*`` topic (what a synced
        client's ``status(symbol).last_update_id`` reaches). O(1)."""
        parts = topic.split(".")
        if len(parts) == 3 and parts[1] == "full":
            return self._full_u.get(parts[2], FIRST_U)
        return self._topic_u.get(topic, FIRST_U)

    # ----------------------------------------------------------------- books

    def _book_snapshot(self, topic: str, symbol: str, depth: int) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        bids = market.levels("bid", depth)
        asks = market.levels("ask", depth)
        # The topic's view is the book every subscriber of the topic holds.
        self._views.setdefault(symbol, {})[topic] = _View(symbol, depth, dict(bids), dict(asks))
        now = self.venue.now_ms()
        return {
            "topic": topic,
            "type": "snapshot",
            "ts": now,
            "data": {
                "s": symbol,
                "b": levels(bids),
                "a": levels(asks),
                "u": self._topic_u.get(topic, FIRST_U),
                "seq": market.last_update_id,
            },
            "cts": now,
        }

    @staticmethod
    def _side_changes(
        old: dict[str, str], new: dict[str, str], deleted: set[str]
    ) -> list[list[str]]:
        changes = [[price, size] for price, size in new.items() if old.get(price) != size]
        # A level that left the window was either deleted on the exchange (say so) or
        # pushed out by better ones (not said: clients trim to the depth).
        changes.extend([price, "0"] for price in old if price not in new and price in deleted)
        return changes

    def _book_update(
        self,
        topic: str,
        view: _View,
        market: MarketGenerator,
        update: MarketUpdate,
        deleted: tuple[set[str], set[str]],
        now: int,
    ) -> dict[str, Any] | None:
        bids = dict(market.levels("bid", view.depth))
        asks = dict(market.levels("ask", view.depth))
        bid_changes = self._side_changes(view.bids, bids, deleted[0])
        ask_changes = self._side_changes(view.asks, asks, deleted[1])
        if not bid_changes and not ask_changes:
            return None
        view.bids, view.asks = bids, asks
        u = self._topic_u[topic] = self._topic_u.get(topic, FIRST_U) + 1
        snapshot = view.depth == 1  # depth 1 pushes snapshots only
        return {
            "topic": topic,
            "type": "snapshot" if snapshot else "delta",
            "ts": now,
            "data": {
                "s": update.symbol,
                "b": levels(bids.items()) if snapshot else bid_changes,
                "a": levels(asks.items()) if snapshot else ask_changes,
                "u": u,
                "seq": update.last_id,
            },
            "cts": now,
        }

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue = self.venue
        symbol = update.symbol
        market = venue.markets[symbol]
        now = venue.now_ms()
        # The full-depth stream numbers every change of the book, read or not.
        full_u = self._full_u[symbol] = self._full_u.get(symbol, FIRST_U) + 1
        ticker = self._ticker(symbol)
        directions = [ticker.trade(trade) for trade in update.trades]
        if update.trades:
            self.recent_trades.setdefault(symbol, deque(maxlen=RECENT_TRADES)).extend(
                self._trade(symbol, trade, direction, update.last_id, now)
                for trade, direction in zip(update.trades, directions, strict=True)
            )
        publications: list[Publication] = []

        views = self._views.get(symbol)
        if views:
            deleted = (
                {p for p, s in update.bids if _is_zero(s)},
                {p for p, s in update.asks if _is_zero(s)},
            )
            for topic, view in list(views.items()):
                if not venue.has_subscribers(topic):
                    del views[topic]
                    continue
                payload = self._book_update(topic, view, market, update, deleted, now)
                if payload is not None:
                    publications.append(Publication(topic, payload, symbol, book=True))

        topic = f"orderbook.full.{symbol}"
        if venue.has_subscribers(topic):
            payload = {
                "topic": topic,
                "type": "delta",
                "ts": now,
                "data": {
                    "s": symbol,
                    "b": [[p, "0" if _is_zero(s) else s] for p, s in update.bids],
                    "a": [[p, "0" if _is_zero(s) else s] for p, s in update.asks],
                    "u": full_u,
                    "seq": update.last_id,
                },
                "cts": now,
            }
            publications.append(Publication(topic, payload, symbol, book=True))

        topic = f"publicTrade.{symbol}"
        if update.trades and venue.has_subscribers(topic):
            trades = [
                self._trade(symbol, trade, direction, update.last_id, now)
                for trade, direction in zip(update.trades, directions, strict=True)
            ]
            publications.append(
                Publication(topic, {"topic": topic, "type": "snapshot", "ts": now, "data": trades})
            )

        topic = f"tickers.{symbol}"
        if venue.has_subscribers(topic):
            message = self._ticker_update(symbol, update, now)
            if message is not None:
                publications.append(Publication(topic, message, symbol))
        return publications

    # --------------------------------------------------------- trades, tickers

    def _trade(
        self, symbol: str, trade: Trade, direction: str, seq: int, now: int
    ) -> dict[str, Any]:
        trade_id = (
            str(trade.trade_id) if self.category == "spot" else str(uuid.UUID(int=trade.trade_id))
        )
        return {
            "T": now,
            "s": symbol,
            "S": "Sell" if trade.buyer_is_maker else "Buy",
            "v": trade.size,
            "p": trade.price,
            "L": direction,
            "i": trade_id,
            "BT": False,
            "seq": seq,
        }

    def _ticker(self, symbol: str) -> _Ticker:
        ticker = self._tickers.get(symbol)
        if ticker is None:
            price = self.venue.markets[symbol].best()[0]
            ticker = self._tickers[symbol] = _Ticker(price, price, price, price)
        return ticker

    def rest_ticker(self, symbol: str) -> dict[str, str]:
        """A ``GET /v5/market/tickers`` row: the stream's fields, with the best bid and
        ask (which spot's stream leaves out)."""
        fields = self._ticker_fields(symbol)
        market = self.venue.markets[symbol]
        (bid, bid_size), (ask, ask_size) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
        fields.update(bid1Price=bid, bid1Size=bid_size, ask1Price=ask, ask1Size=ask_size)
        return fields

    def _ticker_fields(self, symbol: str) -> dict[str, str]:
        ticker = self._ticker(symbol)
        fields = {
            "symbol": symbol,
            "lastPrice": ticker.last,
            "highPrice24h": ticker.high,
            "lowPrice24h": ticker.low,
            "prevPrice24h": ticker.prev_24h,
            "volume24h": plain(ticker.volume),
            "turnover24h": plain(ticker.turnover),
            "price24hPcnt": ticker.change(),
        }
        if not self.ticker_deltas:
            fields["usdIndexPrice"] = ticker.last
            return fields
        market = self.venue.markets[symbol]
        (bid, bid_size), (ask, ask_size) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
        now = self.venue.now_ms()
        fields.update(
            tickDirection=ticker.direction,
            prevPrice1h=ticker.prev_24h,
            markPrice=ticker.last,
            indexPrice=ticker.last,
            openInterest="0",
            openInterestValue="0",
            nextFundingTime=str((now // _FUNDING_INTERVAL_MS + 1) * _FUNDING_INTERVAL_MS),
            fundingRate="0.0001",
            bid1Price=bid,
            bid1Size=bid_size,
            ask1Price=ask,
            ask1Size=ask_size,
        )
        return fields

    def _ticker_snapshot(self, symbol: str) -> dict[str, Any]:
        fields = self._ticker_fields(symbol)
        self._ticker(symbol).sent = fields
        market = self.venue.markets[symbol]
        return {
            "topic": f"tickers.{symbol}",
            "type": "snapshot",
            "ts": self.venue.now_ms(),
            "cs": market.last_update_id,
            "data": fields,
        }

    def _ticker_update(self, symbol: str, update: MarketUpdate, now: int) -> dict[str, Any] | None:
        if not self.ticker_deltas:
            # Spot pushes a snapshot when the last price statistics move (on trades).
            return self._ticker_snapshot(symbol) if update.trades else None
        ticker = self._ticker(symbol)
        fields = self._ticker_fields(symbol)
        delta = {k: v for k, v in fields.items() if ticker.sent.get(k) != v}
        if not delta:
            return None
        ticker.sent = fields
        return {
            "topic": f"tickers.{symbol}",
            "type": "delta",
            "ts": now,
            "cs": update.last_id,
            "data": {"symbol": symbol, **delta},
        }
