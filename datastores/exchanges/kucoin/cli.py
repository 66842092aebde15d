"""KuCoin's target for the command line (``datastores demo|watch|record --exchange kucoin``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange. The target is the tokenless UTA socket's ``obu`` book
(``increment@10ms``: a snapshot on subscription, then deltas), which needs no bullet
token, so the fixed URL works for ``watch`` and ``record`` too.
"""

from __future__ import annotations

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "BTC-USDT"
#: quote currencies recognised in a symbol written without KuCoin's dash
_QUOTES = ("USDT", "USDC", "BTC", "ETH", "KCS")


def _spot_symbol(symbol: str) -> str:
    """``btcusdt`` -> ``BTC-USDT`` (KuCoin spells spot symbols with a dash)."""
    symbol = symbol.upper()
    if "-" not in symbol:
        for quote in _QUOTES:
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return f"{symbol[: -len(quote)]}-{quote}"
    return symbol


def target(symbol: str) -> Target:
    """KuCoin Spot's UTA ``obu`` book of ``symbol`` (``BTC-USDT``; ``btcusdt`` is
    understood); gaps are healed by resubscribing."""
    symbol = _spot_symbol(symbol)
    return Target(
        exchange="kucoin",
        label="KuCoin Spot (UTA obu)",
        symbol=symbol,
        ws_url="wss://x-push-spot.kucoin.com",
        snapshot_url=None,
        store_class="datastores.exchanges.kucoin.store:KuCoinDataStore",
        fake_venue="kucoin-spot",
        subscribe={
            "id": f"obu-{symbol}",
            "action": "SUBSCRIBE",
            "channel": "obu",
            "tradeType": "SPOT",
            "symbol": symbol,
            "depth": "increment@10ms",
        },
        channel=f"obu {symbol} increment@10ms",
    )
