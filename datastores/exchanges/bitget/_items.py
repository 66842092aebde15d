"""Item types of the Bitget stores: one ``TypedDict`` per store, fields as Bitget names them.

Only the type checker sees these (``store.book.sorted()["asks"][0]["price"]`` is a
``str``): items are the objects Bitget pushed, plus the ``instType`` of their
subscription (v2), or built from REST in the WebSocket's names. Fields every
item has (the store's keys and what the collection adds) are required; the
rest depend on the market (spot/futures) and the push, and may be missing.
Prices, sizes and times are strings exactly as received.

v2: https://www.bitget.com/api-doc/common/websocket-intro
v1: https://bitgetlimited.github.io/apidoc/en/mix/#websocketapi
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "V1AccountItem",
    "V1CandleItem",
    "V1OrderBookItem",
    "V1OrderItem",
    "V1PositionItem",
    "V1TickerItem",
    "V1TradeItem",
    "V2AccountItem",
    "V2BookItem",
    "V2CandleItem",
    "V2FillItem",
    "V2OrderAlgoItem",
    "V2OrderItem",
    "V2PositionHistoryItem",
    "V2PositionItem",
    "V2TickerItem",
    "V2TradeItem",
]

# ------------------------------------------------------------------------ v2


class V2BookItem(TypedDict):
    """One ``book`` level: ``side`` is ``"asks"`` or ``"bids"``, ``amount`` in base coin."""

    instType: str
    instId: str
    side: str
    price: str
    amount: str


class _V2TickerKeys(TypedDict):
    instType: str
    instId: str


class V2TickerItem(_V2TickerKeys, total=False):
    """``ticker``: the latest push merged into the instrument's item."""

    lastPr: str
    open24h: str
    high24h: str
    low24h: str
    change24h: str
    bidPr: str
    askPr: str
    bidSz: str
    askSz: str
    baseVolume: str
    quoteVolume: str
    openUtc: str
    changeUtc24h: str
    indexPrice: str
    markPrice: str
    fundingRate: str
    nextFundingTime: str
    holdingAmount: str
    ts: str


class _V2CandleKeys(TypedDict):
    instType: str
    instId: str
    granularity: str
    startTime: str


class V2CandleItem(_V2CandleKeys, total=False):
    """``candle*``: one candle; ``granularity`` is the channel name (``"candle1m"``)."""

    openPr: str
    highPr: str
    lowPr: str
    closePr: str
    baseVolume: str
    quoteVolume: str
    usdtVolume: str


class V2TradeItem(TypedDict):
    """``trade``: one public trade; ``side`` is ``"buy"`` or ``"sell"``."""

    instType: str
    instId: str
    ts: str
    price: str
    size: str
    side: str
    tradeId: str


class _V2AccountKeys(TypedDict):
    instType: str
    coin: str


class V2AccountItem(_V2AccountKeys, total=False):
    """``account``: one coin (futures items also carry ``marginCoin``, copied to ``coin``)."""

    available: str
    frozen: str
    locked: str
    limitAvailable: str
    uTime: str
    marginCoin: str
    equity: str
    usdtEquity: str
    maxOpenPosAvailable: str
    maxTransferOut: str
    crossedRiskRate: str
    unrealizedPL: str


class _V2PositionKeys(TypedDict):
    instType: str
    instId: str
    posId: str


class V2PositionItem(_V2PositionKeys, total=False):
    """``positions``: one open position (REST-seeded ones: ``posId = "rest:..."``)."""

    marginCoin: str
    marginSize: str
    marginMode: str
    holdSide: str
    posMode: str
    total: str
    available: str
    frozen: str
    openPriceAvg: str
    leverage: Any
    achievedProfits: str
    unrealizedPL: str
    unrealizedPLR: str
    liquidationPrice: str
    keepMarginRate: str
    marginRate: str
    breakEvenPrice: str
    totalFee: str
    deductedFee: str
    symbol: str
    cTime: str
    uTime: str


class _V2FillKeys(TypedDict):
    instType: str
    tradeId: str
    symbol: str


class V2FillItem(_V2FillKeys, total=False):
    """``fill``: one own execution."""

    orderId: str
    side: str
    orderType: str
    posMode: str
    price: str
    priceAvg: str
    baseVolume: str
    size: str
    amount: str
    tradeScope: str
    feeDetail: list[dict[str, Any]]
    cTime: str
    uTime: str


