"""One market the live commands (``demo``, ``watch``, ``record``) can show.

:class:`Target` is plain data: the real URLs (the demo reaches its fake
exchange through ``Client(redirects=...)``, so the same URLs serve ``demo``,
``watch`` and ``record``), the subscription, the store class path, the book and
what the demo's end check needs. A book starts either from a REST snapshot
(``snapshot_url``) or from the snapshot the exchange pushes after a
subscription (``subscribe``, sent on every connection).

Each exchange declares its targets in its own package,
``datastores/exchanges/<exchange>/cli.py`` (see :mod:`datastores._cli._targets`);
this module imports nothing from the exchanges so those modules can import it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError

__all__ = ["Target", "load_store_class"]


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
        stream_position: for the demo's end check, ``stream_position(venue,
            truth)`` gives the update id the local book shows once it has
            applied everything the fake venue sent (``None``: the fake has no
            such stream open); ``truth`` is the fake's book for the market. When
            ``None`` the id is ``truth.last_update_id`` (the market's own id).
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
    stream_position: Callable[[Any, Any], int | None] | None = None

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

    def position_in_stream(self, venue: Any, truth: Any) -> int | None:
        """The demo's catch-up mark: see :attr:`stream_position`."""
        if self.stream_position is None:
            return int(truth.last_update_id)
        return self.stream_position(venue, truth)

    def create_store(self) -> Any:
        """A new, empty collection of :attr:`store_class`."""
        return load_store_class(self.store_class)()


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
