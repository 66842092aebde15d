"""What the live commands connect to, per exchange: URLs, subscription, store, book.

Each target names the real URLs (the demo reaches its fake exchange through
``Client(redirects=...)``, so the same URLs serve ``demo``, ``watch`` and
``record``). A book starts either from a REST snapshot (Binance:
``snapshot_url``) or from the snapshot the exchange pushes after a
subscription (Bybit, OKX, Bitget: ``subscribe``, sent on every connection).
Adding an exchange to ``watch``/``demo``: add a function to :data:`TARGETS`
(and, for ``demo``, a fake-exchange profile named ``fake_venue``; the demo's
end check also needs to know where the fake's stream is, see
``datastores/_cli/demo.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError

__all__ = ["DEFAULT_SYMBOLS", "TARGETS", "Target", "get_target", "load_store_class"]


@dataclass(frozen=True, slots=True)
class Target:
    """One exchange market the live commands can show.

    Attributes:
        exchange: the exchange name on the command line (``"binance"``).
        label: a human name (``"Binance Spot"``).
        symbol: the exchange's spelling of the symbol (``"BTCUSDT"``, ``"BTC-USDT"``).
        ws_url: the order-book stream URL.
        snapshot_url: the REST snapshot the book starts from, or ``None`` when
            the stream pushes the snapshot itself after ``subscribe``.
        store_class: ``"module:Class"`` of the DataStoreCollection.
        book_name: the collection's order-book store name.
        fake_venue: the fake-exchange venue for ``demo`` (``None``: no fake yet).
        subscribe: the JSON message subscribing the book (``send_json``; the
            WebSocketApp sends it again after each reconnect), or ``None``
            when the URL names the stream.
        channel: the book's channel or topic, for messages (``"orderbook.50.BTCUSDT"``).
        book_key: the key the book store files this book under, for
            ``status()``/``levels()`` (default: ``symbol``; Bitget v2 books are
            ``"<instType>:<instId>"``).
        fake_symbol: the fake exchange's name of the market (default: ``symbol``).
        check_depth: levels per side the demo compares with the fake's own book:
            the depth the subscription keeps (``None``: the whole book).
        checksum: whether the book's messages carry a checksum (the demo then
            corrupts one).
        fake_rate: the demo's default book updates per second (the fake OKX
            recomputes its 400-level window on every update, about 2 ms each, so
            it runs slower to leave the client most of the CPU).
    """

    exchange: str
    label: str
    symbol: str
    ws_url: str
    snapshot_url: str | None
    store_class: str
    book_name: str = "orderbook"
    fake_venue: str | None = None
    subscribe: Any = None
    channel: str = ""
    book_key: str | None = None
    fake_symbol: str | None = None
    check_depth: int | None = 100
    checksum: bool = False
    fake_rate: float = 1000.0

    @property
    def key(self) -> str:
        """The book's key in the book store (``book_key``, else ``symbol``)."""
        return self.book_key or self.symbol

    @property
    def market(self) -> str:
        """The fake exchange's name of this market (``fake_symbol``, else ``symbol``)."""
        return self.fake_symbol or self.symbol

    @property
    def recovery(self) -> str:
        """How this book recovers after a gap, for the event log."""
        if self.snapshot_url is not None:
            return "fetching a fresh REST snapshot"
        return "resubscribing for a fresh snapshot"

    def create_store(self) -> Any:
        """A new, empty collection of :attr:`store_class`."""
        return load_store_class(self.store_class)()


def _binance(symbol: str) -> Target:
    symbol = symbol.upper()
    return Target(
        exchange="binance",
        label="Binance Spot",
        symbol=symbol,
        ws_url=f"wss://stream.binance.com:9443/ws/{symbol.lower()}@depth@100ms",
        snapshot_url=f"https://api.binance.com/api/v3/depth?symbol={symbol}&limit=1000",
        store_class="datastores.exchanges.binance.store:BinanceSpotDataStore",
        fake_venue="binance-spot",
        channel=f"{symbol.lower()}@depth@100ms",
    )


def _bybit(symbol: str) -> Target:
    # Linear (USDT perpetuals), 50 levels: the snapshot after the subscription
    # starts the book; a gap resubscribes the topic on the same connection.
    # https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
    symbol = symbol.upper()
    topic = f"orderbook.50.{symbol}"
    return Target(
        exchange="bybit",
        label="Bybit USDT perpetual",
        symbol=symbol,
        ws_url="wss://stream.bybit.com/v5/public/linear",
        snapshot_url=None,
        store_class="datastores.exchanges.bybit.store:BybitDataStore",
        book_name="orderbook",
        fake_venue="bybit-linear",
        subscribe={"op": "subscribe", "args": [topic]},
        channel=topic,
        check_depth=50,
    )


