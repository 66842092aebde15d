"""GMO Coin's fake exchange parts: ``verifier`` (HTTP signature rule).

Found by :mod:`datastores.testing.profiles`; see its docstring for the roles.
"""
