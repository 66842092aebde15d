"""Typed store declarations: ``trade = StoreField(Trade)`` on a collection class.

A :class:`StoreField` names a store of a :class:`~datastores.DataStoreCollection`
and its class. The collection's ``__init__`` creates every declared store (in
declaration order, base classes first) before ``_init()`` runs, and the type
checker sees ``collection.trade`` as a ``Trade``: no accessor property, no
``type: ignore``. A subclass redeclares a field to narrow its class
(``orderbook = StoreField(BinanceSpotOrderBook)``); the store keeps its place.

Reading a declared store costs an instance-dict lookup: the collection stores
each one under its attribute name, which shadows this (non-data) descriptor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from ._store import DataStore

if TYPE_CHECKING:
    from ._collection import DataStoreCollection

__all__ = ["StoreField", "declared_stores"]

StoreT = TypeVar("StoreT", bound=DataStore[Any])


class StoreField(Generic[StoreT]):
    """One declared store: its class, its name in the collection, its key fields.

    Args:
        store_class: the :class:`~datastores.DataStore` subclass to create.
        name: the store's name (``collection["name"]``); defaults to the attribute name.
        keys: key fields, when not the class's ``_KEYS``.
    """

    __slots__ = ("attribute", "keys", "name", "store_class")

    def __init__(
        self,
        store_class: type[StoreT],
        name: str | None = None,
        *,
        keys: Iterable[str] | None = None,
    ) -> None:
        self.store_class = store_class
        self.name = name
        self.keys = tuple(keys) if keys is not None else None
        self.attribute = name or ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute
        if self.name is None:
            self.name = attribute

    def __repr__(self) -> str:
        return f"StoreField({self.store_class.__name__}, name={self.name!r})"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> StoreField[StoreT]: ...

    @overload
    def __get__(self, obj: DataStoreCollection, owner: type | None = None) -> StoreT: ...

    def __get__(
        self, obj: DataStoreCollection | None, owner: type | None = None
    ) -> StoreField[StoreT] | StoreT:
        if obj is None:
            return self
        # Only reached before the collection created its stores (they shadow us).
        return cast(StoreT, obj._stores[self.name or self.attribute])


def declared_stores(cls: type) -> list[StoreField[Any]]:
    """The store fields of ``cls``, base classes' first, a redeclared field in the
    place of the one it replaces. O(attributes of the class hierarchy)."""
    fields: dict[str, StoreField[Any]] = {}
    for klass in reversed(cls.__mro__):
        for attribute, value in vars(klass).items():
            if isinstance(value, StoreField):
                fields[attribute] = value
    return list(fields.values())
