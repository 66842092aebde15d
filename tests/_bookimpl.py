"""The two book-side implementations, for tests that run against both.

``datastores._bookside`` picks the C extension (``datastores._cbookside``) when
it was built and ``DATASTORES_PURE`` is unset, else the pure-Python
``PySide``/``py_apply_levels``. The ``book_impl`` fixture (``tests/conftest.py``)
runs a test module once per available implementation by pointing the stores'
module globals at it; :func:`shrink_sides` makes every new side take its
large-book path (a SortedList in Python, many small chunks in C).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from datastores import _bookside, _orderbook
from datastores._bookside import MAX_VALUE, PySide, check_level, malformed, py_apply_levels

try:
    from datastores import _cbookside as native_module
except ImportError:  # built without a compiler: only the fallback runs
    native: ModuleType | None = None
else:
    native = native_module
    # What datastores._bookside does when it picks the extension: needed here too,
    # for DATASTORES_PURE=1 keeps _bookside from importing it.
    native._setup(check_level, malformed, MAX_VALUE)

#: modules that create sides with their own ``Side`` global
_USERS = ("datastores._orderbook", "datastores.exchanges.bitmex._book")


def is_plain_pair(level: object) -> bool:
    """Whether the native side stores ``level`` as a compact ``Level``: an exact list
    or tuple of exactly two exact ``str`` of ASCII characters, at most 255 each."""
    return (
        (level.__class__ is list or level.__class__ is tuple)
        and len(level) == 2  # type: ignore[arg-type]
        and all(
            v.__class__ is str and v.isascii() and len(v) <= 255
            for v in level  # type: ignore[attr-defined]
        )
    )


def same_level(stored: Any, received: Any) -> bool:
    """Whether ``stored`` (read from a native side) is what it keeps for ``received``
    (what the pure side keeps, the level as received): a ``Level`` equal to it for a
    plain pair (or ``received`` itself when that was a ``Level``), else the very
    object received. ``None`` matches only ``None``."""
    if received is None or stored is None:
        return stored is received
    if native is not None and received.__class__ is native.Level:
        return stored is received
    if is_plain_pair(received):
        return (
            native is not None
            and stored.__class__ is native.Level
            and list(stored) == list(received)
        )
    return stored is received


@dataclass(frozen=True)
class Impl:
    """One implementation: its side factory and apply loop."""

    name: str
    Side: Callable[..., Any]
    apply_levels: Callable[[Any, Any, float], int]

    @property
    def is_native(self) -> bool:
        return self.name == "native"


IMPLS: dict[str, Impl] = {"pure": Impl("pure", PySide, py_apply_levels)}
if native is not None:
    IMPLS["native"] = Impl("native", native.Side, native.apply_levels)


def use(impl: Impl, patch: pytest.MonkeyPatch) -> None:
    """Make the stores (and ``datastores._bookside``'s selected names) use ``impl``."""
    for name in (*_USERS, "datastores._bookside"):
        module = importlib.import_module(name)
        patch.setattr(module, "Side", impl.Side)
    for module in (_orderbook, _bookside):
        patch.setattr(module, "apply_levels", impl.apply_levels)


def shrink_sides(patch: pytest.MonkeyPatch, promote: int = 2) -> None:
    """Every side created from now on takes its large-book path: the pure side
    promotes to a SortedList past ``promote`` levels, a native side splits its
    chunks at 4 entries (and merges them again on deletions)."""
    patch.setattr(PySide, "PROMOTE", promote)
    if native is not None and _orderbook.Side is native.Side:
        small = functools.partial(native.Side, 4)
        for name in _USERS:
            patch.setattr(importlib.import_module(name), "Side", small)


@contextmanager
def small_sides(promote: int = 2) -> Iterator[None]:
    """:func:`shrink_sides` for the length of a ``with`` block (hypothesis tests)."""
    with pytest.MonkeyPatch.context() as patch:
        shrink_sides(patch, promote)
        yield
