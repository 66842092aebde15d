"""Hyperliquid action signing (EIP-712), used by the Client for ``/exchange`` requests.

Facts (Hyperliquid docs https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/signing
and the official Python SDK, github.com/hyperliquid-dex/hyperliquid-python-sdk):

* **L1 actions** (orders, cancels, leverage...): the action is msgpack-encoded,
  followed by the nonce as 8 big-endian bytes, then ``0x00`` (no vault) or
  ``0x01`` + the 20-byte vault address, then, when ``expiresAfter`` is used,
  ``0x00`` + it as 8 big-endian bytes. Its keccak-256 is the ``connectionId`` of a
  "phantom agent" ``Agent(string source, bytes32 connectionId)`` with source
  ``"a"`` (mainnet) or ``"b"`` (testnet), signed on the domain
  ``Exchange / 1 / chainId 1337 / verifyingContract 0x0``.
* **User-signed actions** (transfers, withdrawals, agent approval...): the action
  has ``hyperliquidChain`` and is signed directly on the domain
  ``HyperliquidSignTransaction / 1 / chainId = signatureChainId / 0x0`` with the
  primary type ``HyperliquidTransaction:<Name>``.
* Signatures are secp256k1 over the EIP-191 digest, returned as ``{"r", "s", "v"}``
  with ``r``/``s`` as ``0x`` hex (no zero padding) and ``v`` 27 or 28.

Signing uses ``eth-account`` (extra ``hyperliquid``), imported only when needed.
msgpack is encoded here (the subset JSON values need), so no other dependency is
required.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from .._errors import ConfigurationError, MissingDependencyError

__all__ = [
    "USER_SIGNED_TYPES",
    "EIP712Domain",
    "MessageType",
    "Signature",
    "action_hash",
    "construct_l1_action",
    "construct_user_signed_action",
    "generate_message_types",
    "get_timestamp_ms",
    "msgpack_packb",
    "sign_exchange_payload",
    "sign_l1_action",
    "sign_typed_data",
    "sign_user_signed_action",
]

_INSTALL_HINT = "pip install 'datastores[hyperliquid]'"
_ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_SIGNATURE_CHAIN_ID = "0x66eee"


class EIP712Domain(TypedDict):
    """EIP-712 domain of a Hyperliquid signature."""

    name: str
    version: str
    chainId: int
    verifyingContract: str


class MessageType(TypedDict):
    """One field of an EIP-712 struct type."""

    name: str
    type: str


class Signature(TypedDict):
    """A Hyperliquid signature as sent in ``/exchange`` bodies."""

    r: str
    s: str
    v: int


def _field(name: str, type_: str) -> MessageType:
    return {"name": name, "type": type_}


_CHAIN = _field("hyperliquidChain", "string")
#: Known user-signed actions: action ``type`` -> (primary type, fields in signing order).
#: Field lists as published in the official Python SDK's ``utils/signing.py``.
USER_SIGNED_TYPES: dict[str, tuple[str, list[MessageType]]] = {
    "usdSend": (
        "HyperliquidTransaction:UsdSend",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("amount", "string"),
            _field("time", "uint64"),
        ],
    ),
    "spotSend": (
        "HyperliquidTransaction:SpotSend",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("token", "string"),
            _field("amount", "string"),
            _field("time", "uint64"),
        ],
    ),
    "withdraw3": (
        "HyperliquidTransaction:Withdraw",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("amount", "string"),
            _field("time", "uint64"),
        ],
    ),
    "usdClassTransfer": (
        "HyperliquidTransaction:UsdClassTransfer",
        [_CHAIN, _field("amount", "string"), _field("toPerp", "bool"), _field("nonce", "uint64")],
    ),
    "sendAsset": (
        "HyperliquidTransaction:SendAsset",
        [
            _CHAIN,
            _field("destination", "string"),
            _field("sourceDex", "string"),
            _field("destinationDex", "string"),
            _field("token", "string"),
            _field("amount", "string"),
            _field("fromSubAccount", "string"),
            _field("nonce", "uint64"),
        ],
    ),
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        [
            _CHAIN,
            _field("agentAddress", "address"),
            _field("agentName", "string"),
            _field("nonce", "uint64"),
        ],
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        [
            _CHAIN,
            _field("maxFeeRate", "string"),
            _field("builder", "address"),
            _field("nonce", "uint64"),
        ],
    ),
    "tokenDelegate": (
        "HyperliquidTransaction:TokenDelegate",
        [
            _CHAIN,
            _field("validator", "address"),
            _field("wei", "uint64"),
            _field("isUndelegate", "bool"),
            _field("nonce", "uint64"),
        ],
    ),
    "convertToMultiSigUser": (
        "HyperliquidTransaction:ConvertToMultiSigUser",
        [_CHAIN, _field("signers", "string"), _field("nonce", "uint64")],
    ),
    "userDexAbstraction": (
        "HyperliquidTransaction:UserDexAbstraction",
        [_CHAIN, _field("user", "address"), _field("enabled", "bool"), _field("nonce", "uint64")],
    ),
}


# -- msgpack (the subset needed for JSON-like actions) --------------------------------


def _pack(obj: Any, out: bytearray) -> None:
    # Encoding choices match msgpack-python's packb() defaults (use_bin_type=True):
    # smallest int form, unsigned types for non-negative ints, float64 for floats.
    if obj is None:
        out.append(0xC0)
    elif obj is True:
        out.append(0xC3)
    elif obj is False:
        out.append(0xC2)
    elif isinstance(obj, int):
        _pack_int(obj, out)
    elif isinstance(obj, float):
        out.append(0xCB)
        out += struct.pack(">d", obj)
    elif isinstance(obj, str):
        data = obj.encode()
        size = len(data)
        if size < 32:
            out.append(0xA0 | size)
        elif size < 0x100:
            out += bytes((0xD9, size))
        elif size < 0x10000:
            out.append(0xDA)
            out += struct.pack(">H", size)
        else:
            out.append(0xDB)
            out += struct.pack(">I", size)
        out += data
    elif isinstance(obj, (bytes, bytearray)):
        size = len(obj)
        if size < 0x100:
            out += bytes((0xC4, size))
        elif size < 0x10000:
            out.append(0xC5)
            out += struct.pack(">H", size)
        else:
            out.append(0xC6)
            out += struct.pack(">I", size)
        out += obj
    elif isinstance(obj, Mapping):
        _pack_length(len(obj), 0x80, 0xDE, 0xDF, out)
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    elif isinstance(obj, (list, tuple)):
        _pack_length(len(obj), 0x90, 0xDC, 0xDD, out)
        for item in obj:
            _pack(item, out)
    else:
        raise ConfigurationError(
            f"Hyperliquid actions may only hold JSON values; got a {type(obj).__name__}"
        )


def _pack_length(size: int, fix: int, code16: int, code32: int, out: bytearray) -> None:
    if size < 16:
        out.append(fix | size)
    elif size < 0x10000:
        out.append(code16)
        out += struct.pack(">H", size)
    else:
        out.append(code32)
        out += struct.pack(">I", size)


def _pack_int(value: int, out: bytearray) -> None:
    if 0 <= value < 0x80:
        out.append(value)
    elif -32 <= value < 0:
        out.append(value & 0xFF)
    elif 0 <= value < 0x100:
        out += bytes((0xCC, value))
    elif 0 <= value < 0x10000:
        out.append(0xCD)
        out += struct.pack(">H", value)
    elif 0 <= value < 0x100000000:
        out.append(0xCE)
        out += struct.pack(">I", value)
    elif 0 <= value < 0x10000000000000000:
        out.append(0xCF)
        out += struct.pack(">Q", value)
    elif -0x80 <= value < 0:
        out.append(0xD0)
        out += struct.pack(">b", value)
    elif -0x8000 <= value < 0:
        out.append(0xD1)
        out += struct.pack(">h", value)
    elif -0x80000000 <= value < 0:
        out.append(0xD2)
        out += struct.pack(">i", value)
    elif -0x8000000000000000 <= value < 0:
        out.append(0xD3)
        out += struct.pack(">q", value)
    else:
        raise ConfigurationError(f"integer {value} does not fit in 64 bits (msgpack)")


def msgpack_packb(obj: Any) -> bytes:
    """Encode ``obj`` (None, bool, int, float, str, bytes, dict, list) as msgpack."""
    out = bytearray()
    _pack(obj, out)
    return bytes(out)


# -- eth-account access ----------------------------------------------------------


def _eth() -> Any:
    try:
        import eth_account
        import eth_account.messages
        from eth_hash.auto import keccak
    except ImportError as exc:
        raise MissingDependencyError(
            f"signing Hyperliquid actions needs eth-account: {_INSTALL_HINT}"
        ) from exc
    return eth_account, keccak


def _keccak(data: bytes) -> bytes:
    _, keccak = _eth()
    digest: bytes = keccak(data)
    return digest


def _address_bytes(address: str) -> bytes:
    text = address[2:] if address.startswith(("0x", "0X")) else address
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"vault address {address!r} is not hex") from None
    if len(raw) != 20:
        raise ConfigurationError(f"vault address {address!r} must be 20 bytes")
    return raw


def action_hash(
    action: Any, vault_address: str | None, nonce: int, expires_after: int | None = None
) -> bytes:
    """keccak-256 of msgpack(action) + nonce + vault marker (+ expiresAfter)."""
    data = bytearray(msgpack_packb(action))
    data += nonce.to_bytes(8, "big")
    if vault_address is None:
        data.append(0)
    else:
        data.append(1)
        data += _address_bytes(vault_address)
    if expires_after is not None:
        data.append(0)
        data += expires_after.to_bytes(8, "big")
    return _keccak(bytes(data))


def construct_l1_action(
    action: Any,
    nonce: int,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """The full EIP-712 typed data for an L1 action (phantom agent)."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    return {
        "domain": {
            "chainId": 1337,
            "name": "Exchange",
            "verifyingContract": _ZERO_ADDRESS,
            "version": "1",
        },
        "types": {
            "Agent": [_field("source", "string"), _field("connectionId", "bytes32")],
            "EIP712Domain": _DOMAIN_FIELDS,
        },
        "primaryType": "Agent",
        "message": {"source": "a" if is_mainnet else "b", "connectionId": connection_id},
    }


