"""Item types of the OKX stores: one ``TypedDict`` per store, fields as OKX names them.

Only the type checker sees these (``store.books.sorted({"instId": i})["asks"][0]["px"]``
is a ``str``): items are the dicts OKX sent. Fields every item of a channel has
are required; the others (which depend on the instrument type, the account
mode, or were added by OKX later) may be missing. Numbers are strings exactly
as received, as OKX sends them.

https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
https://www.okx.com/docs-v5/en/#public-data-websocket-instruments-channel
https://www.okx.com/docs-v5/en/#trading-account-websocket-account-channel
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "AccountDetailItem",
    "AccountGreeksItem",
    "AccountItem",
    "AlgoOrderItem",
    "BalanceAndPositionItem",
    "BalanceItem",
    "BookItem",
    "CandleItem",
    "EstimatedPriceItem",
    "FundingRateItem",
    "IndexTickerItem",
    "InstrumentItem",
    "LiquidationWarningItem",
    "MarkPriceItem",
    "OpenInterestItem",
    "OptSummaryItem",
    "OrderItem",
    "PositionItem",
    "PriceLimitItem",
    "StatusItem",
    "TickerItem",
    "TradeItem",
]


class BookItem(TypedDict):
    """One book level: ``instId``, ``side`` (``"asks"``/``"bids"``), price ``px``,
    size ``sz`` (contracts for derivatives, base currency for spot), liquidated
    orders ``liqSz`` (deprecated, ``"0"``) and number of orders ``ordSz``."""

    instId: str
    side: str
    px: str
    sz: str
    liqSz: str
    ordSz: str


class _InstrumentKeys(TypedDict):
    instId: str


class InstrumentItem(_InstrumentKeys, total=False):
    """``instruments``: one instrument's specification."""

    instType: str
    uly: str
    instFamily: str
    baseCcy: str
    quoteCcy: str
    settleCcy: str
    ctVal: str
    ctMult: str
    ctValCcy: str
    listTime: str
    expTime: str
    lever: str
    tickSz: str
    lotSz: str
    minSz: str
    ctType: str
    state: str
    maxLmtSz: str
    maxMktSz: str


class TickerItem(_InstrumentKeys, total=False):
    """``tickers``: last trade, best bid/ask and 24 h statistics."""

    instType: str
    last: str
    lastSz: str
    askPx: str
    askSz: str
    bidPx: str
    bidSz: str
    open24h: str
    high24h: str
    low24h: str
    volCcy24h: str
    vol24h: str
    sodUtc0: str
    sodUtc8: str
    ts: str


class OpenInterestItem(_InstrumentKeys, total=False):
    """``open-interest``: in contracts (``oi``), currency (``oiCcy``) and USD."""

    instType: str
    oi: str
    oiCcy: str
    oiUsd: str
    ts: str


class _CandleKeys(TypedDict):
    channel: str
    instId: str
    ts: str


class CandleItem(_CandleKeys, total=False):
    """``candle*``, ``mark-price-candle*``, ``index-candle*``: a candle row named by
    its fields, with the subscription's ``channel`` and ``instId``; ``vol``..
    ``volCcyQuote`` only on trade candles. ``confirm`` is ``"1"`` once closed."""

    o: str
    h: str
    l: str  # noqa: E741 (OKX's field name)
    c: str
    vol: str
    volCcy: str
    volCcyQuote: str
    confirm: str


class TradeItem(_InstrumentKeys, total=False):
    """``trades``: one trade (``side`` of the taker, ``count`` aggregated trades)."""

    tradeId: str
    px: str
    sz: str
    side: str
    ts: str
    count: str
    source: str


class EstimatedPriceItem(_InstrumentKeys, total=False):
    """``estimated-price``: estimated delivery/exercise price."""

    instType: str
    settleType: str
    settlePx: str
    ts: str


class MarkPriceItem(_InstrumentKeys, total=False):
    """``mark-price``."""

    instType: str
    markPx: str
    ts: str


class PriceLimitItem(_InstrumentKeys, total=False):
    """``price-limit``: highest buy and lowest sell price allowed."""

    buyLmt: str
    sellLmt: str
    ts: str
    enabled: bool


class OptSummaryItem(_InstrumentKeys, total=False):
    """``opt-summary``: option greeks and volatilities (``uly`` the underlying)."""

    instType: str
    uly: str
    delta: str
    gamma: str
    vega: str
    theta: str
    deltaBS: str
    gammaBS: str
    vegaBS: str
    thetaBS: str
    lever: str
    markVol: str
    bidVol: str
    askVol: str
    realVol: str
    volLv: str
    fwdPx: str
    ts: str


