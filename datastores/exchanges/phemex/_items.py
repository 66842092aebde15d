"""Item types of the Phemex stores: one ``TypedDict`` per store.

Fields keep Phemex's names and value types. COIN-M contracts and spot send scaled
integers (``priceEp`` = price x 10^4 for contracts, x 10^8 for spot; ``...Ev``
values x 10^8); USDⓈ-M (hedged) contracts send decimal strings (``...Rp``,
``...Rq``, ``...Rv``). Arrays (trades, klines) become dicts named as the docs name
their elements. https://phemex-docs.github.io/#websocket-api
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "AccountItem",
    "KlineItem",
    "Market24hItem",
    "OrderBookItem",
    "OrderItem",
    "PositionItem",
    "TickerItem",
    "TradeItem",
    "WalletItem",
]


class OrderBookItem(TypedDict):
    """One book level. ``side`` is ``"asks"`` or ``"bids"``.

    ``priceEp`` is the scaled integer price for COIN-M and spot books and, for
    USDⓈ-M books (``orderbook_p``), the price string as sent (Phemex names it
    ``priceRp`` there; one field name keeps ``sorted()`` the same for every book,
    as in pybotters). ``qty`` is contracts (COIN-M), a decimal string (USDⓈ-M)
    or a scaled base quantity (spot).
    """

    symbol: str
    side: str
    priceEp: int | str
    qty: int | str


class TradeItem(TypedDict):
    """One public trade: ``[timestamp, side, priceEp, qty]`` of the ``trades`` /
    ``trades_p`` arrays, with the symbol and ``n``: the trade's place among the
    symbol's trades of the same ``timestamp`` (ns) in its message, 0 for most.
    Phemex sends no trade id; ``(symbol, timestamp, n)`` keeps every trade of a
    match (pybotters keyed by timestamp alone and lost them) while a snapshot
    resent after a reconnect replaces instead of duplicating."""

    symbol: str
    timestamp: int
    side: str
    priceEp: int | str
    qty: int | str
    n: int


class KlineItem(TypedDict, total=False):
    """One candle. COIN-M: ``lastCloseEp, openEp, highEp, lowEp, closeEp, volume,
    turnoverEv``; spot: ``volumeEv`` instead of ``volume``; USDⓈ-M: ``lastCloseRp,
    openRp, highRp, lowRp, closeRp, volumeRq, turnoverRv``. ``interval`` in seconds."""

    symbol: str
    timestamp: int
    interval: int
    lastCloseEp: int
    openEp: int
    highEp: int
    lowEp: int
    closeEp: int
    volume: int
    volumeEv: int
    turnoverEv: int
    lastCloseRp: str
    openRp: str
    highRp: str
    lowRp: str
    closeRp: str
    volumeRq: str
    turnoverRv: str


class TickerItem(TypedDict, total=False):
    """An index/price tick (``tick``: ``last`` scaled by 10^``scale``; ``tick_p``:
    ``last`` a decimal string)."""

    symbol: str
    last: int | str
    scale: int
    timestamp: int


class Market24hItem(TypedDict, total=False):
    """24-hour statistics of one symbol (COIN-M ``...Ep`` integers, spot and USDⓈ-M
    as sent); only the common fields are listed, every field sent is kept."""

    symbol: str
    open: int
    high: int
    low: int
    close: int
    volume: int
    turnover: int
    timestamp: int


class AccountItem(TypedDict, total=False):
    """A contract trading account (``accounts`` / ``accounts_p`` of AOP)."""

    accountID: int
    currency: str
    accountBalanceEv: int
    totalUsedBalanceEv: int
    accountBalanceRv: str
    totalUsedBalanceRv: str
    userID: int


class OrderItem(TypedDict, total=False):
    """An open order (``orders`` / ``orders_p`` of AOP, ``orders.open`` of spot ``wo``)."""

    orderID: str
    clOrdID: str
    accountID: int
    symbol: str
    side: str
    ordType: str
    ordStatus: str
    action: str
    priceEp: int
    orderQty: int
    priceRp: str
    orderQtyRq: str
    baseQtyEv: int
    quoteQtyEv: int
    cumQty: int
    cumQtyRq: str
    transactTimeNs: int


class PositionItem(TypedDict, total=False):
    """A position (``positions`` / ``positions_p`` of AOP). ``posSide`` (``Long``,
    ``Short``, ``Merged``) is part of the key: hedged USDⓈ-M accounts hold a long and
    a short position of one symbol."""

    accountID: int
    symbol: str
    posSide: str
    side: str
    size: int
    sizeRq: str
    avgEntryPriceEp: int
    avgEntryPriceRp: str
    currency: str


class WalletItem(TypedDict, total=False):
    """A spot wallet (``wallets`` of ``wo``), scaled integers."""

    userID: int
    currency: str
    balanceEv: int
    lockedTradingBalanceEv: int
    lockedWithdrawEv: int
    lastUpdateTimeNs: int
