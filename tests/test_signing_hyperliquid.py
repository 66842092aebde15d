"""Hyperliquid EIP-712 signing: vectors from the official Python SDK's tests.

Source of the expected values: github.com/hyperliquid-dex/hyperliquid-python-sdk,
tests/signing_test.py (private key 0x0123...0123). Only the facts (inputs and
expected signatures) are reproduced.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from _hyperliquid_vectors import (
    ADDRESS,
    DUMMY,
    L1_VECTORS,
    PRIVATE_KEY,
    USER_SIGNED_VECTORS,
    sig,
    user_signed_action,
)
from yarl import URL

from datastores import _json
from datastores._credentials import Credentials
from datastores._errors import ConfigurationError, MissingDependencyError
from datastores._registry import http_auth_by_host
from datastores._request import Auth, prepare_request
from datastores.helpers import hyperliquid as hl

DUMMY_MAINNET = sig(
    "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
    "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
    27,
)


def test_phantom_agent_connection_id_matches_production() -> None:
    action = {
        "type": "order",
        "orders": [
            {
                "a": 4,
                "b": True,
                "p": "1670.1",
                "s": "0.0147",
                "r": False,
                "t": {"limit": {"tif": "Ioc"}},
            }
        ],
        "grouping": "na",
    }
    digest = hl.action_hash(action, None, 1677777606040)
    assert (
        "0x" + digest.hex() == "0x0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    )


@pytest.mark.parametrize(
    ("action", "vault", "mainnet", "expected"),
    L1_VECTORS,
)
def test_l1_action_vectors(action: Any, vault: str | None, mainnet: bool, expected: Any) -> None:
    assert (
        hl.sign_l1_action(PRIVATE_KEY, action, 0, is_mainnet=mainnet, vault_address=vault)
        == expected
    )


@pytest.mark.parametrize(
    ("action_type", "expected"),
    USER_SIGNED_VECTORS,
)
def test_user_signed_vectors(action_type: str, expected: Any) -> None:
    action = {**user_signed_action(action_type), "signatureChainId": "0x66eee"}
    assert hl.sign_user_signed_action(PRIVATE_KEY, action) == expected


def test_inferred_types_match_the_known_table_for_usd_send() -> None:
    action = {
        "type": "usdSend",
        "hyperliquidChain": "Testnet",
        "destination": "0x5e",
        "amount": "1",
        "time": 1,
    }
    inferred = hl.generate_message_types(action)
    assert inferred == {"HyperliquidTransaction:UsdSend": hl.USER_SIGNED_TYPES["usdSend"][1]}
    with pytest.raises(ConfigurationError, match="field 'x'"):
        hl.generate_message_types({"x": 1.5})


def test_msgpack_encoding_of_edge_values() -> None:
    assert hl.msgpack_packb({"a": [None, True, False]}) == b"\x81\xa1a\x93\xc0\xc3\xc2"
    assert hl.msgpack_packb(-1) == b"\xff"
    assert hl.msgpack_packb(200) == b"\xcc\xc8"
    assert hl.msgpack_packb(-200) == b"\xd1\xff\x38"
    assert hl.msgpack_packb(2**40) == b"\xcf" + (2**40).to_bytes(8, "big")
    assert hl.msgpack_packb("x" * 40)[:2] == b"\xd9\x28"
    assert hl.msgpack_packb(list(range(16)))[:3] == b"\xdc\x00\x10"
    assert hl.msgpack_packb(1.5) == b"\xcb?\xf8\x00\x00\x00\x00\x00\x00"
    with pytest.raises(ConfigurationError):
        hl.msgpack_packb(2**64)


def _prepare(url: str, payload: Any, now: float = 1_700_000_000.5) -> Any:
    name = "hyperliquid_testnet" if "testnet" in url else "hyperliquid"
    return prepare_request(
        "POST",
        URL(url),
        data=payload,
        headers=None,
        auth=Auth,
        credentials={name: Credentials(name, "", PRIVATE_KEY)},
        table=http_auth_by_host(),
        now=now,
    )


def test_client_fills_nonce_and_signature_for_exchange_requests() -> None:
    prepared = _prepare("https://api.hyperliquid-testnet.xyz/exchange", {"action": DUMMY})
    body = _json.loads(prepared.body)
    assert body["nonce"] == 1_700_000_000_500
    assert body["action"] == DUMMY
    assert body["signature"] == hl.sign_l1_action(
        PRIVATE_KEY, DUMMY, 1_700_000_000_500, is_mainnet=False
    )
    given = _prepare("https://api.hyperliquid.xyz/exchange", {"action": DUMMY, "nonce": 0})
    assert _json.loads(given.body)["signature"] == DUMMY_MAINNET


def test_l1_with_expires_after_differs_from_without() -> None:
    base = hl.action_hash(DUMMY, None, 1)
    assert hl.action_hash(DUMMY, None, 1, expires_after=5) != base


def test_user_signed_request_uses_the_action_time_as_nonce() -> None:
    action = {
        "type": "usdSend",
        "hyperliquidChain": "Testnet",
        "destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
        "amount": "1",
        "time": 1687816341423,
    }
    body = _json.loads(
        _prepare("https://api.hyperliquid-testnet.xyz/exchange", {"action": action}).body
    )
    assert body["nonce"] == 1687816341423
    assert body["action"]["signatureChainId"] == "0x66eee"
    assert (
        body["signature"]["r"]
        == "0x637b37dd731507cdd24f46532ca8ba6eec616952c56218baeff04144e4a77073"
    )


def test_presigned_body_is_sent_unchanged_and_info_is_unsigned() -> None:
    presigned = {"action": DUMMY, "nonce": 5, "signature": {"r": "0x1", "s": "0x2", "v": 27}}
    prepared = _prepare("https://api.hyperliquid.xyz/exchange", presigned)
    assert _json.loads(prepared.body) == presigned
    info = _prepare("https://api.hyperliquid.xyz/info", {"type": "allMids"})
    assert not info.signed
    assert info.body == b'{"type":"allMids"}'
    assert info.headers["Content-Type"] == "application/json"


def test_bad_bodies_give_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="'action'"):
        _prepare("https://api.hyperliquid.xyz/exchange", {"nonce": 1})
    with pytest.raises(ConfigurationError, match="JSON object"):
        _prepare("https://api.hyperliquid.xyz/exchange", b"[1]")


def test_bad_private_key_error_does_not_echo_it() -> None:
    secret = "0xnot-a-key-but-secret-looking-0123456789"
    with pytest.raises(ConfigurationError) as info:
        hl.sign_l1_action(secret, DUMMY, 0, is_mainnet=True)
    assert secret not in str(info.value)
    assert info.value.__cause__ is None


def test_missing_eth_account_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "eth_account", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'datastores\[hyperliquid\]'"):
        hl.sign_l1_action(PRIVATE_KEY, DUMMY, 0, is_mainnet=True)


def test_address_of_the_sdk_test_key() -> None:
    from eth_account import Account

    assert Account.from_key(PRIVATE_KEY).address == ADDRESS
