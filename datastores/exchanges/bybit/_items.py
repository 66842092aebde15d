"""Item types of the Bybit stores: one ``TypedDict`` per store, fields as Bybit names them.

Only the type checker sees these (``store.orderbook.sorted()["a"][0]["p"]`` is a
``str``): items are the dicts Bybit sent (kline items get ``symbol`` from the
topic; REST rows get ``category`` when missing). Fields every item has are
required (the store keys among them); the rest depend on the category
(spot/linear/inverse/option) and may be missing. Prices, sizes and most
numbers are strings exactly as received; times in ms and ``seq`` are ints.

https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
https://bybit-exchange.github.io/docs/v5/websocket/private/order
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "AllLiquidationItem",
    "ExecutionItem",
    "GreekItem",
    "KlineItem",
    "LTNavItem",
    "LiquidationItem",
    "OrderBookItem",
    "OrderItem",
    "PositionItem",
    "TickerItem",
    "TradeItem",
    "WalletItem",
]


class OrderBookItem(TypedDict):
    """One book level: symbol ``s``, side ``S`` (``"a"`` ask / ``"b"`` bid), price
    ``p`` and size ``v`` (base coin; contracts on inverse)."""

    s: str
    S: str
    p: str
    v: str


class TradeItem(TypedDict, total=False):
    """A ``publicTrade`` trade: time ``T`` (ms), symbol ``s``, taker side ``S``
    (``"Buy"``/``"Sell"``), size ``v``, price ``p``, tick direction ``L``, trade
    id ``i``, block trade ``BT``, cross sequence ``seq``."""

    T: int
    s: str
    S: str
    v: str
    p: str
    L: str
    i: str
    BT: bool
    RPI: bool
    seq: int


class _TickerKeys(TypedDict):
    symbol: str


class TickerItem(_TickerKeys, total=False):
    """A ``tickers`` (or ``tickers_lt``) item, merged from snapshot and deltas;
    fields depend on the category (``fundingRate`` on derivatives only...)."""

    lastPrice: str
    highPrice24h: str
    lowPrice24h: str
    prevPrice24h: str
    prevPrice1h: str
    price24hPcnt: str
    volume24h: str
    turnover24h: str
    tickDirection: str
    markPrice: str
    indexPrice: str
    openInterest: str
    openInterestValue: str
    fundingRate: str
    nextFundingTime: str
    bid1Price: str
    bid1Size: str
    ask1Price: str
    ask1Size: str
    usdIndexPrice: str


class _KlineKeys(TypedDict):
    symbol: str
    start: int
    end: int


class KlineItem(_KlineKeys, total=False):
    """A candle of ``kline`` / ``kline_lt``: ``start``/``end`` (ms), ``interval``,
    ``open``/``high``/``low``/``close``, ``volume``, ``turnover`` (not on
    leveraged tokens), ``confirm`` (closed), ``timestamp``; ``symbol`` from the topic."""

    interval: str
    open: str
    close: str
    high: str
    low: str
    volume: str
    turnover: str
    confirm: bool
    timestamp: int


class AllLiquidationItem(TypedDict, total=False):
    """An ``allLiquidation`` item: time ``T`` (ms), symbol ``s``, side ``S`` of the
    liquidated position, size ``v``, bankruptcy price ``p``."""

    T: int
    s: str
    S: str
    v: str
    p: str


class LiquidationItem(TypedDict, total=False):
    """A ``liquidation`` item (superseded by ``allLiquidation``)."""

    updatedTime: int
    symbol: str
    side: str
    size: str
    price: str


class _LTNavKeys(TypedDict):
    symbol: str


class LTNavItem(_LTNavKeys, total=False):
    """An ``lt`` item: leveraged-token net asset value ``nav`` and its basket."""

    time: int
    nav: str
    basketPosition: str
    leverage: str
    basketLoan: str
    circulation: str
    basket: str


class _PositionKeys(TypedDict):
    symbol: str
    positionIdx: int


class PositionItem(_PositionKeys, total=False):
    """A position (``position`` topic or ``GET /v5/position/list`` row)."""

    category: str
    side: str
    size: str
    entryPrice: str
    avgPrice: str
    leverage: str
    positionValue: str
    positionBalance: str
    markPrice: str
    liqPrice: str
    bustPrice: str
    positionIM: str
    positionMM: str
    tpslMode: str
    takeProfit: str
    stopLoss: str
    trailingStop: str
    unrealisedPnl: str
    curRealisedPnl: str
    cumRealisedPnl: str
    sessionAvgPrice: str
    positionStatus: str
    adlRankIndicator: int
    autoAddMargin: int
    isReduceOnly: bool
    riskId: int
    riskLimitValue: str
    tradeMode: int
    createdTime: str
    updatedTime: str
    seq: int


class ExecutionItem(TypedDict, total=False):
    """An own fill (``execution`` topic)."""

    category: str
    symbol: str
    execId: str
    execPrice: str
    execQty: str
    execFee: str
    execType: str
    execValue: str
    execTime: str
    feeRate: str
    isMaker: bool
    orderId: str
    orderLinkId: str
    orderPrice: str
    orderQty: str
    orderType: str
    side: str
    stopOrderType: str
    leavesQty: str
    closedSize: str
    blockTradeId: str
    indexPrice: str
    markPrice: str
    markIv: str
    tradeIv: str
    underlyingPrice: str
    isLeverage: str
    seq: int


class _OrderKeys(TypedDict):
    orderId: str


class OrderItem(_OrderKeys, total=False):
    """A live order (``order`` topic or ``GET /v5/order/realtime`` row)."""

    category: str
    symbol: str
    orderLinkId: str
    orderStatus: str
    orderType: str
    side: str
    price: str
    qty: str
    avgPrice: str
    leavesQty: str
    leavesValue: str
    cumExecQty: str
    cumExecValue: str
    cumExecFee: str
    timeInForce: str
    positionIdx: int
    triggerPrice: str
    takeProfit: str
    stopLoss: str
    stopOrderType: str
    reduceOnly: bool
    closeOnTrigger: bool
    cancelType: str
    rejectReason: str
    createdTime: str
    updatedTime: str


class _WalletKeys(TypedDict):
    accountType: str


class WalletItem(_WalletKeys, total=False):
    """A wallet (``wallet`` topic or ``GET /v5/account/wallet-balance`` row);
    ``coin`` is the list of per-coin balances (merged by ``coin`` name)."""

    accountIMRate: str
    accountMMRate: str
    accountLTV: str
    totalEquity: str
    totalWalletBalance: str
    totalMarginBalance: str
    totalAvailableBalance: str
    totalPerpUPL: str
    totalInitialMargin: str
    totalMaintenanceMargin: str
    coin: list[dict[str, Any]]


class _GreekKeys(TypedDict):
    baseCoin: str


class GreekItem(_GreekKeys, total=False):
    """Option greeks of one base coin (``greeks`` topic)."""

    totalDelta: str
    totalGamma: str
    totalVega: str
    totalTheta: str
