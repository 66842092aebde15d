"""The fake exchanges' per-exchange parts, one package per exchange, discovered.

``datastores/testing/profiles/<exchange>/`` holds everything the server side
knows about one exchange, in modules named by role (each optional):

* ``profile.py``: ``PROFILES``, a dict from venue name (``"binance-spot"``) to
  an :class:`~datastores.testing._profile.ExchangeProfile` subclass, for
  :class:`~datastores.testing.FakeExchange`;
* ``dialect.py``: ``DIALECT``, the server side of its WebSocket protocol (a
  :class:`~datastores.testing.Dialect` subclass, for
  :class:`~datastores.testing.WsTestServer`);
* ``verifier.py``: ``SCHEMES``, its HTTP signature rules and error answers
  (:class:`~datastores.testing._verify.SigningScheme` by scheme name, for
  :class:`~datastores.testing.SignedServer`).

Adding an exchange's fake means adding its package and nothing else: the
packages of this one are found with :mod:`pkgutil`, and a role module is
imported only when something asks for that role. Nothing here imports the
client's ``datastores.exchanges`` code: a client accepted by these servers is
evidence that both sides read the exchange's documentation the same way.

A name given to :class:`~datastores.testing.FakeExchange` is either a venue
name or an exchange name (all of that exchange's venues). Folders whose name
starts with ``_`` (the exchange template, ``_template``) are listed nowhere and
served only when named exactly.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

    from .._profile import ExchangeProfile
    from .._verify import SigningScheme
    from .._ws_dialects import Dialect

__all__ = [
    "EXCHANGES",
    "FOLDERS",
    "available",
    "dialects",
    "resolve_profiles",
    "signing_schemes",
]

#: every exchange package of the fake (each has a dialect, a verifier, or both)
FOLDERS: tuple[str, ...] = tuple(
    sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg and not m.name.startswith("_"))
)


def _role(exchange: str, role: str) -> ModuleType | None:
    """``profiles.<exchange>.<role>`` imported, or ``None`` when the exchange has none."""
    name = f"{__name__}.{exchange}.{role}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def _has_role(exchange: str, role: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{exchange}.{role}") is not None


#: exchanges with fake-exchange venues (a ``profile`` module)
EXCHANGES: tuple[str, ...] = tuple(x for x in FOLDERS if _has_role(x, "profile"))


def _is_private_profile(exchange: str) -> bool:
    """A ``_`` folder with a profile (the template): resolvable, never listed."""
    return (
        exchange.startswith("_") and exchange[1:].isidentifier() and _has_role(exchange, "profile")
    )


def _module_profiles(exchange: str) -> dict[str, type[ExchangeProfile]]:
    module = _role(exchange, "profile")
    assert module is not None  # EXCHANGES lists only exchanges with a profile module
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
    if exchange in EXCHANGES or _is_private_profile(exchange):
        profiles = _module_profiles(exchange)
        if name.lower() == exchange:
            return list(profiles.values())
        if name.lower() in profiles:
            return [profiles[name.lower()]]
    raise ValueError(
        f"no fake-exchange profile {name!r}; known: {', '.join([*EXCHANGES, *available()])}"
    )


@functools.cache
def dialects() -> dict[str, type[Dialect]]:
    """WebSocket dialect classes by exchange name, plus ``"plain"`` (the base :class:`Dialect`).

    Imports every exchange's ``dialect`` module on the first call (they are small).
    """
    from .._ws_dialects import Dialect

    found: dict[str, type[Dialect]] = {"plain": Dialect}
    for exchange in FOLDERS:
        module = _role(exchange, "dialect")
        if module is not None:
            found[exchange] = module.DIALECT
    return found


@functools.cache
def signing_schemes() -> dict[str, SigningScheme]:
    """HTTP signing schemes by name (``"okx"``, ``"binance-usdsm"``, ``"mexc-futures"``...).

    Imports every exchange's ``verifier`` module on the first call.

    Raises:
        RuntimeError: two exchanges declare the same scheme name.
    """
    found: dict[str, SigningScheme] = {}
    for exchange in FOLDERS:
        module = _role(exchange, "verifier")
        if module is None:
            continue
        for name, scheme in module.SCHEMES.items():
            if name in found:
                raise RuntimeError(f"signing scheme {name!r} declared twice ({exchange})")
            found[name] = scheme
    return found