_DOMAIN_FIELDS = [
    _field("name", "string"),
    _field("version", "string"),
    _field("chainId", "uint256"),
    _field("verifyingContract", "address"),
]


def generate_message_types(action: Mapping[str, Any]) -> list[MessageType]:
    """Infer EIP-712 fields from an action's values, in its key order.

    ``bool`` -> bool, ``int`` -> uint64, ``str`` -> string (``address`` for fields
    named like addresses), ``bytes`` -> bytes32. ``type`` and ``signatureChainId``
    are not signed. Used for user-signed actions not in :data:`USER_SIGNED_TYPES`.

    Raises:
        ConfigurationError: a value of another type.
    """
    fields: list[MessageType] = []
    for name, value in action.items():
        if name in ("type", "signatureChainId"):
            continue
        if isinstance(value, bool):
            fields.append(_field(name, "bool"))
        elif isinstance(value, int):
            fields.append(_field(name, "uint64"))
        elif isinstance(value, str):
            fields.append(_field(name, "string"))
        elif isinstance(value, bytes):
            fields.append(_field(name, "bytes32"))
        else:
            raise ConfigurationError(
                f"cannot infer the EIP-712 type of field {name!r} ({type(value).__name__}); "
                "pass message_types"
            )
    return fields


def _primary_type(action_type: str) -> str:
    name = "".join(ch for ch in action_type if not ch.isdigit())
    return "HyperliquidTransaction:" + name[:1].upper() + name[1:]


