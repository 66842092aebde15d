"""``bitbankPrivateDataStore``: bitbank's private stream, which comes through PubNub.

Feed it the ``d`` field of each PubNub message (``{"method": ..., "params": [...]}``):
:mod:`datastores.helpers.bitbank` runs the PubNub subscription and does it
(``PrivateStream``, or ``subscribe_with_callback(client, store.onmessage)`` as with
the reference library). Seed it from REST with ``initialize()``.
https://github.com/bitbankinc/bitbank-api-docs/blob/master/private-stream.md
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from ..._collection import DataStoreCollection
from ..._errors import ExchangeAPIError
from ..._store import DataStore
from ..._storefield import StoreField
from ._items import (
    AssetItem,
    DealerOrderItem,
    DepositItem,
    MarginNoticeItem,
    MarginPayableItem,
    MarginPositionItem,
    SpotOrderItem,
    SpotTradeItem,
    WithdrawalItem,
)

__all__ = [
    "Asset",
    "DealerOrder",
    "Deposit",
    "MarginNotice",
    "MarginPayable",
    "MarginPosition",
    "SpotOrder",
    "SpotTrade",
    "Withdrawal",
    "bitbankPrivateDataStore",
]

logger = logging.getLogger("datastores.exchanges.bitbank")

#: order statuses after which an order is gone from the book
_TERMINAL = frozenset({"FULLY_FILLED", "CANCELED_UNFILLED", "CANCELED_PARTIALLY_FILLED"})
#: how far an order has come; arrival order is not guaranteed, so an update for a
#: stage behind the stored one is stale (private-stream.md, "order is not guaranteed")
_STAGE = {"INACTIVE": 0, "UNFILLED": 1, "PARTIALLY_FILLED": 2}
#: order ids that ended, remembered so a late update does not bring them back
_ENDED_MAX = 10000


class Asset(DataStore[AssetItem]):
    """Balances per ``asset`` (``asset_update``, ``GET /v1/user/assets``)."""

    _KEYS = ("asset",)


def _remaining(item: Mapping[str, Any]) -> Decimal | None:
    try:
        return Decimal(str(item.get("remaining_amount")))
    except (InvalidOperation, ValueError):
        return None


class SpotOrder(DataStore[SpotOrderItem]):
    """Active spot orders by ``order_id`` (``spot_order_new``, ``spot_order``,
    ``spot_order_invalidation``, ``GET /v1/user/spot/active_orders``).

    Only active orders are kept: a terminal status (``FULLY_FILLED``,
    ``CANCELED_UNFILLED``, ``CANCELED_PARTIALLY_FILLED``) removes the order and an
    invalidation removes the listed ones. ``INACTIVE`` is an untriggered stop
    order, still active: it stays. Updates can arrive out of order, so the
    exchange's rule keeps the most advanced one (INACTIVE < UNFILLED <
    PARTIALLY_FILLED < terminal; in the same stage, the smaller
    ``remaining_amount``), and an order that ended never comes back.
    """

    _KEYS = ("order_id",)

    def _init(self) -> None:
        self._ended: OrderedDict[Any, None] = OrderedDict()

    def _end(self, order_id: Any) -> None:
        self._ended[order_id] = None
        if len(self._ended) > _ENDED_MAX:
            self._ended.popitem(last=False)

    def _newer(self, item: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
        stage = _STAGE.get(str(item.get("status")), 1)
        old_stage = _STAGE.get(str(old.get("status")), 1)
        if stage != old_stage:
            return stage > old_stage
        remaining, old_remaining = _remaining(item), _remaining(old)
        if remaining is None or old_remaining is None:
            return True
        return remaining <= old_remaining

    def _on_orders(self, items: Iterable[dict[str, Any]]) -> None:
        ended: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for item in items:
            order_id = item.get("order_id")
            if order_id in self._ended:
                continue  # a late update of an order that ended
            if item.get("status") in _TERMINAL:
                self._end(order_id)
                ended.append({"order_id": order_id})
                continue
            old = self.get({"order_id": order_id})
            if old is None or self._newer(item, old):
                updates.append(item)
        if ended:
            self._delete(ended)
        if updates:
            self._update(updates)

    def _on_invalidation(self, order_ids: Iterable[Any]) -> None:
        ended = []
        for order_id in order_ids:
            self._end(order_id)
            ended.append({"order_id": order_id})
        self._delete(ended)

    def _replace_active(self, orders: Iterable[dict[str, Any]]) -> None:
        self._clear()
        self._on_orders(orders)


class SpotTrade(DataStore[SpotTradeItem]):
    """The account's fills by ``trade_id`` (``spot_trade``)."""

    _KEYS = ("trade_id",)


class DealerOrder(DataStore[DealerOrderItem]):
    """Dealer orders by ``order_id`` (``dealer_order_new``)."""

    _KEYS = ("order_id",)


