"""KuCoin's fake exchange parts: ``profile`` (the ``kucoin-spot`` and ``kucoin-futures``
venues), ``dialect`` (WebSocket server side), ``verifier`` (HTTP signature rule).

Found by :mod:`datastores.testing.profiles`; see its docstring for the roles.
"""
