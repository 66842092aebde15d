"""Hyperliquid's fake venue: one host (``api.hyperliquid.xyz``) for ``/info``,
``/exchange`` and the ``/ws`` socket.

Modelled from the exchange's documentation and the wire facts in the project's
reference: every ``l2Book`` push is a whole book (20 levels per side, 5 with
``fast``), ``allMids``/``bbo``/``trades`` channels, user streams selected by
address whose first message is a snapshot (``isSnapshot``: recent fills again after
every reconnect), ``{"method":"ping"}`` -> ``{"channel":"pong"}``, and the socket
closed without a word (1006) when a subscription names an unknown coin. Orders can be
placed and canceled through a signed ``POST /exchange`` (the signature is checked by
:mod:`.verifier`). The venue's private key is derived from the fake's secret, so
``FakeExchange("hyperliquid").apis`` works as credentials; :attr:`address` is the
account to subscribe with.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey, ReceivedRequest, Rejected
from ...fake import FakeConnection
from ...market import MarketConfig, MarketUpdate
from .verifier import verify_hyperliquid

__all__ = ["PROFILES", "HyperliquidProfile"]

_HOST = "api.hyperliquid.xyz"
_BOOK_LEVELS = 20
_FAST_LEVELS = 5
_SIDE = {"BUY": "B", "SELL": "A"}
_STATUS = {"NEW": "open", "PARTIALLY_FILLED": "open", "FILLED": "filled", "CANCELED": "canceled"}


def _ok(data: Any) -> web.Response:
    return web.json_response(data, dumps=_json.dumps)


class HyperliquidProfile(ExchangeProfile):
    """The Hyperliquid venue (perpetuals ``BTC`` and ``ETH`` by default)."""

    name: ClassVar[str] = "hyperliquid"
    exchange: ClassVar[str] = "hyperliquid"
    hosts: ClassVar[dict[str, Any]] = {_HOST: "http"}
    default_symbols: ClassVar[tuple[str, ...]] = ("BTC", "ETH")

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        # A valid secp256k1 key derived from the fake's secret: the Client signs with it.
        venue.api_secret = "0x" + hashlib.sha256(venue.api_secret.encode()).hexdigest()
        venue.api_key = ""
        self._address: str | None = None
        #: every fill of the account, oldest first (the userFills snapshot repeats them)
        self.fills: list[dict[str, Any]] = []
        #: ``time`` of the last 20-level ``l2Book`` frame published, per coin
        self.last_frame_time: dict[str, int] = {}

    @property
    def address(self) -> str:
        """The account's address (lower case), from the venue's private key."""
        if self._address is None:
            from eth_account import Account

            self._address = str(Account.from_key(self.venue.api_secret).address).lower()
        return self._address

    def market_config(self, symbol: str) -> MarketConfig:
        if symbol == "BTC":
            return MarketConfig(symbol, tick_size="1.0", lot_size="0.00001", start_price="65000")
        return MarketConfig(symbol, tick_size="0.1", lot_size="0.0001", start_price="3000")

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ws", self._ws),
            web.post("/info", self._info),
            web.post("/exchange", self._exchange),
        ]

    # ---------------------------------------------------------------- market

    def book_frame(self, symbol: str, depth: int = _BOOK_LEVELS) -> dict[str, Any]:
        """The whole-book ``l2Book`` data of ``symbol`` (top ``depth`` levels a side)."""
        market = self.venue.markets[symbol]
        sides = [
            [{"px": px, "sz": sz, "n": 1} for px, sz in market.levels(side, depth)]
            for side in ("bid", "ask")
        ]
        return {"coin": symbol, "time": self.venue.now_ms(), "levels": sides}

    def _mid(self, symbol: str) -> str:
        market = self.venue.markets[symbol]
        bids, asks = market.levels("bid", 1), market.levels("ask", 1)
        if not bids or not asks:
            return "0"
        return str((Decimal(bids[0][0]) + Decimal(asks[0][0])) / 2)

    def market_messages(self, update: MarketUpdate) -> list[Publication]:
        venue, symbol = self.venue, update.symbol
        out: list[Publication] = []
        for topic, depth in (
            (f"{symbol}|l2Book", _BOOK_LEVELS),
            (f"{symbol}|l2Book|fast", _FAST_LEVELS),
        ):
            if venue.has_subscribers(topic) or venue.faults.skip.get(symbol):
                data = self.book_frame(symbol, depth)
                if depth == _BOOK_LEVELS:
                    self.last_frame_time[symbol] = data["time"]
                out.append(
                    Publication(topic, {"channel": "l2Book", "data": data}, symbol, book=True)
                )
        if venue.has_subscribers(f"{symbol}|bbo"):
            frame = self.book_frame(symbol, 1)
            bbo = [side[0] if side else None for side in frame["levels"]]
            data = {"coin": symbol, "time": frame["time"], "bbo": bbo}
            out.append(Publication(f"{symbol}|bbo", {"channel": "bbo", "data": data}, symbol))
        if update.trades and venue.has_subscribers(f"{symbol}|trades"):
            trades = [
                {
                    "coin": symbol, "side": "A" if trade.buyer_is_maker else "B",
                    "px": trade.price, "sz": trade.size, "time": venue.now_ms(),
                    "hash": f"0x{trade.trade_id:064x}", "tid": trade.trade_id,
                    "users": ["0x" + "1" * 40, "0x" + "2" * 40],
                }
                for trade in update.trades
            ]  # fmt: skip
            out.append(Publication(f"{symbol}|trades", {"channel": "trades", "data": trades}))
        if venue.has_subscribers("allMids"):
            mids = {coin: self._mid(coin) for coin in venue.markets}
            out.append(Publication("allMids", {"channel": "allMids", "data": {"mids": mids}}))
        return out

    # ----------------------------------------------------------------- socket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(request, self._on_text)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        try:
            request = _json.loads(text)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            conn.send_json({"channel": "error", "data": f"Error parsing JSON: {text[:100]}"})
            return
        method = request.get("method")
        if method == "ping":
            conn.send_json({"channel": "pong"})
        elif method in ("subscribe", "unsubscribe"):
            self._on_subscription(conn, method, request.get("subscription"))
        else:
            conn.send_json({"channel": "error", "data": f"Unknown method: {method}"})

    def _on_subscription(self, conn: FakeConnection, method: str, subscription: Any) -> None:
        if not isinstance(subscription, dict):
            conn.send_json({"channel": "error", "data": "Invalid subscription"})
            return
        kind, coin = subscription.get("type"), subscription.get("coin")
        if coin is not None and coin not in self.venue.markets:
            conn.close(1006, abort=True)  # the real server drops the whole socket, no message
            return
        if kind == "l2Book":
            topic = f"{coin}|l2Book" + ("|fast" if subscription.get("fast") else "")
        elif kind in ("trades", "bbo"):
            topic = f"{coin}|{kind}"
        elif kind == "allMids":
            topic = "allMids"
        elif kind in ("orderUpdates", "userFills") and subscription.get("user") == self.address:
            topic = f"user|{kind}"
        else:
            conn.send_json({"channel": "error", "data": f"Invalid subscription: {subscription}"})
            return
        subscribed = conn.state.setdefault("topics", set())
        if method == "unsubscribe":
            subscribed.discard(topic)
            conn.unsubscribe(topic)
        elif topic in subscribed:
            conn.send_json({"channel": "error", "data": f"Already subscribed: {subscription}"})
            return
        else:
            subscribed.add(topic)
            conn.subscribe(topic)
        ack = {"method": method, "subscription": subscription}
        conn.send_json({"channel": "subscriptionResponse", "data": ack})
        if method == "subscribe" and topic == "user|userFills":
            snapshot = {"isSnapshot": True, "user": self.address, "fills": list(self.fills)}
            conn.send_json({"channel": "userFills", "data": snapshot})
        elif method == "subscribe" and kind == "l2Book" and coin is not None:
            depth = _FAST_LEVELS if subscription.get("fast") else _BOOK_LEVELS
            data = self.book_frame(coin, depth)
            if depth == _BOOK_LEVELS:
                self.last_frame_time[coin] = data["time"]
            conn.send_json({"channel": "l2Book", "data": data})

    # -------------------------------------------------------------- account

    def _order(self, order: Any) -> dict[str, Any]:
        remaining = Decimal(order.quantity) - Decimal(order.executed)
        return {
            "coin": order.symbol, "side": _SIDE[order.side], "limitPx": order.price,
            "sz": format(remaining.normalize(), "f"), "oid": order.order_id,
            "timestamp": order.created, "origSz": order.quantity,
        }  # fmt: skip

    def account_messages(self, event: Any) -> list[Any]:
        # Published here on the per-channel user topics; nothing goes on the shared "user".
        venue, order = self.venue, event.order
        if event.kind != "order" or order is None:
            return []
        status = _STATUS[order.status]
        update = {"order": self._order(order), "status": status, "statusTimestamp": event.time}
        venue.publish_text(
            "user|orderUpdates", _json.dumps({"channel": "orderUpdates", "data": [update]})
        )
        if event.execution == "TRADE":
            fill = {
                "coin": order.symbol, "px": event.last_price, "sz": event.last_quantity,
                "side": _SIDE[order.side], "time": event.time, "startPosition": "0.0",
                "dir": "Open Long" if order.side == "BUY" else "Open Short", "closedPnl": "0.0",
                "hash": f"0x{event.trade_id:064x}", "oid": order.order_id, "crossed": False,
                "fee": "0.0", "tid": event.trade_id, "feeToken": "USDC",
            }  # fmt: skip
            self.fills.append(fill)
            data = {"user": self.address, "fills": [fill]}
            venue.publish_text(
                "user|userFills", _json.dumps({"channel": "userFills", "data": data})
            )
        return []

    # ------------------------------------------------------------------ REST

    async def _info(self, request: web.Request) -> web.Response:
        try:
            query = _json.loads(await request.read())
        except ValueError:
            return web.Response(status=422, text="Failed to deserialize the JSON body")
        kind = query.get("type") if isinstance(query, dict) else None
        account = self.venue.account
        if kind == "l2Book" and query.get("coin") in self.venue.markets:
            return _ok(self.book_frame(query["coin"]))
        if kind == "allMids":
            return _ok({coin: self._mid(coin) for coin in self.venue.markets})
        if kind == "meta":
            universe = [{"name": coin, "szDecimals": 5} for coin in self.venue.markets]
            return _ok({"universe": universe})
        if kind in ("openOrders", "frontendOpenOrders"):
            return _ok([self._order(order) for order in account.open_orders()])
        if kind == "userFills":
            return _ok(list(reversed(self.fills)))  # newest first, as the exchange answers
        if kind == "clearinghouseState":
            summary = {"accountValue": "0.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0",
                       "totalMarginUsed": "0.0"}  # fmt: skip
            return _ok(
                {
                    "marginSummary": summary, "crossMarginSummary": summary,
                    "crossMaintenanceMarginUsed": "0.0", "withdrawable": "0.0",
                    "assetPositions": [], "time": self.venue.now_ms(),
                }
            )  # fmt: skip
        return web.Response(status=422, text="Failed to deserialize the JSON body")

    async def _exchange(self, request: web.Request) -> web.Response:
        body = await request.read()
        received = ReceivedRequest(request.method, _HOST, "/exchange", "", request.headers, body)
        keys = {self.address: FakeKey(self.address, self.venue.api_secret)}
        try:
            verify_hyperliquid(received, keys, self.venue.clock.time())
        except Rejected as rejected:
            return _ok({"status": "err", "response": rejected.message})
        action = _json.loads(body)["action"]
        venue = self.venue
        statuses: list[Any] = []
        if action.get("type") == "order":
            coins = list(venue.markets)
            for wire in action.get("orders", []):
                coin = coins[int(wire["a"])] if int(wire["a"]) < len(coins) else None
                if coin is None:
                    statuses.append({"error": "Order has invalid asset."})
                    continue
                side = "BUY" if wire["b"] else "SELL"
                event = venue.account.place(
                    venue.now_ms(), coin, side, wire["s"], wire["p"], "LIMIT", wire.get("c")
                )
                venue.emit_account(event)
                assert event.order is not None
                statuses.append({"resting": {"oid": event.order.order_id}})
            return _ok(
                {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
            )
        if action.get("type") == "cancel":
            for cancel in action.get("cancels", []):
                try:
                    event = venue.account.cancel(venue.now_ms(), int(cancel["o"]))
                except (KeyError, ValueError):
                    statuses.append(
                        {"error": "Order was never placed, already canceled, or filled."}
                    )
                    continue
                venue.emit_account(event)
                statuses.append("success")
            return _ok(
                {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}
            )
        return _ok({"status": "err", "response": f"Unsupported action type {action.get('type')}"})

    # ---------------------------------------------------------------- faults

    def malformed_message(self, symbol: str) -> Any:
        return {"channel": "l2Book", "data": {"coin": symbol, "time": "x", "levels": "oops"}}

    def unknown_channel_message(self, symbol: str) -> Any:
        return {"channel": "fakeUnknownChannel", "data": {"coin": symbol}}

    def rest_error(self, status: int) -> Any:
        return {"status": "err", "response": f"HTTP {status}"}


PROFILES: dict[str, type[ExchangeProfile]] = {"hyperliquid": HyperliquidProfile}
"""This exchange's venues (found by ``profiles.resolve_profiles()``)."""
