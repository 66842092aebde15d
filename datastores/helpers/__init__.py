"""Helpers for exchange chores that are not plain requests.

Submodules are imported on demand (some need optional extras):

* :mod:`datastores.helpers.bitbank` - bitbank's private stream (PubNub long-polls):
  ``PrivateStream`` and the reference library's ``subscribe_with_callback``...
* :mod:`datastores.helpers.hyperliquid` - EIP-712 signing of Hyperliquid actions
  (needs ``pip install 'datastores[hyperliquid]'``).
"""

from __future__ import annotations

__all__: list[str] = []
