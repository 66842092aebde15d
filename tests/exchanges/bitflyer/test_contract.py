"""bitFlyer's collection under the collection contract.

The board has no sequence rule (bitFlyer sends no ids), so the contract's random-stream
model does not apply; ``test_book.py`` runs bitFlyer's own model of its book rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _contract import CollectionContract, ContractCase, load_messages

from datastores.exchanges.bitflyer.cli import target
from datastores.exchanges.bitflyer.store import bitFlyerDataStore

DATA = Path(__file__).parent / "data"
PC = "FX_BTC_JPY"


def note(channel: str, message: object) -> dict[str, object]:
    params = {"channel": channel, "message": message}
    return {"jsonrpc": "2.0", "method": "channelMessage", "params": params}


class TestBitflyerContract(CollectionContract):
    @pytest.fixture
    def case(self) -> ContractCase:
        return ContractCase(
            bitFlyerDataStore,
            load_messages(DATA / "public.jsonl") + load_messages(DATA / "private.jsonl"),
            "wss://ws.lightstream.bitflyer.com/json-rpc",
            malformed=[
                note(f"lightning_board_{PC}", {"mid_price": 1, "bids": "x", "asks": []}),
                note(f"lightning_board_snapshot_{PC}", {"bids": [{"price": None}], "asks": []}),
                note(f"lightning_ticker_{PC}", [1]),
                note(f"lightning_executions_{PC}", {"id": 1}),
                note("child_order_events", [{"no": "event_type"}]),
                note("parent_order_events", "x"),
                note("lightning_contract_unknown", {}),
                {"jsonrpc": "2.0", "method": "channelMessage", "params": {}},
            ],
            live=target(PC),
        )
