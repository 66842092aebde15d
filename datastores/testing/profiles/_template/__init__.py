"""The template exchange's fake: ``profile`` (its venue), ``dialect`` (WebSocket server
side), ``verifier`` (HTTP signature rule).

Copy to ``datastores/testing/profiles/<x>/`` with the client package (see
``datastores/exchanges/_template/``). :mod:`datastores.testing.profiles` skips ``_``
folders when it lists exchanges; ``FakeExchange("_template")`` names this one
explicitly. TODO(<x>): your exchange's name here. Nothing here imports the
client's code: write it from the exchange's documentation, so a client this fake
accepts is evidence that both read it alike.
"""
