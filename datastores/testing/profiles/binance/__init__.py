"""Binance's fake exchange parts: ``profile`` (fake venues), ``verifier`` (HTTP signature rule).

Found by :mod:`datastores.testing.profiles`; see its docstring for the roles.
"""
