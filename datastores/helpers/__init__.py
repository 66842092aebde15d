"""Helpers for exchange chores that are not plain requests.

Submodules are imported on demand (some need optional extras):

* :mod:`datastores.helpers.gmocoin` - GMO Coin's private WebSocket access token
  (:class:`GMOCoinHelper`, also importable from here).
* :mod:`datastores.helpers.bitbank` - bitbank's private stream (PubNub long-polls):
  ``PrivateStream`` and the reference library's ``subscribe_with_callback``...
* :mod:`datastores.helpers.hyperliquid` - EIP-712 signing of Hyperliquid actions
  (needs ``pip install 'datastores[hyperliquid]'``).
* :mod:`datastores.helpers.kucoin` - KuCoin bullet tokens: connect a classic socket
  whose token is renewed when a reconnect needs it.
"""

from __future__ import annotations

from .gmocoin import GMOCoinHelper, GMOCoinResponseError

__all__: list[str] = ["GMOCoinHelper", "GMOCoinResponseError"]