class FundingRateItem(_InstrumentKeys, total=False):
    """``funding-rate``: current and next funding of a perpetual swap."""

    instType: str
    method: str
    fundingRate: str
    fundingTime: str
    nextFundingRate: str
    nextFundingTime: str
    minFundingRate: str
    maxFundingRate: str
    settFundingRate: str
    settState: str
    premium: str
    ts: str


class IndexTickerItem(_InstrumentKeys, total=False):
    """``index-tickers``: an index (``instId`` like ``BTC-USDT``)."""

    idxPx: str
    open24h: str
    high24h: str
    low24h: str
    sodUtc0: str
    sodUtc8: str
    ts: str


class StatusItem(TypedDict, total=False):
    """``status``: a system maintenance notice."""

    title: str
    state: str
    begin: str
    end: str
    preOpenBegin: str
    href: str
    serviceType: str
    system: str
    scheDesc: str
    maintType: str
    env: str
    ts: str


class AccountItem(TypedDict, total=False):
    """``account``: the account summary (USD values); ``details`` per currency."""

    uTime: str
    totalEq: str
    isoEq: str
    adjEq: str
    ordFroz: str
    imr: str
    mmr: str
    borrowFroz: str
    mgnRatio: str
    notionalUsd: str
    upl: str
    details: list[dict[str, Any]]


class _CurrencyKeys(TypedDict):
    ccy: str


class AccountDetailItem(_CurrencyKeys, total=False):
    """One currency of ``account.details`` (``eq`` equity, ``cashBal``, ``availBal``...)."""

    eq: str
    cashBal: str
    uTime: str
    isoEq: str
    availEq: str
    disEq: str
    availBal: str
    frozenBal: str
    ordFrozen: str
    liab: str
    upl: str
    eqUsd: str
    notionalLever: str


class _PositionKeys(TypedDict):
    instId: str
    mgnMode: str
    posSide: str


class PositionItem(_PositionKeys, total=False):
    """``positions`` (and ``balance_and_position.position``): one position."""

    instType: str
    posId: str
    pos: str
    posCcy: str
    availPos: str
    avgPx: str
    upl: str
    uplRatio: str
    lever: str
    liqPx: str
    markPx: str
    imr: str
    margin: str
    mgnRatio: str
    mmr: str
    liab: str
    liabCcy: str
    interest: str
    tradeId: str
    notionalUsd: str
    adl: str
    ccy: str
    last: str
    cTime: str
    uTime: str
    pTime: str


class BalanceItem(_CurrencyKeys, total=False):
    """``balance_and_position.balance``: one currency's cash balance."""

    cashBal: str
    uTime: str


class BalanceAndPositionItem(TypedDict, total=False):
    """``balance_and_position``: one push as received (``eventType``, ``balData``,
    ``posData``, ``trades``)."""

    pTime: str
    eventType: str
    balData: list[dict[str, Any]]
    posData: list[dict[str, Any]]
    trades: list[dict[str, Any]]


class _OrderKeys(TypedDict):
    ordId: str


class OrderItem(_OrderKeys, total=False):
    """``orders``: an open order (``state`` ``live`` or ``partially_filled``)."""

    instType: str
    instId: str
    clOrdId: str
    tag: str
    px: str
    sz: str
    ordType: str
    side: str
    posSide: str
    tdMode: str
    fillPx: str
    tradeId: str
    fillSz: str
    fillTime: str
    accFillSz: str
    avgPx: str
    state: str
    lever: str
    fee: str
    feeCcy: str
    cTime: str
    uTime: str


class _AlgoKeys(TypedDict):
    algoId: str


class AlgoOrderItem(_AlgoKeys, total=False):
    """``orders-algo`` and ``algo-advance``: an algo order."""

    instType: str
    instId: str
    ordType: str
    side: str
    posSide: str
    sz: str
    state: str
    triggerPx: str
    ordPx: str
    tpTriggerPx: str
    tpOrdPx: str
    slTriggerPx: str
    slOrdPx: str
    actualSz: str
    actualPx: str
    actualSide: str
    cTime: str
    uTime: str


class LiquidationWarningItem(_InstrumentKeys, total=False):
    """``liquidation-warning``: a position close to liquidation."""

    instType: str
    mgnMode: str
    posSide: str
    pos: str
    mgnRatio: str
    uTime: str


class AccountGreeksItem(_CurrencyKeys, total=False):
    """``account-greeks``: the account's greeks in one currency."""

    deltaBS: str
    deltaPA: str
    gammaBS: str
    gammaPA: str
    thetaBS: str
    thetaPA: str
    vegaBS: str
    vegaPA: str
    ts: str
