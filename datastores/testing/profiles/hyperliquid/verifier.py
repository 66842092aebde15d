"""Hyperliquid: the server side of its HTTP signature rule, and its error answer.

Written from the exchange's documentation, independently of the client's signer
(see :mod:`datastores.testing._verify` for the shared pieces and the rule).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

from ..._verify import FakeKey, ReceivedRequest, Rejected, SigningScheme, check_within

__all__ = ["SCHEMES", "hyperliquid_error", "verify_hyperliquid"]


def _msgpack(value: Any) -> bytes:
    # An independent msgpack writer (same format as msgpack-python's packb defaults).
    if value is None:
        return b"\xc0"
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if 0 <= value <= 0x7F:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack(">b", value)
        for limit, code, fmt in (
            (0xFF, 0xCC, ">B"),
            (0xFFFF, 0xCD, ">H"),
            (0xFFFFFFFF, 0xCE, ">I"),
            (2**64 - 1, 0xCF, ">Q"),
        ):
            if 0 <= value <= limit:
                return bytes([code]) + struct.pack(fmt, value)
        for low, code, fmt in (
            (-(2**7), 0xD0, ">b"),
            (-(2**15), 0xD1, ">h"),
            (-(2**31), 0xD2, ">i"),
            (-(2**63), 0xD3, ">q"),
        ):
            if value >= low:
                return bytes([code]) + struct.pack(fmt, value)
        raise ValueError("integer out of range")
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        n = len(raw)
        if n <= 31:
            return bytes([0xA0 + n]) + raw
        if n <= 0xFF:
            return b"\xd9" + struct.pack(">B", n) + raw
        if n <= 0xFFFF:
            return b"\xda" + struct.pack(">H", n) + raw
        return b"\xdb" + struct.pack(">I", n) + raw
    if isinstance(value, dict):
        n = len(value)
        head = bytes([0x80 + n]) if n <= 15 else b"\xde" + struct.pack(">H", n)
        return head + b"".join(_msgpack(k) + _msgpack(v) for k, v in value.items())
    if isinstance(value, list):
        n = len(value)
        head = bytes([0x90 + n]) if n <= 15 else b"\xdc" + struct.pack(">H", n)
        return head + b"".join(_msgpack(item) for item in value)
    raise ValueError(f"cannot msgpack {type(value).__name__}")


_HL_DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


_HL_USER_TYPES = {
    "usdSend": ("UsdSend", [("destination", "string"), ("amount", "string"), ("time", "uint64")]),
    "withdraw3": (
        "Withdraw",
        [("destination", "string"), ("amount", "string"), ("time", "uint64")],
    ),
    "approveAgent": (
        "ApproveAgent",
        [("agentAddress", "address"), ("agentName", "string"), ("nonce", "uint64")],
    ),
}


def verify_hyperliquid(request: ReceivedRequest, keys: Mapping[str, FakeKey], now: float) -> None:
    """Hyperliquid ``/exchange``: recover the signer's address from the EIP-712 signature."""
    if request.path != "/exchange":
        return
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_hash.auto import keccak

    try:
        payload = json.loads(request.body)
        action = payload["action"]
        nonce = int(payload["nonce"])
        signature = payload["signature"]
        vrs = (int(signature["v"]), int(signature["r"], 16), int(signature["s"], 16))
    except (ValueError, KeyError, TypeError):
        raise Rejected("missing", "body needs action, nonce and signature {r, s, v}") from None
    check_within(nonce, now, past_ms=2 * 86_400_000, future_ms=86_400_000)
    mainnet = "testnet" not in request.host
    if "hyperliquidChain" in action:
        name, fields = _HL_USER_TYPES.get(action.get("type"), (None, []))
        if name is None:
            raise Rejected("signature", "user-signed action type not modelled by the fake")
        primary = f"HyperliquidTransaction:{name}"
        typed: dict[str, Any] = {
            "domain": {
                "name": "HyperliquidSignTransaction",
                "version": "1",
                "chainId": int(action["signatureChainId"], 16),
                "verifyingContract": "0x" + "00" * 20,
            },
            "types": {
                primary: [{"name": "hyperliquidChain", "type": "string"}]
                + [{"name": n, "type": t} for n, t in fields],
                "EIP712Domain": _HL_DOMAIN_TYPES,
            },
            "primaryType": primary,
            "message": action,
        }
    else:
        data = _msgpack(action) + nonce.to_bytes(8, "big")
        vault = payload.get("vaultAddress")
        data += b"\x00" if vault is None else b"\x01" + bytes.fromhex(vault.removeprefix("0x"))
        if payload.get("expiresAfter") is not None:
            data += b"\x00" + int(payload["expiresAfter"]).to_bytes(8, "big")
        typed = {
            "domain": {
                "name": "Exchange",
                "version": "1",
                "chainId": 1337,
                "verifyingContract": "0x" + "00" * 20,
            },
            "types": {
                "Agent": [
                    {"name": "source", "type": "string"},
                    {"name": "connectionId", "type": "bytes32"},
                ],
                "EIP712Domain": _HL_DOMAIN_TYPES,
            },
            "primaryType": "Agent",
            "message": {"source": "a" if mainnet else "b", "connectionId": keccak(data)},
        }
    try:
        address = Account.recover_message(encode_typed_data(full_message=typed), vrs=vrs)
    except Exception:
        raise Rejected("signature", "signature does not recover") from None
    if address.lower() not in keys:
        raise Rejected("signature", f"User or API Wallet {address.lower()} does not exist.")


def hyperliquid_error(rejected: Rejected) -> tuple[int, Any]:
    """Hyperliquid's answer to a failed authentication (HTTP 200, ``status`` err)."""
    return 200, {"status": "err", "response": rejected.message}


SCHEMES: dict[str, SigningScheme] = {
    "hyperliquid": SigningScheme(
        host="api.hyperliquid.xyz", verifier=lambda: verify_hyperliquid, error=hyperliquid_error
    ),
}
"""This exchange's signing schemes by name (found by ``profiles.signing_schemes()``)."""
