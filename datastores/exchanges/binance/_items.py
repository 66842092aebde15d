"""Item types of the Binance stores: one ``TypedDict`` per store, fields as Binance names them.

Only the type checker sees these (``store.orderbook.sorted()["a"][0]["p"]`` is a
``str``): items are the dicts Binance sent, or built from REST in the same
names. Fields every item has are required; the rest depend on the stream or
market (spot/futures, full/mini ticker, trade/aggTrade) and may be missing.
Prices and quantities are strings exactly as received; ids and times are ints.

https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams
https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "AccountItem",
    "BalanceItem",
    "BookTickerItem",
    "CompositeIndexItem",
    "ContinuousKlineItem",
    "IndexPriceItem",
    "KlineItem",
    "LiquidationItem",
    "MarkPriceItem",
    "OCOOrderItem",
    "OrderBookItem",
    "OrderItem",
    "PositionItem",
    "TickerItem",
    "TradeItem",
]


class OrderBookItem(TypedDict):
    """One book level: symbol ``s``, side ``S`` (``"a"`` ask / ``"b"`` bid), price
    ``p`` and quantity ``q`` (base asset; contracts on COIN-M)."""

    s: str
    S: str
    p: str
    q: str


class _TradeKeys(TypedDict):
    e: str
    E: int
    s: str
    p: str
    q: str
    T: int
    m: bool


class TradeItem(_TradeKeys, total=False):
    """A ``trade`` (``t`` trade id) or ``aggTrade`` (``a`` id, ``f``..``l`` trade ids) event."""

    t: int
    a: int
    f: int
    l: int  # noqa: E741  (Binance's name)
    M: bool
    X: str


class _KlineKeys(TypedDict):
    t: int
    s: str
    i: str


class KlineItem(_KlineKeys, total=False):
    """A candle (a ``kline`` event's ``k``, or a REST kline): open time ``t``, close
    time ``T``, ``o/h/l/c`` prices, ``v`` base and ``q`` quote volume, ``n`` trades,
    ``x`` closed, ``V``/``Q`` taker volumes; ``f``/``L`` trade ids (``None`` from REST)."""

    T: int
    o: str
    c: str
    h: str
    l: str  # noqa: E741
    v: str
    n: int
    x: bool
    q: str
    V: str
    Q: str
    B: str
    f: int | None
    L: int | None


class _ContinuousKlineKeys(TypedDict):
    ps: str
    ct: str
    t: int
    i: str


class ContinuousKlineItem(_ContinuousKlineKeys, total=False):
    """A ``continuous_kline`` candle: pair ``ps``, contract type ``ct``, then the
    candle fields of :class:`KlineItem`."""

    T: int
    o: str
    c: str
    h: str
    l: str  # noqa: E741
    v: str
    n: int
    x: bool
    q: str
    V: str
    Q: str
    B: str
    f: int
    L: int


class _SymbolKeys(TypedDict):
    s: str


class TickerItem(_SymbolKeys, total=False):
    """A ``24hrTicker`` (every field) or ``24hrMiniTicker`` (``e E s c o h l v q``)."""

    e: str
    E: int
    p: str
    P: str
    w: str
    x: str
    c: str
    Q: str
    b: str
    B: str
    a: str
    A: str
    o: str
    h: str
    l: str  # noqa: E741
    v: str
    q: str
    O: int  # noqa: E741
    C: int
    F: int
    L: int
    n: int


class BookTickerItem(_SymbolKeys, total=False):
    """Best bid ``b``/``B`` (price/qty) and ask ``a``/``A``; ``u`` update id; futures
    add ``e``, ``E``, ``T``."""

    u: int
    b: str
    B: str
    a: str
    A: str
    e: str
    E: int
    T: int


class MarkPriceItem(_SymbolKeys, total=False):
    """``markPriceUpdate``: mark ``p``, index ``i``, estimated settle ``P``, funding
    rate ``r`` and next funding time ``T``."""

    e: str
    E: int
    p: str
    i: str
    P: str
    r: str
    T: int


class _IndexPriceKeys(TypedDict):
    i: str


class IndexPriceItem(_IndexPriceKeys, total=False):
    """COIN-M ``indexPriceUpdate``: pair ``i``, index price ``p``."""

    e: str
    E: int
    p: str


class CompositeIndexItem(_SymbolKeys, total=False):
    """USDⓈ-M ``compositeIndex``: price ``p`` (``None`` from REST), time ``E``,
    constituents ``c`` (``[{b, q, w, W, i}]``)."""

    p: str | None
    E: int
    c: list[dict[str, Any]]


class LiquidationItem(_SymbolKeys, total=False):
    """A ``forceOrder`` event's ``o``: side ``S``, type ``o``, quantity ``q``,
    price ``p``, average ``ap``, status ``X``, last/cumulative filled ``l``/``z``,
    time ``T``."""

    S: str
    o: str
    f: str
    q: str
    p: str
    ap: str
    X: str
    l: str  # noqa: E741
    z: str
    T: int


class _OrderKeys(TypedDict):
    s: str
    i: int


class OrderItem(_OrderKeys, total=False):
    """An open order: spot ``executionReport`` fields or futures ``ORDER_TRADE_UPDATE``
    ``o`` fields (REST ``openOrders`` mapped to the same names). Client id ``c``,
    side ``S``, type ``o``, time in force ``f``, quantity ``q``, price ``p``, status
    ``X``, filled ``z``; futures add ``ap``, ``sp``, ``ps``, ``R``..."""

    c: str
    S: str
    o: str
    f: str
    q: str
    p: str
    P: str
    F: str
    X: str
    x: str
    z: str
    Z: str
    l: str  # noqa: E741
    L: str
    n: str
    N: str | None
    e: str
    E: int
    T: int
    t: int
    w: bool
    Q: str
    ap: str
    sp: str
    R: bool
    wt: str
    ot: str
    ps: str
    cp: bool
    pP: bool


class _OCOOrderKeys(TypedDict):
    s: str
    g: int


class OCOOrderItem(_OCOOrderKeys, total=False):
    """A spot order list (``listStatus``): contingency ``c``, list status ``l``,
    order status ``L``, reject reason ``r``, client id ``C``, time ``T``, orders ``O``."""

    e: str
    E: int | None
    c: str
    l: str  # noqa: E741
    L: str
    r: str
    C: str
    T: int
    O: list[dict[str, Any]]  # noqa: E741


class _AssetKeys(TypedDict):
    a: str


class AccountItem(_AssetKeys, total=False):
    """A spot balance: asset ``a``, free ``f``, locked ``l`` (absolute amounts)."""

    f: str
    l: str  # noqa: E741


class BalanceItem(_AssetKeys, total=False):
    """A futures balance: asset ``a``, wallet ``wb``, cross wallet ``cw``, change ``bc``."""

    wb: str
    cw: str
    bc: str


class _PositionKeys(TypedDict):
    s: str
    ps: str


class PositionItem(_PositionKeys, total=False):
    """A futures position: amount ``pa``, entry ``ep``, unrealized PnL ``up``, margin
    type ``mt`` (``None`` where REST has none), isolated wallet ``iw``; stream items
    add ``cr``, ``bep``, ``ma``."""

    pa: str
    ep: str
    up: str
    mt: str | None
    iw: str | None
    cr: str
    bep: str
    ma: str
