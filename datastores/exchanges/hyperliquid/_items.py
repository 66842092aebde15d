"""Item shapes of the Hyperliquid stores (one ``TypedDict`` per store).

Field names are the exchange's (https://hyperliquid.gitbook.io/hyperliquid-docs/
for-developers/api/websocket/subscriptions); numbers stay the decimal strings the
exchange sends. Fields not every message carries are in ``total=False`` bases.
Rows of user streams carry the ``user`` of their subscription (added by the store:
a snapshot after a reconnect replaces that user's rows).
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "ActiveAssetCtxItem",
    "ActiveAssetDataItem",
    "AllMidsItem",
    "BboItem",
    "CandleItem",
    "ClearinghouseStateItem",
    "L2BookItem",
    "LedgerUpdateItem",
    "NotificationItem",
    "OrderUpdateItem",
    "PositionItem",
    "TradeItem",
    "TwapHistoryItem",
    "TwapSliceFillItem",
    "UserEventItem",
    "UserFillItem",
    "UserFundingItem",
    "WebData2Item",
]


class AllMidsItem(TypedDict):
    """``allMids``: one coin's mid price."""

    coin: str
    px: str


class NotificationItem(TypedDict):
    """``notification``: a text notification for the user."""

    notification: str


class _WebData2Base(TypedDict, total=False):
    clearinghouseState: dict[str, Any]
    leadingVaults: list[Any]
    totalVaultEquity: str
    openOrders: list[dict[str, Any]]
    agentAddress: str | None
    agentValidUntil: int | None
    cumLedger: str
    meta: dict[str, Any]
    assetCtxs: list[dict[str, Any]]
    serverTime: int
    isVault: bool
    twapStates: list[Any]
    spotState: dict[str, Any]
    spotAssetCtxs: list[dict[str, Any]]


class WebData2Item(_WebData2Base):
    """``webData2``: the frontend's aggregate state of one user (every push is whole)."""

    user: str


class _CandleBase(TypedDict, total=False):
    o: str
    c: str
    h: str
    l: str  # noqa: E741 (the exchange's field name)
    v: str
    n: int


class CandleItem(_CandleBase):
    """``candle``: open time ``t`` and close time ``T`` (ms), coin ``s``, interval ``i``."""

    t: int
    T: int
    s: str
    i: str


class L2BookItem(TypedDict):
    """``l2Book``: one level. ``side`` ``"A"`` (ask) or ``"B"`` (bid); ``n`` orders."""

    coin: str
    side: str
    px: str
    sz: str
    n: int


class _TradeBase(TypedDict, total=False):
    hash: str
    users: list[str]


class TradeItem(_TradeBase):
    """``trades``: one trade; ``side`` is the taker's (``"A"`` sell, ``"B"`` buy)."""

    coin: str
    side: str
    px: str
    sz: str
    time: int
    tid: int


class _OrderBase(TypedDict, total=False):
    cloid: str | None
    orderType: str
    triggerPx: str
    triggerCondition: str
    isTrigger: bool
    isPositionTpsl: bool
    reduceOnly: bool
    tif: str | None


class OrderUpdateItem(_OrderBase):
    """``orderUpdates``: one order flattened with its ``status`` (``sz`` is what remains)."""

    coin: str
    side: str
    limitPx: str
    sz: str
    oid: int
    timestamp: int
    origSz: str
    status: str
    statusTimestamp: int


class UserEventItem(TypedDict, total=False):
    """``user`` (userEvents): one event with its ``type`` (``fills``, ``funding``,
    ``liquidation``, ``nonUserCancel``...) and the event's own fields."""

    type: str


class _FillBase(TypedDict, total=False):
    user: str
    startPosition: str
    dir: str
    closedPnl: str
    crossed: bool
    fee: str
    feeToken: str
    builderFee: str
    liquidation: dict[str, Any]


class UserFillItem(_FillBase):
    """``userFills``: one fill of the subscribed ``user``."""

    coin: str
    px: str
    sz: str
    side: str
    time: int
    hash: str
    oid: int
    tid: int


class _FundingBase(TypedDict, total=False):
    user: str
    nSamples: int | None


class UserFundingItem(_FundingBase):
    """``userFundings``: one funding payment (``usdc``) on a position of ``szi``."""

    time: int
    coin: str
    usdc: str
    szi: str
    fundingRate: str


class _LedgerBase(TypedDict, total=False):
    user: str


class LedgerUpdateItem(_LedgerBase):
    """``userNonFundingLedgerUpdates``: one deposit, withdrawal, transfer... (``delta``)."""

    time: int
    hash: str
    delta: dict[str, Any]


class _AssetCtxBase(TypedDict, total=False):
    dayNtlVlm: str
    prevDayPx: str
    markPx: str
    midPx: str | None
    circulatingSupply: str
    funding: str
    openInterest: str
    oraclePx: str
    premium: str | None
    impactPxs: list[str] | None
    dayBaseVlm: str


class ActiveAssetCtxItem(_AssetCtxBase):
    """``activeAssetCtx`` / ``activeSpotAssetCtx``: ``ctx`` flattened next to ``coin``."""

    coin: str


class _AssetDataBase(TypedDict, total=False):
    leverage: dict[str, Any]
    maxTradeSzs: list[str]
    availableToTrade: list[str]
    markPx: str


class ActiveAssetDataItem(_AssetDataBase):
    """``activeAssetData``: leverage and tradeable sizes of ``user`` on ``coin``."""

    user: str
    coin: str


class TwapSliceFillItem(TypedDict, total=False):
    """``userTwapSliceFills``: one slice ``fill`` of TWAP ``twapId``."""

    user: str
    fill: dict[str, Any]
    twapId: int


class TwapHistoryItem(TypedDict, total=False):
    """``userTwapHistory``: one TWAP's ``state`` and ``status`` at ``time``."""

    user: str
    state: dict[str, Any]
    status: dict[str, Any]
    time: int


class BboItem(TypedDict):
    """``bbo``: best bid and offer, ``bbo = [bid | None, ask | None]`` (levels ``px, sz, n``)."""

    coin: str
    time: int
    bbo: list[dict[str, Any] | None]


class _PositionBase(TypedDict, total=False):
    type: str
    positionValue: str
    unrealizedPnl: str
    returnOnEquity: str
    liquidationPx: str | None
    marginUsed: str
    leverage: dict[str, Any]
    maxLeverage: int
    cumFunding: dict[str, str]


class PositionItem(_PositionBase):
    """A perpetual position from ``clearinghouseState`` (``szi`` signed: negative is short)."""

    coin: str
    szi: str
    entryPx: str | None


class ClearinghouseStateItem(TypedDict, total=False):
    """The latest ``clearinghouseState`` (margin summaries, positions, ``withdrawable``)."""

    user: str
    marginSummary: dict[str, str]
    crossMarginSummary: dict[str, str]
    crossMaintenanceMarginUsed: str
    withdrawable: str
    assetPositions: list[dict[str, Any]]
    time: int
