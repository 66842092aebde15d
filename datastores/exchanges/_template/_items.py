"""Item types of the example exchange's stores: one ``TypedDict`` per store.

Fields keep the exchange's own names and value types (prices and sizes stay the
strings the exchange sent). Fields every item has are required; the others go in a
``total=False`` subclass. TODO(<x>): the fields of your exchange's messages.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["OrderBookItem", "TradeItem"]


class OrderBookItem(TypedDict):
    """One book level: ``symbol``, ``side`` (``"ask"``/``"bid"``), ``price``, ``size``."""

    symbol: str
    side: str
    price: str
    size: str


class TradeItem(TypedDict):
    """One public trade, as the ``trade`` channel sends it."""

    symbol: str
    id: int
    price: str
    size: str
    side: str
