"""The exchanges: one package per exchange, discovered by name (nothing here lists them).

Each package ``datastores.exchanges.<name>`` may hold:

* ``signing.py``: its :class:`datastores._signing.HttpAuth` (``HTTP_AUTH``), registered
  with :func:`datastores._registry.register_http_auth` when the module is imported;
* ``wsproto.py``: its ``datastores._ws.protocol.WsProtocol`` (``WS_PROTOCOL``),
  registered with :func:`datastores._registry.register_ws_protocol`;
* ``store.py``: the exchange's DataStoreCollection(s).

The core imports none of them: the host registry imports every package's
``signing`` and ``wsproto`` on its first lookup (the first signed request or
WebSocket connection). Adding an exchange means adding its package.
"""

from __future__ import annotations

from .._registry import exchange_names, http_auth_by_host, ws_protocol_by_host

__all__ = ["EXCHANGES", "http_auth_by_host", "ws_protocol_by_host"]

#: Every exchange package here, sorted (found with ``pkgutil.iter_modules``; ``_private``
#: modules such as ``_okstyle`` are shared code, not exchanges).
EXCHANGES: tuple[str, ...] = exchange_names(__name__)
