"""The fake Phemex's market data: number formats per family, the published book
views per subscribed depth, and the book and trade payloads.

From https://phemex-docs.github.io/#subscribe-orderbook , #orderbook-message ,
#subscribe-orderbook-with-depth , #trade-message :

* COIN-M contracts (``BTCUSD``): ``book`` levels ``[priceEp, size]`` integers,
  price x 10^4, size in contracts; USDⓈ-M (``BTCUSDT``): ``orderbook_p`` levels of
  decimal strings; spot (``sBTCUSDT``): ``book`` levels x 10^8;
* a ``snapshot`` after subscribing and periodically, ``incremental`` otherwise, with
  the subscribed ``depth`` (0: the full book) and a ``sequence`` shared by every
  message (it increases, not by one per book);
* a depth-N stream sends what changes in the best N levels and the levels that
  enter them; a level pushed out by a better one is not deleted: clients truncate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ...market import MarketGenerator, MarketUpdate

__all__ = ["BookViews", "Family", "family"]

_ZERO = Decimal(0)


class Family:
    """How one product family writes numbers and names its book data."""

    def __init__(
        self, key: str, method: str, price: Callable[[str], Any], size: Callable[[str], Any]
    ):
        self.key = key
        self.method = method
        self.price = price
        self.size = size
        self.trades_key = "trades_p" if key == "orderbook_p" else "trades"

    def level(self, price: str, size: str) -> list[Any]:
        return [self.price(price), self.size(size)]


def _scaled(exponent: int) -> Callable[[str], int]:
    factor = Decimal(10) ** exponent
    return lambda text: int(Decimal(text) * factor)


_USDSM = Family("orderbook_p", "orderbook_p", str, str)
_COINM = Family("book", "orderbook", _scaled(4), _scaled(0))
_SPOT = Family("book", "orderbook", _scaled(8), _scaled(8))


def family(symbol: str) -> Family:
    """``s``-prefixed symbols are spot, ``...USDT`` USDⓈ-M, the others COIN-M."""
    if symbol.startswith("s"):
        return _SPOT
    return _USDSM if symbol.endswith("USDT") else _COINM


class BookViews:
    """The book each subscribed depth of each symbol was last sent (what a client holds).

    Memory: O(depth) per (symbol, depth) subscribed; an update costs O(depth log n).
    """

    def __init__(self) -> None:
        self._views: dict[tuple[str, int], tuple[dict[str, str], dict[str, str]]] = {}

    def forget(self, symbol: str, depth: int) -> None:
        self._views.pop((symbol, depth), None)

    def snapshot(self, market: MarketGenerator, depth: int) -> tuple[list[Any], list[Any]]:
        """``(asks, bids)`` of the best ``depth`` levels (0: all), remembered as sent."""
        limit = depth or None
        asks, bids = market.levels("ask", limit), market.levels("bid", limit)
        if depth:
            self._views[market.symbol, depth] = (dict(asks), dict(bids))
        fam = family(market.symbol)
        return [fam.level(p, s) for p, s in asks], [fam.level(p, s) for p, s in bids]

    def incremental(
        self, market: MarketGenerator, depth: int, update: MarketUpdate
    ) -> tuple[list[Any], list[Any]]:
        """What a depth-``depth`` stream sends for ``update``: the full stream sends the
        changes; a depth-N stream sends the changed or entering levels of the new best N
        and the deletions of levels it had sent."""
        fam = family(market.symbol)
        if not depth:
            return _levels(fam, update.asks), _levels(fam, update.bids)
        old = self._views.get((market.symbol, depth))
        if old is None:  # no snapshot was taken for it: nothing to diff against
            return self.snapshot(market, depth)
        new_asks = dict(market.levels("ask", depth))
        new_bids = dict(market.levels("bid", depth))
        self._views[market.symbol, depth] = (new_asks, new_bids)
        return (
            _diff(fam, old[0], new_asks, update.asks),
            _diff(fam, old[1], new_bids, update.bids),
        )


def _levels(fam: Family, changes: Iterable[tuple[str, str]]) -> list[Any]:
    return [fam.level(p, s) for p, s in changes]


def _diff(
    fam: Family, old: dict[str, str], new: dict[str, str], changes: Iterable[tuple[str, str]]
) -> list[Any]:
    out = [fam.level(p, s) for p, s in new.items() if old.get(p) != s]
    deleted = {p for p, s in changes if Decimal(s) == _ZERO}
    out.extend(fam.level(p, "0") for p in old if p not in new and p in deleted)
    return out
