"""Exchange profiles for the fake exchanges, one module per exchange.

Each module ``datastores.testing.profiles.<exchange>`` defines ``PROFILES``: a
dict from venue name (``"binance-spot"``) to an
:class:`~datastores.testing._profile.ExchangeProfile` subclass. A name given to
:class:`~datastores.testing.FakeExchange` is either a venue name or an exchange
name (all of that exchange's venues). Adding an exchange: add its module and
nothing else: modules in this package are discovered.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._profile import ExchangeProfile

__all__ = ["EXCHANGES", "available", "resolve_profiles"]

#: exchanges with a fake-exchange profile module (every module of this package)
EXCHANGES: tuple[str, ...] = tuple(
    sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
)


def _module_profiles(exchange: str) -> dict[str, type[ExchangeProfile]]:
    module = importlib.import_module(f"{__name__}.{exchange}")
    profiles: dict[str, type[ExchangeProfile]] = module.PROFILES
    return profiles


def available() -> list[str]:
    """Every venue name a fake exchange can serve."""
    return [name for exchange in EXCHANGES for name in _module_profiles(exchange)]


def resolve_profiles(name: str) -> list[type[ExchangeProfile]]:
    """The profile classes for an exchange name (all venues) or a venue name.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    exchange = name.split("-", 1)[0].lower()
    if exchange in EXCHANGES:
        profiles = _module_profiles(exchange)
        if name.lower() == exchange:
            return list(profiles.values())
        if name.lower() in profiles:
            return [profiles[name.lower()]]
    raise ValueError(
        f"no fake-exchange profile {name!r}; known: {', '.join([*EXCHANGES, *available()])}"
    )
