"""bitbank's fake venue: the public stream (Socket.IO rooms), the private REST API,
order entry and the private stream's PubNub endpoint, on one server.

Modelled from https://github.com/bitbankinc/bitbank-api-docs (public-stream.md,
private-stream.md, rest-api.md) and the wire facts in the project's reference:

* ``/socket.io/?EIO=4|3&transport=websocket``: the open packet ``0{...}`` (EIO=3 also
  ``40``), ``40`` answered ``40{"sid":...}``, ping ``2`` answered ``3``;
  ``42["join-room","<room>"]`` with no ack (an unknown room is silent, joining twice
  does not duplicate), ``42["leave-room","<room>"]``; data as
  ``42["message",{"room_name":...,"message":{"data":...}}]``.
* ``depth_diff_{pair}``: absolute amounts, ``"0"`` deletes, ``s`` from ONE counter
  shared by every pair (so a pair's ``s`` never steps by exactly one), as a string.
* ``depth_whole_{pair}``: on joining and then every :attr:`whole_every` updates of the
  pair, at most 200 levels a side, ``sequenceId`` the counter when it was taken; it
  is DELAYED: it goes out after :attr:`whole_delay` more updates of the pair, so
  diffs newer than it (and, after joining, diffs before the first whole) arrive first.
* :attr:`diff_window` (off by default): diffs only carry levels within that many
  levels of the best, as bitbank's do (~200), so a deletion further out is healed
  only by the next whole.
* ``ticker_{pair}``, ``transactions_{pair}``, ``circuit_break_info_{pair}``.
* The private REST API (signed, see :mod:`.verifier`), ``POST /v1/user/spot/order``
  and ``/v1/user/spot/cancel_order``, ``GET /v1/user/subscribe`` and the PubNub
  long-poll ``/v2/subscribe/...`` whose tokens expire (:mod:`._pubnub`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

from aiohttp import web

from .... import _json
from ..._profile import ExchangeProfile, Publication
from ...fake import FakeConnection, iter_levels
from ...market import MarketConfig, MarketUpdate
from ._pubnub import PrivateApi
from .dialect import BitbankDialect

__all__ = ["PROFILES", "BitbankProfile"]

_WHOLE_LEVELS = 200


def _event(room: str, data: Any) -> str:
    return "42" + _json.dumps(["message", {"room_name": room, "message": {"data": data}}])


def _frame(text: str) -> str:
    """A published payload (a Socket.IO event array) as a ``42`` frame."""
    return "42" + text


@dataclass
class _Pending:
    """A whole taken but not sent yet: ``after`` more updates of its pair first."""

    pair: str
    after: int
    text: str
    conn: FakeConnection | None  # None: every member of the room


class BitbankProfile(ExchangeProfile):
    """The bitbank venue (pairs ``btc_jpy`` and ``eth_jpy`` by default).

    Attributes (set them on ``fake.profile``):
        whole_every: updates of a pair between two periodic wholes (bitbank: 15 s).
        whole_delay: updates of the pair a whole waits before it goes out.
        diff_window: levels from the best that diffs carry (``None``: all).
        token_ttl: seconds a PubNub token lives (venue clock).
        poll_timeout: seconds a PubNub long-poll waits for a message (the real one
            holds about 280 s; short here so a test ends quickly).
    """

    name: ClassVar[str] = "bitbank"
    exchange: ClassVar[str] = "bitbank"
    hosts: ClassVar[Mapping[str, Literal["http", "ws"]]] = {
        "stream.bitbank.cc": "ws",
        "api.bitbank.cc": "http",
        "public.bitbank.cc": "http",
        "ps.pndsn.com": "http",
    }
    default_symbols: ClassVar[tuple[str, ...]] = ("btc_jpy", "eth_jpy")

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self.whole_every = 25
        self.whole_delay = 1
        self.diff_window: int | None = None
        #: the ``s`` of the last diff sent per pair (what a synced book shows)
        self.last_sequence: dict[str, int] = {}
        self._sequence = 1000
        self._steps = random.Random(f"{venue.seed}-bitbank")
        self._updates: dict[str, int] = {}
        self._pending: list[_Pending] = []
        self._dialect = BitbankDialect()
        self.private = PrivateApi(self)

    @property
    def token_ttl(self) -> float:
        return self.private.token_ttl

    @token_ttl.setter
    def token_ttl(self, value: float) -> None:
        self.private.token_ttl = value

    @property
    def poll_timeout(self) -> float:
        return self.private.poll_timeout

    @poll_timeout.setter
    def poll_timeout(self, value: float) -> None:
        self.private.poll_timeout = value

    def market_config(self, symbol: str) -> MarketConfig:
        # 150 levels (at most 165): a whole holds the whole book, so a synced book can
        # equal the fake's exactly.
        if symbol.startswith("btc"):
            return MarketConfig(symbol, "1", "0.0001", "10000000", levels=150)
        return MarketConfig(symbol, "1", "0.0001", "400000", levels=150)

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/socket.io/", self._ws), *self.private.routes()]

    # -------------------------------------------------------------- socket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await self.venue.serve_websocket(request, self._on_text, on_open=self._on_open)

    def _on_open(self, conn: FakeConnection) -> None:
        for packet in self._dialect.greeting(conn.path, conn.request.query):
            conn.send_text(packet)

    def _on_text(self, conn: FakeConnection, text: str) -> None:
        reply = self._dialect.pong(text, conn.path, self.venue.clock.time())
        if reply is not None:
            if self.venue.faults.answer_pings or text != "2":
                conn.send_text(reply)
            return
        if not text.startswith("42"):
            return  # Engine.IO traffic the server ignores
        try:
            event, name = _json.loads(text[2:])[:2]
        except (ValueError, TypeError):
            return  # the real server ignores what it cannot parse
        if not isinstance(name, str):
            return
        topic = self._topic(name)
        if topic is None:
            return  # an unknown room is silent
        if event == "join-room":
            if topic in conn.subscriptions:
                return  # joining twice does not duplicate
            conn.subscribe(topic, _frame)
            pair, kind = topic.split("|")
            if kind == "whole":
                self._pending.append(_Pending(pair, self.whole_delay, self._whole(pair), conn))
            elif kind == "circuit_break_info":
                conn.send_text(_event(name, self._circuit_break_info()))
        elif event == "leave-room":
            conn.unsubscribe(topic)

    def _topic(self, room: str) -> str | None:
        for kind, short in (
            ("depth_whole_", "whole"), ("depth_diff_", "diff"), ("transactions_", "transactions"),
            ("ticker_", "ticker"), ("circuit_break_info_", "circuit_break_info"),
        ):  # fmt: skip
            if room.startswith(kind) and room[len(kind) :] in self.venue.markets:
                return f"{room[len(kind) :]}|{short}"
        return None

    # -------------------------------------------------------------- market

    def _next_sequence(self) -> int:
        # One counter for every pair; other pairs and rooms use it too, so a pair's
        # own diffs step by more than one.
        self._sequence += self._steps.randint(2, 6)
        return self._sequence

    def _whole(self, pair: str) -> str:
        market = self.venue.markets[pair]
        data = {
            "asks": iter_levels(market.levels("ask", _WHOLE_LEVELS)),
            "bids": iter_levels(market.levels("bid", _WHOLE_LEVELS)),
            "asks_over": "0", "bids_under": "0", "asks_under": "0", "bids_over": "0",
            "ask_market": "0", "bid_market": "0",
            "timestamp": self.venue.now_ms(), "sequenceId": str(self._sequence),
        }  # fmt: skip
        return _event(f"depth_whole_{pair}", data)

    def _circuit_break_info(self) -> dict[str, Any]:
        return {
            "mode": "NONE", "estimated_itayose_price": None, "estimated_itayose_amount": None,
            "itayose_upper_price": None, "itayose_lower_price": None,
            "upper_trigger_price": None, "lower_trigger_price": None, "fee_type": "NORMAL",
            "reopen_timestamp": None, "timestamp": self.venue.now_ms(),
        }  # fmt: skip

    def _window(self, update: MarketUpdate) -> tuple[list[list[str]], list[list[str]]]:
        asks, bids = iter_levels(update.asks), iter_levels(update.bids)
        if self.diff_window is None:
            return asks, bids
        market = self.venue.markets[update.symbol]
        far_ask = market.levels("ask", self.diff_window)[-1:]
        far_bid = market.levels("bid", self.diff_window)[-1:]
        if far_ask:
            asks = [level for level in asks if Decimal(level[0]) <= Decimal(far_ask[0][0])]
        if far_bid:
            bids = [level for level in bids if Decimal(level[0]) >= Decimal(far_bid[0][0])]
        return asks, bids

    def market_messages(self, update: MarketUpdate) -> Iterable[Publication]:
        venue, pair = self.venue, update.symbol
        out: list[Publication] = []
        sequence = self._next_sequence()
        if venue.has_subscribers(f"{pair}|diff") or venue.faults.skip.get(pair):
            asks, bids = self._window(update)
            data = {"a": asks, "b": bids, "t": venue.now_ms(), "s": str(sequence)}
            self.last_sequence[pair] = sequence
            payload = ["message", {"room_name": f"depth_diff_{pair}", "message": {"data": data}}]
            out.append(Publication(f"{pair}|diff", payload, pair, book=True))
        if update.trades and venue.has_subscribers(f"{pair}|transactions"):
            trades = [
                {"transaction_id": t.trade_id, "side": "sell" if t.buyer_is_maker else "buy",
                 "price": t.price, "amount": t.size, "executed_at": venue.now_ms()}
                for t in update.trades
            ]  # fmt: skip
            room = {
                "room_name": f"transactions_{pair}",
                "message": {"data": {"transactions": trades}},
            }
            out.append(Publication(f"{pair}|transactions", ["message", room]))
        if venue.has_subscribers(f"{pair}|ticker"):
            bid, ask = venue.markets[pair].best()
            data = {"sell": ask, "buy": bid, "open": bid, "high": ask, "low": bid, "last": bid,
                    "vol": "1.0", "timestamp": venue.now_ms()}  # fmt: skip
            ticker = {"room_name": f"ticker_{pair}", "message": {"data": data}}
            out.append(Publication(f"{pair}|ticker", ["message", ticker]))
        count = self._updates[pair] = self._updates.get(pair, 0) + 1
        if (
            self.whole_every
            and count % self.whole_every == 0
            and venue.has_subscribers(f"{pair}|whole")
        ):
            self._pending.append(_Pending(pair, self.whole_delay, self._whole(pair), None))
        self._release(pair, out)
        return out

    def _release(self, pair: str, out: list[Publication]) -> None:
        """Send the wholes of ``pair`` whose delay is over (after this update's diff)."""
        due = []
        for pending in self._pending:
            if pending.pair == pair:
                pending.after -= 1
                if pending.after < 0:
                    due.append(pending)
        if not due:
            return
        self._pending = [p for p in self._pending if p not in due]
        for pending in due:
            if pending.conn is None:
                self.venue.publish_text(f"{pair}|whole", pending.text[2:])
            elif not pending.conn.closing and f"{pair}|whole" in pending.conn.subscriptions:
                pending.conn.send_text(pending.text)

    def send_wholes(self, pair: str) -> None:
        """Send every member of ``pair``'s whole room a whole now (no delay)."""
        self.venue.publish_text(f"{pair}|whole", self._whole(pair)[2:])

    # ------------------------------------------------------------- account

    def account_messages(self, event: Any) -> list[Any]:
        self.private.on_account_event(event)
        return []  # the private stream is PubNub, not the socket

    def expire_token(self) -> list[str]:
        return self.private.expire_tokens()

    # -------------------------------------------------------------- faults

    def malformed_message(self, symbol: str) -> Any:
        data = {"a": "oops", "b": [], "t": self.venue.now_ms(), "s": "x"}
        return ["message", {"room_name": f"depth_diff_{symbol}", "message": {"data": data}}]

    def unknown_channel_message(self, symbol: str) -> Any:
        return ["message", {"room_name": f"fake_unknown_{symbol}", "message": {"data": {}}}]

    def frame_injected(self, text: str) -> str:
        return _frame(text)

    def rest_error(self, status: int) -> Any:
        return {"success": 0, "data": {"code": 10000 + status}}


PROFILES: dict[str, type[ExchangeProfile]] = {"bitbank": BitbankProfile}
"""This exchange's venues (found by ``profiles.resolve_profiles()``)."""
