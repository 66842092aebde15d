"""docs/capabilities.md is what the code declares, and the book classification is honest."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from datastores._orderbook import OrderBookStore
from datastores.apps import capabilities
from datastores.apps.capabilities import VERIFICATION_KINDS, book_rows, render

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "capabilities.md"


def _book_class(path: str) -> type[OrderBookStore]:
    module, _, name = path.partition(":")
    found = getattr(importlib.import_module(module), name)
    assert isinstance(found, type), path
    assert issubclass(found, OrderBookStore), path
    return found


def test_the_committed_page_is_the_generated_one() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(ROOT / "docs"), (
        "docs/capabilities.md is stale: python -m datastores.apps.capabilities docs/capabilities.md"
    )


def test_every_book_of_every_collection_declares_its_own_verification() -> None:
    rows = book_rows()  # raises KeyError for a book class without its own _VERIFICATION
    assert rows
    for row in rows:
        assert vars(_book_class(row.book_class))["_VERIFICATION"] == (row.verification, row.how)


def test_a_book_class_that_inherits_its_verification_is_refused(monkeypatch: Any) -> None:
    from datastores.exchanges.binance import _books

    class Copied(_books.BinanceSpotOrderBook):  # declares nothing of its own
        pass

    monkeypatch.setattr(capabilities, "_stores", lambda collection: iter([("book", Copied)]))
    with pytest.raises(KeyError, match="is not classified"):
        book_rows()


def test_the_classification_agrees_with_the_book_classes() -> None:
    for row in book_rows():
        book, kinds, how = _book_class(row.book_class), row.verification, row.how
        path = row.book_class
        assert kinds, path
        assert set(kinds) <= set(VERIFICATION_KINDS), path
        assert how, path
        # A book said to check a sequence has a sequence rule.
        if "sequence" in kinds:
            assert getattr(book, "_RULE", None) is not None, path
        # "none" is exactly what the store itself reports as unverifiable.
        assert ("none" in kinds) == (not book._VERIFIABLE), path
        if "none" in kinds or "whole frames" in kinds:
            assert len(kinds) == 1, path


def test_every_exchange_package_has_a_row_and_every_collection_a_channel_row() -> None:
    from datastores.exchanges import EXCHANGES

    text = render(ROOT / "docs")
    rows = capabilities.exchange_rows()
    assert [row.exchange for row in rows] == list(EXCHANGES)
    for collection in capabilities.collection_classes():
        assert f"\n| `{collection.__name__}` | `" in text
    # The exchanges with collections also have a fake and a command-line target today.
    for row in rows:
        if row.collections:
            assert row.fake_venues, row.exchange
            assert row.cli_symbol, row.exchange
            assert row.demo, row.exchange