class _V2OrderKeys(TypedDict):
    instType: str
    instId: str
    orderId: str


class V2OrderItem(_V2OrderKeys, total=False):
    """``orders``: one open order (REST-seeded ones carry the REST field names too).

    The client id is ``clientOid`` in the docs; some pushes spell it ``clientOId``.
    """

    clientOid: str
    clientOId: str
    price: str
    size: str
    newSize: str
    notional: str
    orderType: str
    force: str
    side: str
    posSide: str
    tradeSide: str
    marginMode: str
    marginCoin: str
    fillPrice: str
    tradeId: str
    baseVolume: str
    accBaseVolume: str
    fillTime: str
    priceAvg: str
    status: str
    leverage: str
    symbol: str
    cTime: str
    uTime: str


class V2OrderAlgoItem(_V2OrderKeys, total=False):
    """``orders-algo``: one open trigger order."""

    clientOid: str
    triggerPrice: str
    triggerType: str
    planType: str
    price: str
    size: str
    actualSize: str
    orderType: str
    side: str
    tradeSide: str
    posSide: str
    marginCoin: str
    marginMode: str
    status: str
    cTime: str
    uTime: str


class V2PositionHistoryItem(_V2PositionKeys, total=False):
    """``positions-history``: one closed position."""

    marginCoin: str
    marginMode: str
    holdSide: str
    posMode: str
    openPriceAvg: str
    closePriceAvg: str
    openAvgPrice: str
    closeAvgPrice: str
    openSize: str
    closeSize: str
    achievedProfits: str
    pnl: str
    settleFee: str
    openFee: str
    closeFee: str
    cTime: str
    uTime: str


# ------------------------------------------------------------------------ v1


class V1OrderBookItem(TypedDict):
    """One ``orderbook`` level: ``side`` is ``"asks"`` or ``"bids"``."""

    instId: str
    side: str
    px: str
    sz: str


class V1TradeItem(TypedDict):
    """``trade``: one public trade (``ts`` in ms as sent, ``side`` buy/sell)."""

    instId: str
    ts: str
    px: str
    sz: str
    side: str


class _V1TickerKeys(TypedDict):
    instId: str


class V1TickerItem(_V1TickerKeys, total=False):
    """``ticker``: the latest push merged into the instrument's item."""

    last: str
    bestAsk: str
    bestBid: str
    bidSz: str
    askSz: str
    high24h: str
    low24h: str
    priceChangePercent: str
    capitalRate: str
    nextSettleTime: str
    systemTime: int
    markPrice: str
    indexPrice: str
    holding: str
    baseVolume: str
    quoteVolume: str
    openUtc: str
    chgUTC: str
    symbolType: int
    symbolId: str
    deliveryPrice: str


class _V1CandleKeys(TypedDict):
    instId: str
    interval: str
    ts: str


class V1CandleItem(_V1CandleKeys, total=False):
    """``candle*``: one candle; ``interval`` is the channel's suffix (``"1m"``)."""

    o: str
    h: str
    l: str  # noqa: E741 (Bitget's name)
    c: str
    baseVol: str


class _V1AccountKeys(TypedDict):
    marginCoin: str


class V1AccountItem(_V1AccountKeys, total=False):
    """``account``: one margin coin."""

    locked: str
    available: str
    maxOpenPosAvailable: str
    maxTransferOut: str
    equity: str
    usdtEquity: str


class _V1OrderKeys(TypedDict):
    instId: str
    clOrdId: str


class V1OrderItem(_V1OrderKeys, total=False):
    """``orders``: one open order (REST-seeded ones are mapped to these names)."""

    accFillSz: str
    avgPx: str
    cTime: str
    force: str
    ordId: str
    ordType: str
    posSide: str
    px: str
    side: str
    status: str
    sz: str
    tdMode: str
    tgtCcy: str
    uTime: str
    lever: str
    notionalUsd: str


class _V1PositionKeys(TypedDict):
    posId: str
    instId: str


class V1PositionItem(_V1PositionKeys, total=False):
    """``positions``: one open position (``total`` zero removes it)."""

    instName: str
    marginCoin: str
    margin: str
    marginMode: str
    holdSide: str
    holdMode: str
    total: str
    available: str
    locked: str
    averageOpenPrice: str
    leverage: int
    achievedProfits: str
    upl: str
    uplRate: str
    liqPx: str
    keepMarginRate: str
    marginRate: str
    cTime: str
    uTime: str
