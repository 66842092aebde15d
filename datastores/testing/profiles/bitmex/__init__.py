"""BitMEX's fake exchange parts: ``dialect`` (WebSocket server side), ``verifier`` (HTTP signature
rule).

Found by :mod:`datastores.testing.profiles`; see its docstring for the roles.
"""
