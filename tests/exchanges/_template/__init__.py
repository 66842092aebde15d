"""The exchange template's tests (copy with the template: tests/exchanges/<x>/).

TODO(<x>): put real messages from the exchange (its documentation's samples, or a
recording) in ``data/``, and add golden signing vectors from its documentation.
"""
