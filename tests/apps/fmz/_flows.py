"""The order-entry flows that the Bybit and Bitget adapters share, run against their fakes:
one spot order's life (place, list, cancel, a market buy that fills, history, a refusal) and
a swap position that follows fills in one-way mode, then in hedge mode once the exchange
says so. What differs between the exchanges (book and venue names, error codes, order ids)
is in a :class:`Flow`; each exchange's test file asserts its own extras around these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from _fmztools import Agent, poll

from datastores.apps.fmz.adapter import decimal_text
from datastores.testing import FakeExchange


@dataclass(frozen=True)
class Flow:
    """One exchange's names and answers in the shared flows."""

    exchange: str  # the bridge route, "Bybit"
    spot_book: Callable[[FakeExchange], Any]  # the fake's BTC/USDT spot book
    swap_venue: str  # the fake venue whose matching engine serves the swap
    check_order_id: Callable[[str], None]  # asserts the shape of a spot order id
    cancel_refused: str  # the start of the error for cancelling a cancelled order
    order_refused: str  # the start of the error for an order beyond the balance
    oversize_order: dict[str, str]  # the params of that order
    close_refused: str  # in the error for closing a short that is not there

    async def wait_for(self, agent: Agent, method: str, params: dict[str, Any], check: Any) -> Any:
        return await poll(agent, method, params, check, exchange=self.exchange)

    async def trade(self, agent: Agent, symbol: str, kind: str, price: str, amount: str) -> Any:
        params = {"symbol": symbol, "type": kind, "price": price, "amount": amount}
        return await agent.data("trade", params, exchange=self.exchange)


async def spot_order_life(agent: Agent, fake: FakeExchange, flow: Flow) -> tuple[str, str]:
    """Place, list and cancel a resting buy, then a market buy of 0.2 BTC that fills and
    shows in the balance and the history; an order beyond the balance is refused. Starts
    with 100,000 USDT and 1 BTC; returns the two order ids (cancelled, filled)."""
    exchange = flow.exchange
    accounts = await agent.data("accounts", exchange=exchange)
    assert {r["currency"]: r["free"] for r in accounts} == {"USDT": "100000", "BTC": "1"}
    price = Decimal(flow.spot_book(fake).top(1)[0][0][0]) - 100
    placed = await flow.trade(agent, "BTC_USDT", "buy", str(price), "0.01")
    flow.check_order_id(placed["id"])
    expected = {
        "id": placed["id"], "symbol": "BTC_USDT", "amount": "0.01",
        "price": decimal_text(price), "deal_amount": "0", "avg_price": "0", "type": "buy",
        "status": "pending",
    }  # fmt: skip
    orders = await flow.wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o != [])
    assert orders == [expected]
    assert await agent.data("order", {"id": placed["id"]}, exchange=exchange) == expected
    assert await agent.data("cancel", {"id": placed["id"]}, exchange=exchange) is True
    await flow.wait_for(agent, "orders", {"symbol": "BTC_USDT"}, lambda o: o == [])
    cancelled = await agent.data("order", {"id": placed["id"]}, exchange=exchange)
    assert cancelled == {**expected, "status": "canceled"}
    error = await agent.error("cancel", {"id": placed["id"]}, exchange=exchange)
    assert error.startswith(flow.cancel_refused), error

    # A market buy of 0.2 BTC buys 0.2 BTC (whatever the exchange is sent for it).
    bought = await flow.trade(agent, "BTC_USDT", "buy", "-1", "0.2")
    done = await flow.wait_for(
        agent, "order", {"id": bought["id"]}, lambda o: o["status"] == "filled"
    )
    assert Decimal(done["deal_amount"]) == Decimal("0.2")
    await flow.wait_for(
        agent, "accounts", {},
        lambda rows: {r["currency"]: r["free"] for r in rows}.get("BTC") == "1.2",
    )  # fmt: skip
    history = await agent.data("historyorders", {"symbol": "BTC_USDT"}, exchange=exchange)
    assert [(o["id"], o["status"]) for o in history] == [
        (placed["id"], "canceled"),
        (bought["id"], "filled"),
    ]
    error = await agent.error("trade", {"symbol": "BTC_USDT", **flow.oversize_order},
                              exchange=exchange)  # fmt: skip
    assert error.startswith(flow.order_refused), error
    return placed["id"], bought["id"]


async def swap_positions(agent: Agent, fake: FakeExchange, flow: Flow) -> list[str]:
    """A long of 0.5 opened and closed at market in one-way mode (closing a short that is
    not there is refused), then, with the account switched to hedge mode, a short of 0.3
    opened and closed: the adapter learns the mode from the exchange's refusal. Returns
    the four order ids in order (open long, close long, open short, close short)."""
    swap = "BTC_USDT.swap"
    assert await agent.data("positions", exchange=flow.exchange) == []
    opened = await flow.trade(agent, swap, "buy", "-1", "0.5")
    assert opened["id"].startswith("BTCUSDT.P,")
    filled = await flow.wait_for(
        agent, "order", {"id": opened["id"]}, lambda o: o["status"] == "filled"
    )
    [long] = await flow.wait_for(agent, "positions", {"symbol": swap}, lambda p: p != [])
    assert (long["symbol"], long["amount"], long["type"]) == (swap, "0.5", 0)
    assert Decimal(long["price"]) == Decimal(filled["avg_price"])
    error = await agent.error(
        "trade", {"symbol": swap, "type": "closesell", "price": "-1", "amount": "0.1"},
        exchange=flow.exchange,
    )  # fmt: skip
    assert flow.close_refused in error
    closed = await flow.trade(agent, swap, "closebuy", "-1", "0.5")
    await flow.wait_for(agent, "positions", {"symbol": "USDT.swap"}, lambda p: p == [])

    fake.venues[flow.swap_venue].matching.hedge_mode = True
    short = await flow.trade(agent, swap, "sell", "-1", "0.3")
    await flow.wait_for(agent, "order", {"id": short["id"]}, lambda o: o["status"] == "filled")
    [position] = await flow.wait_for(agent, "positions", {"symbol": swap}, lambda p: p != [])
    assert (position["amount"], position["type"]) == ("0.3", 1)
    cover = await flow.trade(agent, swap, "closesell", "-1", "0.3")
    covered = await flow.wait_for(
        agent, "order", {"id": cover["id"]}, lambda o: o["status"] == "filled"
    )
    assert covered["type"] == "buy"  # closing a short buys
    await flow.wait_for(agent, "positions", {}, lambda p: p == [])
    return [opened["id"], closed["id"], short["id"], cover["id"]]
