"""Hyperliquid EIP-712 signing: vectors from the official Python SDK's tests.

Source of the expected values: github.com/hyperliquid-dex/hyperliquid-python-sdk,
tests/signing_test.py (private key 0x0123...0123). Only the facts (inputs and
expected signatures) are reproduced.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from yarl import URL

from datastores import _json
from datastores._credentials import Credentials
from datastores._errors import ConfigurationError, MissingDependencyError
from datastores._registry import http_auth_by_host
from datastores._request import Auth, prepare_request
from datastores.helpers import hyperliquid as hl

PRIVATE_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
ADDRESS = "0x14791697260E4c9A71f18484C9f997B308e59325"
DUMMY = {"type": "dummy", "num": 100_000_000_000}  # float_to_int_for_hashing(1000)
ORDER = {
    "type": "order",
    "orders": [
        {"a": 1, "b": True, "p": "100", "s": "100", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    ],
    "grouping": "na",
}


def sig(r: str, s: str, v: int) -> dict[str, Any]:
    return {"r": r, "s": s, "v": v}


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
    [
        (
            DUMMY,
            None,
            True,
            sig(
                "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
                "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
                27,
            ),
        ),
        (
            DUMMY,
            None,
            False,
            sig(
                "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
                "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613",
                28,
            ),
        ),
        (
            DUMMY,
            "0x1719884eb866cb12b2287399b15f7db5e7d775ea",
            True,
            sig(
                "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
                "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c",
                28,
            ),
        ),
        (
            ORDER,
            None,
            True,
            sig(
                "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
                "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
                28,
            ),
        ),
        (
            ORDER,
            None,
            False,
            sig(
                "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
                "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
                27,
            ),
        ),
        (
            {
                "type": "subAccountTransfer",
                "subAccountUser": "0x1d9470d4b963f552e6f671a81619d395877bf409",
                "isDeposit": True,
                "usd": 10,
            },
            None,
            True,
            sig(
                "0x43592d7c6c7d816ece2e206f174be61249d651944932b13343f4d13f306ae602",
                "0x71a926cb5c9a7c01c3359ec4c4c34c16ff8107d610994d4de0e6430e5cc0f4c9",
                28,
            ),
        ),
        (
            {"type": "scheduleCancel", "time": 123456789},
            None,
            False,
            sig(
                "0x4e4f2dbd4107c69783e251b7e1057d9f2b9d11cee213441ccfa2be63516dc5bc",
                "0x706c656b23428c8ba356d68db207e11139ede1670481a9e01ae2dfcdb0e1a678",
                27,
            ),
        ),
    ],
)
def test_l1_action_vectors(action: Any, vault: str | None, mainnet: bool, expected: Any) -> None:
    assert (
        hl.sign_l1_action(PRIVATE_KEY, action, 0, is_mainnet=mainnet, vault_address=vault)
        == expected
    )


@pytest.mark.parametrize(
    ("action_type", "expected"),
    [
        (
            "usdSend",
            sig(
                "0x637b37dd731507cdd24f46532ca8ba6eec616952c56218baeff04144e4a77073",
                "0x11a6a24900e6e314136d2592e2f8d502cd89b7c15b198e1bee043c9589f9fad7",
                27,
            ),
        ),
        (
            "withdraw3",
            sig(
                "0x8363524c799e90ce9bc41022f7c39b4e9bdba786e5f9c72b20e43e1462c37cf9",
                "0x58b1411a775938b83e29182e8ef74975f9054c8e97ebf5ec2dc8d51bfc893881",
                28,
            ),
        ),
    ],
)
def test_user_signed_vectors(action_type: str, expected: Any) -> None:
    action = {
        "type": action_type,
        "hyperliquidChain": "Testnet",
        "signatureChainId": "0x66eee",
        "destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
        "amount": "1",
        "time": 1687816341423,
    }
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
