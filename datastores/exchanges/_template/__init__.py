"""The exchange template: a small, complete, working skeleton of a fictional exchange.

Copy this folder to ``datastores/exchanges/<x>/`` (and its fake to
``datastores/testing/profiles/<x>/``, its tests to ``tests/exchanges/<x>/``), then
replace every ``TODO(<x>)`` with your exchange's facts. docs/contributing.md walks
through it; docs/exchange-kit.md is the API the modules use.

The leading underscore keeps it away from users: discovery (the host registry, the
fake's profiles, the command line's targets) skips ``_`` packages, nothing exports
it from :mod:`datastores`, and its hosts are under ``.invalid`` (RFC 2606), so its
signer and WebSocket protocol are registered only when a test imports them.

Modules (the same names in every exchange package):

* ``signing.py``: the HTTP signer (:class:`~datastores._signing.HttpAuth`), registered;
* ``wsproto.py``: the WebSocket protocol (heartbeat, login, limits), registered;
* ``_items.py``: one ``TypedDict`` per store, fields as the exchange names them;
* ``store.py``: the :class:`~datastores.DataStoreCollection` and its stores;
* ``cli.py``: the ``datastores demo|watch|record`` target.
"""
