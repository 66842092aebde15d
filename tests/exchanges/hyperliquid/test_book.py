"""The l2Book rule, as a property: the book is always the newest whole frame received."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from datastores.exchanges.hyperliquid.store import HyperliquidDataStore

prices = st.integers(min_value=1, max_value=60)
sizes = st.integers(min_value=1, max_value=9)


@st.composite
def frames(draw: st.DrawFn) -> dict[str, Any]:
    mid = draw(st.integers(min_value=20, max_value=40))
    bid_prices = draw(st.sets(st.integers(min_value=1, max_value=mid), max_size=20))
    ask_prices = draw(st.sets(st.integers(min_value=mid + 1, max_value=70), max_size=20))
    bids = [
        {"px": f"{p}.0", "sz": f"{draw(sizes)}.5", "n": draw(sizes)}
        for p in sorted(bid_prices, reverse=True)
    ]
    asks = [
        {"px": f"{p}.0", "sz": f"{draw(sizes)}.5", "n": draw(sizes)} for p in sorted(ask_prices)
    ]
    return {
        "coin": draw(st.sampled_from(["BTC", "@107"])),
        "time": draw(st.integers(min_value=0, max_value=50)),
        "levels": [bids, asks],
    }


def as_levels(levels: list[dict[str, Any]]) -> list[list[Any]]:
    return [[level["px"], level["sz"], level["n"]] for level in levels]


@settings(max_examples=80, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=12), st.booleans())
def test_book_is_the_newest_frame(sequence: list[dict[str, Any]], reconnect: bool) -> None:
    store = HyperliquidDataStore()
    newest: dict[str, dict[str, Any]] = {}
    for index, frame in enumerate(sequence):
        store.onmessage({"channel": "l2Book", "data": frame})
        store.l2_book._check()
        coin = frame["coin"]
        if coin not in newest or frame["time"] >= newest[coin]["time"]:
            newest[coin] = frame
        if reconnect and index == len(sequence) // 2:
            store.on_reconnect(None)
            newest = {}  # after a reconnect the next frame is taken whatever its time
    for coin, frame in newest.items():
        bids, asks = frame["levels"]
        assert store.l2_book.levels(coin) == (as_levels(asks), as_levels(bids))
        best_ask, best_bid = store.l2_book.best(coin)
        if best_ask and best_bid:
            assert Decimal(best_bid["px"]) < Decimal(best_ask["px"])
        assert store.l2_book.status(coin).last_update_id == frame["time"]
