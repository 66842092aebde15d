"""Binance USDⓈ-M and COIN-M futures profiles (facts in binance.py's docstring)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ...account import AccountEvent, FakeBalance, FakeOrder, FakePosition
from ...fake import FakeConnection, iter_levels
from ...market import MarketConfig, MarketUpdate
from ._base import _LISTEN_KEY_TTL, _BinanceProfile, _error, _ok
from ._trade import BinanceTrade

__all__ = ["BinanceCOINMProfile", "BinanceUSDSMProfile"]


def _tif(order: FakeOrder) -> str:
    return "GTX" if order.time_in_force == "POST_ONLY" else order.time_in_force


def _wallet(balance: FakeBalance) -> str:
    """The wallet balance: what is free plus the margin orders and positions hold."""
    total = Decimal(balance.free) + Decimal(balance.locked)
    return format(total.normalize(), "f") if total else balance.free


class _BinanceFuturesProfile(_BinanceProfile):
    futures = True
    ping_interval = 180.0
    pong_timeout = 600.0
    speeds = frozenset({"100ms", "250ms", "500ms"})
    depth_limits = (5, 10, 20, 50, 100, 500, 1000)
    listen_key_path: ClassVar[str]
    balance_paths: ClassVar[tuple[str, ...]]
    position_paths: ClassVar[tuple[str, ...]]
    open_orders_path: ClassVar[str]

    def routes(self) -> list[web.RouteDef]:
        routes = [
            web.get(f"{self.rest_prefix}/depth", self._depth),
            web.get(f"{self.rest_prefix}/time", self._time),
            web.get(f"{self.rest_prefix}/ping", self._ping),
            web.post(self.listen_key_path, self._listen_key_create),
            web.put(self.listen_key_path, self._listen_key_keepalive),
            web.delete(self.listen_key_path, self._listen_key_close),
            web.get(self.open_orders_path, self._signed(self._open_orders)),
        ]
        if self.instrument(self.default_symbols[0]) is not None:  # USDⓈ-M takes orders
            routes += BinanceTrade(self).routes()
        routes += [web.get(p, self._signed(self._balance)) for p in self.balance_paths]
        routes += [web.get(p, self._signed(self._positions)) for p in self.position_paths]
        # Un-routed and routed (2026: /public, /market, /private) stream URLs.
        for prefix in ("", "/public", "/market", "/private"):
            routes += [
                web.get(f"{prefix}/ws", self._ws_raw),
                web.get(prefix + "/ws/{streams:.+}", self._ws_raw),
                web.get(f"{prefix}/stream", self._ws_combined),
            ]
        return routes

    def depth_update(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        message = {
            "e": "depthUpdate", "E": now, "T": now, "s": update.symbol,
            "U": update.first_id, "u": update.last_id, "pu": update.prev_id,
            "b": iter_levels(update.bids), "a": iter_levels(update.asks),
        }  # fmt: skip
        return message

    def partial_depth(self, update: MarketUpdate, levels: int, now: int) -> dict[str, Any]:
        market = self.venue.markets[update.symbol]
        message = self.depth_update(update, now)
        message["b"] = iter_levels(market.levels("bid", levels))
        message["a"] = iter_levels(market.levels("ask", levels))
        return message

    def book_ticker(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        return {"e": "bookTicker", "E": now, "T": now, **super().book_ticker(update, now)}

    def trade(self, channel: str, symbol: str, trade: Any, now: int) -> dict[str, Any]:
        message = super().trade(channel, symbol, trade, now)
        message.pop("M", None)
        return message

    def depth_snapshot(self, symbol: str, limit: int) -> dict[str, Any]:
        now = self.venue.now_ms()
        snapshot = super().depth_snapshot(symbol, limit)
        return {"lastUpdateId": snapshot["lastUpdateId"], "E": now, "T": now, **snapshot}

    # -------------------------------------------------------------- listenKey

    def _new_listen_key(self) -> str:
        self._key_counter += 1
        seed = f"{self.venue.seed}:{self.name}:{self._key_counter}".encode()
        return hashlib.sha256(seed).hexdigest()

    def _live_keys(self) -> list[str]:
        now = self.venue.clock.monotonic()
        for key, expires in list(self._listen_keys.items()):
            if expires <= now:
                del self._listen_keys[key]
        return list(self._listen_keys)

    async def _listen_key_create(self, request: web.Request) -> web.Response:
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        keys = self._live_keys()
        # An active key is returned again (and extended), as Binance does.
        key = keys[0] if keys else self._new_listen_key()
        self._listen_keys[key] = self.venue.clock.monotonic() + _LISTEN_KEY_TTL
        return _ok({"listenKey": key})

    async def _listen_key_keepalive(self, request: web.Request) -> web.Response:
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        keys = self._live_keys()
        if not keys:
            return _error(400, -1125, "This listenKey does not exist.")
        self._listen_keys[keys[0]] = self.venue.clock.monotonic() + _LISTEN_KEY_TTL
        return _ok({"listenKey": keys[0]})

    async def _listen_key_close(self, request: web.Request) -> web.Response:
        refused = self.check_api_key(request)
        if refused is not None:
            return refused
        self._listen_keys.clear()
        for conn in list(self.venue.connections):
            if conn.state.get("listen_key"):
                conn.close()
        return _ok({})

    async def _ws_user(self, request: web.Request, key: str) -> web.StreamResponse:
        valid = key in self._live_keys()

        def on_open(conn: FakeConnection) -> None:
            if not valid:
                conn.close(code=1008)
                return
            conn.state["listen_key"] = key
            conn.subscribe("user")

        return await self.venue.serve_websocket(
            request, lambda conn, text: None, market_stream=False, on_open=on_open
        )

    def expire_token(self) -> list[str]:
        keys = self._live_keys()
        now = self.venue.now_ms()
        for key in keys:
            text = _json.dumps({"e": "listenKeyExpired", "E": now, "listenKey": key})
            for conn in list(self.venue.connections):
                if conn.state.get("listen_key") == key:
                    conn.send_text(text)
                    conn.close()
        self._listen_keys.clear()
        return keys

    # ------------------------------------------------------------ account REST

    async def _open_orders(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol is not None and symbol not in self.venue.markets:
            return _error(400, -1121, "Invalid symbol.")
        return _ok([self._rest_order(o) for o in self.venue.account.open_orders(symbol)])

    def _rest_order(self, order: FakeOrder) -> dict[str, Any]:
        executed = float(order.executed)
        average = float(order.cum_quote) / executed if executed else 0.0
        return {
            "avgPrice": f"{average:.5f}", "clientOrderId": order.client_order_id,
            "cumQuote": order.cum_quote, "executedQty": order.executed,
            "orderId": order.order_id, "origQty": order.quantity,
            "origType": order.order_type, "price": order.price,
            "reduceOnly": order.reduce_only, "side": order.side,
            "positionSide": order.position_side, "status": order.status,
            "stopPrice": "0", "closePosition": False, "symbol": order.symbol,
            "time": order.created, "timeInForce": _tif(order),
            "type": order.order_type, "updateTime": order.updated,
            "workingType": "CONTRACT_PRICE", "priceProtect": False,
        }  # fmt: skip

    async def _balance(self, request: web.Request) -> web.Response:
        now = self.venue.now_ms()
        return _ok([self._rest_balance(b, now) for b in self.venue.account.balances.values()])

    def _rest_balance(self, balance: FakeBalance, now: int) -> dict[str, Any]:
        return {
            "accountAlias": "SgsR", "asset": balance.asset, "balance": _wallet(balance),
            "crossWalletBalance": _wallet(balance), "crossUnPnl": "0",
            "availableBalance": balance.free, "maxWithdrawAmount": balance.free,
            "marginAvailable": True, "updateTime": now,
        }  # fmt: skip

    async def _positions(self, request: web.Request) -> web.Response:
        positions = self.venue.account.positions.values()
        return _ok([self._rest_position(p) for p in positions])

    def _rest_position(self, position: FakePosition) -> dict[str, Any]:
        market = self.venue.markets.get(position.symbol)
        mark = market.best()[0] if market is not None else position.entry_price
        return {
            "symbol": position.symbol, "positionAmt": position.amount,
            "entryPrice": position.entry_price, "breakEvenPrice": position.entry_price,
            "markPrice": mark, "unRealizedProfit": "0", "liquidationPrice": "0",
            "leverage": "10", "maxNotionalValue": "20000000", "marginType": "cross",
            "isolatedMargin": "0", "isAutoAddMargin": "false",
            "positionSide": position.position_side, "notional": "0",
            "isolatedWallet": "0", "updateTime": self.venue.now_ms(),
        }  # fmt: skip

    # ------------------------------------------------------- private messages

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        if event.kind == "order" and event.order is not None:
            yield self._order_update(event, event.order)
        elif event.kind in ("balance", "position"):
            reason = "DEPOSIT" if event.kind == "balance" else "ORDER"
            yield {
                "e": "ACCOUNT_UPDATE", "E": event.time, "T": event.time,
                "a": {
                    "m": reason,
                    "B": [
                        {"a": b.asset, "wb": _wallet(b), "cw": _wallet(b), "bc": "0"}
                        for b in event.balances
                    ],
                    "P": [
                        {
                            "s": p.symbol, "pa": p.amount, "ep": p.entry_price,
                            "bep": p.entry_price, "cr": "0", "up": "0", "mt": "cross",
                            "iw": "0", "ps": p.position_side,
                        }
                        for p in event.positions
                    ],
                },
            }  # fmt: skip

    def _order_update(self, event: AccountEvent, order: FakeOrder) -> dict[str, Any]:
        filled = event.execution == "TRADE"
        executed = float(order.executed)
        average = float(order.cum_quote) / executed if executed else 0.0
        return {
            "e": "ORDER_TRADE_UPDATE", "E": event.time, "T": event.time,
            "o": {
                "s": order.symbol, "c": order.client_order_id, "S": order.side,
                "o": order.order_type, "f": _tif(order), "q": order.quantity,
                "p": order.price, "ap": f"{average:.5f}", "sp": "0", "x": event.execution,
                "X": order.status, "i": order.order_id,
                "l": event.last_quantity if filled else "0", "z": order.executed,
                "L": event.last_price if filled else "0", "N": "USDT", "n": "0",
                "T": event.time, "t": event.trade_id if filled else 0, "b": "0", "a": "0",
                "m": False, "R": order.reduce_only, "wt": "CONTRACT_PRICE",
                "ot": order.order_type, "ps": order.position_side, "cp": False, "rp": "0",
                "pP": False, "si": 0, "ss": 0,
                "V": "NONE", "pm": "NONE", "gtd": 0,
            },
        }  # fmt: skip


class BinanceUSDSMProfile(_BinanceFuturesProfile):
    """Binance USDⓈ-M futures: fapi.binance.com, fstream.binance.com."""

    name = "binance-usdsm"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "fapi.binance.com": "http",
        "fstream.binance.com": "ws",
    }
    default_symbols = ("BTCUSDT", "ETHUSDT")
    rest_prefix = "/fapi/v1"
    listen_key_path = "/fapi/v1/listenKey"
    open_orders_path = "/fapi/v1/openOrders"
    balance_paths = ("/fapi/v2/balance", "/fapi/v3/balance")
    position_paths = ("/fapi/v2/positionRisk", "/fapi/v3/positionRisk")
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSDT": MarketConfig("BTCUSDT", "0.10", "0.001", "65000", price_decimals=2),
        "ETHUSDT": MarketConfig("ETHUSDT", "0.01", "0.001", "3200"),
    }


class BinanceCOINMProfile(_BinanceFuturesProfile):
    """Binance COIN-M futures: dapi.binance.com, dstream.binance.com."""

    name = "binance-coinm"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "dapi.binance.com": "http",
        "dstream.binance.com": "ws",
    }
    default_symbols = ("BTCUSD_PERP", "ETHUSD_PERP")
    rest_prefix = "/dapi/v1"
    listen_key_path = "/dapi/v1/listenKey"
    open_orders_path = "/dapi/v1/openOrders"
    balance_paths = ("/dapi/v1/balance",)
    position_paths = ("/dapi/v1/positionRisk",)
    configs: ClassVar[Mapping[str, MarketConfig]] = {
        "BTCUSD_PERP": MarketConfig("BTCUSD_PERP", "0.1", "1", "65000", price_decimals=1),
        "ETHUSD_PERP": MarketConfig("ETHUSD_PERP", "0.01", "1", "3200"),
    }

    def depth_update(self, update: MarketUpdate, now: int) -> dict[str, Any]:
        message = super().depth_update(update, now)
        message["ps"] = update.symbol.partition("_")[0]
        return message

    def depth_snapshot(self, symbol: str, limit: int) -> dict[str, Any]:
        snapshot = super().depth_snapshot(symbol, limit)
        return {**snapshot, "symbol": symbol, "pair": symbol.partition("_")[0]}

    def _rest_balance(self, balance: FakeBalance, now: int) -> dict[str, Any]:
        return {
            "accountAlias": "SgsR", "asset": balance.asset, "balance": balance.free,
            "withdrawAvailable": balance.free, "crossWalletBalance": balance.free,
            "crossUnPnl": "0", "availableBalance": balance.free, "updateTime": now,
        }  # fmt: skip