def construct_user_signed_action(
    action: Mapping[str, Any], message_types: Sequence[MessageType] | None = None
) -> dict[str, Any]:
    """The full EIP-712 typed data for a user-signed action.

    ``action`` must hold ``type`` and ``hyperliquidChain``; ``signatureChainId``
    defaults to ``0x66eee``. Field types come from ``message_types``, else the
    table of known actions, else :func:`generate_message_types`.
    """
    action_type = str(action.get("type", ""))
    known = USER_SIGNED_TYPES.get(action_type)
    primary = known[0] if known else _primary_type(action_type)
    if message_types is None:
        message_types = known[1] if known else generate_message_types(action)
    chain_id = str(action.get("signatureChainId", DEFAULT_SIGNATURE_CHAIN_ID))
    return {
        "domain": {
            "name": "HyperliquidSignTransaction",
            "version": "1",
            "chainId": int(chain_id, 16),
            "verifyingContract": _ZERO_ADDRESS,
        },
        "types": {primary: list(message_types), "EIP712Domain": _DOMAIN_FIELDS},
        "primaryType": primary,
        "message": dict(action),
    }


def sign_typed_data(private_key: str, typed_data: Mapping[str, Any]) -> Signature:
    """Sign full EIP-712 typed data; returns ``{"r", "s", "v"}`` (SDK formatting)."""
    eth_account, _ = _eth()
    signable = eth_account.messages.encode_typed_data(full_message=dict(typed_data))
    try:
        signed = eth_account.Account.sign_message(signable, private_key)
    except (ValueError, TypeError) as exc:
        # The original message could echo the key: name the problem only.
        raise ConfigurationError(
            f"the Hyperliquid private key is not usable ({type(exc).__name__})"
        ) from None
    return {"r": hex(signed.r), "s": hex(signed.s), "v": int(signed.v)}