def _okx(symbol: str) -> Target:
    # ``books``: 400 levels per side, seqId/prevSeqId and a CRC32 checksum. The
    # store recovers by resubscribing, or from GET /api/v5/market/books when the
    # stream sends no snapshot (OKX is removing it in 2026; the session gives
    # the store the client for that).
    # https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
    symbol = symbol.upper()
    if "-" not in symbol and symbol.endswith(("USDT", "USDC")):
        symbol = f"{symbol[:-4]}-{symbol[-4:]}"  # btcusdt -> BTC-USDT
    return Target(
        exchange="okx",
        label="OKX",
        symbol=symbol,
        ws_url="wss://ws.okx.com:8443/ws/v5/public",
        snapshot_url=None,
        store_class="datastores.exchanges.okx.store:OKXDataStore",
        book_name="books",
        fake_venue="okx",
        subscribe={"op": "subscribe", "args": [{"channel": "books", "instId": symbol}]},
        channel="books",
        check_depth=400,
        checksum=True,
        fake_rate=200.0,
    )


def _bitget(symbol: str) -> Target:
    # v2 ``books`` of USDT-FUTURES: the whole book, a checksum and an increasing
    # ``seq``; the v2 book store files it under "<instType>:<instId>".
    # https://www.bitget.com/api-doc/contract/websocket/public/Order-Book-Channel
    symbol = symbol.upper()
    inst_type = "USDT-FUTURES"
    key = f"{inst_type}:{symbol}"
    return Target(
        exchange="bitget",
        label="Bitget USDT-FUTURES",
        symbol=symbol,
        ws_url="wss://ws.bitget.com/v2/ws/public",
        snapshot_url=None,
        store_class="datastores.exchanges.bitget.store:BitgetV2DataStore",
        book_name="book",
        fake_venue="bitget",
        subscribe={
            "op": "subscribe",
            "args": [{"instType": inst_type, "channel": "books", "instId": symbol}],
        },
        channel="books",
        book_key=key,
        fake_symbol=key,
        check_depth=None,
        checksum=True,
    )


#: exchange name -> target factory taking the symbol
TARGETS: dict[str, Callable[[str], Target]] = {
    "binance": _binance,
    "bybit": _bybit,
    "okx": _okx,
    "bitget": _bitget,
}

#: symbol used when none is given
DEFAULT_SYMBOLS: dict[str, str] = {
    "binance": "BTCUSDT",
    "bybit": "BTCUSDT",
    "okx": "BTC-USDT",
    "bitget": "BTCUSDT",
}


def get_target(exchange: str, symbol: str | None = None) -> Target:
    """The target for ``exchange`` and ``symbol`` (default symbol if ``None``).

    Raises:
        ConfigurationError: unknown exchange (the message lists the known ones).
    """
    factory = TARGETS.get(exchange.lower())
    if factory is None:
        raise ConfigurationError(
            f"no live view for exchange {exchange!r} yet; available: {', '.join(sorted(TARGETS))}"
        )
    return factory(symbol or DEFAULT_SYMBOLS[exchange.lower()])


def load_store_class(name: str) -> type[Any]:
    """A DataStoreCollection class from ``"module:Class"`` or a bare class name.

    A bare name is looked up in ``datastores`` and then in every
    ``datastores.exchanges.<exchange>.store`` module.

    Raises:
        ConfigurationError: not found, or not importable (the reason is given).
    """
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(f"cannot import {module_name!r} for {name!r}: {exc}") from exc
        found = getattr(module, attribute, None)
        if not isinstance(found, type):
            raise ConfigurationError(f"{module_name!r} has no class {attribute!r}")
        return found
    import datastores
    from datastores.exchanges import EXCHANGES

    found = getattr(datastores, name, None)
    if isinstance(found, type):
        return found
    for exchange in EXCHANGES:
        try:
            module = importlib.import_module(f"datastores.exchanges.{exchange}.store")
        except ImportError:
            continue
        found = getattr(module, name, None)
        if isinstance(found, type):
            return found
    raise ConfigurationError(
        f"no DataStoreCollection class named {name!r}; give 'module:Class' or a class name "
        "such as BinanceSpotDataStore"
    )