class Withdrawal(DataStore[WithdrawalItem]):
    """Withdrawals by ``uuid`` (``withdrawal``)."""

    _KEYS = ("uuid",)


class Deposit(DataStore[DepositItem]):
    """Deposits by ``uuid`` (``deposit``)."""

    _KEYS = ("uuid",)


class MarginPosition(DataStore[MarginPositionItem]):
    """Margin positions by ``pair`` and ``position_side`` (``margin_position_update``,
    ``GET /v1/user/margin/positions``)."""

    _KEYS = ("pair", "position_side")


class MarginPayable(DataStore[MarginPayableItem]):
    """The account's margin payables: one row, replaced by each
    ``margin_payable_update`` (stored from the first one on, even when empty before)."""

    def _replace_row(self, item: dict[str, Any]) -> None:
        self._clear()
        self._insert([item])


class MarginNotice(DataStore[MarginNoticeItem]):
    """Margin notices (``margin_notice_update``), keyless, newest last."""


class bitbankPrivateDataStore(DataStoreCollection):
    """bitbank private stream: ``asset``, ``spot_order``, ``spot_trade``,
    ``dealer_order``, ``withdrawal``, ``deposit``, ``margin_position``,
    ``margin_payable``, ``margin_notice``.

    ``initialize()`` takes ``GET /v1/user/assets``, ``/v1/user/spot/active_orders``
    and ``/v1/user/margin/positions`` (each replaces its store); a body with
    ``success`` other than 1 raises :class:`~datastores.ExchangeAPIError` (a
    ``ValueError``). Unknown methods are counted in ``statistics().unhandled``,
    unusable messages in ``statistics().dropped``; nothing raises.
    """

    _EXCHANGE = "bitbank"
    _CHANNELS: ClassVar[Mapping[str, str]] = {
        "asset_update": "_on_asset",
        "spot_order_new": "_on_spot_order",
        "spot_order": "_on_spot_order",
        "spot_order_invalidation": "_on_spot_order_invalidation",
        "spot_trade": "_on_spot_trade",
        "dealer_order_new": "_on_dealer_order",
        "withdrawal": "_on_withdrawal",
        "deposit": "_on_deposit",
        "margin_position_update": "_on_margin_position",
        "margin_payable_update": "_on_margin_payable",
        "margin_notice_update": "_on_margin_notice",
    }

    #: ``asset_update``: keys ``asset``.
    asset = StoreField(Asset)
    #: ``spot_order_new`` / ``spot_order`` / ``spot_order_invalidation``: keys ``order_id``.
    spot_order = StoreField(SpotOrder)
    #: ``spot_trade``: keys ``trade_id``.
    spot_trade = StoreField(SpotTrade)
    #: ``dealer_order_new``: keys ``order_id``.
    dealer_order = StoreField(DealerOrder)
    #: ``withdrawal``: keys ``uuid``.
    withdrawal = StoreField(Withdrawal)
    #: ``deposit``: keys ``uuid``.
    deposit = StoreField(Deposit)
    #: ``margin_position_update``: keys ``pair, position_side``.
    margin_position = StoreField(MarginPosition)
    #: ``margin_payable_update``: one row.
    margin_payable = StoreField(MarginPayable)
    #: ``margin_notice_update``: keyless.
    margin_notice = StoreField(MarginNotice)

    # --------------------------------------------------------------- routing

    def _onmessage(self, msg: Any, ws: Any) -> None:
        if msg.__class__ is dict and "method" not in msg and msg.get("d").__class__ is dict:
            msg = msg["d"]  # a whole PubNub message rather than its payload
        if msg.__class__ is not dict:
            self._count_dropped("message is not an object", type(msg).__name__)
            return
        method = msg.get("method")
        handler = self._channel_handlers.get(method) if method.__class__ is str else None
        if handler is not None:
            handler(msg, ws)
        elif method is None:
            self._count_dropped("message without a method")
        else:
            self._count_unhandled(str(method)[:40])

    def _rows(self, msg: dict[str, Any]) -> list[dict[str, Any]] | None:
        """``params`` as a list of objects (a single object is one row); ``None``
        (counted) when unusable."""
        params = msg.get("params")
        if params.__class__ is dict:
            return [params]
        if params.__class__ is not list:
            self._count_dropped("params is not a list", msg.get("method"))
            return None
        rows = [row for row in params if row.__class__ is dict]
        if len(rows) != len(params):
            self._count_dropped("a params row is not an object", msg.get("method"))
        return rows

    def _keyed(self, msg: dict[str, Any], *keys: str) -> list[dict[str, Any]] | None:
        rows = self._rows(msg)
        if rows is None:
            return None
        usable = [row for row in rows if all(key in row for key in keys)]
        if len(usable) != len(rows):
            self._count_dropped(f"a row without {'/'.join(keys)}", msg.get("method"))
        return usable

    def _on_asset(self, msg: dict[str, Any], ws: Any) -> None:
        """``asset_update``: ``{"method": "asset_update", "params": [{"asset": "jpy",
        "amount_precision": 4, "free_amount": "...", "locked_amount": "...",
        "onhand_amount": "...", "withdrawing_amount": "..."}]}``"""
        rows = self._keyed(msg, "asset")
        if rows:
            self.asset._update(rows)

    def _on_spot_order(self, msg: dict[str, Any], ws: Any) -> None:
        """``spot_order_new`` / ``spot_order``: full order objects (``order_id``,
        ``pair``, ``side``, ``type``, ``status``, ``remaining_amount``...)."""
        rows = self._keyed(msg, "order_id")
        if rows:
            self.spot_order._on_orders(rows)

    def _on_spot_order_invalidation(self, msg: dict[str, Any], ws: Any) -> None:
        """``spot_order_invalidation``: ``{"params": {"order_id": [1, 2]}}``: orders
        invalidated (asset shortage) are gone."""
        params = msg.get("params")
        rows = [params] if params.__class__ is dict else params
        if rows.__class__ is not list:
            self._count_dropped("spot_order_invalidation without order ids")
            return
        ids: list[Any] = []
        for row in rows:
            order_ids = row.get("order_id") if row.__class__ is dict else None
            if order_ids.__class__ is not list:
                self._count_dropped("spot_order_invalidation without order ids")
                continue
            ids.extend(order_ids)
        if ids:
            self.spot_order._on_invalidation(ids)

    def _on_spot_trade(self, msg: dict[str, Any], ws: Any) -> None:
        """``spot_trade``: the account's fills (``trade_id``, ``order_id``, ``price``...)."""
        rows = self._keyed(msg, "trade_id")
        if rows:
            self.spot_trade._update(rows)

    def _on_dealer_order(self, msg: dict[str, Any], ws: Any) -> None:
        """``dealer_order_new``: orders at the dealer, keys ``order_id``."""
        rows = self._keyed(msg, "order_id")
        if rows:
            self.dealer_order._update(rows)

    def _on_withdrawal(self, msg: dict[str, Any], ws: Any) -> None:
        """``withdrawal``: keys ``uuid``."""
        rows = self._keyed(msg, "uuid")
        if rows:
            self.withdrawal._update(rows)

    def _on_deposit(self, msg: dict[str, Any], ws: Any) -> None:
        """``deposit``: keys ``uuid``."""
        rows = self._keyed(msg, "uuid")
        if rows:
            self.deposit._update(rows)

    def _on_margin_position(self, msg: dict[str, Any], ws: Any) -> None:
        """``margin_position_update``: keys ``pair``, ``position_side``."""
        rows = self._keyed(msg, "pair", "position_side")
        if rows:
            self.margin_position._update(rows)

    def _on_margin_payable(self, msg: dict[str, Any], ws: Any) -> None:
        """``margin_payable_update``: the account's payables, one row."""
        rows = self._rows(msg)
        if rows:
            self.margin_payable._replace_row(rows[-1])

    def _on_margin_notice(self, msg: dict[str, Any], ws: Any) -> None:
        """``margin_notice_update``: notices, appended."""
        rows = self._rows(msg)
        if rows:
            self.margin_notice._insert(rows)

    # ------------------------------------------------------------------ REST

    async def _onresponse(self, resp: Any, data: Any) -> None:
        """``GET /v1/user/assets``, ``/v1/user/spot/active_orders``,
        ``/v1/user/margin/positions``: ``{"success": 1, "data": {...}}``."""
        path = resp.url.path
        if path not in _ENDPOINTS:
            await super()._onresponse(resp, data)
            return
        if not isinstance(data, dict) or data.get("success") != 1:
            inner = data.get("data") if isinstance(data, dict) else None
            code = inner.get("code") if isinstance(inner, dict) else None
            raise ExchangeAPIError(
                exchange="bitbank",
                endpoint=f"{resp.method} {path}",
                status=resp.status,
                code=code,
                message=str(data)[:300],
            )
        body = data.get("data")
        field = _ENDPOINTS[path]
        rows = body.get(field) if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise ValueError(f"bitbank {path}: no {field!r} list in the response")
        rows = [row for row in rows if isinstance(row, dict)]
        if field == "assets":
            self.asset._clear()
            self.asset._update(row for row in rows if "asset" in row)
        elif field == "orders":
            self.spot_order._replace_active(row for row in rows if "order_id" in row)
        else:
            self.margin_position._clear()
            self.margin_position._update(
                row for row in rows if "pair" in row and "position_side" in row
            )


#: REST endpoint -> the list in its ``data``
_ENDPOINTS = {
    "/v1/user/assets": "assets",
    "/v1/user/spot/active_orders": "orders",
    "/v1/user/margin/positions": "positions",
}