def sign_l1_action(
    private_key: str,
    action: Any,
    nonce: int,
    *,
    is_mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> Signature:
    """Sign an L1 action (orders, cancels...)."""
    typed = construct_l1_action(action, nonce, is_mainnet, vault_address, expires_after)
    return sign_typed_data(private_key, typed)


def sign_user_signed_action(
    private_key: str,
    action: Mapping[str, Any],
    message_types: Sequence[MessageType] | None = None,
) -> Signature:
    """Sign a user-signed action (it must carry ``hyperliquidChain``)."""
    return sign_typed_data(private_key, construct_user_signed_action(action, message_types))


def get_timestamp_ms() -> int:
    """Current time in milliseconds (a fresh nonce)."""
    return int(time.time() * 1000)


def sign_exchange_payload(
    payload: Mapping[str, Any], private_key: str, *, is_mainnet: bool, now_ms: int
) -> dict[str, Any]:
    """Complete an ``/exchange`` body: fill ``nonce`` and ``signature`` when missing.

    A payload that already has ``signature`` is returned unchanged. For
    user-signed actions ``signatureChainId`` defaults to ``0x66eee`` and the
    nonce defaults to the action's own ``time``/``nonce`` field.

    Raises:
        ConfigurationError: no ``action`` object in the payload.
        MissingDependencyError: eth-account is not installed.
    """
    if "signature" in payload:
        return dict(payload)
    action = payload.get("action")
    if not isinstance(action, Mapping):
        raise ConfigurationError("a Hyperliquid /exchange body needs an 'action' object to sign")
    result = dict(payload)
    if "hyperliquidChain" in action:
        action = dict(action)
        action.setdefault("signatureChainId", DEFAULT_SIGNATURE_CHAIN_ID)
        own_nonce = action.get("time", action.get("nonce"))
        nonce = payload.get("nonce", own_nonce if isinstance(own_nonce, int) else now_ms)
        signature = sign_user_signed_action(private_key, action)
        result["action"] = action
    else:
        nonce = payload.get("nonce", now_ms)
        signature = sign_l1_action(
            private_key,
            action,
            int(nonce),
            is_mainnet=is_mainnet,
            vault_address=payload.get("vaultAddress"),
            expires_after=payload.get("expiresAfter"),
        )
    result["nonce"] = nonce
    result["signature"] = signature
    return result
