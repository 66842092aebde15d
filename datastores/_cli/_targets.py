"""What the live commands connect to, per exchange: URLs, store class, book store.

Each target names the real URLs (the demo reaches its fake exchange through
``Client(redirects=...)``, so the same URLs serve ``demo`` and ``watch``).
Adding an exchange to ``watch``/``demo``: add a function to :data:`TARGETS`
(and, for ``demo``, a fake-exchange profile named ``fake_venue``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError

__all__ = ["TARGETS", "Target", "get_target", "load_store_class"]


@dataclass(frozen=True, slots=True)
class Target:
    """One exchange market the live commands can show.

    Attributes:
        exchange: the exchange name on the command line (``"binance"``).
        label: a human name (``"Binance Spot"``).
        symbol: the exchange's spelling of the symbol (``"BTCUSDT"``).
        ws_url: the diff-depth stream URL.
        snapshot_url: the REST snapshot the book starts from.
        store_class: ``"module:Class"`` of the DataStoreCollection.
        book_name: the collection's order-book store name.
        fake_venue: the fake-exchange venue for ``demo`` (``None``: no fake yet).
    """

    exchange: str
    label: str
    symbol: str
    ws_url: str
    snapshot_url: str
    store_class: str
    book_name: str = "orderbook"
    fake_venue: str | None = None

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
    )


#: exchange name -> target factory taking the symbol
TARGETS: dict[str, Callable[[str], Target]] = {"binance": _binance}

#: symbol used when none is given
DEFAULT_SYMBOLS: dict[str, str] = {"binance": "BTCUSDT"}


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
