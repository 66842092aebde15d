"""What the live commands connect to: the targets each exchange declares, discovered.

An exchange with command-line support has a module
``datastores/exchanges/<exchange>/cli.py`` defining ``DEFAULT_SYMBOL`` and
``target(symbol) -> Target`` (see :class:`~datastores._cli._target.Target`);
the packages of :mod:`datastores.exchanges` are scanned with :mod:`pkgutil`, so
adding an exchange to ``watch``/``record``/``demo`` touches only its package
(and, for ``demo``, its fake exchange under ``datastores/testing/profiles/``).
``_`` packages (the exchange template) are skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable

from .._errors import ConfigurationError
from ._target import Target, load_store_class

__all__ = ["DEFAULT_SYMBOLS", "TARGETS", "Target", "get_target", "load_store_class"]


def _discover() -> tuple[dict[str, Callable[[str], Target]], dict[str, str]]:
    import datastores.exchanges as exchanges

    targets: dict[str, Callable[[str], Target]] = {}
    defaults: dict[str, str] = {}
    for found in pkgutil.iter_modules(exchanges.__path__):
        name = f"{exchanges.__name__}.{found.name}.cli"
        if not found.ispkg or found.name.startswith("_") or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        targets[found.name] = module.target
        defaults[found.name] = module.DEFAULT_SYMBOL
    return targets, defaults


#: exchange name -> target factory taking the symbol (from each exchange's ``cli`` module)
TARGETS: dict[str, Callable[[str], Target]]
#: exchange name -> symbol used when none is given
DEFAULT_SYMBOLS: dict[str, str]
TARGETS, DEFAULT_SYMBOLS = _discover()


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
