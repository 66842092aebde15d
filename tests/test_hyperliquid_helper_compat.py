"""``datastores.helpers.hyperliquid`` keeps the call shapes of the helper users migrate from.

``sign_typed_data(key, *construct_l1_action(...))`` and
``sign_typed_data(key, *construct_user_signed_action(...))`` give the official Python
SDK's expected signatures (tests/signing_test.py there; only inputs and outputs
reproduced); the tuple/mapping shapes and exception types are those of the
reference library's documented helper.
"""

from __future__ import annotations

from typing import Any

import pytest
from _hyperliquid_vectors import (
    DUMMY,
    L1_VECTORS,
    PRIVATE_KEY,
    USER_SIGNED_VECTORS,
    user_signed_action,
)

from datastores.helpers import hyperliquid as hl


@pytest.mark.parametrize(
    ("action", "vault", "mainnet", "expected"),
    L1_VECTORS,
)
def test_l1_tuple_signs_to_the_sdk_vectors(
    action: Any, vault: str | None, mainnet: bool, expected: Any
) -> None:
    domain, types, message = hl.construct_l1_action(action, 0, mainnet, vault)
    assert domain == {
        "name": "Exchange",
        "version": "1",
        "chainId": 1337,
        "verifyingContract": "0x0000000000000000000000000000000000000000",
    }
    assert types == {
        "Agent": [
            {"name": "source", "type": "string"},
            {"name": "connectionId", "type": "bytes32"},
        ]
    }
    assert message["source"] == ("a" if mainnet else "b")
    assert isinstance(message["connectionId"], bytes)
    assert len(message["connectionId"]) == 32
    assert hl.sign_typed_data(PRIVATE_KEY, domain, types, message) == expected


def test_l1_with_expires_after_is_the_fifth_positional_argument() -> None:
    _, _, with_expiry = hl.construct_l1_action(DUMMY, 1, True, None, 5)
    _, _, without = hl.construct_l1_action(DUMMY, 1, True)
    assert with_expiry["connectionId"] == hl.action_hash(DUMMY, None, 1, 5)
    assert with_expiry["connectionId"] != without["connectionId"]


@pytest.mark.parametrize(
    ("action_type", "expected"),
    USER_SIGNED_VECTORS,
)
def test_user_signed_tuple_signs_to_the_sdk_vectors(action_type: str, expected: Any) -> None:
    action = user_signed_action(action_type)
    domain, types, message = hl.construct_user_signed_action(action)
    assert domain["name"] == "HyperliquidSignTransaction"
    assert domain["chainId"] == 421614  # 0x66eee, the default signatureChainId
    assert message["signatureChainId"] == "0x66eee"
    assert "signatureChainId" not in action  # the caller's dict is not changed
    assert hl.sign_typed_data(PRIVATE_KEY, domain, types, message) == expected
    # inferred types (no table) give the same signature for these actions
    inferred = hl.generate_message_types(message)
    assert hl.sign_typed_data(PRIVATE_KEY, domain, inferred, message) == expected
    # and the message types may be given explicitly, as the second argument
    assert hl.construct_user_signed_action(action, inferred)[1] is inferred


def test_generate_message_types_shape_and_errors() -> None:
    types = hl.generate_message_types(
        {"type": "withdraw3", "flag": True, "n": 1, "s": "x", "b": b"\x00" * 32}
    )
    assert types == {
        "HyperliquidTransaction:Withdraw": [
            {"name": "flag", "type": "bool"},
            {"name": "n", "type": "uint64"},
            {"name": "s", "type": "string"},
            {"name": "b", "type": "bytes32"},
        ]
    }
    with pytest.raises(TypeError):
        hl.generate_message_types({"type": "usdSend", "x": 1.5})
    with pytest.raises(ValueError, match="'type'"):
        hl.generate_message_types({"amount": "1"})


def test_unusable_key_is_a_value_error() -> None:
    domain, types, message = hl.construct_l1_action(DUMMY, 0, True)
    with pytest.raises(ValueError, match="private key is not usable") as info:
        hl.sign_typed_data("0xnot-a-key", domain, types, message)
    assert "not-a-key" not in str(info.value)


def test_user_signed_fields_list_still_accepted() -> None:
    action = {
        "type": "usdSend",
        "hyperliquidChain": "Testnet",
        "destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
        "amount": "1",
        "time": 1687816341423,
    }
    fields = hl.USER_SIGNED_TYPES["usdSend"][1]
    assert hl.sign_user_signed_action(PRIVATE_KEY, action, fields) == hl.sign_user_signed_action(
        PRIVATE_KEY, action
    )


def test_timestamp_is_milliseconds() -> None:
    assert hl.get_timestamp_ms() > 1_600_000_000_000
