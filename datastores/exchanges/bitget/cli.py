"""Bitget's targets for the command line (``datastores demo|watch|record --exchange bitget``).

Plain data, found by :mod:`datastores._cli._targets`; importing it loads nothing else
of the exchange.
"""

from __future__ import annotations

from ..._cli._target import Target

__all__ = ["DEFAULT_SYMBOL", "target"]

#: symbol used when none is given
DEFAULT_SYMBOL = "BTCUSDT"


def target(symbol: str) -> Target:
    """v2 ``books`` of USDT-FUTURES: the whole book, a checksum and an increasing ``seq``.

    The v2 book store files it under ``"<instType>:<instId>"``; the demo's end
    check compares the book's ``seq`` with the fake market's own id.
    https://www.bitget.com/api-doc/contract/websocket/public/Order-Book-Channel
    """
    symbol = symbol.upper()
    inst_type = "USDT-FUTURES"
    key = f"{inst_type}:{symbol}"
    return Target(
        exchange="bitget",
        label="Bitget USDT-FUTURES",
        symbol=symbol,
        ws_url="wss://ws.bitget.com/v2/ws/public",
        snapshot_url=None,
        store_class="datastores.exchanges.bitget.store:BitgetV2DataStore",
        book_name="book",
        fake_venue="bitget",
        subscribe={
            "op": "subscribe",
            "args": [{"instType": inst_type, "channel": "books", "instId": symbol}],
        },
        channel="books",
        book_key=key,
        fake_symbol=key,
        check_depth=None,
        checksum=True,
    )
