"""bitFlyer's fake venue: the Lightning Realtime API (JSON-RPC 2.0) and the private REST
endpoints a bot uses, with bitFlyer's book quirks.

Facts modelled (https://bf-lightning-api.readme.io/docs/endpoint-json-rpc and the
channel pages; wire observations as listed in the project's reference notes):

* ``wss://ws.lightstream.bitflyer.com/json-rpc``: ``subscribe`` / ``unsubscribe``
  with ``params.channel``, answered ``{"jsonrpc": "2.0", "id": n, "result": true}``
  (no answer without an ``id``); batches (JSON arrays) answered as arrays; errors
  ``-32602`` (unknown channel prefix), ``-32009`` (already subscribed), ``-32007``
  (private channel before ``auth``), ``-32601`` (unknown method), ``-32700`` (not
  JSON). An unknown product is acknowledged and then silent.
* data as ``channelMessage`` notifications; the board's diffs carry ``mid_price``
  and absolute sizes (0 deletes), no id; the snapshot channel sends the whole book
  (at most :data:`SNAPSHOT_DEPTH` levels per side) every :attr:`snapshot_every`
  updates of the product, for as long as it is subscribed;
* quirks on demand: :meth:`BitflyerProfile.miss_deletions` makes diffs lose
  deletions (healed by the next snapshot only), ``corrupt_checksum`` sends a wrong
  ``mid_price``;
* server ping frames every 15 s;
* ``child_order_events`` for the fake account's orders (``sendchildorder``,
  ``cancelchildorder`` or the FakeExchange's scripted orders);
* REST ``/v1/me/get{childorders,parentorders,positions,collateral,balance}``, signed
  (``verifier.py``), and the public ``/v1/board``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ..._verify import FakeKey
from ...account import AccountEvent
from ...fake import FakeConnection
from ...market import MarketConfig, MarketUpdate
from ._rest import BitflyerRest, level_number, order_ids
from .dialect import BitflyerDialect

__all__ = ["PROFILES", "SNAPSHOT_DEPTH", "BitflyerProfile"]

#: levels per side in a board snapshot (observed on the wire; not documented)
SNAPSHOT_DEPTH = 300
_PUBLIC_PREFIXES = (
    "lightning_board_snapshot_",
    "lightning_board_",
    "lightning_ticker_",
    "lightning_executions_",
)
_PRIVATE = ("child_order_events", "parent_order_events")


def _levels(levels: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"price": level_number(p), "size": level_number(s)} for p, s in levels]


def _note(channel: str, message: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "channelMessage",
        "params": {"channel": channel, "message": message},
    }


class BitflyerProfile(ExchangeProfile):
    """bitFlyer Lightning (``FakeExchange("bitflyer")``)."""

    name = "bitflyer"
    exchange = "bitflyer"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "api.bitflyer.com": "http",
        "ws.lightstream.bitflyer.com": "ws",
    }
    default_symbols = ("FX_BTC_JPY", "BTC_JPY")
    ping_interval = 15.0
    #: ``mid_price`` is the one consistency value a diff carries: corrupt_checksum
    #: sends a wrong one
    has_checksum = True

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._dialect = BitflyerDialect()
        #: a board snapshot every this many market updates of a product
        self.snapshot_every = 50
        #: updates of a product before a new subscription's first snapshot
        self.first_snapshot_after = 2
        self._since_snapshot: dict[str, int] = {}
        self._missed: dict[str, int] = {}
        self.rest = BitflyerRest(self)

    def market_config(self, symbol: str) -> MarketConfig:
        # JPY prices are whole yen; sizes to 8 decimals. More levels than a snapshot
        # holds: diffs touch levels outside its window, as on the wire.
        return MarketConfig(
            symbol, "1", "0.00000001", "5000000", levels=SNAPSHOT_DEPTH + 50, max_changes=8
        )

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/json-rpc", self._ws), *self.rest.routes()]

    # --------------------------------------------------------------- quirks

    def miss_deletions(self, symbol: str, count: int = 1) -> None:
        """Leave the next ``count`` deletions of ``symbol``'s book out of its diffs
        (bitFlyer's diffs are known to miss some); the next snapshot heals them."""
        self._missed[symbol] = self._missed.get(symbol, 0) + count

    def publish_snapshot(self, symbol: str) -> int | None:
        """Send ``symbol``'s board snapshot to its subscribers now (as the periodic
        one does, even in a still market). Returns the most snapshots any connection
        got on this product (``None``: no subscriber)."""
        channel = f"lightning_board_snapshot_{symbol}"
        payload = self._snapshot(symbol)
        counts = [
            self._send_snapshot(conn, symbol, payload)
            for conn in list(self.venue.connections)
            if channel in conn.subscriptions and not conn.closing
        ]
        return max(counts) if counts else None

    @staticmethod
    def _send_snapshot(conn: FakeConnection, symbol: str, payload: Any) -> int:
        sent: dict[str, int] = conn.state.setdefault("snapshots", {})
        sent[symbol] = sent.get(symbol, 0) + 1
        conn.state.setdefault("first_snapshot_in", {}).pop(symbol, None)
        conn.send_json(payload)
        return sent[symbol]

    def _first_snapshots(self, symbol: str) -> None:
        """A new subscription's first snapshot comes after a few diffs (4 to 33 on the
        wire; :attr:`first_snapshot_after` here), before the next periodic one."""
        payload = None
        for conn in list(self.venue.connections):
            pending: dict[str, int] = conn.state.get("first_snapshot_in") or {}
            if symbol not in pending or conn.closing:
                continue
            pending[symbol] -= 1
            if pending[symbol] <= 0:
                payload = payload or self._snapshot(symbol)
                self._send_snapshot(conn, symbol, payload)

    def _snapshot(self, symbol: str) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        bids = market.levels("bid", SNAPSHOT_DEPTH)
        asks = market.levels("ask", SNAPSHOT_DEPTH)
        message = {"mid_price": self._mid(symbol), "bids": _levels(bids), "asks": _levels(asks)}
        return _note(f"lightning_board_snapshot_{symbol}", message)

    def _mid(self, symbol: str) -> int | float:
        bid, ask = self.venue.markets[symbol].best()
        return level_number(str((int(bid) + int(ask)) / 2))

    # ------------------------------------------------------------- websocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(request, self._on_text)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        try:
            request = _json.loads(text)
        except ValueError:
            conn.send_json(self._error(None, -32700, "Parse error"))
            return
        if isinstance(request, list):
            replies = [r for r in (self._answer(conn, item) for item in request) if r is not None]
            if replies:
                conn.send_json(replies)
            return
        reply = self._answer(conn, request)
        if reply is not None:
            conn.send_json(reply)

    @staticmethod
    def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}

    def _answer(self, conn: FakeConnection, request: Any) -> Any:
        if not isinstance(request, dict):
            return self._error(None, -32600, "Invalid Request")
        request_id, method = request.get("id"), request.get("method")
        if method == "auth":
            venue = self.venue
            keys = {venue.api_key: FakeKey(venue.api_key, venue.api_secret)}
            check = self._dialect.login(_json.dumps(request), conn.path, keys, venue.clock.time())
            if check is not None and check.ok:
                conn.state["auth"] = True
            return None if check is None else check.reply
        if method not in ("subscribe", "unsubscribe"):
            return self._error(request_id, -32601, "Method not found")
        params = request.get("params")
        channel = params.get("channel") if isinstance(params, dict) else None
        if not isinstance(channel, str) or not (
            channel in _PRIVATE or channel.startswith(_PUBLIC_PREFIXES)
        ):
            return self._error(request_id, -32602, "invalid channel")
        if channel in _PRIVATE and not conn.state.get("auth"):
            return self._error(request_id, -32007, "authentication required")
        if method == "unsubscribe":
            conn.unsubscribe("user" if channel == "child_order_events" else channel)
        elif channel in conn.subscriptions:
            return self._error(request_id, -32009, "already subscribed")
        elif channel == "child_order_events":
            conn.subscribe("user")
        else:
            if channel.startswith("lightning_board_snapshot_"):
                pending = conn.state.setdefault("first_snapshot_in", {})
                pending[channel[len("lightning_board_snapshot_") :]] = self.first_snapshot_after
            # An unknown product is acknowledged, then silent (observed on the wire).
            conn.subscribe(channel)
        return None if request_id is None else {"jsonrpc": "2.0", "id": request_id, "result": True}

    # ------------------------------------------------------------------ market

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        symbol = update.symbol
        channel = f"lightning_board_{symbol}"
        if self.venue.has_subscribers(channel):
            bids, asks = list(update.bids), list(update.asks)
            if self._missed.get(symbol):
                bids, asks = self._lose_a_deletion(symbol, bids, asks)
            message = {"mid_price": self._mid(symbol), "bids": _levels(bids)}
            message["asks"] = _levels(asks)
            yield Publication(channel, _note(channel, message), symbol, book=True)
        channel = f"lightning_ticker_{symbol}"
        if self.venue.has_subscribers(channel):
            yield Publication(channel, _note(channel, self._ticker(symbol)), symbol)
        channel = f"lightning_executions_{symbol}"
        if update.trades and self.venue.has_subscribers(channel):
            trades = [
                {
                    "id": t.trade_id,
                    "side": "SELL" if t.buyer_is_maker else "BUY",
                    "price": level_number(t.price),
                    "size": level_number(t.size),
                    "exec_date": self._date(),
                    "buy_child_order_acceptance_id": f"JRF-B{t.trade_id}",
                    "sell_child_order_acceptance_id": f"JRF-S{t.trade_id}",
                }
                for t in update.trades
            ]
            yield Publication(channel, _note(channel, trades), symbol)
        self._first_snapshots(symbol)
        since = self._since_snapshot.get(symbol, 0) + 1
        if since >= self.snapshot_every:
            since = 0
            self.publish_snapshot(symbol)
        self._since_snapshot[symbol] = since

    def _lose_a_deletion(
        self, symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        for side in (bids, asks):
            for index, (_, size) in enumerate(side):
                if not float(size):
                    del side[index]
                    self._missed[symbol] -= 1
                    self.venue.faults.count("miss_deletions")
                    return bids, asks
        return bids, asks

    def _date(self) -> str:
        now = datetime.datetime.fromtimestamp(self.venue.clock.time(), datetime.timezone.utc)
        return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def _ticker(self, symbol: str) -> dict[str, Any]:
        market = self.venue.markets[symbol]
        (bid, bid_size), (ask, ask_size) = market.levels("bid", 1)[0], market.levels("ask", 1)[0]
        return {
            "product_code": symbol,
            "state": "RUNNING",
            "timestamp": self._date(),
            "tick_id": market.last_update_id,
            "best_bid": level_number(bid),
            "best_ask": level_number(ask),
            "best_bid_size": level_number(bid_size),
            "best_ask_size": level_number(ask_size),
            "ltp": level_number(bid),
        }

    # ----------------------------------------------------------------- account

    def account_messages(self, event: AccountEvent) -> Iterable[Any]:
        order = event.order
        if event.kind != "order" or order is None:
            return  # bitFlyer has no balance or position channel
        kind = {"NEW": "ORDER", "TRADE": "EXECUTION", "CANCELED": "CANCEL"}.get(
            str(event.execution)
        )
        if kind is None:
            return
        item: dict[str, Any] = {**order_ids(order), "event_date": self._date()}
        item["event_type"] = kind
        if kind == "ORDER":
            item |= {
                "child_order_type": order.order_type,
                "side": order.side,
                "price": level_number(order.price),
                "size": level_number(order.quantity),
                "expire_date": "2099-01-01T00:00:00",
            }
        elif kind == "EXECUTION":
            remaining = float(order.quantity) - float(order.executed)
            item |= {
                "exec_id": event.trade_id,
                "side": order.side,
                "price": level_number(event.last_price),
                "size": level_number(event.last_quantity),
                "commission": 0,
                "sfd": 0,
                "outstanding_size": round(remaining, 8),
            }
        yield _note("child_order_events", [item])

    # ------------------------------------------------------------------ faults

    def corrupt_checksum(self, payload: Any) -> Any:
        message = dict(payload["params"]["message"])
        message["mid_price"] = message["mid_price"] + 1000
        return _note(payload["params"]["channel"], message)

    def malformed_message(self, symbol: str) -> Any:
        return _note(f"lightning_board_{symbol}", {"mid_price": "x", "bids": "?", "asks": []})

    def unknown_channel_message(self, symbol: str) -> Any:
        return _note(f"lightning_nope_{symbol}", {"product_code": symbol})

    def rest_error(self, status: int) -> Any:
        return {"status": -status, "error_message": f"HTTP {status}", "data": None}


PROFILES: dict[str, type[ExchangeProfile]] = {BitflyerProfile.name: BitflyerProfile}
