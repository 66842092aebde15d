"""Private WebSocket channels of the fake OKX venues: subscriptions and pushes.

``orders``, ``positions``, ``account`` and ``balance_and_position`` are
subscribed with their own filters (``instType``, ``instFamily``, ``instId``,
``ccy``) and every push is framed with the subscription's ``arg`` plus the
account's ``uid``; the first push after a subscription is a snapshot (none for
``orders``). https://www.okx.com/docs-v5/en/#trading-account-websocket-account-channel
and the following sections; shapes are in :mod:`._account`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .... import _json
from ...account import AccountEvent
from ._account import (
    balance_row,
    balance_summary,
    matches,
    okx_order,
    position_row,
    position_summary,
)

if TYPE_CHECKING:
    from ..._connection import FakeConnection
    from .profile import OKXProfile

__all__ = ["UID", "OKXPrivate"]

#: the account's user id shown in private pushes
UID = "448808150306816"
#: the subscription fields that filter a private channel
_FILTERS = ("instType", "instFamily", "instId", "ccy")


class OKXPrivate:
    """The private channels of one OKX venue (bound to its profile).

    Attributes:
        subscriptions: the fake's internal topic -> the arg it was subscribed
            with (``channel`` and filters); topics nobody listens to any more are
            forgotten on the next push.
    """

    def __init__(self, profile: OKXProfile) -> None:
        self.profile = profile
        self.subscriptions: dict[str, dict[str, str]] = {}

    def register(self, channel: str, arg: Mapping[str, Any]) -> str:
        """The internal topic of a subscription to ``channel`` with the filters of
        ``arg``; remembers its arg for later pushes."""
        fields = {k: str(arg[k]) for k in _FILTERS if k in arg}
        topic = "private|" + channel + "|" + "|".join(f"{k}={v}" for k, v in sorted(fields.items()))
        self.subscriptions[topic] = {"channel": channel, **fields}
        return topic

    def first_push(self, conn: FakeConnection, channel: str, topic: str) -> None:
        """Send the snapshot OKX pushes after a subscription to ``topic`` (none for
        ``orders``)."""
        arg = self.subscriptions[topic]
        venue = self.profile.venue
        account = venue.account
        now = venue.now_ms()
        balances = [b for b in account.balances.values() if Decimal(b.free) or Decimal(b.locked)]
        positions = [
            p for p in account.positions.values() if Decimal(p.amount) and matches(arg, p.symbol)
        ]
        data: list[Any]
        if channel == "account":
            if "ccy" in arg:
                balances = [b for b in balances if b.asset == arg["ccy"]]
            data = [balance_summary(balances, now)]
        elif channel == "positions":
            mark = self.profile.mark_price
            data = [position_summary(p, mark(p.symbol), now) for p in positions]
        elif channel == "balance_and_position":
            data = [
                {
                    "pTime": str(now),
                    "eventType": "snapshot",
                    "balData": [balance_row(b, now) for b in balances],
                    "posData": [position_row(p, now) for p in positions],
                    "trades": [],
                }
            ]
        else:  # orders: OKX pushes nothing on subscribe
            return
        conn.send_json({"arg": {**arg, "uid": UID}, "data": data})

    def _push(self, channel: str, build: Callable[[Mapping[str, str]], Any]) -> None:
        venue = self.profile.venue
        for topic, arg in list(self.subscriptions.items()):
            if arg["channel"] != channel:
                continue
            if not venue.has_subscribers(topic):
                del self.subscriptions[topic]
                continue
            data = build(arg)
            if data:
                payload = {"arg": {**arg, "uid": UID}, "data": data}
                venue.publish_text(topic, _json.dumps(payload))

    def publish(self, event: AccountEvent) -> None:
        """Publish ``event`` on each private subscription it concerns, framed with
        that subscription's own ``arg``."""
        now = event.time
        if event.kind == "order" and event.order is not None:
            order = event.order
            item = okx_order(order, event)
            self._push("orders", lambda arg: [item] if matches(arg, order.symbol) else [])
        elif event.kind == "balance":
            balances = list(event.balances)

            def account(arg: Mapping[str, str]) -> list[Any]:
                # A subscription for one currency hears only about that currency.
                mine = [b for b in balances if arg.get("ccy", b.asset) == b.asset]
                return [balance_summary(mine, now)] if mine else []

            self._push("account", account)
            self._push(
                "balance_and_position",
                lambda arg: [
                    {
                        "pTime": str(now),
                        "eventType": "transferred",
                        "balData": [balance_row(b, now) for b in balances],
                        "posData": [],
                        "trades": [],
                    }
                ],
            )
        elif event.kind == "position":
            positions = list(event.positions)
            mark = self.profile.mark_price
            self._push(
                "positions",
                lambda arg: [
                    position_summary(p, mark(p.symbol), now)
                    for p in positions
                    if matches(arg, p.symbol)
                ],
            )
            self._push(
                "balance_and_position",
                lambda arg: [
                    {
                        "pTime": str(now),
                        "eventType": "filled",
                        "balData": [],
                        "posData": [position_row(p, now) for p in positions],
                        "trades": [],
                    }
                ],
            )
