"""Test vectors from Hyperliquid's official Python SDK (its tests/signing_test.py: only
inputs and expected signatures reproduced), shared by the signing and helper tests."""

from __future__ import annotations

from typing import Any

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


#: ``(action, vault_address, is_mainnet, signature)`` of L1 actions signed with nonce 0
L1_VECTORS: list[tuple[Any, str | None, bool, dict[str, Any]]] = [
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
]

#: ``(action type, signature)`` of user-signed actions (see ``user_signed_action``)
USER_SIGNED_VECTORS: list[tuple[str, dict[str, Any]]] = [
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
]


def user_signed_action(action_type: str) -> dict[str, Any]:
    """The SDK's user-signed test action of ``action_type`` (testnet, no chain id)."""
    return {
        "type": action_type,
        "hyperliquidChain": "Testnet",
        "destination": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
        "amount": "1",
        "time": 1687816341423,
    }
