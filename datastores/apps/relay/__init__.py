"""Publish a collection's verified changes onto NATS JetStream; mirror them anywhere.

* :class:`Relay` (``datastores relay``): observes a
  :class:`~datastores.DataStoreCollection` and publishes every change batch on
  subjects named by relay (exchange), store and symbol, with integrity events,
  heartbeats and snapshots in a key-value bucket.
* :class:`Mirror` (``datastores mirror``): rebuilds the same collection in
  another process, synced only while it holds exactly the relay's state.

Needs nats-py (``pip install 'datastores[nats]'``). See ``docs/relay.md``.
"""

from __future__ import annotations

from ._connect import NatsConfig, StreamLimits
from ._subjects import RelayNames, escape_token
from .mirror import Mirror, MirrorStatus
from .publisher import Relay, RelayStatus, default_relay_name

__all__ = [
    "Mirror",
    "MirrorStatus",
    "NatsConfig",
    "Relay",
    "RelayNames",
    "RelayStatus",
    "StreamLimits",
    "default_relay_name",
    "escape_token",
]
